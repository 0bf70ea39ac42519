#!/usr/bin/env python3
"""Scenario: the content rules through the real `sendguard rules` verb.

`rules lint` accepts the shipped rules and the rules/ checkout, and reports every problem of a
broken local directory as FILE:LINE: rule CODE: problem with exit 1; `rules test` shows the
clinic incident's lure reaching hold with quotes of the original words while an appointment
reminder stays quiet, and reads the lure as raw mail too; a local directory turns a shipped rule off, re-scores one and adds a
monitor rule; bad arguments exit 2.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(*args, stdin=None, expect=0):
    p = subprocess.run([os.path.join(BIN, "sendguard"), *args], input=stdin, capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sendguard {' '.join(args)} exited {p.returncode}, want {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


INCIDENT = {
    "tenant": "clinic", "id": "m1", "channel": "email", "sender": "practice-12",
    "recipients": ["patient-1"], "subject": "An exclusive NFT award for you",
    "body": "Dear patient,\n\nCongratulations! You have been SELECTED to receive an exclusive NFT "
            "award worth $5,000. Claim your prize within 24 hours. See the attached certificate.",
}

REMINDER = {
    "tenant": "clinic", "id": "m2", "channel": "email", "sender": "practice-12",
    "recipients": ["patient-1"], "subject": "Appointment reminder",
    "body": "Dear Maria, this is a reminder of your appointment with Dr. Smith on Tuesday at 10:30. "
            "Please arrive ten minutes early. To cancel, call us at least 24 hours in advance.",
}


class RulesCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def scan(self, event, *args):
        return self.scan_many([event], *args)[0]

    def scan_many(self, events, *args):
        """One `rules test` run (one rules compile) for several events."""
        paths = [self.write(f"event{i}.json", json.dumps(e)) for i, e in enumerate(events)]
        out = [json.loads(l) for l in run("rules", "test", *paths, "--json", *args).stdout.splitlines()]
        self.assertEqual(len(out), len(events))
        return out

    def test_lint_shipped_and_checkout(self):
        p = run("rules", "lint")
        self.assertRegex(p.stdout, r"^ok: \d+ rules")
        p = run("rules", "lint", "--no-builtin", os.path.join(SRC, "rules"))
        self.assertRegex(p.stdout, r"^ok: \d+ rules")

    def test_lint_reports_every_problem(self):
        local = os.path.join(self.tmp.name, "local")
        bad = self.write("local/bad.yaml",
                         "rules:\n"
                         "  - code: MY_RULE\n"
                         "    score: 2\n"
                         "    description: Mentions our competitor.\n"
                         "    regex: 'acme (clinic'\n"
                         "  - code: MY_COMBO\n"
                         "    score: 1\n"
                         "    description: d.\n"
                         "    expr: MY_RULE && NOT_A_RULE\n"
                         "  - code: my_lower\n"
                         "    score: 1\n")
        p = run("rules", "lint", local, expect=1)
        self.assertIn(f"{bad}:5: rule MY_RULE: regex: ", p.stderr)
        self.assertIn(f"{bad}:10: rules[2]: code \"my_lower\" is not UPPER_SNAKE", p.stderr)
        p = run("rules", "lint", os.path.join(self.tmp.name, "missing"), expect=1)
        self.assertIn("cannot open the rules directory", p.stderr)
        # Names are resolved once every file is read: fix the syntax and the unknown name shows.
        self.write("local/bad.yaml",
                   "rules:\n"
                   "  - {code: MY_RULE, score: 2, description: d., regex: 'acme clinic'}\n"
                   "  - {code: MY_COMBO, score: 1, description: d., expr: MY_RULE && NOT_A_RULE}\n")
        p = run("rules", "lint", local, expect=1)
        self.assertIn(f"{bad}:3: rule MY_COMBO: expr: unknown name \"NOT_A_RULE\"", p.stderr)

    def test_incident_reaches_hold_reminder_quiet(self):
        out, reminder = self.scan_many([INCIDENT, REMINDER], "--fact", "first_message=1")
        codes = {h["code"]: h for h in out["hits"]}
        for code in ("PRIZE_WON", "PRIZE_CLAIM", "CRYPTO_TERMS", "CRYPTO_PRIZE", "ATTACHMENT_MISSING",
                     "URGENCY_DEADLINE"):
            self.assertIn(code, codes)
        self.assertGreaterEqual(out["score"], 5)
        # Quotes are the original words, capitals and all.
        self.assertEqual(codes["PRIZE_CLAIM"]["quote"], "Claim your prize")
        self.assertIn("SELECTED", codes["PRIZE_WON"]["quote"])
        self.assertEqual(codes["CRYPTO_TERMS"]["quote"], "NFT")
        self.assertLessEqual(reminder["score"], 2.5, reminder)
        # Human output on stdin.
        p = run("rules", "test", "-", stdin=json.dumps(INCIDENT))
        self.assertIn("PRIZE_WON", p.stdout)
        self.assertIn("total", p.stdout)
        # The same lure as a raw mail: quoted-printable body, a brand in the From name.
        eml = self.write("lure.eml",
                         "From: \"PayPal Support\" <alerts@secure-paypa1.example>\r\n"
                         "To: patient-1@example.org\r\nSubject: Your NFT award\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                         "Congratulations! You have been selected to receive an exclusive NFT =\r\n"
                         "award. Claim your prize within 24 hours.\r\n")
        r = json.loads(run("rules", "test", eml, "--json").stdout)
        codes = {h["code"] for h in r["hits"]}
        self.assertTrue({"PRIZE_CLAIM", "CRYPTO_TERMS", "FROM_BRAND_IMPERSONATION"} <= codes, codes)

    def test_local_directory_overrides(self):
        local = os.path.join(self.tmp.name, "local")
        self.write("local/clinic.yaml",
                   "rules:\n"
                   "  - code: PRIZE_WON\n"
                   "    state: off\n"
                   "  - code: CRYPTO_TERMS\n"
                   "    score: 0.5\n"
                   "  - code: CLINIC_COMPETITOR\n"
                   "    score: 4\n"
                   "    state: monitor\n"
                   "    description: The message names another clinic.\n"
                   "    words: [acme clinic]\n")
        event = dict(INCIDENT, body=INCIDENT["body"] + " Sponsored by ACME Clinic.")
        out = self.scan(event, "--rules", local)
        codes = {h["code"]: h for h in out["hits"]}
        self.assertNotIn("PRIZE_WON", codes)
        self.assertEqual(codes["CRYPTO_TERMS"]["score"], 0.5)
        self.assertEqual(codes["CLINIC_COMPETITOR"]["score"], 0)
        self.assertTrue(codes["CLINIC_COMPETITOR"]["monitor"])
        self.assertEqual(codes["CLINIC_COMPETITOR"]["quote"], "ACME Clinic")
        listed = run("rules", "list", local).stdout
        self.assertRegex(listed, r"PRIZE_WON\s+3\s+off")

    def test_platform_names_itself_as_a_brand(self):
        """A local brands: entry for the platform makes its lookalikes and typos link tricks,
        which the tenant id alone ("grainline-woodworking") cannot."""
        local = os.path.join(self.tmp.name, "platform")
        self.write("platform/brand.yaml",
                   "brands:\n"
                   "  - {name: Grainline, names: [Grainline], domains: [grainline-forum.com]}\n")
        event = {"tenant": "grainline-woodworking", "id": "p1", "channel": "private_message",
                 "sender": "new-1", "recipients": ["member-7"],
                 "body": "Your listing will be removed unless you verify here: "
                         "https://grainIine-forum.com/verify"}
        genuine = dict(event, id="p2", body="The new tool reviews are up: "
                       "https://grainline-forum.com/reviews")
        plain, known = self.scan_many([event, genuine])
        mine, mine_known = self.scan_many([event, genuine], "--rules", local)
        codes = lambda out: {h["code"] for h in out["hits"]}
        self.assertNotIn("URL_BRAND_LOOKALIKE_LINK", codes(plain))
        self.assertIn("URL_BRAND_LOOKALIKE_LINK", codes(mine))  # the typo of its own domain
        self.assertIn("LURE_WITH_LINK_TRICK", codes(mine))
        self.assertNotIn("URL_BRAND_LOOKALIKE_LINK", codes(mine_known))
        self.assertNotIn("URL_BRAND_LOOKALIKE_LINK", codes(known))

    def test_channel_and_facts(self):
        pm = dict(INCIDENT, channel="private_message")
        offplatform = dict(REMINDER, channel="private_message", body="Hi! Add me on Telegram, I have a job for you.")
        out, off = self.scan_many([pm, offplatform], "--fact", "SENDER_AGE_HOURS=3")
        self.assertEqual(out["channel"], "private_message")
        self.assertNotIn("ATTACHMENT_MISSING", {h["code"] for h in out["hits"]})
        self.assertIn("NEW_SENDER_OFFPLATFORM", {h["code"] for h in off["hits"]})
        out = self.scan(offplatform, "--fact", "SENDER_AGE_HOURS=3000", "--fact", "SENDER_POSTS=50",
                        "--fact", "first_message=0")
        self.assertNotIn("NEW_SENDER_OFFPLATFORM", {h["code"] for h in out["hits"]})
        path = self.write("e.json", json.dumps(REMINDER))
        run("rules", "test", path, "--fact", "nope=1", expect=2)
        run("rules", "test", path, "--channel", "fax", expect=2)
        run("rules", "frobnicate", expect=2)
        p = run("rules", "test", self.write("bad.json", "{\"tenant\": 1}"), expect=1)
        self.assertIn("tenant", p.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    BIN = args.bin
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
