#!/usr/bin/env bash
# Cost per request of TLS to servers, gohap against HAProxy 2.6 in the
# same run: wrk sends keep-alive requests to the proxy under test, whose
# backend has "server ... ssl verify none" (http-reuse safe: one kept TLS
# connection per client connection); a HAProxy TLS terminator in front of
# bench/upstream is the server for both. Prints req/s and the proxy's CPU
# time (user+system, /proc/PID/stat) per request, median of REPS runs, and
# the gohap/HAProxy ratio. Environment: DUR seconds (3), REPS (3),
# HAPROXY_BIN, PROXY_CPU (0), LOAD_CPU (1).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-3}
REPS=${REPS:-3}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
source bench/lib.sh
go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
UP=127.0.0.1:18931 TLS=127.0.0.1:18933 BIND=127.0.0.1:18930
self_signed ec "$tmp/up.pem" upstream.test
taskset -c "$LOAD_CPU" "$tmp/upstream" -http "$UP" -ws 127.0.0.1:18932 >/dev/null 2>&1 &
pids+=($!)
cat >"$tmp/term.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tls
    bind $TLS ssl crt $tmp/up.pem
    default_backend up
backend up
    server s $UP
CFG
taskset -c "$LOAD_CPU" "$HAP" -db -f "$tmp/term.cfg" >/dev/null 2>&1 &
pids+=($!)
cat >"$tmp/proxy.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse safe
frontend fe
    bind $BIND
    default_backend b
backend b
    server s $TLS ssl verify none
CFG

# measure KIND -> "req/s cpu-us-per-request"
measure() {
  local kind=$1 pid
  if [ "$kind" = haproxy ]; then
    taskset -c "$PROXY_CPU" "$HAP" -db -f "$tmp/proxy.cfg" >/dev/null 2>&1 &
  else
    taskset -c "$PROXY_CPU" "$tmp/gohap" -db -f "$tmp/proxy.cfg" >/dev/null 2>&1 &
  fi
  pid=$!
  for ((i = 0; i < 3000; i++)); do (exec 3<>"/dev/tcp/${BIND%:*}/${BIND#*:}") 2>/dev/null && break; sleep 0.01; done
  taskset -c "$LOAD_CPU" wrk -t1 -c64 -d1s "http://$BIND/" >/dev/null 2>&1
  local t0 t1 reqs
  t0=$(cpu_ticks "$pid")
  taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${DUR}s" "http://$BIND/" >"$tmp/wrk.out" 2>&1
  t1=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
  if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.out"; then echo "warning: $kind: $(grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out")" >&2; fi
  awk -v t=$((t1 - t0)) -v r="$reqs" -v d="$DUR" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f %.2f", r / d, t / hz * 1e6 / r }'
}

med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
hr=(); hc=(); gr=(); gc=(); ratio=()
for ((rep = 0; rep < REPS; rep++)); do
  read -r r c <<<"$(measure haproxy)"; hr+=("$r"); hc+=("$c")
  read -r r2 c2 <<<"$(measure gohap)"; gr+=("$r2"); gc+=("$c2")
  ratio+=("$(awk -v a="$c2" -v b="$c" 'BEGIN { printf "%.2f", a / b }')")
done
printf '%-8s %10s %14s\n' proxy req/s cpu_us_req
printf '%-8s %10s %14s\n' haproxy "$(med "${hr[@]}")" "$(med "${hc[@]}")"
printf '%-8s %10s %14s\n' gohap "$(med "${gr[@]}")" "$(med "${gc[@]}")"
echo "cpu per request, gohap/haproxy (median of per-run ratios): $(med "${ratio[@]}")"
