#!/usr/bin/env bash
# Configuration-size scaling of 'gohap check' and start-up against HAProxy
# 2.6. The generated configuration has N backends, each with a cookie and
# two servers, and one frontend with a 'use_backend bN if { hdr(host) -i
# hN }' rule per backend. It prints the CPU time (user+system) of:
#   gohap check at SMALL and LARGE backends, and their ratio (4 is linear);
#   haproxy -c and gohap check at REF backends, and their ratio;
#   start-up to a listening socket at REF backends, both proxies.
# Environment: SMALL (2000), LARGE (8000), REF (10000), HAPROXY_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${SMALL:-2000}
LARGE=${LARGE:-8000}
REF=${REF:-10000}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gohap" ./cmd/gohap

gen() { # gen N PORT > file
  awk -v n="$1" -v port="$2" 'BEGIN {
    printf "global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
    printf "frontend fe\n    bind 127.0.0.1:%d\n    default_backend b0\n", port
    for (i = 0; i < n; i++) printf "    use_backend b%d if { hdr(host) -i h%d }\n", i, i
    for (i = 0; i < n; i++) {
      p = 20000 + i % 40000
      printf "backend b%d\n    cookie SRV insert indirect nocache\n    server s1 127.0.0.1:%d cookie a\n    server s2 127.0.0.2:%d cookie b\n", i, p, p
    }
  }'
}

# cpu CMD...: user+system seconds of the command and its children.
cpu() { /usr/bin/time -f '%U %S' -o "$tmp/t" "$@" >/dev/null 2>&1 || true; awk '{ printf "%.2f", $1 + $2 }' "$tmp/t"; }

# startup BIN ARGS...: CPU seconds spent until the bind port accepts.
startup() {
  local port=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  for ((i = 0; i < 6000; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.01
  done
  local ticks
  ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

gen "$SMALL" 18081 >"$tmp/s.cfg"
gen "$LARGE" 18082 >"$tmp/l.cfg"
gen "$REF" 18083 >"$tmp/r.cfg"
s=$(cpu "$tmp/gohap" check -f "$tmp/s.cfg")
l=$(cpu "$tmp/gohap" check -f "$tmp/l.cfg")
echo "gohap check: $SMALL backends ${s}s, $LARGE backends ${l}s, growth x$(awk -v a="$s" -v b="$l" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }') (x$(awk -v a="$SMALL" -v b="$LARGE" 'BEGIN { print b / a }') is linear)"
h=$(cpu "$HAP" -c -f "$tmp/r.cfg")
g=$(cpu "$tmp/gohap" check -f "$tmp/r.cfg")
echo "check at $REF backends: haproxy -c ${h}s, gohap check ${g}s, ratio $(awk -v a="$h" -v b="$g" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
hs=$(startup 18083 "$HAP" -db -f "$tmp/r.cfg")
gs=$(startup 18083 "$tmp/gohap" -db -f "$tmp/r.cfg")
echo "start-up at $REF backends: haproxy ${hs}s, gohap ${gs}s, ratio $(awk -v a="$hs" -v b="$gs" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
