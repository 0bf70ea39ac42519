#!/usr/bin/env python3
"""Scenario: `sendguard keys` through the real binary.

create prints the key alone on the last line of stdout; list puts the id first and never shows a
secret (and no header when piped); revoke marks the key revoked, and an unknown id is an error
naming it; bad scopes are refused naming the bad one; a key that cannot be printed is revoked. The store keeps only the two hashes that
docs/keys.md describes, so the platform can derive the same signing key from its secret.
"""
import argparse
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import unittest

BIN = None
KEY_RE = re.compile(r"^sg_([0-9a-f]{16})_([0-9a-f]{64})$")


def run(*args, expect=0):
    p = subprocess.run([os.path.join(BIN, "sendguard"), *args], capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sendguard {' '.join(args)} exited {p.returncode}, want {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


class KeysCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "keys.db")

    def tearDown(self):
        self.tmp.cleanup()

    def create(self, tenant, scopes, *extra):
        p = run("keys", "create", "--db", self.db, "--tenant", tenant, "--scopes", scopes, *extra)
        self.assertTrue(p.stdout.endswith("\n"), p.stdout)
        last = p.stdout.splitlines()[-1]
        m = KEY_RE.match(last)
        self.assertIsNotNone(m, f"last line is not a key: {last!r}")
        return last, m.group(1), m.group(2), p

    def list_rows(self):
        p = run("keys", "list", "--db", self.db)
        return [line.split() for line in p.stdout.splitlines()], p.stdout

    def test_create_list_revoke(self):
        key, kid, secret, p = self.create("forum", "check,events")
        self.assertIn(kid, p.stderr)  # the id is named for the operator
        self.assertNotIn(secret, p.stderr)
        pkey, pid, psecret, _ = self.create("*", "admin", "--require-signature")
        self.assertNotEqual(kid, pid)
        self.assertNotEqual(secret, psecret)

        rows, out = self.list_rows()
        self.assertNotIn(secret, out)
        self.assertNotIn(psecret, out)
        self.assertEqual(len(rows), 2, out)  # no header when stdout is a pipe
        byid = {r[0]: r for r in rows}
        self.assertEqual(set(byid), {kid, pid})
        for r in rows:
            self.assertRegex(r[0], r"^[0-9a-f]{16}$")
            self.assertEqual(len(r), 6, r)
            self.assertRegex(r[3], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(r[4], "-")  # never used
            self.assertEqual(r[5], "active")
        self.assertEqual(byid[kid][1:3], ["forum", "check,events"])
        self.assertEqual(byid[pid][1:3], ["*", "admin"])

        p = run("keys", "revoke", "--db", self.db, kid)
        rows, out = self.list_rows()
        byid = {r[0]: r for r in rows}
        self.assertEqual(byid[kid][5], "revoked")
        self.assertEqual(byid[pid][5], "active")
        run("keys", "revoke", "--db", self.db, kid)  # twice is fine

        # What is stored: the two hashes of docs/keys.md, never the secret.
        db = sqlite3.connect(self.db)
        try:
            verifier, signing, require = db.execute(
                "SELECT verifier, signing, require_signature FROM keys WHERE id = ?", (pid,)).fetchone()
            self.assertEqual(bytes(verifier), hashlib.sha256(b"sendguard-key:" + psecret.encode()).digest())
            self.assertEqual(bytes(signing), hashlib.sha256(b"sendguard-signing:" + psecret.encode()).digest())
            self.assertEqual(require, 1)
            dump = "\n".join(db.iterdump())
            self.assertNotIn(psecret, dump)
            self.assertNotIn(secret, dump)
            # The tenant exists now, with nothing set (the default policy).
            self.assertEqual(db.execute("SELECT timezone, working_hours FROM tenants WHERE tenant = 'forum'")
                             .fetchone(), (None, None))
        finally:
            db.close()

    def test_revoke_unknown(self):
        self.create("forum", "check")
        p = run("keys", "revoke", "--db", self.db, "0123456789abcdef", expect=1)
        self.assertIn("0123456789abcdef", p.stderr)
        p = run("keys", "revoke", "--db", self.db, "not-an-id", expect=1)
        self.assertIn("not-an-id", p.stderr)
        # A whole key instead of its id: refused, and the secret is not echoed back.
        key, kid, secret, _ = self.create("forum", "check")
        p = run("keys", "revoke", "--db", self.db, key, expect=1)
        self.assertIn(kid, p.stderr)
        self.assertNotIn(secret, p.stderr)
        rows, _ = self.list_rows()
        self.assertTrue(all(r[5] == "active" for r in rows))
        # A missing store is an error, not a new empty file.
        missing = os.path.join(self.tmp.name, "missing.db")
        run("keys", "revoke", "--db", missing, kid, expect=1)
        run("keys", "list", "--db", missing, expect=1)
        self.assertFalse(os.path.exists(missing))

    @unittest.skipUnless(os.path.exists("/dev/full"), "needs /dev/full")
    def test_unwritable_stdout_leaves_no_live_key(self):
        with open("/dev/full", "w") as full:
            p = subprocess.run([os.path.join(BIN, "sendguard"), "keys", "create", "--db", self.db,
                                "--tenant", "forum", "--scopes", "check"],
                               stdout=full, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("revoked", p.stderr)
        rows, _ = self.list_rows()
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][5], "revoked")

    def test_bad_scopes_and_usage(self):
        p = run("keys", "create", "--db", self.db, "--tenant", "forum", "--scopes", "check,sned", expect=2)
        self.assertIn('unknown scope "sned"', p.stderr)
        self.assertIn("check, events, report, moderate, audit, admin", p.stderr)
        self.assertEqual(p.stdout, "")
        p = run("keys", "create", "--db", self.db, "--tenant", "forum", "--scopes", "check,", expect=2)
        self.assertIn("empty scope", p.stderr)
        p = run("keys", "create", "--db", self.db, "--tenant", "forum", expect=2)
        self.assertIn("--scopes", p.stderr)
        p = run("keys", "create", "--db", self.db, "--scopes", "check", expect=2)
        self.assertIn("--tenant", p.stderr)
        p = run("keys", "create", "--tenant", "forum", "--scopes", "check", expect=2)
        self.assertIn("--db", p.stderr)
        p = run("keys", "rotate", "--db", self.db, expect=2)
        self.assertIn('"rotate"', p.stderr)
        p = run("keys", "revoke", "--db", self.db, expect=2)
        # Nothing was created by any of these.
        if os.path.exists(self.db):
            rows, _ = self.list_rows()
            self.assertEqual(rows, [])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    BIN = args.bin
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
