#!/usr/bin/env python3
"""Scenario: `sendguard train` through the real binary, on small synthetic corpora made here.

Spam as raw RFC 822 files (in nested directories, one with an mbox "From " line), ham as JSON
event files and a JSONL file; then: the summary and `--stats` counts, `--classify` verdicts
(spam, ham, and "untrained" below 200 messages a class), a tenant's own class, `--unlearn`,
counts adding up over two runs, a bad JSONL line reported with its line number while the others
are learned, no progress output in a pipe, and usage errors.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

BIN = None

SPAM_WORDS = ["claim", "prize", "wallet", "nft", "crypto", "winner", "urgent", "verify", "bitcoin",
              "reward", "bonus", "click", "limited", "offer", "congratulations", "cash"]
HAM_WORDS = ["meeting", "tomorrow", "agenda", "report", "lunch", "project", "thanks", "regards",
             "attached", "schedule", "review", "notes", "appointment", "patient", "invoice", "minutes"]
COMMON = ["the", "a", "you", "your", "and", "to", "of", "is", "for", "we", "this", "please"]

SPAMMY = "congratulations you are the winner claim your nft prize now verify your wallet for the crypto reward"
HAMMY = "thanks for the meeting notes please review the attached agenda for tomorrow and the project schedule"


def run(*args, stdin=None, expect=0):
    p = subprocess.run([os.path.join(BIN, "sendguard"), *args], input=stdin, capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"sendguard {' '.join(args)} exited {p.returncode}, want {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


def words(rng, vocab, n=25):
    return " ".join(rng.choice(vocab) if rng.random() < 0.7 else rng.choice(COMMON) for _ in range(n))


def event(i, body, subject=None, channel="email"):
    ev = {"type": "message", "tenant": "t1", "id": f"m{i}", "channel": channel, "sender": "u1",
          "recipients": ["r1"], "body": body}
    if subject:
        ev["subject"] = subject
    return ev


class TrainCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "model.db")

    def tearDown(self):
        self.tmp.cleanup()

    def corpus(self, nspam, nham, seed=1, name="c"):
        """nspam raw mails under spam/ (two levels), nham ham events: half one file each, half in
        one JSONL file. Returns (spam_dir, ham_dir)."""
        rng = random.Random(seed)
        spam = os.path.join(self.dir, name, "spam")
        ham = os.path.join(self.dir, name, "ham")
        os.makedirs(os.path.join(spam, "inner"))
        os.makedirs(ham)
        for i in range(nspam):
            sub = "inner" if i % 2 else ""
            mbox = "From spammer@bad.example Thu Aug 22 13:17:22 2002\n" if i % 3 == 0 else ""
            with open(os.path.join(spam, sub, f"{i:04d}.eml"), "w") as f:
                f.write(f"{mbox}From: Promo <promo{i}@bad.example>\nTo: someone@example.org\n"
                        f"Subject: {words(rng, SPAM_WORDS, 4)}\nMessage-ID: <{i}@bad.example>\n"
                        f"Content-Type: text/plain; charset=utf-8\n\n{words(rng, SPAM_WORDS)}\n")
        half = nham // 2
        for i in range(half):
            with open(os.path.join(ham, f"{i:04d}.json"), "w") as f:
                json.dump(event(i, words(rng, HAM_WORDS), subject=words(rng, HAM_WORDS, 4)), f, indent=1)
        with open(os.path.join(ham, "more.jsonl"), "w") as f:
            for i in range(half, nham):
                f.write(json.dumps(event(i, words(rng, HAM_WORDS))) + "\n")
        return spam, ham

    def stats(self, *extra):
        return json.loads(run("train", "--db", self.db, "--stats", *extra).stdout)

    def classify(self, *bodies, tenant=None):
        path = os.path.join(self.dir, "judge.jsonl")
        with open(path, "w") as f:
            for i, b in enumerate(bodies):
                f.write(json.dumps(event(1000 + i, b)) + "\n")
        args = ["train", "--db", self.db, "--classify", path]
        if tenant:
            args += ["--tenant", tenant]
        p = run(*args)
        return [json.loads(l) for l in p.stdout.splitlines()], p.stderr

    def test_train_and_classify(self):
        spam, ham = self.corpus(220, 220)
        p = run("train", "--db", self.db, "--no-seed", "--spam", spam, "--ham", ham)
        self.assertIn("learned 220 spam and 220 ham messages into the global class", p.stderr)
        self.assertIn("0 errors", p.stderr)
        self.assertNotIn("\r", p.stderr)  # no progress line in a pipe
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"], st["trained"]), (220, 220, True))
        self.assertGreater(st["tokens"], 100)

        out, err = self.classify(SPAMMY, HAMMY)
        self.assertEqual([r["verdict"] for r in out], ["spam", "ham"])
        self.assertTrue(out[0]["confident"])
        self.assertGreaterEqual(out[0]["score"], 4.0)
        self.assertGreaterEqual(out[0]["probability"], 0.99)
        self.assertLessEqual(out[1]["probability"], 0.01)
        self.assertEqual(out[0]["line"], 1)
        self.assertEqual(out[0]["id"], "m1000")
        self.assertIn("classify: 2 messages", err)

        # Raw mail classifies too, and file names can come on stdin.
        mail = os.path.join(self.dir, "one.eml")
        with open(mail, "w") as f:
            f.write(f"From: x@bad.example\nSubject: urgent prize\n\n{SPAMMY}\n")
        p = run("train", "--db", self.db, "--classify", "--files-from", "-", stdin=mail + "\n")
        r = json.loads(p.stdout)
        self.assertEqual((r["file"], r["verdict"]), (mail, "spam"))

        # A second run adds to the counts.
        spam2, ham2 = self.corpus(10, 4, seed=2, name="d")
        run("train", "--db", self.db, "--no-seed", "--spam", spam2, "--ham", ham2)
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (230, 224))

        # Unlearning the second run takes exactly it back out.
        p = run("train", "--db", self.db, "--unlearn", "--spam", spam2, "--ham", ham2)
        self.assertIn("unlearned 10 spam and 4 ham messages from the global class", p.stderr)
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (220, 220))

    def test_not_enough_training(self):
        spam, ham = self.corpus(50, 50)
        p = run("train", "--db", self.db, "--no-seed", "--spam", spam, "--ham", ham)
        self.assertIn("not enough training", p.stderr)
        self.assertFalse(self.stats()["trained"])
        out, err = self.classify(SPAMMY)
        self.assertEqual(out[0]["verdict"], "untrained")
        self.assertFalse(out[0]["confident"])
        self.assertEqual(out[0]["score"], 0)
        self.assertIn("1 untrained", err)

    def test_tenant_class(self):
        spam, ham = self.corpus(220, 220)
        run("train", "--db", self.db, "--no-seed", "--spam", spam, "--ham", ham)
        # A tenant whose users legitimately talk about crypto prizes: the labels swapped.
        run("train", "--db", self.db, "--tenant", "crypto-club", "--spam", ham, "--ham", spam)
        st = self.stats("--tenant", "crypto-club")
        self.assertEqual((st["class"], st["spam_messages"], st["ham_messages"]), ("crypto-club", 220, 220))
        self.assertEqual(st["classes"], 2)
        self.assertEqual(self.stats()["spam_messages"], 220)  # the global class untouched
        out, _ = self.classify(SPAMMY, tenant="crypto-club")
        self.assertEqual((out[0]["verdict"], out[0]["class"]), ("ham", "tenant"))
        out, _ = self.classify(SPAMMY, tenant="someone-else")
        self.assertEqual((out[0]["verdict"], out[0]["class"]), ("spam", "global"))
        # --also-global counts in both.
        spam2, ham2 = self.corpus(3, 2, seed=3, name="e")
        run("train", "--db", self.db, "--tenant", "crypto-club", "--also-global", "--spam", spam2, "--ham", ham2)
        self.assertEqual(self.stats()["spam_messages"], 223)
        self.assertEqual(self.stats("--tenant", "crypto-club")["spam_messages"], 223)

    def test_bad_lines_and_usage(self):
        path = os.path.join(self.dir, "mixed.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps(event(1, "hello there")) + "\n")
            f.write("{not json\n")
            f.write(json.dumps({"type": "tenant", "tenant": "t1"}) + "\n")  # not a message: skipped
            f.write(json.dumps(event(2, "sms text", channel="sms")) + "\n")
        p = run("train", "--db", self.db, "--no-seed", "--ham", path, expect=1)
        self.assertIn("mixed.jsonl:2:", p.stderr)
        self.assertIn("learned 0 spam and 2 ham messages", p.stderr)
        self.assertIn("1 skipped, 1 error", p.stderr)
        self.assertEqual(self.stats()["ham_messages"], 2)

        missing = os.path.join(self.dir, "nope")
        p = run("train", "--db", self.db, "--no-seed", "--spam", missing, expect=1)
        self.assertIn("nope", p.stderr)
        run("train", expect=2)                                          # nothing to learn
        run("train", "--db", self.db, "--classify", expect=2)           # nothing to classify
        run("train", "--spam", path, "--classify", path, expect=2)      # both
        run("train", "--db", self.db, "--set", "nonsense=1", "--stats", expect=2)
        run("train", "--db", os.path.join(self.dir, "absent.db"), "--stats", expect=1)
        self.assertIn("--spam PATH", run("train", "--help").stdout)
        self.assertIn("train", run("--help").stdout)

    def test_one_rule_for_files_of_events(self):
        """check and train read a file the same way: JSONL without the .jsonl name when the
        file is not one event but its first line is; a broken single event is one error."""
        lines = os.path.join(self.dir, "events.txt")
        with open(lines, "w") as f:
            f.write(json.dumps(event(1, "hello there")) + "\n")
            f.write(json.dumps(event(2, "see you at noon")) + "\n")
        p = run("train", "--db", self.db, "--no-seed", "--ham", lines)
        self.assertIn("learned 0 spam and 2 ham messages", p.stderr)
        verdicts = [json.loads(x) for x in run("check", lines).stdout.splitlines()]
        self.assertEqual([v.get("line") for v in verdicts], [1, 2], verdicts)
        self.assertTrue(all("action" in v for v in verdicts), verdicts)

        broken = os.path.join(self.dir, "broken.json")
        with open(broken, "w") as f:
            f.write(json.dumps(event(3, "one event over several lines"), indent=2)[:-2] + "\n")
        p = run("train", "--db", self.db, "--ham", broken, expect=1)
        self.assertIn("0 skipped, 1 error", p.stderr)
        out = run("check", broken, expect=1).stdout.splitlines()
        self.assertEqual(len(out), 1, out)
        self.assertIn("error", json.loads(out[0]))

    def test_seed_corpus(self):
        """The built-in seed (data/seed) goes into an empty global class once, before the files
        given; never with --no-seed, into a tenant's class, or into a class that has learned."""
        seed_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "seed")
        nseed = {c: len([n for n in os.listdir(os.path.join(seed_dir, c)) if n.endswith(".eml")])
                 if os.path.isdir(os.path.join(seed_dir, c)) else 0 for c in ("spam", "ham")}
        self.assertGreater(nseed["ham"], 100, "the seed's legitimate mail is missing")
        spam, ham = self.corpus(5, 4)
        tenant_db = os.path.join(self.dir, "tenant.db")
        run("train", "--db", tenant_db, "--tenant", "t1", "--spam", spam, "--ham", ham)
        self.assertEqual(json.loads(run("train", "--db", tenant_db, "--stats", "--tenant", "t1").stdout)
                         ["ham_messages"], 4)
        st = json.loads(run("train", "--db", tenant_db, "--stats").stdout)
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (0, 0))  # the global class unseeded

        p = run("train", "--db", self.db, "--spam", spam, "--ham", ham)
        self.assertIn("learned 5 spam and 4 ham messages", p.stderr)
        self.assertIn(f"seed corpus: {nseed['spam']} spam and {nseed['ham']} ham messages", p.stderr)
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (5 + nseed["spam"], 4 + nseed["ham"]))
        # Once: a second run adds its own files only.
        p = run("train", "--db", self.db, "--spam", spam, "--ham", ham)
        self.assertNotIn("seed corpus", p.stderr)
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (10 + nseed["spam"], 8 + nseed["ham"]))
        other_db = os.path.join(self.dir, "noseed.db")
        p = run("train", "--db", other_db, "--no-seed", "--spam", spam, "--ham", ham)
        self.assertNotIn("seed corpus", p.stderr)
        self.assertEqual(json.loads(run("train", "--db", other_db, "--stats").stdout)["ham_messages"], 4)


def main():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory holding the sendguard binary")
    args, rest = ap.parse_known_args()
    BIN = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
