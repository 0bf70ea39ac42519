#!/usr/bin/env python3
"""End to end: POST /v1/learn, moderators teaching the classifier through a real daemon.

Covered: the auth matrix (401 without a key, 403 for a key without `moderate` or for another
tenant), the 400s naming the field, 415 for NDJSON, 413 for a body over 1 MiB, learning that
changes the counts, a repeat that counts nothing, a correction that moves the counts (by event
and by id), 404/409 for ids whose content is unknown, the record in the store, and the point of
it all: after enough spam and ham learned over HTTP, POST /v1/check flags similar spam with
BAYES_SPAM. The daemon fixtures come from test_daemon.py (same directory).
Usage: python3 tests/e2e/test_learn.py --bin build   (stdlib only; Linux)
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_daemon as td  # noqa: E402  (the fixtures; its BIN is set in main below)

# Low enough that a test can train a class over HTTP in a fraction of a second.
CONFIG = "bayes:\n  min_spam: 6\n  min_ham: 6\n"

SPAM = [
    "Claim your free bitcoin prize now, winner",
    "You are a winner: claim the bitcoin prize today",
    "Free prize waiting, claim your bitcoin reward now",
    "Winner notice: your free bitcoin prize, claim now",
    "Bitcoin prize for the lucky winner, claim free today",
    "Claim now: free bitcoin reward, you are the winner",
]
HAM = [
    "Notes from the Tuesday meeting and the agenda for next week",
    "Can we move the project review to Thursday afternoon",
    "Attached are the minutes of the board meeting",
    "The agenda for the review meeting is in the shared folder",
    "Thanks for the notes, see you at the Thursday meeting",
    "Project status: the review went well, minutes attached",
]
LURE = "Winner! Claim your free bitcoin prize now"


def message(tenant, body, mid=None):
    return {"tenant": tenant, "id": mid or td.uniq("lm"), "channel": "email",
            "sender": td.uniq("s"), "recipients": ["r1"], "subject": "Hello", "body": body}


def start_daemon(tmpdir, db):
    path = os.path.join(tmpdir, "sendguard.yaml")
    with open(path, "w") as f:
        f.write(CONFIG)
    return td.Daemon(tmpdir, db, path)


class Learn(td.DaemonTestCase):
    """One daemon for the contract tests; each test uses its own message ids."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.db = os.path.join(cls.tmp.name, "learn.db")
        cls.admin = td.create_key(cls.db, "*", td.ALL_SCOPES)
        cls.mod = td.create_key(cls.db, "forum", "moderate")
        cls.check = td.create_key(cls.db, "forum", "check,events,report,audit,admin")
        cls.clinic_mod = td.create_key(cls.db, "clinic", "moderate")
        cls.d = start_daemon(cls.tmp.name, cls.db)
        cls.addClassCleanup(cls.d.shutdown)
        cls.d.start()

    def setUp(self):
        self.src = td.next_source()

    def learn(self, body, key=None, **kw):
        kw.setdefault("source", self.src)
        return self.d.request("POST", "/v1/learn", body, key=self.mod if key is None else key,
                              **kw)

    # -- auth --

    def test_learning_needs_a_key_with_the_moderate_scope(self):
        body = {"message": message("forum", SPAM[0]), "class": "spam"}
        self.assert_error(self.learn(body, key=""), 401, "unauthorized")
        r = self.d.request("POST", "/v1/learn", body, source=self.src)
        self.assert_error(r, 401, "unauthorized")
        # Every scope but moderate is not enough.
        self.assert_error(self.learn(body, key=self.check), 403, "forbidden")

    def test_a_tenant_key_cannot_learn_for_another_tenant(self):
        ev = message("forum", SPAM[0])
        body = {"message": ev, "class": "spam"}
        self.assert_error(self.learn(body, key=self.clinic_mod), 403, "forbidden", "clinic")
        body = {"message": ev["id"], "tenant": "forum", "class": "spam"}
        self.assert_error(self.learn(body, key=self.clinic_mod), 403, "forbidden")
        # Nothing was learned by the refused requests; the key still works for its own tenant.
        self.assertEqual(self.query(f"SELECT count(*) FROM bayes_learned"
                                    f" WHERE message = '{ev['id']}'"), [(0,)])
        r = self.ok(self.learn({"message": message("clinic", HAM[0]), "class": "ham"},
                               key=self.clinic_mod))
        self.assertEqual(r["status"], "learned", r)

    def test_a_platform_key_may_learn_for_any_tenant(self):
        r = self.ok(self.learn({"message": message("clinic", SPAM[1]), "class": "spam"},
                               key=self.admin))
        self.assertEqual(r["tenant"], "clinic")
        self.assertEqual(r["status"], "learned")

    # -- errors --

    def test_a_missing_or_wrong_class_is_400_naming_it(self):
        for body in ({"message": message("forum", SPAM[0])},
                     {"message": message("forum", SPAM[0]), "class": "SPAM"},
                     {"message": message("forum", SPAM[0]), "class": 1}):
            with self.subTest(body=body.get("class")):
                self.assert_error(self.learn(body), 400, "invalid_request", "class")

    def test_a_missing_message_or_a_bad_event_is_400_naming_the_field(self):
        self.assert_error(self.learn({"class": "spam"}), 400, "invalid_request", "message")
        self.assert_error(self.learn({"message": 42, "class": "spam"}), 400, "invalid_request",
                          "message")
        ev = message("forum", SPAM[0])
        ev["recipients"] = "r1"
        self.assert_error(self.learn({"message": ev, "class": "spam"}), 400, "invalid_event",
                          "message.recipients")
        ev = message("forum", SPAM[0])
        del ev["sender"]
        self.assert_error(self.learn({"message": ev, "class": "spam"}), 400, "invalid_event",
                          "sender")
        self.assert_error(self.learn({"message": {"type": "account", "tenant": "forum",
                                                  "account": "a"}, "class": "spam"}),
                          400, "invalid_event", "message")
        self.assert_error(self.learn({"message": message("forum", SPAM[0]), "class": "spam",
                                      "global": "yes"}), 400, "invalid_request", "global")
        self.assert_error(self.learn(b"{not json"), 400, "invalid_request")
        self.assert_error(self.learn(b"[1]"), 400, "invalid_request")

    def test_ndjson_is_415_and_an_oversized_body_413(self):
        line = json.dumps({"message": message("forum", SPAM[0]), "class": "spam"})
        r = self.learn(line + "\n" + line + "\n", content_type="application/x-ndjson")
        self.assert_error(r, 415, "unsupported_media_type")
        big = message("forum", "x" * (1 << 20))
        r = self.d.raw_upload("POST", "/v1/learn",
                              {"Authorization": f"Bearer {self.mod}",
                               "Content-Type": "application/json"},
                              json.dumps({"message": big, "class": "spam"}).encode(),
                              source=self.src)
        self.assert_error(r, 413, "too_large")

    # -- counting --

    def test_learning_counts_once_and_a_correction_moves_the_counts(self):
        ev = message("forum", SPAM[2])
        before = self.ok(self.learn({"message": message("forum", HAM[3]), "class": "ham"}))
        r = self.ok(self.learn({"message": ev, "class": "spam"}))
        self.assertEqual(r["message"], ev["id"])
        self.assertEqual(r["class"], "spam")
        self.assertEqual(r["status"], "learned")
        self.assertIs(r["learned"], True)
        self.assertIsNone(r["previous"])
        self.assertGreater(r["tokens"], 5)
        for scope in ("tenant_class", "global"):
            self.assertEqual(r[scope]["spam"], before[scope]["spam"] + 1, (scope, r))
            self.assertEqual(r[scope]["ham"], before[scope]["ham"], (scope, r))
            self.assertGreater(r[scope]["tokens"], before[scope]["tokens"], (scope, r))
            self.assertIs(r[scope]["trained"], False)

        again = self.ok(self.learn({"message": ev, "class": "spam"}))
        self.assertEqual(again["status"], "already_learned", again)
        self.assertIs(again["learned"], False)
        self.assertEqual(again["previous"], "spam")
        self.assertEqual(again["tenant_class"], r["tenant_class"])
        self.assertEqual(again["global"], r["global"])

        moved = self.ok(self.learn({"message": ev, "class": "ham"}))
        self.assertEqual(moved["status"], "relearned", moved)
        self.assertEqual(moved["previous"], "spam")
        for scope in ("tenant_class", "global"):
            self.assertEqual(moved[scope]["spam"], before[scope]["spam"], (scope, moved))
            self.assertEqual(moved[scope]["ham"], before[scope]["ham"] + 1, (scope, moved))

        # Back again by id alone: the tokens learned the first time are kept for this.
        back = self.ok(self.learn({"message": ev["id"], "class": "spam"}))
        self.assertEqual(back["status"], "relearned", back)
        self.assertEqual(back["tenant_class"], r["tenant_class"])

        rows = self.query("SELECT class, global FROM bayes_learned WHERE tenant = 'forum'"
                          f" AND message = '{ev['id']}'")
        self.assertEqual(rows, [(1, 1)])

    def test_global_false_learns_the_tenants_class_only(self):
        before = self.ok(self.learn({"message": message("forum", HAM[4]), "class": "ham"}))
        r = self.ok(self.learn({"message": message("forum", SPAM[3]), "class": "spam",
                                "global": False}))
        self.assertEqual(r["tenant_class"]["spam"], before["tenant_class"]["spam"] + 1, r)
        self.assertEqual(r["global"]["spam"], before["global"]["spam"], r)

    def test_an_id_without_kept_content_is_409_and_an_unknown_id_404(self):
        ev = message("forum", "Your order has shipped")
        self.ok(self.d.request("POST", "/v1/check", ev, key=self.check, source=self.src))
        r = self.learn({"message": ev["id"], "class": "spam"})
        self.assert_error(r, 409, "content_not_kept",
                          f"message {ev['id']}'s content is not kept; send the message event")
        r = self.learn({"message": td.uniq("never"), "class": "spam"})
        self.assert_error(r, 404, "not_found")
        # A platform key must say which tenant an id belongs to.
        self.assert_error(self.learn({"message": ev["id"], "class": "spam"}, key=self.admin), 400,
                          "invalid_request", "tenant")
        r = self.learn({"message": ev["id"], "tenant": "forum", "class": "spam"}, key=self.admin)
        self.assert_error(r, 409, "content_not_kept")

    def query(self, sql):
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()


class Training(td.DaemonTestCase):
    """The point of the route: a daemon of its own, so no other test's learning counts."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.db = os.path.join(self.tmp.name, "train.db")
        self.admin = td.create_key(self.db, "*", td.ALL_SCOPES)
        self.mod = td.create_key(self.db, "shop", "moderate")
        self.check = td.create_key(self.db, "shop", "check")
        self.d = start_daemon(self.tmp.name, self.db)
        self.addCleanup(self.d.shutdown)
        self.d.start()

    def check_message(self, body):
        return self.ok(self.d.request("POST", "/v1/check", message("shop", body),
                                      key=self.check))

    def test_spam_learned_over_http_makes_check_answer_bayes_spam(self):
        v = self.check_message(LURE)
        self.assertNotIn("BAYES_SPAM", td.codes(v), v)  # untrained: the classifier is silent
        r = None
        for spam, ham in zip(SPAM, HAM):
            r = self.ok(self.d.request("POST", "/v1/learn",
                                       {"message": message("shop", spam), "class": "spam"},
                                       key=self.mod))
            self.assertEqual(r["status"], "learned", r)
            r = self.ok(self.d.request("POST", "/v1/learn",
                                       {"message": message("shop", ham), "class": "ham"},
                                       key=self.mod))
        self.assertEqual(r["tenant_class"], dict(r["tenant_class"], spam=6, ham=6, trained=True))
        self.assertIs(r["global"]["trained"], True)
        v = self.check_message(LURE)
        self.assertIn("BAYES_SPAM", td.codes(v), v)
        score = [x["score"] for x in v["reasons"] if x["code"] == "BAYES_SPAM"][0]
        self.assertGreaterEqual(score, 4.0, v)
        v = self.check_message("Minutes of the Thursday review meeting attached")
        self.assertNotIn("BAYES_SPAM", td.codes(v), v)

    def test_sighup_loads_a_model_trained_offline_into_the_store(self):
        """`sendguard train` writes to the daemon's store from another process; SIGHUP makes the
        running daemon judge with it, and what the daemon learned itself is kept."""
        self.ok(self.d.request("POST", "/v1/learn",
                               {"message": message("shop", "Agenda of the Monday call"),
                                "class": "ham"}, key=self.mod))
        corpus = os.path.join(self.tmp.name, "corpus")
        os.mkdir(corpus)
        for label, texts in (("spam", SPAM), ("ham", HAM)):
            with open(os.path.join(corpus, label + ".jsonl"), "w") as f:
                for text in texts:
                    f.write(json.dumps(message("shop", text)) + "\n")
        subprocess.run([os.path.join(td.BIN, "sendguard"), "train", "--db", self.db, "--no-seed",
                        "--spam", os.path.join(corpus, "spam.jsonl"),
                        "--ham", os.path.join(corpus, "ham.jsonl")],
                       check=True, capture_output=True)
        v = self.check_message(LURE)
        self.assertNotIn("BAYES_SPAM", td.codes(v), "the daemon read the store before SIGHUP")
        self.d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 3.0
        while "BAYES_SPAM" not in td.codes(v) and time.monotonic() < deadline:
            time.sleep(0.05)
            v = self.check_message(LURE)
        self.assertIn("BAYES_SPAM", td.codes(v), f"{v}\n{self.d.log_tail()}")
        self.assertIn("model reloaded", self.d.log_tail())
        self.assertIsNone(self.d.proc.poll(), "sendguardd exited on SIGHUP")
        # The ham learned over HTTP before the reload is still counted: 6 offline + 1.
        r = self.ok(self.d.request("POST", "/v1/learn",
                                   {"message": message("shop", "Agenda of the Friday call"),
                                    "class": "ham"}, key=self.mod))
        self.assertEqual(r["global"]["ham"], 8, r)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    td.BIN = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
