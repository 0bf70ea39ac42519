#!/usr/bin/env bash
# Classifier throughput against bogofilter in the same run: the SpamAssassin TEST split (about
# 1,500 raw mails) repeated 10 times, classified with the model trained on TRAIN, by
# `sendguard train --classify --files-from -` (one process: load the model, then for each file
# read it, build its content, tokenize, classify, print a JSON line) and by `bogofilter -T -b`
# (one process, file names on stdin, one line each). Single-threaded both. Best of 3 each;
# sendguard's own summary also gives the rate of content + tokens + classify alone (no file
# reading or printing), and the time to load the model is reported apart.
# Usage: bench/content.sh [SENDGUARD] [REPEAT]   (by hand; runs bench/accuracy.sh's preparation
# first when its split or models are missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/sendguard}
repeat=${2:-10}
out=bench/out/bayes
if [[ ! -s $out/sa.db || ! -d $out/sa-bogofilter || ! -d $out/sa/test/spam ]]; then
  bench/accuracy.sh "$bin" >/dev/null
fi
list=$out/content-files.txt
: >"$list"
for ((i = 0; i < repeat; i++)); do
  find "$out/sa/test/spam" "$out/sa/test/ham" -type f | sort >>"$list"
done
n=$(wc -l <"$list")
# Warm the page cache so both read the files from memory.
xargs cat <"$list" >/dev/null

now() { date +%s.%N; }
best_sg=0 best_bf=0 work=0
for _ in 1 2 3; do
  t0=$(now)
  "$bin" train --db "$out/sa.db" --classify --files-from - <"$list" >/dev/null 2>"$out/content-sg.log"
  t1=$(now)
  r=$(python3 -c "print(int($n/($t1-$t0)))")
  ((r > best_sg)) && best_sg=$r
  w=$(sed -n 's/.*classify alone: \([0-9]*\)\/s.*/\1/p' "$out/content-sg.log")
  ((${w:-0} > work)) && work=$w
  t0=$(now)
  bogofilter -d "$out/sa-bogofilter" -T -b <"$list" >/dev/null || [[ $? -lt 3 ]]
  t1=$(now)
  r=$(python3 -c "print(int($n/($t1-$t0)))")
  ((r > best_bf)) && best_bf=$r
done
t0=$(now)
"$bin" train --db "$out/sa.db" --stats >/dev/null
t1=$(now)
load=$(python3 -c "print(f'{$t1-$t0:.2f}')")

echo "messages: $n (SpamAssassin TEST x $repeat)"
printf 'sendguard train --classify:  %8s messages/s (whole process; model load %s s included)\n' "$best_sg" "$load"
printf '  content + tokens + classify alone: %s messages/s\n' "$work"
printf 'bogofilter -T -b:            %8s messages/s\n' "$best_bf"
python3 -c "print(f'sendguard/bogofilter = {$best_sg/$best_bf:.2f}')"
