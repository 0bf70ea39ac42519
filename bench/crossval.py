#!/usr/bin/env python3
"""Cross-validation inside TRAIN, for tuning the classifier's settings and its weight in the
verdict without looking at TEST (bench/accuracy.sh's split must stay unseen).

  bench/crossval.py [--bin build/sendguard] [--folds 4] [--corpus sa|sms|both]
                    [--set KEY=VALUE ...] [--sweep]

TRAIN of each corpus (as bench/bayes_corpora.py prepares it under bench/out/bayes) is cut into
K folds by sha256("fold:" + the split key); for each fold the model learns the other K-1 and
judges the fold twice: `sendguard train --classify` (the classifier's probability, with any
--set settings) and `sendguard check --db` (the whole verdict). Each message then has its label,
its probability and the score of every other reason (the verdict's score less BAYES_SPAM), so
the verdict under another mapping from probability to score can be computed exactly offline.

Prints, per corpus, spam and ham flagged (hold or reject, score >= 5) for the shipped mapping
and, with --sweep, for a grid of confident cutoffs, probable bands and band scores, best first
by spam caught within the issue's ham limit (SpamAssassin 0.3%, SMS 0.5%). Standard library.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

OUT = "bench/out/bayes"
CV = "bench/out/crossval"
HOLD = 5.0
HAM_LIMIT = {"sa": 0.003, "sms": 0.005}


def fold_of(key, k):
    return int(hashlib.sha256(("fold:" + key).encode("utf-8")).hexdigest()[:8], 16) % k


def sa_items():
    for label in ("spam", "ham"):
        d = os.path.join(OUT, "sa", "train", label)
        for name in sorted(os.listdir(d)):
            yield label, name.split(".")[2], os.path.join(d, name)  # group.N.md5.txt


def sms_items():
    for label in ("spam", "ham"):
        with open(os.path.join(OUT, "sms", f"train-{label}.jsonl"), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield label, json.loads(line)["body"], line


def build_folds(corpus, k):
    """Writes CV/corpus/F/{learn,judge}-{spam,ham} (directories of links for sa, JSONL for
    sms) and returns the fold directories."""
    base = os.path.join(CV, corpus)
    shutil.rmtree(base, ignore_errors=True)
    dirs = []
    items = list(sa_items() if corpus == "sa" else sms_items())
    for f in range(k):
        d = os.path.join(base, str(f))
        dirs.append(d)
        os.makedirs(d)
        if corpus == "sa":
            for part in ("learn", "judge"):
                for label in ("spam", "ham"):
                    os.makedirs(os.path.join(d, f"{part}-{label}"))
        outs = {} if corpus == "sa" else {
            (part, label): open(os.path.join(d, f"{part}-{label}.jsonl"), "w", encoding="utf-8")
            for part in ("learn", "judge") for label in ("spam", "ham")}
        for label, key, what in items:
            part = "judge" if fold_of(key, k) == f else "learn"
            if corpus == "sa":
                os.link(what, os.path.join(d, f"{part}-{label}", os.path.basename(what)))
            else:
                outs[(part, label)].write(what)
        for fh in outs.values():
            fh.close()
    return dirs


def judge_paths(d, corpus):
    ext = "" if corpus == "sa" else ".jsonl"
    return [os.path.join(d, f"judge-spam{ext}"), os.path.join(d, f"judge-ham{ext}")]


def label_of(path):
    return "spam" if "judge-spam" in path else "ham"


def run_fold(binary, corpus, d, sets, verdicts):
    """Learns the fold's other part (once), classifies and (if verdicts) checks the fold."""
    db = os.path.join(d, "model.db")
    ext = "" if corpus == "sa" else ".jsonl"
    if not os.path.exists(db):
        # As bench/accuracy.sh: the seed corpus (email) in the mail model, not the SMS one.
        seed = [] if corpus == "sa" else ["--no-seed"]
        subprocess.run([binary, "train", "--db", db, *seed, "--spam", os.path.join(d, "learn-spam" + ext),
                        "--ham", os.path.join(d, "learn-ham" + ext)], check=True,
                       stderr=subprocess.DEVNULL)
    setargs = [a for s in sets for a in ("--set", s)]
    cls = subprocess.run([binary, "train", "--db", db, *setargs, "--classify",
                          *judge_paths(d, corpus)], check=True, capture_output=True, text=True)
    msgs = {}
    for line in cls.stdout.splitlines():
        r = json.loads(line)
        msgs[(r["file"], r.get("line"))] = {"label": label_of(r["file"]), "p": r["probability"],
                                            "used": r.get("used", 0), "rest": 0.0,
                                            "file": r["file"], "line": r.get("line")}
    if verdicts:
        chk = subprocess.run([binary, "check", "--db", db, "--tenant", "cv", *judge_paths(d, corpus)],
                             capture_output=True, text=True)
        for line in chk.stdout.splitlines():
            r = json.loads(line)
            m = msgs.get((r.get("file"), r.get("line")))
            if m is not None and "score" in r:
                m["rest"] = r["score"] - sum(x["score"] for x in r["reasons"] if x["code"] == "BAYES_SPAM")
                m["action"] = r["action"]
    return list(msgs.values())


def bayes_score(p, cutoff, band, band_score):
    """The classifier's score as src/bayes/combine.c grades it (ham score 0)."""
    import math
    if p >= cutoff:
        lo = -math.log10(max(1 - cutoff, 1e-300))
        v = -math.log10(max(1 - p, 1e-300))
        t = min(max((v - lo) / (6 - lo), 0), 1) if 6 > lo else 1
        return 5 + 2 * t
    if band_score > 0 and p >= band:
        return band_score
    return 0.0


def tally(msgs, cutoff, band, band_score):
    n = {"spam": 0, "ham": 0}
    hit = {"spam": 0, "ham": 0}
    for m in msgs:
        n[m["label"]] += 1
        if m["rest"] + bayes_score(m["p"], cutoff, band, band_score) >= HOLD:
            hit[m["label"]] += 1
    return hit["spam"], n["spam"], hit["ham"], n["ham"]


def roc_point(msgs, limit):
    """The classifier's quality apart from any cutoff: spam caught at the lowest cutoff whose
    ham flagged stays within the limit."""
    ham = sorted((m["p"] for m in msgs if m["label"] == "ham"), reverse=True)
    spam = [m["p"] for m in msgs if m["label"] == "spam"]
    allowed = int(limit * len(ham))
    cut = ham[allowed] if allowed < len(ham) else 0.0  # the first ham that must stay below
    caught = sum(1 for p in spam if p > cut)
    return (f"  classifier alone at ham <= {100 * limit:.1f}%: spam {100 * caught / len(spam):6.2f}%"
            f" ({caught}/{len(spam)}) above p {cut:.6g}")


def line(name, t):
    s, ns, h, nh = t
    return f"  {name:<34} spam {100 * s / ns:6.2f}% ({s}/{ns})   ham {100 * h / nh:5.2f}% ({h}/{nh})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="build/sendguard")
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--corpus", default="both", choices=("sa", "sms", "both"))
    ap.add_argument("--set", action="append", default=[], help="classifier setting KEY=VALUE")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--dump", metavar="DIR", help="write each corpus's messages as DIR/CORPUS.json")
    ap.add_argument("--reuse", action="store_true", help="keep the folds and models of a previous run")
    a = ap.parse_args()
    for corpus in (("sa", "sms") if a.corpus == "both" else (a.corpus,)):
        base = os.path.join(CV, corpus)
        if a.reuse and os.path.isdir(base):
            dirs = [os.path.join(base, str(f)) for f in range(a.folds)]
        else:
            dirs = build_folds(corpus, a.folds)
        msgs = []
        for i, d in enumerate(dirs):
            print(f"{corpus}: fold {i + 1}/{len(dirs)}", file=sys.stderr)
            msgs += run_fold(a.bin, corpus, d, a.set, True)
        if a.dump:
            with open(os.path.join(a.dump, corpus + ".json"), "w") as f:
                json.dump(msgs, f)
        print(f"{corpus} ({a.folds}-fold inside TRAIN; settings {' '.join(a.set) or 'shipped'}):")
        real = [m for m in msgs if "action" in m]
        s = sum(1 for m in real if m["label"] == "spam" and m["action"] in ("hold", "reject"))
        h = sum(1 for m in real if m["label"] == "ham" and m["action"] in ("hold", "reject"))
        print(line("verdict as shipped", (s, sum(m["label"] == "spam" for m in real),
                                          h, sum(m["label"] == "ham" for m in real))))
        print(line("classifier alone, p >= 0.9", tally([dict(m, rest=0) for m in msgs], 0.9, 1, 0)))
        print(roc_point(msgs, HAM_LIMIT[corpus]))
        if not a.sweep:
            continue
        limit = HAM_LIMIT[corpus]
        rows = []
        for cutoff in (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99):
            for band in (0.4, 0.5, 0.6, 0.7, 0.8):
                for band_score in (0, 2, 2.5, 3, 3.5, 4):
                    if band >= cutoff:
                        continue
                    t = tally(msgs, cutoff, band, band_score)
                    rows.append((t[2] / t[3] <= limit, t[0], -t[2], cutoff, band, band_score, t))
        rows.sort(reverse=True)
        for ok, _, _, cutoff, band, band_score, t in rows[:12]:
            print(line(f"cutoff {cutoff} band {band} +{band_score}{'' if ok else ' (over)'}", t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
