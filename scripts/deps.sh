#!/usr/bin/env bash
# Installs the Debian packages sendguard's build, tests and benchmarks need.
# Idempotent: asks dpkg first and calls apt-get only for what is missing; quiet when all is present.
set -euo pipefail

# Build and unit tests.
build_pkgs=(build-essential cmake pkg-config python3
  libjansson-dev libfyaml-dev libsqlite3-dev libcmocka-dev libsodium-dev
  libmicrohttpd-dev)
# Content analysis, scale-out stores, milter (later issues); listed now so one install serves all.
later_pkgs=(libgmime-3.0-dev libxml2-dev libicu-dev libpsl-dev libidn2-dev libhyperscan-dev
  libhiredis-dev libpq-dev)
# Tools the tests and benchmarks run: sqlite3 CLI for inspecting stores, curl for the daemon tests.
tool_pkgs=(sqlite3 curl)
# Benchmarks' peers (only with --bench; `make bench` passes it).
bench_pkgs=(wrk nginx bogofilter hyperfine)

want=("${build_pkgs[@]}" "${later_pkgs[@]}" "${tool_pkgs[@]}")
if [[ ${1:-} == --bench ]]; then want+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
((${#missing[@]} == 0)) && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
