#!/usr/bin/env python3
"""Scenario: the engine's history facts through the real `sendguard replay` and `check`.

A practice's fresh staff account sends its first email with a shortened link: the verdict names
OBSCURED_LINK_FIRST_MESSAGE; the same account's next email with the same link does not, since
the first was delivered. A tenant with no history of delivered links knows no domain, so nothing
is "new" to it yet (URL_NEW_DOMAIN is unknown); once it has delivered rules.new_domain_history
(50) messages with links, a domain it never delivered is new, also to a later process. A held message does
not count as sent, another tenant learns nothing from this one, the verdicts list their link
domains, and a later `check --db` (a dry run) sees the replayed history without adding to it.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

BIN = None


def run(*args, stdin=None, expect=0):
    p = subprocess.run([os.path.join(BIN, "sendguard"), *args], input=stdin, capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sendguard {' '.join(args)} exited {p.returncode}, want {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


def at(sec):
    """2026-11-23T08:00:00Z plus sec seconds (working hours)."""
    h, rem = divmod(8 * 3600 + sec, 3600)
    m, s = divmod(rem, 60)
    return f"2026-11-23T{h:02d}:{m:02d}:{s:02d}Z"


def ev(t, **fields):
    return json.dumps({"at": at(t), **fields})


def codes(verdict):
    return {r["code"] for r in verdict["reasons"]}


class FirstMessage(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "clinic.db")

    def tearDown(self):
        self.tmp.cleanup()

    def replay(self, lines):
        path = os.path.join(self.tmp.name, "events.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = run("replay", "--db", self.db, path)
        return {v["id"]: v for v in map(json.loads, p.stdout.splitlines()) if "id" in v}

    def mail(self, t, tenant, id, sender, body):
        return ev(t, type="message", tenant=tenant, id=id, channel="email", sender=sender,
                  recipients=["patient-1"], body=body)

    def test_first_message_with_shortener(self):
        link = "Book your next appointment here: https://bit.ly/3xAmPle"
        lure = "You won a free NFT! Claim your prize now at https://bit.ly/claim-nft-win"
        lines = [
            ev(0, type="tenant", tenant="practice-a"),
            ev(0, type="account", tenant="practice-a", account="staff-new", email="new@practice-a.example",
               created_at=at(-3600)),
            ev(1, type="account", tenant="practice-a", account="staff-lure", email="x@practice-a.example",
               created_at=at(-3600)),
            self.mail(10, "practice-a", "m1", "staff-new", link),
            self.mail(70, "practice-a", "m2", "staff-new", link),
            # A lure is held: it is not a delivered message, so the sender's next is still first.
            self.mail(80, "practice-a", "h1", "staff-lure", lure),
            self.mail(140, "practice-a", "h2", "staff-lure", "Here is the leaflet: https://bit.ly/leaflet"),
            # Another practice has delivered nothing: its first shortened link is first and new.
            self.mail(150, "practice-b", "b1", "staff-b", link),
        ]
        v = self.replay(lines)

        self.assertEqual(v["m1"]["action"], "allow", v["m1"])
        self.assertIn("OBSCURED_LINK_FIRST_MESSAGE", codes(v["m1"]))
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(v["m1"]))  # no history: nothing is new yet
        self.assertEqual(v["m1"]["url_domains"], ["bit.ly"])

        self.assertEqual(v["m2"]["action"], "allow", v["m2"])
        self.assertNotIn("OBSCURED_LINK_FIRST_MESSAGE", codes(v["m2"]))
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(v["m2"]))
        self.assertEqual(v["m2"]["score"], 0, v["m2"])

        self.assertIn(v["h1"]["action"], ("hold", "reject"), v["h1"])
        self.assertIn("OBSCURED_LINK_FIRST_MESSAGE", codes(v["h2"]))  # h1 did not count
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(v["h2"]))

        self.assertIn("OBSCURED_LINK_FIRST_MESSAGE", codes(v["b1"]))

        # The store keeps the counts, the learnt domains and each verdict's domains.
        db = sqlite3.connect(self.db)
        try:
            counts = dict(db.execute("SELECT account, messages FROM accounts WHERE tenant = 'practice-a'"))
            self.assertEqual(counts, {"staff-new": 2, "staff-lure": 1})
            seen = sorted(db.execute("SELECT tenant, domain FROM seen_domains"))
            self.assertEqual(seen, [("practice-a", "bit.ly"), ("practice-b", "bit.ly")])
            stored = dict(db.execute("SELECT id, url_domains FROM verdicts WHERE tenant = 'practice-a'"))
            self.assertEqual(json.loads(stored["m1"]), ["bit.ly"])
            self.assertEqual(json.loads(stored["h1"]), ["bit.ly"])
        finally:
            db.close()

        # A dry run over the replayed state: staff-new is past its first message; a dry run of a
        # never-seen sender is a first message, and records nothing.
        msg = json.dumps({"type": "message", "tenant": "practice-a", "id": "c1", "channel": "email",
                          "sender": "staff-new", "recipients": ["p"], "body": link})
        self.assertNotIn("OBSCURED_LINK_FIRST_MESSAGE", codes(json.loads(run("check", "--db", self.db, stdin=msg).stdout)))
        ghost = msg.replace("staff-new", "ghost")
        for _ in range(2):
            r = json.loads(run("check", "--db", self.db, stdin=ghost).stdout)
            self.assertIn("OBSCURED_LINK_FIRST_MESSAGE", codes(r))

    def test_new_domain_after_history(self):
        usual = "Your appointment is confirmed: https://portal.practice-c.example/appointments"
        lines = [ev(0, type="tenant", tenant="practice-c"),
                 ev(0, type="account", tenant="practice-c", account="desk", created_at="2026-08-01T00:00:00Z")]
        for i in range(49):
            lines.append(self.mail(10 + 61 * i, "practice-c", f"u{i}", "desk", usual))
        # The 49 are not history enough: a strange domain is not called new yet.
        lines.append(self.mail(3100, "practice-c", "early", "desk", "See https://claim-nft.io/win"))
        lines.append(self.mail(3200, "practice-c", "u49", "desk", usual))
        lines.append(self.mail(3300, "practice-c", "late", "desk", "See https://claim-prize.example/win"))
        lines.append(self.mail(3400, "practice-c", "known", "desk", usual))
        v = self.replay(lines)
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(v["early"]))
        # early was delivered and counts: 50 link messages of history before "late".
        self.assertIn("URL_NEW_DOMAIN_LINK", codes(v["late"]), v["late"])
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(v["known"]))
        # A later process rebuilds the history from the stored verdicts.
        msg = json.dumps({"type": "message", "tenant": "practice-c", "id": "c1", "channel": "email",
                          "sender": "desk", "recipients": ["p"], "body": "See https://other.example/x"})
        self.assertIn("URL_NEW_DOMAIN_LINK", codes(json.loads(run("check", "--db", self.db, stdin=msg).stdout)))
        old = msg.replace("https://other.example/x", "https://portal.practice-c.example/")
        self.assertNotIn("URL_NEW_DOMAIN_LINK", codes(json.loads(run("check", "--db", self.db, stdin=old).stdout)))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    BIN = args.bin
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
