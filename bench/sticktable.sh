#!/usr/bin/env bash
# Stick-table memory per entry, gohap against HAProxy 2.6: each proxy
# starts with one 'stick-table type ip size 2m expire 300s store
# http_req_rate(10s),gpc0', N entries (default 1048576) are set over its
# stats socket with 'set table', and the growth of its VmRSS is divided by
# the entries 'show table' counts. Environment: N, PORT (19999), HAPROXY_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1048576}
PORT=${PORT:-19999}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
command -v socat >/dev/null || { echo "socat not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gohap" ./cmd/gohap
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
  printf "set table t key 10.%d.%d.%d data.gpc0 1\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' > "$tmp/cmds"

rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }

measure() { # measure NAME BINARY
  local sock="$tmp/$1.sock"
  cat > "$tmp/$1.cfg" <<CFG
global
    stats socket $sock mode 600 level admin
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
backend t
    stick-table type ip size 2m expire 300s store http_req_rate(10s),gpc0
frontend fe
    bind 127.0.0.1:$PORT
    default_backend t
CFG
  "$2" -f "$tmp/$1.cfg" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  local r0; r0=$(rss "$pid")
  { echo prompt; cat "$tmp/cmds"; echo quit; } | socat -t 300 - "UNIX-CONNECT:$sock" >/dev/null
  sleep 2
  local r1; r1=$(rss "$pid")
  local used; used=$(echo "show table" | socat -t 5 - "UNIX-CONNECT:$sock" | sed -n 's/.*used:\([0-9]*\).*/\1/p')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$1 entries=$used rss_before_kib=$r0 rss_after_kib=$r1 rss_b_entry=$(( (r1 - r0) * 1024 / used ))"
}
measure haproxy "$HAP"
measure gohap "$tmp/gohap"
