#!/usr/bin/env bash
# Routing cost per request with many host rules, gohap against HAProxy
# 2.6 in the same run. The frontend has N 'use_backend bN if { hdr(host)
# -i hN }' rules (N = 10 and HOSTS, default 10000); wrk sends keep-alive
# requests for the last host, the worst case for rules walked in order.
# It prints each proxy's CPU time (user+system, /proc/PID/stat) per
# request. Environment: HOSTS, DUR seconds (3), REPS (3), HAPROXY_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${HOSTS:-10000}
DUR=${DUR:-3}
REPS=${REPS:-3}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }
source bench/lib.sh
go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
UP=127.0.0.1:18921 BIND=127.0.0.1:18920
"$tmp/upstream" -http "$UP" -ws 127.0.0.1:18922 >/dev/null 2>&1 &
pids+=($!)

gen() {
  awk -v n="$1" -v bind="$BIND" -v up="$UP" 'BEGIN {
    printf "global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
    printf "frontend fe\n    bind %s\n    default_backend b0\n", bind
    for (i = 0; i < n; i++) printf "    use_backend b%d if { hdr(host) -i h%d }\n", i, i
    for (i = 0; i < n; i++) printf "backend b%d\n    server s %s\n", i, up
  }'
}

# measure BIN-KIND CFG N -> CPU microseconds per request
measure() {
  local kind=$1 cfg=$2 n=$3 pid
  if [ "$kind" = haproxy ]; then "$HAP" -db -f "$cfg" >/dev/null 2>&1 & else "$tmp/gohap" -db -f "$cfg" >/dev/null 2>&1 & fi
  pid=$!
  for ((i = 0; i < 3000; i++)); do (exec 3<>"/dev/tcp/${BIND%:*}/${BIND#*:}") 2>/dev/null && break; sleep 0.01; done
  wrk -t1 -c64 -d1s -H "Host: h$((n - 1))" "http://$BIND/" >/dev/null 2>&1
  local t0 t1 reqs
  t0=$(cpu_ticks "$pid")
  wrk -t1 -c64 -d"${DUR}s" -H "Host: h$((n - 1))" "http://$BIND/" >"$tmp/wrk.out" 2>&1
  t1=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
  if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.out"; then echo "warning: $kind $n: $(grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out")" >&2; fi
  awk -v t=$((t1 - t0)) -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz * 1e6 / r }'
}

med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for n in 10 "$HOSTS"; do
  gen "$n" >"$tmp/h$n.cfg"
  g=(); h=()
  for ((r = 0; r < REPS; r++)); do
    h+=("$(measure haproxy "$tmp/h$n.cfg" "$n")")
    g+=("$(measure gohap "$tmp/h$n.cfg" "$n")")
  done
  hm=$(med "${h[@]}"); gm=$(med "${g[@]}")
  echo "$n host rules: CPU per request haproxy ${hm} us, gohap ${gm} us, ratio $(awk -v a="$hm" -v b="$gm" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
done
