#!/usr/bin/env bash
# Throughput against bogofilter in the same run: the SpamAssassin TEST split (about 1,500 raw
# mails) repeated 10 times, with the model trained on TRAIN. The headline is the whole
# `sendguard check --db MODEL --tenant bench --files-from -` (one process: load the engine,
# rules and model, then for each file read it, parse the mail into an event, run every check and
# print its verdict); the second figure is `sendguard train --classify --files-from -` (content,
# tokens and the classifier only). Both against `bogofilter -T -b` (one process, file names on
# stdin, one line each). Single-threaded all. Best of 3 each, the three interleaved so a busy
# spell hits them alike; sendguard's classify summary also gives the rate of content + tokens +
# classify alone (no file reading or printing), and the time to load the model is reported
# apart.
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
best_ck=0 best_sg=0 best_bf=0 work=0
for _ in 1 2 3; do
  t0=$(now)
  "$bin" check --db "$out/sa.db" --tenant bench --files-from - <"$list" >/dev/null ||
    { echo "sendguard check failed" >&2; exit 1; }
  t1=$(now)
  r=$(python3 -c "print(int($n/($t1-$t0)))")
  ((r > best_ck)) && best_ck=$r
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
printf 'sendguard check:             %8s messages/s (whole process, every check)\n' "$best_ck"
printf 'sendguard train --classify:  %8s messages/s (whole process; model load %s s included)\n' "$best_sg" "$load"
printf '  content + tokens + classify alone: %s messages/s\n' "$work"
printf 'bogofilter -T -b:            %8s messages/s\n' "$best_bf"
python3 -c "print(f'check/bogofilter = {$best_ck/$best_bf:.2f}')"
python3 -c "print(f'train --classify/bogofilter = {$best_sg/$best_bf:.2f}')"
