#!/usr/bin/env bash
# HTTP throughput of sendguardd, next to nginx answering a fixed verdict from memory on the same
# machine in the same run: nginx is the ceiling for "an HTTP server on loopback", so the ratio
# says how much of the budget judging and storing a message costs. Both get the same wrk load
# (bench/http_check.lua: varied /v1/check bodies, 2 threads, 64 connections, 15 s).
# Prints req/s of each, sendguard/nginx, and sendguardd's p50 / p99 latency.
# The numbers are for a human to read and compare across changes, not a pass/fail test; they
# depend on the machine (wrk, nginx and sendguardd share its cores). Not part of `make test`.
# Usage: bench/http.sh [DURATION]   (default 15s)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15s}

scripts/deps.sh --bench
make build >/dev/null
bin=build

tmp=$(mktemp -d)
pids=()
cleanup() {
  # By PID, only what this script started.
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL NAME LOG: up to 10 s for any HTTP answer
  for _ in $(seq 100); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "bench: $2 did not start; its log:" >&2
  tail -n 20 "$3" >&2
  exit 1
}

# sendguardd with a platform key (tenant '*') so that every tenant in the script is allowed.
db=$tmp/bench.db
key=$("$bin/sendguard" keys create --db "$db" --tenant '*' --scopes check 2>"$tmp/keys.err" |
  tail -n 1) || { cat "$tmp/keys.err" >&2; exit 1; }
sg_port=$(free_port)
"$bin/sendguardd" --listen "127.0.0.1:$sg_port" --db "$db" ${SG_THREADS:+--threads $SG_THREADS} --log-level ${SG_LOG_LEVEL:-info} >"$tmp/sendguardd.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sg_port/healthz" sendguardd "$tmp/sendguardd.log"

# nginx from Debian with a config of our own: everything under $tmp, no root needed.
ng=$tmp/nginx
mkdir -p "$ng/logs"
ng_port=$(free_port)
cat >"$ng/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $ng/body;
  proxy_temp_path $ng/proxy;
  fastcgi_temp_path $ng/fastcgi;
  uwsgi_temp_path $ng/uwsgi;
  scgi_temp_path $ng/scgi;
  server {
    listen 127.0.0.1:$ng_port;
    location / {
      default_type application/json;
      return 200 '{"id":"m1","action":"allow","score":0,"retry_after":null,"campaign":null,"reasons":[]}';
    }
  }
}
EOF
# -e: the error log before the config is read (the packaged default is /var/log/nginx).
nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" &
pids+=($!)
wait_http "http://127.0.0.1:$ng_port/" nginx "$ng/logs/error.log"

run_wrk() { # URL OUT
  SG_KEY=$key wrk -t2 -c64 -d"$duration" --latency -s bench/http_check.lua "$1" >"$2"
}
echo "wrk -t2 -c64 -d$duration --latency, bench/http_check.lua; $(nproc) CPUs shared by all"
run_wrk "http://127.0.0.1:$sg_port/v1/check" "$tmp/sg.txt"
run_wrk "http://127.0.0.1:$ng_port/v1/check" "$tmp/ng.txt"

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
pct() { awk -v p="$2%" '$1 == p {print $2; exit}' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1"; }

sg_rps=$(rps "$tmp/sg.txt")
ng_rps=$(rps "$tmp/ng.txt")
printf 'sendguardd POST /v1/check: %10s req/s   p50 %s   p99 %s\n' "$sg_rps" \
  "$(pct "$tmp/sg.txt" 50)" "$(pct "$tmp/sg.txt" 99)"
printf 'nginx fixed verdict:       %10s req/s   p50 %s   p99 %s\n' "$ng_rps" \
  "$(pct "$tmp/ng.txt" 50)" "$(pct "$tmp/ng.txt" 99)"
printf 'sendguard/nginx:           %10s\n' "$(python3 -c "print(round($sg_rps / $ng_rps, 3))")"
# Errors would make the rate meaningless (a 401 is cheaper than a verdict): say so loudly.
for f in sg ng; do
  bad=$(non2xx "$tmp/$f.txt")
  if [[ -n $bad ]]; then
    echo "warning: $f answered $bad non-2xx responses; full wrk output:" >&2
    cat "$tmp/$f.txt" >&2
  fi
done
if grep -q "Socket errors" "$tmp/sg.txt"; then grep "Socket errors" "$tmp/sg.txt" | sed 's/^/sendguardd: /'; fi
