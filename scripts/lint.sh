#!/usr/bin/env bash
# Bans the C functions that have no bounds (the curl rule): strcpy, strcat, sprintf, vsprintf,
# gets, atoi, atol, atof, strtok. Prints each use with file and line; exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok)[[:space:]]*\('
if hits=$(grep -rnE "$pattern" src include tests fuzz bench --include='*.c' --include='*.h' \
           | grep -vE '^\S+:[0-9]+:\s*(/\*|\*|//)'); then
  echo "lint: banned functions (use the bounded forms: snprintf, strtol, memcpy with a length):" >&2
  echo "$hits" >&2
  exit 1
fi
