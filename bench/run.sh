#!/usr/bin/env bash
# Side-by-side benchmark of gohap and HAProxy 2.6 on the same machine, in
# the same run: both run at once on their own ports, each load run goes to
# one then the other back to back (the order swaps every repetition), and
# the report gives medians and the median of the per-repetition ratios
# gohap/HAProxy.
#
# The proxy under test is pinned to one core (PROXY_CPU), where the other,
# idle, takes nothing; the load generator and the upstream share the other
# core (LOAD_CPU), so that neither steals cycles from the proxy and its CPU
# time is its own.
#
# Environment: REPS (5), DUR seconds per load run (3), TUNNELS (9000),
# PROXY_CPU (0), LOAD_CPU (1), HAPROXY_BIN, SKIP_CHECK=1 to skip the
# configuration-check timing, SKIP_HOSTS=1 to skip the 10k host rules
# routing case (bench/hosts.sh), QUICK=1 to run only the 64-connection (plain, logged, rules)
# keep-alive and the chunked scenarios, CLOSE=1 to run only the
# Connection: close scenario (req/s, p99, CPU and syscalls per request),
# REUSE=1 to make the backend's http-reuse always (with CLOSE=1: each
# client's request may take a server connection another one left),
# UNPINNED=1 to run keep-alive and close with nothing pinned: gohap with
# GOMAXPROCS at the core count, HAProxy with its default one thread per
# core, wrk with one thread per core (req/s, p50/p99, CPU per request).
# TLS=1 runs bench/tls.sh instead (TLS handshakes, HTTP/2 over TLS, idle
# TLS connections).
# Needs wrk; strace for syscall counts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TLS:-0}" = 1 ]; then
  exec bash bench/tls.sh
fi
REPS=${REPS:-5}
DUR=${DUR:-3}
TUNNELS=${TUNNELS:-9000}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
UNPINNED=${UNPINNED:-0}
if [ "$UNPINNED" = 1 ]; then
  pin_proxy=() pin_load=()
  WRK_THREADS=$(nproc)
else
  pin_proxy=(taskset -c "$PROXY_CPU") pin_load=(taskset -c "$LOAD_CPU")
  WRK_THREADS=1
fi
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }

source bench/lib.sh

go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
go build -o "$tmp/wshold" ./bench/wshold

BENCH_REUSE=safe
if [ "${REUSE:-0}" = 1 ]; then BENCH_REUSE=always; fi
export BENCH_REUSE
export BENCH_HTTP=127.0.0.1:18901 BENCH_WS=127.0.0.1:18902 BENCH_BODY=127.0.0.1:18904 BENCH_SYSLOG=127.0.0.1:18906
# Each proxy's frontends: HAProxy's on 189x0, gohap's on 189x0 + 10.
declare -A PORTBASE=([haproxy]=18900 [gohap]=18910)
for a in 127.0.0.1:{18900,18901,18902,18903,18904,18905,18906,18907,18910,18913,18915,18917}; do
  if (exec 3<>"/dev/tcp/${a%:*}/${a#*:}") 2>/dev/null; then
    echo "$a is already in use: stop what listens there first" >&2
    exit 1
  fi
done
"${pin_load[@]}" "$tmp/upstream" -http "$BENCH_HTTP" -ws "$BENCH_WS" -body "$BENCH_BODY" -syslog "$BENCH_SYSLOG" &
pids+=($!)

wait_port "$BENCH_HTTP"
wait_port "$BENCH_BODY"

# use NAME: the proxy the next load runs go to (PID and its frontends'
# BENCH_BIND, BENCH_BODY_BIND, BENCH_LOG_BIND, BENCH_RULES_BIND).
declare -A PIDOF
use() {
  local b=${PORTBASE[$1]}
  PID=${PIDOF[$1]:-}
  BENCH_BIND=127.0.0.1:$b BENCH_BODY_BIND=127.0.0.1:$((b + 3))
  BENCH_LOG_BIND=127.0.0.1:$((b + 5)) BENCH_RULES_BIND=127.0.0.1:$((b + 7))
}
start_proxy() { # name -> PIDOF[name]
  use "$1"
  export BENCH_BIND BENCH_BODY_BIND BENCH_LOG_BIND BENCH_RULES_BIND
  case $1 in
    haproxy) "${pin_proxy[@]}" "$HAP" -db -f bench/proxy.cfg >"$tmp/$1.log" 2>&1 & ;;
    gohap) "${pin_proxy[@]}" "$tmp/gohap" run -f bench/proxy.cfg >"$tmp/$1.log" 2>&1 & ;;
  esac
  PIDOF[$1]=$!
  pids+=("$!")
  wait_port "$BENCH_BIND"
  wait_port "$BENCH_BODY_BIND"
  wait_port "$BENCH_LOG_BIND"
  wait_port "$BENCH_RULES_BIND"
  kill -0 "${PIDOF[$1]}" 2>/dev/null || { cat "$tmp/$1.log" >&2; exit 1; }
}
stop_proxy() { # name
  use "$1"
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/${BENCH_BIND%:*}/${BENCH_BIND#*:}") 2>/dev/null || return 0; sleep 0.05; done
}
hz=$(getconf CLK_TCK)

# wrk_run CONNS [extra wrk args] -> "reqs req/s p50_us p99_us"; URL
# overrides the target.
wrk_run() {
  local c=$1; shift
  "${pin_load[@]}" wrk -t"$WRK_THREADS" -c"$c" -d"${DUR}s" --latency "$@" "${URL:-http://$BENCH_BIND/api/items?id=42}" >"$tmp/wrk.out" 2>&1
  awk '
    function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1000000; return v }
    /requests in/ { reqs = $1 }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = us($2) }
    $1 == "99%" { p99 = us($2) }
    END { printf "%d %.0f %.0f %.0f\n", reqs, rps, p50, p99 }' "$tmp/wrk.out"
}

declare -A M # M[metric,proxy,rep]
metrics=(ka64_rps ka256_rps close_rps close_p99_us close_cpu_100k close_sysc_req close_idle_pct close_rest_100k p50_us p99_us cpu_ms_100k idle_pct rest_cpu_100k log_rps log_cpu_100k rules_rps rules_cpu_100k syscalls_req rss_kib_tunnel)
ck_modes=(up down mix)
for m in "${ck_modes[@]}"; do metrics+=("ck_${m}_rps" "ck_${m}_cpu_100k" "ck_${m}_sysc_req"); done

# cpu_per_100k TICKS REQS -> proxy CPU milliseconds per 100,000 requests
cpu_per_100k() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1000 / n * 100000 : 0) }'; }

# machine_share "IDLE0 TOTAL0" "IDLE1 TOTAL1" PROXY_TICKS REQS -> the share
# of the machine left idle (%) and the CPU everything but the proxy (wrk,
# the upstream, the kernel's threads) spent, ms per 100,000 requests.
machine_share() {
  local i0 a0 i1 a1
  read -r i0 a0 <<<"$1"; read -r i1 a1 <<<"$2"
  awk -v i=$((i1 - i0)) -v a=$((a1 - a0)) -v p="$3" -v n="$4" -v hz="$hz" \
    'BEGIN { printf "%.1f %.1f\n", (a > 0 ? 100 * i / a : 0), (n > 0 ? (a - i - p) / hz * 1000 / n * 100000 : 0) }'
}

# syscalls_per_req [wrk_run args] -> system calls of the proxy per request,
# counted by strace attached to every thread of the proxy during the run.
syscalls_per_req() {
  local targs=() t spid reqs calls
  for t in /proc/"$PID"/task/*; do targs+=(-p "${t##*/}"); done
  strace -f -c -o "$tmp/strace.out" "${targs[@]}" 2>/dev/null &
  spid=$!
  sleep 0.5
  read -r reqs _ _ _ < <(wrk_run "$@")
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  calls=$(awk '$NF == "total" { print $4 }' "$tmp/strace.out")
  awk -v c="${calls:-0}" -v n="$reqs" 'BEGIN { printf "%.2f", (n > 0 ? c / n : 0) }'
}

# Chunked bodies through fe_body, 64 keep-alive connections each
# (bench/chunked.lua): up = chunked uploads, down = chunked responses,
# mix = plain GET, up and down in turn. Any non-2xx answer (the upstream
# checks every body's length and framing) or socket error is reported.
chunked_run() { # proxy rep, mode in CK_MODE
  local m=$CK_MODE t0 t1 reqs rps
  t0=$(cpu_ticks "$PID")
  read -r reqs rps _ _ < <(CHUNKED=$m URL="http://$BENCH_BODY_BIND/" wrk_run 64 -s bench/chunked.lua)
  t1=$(cpu_ticks "$PID")
  M[ck_${m}_rps,$1,$2]=$rps
  M[ck_${m}_cpu_100k,$1,$2]=$(cpu_per_100k $((t1 - t0)) "$reqs")
  if grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out" >"$tmp/wrk.err"; then
    echo "warning: $1 ck_$m: $(tr '\n' ' ' <"$tmp/wrk.err")" >&2
  fi
}

# close_runs PROXY REP: 64 connections, each request on a new client and
# server connection.
close_runs() {
  local t0 t1 reqs rps p99 s0 s1
  t0=$(cpu_ticks "$PID"); s0=$(jiffies)
  read -r reqs rps _ p99 < <(wrk_run 64 -H "Connection: close")
  t1=$(cpu_ticks "$PID"); s1=$(jiffies)
  M[close_rps,$1,$2]=$rps; M[close_p99_us,$1,$2]=$p99
  M[close_cpu_100k,$1,$2]=$(cpu_per_100k $((t1 - t0)) "$reqs")
  if [ "$UNPINNED" = 1 ]; then
    read -r "M[close_idle_pct,$1,$2]" "M[close_rest_100k,$1,$2]" < <(machine_share "$s0" "$s1" $((t1 - t0)) "$reqs")
  fi
  if command -v strace >/dev/null && [ "$UNPINNED" != 1 ]; then
    M[close_sysc_req,$1,$2]=$(syscalls_per_req 64 -H "Connection: close")
  fi
}

# each RUN: the scenario RUN (a function taking the proxy and the
# repetition) for both proxies back to back, in the repetition's order.
each() {
  local p
  for p in "${order[@]}"; do
    use "$p"
    "$1" "$p" "$r"
  done
}
ka64() {
  local t0 t1 reqs rps p50 p99 s0 s1
  t0=$(cpu_ticks "$PID"); s0=$(jiffies)
  read -r reqs rps p50 p99 < <(wrk_run 64)
  t1=$(cpu_ticks "$PID"); s1=$(jiffies)
  M[ka64_rps,$1,$2]=$rps; M[p50_us,$1,$2]=$p50; M[p99_us,$1,$2]=$p99
  M[cpu_ms_100k,$1,$2]=$(cpu_per_100k $((t1 - t0)) "$reqs")
  if [ "$UNPINNED" = 1 ]; then
    read -r "M[idle_pct,$1,$2]" "M[rest_cpu_100k,$1,$2]" < <(machine_share "$s0" "$s1" $((t1 - t0)) "$reqs")
  fi
}
# logged: the same requests with an httplog line each to the syslog sink;
# rules: through 10 set-header rules, 2 redirects, a map.
logged() { cpu_run log "$1" "$2" "http://$BENCH_LOG_BIND/api/items?id=42"; }
rules() { cpu_run rules "$1" "$2" "http://$BENCH_RULES_BIND/api/items?id=42"; }
cpu_run() { # metric proxy rep url
  local t0 t1 reqs rps
  t0=$(cpu_ticks "$PID")
  read -r reqs rps _ _ < <(URL="$4" wrk_run 64)
  t1=$(cpu_ticks "$PID")
  M[$1_rps,$2,$3]=$rps
  M[$1_cpu_100k,$2,$3]=$(cpu_per_100k $((t1 - t0)) "$reqs")
}
ka256() { local rps; read -r _ rps _ _ < <(wrk_run 256); M[ka256_rps,$1,$2]=$rps; }
syscalls() {
  local m
  M[syscalls_req,$1,$2]=$(syscalls_per_req 64)
  for m in "${ck_modes[@]}"; do
    M[ck_${m}_sysc_req,$1,$2]=$(CHUNKED=$m URL="http://$BENCH_BODY_BIND/" syscalls_per_req 64 -s bench/chunked.lua)
  done
}
# Idle WebSocket tunnels: RSS growth per tunnel once all are open.
tunnels() {
  local before after hold opened
  sleep 0.5
  before=$(rss_kib "$PID")
  "${pin_load[@]}" "$tmp/wshold" -addr "$BENCH_BIND" -n "$TUNNELS" >"$tmp/wshold.out" 2>&1 &
  hold=$!
  pids+=("$hold")
  for _ in $(seq 1 1200); do grep -q ready "$tmp/wshold.out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  after=$(rss_kib "$PID")
  opened=$(awk '/ready/ {print $2}' "$tmp/wshold.out")
  M[rss_kib_tunnel,$1,$2]=$(awk -v a="$after" -v b="$before" -v n="${opened:-0}" 'BEGIN { printf "%.2f", (n > 0 ? (a - b) / n : 0) }')
  kill "$hold" 2>/dev/null || true
  wait "$hold" 2>/dev/null || true
}
warm() { wrk_run 64 >/dev/null; }
warm_close() { wrk_run 64 -H "Connection: close" >/dev/null; }

for ((r = 1; r <= REPS; r++)); do
  if ((r % 2)); then order=(haproxy gohap); else order=(gohap haproxy); fi
  start_proxy haproxy
  start_proxy gohap
  if [ "${CLOSE:-0}" = 1 ]; then
    each warm_close
    each close_runs
  elif [ "$UNPINNED" = 1 ]; then
    each warm
    each ka64
    each close_runs
  else
    each warm
    each ka64
    each logged
    each rules
    if [ "${QUICK:-0}" != 1 ]; then
      each ka256
      each close_runs
    fi
    for m in "${ck_modes[@]}"; do
      CK_MODE=$m each chunked_run
    done
    if [ "${QUICK:-0}" != 1 ]; then
      command -v strace >/dev/null && each syscalls
      each tunnels
    fi
  fi
  stop_proxy haproxy
  stop_proxy gohap
  echo "repetition $r/$REPS done" >&2
done

report
if [ "${SKIP_CHECK:-0}" != 1 ] && [ "${QUICK:-0}" != 1 ] && [ "${CLOSE:-0}" != 1 ] && [ "$UNPINNED" != 1 ]; then
  HAPROXY_BIN="$HAP" REPS="$REPS" bash cmd/gohap/testdata/bench-check.sh | tail -3
fi
if [ "${SKIP_HOSTS:-0}" != 1 ] && [ "${QUICK:-0}" != 1 ] && [ "${CLOSE:-0}" != 1 ] && [ "$UNPINNED" != 1 ]; then
  HAPROXY_BIN="$HAP" REPS="$REPS" DUR="$DUR" bash bench/hosts.sh
fi
