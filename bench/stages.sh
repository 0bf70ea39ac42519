#!/usr/bin/env bash
# The content path's cost per stage in instructions per message (callgrind: repeatable on a
# busy machine, unlike wall time), over the SpamAssassin TEST split or the files given on stdin.
# Runs bench_stages --dump once under callgrind (each message: content_build, tokenize,
# classify, rules scan) and reads the inclusive cost of each stage's entry function.
# Usage: bench/stages.sh [BUILD] [EVERY] [LIST]  (every EVERY-th TEST file, default 5; or the
# files named in LIST, one a line)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
every=${2:-5}
out=bench/out/bayes
list=$(mktemp)
cg=$(mktemp)
trap 'rm -f "$list" "$cg"' EXIT
if [[ -n ${3:-} ]]; then
  cp "$3" "$list"
else
  find "$out/sa/test/spam" "$out/sa/test/ham" -type f | sort | awk -v e="$every" 'NR % e == 0' >"$list"
fi
n=$(wc -l <"$list")
db=()
[[ -s $out/sa.db ]] && db=(--db "$out/sa.db")
valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect=dump \
  "$build/bench_stages" "${db[@]}" --dump <"$list" >/dev/null 2>&1
echo "$n messages; instructions per message (callgrind, inclusive)"
callgrind_annotate --inclusive=yes "$cg" 2>/dev/null |
  awk -v n="$n" '
    / \[/ && $0 ~ /^ *[0-9,]+ / {
      c = $1; gsub(",", "", c)
      for (i = 2; i <= NF; i++) if ($i ~ /:[a-z_0-9]+$/) { split($i, p, ":"); f = p[2] }
      if (!(f in seen)) { seen[f] = 1; cost[f] = c }
    }
    END {
      split("sg__mime_parse sg__html_extract sg__normalize sg__urls_scan sg__urls_add_href " \
            "sg__content_build sg__bayes_tokenize sg__bayes_classify_tokens sg__rules_scan", s, " ")
      for (i = 1; i in s; i++) printf "  %-28s %9.0f\n", s[i], cost[s[i]] / n
    }'
