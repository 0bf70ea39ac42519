#!/usr/bin/env python3
"""Corpora for the classifier benchmarks (bench/accuracy.sh, bench/content.sh).

  prepare OUT   splits the SpamAssassin corpus (already unpacked under OUT/cache/package) and
                the SMS Spam Collection into TRAIN and TEST trees under OUT:
                  OUT/sa/{train,test}/{spam,ham}/<group>.<file>.txt  the raw mails (hard links)
                  OUT/sms/{train,test}-{spam,ham}.jsonl      message events, channel sms
                  OUT/sms/{train,test}/{spam,ham}/<n>.txt    the same texts as mails (bogofilter)
  tally WHO     reads classifier output on stdin and prints spam/ham flagged at thresholds:
                  WHO=sendguard: `sendguard train --classify` JSON lines
                  WHO=bogofilter: `bogofilter -T -b` lines "PATH X SCORE"
                the label comes from the path (/spam/ or /ham/) or the event id (spam-N, ham-N).
  header, report CORPUS SENDGUARD.json BOGOFILTER.json
                print the side-by-side table from two tallies.

The standard split (shared/corpora/README.md): a SpamAssassin file is TRAIN when the first hex
digit of sha256(its md5 name, between the first and second dot) is 0-b, else TEST. SMS: the same
rule on sha256 of the message text, so duplicates of a text never straddle the split.
Standard library only.
"""
import hashlib
import json
import os
import shutil
import sys

SA_SPAM = ("spam-1", "spam-2")
SA_HAM = ("easy-ham-1", "easy-ham-2", "hard-ham-1")


def is_train(key: str) -> bool:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[0] in "0123456789ab"


def fresh_dir(path):
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))


def prepare_sa(out):
    data = os.path.join(out, "cache", "package", "data")
    counts = {}
    for split in ("train", "test"):
        for label in ("spam", "ham"):
            fresh_dir(os.path.join(out, "sa", split, label))
    for label, groups in (("spam", SA_SPAM), ("ham", SA_HAM)):
        for group in groups:
            for name in sorted(os.listdir(os.path.join(data, group))):
                if not name.endswith(".txt"):
                    continue
                md5 = name.split(".")[1]
                split = "train" if is_train(md5) else "test"
                # Group prefix: file numbers repeat across groups. Hard links, because
                # bogofilter's directory walk skips symbolic links.
                link = os.path.join(out, "sa", split, label, f"{group}.{name}")
                src = os.path.join(data, group, name)
                try:
                    os.link(src, link)
                except OSError:
                    shutil.copyfile(src, link)
                counts[(split, label)] = counts.get((split, label), 0) + 1
    return counts


def prepare_sms(out, source):
    counts = {}
    base = os.path.join(out, "sms")
    os.makedirs(base, exist_ok=True)
    for split in ("train", "test"):
        for label in ("spam", "ham"):
            fresh_dir(os.path.join(base, split, label))
    files = {}
    for split in ("train", "test"):
        for label in ("spam", "ham"):
            files[(split, label)] = open(os.path.join(base, f"{split}-{label}.jsonl"), "w", encoding="utf-8")
    with open(source, "rb") as f:
        for n, raw in enumerate(f):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if "\t" not in line:
                continue
            label, text = line.split("\t", 1)
            if label not in ("spam", "ham"):
                continue
            split = "train" if is_train(text) else "test"
            ev = {"type": "message", "tenant": "bench", "id": f"{label}-{n}", "channel": "sms",
                  "sender": "u1", "recipients": ["r1"], "body": text}
            files[(split, label)].write(json.dumps(ev, ensure_ascii=False) + "\n")
            # The same text as a mail for bogofilter, behind a header every message shares.
            with open(os.path.join(base, split, label, f"{n}.txt"), "w", encoding="utf-8") as m:
                m.write("Content-Type: text/plain; charset=utf-8\n\n" + text + "\n")
            counts[(split, label)] = counts.get((split, label), 0) + 1
    for fh in files.values():
        fh.close()
    return counts


def label_of(path_or_id):
    if path_or_id.startswith("spam-") or "/spam/" in path_or_id:
        return "spam"
    if path_or_id.startswith("ham-") or "/ham/" in path_or_id:
        return "ham"
    return None


def tally(who, thresholds):
    scores = {"spam": [], "ham": []}
    untrained = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if who == "sendguard":
            r = json.loads(line)
            label = label_of(r.get("id") or "") or label_of(r["file"])
            if r["verdict"] == "untrained":
                untrained += 1
            p = r["probability"]
        else:
            path, _, p = line.rsplit(" ", 2)
            label = label_of(path)
            p = float(p)
        if label:
            scores[label].append(p)
    res = {"spam": len(scores["spam"]), "ham": len(scores["ham"]), "untrained": untrained}
    for name, t in thresholds:
        res[name] = {
            "spam_flagged": sum(1 for p in scores["spam"] if p >= t),
            "ham_flagged": sum(1 for p in scores["ham"] if p >= t),
        }
    # Unsure band of bogofilter's defaults (ham_cutoff 0.45), for the record.
    res["unsure_0.45_0.99"] = {
        "spam": sum(1 for p in scores["spam"] if 0.45 <= p < 0.99),
        "ham": sum(1 for p in scores["ham"] if 0.45 <= p < 0.99),
    }
    json.dump(res, sys.stdout)
    print()


def tally_verdicts():
    """`sendguard check` verdicts (rules + classifier + every other check) on stdin: flagged is
    hold or reject, as a platform would not deliver it."""
    res = {"spam": 0, "ham": 0, "errors": 0, "verdict": {"spam_flagged": 0, "ham_flagged": 0}}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        label = label_of(r.get("id") or "") or label_of(r["file"])
        if "action" not in r:
            res["errors"] += 1
            continue
        if not label:
            continue
        res[label] += 1
        if r["action"] in ("hold", "reject"):
            res["verdict"][label + "_flagged"] += 1
    json.dump(res, sys.stdout)
    print()


def pct(n, d):
    return f"{100.0 * n / d:6.2f}% ({n}/{d})" if d else "     - "


def report(corpus, verdicts_json, sendguard_json, bogofilter_json):
    """One corpus's rows of the side-by-side table."""
    vd = json.load(open(verdicts_json))
    sg = json.load(open(sendguard_json))
    bf = json.load(open(bogofilter_json))
    rows = [
        ("sendguard verdict: hold or reject", vd, "verdict"),
        ("  its classifier alone, p >= 0.9", sg, "at_0.9"),
        ("  its classifier alone, p >= 0.5", sg, "at_0.5"),
        ("bogofilter, default cutoff (>= 0.99)", bf, "at_0.99"),
        ("bogofilter, >= 0.5", bf, "at_0.5"),
    ]
    for name, r, key in rows:
        print(f"{corpus:<14} {name:<38} {pct(r[key]['spam_flagged'], r['spam']):>22} "
              f"{pct(r[key]['ham_flagged'], r['ham']):>22}")
    if vd.get("errors"):
        print(f"{'':<14} (sendguard check: {vd['errors']} messages could not be judged)")
    if sg.get("untrained"):
        print(f"{'':<14} (sendguard: {sg['untrained']} messages judged by an untrained class)")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "prepare":
        out = sys.argv[2]
        sms_source = sys.argv[3] if len(sys.argv) > 3 else None
        c = prepare_sa(out)
        print("SpamAssassin: train %d spam / %d ham, test %d spam / %d ham" % (
            c.get(("train", "spam"), 0), c.get(("train", "ham"), 0),
            c.get(("test", "spam"), 0), c.get(("test", "ham"), 0)))
        if sms_source and os.path.exists(sms_source):
            c = prepare_sms(out, sms_source)
            print("SMS: train %d spam / %d ham, test %d spam / %d ham" % (
                c.get(("train", "spam"), 0), c.get(("train", "ham"), 0),
                c.get(("test", "spam"), 0), c.get(("test", "ham"), 0)))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "tally-verdicts":
        tally_verdicts()
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "tally":
        tally(sys.argv[2], [("at_0.99", 0.99), ("at_0.9", 0.9), ("at_0.5", 0.5)])
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "header":
        print(f"{'corpus':<14} {'judged by':<38} {'spam flagged':>22} {'ham flagged':>22}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
