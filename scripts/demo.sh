#!/usr/bin/env bash
# The bundled demo: replays an incident's event stream and prints a timeline of the verdicts a
# newcomer can read, then the replay's own summary. Usage: scripts/demo.sh SENDGUARD EVENTS.jsonl
set -euo pipefail
bin=${1:?usage: demo.sh SENDGUARD EVENTS.jsonl}
events=${2:?usage: demo.sh SENDGUARD EVENTS.jsonl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "Replaying $events ($(wc -l <"$events") events) on its own clock..."
"$bin" replay --db "$tmp/demo.db" "$events" >"$tmp/verdicts.jsonl" 2>"$tmp/summary.txt" || true
python3 "$(dirname "$0")/timeline.py" "$events" "$tmp/verdicts.jsonl"
cat "$tmp/summary.txt"
