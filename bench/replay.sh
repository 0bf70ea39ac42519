#!/usr/bin/env bash
# Replay throughput: generates a 100k-event stream and replays it single-threaded, into an
# in-memory store and into a WAL file store, best of 3 each; prints events/s and the limiter's
# bytes per key. As a reference point measured in the same run, jq (when installed) parses the
# same stream (`jq -c .`): parsing JSON alone, the floor any event processor pays.
# Usage: bench/replay.sh [SENDGUARD] [EVENTS]   (run by hand or `make bench`; not a test)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/sendguard}
n=${2:-100000}
out=bench/out
mkdir -p "$out"
events=$out/events-$n.jsonl
[[ -s $events ]] || python3 bench/gen_events.py --events "$n" > "$events"
echo "stream: $events ($(wc -l <"$events") events, $(du -h "$events" | cut -f1))"

best() { # best events/s of 3 runs of: sendguard replay [--db FILE]
  local best=0 rate
  for _ in 1 2 3; do
    rm -f "$out"/bench.db*
    rate=$("$bin" replay "$@" "$events" 2>&1 >/dev/null | sed -n 's/.*(\([0-9]*\) events\/s).*/\1/p')
    ((rate > best)) && best=$rate
  done
  echo "$best"
}
mem=$(best)
wal=$(best --db "$out/bench.db")
"$bin" replay "$events" 2>&1 >/dev/null | grep -E '^  limiter' || true
printf 'sendguard replay, in-memory store: %s events/s\n' "$mem"
printf 'sendguard replay, WAL file store:  %s events/s\n' "$wal"
if command -v jq >/dev/null; then
  s=$(date +%s.%N); jq -c . "$events" >/dev/null; e=$(date +%s.%N)
  jqrate=$(python3 -c "print(int($n/($e-$s)))")
  printf 'jq -c . (parse only, reference):   %s events/s  (sendguard/jq = %s)\n' "$jqrate" \
    "$(python3 -c "print(round($mem/$jqrate,2))")"
fi
