#!/usr/bin/env bash
# Runs every fuzz harness under libFuzzer (clang, ASan+UBSan) for FUZZ_SECONDS each (default 60).
# Seeds come from fuzz/corpus/<name>; new inputs go to build-fuzz/corpus/<name> so the stored
# corpus only grows by hand (copy a minimised crasher there once it is fixed).
# Usage: scripts/fuzz.sh [harness...]   e.g. scripts/fuzz.sh json event
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
names=("$@")
if ((${#names[@]} == 0)); then
  for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
fi
targets=()
for n in "${names[@]}"; do targets+=(--target "fuzz_$n"); done
cmake --build build-fuzz -j "$(nproc)" "${targets[@]}" >/dev/null
for n in "${names[@]}"; do
  mkdir -p "build-fuzz/corpus/$n" "build-fuzz/crashes/$n"
  echo "fuzz $n: ${secs}s"
  "build-fuzz/fuzz_$n" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$n/" "build-fuzz/corpus/$n" "fuzz/corpus/$n" 2>&1 |
    grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE|==[0-9]+==ERROR|SUMMARY)' || true
done
