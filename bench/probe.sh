#!/usr/bin/env bash
# The modern probe set (bench/probe/: hand-written 2022-2026 style lures and the legitimate mail
# a platform sends, in six languages; see bench/probe/README.md) through `sendguard check`,
# once with the rules alone and once with the SpamAssassin-trained model of bench/accuracy.sh
# when it exists. Prints spam flagged (hold or reject) and ham flagged, then each miss and each
# false positive with its reasons. A measure of generalisation, not training data.
# Usage: bench/probe.sh [SET] [SENDGUARD]   SET: bench/probe (default) or bench/probe/holdout,
# the blind set (by hand; not part of make test)
set -euo pipefail
cd "$(dirname "$0")/.."
set=${1:-bench/probe}
bin=${2:-build/sendguard}
model=${PROBE_MODEL:-bench/out/bayes/sa.db}  # PROBE_MODEL: another trained store
# Reads `sendguard check` verdicts on stdin; argv[1] names the run.
tally=$(cat <<'PY'
import json, sys
n = {"spam": 0, "ham": 0}
hit = {"spam": 0, "ham": 0}
wrong = []
for line in sys.stdin:
    v = json.loads(line)
    label = "spam" if "/spam/" in v["file"] else "ham"
    flagged = v.get("action") in ("hold", "reject")
    n[label] += 1
    hit[label] += flagged
    if flagged != (label == "spam"):
        why = ", ".join("%s %.1f" % (r["code"], r["score"]) for r in v.get("reasons", []))
        kind = "missed" if label == "spam" else "false positive"
        wrong.append("  %s: %s %s %.1f [%s]" % (kind, v["file"].split("/")[-1], v.get("action"),
                                                v.get("score", 0), why))
print("%-30s spam flagged %d/%d   ham flagged %d/%d" % (sys.argv[1], hit["spam"], n["spam"],
                                                       hit["ham"], n["ham"]))
if wrong:
    print("\n".join(wrong))
PY
)
# A set of JSON message events (private messages and the like) is judged on its content alone:
# its senders are accounts the engine has never seen, whom the trust gates would stop first.
config=()
[[ -n $(find "$set" -name '*.json' -print -quit) ]] && config=(--config bench/probe/content-only.yaml)
runs=("rules alone:")
[[ -s $model ]] && runs+=("with the SpamAssassin model:--db $model")
for run in "${runs[@]}"; do
  name=${run%%:*}
  # shellcheck disable=SC2206  # the options are words on purpose
  opts=(${run#*:})
  "$bin" check "${config[@]}" "${opts[@]}" --tenant probe "$set/spam" "$set/ham" 2>/dev/null |
    python3 -c "$tally" "$name"
done
