#!/usr/bin/env python3
"""Scenario: the forum incident's fixes as defaults, through the real `sendguard` binary.

Replays an event stream and checks: accounts with 0 or 1 posts get every private message
rejected with the two-posts reason; an account with 2 posts sending 10 private messages inside a
minute gets 2 allowed and 8 deferred with retry_after > 0; a banned account and a signup from a
blocked domain are refused. Also: `check` is a dry run, `limits show` reads replay state, and bad
lines are reported with their line number.
"""
import argparse
import json
import os
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
    """2026-11-23T00:00:00Z plus sec seconds."""
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"2026-11-23T{h:02d}:{m:02d}:{s:02d}Z"


def ev(t, **fields):
    return json.dumps({"at": at(t), **fields})


class ForumFixes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "forum.db")

    def tearDown(self):
        self.tmp.cleanup()

    def replay(self, lines, expect=0):
        path = os.path.join(self.tmp.name, "events.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = run("replay", "--db", self.db, path, expect=expect)
        return [json.loads(l) for l in p.stdout.splitlines()], p.stderr

    def test_incident_defaults(self):
        run("lists", "add", "--db", self.db, "email_domains", "spam-signups.example")
        run("lists", "add", "--db", self.db, "accounts", "--tenant", "forum", "banned1")
        lines = [ev(0, type="tenant", tenant="forum", timezone="Europe/London")]
        t = 10
        for acct, posts in (("zero", 0), ("one", 1), ("two", 2), ("banned1", 5)):
            lines.append(ev(t, type="account", tenant="forum", account=acct, email=f"{acct}@example.org",
                            created_at="2026-10-01T00:00:00Z"))
            for _ in range(posts):
                lines.append(ev(t, type="activity", tenant="forum", account=acct, kind="post"))
            t += 1
        lines.append(ev(t, type="account", tenant="forum", account="fresh", email="x@mail.spam-signups.example"))
        lines.append(ev(t, type="account", tenant="forum", account="burner", email="y@mailinator.com"))
        t += 60
        for acct in ("zero", "one"):
            for i in range(5):
                lines.append(ev(t, type="message", tenant="forum", id=f"{acct}-{i}", channel="private_message",
                                sender=acct, recipients=[f"member{i}"], body="Hi, claim your prize"))
        t += 60
        for i in range(10):  # ten inside one minute (18 s: GCRA's burst of 2 then one every 30 s)
            lines.append(ev(t + i * 2, type="message", tenant="forum", id=f"two-{i}", channel="private_message",
                            sender="two", recipients=[f"member{i}"], body="Hello there"))
        t += 120
        lines.append(ev(t, type="message", tenant="forum", id="banned-1", channel="private_message",
                        sender="banned1", recipients=["member1"], body="hi"))
        lines.append(ev(t, type="message", tenant="forum", id="fresh-1", channel="private_message",
                        sender="fresh", recipients=["member1"], body="hi"))
        results, stderr = self.replay(lines)
        by_id = {r.get("id") or ("account:" + r["account"]): r for r in results}

        for acct in ("zero", "one"):
            for i in range(5):
                r = by_id[f"{acct}-{i}"]
                self.assertEqual(r["action"], "reject", r)
                codes = [x["code"] for x in r["reasons"]]
                self.assertIn("TRUST_MIN_POSTS", codes)
                msg = next(x["message"] for x in r["reasons"] if x["code"] == "TRUST_MIN_POSTS")
                self.assertIn("after you have posted twice", msg)

        two = [by_id[f"two-{i}"] for i in range(10)]
        self.assertEqual([r["action"] for r in two].count("allow"), 2)
        deferred = [r for r in two if r["action"] == "defer"]
        self.assertEqual(len(deferred), 8)
        for r in deferred:
            self.assertGreater(r["retry_after"], 0)
            self.assertIn("RATE_SENDER", [x["code"] for x in r["reasons"]])
        # GCRA: 2/min is one every 30 s after a burst of 2; the third, 4 s in, waits 26 s.
        self.assertEqual(two[2]["retry_after"], 26)

        self.assertEqual(by_id["banned-1"]["action"], "reject")
        self.assertIn("LIST_BANNED_ACCOUNT", [x["code"] for x in by_id["banned-1"]["reasons"]])
        self.assertEqual(by_id["account:fresh"]["action"], "block")
        self.assertIn("LIST_BLOCKED_EMAIL_DOMAIN", [x["code"] for x in by_id["account:fresh"]["reasons"]])
        self.assertEqual(by_id["account:burner"]["action"], "block")
        self.assertEqual(by_id["fresh-1"]["action"], "reject")
        self.assertIn("private_message", stderr)  # the summary table

        # The replay kept the limiter state: read it at the replay's last moment.
        p = run("limits", "show", "--db", self.db, "--at", at(t), "sender", "forum/private_message/two")
        state = json.loads(p.stdout)
        self.assertEqual(state["windows"][0]["limit"], 2)
        self.assertEqual(state["windows"][1]["limit"], 20)
        self.assertGreater(state["windows"][2]["used"], 1.9)  # the day window still counts both

    def test_check_is_a_dry_run(self):
        lines = [ev(0, type="account", tenant="forum", account="two", created_at="2026-10-01T00:00:00Z"),
                 ev(0, type="activity", tenant="forum", account="two"),
                 ev(0, type="activity", tenant="forum", account="two")]
        self.replay(lines)
        msg = json.dumps({"tenant": "forum", "id": "c1", "channel": "private_message", "sender": "two",
                          "recipients": ["m"], "body": "hello"})
        paths = []
        for i in range(4):
            path = os.path.join(self.tmp.name, f"msg{i}.json")
            with open(path, "w") as f:
                f.write(msg)
            paths.append(path)
        # Four copies, each judged alone: all allowed though the limit is 2 a minute.
        out = run("check", "--db", self.db, *paths).stdout.splitlines()
        self.assertEqual(len(out), 4)
        for line, path in zip(out, paths):
            r = json.loads(line)
            self.assertEqual(r["action"], "allow")
            self.assertEqual(r["file"], path)
        # stdin, and a broken file gets an error naming the field, exit 1.
        r = json.loads(run("check", "--db", self.db, stdin=msg).stdout)
        self.assertEqual(r["action"], "allow")
        bad = os.path.join(self.tmp.name, "bad.json")
        with open(bad, "w") as f:
            f.write('{"tenant":"forum","id":"x","channel":"private_message","sender":"two","recipients":"m"}')
        p = run("check", "--db", self.db, bad, expect=1)
        r = json.loads(p.stdout)
        self.assertEqual(r["error"]["message"], "message.recipients: expected array of strings")
        # A missing --db is an error, not a new empty store.
        run("check", "--db", os.path.join(self.tmp.name, "nope.db"), paths[0], expect=1)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "nope.db")))

    def test_check_reads_raw_mail(self):
        # A file that is not JSON is a raw RFC 822 mail: From is the sender, To/Cc the recipients.
        eml = os.path.join(self.tmp.name, "lure.eml")
        with open(eml, "w") as f:
            f.write('From: "PayPal" <alerts@secure-paypa1.example>\r\n'
                    "To: ann@clinic.example, bob@clinic.example\r\n"
                    "Subject: Your account has been suspended\r\n"
                    "Message-ID: <lure-1@x>\r\n\r\n"
                    "Your account has been suspended. Verify your password within 24 hours: "
                    "http://paypal.com.verify-login.example/\r\n")
        r = json.loads(run("check", "--tenant", "clinic", eml).stdout)
        self.assertEqual(r["file"], eml)
        self.assertEqual(r["id"], "lure-1@x")
        self.assertEqual(r["tenant"], "clinic")
        self.assertEqual(r["sender"], "alerts@secure-paypa1.example")
        self.assertEqual(r["recipients"], 2)
        self.assertIn(r["action"], ("hold", "reject"))
        nofrom = os.path.join(self.tmp.name, "nofrom.eml")
        with open(nofrom, "w") as f:
            f.write("To: ann@clinic.example\r\n\r\nhello\r\n")
        r = json.loads(run("check", "--tenant", "clinic", nofrom).stdout)
        self.assertEqual(r["sender"], "unknown-sender")
        self.assertEqual(r["action"], "allow")
        bad = os.path.join(self.tmp.name, "noheaders.eml")
        with open(bad, "w") as f:
            f.write("\r\nhello, this is not mail\r\n")
        r = json.loads(run("check", bad, expect=1).stdout)
        self.assertEqual(r["error"]["message"], "raw: no header fields (not an RFC 822 message)")

    def test_bad_lines_named(self):
        lines = [ev(10, type="account", tenant="f", account="a"),
                 '{"type":"message","at":"2026-11-23T00:00:11Z","tenant":"f","id":"m","channel":"private_message","sender":"a","recipients":"x"}',
                 ev(5, type="activity", tenant="f", account="a"),
                 "not json",
                 ev(20, type="activity", tenant="f", account="a")]
        results, stderr = self.replay(lines, expect=1)
        self.assertIn("line 2: message.recipients: expected array of strings", stderr)
        self.assertIn("line 3: at: 2026-11-23T00:00:05Z is earlier than line 1", stderr)
        self.assertIn("line 4: invalid JSON", stderr)
        self.assertIn("3 errors", stderr)
        self.assertEqual(len(results), 1)  # the account verdict; nothing accepted was lost

    def test_lists_cli(self):
        run("lists", "add", "--db", self.db, "--until", "2030-01-01T00:00:00Z", "ips", "2001:db8::/32", "192.0.2.0/24")
        shown = json.loads(run("lists", "show", "--db", self.db, "--json", "ips").stdout)
        self.assertEqual({e["entry"] for e in shown}, {"2001:db8::/32", "192.0.2.0/24"})
        self.assertTrue(all(e["expires"] == "2030-01-01T00:00:00Z" for e in shown))
        p = run("lists", "add", "--db", self.db, "ips", "300.1.1.1", expect=1)
        self.assertIn("300.1.1.1", p.stderr)
        run("lists", "remove", "--db", self.db, "ips", "192.0.2.0/24")
        self.assertEqual(len(json.loads(run("lists", "show", "--db", self.db, "--json", "ips").stdout)), 1)
        p = run("lists", "remove", "--db", self.db, "ips", "192.0.2.0/24", expect=1)
        self.assertIn("not on the list", p.stderr)
        p = run("lists", "add", "--db", self.db, "colours", "red", expect=1)
        self.assertIn("colours", p.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    BIN = args.bin
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
