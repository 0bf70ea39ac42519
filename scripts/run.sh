#!/usr/bin/env bash
# `make run`: sendguardd on 127.0.0.1:8025 over var/sendguard.db, in the foreground (Ctrl-C
# drains and stops it). The first run creates the store and an admin key and prints the key once
# with a curl example; later runs reuse both. Usage: scripts/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
db=var/sendguard.db
listen=127.0.0.1:8025
url=http://$listen
cli=$build/sendguard

mkdir -p var
# A key is made only while the store has no live key at all, so a restart never mints another.
existing=$("$cli" keys list --db "$db" 2>/dev/null || true)
if ! grep -qw active <<<"$existing"; then
  if ! out=$("$cli" keys create --db "$db" --tenant '*' \
               --scopes check,events,report,moderate,audit,admin 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  key=$(grep -o 'sg_[0-9a-f]\{16\}_[0-9a-f]\{64\}' <<<"$out" | tail -n 1)
  cat <<MSG
Created $db and an admin key (every tenant, every scope). It is shown only this once:

    $key

Try it (a new account sending a private message: the forum rule answers "reject"):

    curl -s -H 'Authorization: Bearer $key' \\
      -d '{"tenant":"forum","id":"m1","channel":"private_message","sender":"u1","recipients":["u2"],"body":"hi"}' \\
      $url/v1/check

Routes, errors and signing: docs/http.md.

MSG
else
  cat <<MSG
Using $db and its keys (listed by: $cli keys list --db $db).
A new key:  $cli keys create --db $db --tenant '*' --scopes check,events,audit,admin

MSG
fi
exec "$build/sendguardd" --listen "$listen" --db "$db" --config config/sendguard.yaml
