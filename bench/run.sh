#!/usr/bin/env bash
# Side-by-side benchmark of gohap and HAProxy 2.6 on the same machine, in
# the same run: they alternate repetition by repetition, and the report
# gives medians and the median of the per-repetition ratios gohap/HAProxy.
#
# The proxy under test is pinned alone to one core (PROXY_CPU); the load
# generator and the upstream share the other (LOAD_CPU), so that neither
# steals cycles from the proxy and its CPU time is its own.
#
# Environment: REPS (5), DUR seconds per load run (3), TUNNELS (9000),
# PROXY_CPU (0), LOAD_CPU (1), HAPROXY_BIN, SKIP_CHECK=1 to skip the
# configuration-check timing, SKIP_HOSTS=1 to skip the 10k host rules
# routing case (bench/hosts.sh), QUICK=1 to run only the 64-connection (plain, logged, rules)
# keep-alive and the chunked scenarios, CLOSE=1 to run only the
# Connection: close scenario (req/s, p99, CPU and syscalls per request),
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

export BENCH_BIND=127.0.0.1:18900 BENCH_HTTP=127.0.0.1:18901 BENCH_WS=127.0.0.1:18902
export BENCH_BODY_BIND=127.0.0.1:18903 BENCH_BODY=127.0.0.1:18904
export BENCH_LOG_BIND=127.0.0.1:18905 BENCH_SYSLOG=127.0.0.1:18906 BENCH_RULES_BIND=127.0.0.1:18907
for a in "$BENCH_BIND" "$BENCH_HTTP" "$BENCH_WS" "$BENCH_BODY_BIND" "$BENCH_BODY" "$BENCH_LOG_BIND" "$BENCH_RULES_BIND"; do
  if (exec 3<>"/dev/tcp/${a%:*}/${a#*:}") 2>/dev/null; then
    echo "$a is already in use: stop what listens there first" >&2
    exit 1
  fi
done
"${pin_load[@]}" "$tmp/upstream" -http "$BENCH_HTTP" -ws "$BENCH_WS" -body "$BENCH_BODY" -syslog "$BENCH_SYSLOG" &
pids+=($!)

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  return 1
}
wait_port "$BENCH_HTTP"
wait_port "$BENCH_BODY"

start_proxy() { # name -> sets PID
  case $1 in
    haproxy) "${pin_proxy[@]}" "$HAP" -db -f bench/proxy.cfg >"$tmp/$1.log" 2>&1 & ;;
    gohap) "${pin_proxy[@]}" "$tmp/gohap" run -f bench/proxy.cfg >"$tmp/$1.log" 2>&1 & ;;
  esac
  PID=$!
  pids+=("$PID")
  wait_port "$BENCH_BIND"
  wait_port "$BENCH_BODY_BIND"
  wait_port "$BENCH_LOG_BIND"
  wait_port "$BENCH_RULES_BIND"
  kill -0 "$PID" 2>/dev/null || { cat "$tmp/$1.log" >&2; exit 1; }
}
stop_proxy() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/18900") 2>/dev/null || return 0; sleep 0.05; done
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
metrics=(ka64_rps ka256_rps close_rps close_p99_us close_cpu_100k close_sysc_req p50_us p99_us cpu_ms_100k log_rps log_cpu_100k rules_rps rules_cpu_100k syscalls_req rss_kib_tunnel)
ck_modes=(up down mix)
for m in "${ck_modes[@]}"; do metrics+=("ck_${m}_rps" "ck_${m}_cpu_100k" "ck_${m}_sysc_req"); done

# cpu_per_100k TICKS REQS -> proxy CPU milliseconds per 100,000 requests
cpu_per_100k() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1000 / n * 100000 : 0) }'; }

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
chunked_runs() { # proxy rep
  local m t0 t1 reqs rps
  for m in "${ck_modes[@]}"; do
    t0=$(cpu_ticks "$PID")
    read -r reqs rps _ _ < <(CHUNKED=$m URL="http://$BENCH_BODY_BIND/" wrk_run 64 -s bench/chunked.lua)
    t1=$(cpu_ticks "$PID")
    M[ck_${m}_rps,$1,$2]=$rps
    M[ck_${m}_cpu_100k,$1,$2]=$(cpu_per_100k $((t1 - t0)) "$reqs")
    if grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out" >"$tmp/wrk.err"; then
      echo "warning: $1 ck_$m: $(tr '\n' ' ' <"$tmp/wrk.err")" >&2
    fi
  done
}

# close_runs PROXY REP: 64 connections, each request on a new client and
# server connection.
close_runs() {
  local t0 t1 reqs rps p99
  t0=$(cpu_ticks "$PID")
  read -r reqs rps _ p99 < <(wrk_run 64 -H "Connection: close")
  t1=$(cpu_ticks "$PID")
  M[close_rps,$1,$2]=$rps; M[close_p99_us,$1,$2]=$p99
  M[close_cpu_100k,$1,$2]=$(cpu_per_100k $((t1 - t0)) "$reqs")
  if command -v strace >/dev/null && [ "$UNPINNED" != 1 ]; then
    M[close_sysc_req,$1,$2]=$(syscalls_per_req 64 -H "Connection: close")
  fi
}

for ((r = 1; r <= REPS; r++)); do
  for p in haproxy gohap; do
    start_proxy "$p"
    if [ "${CLOSE:-0}" = 1 ]; then
      wrk_run 64 -H "Connection: close" >/dev/null # warm-up
      close_runs "$p" "$r"
      stop_proxy
      continue
    fi
    wrk_run 64 >/dev/null # warm-up
    if [ "$UNPINNED" = 1 ]; then
      t0=$(cpu_ticks "$PID")
      read -r reqs rps p50 p99 < <(wrk_run 64)
      t1=$(cpu_ticks "$PID")
      M[ka64_rps,$p,$r]=$rps; M[p50_us,$p,$r]=$p50; M[p99_us,$p,$r]=$p99
      M[cpu_ms_100k,$p,$r]=$(cpu_per_100k $((t1 - t0)) "$reqs")
      close_runs "$p" "$r"
      stop_proxy
      continue
    fi
    t0=$(cpu_ticks "$PID")
    read -r reqs rps p50 p99 < <(wrk_run 64)
    t1=$(cpu_ticks "$PID")
    M[ka64_rps,$p,$r]=$rps; M[p50_us,$p,$r]=$p50; M[p99_us,$p,$r]=$p99
    M[cpu_ms_100k,$p,$r]=$(cpu_per_100k $((t1 - t0)) "$reqs")
    # The same requests with an httplog line each to the syslog sink.
    t0=$(cpu_ticks "$PID")
    read -r reqs rps _ _ < <(URL="http://$BENCH_LOG_BIND/api/items?id=42" wrk_run 64)
    t1=$(cpu_ticks "$PID")
    M[log_rps,$p,$r]=$rps
    M[log_cpu_100k,$p,$r]=$(cpu_per_100k $((t1 - t0)) "$reqs")
    # The same requests through 10 set-header rules, 2 redirects, a map.
    t0=$(cpu_ticks "$PID")
    read -r reqs rps _ _ < <(URL="http://$BENCH_RULES_BIND/api/items?id=42" wrk_run 64)
    t1=$(cpu_ticks "$PID")
    M[rules_rps,$p,$r]=$rps
    M[rules_cpu_100k,$p,$r]=$(cpu_per_100k $((t1 - t0)) "$reqs")
    if [ "${QUICK:-0}" = 1 ]; then
      chunked_runs "$p" "$r"
      stop_proxy
      continue
    fi
    read -r _ rps _ _ < <(wrk_run 256)
    M[ka256_rps,$p,$r]=$rps
    close_runs "$p" "$r"
    chunked_runs "$p" "$r"
    if command -v strace >/dev/null; then
      M[syscalls_req,$p,$r]=$(syscalls_per_req 64)
      for m in "${ck_modes[@]}"; do
        M[ck_${m}_sysc_req,$p,$r]=$(CHUNKED=$m URL="http://$BENCH_BODY_BIND/" syscalls_per_req 64 -s bench/chunked.lua)
      done
    fi
    # Idle WebSocket tunnels: RSS growth per tunnel once all are open.
    sleep 0.5
    before=$(rss_kib "$PID")
    "${pin_load[@]}" "$tmp/wshold" -addr "$BENCH_BIND" -n "$TUNNELS" >"$tmp/wshold.out" 2>&1 &
    hold=$!
    pids+=("$hold")
    for _ in $(seq 1 1200); do grep -q ready "$tmp/wshold.out" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    after=$(rss_kib "$PID")
    opened=$(awk '/ready/ {print $2}' "$tmp/wshold.out")
    M[rss_kib_tunnel,$p,$r]=$(awk -v a="$after" -v b="$before" -v n="${opened:-0}" 'BEGIN { printf "%.2f", (n > 0 ? (a - b) / n : 0) }')
    kill "$hold" 2>/dev/null || true
    wait "$hold" 2>/dev/null || true
    stop_proxy
  done
  echo "repetition $r/$REPS done" >&2
done

report
if [ "${SKIP_CHECK:-0}" != 1 ] && [ "${QUICK:-0}" != 1 ] && [ "${CLOSE:-0}" != 1 ] && [ "$UNPINNED" != 1 ]; then
  HAPROXY_BIN="$HAP" REPS="$REPS" bash cmd/gohap/testdata/bench-check.sh | tail -3
fi
if [ "${SKIP_HOSTS:-0}" != 1 ] && [ "${QUICK:-0}" != 1 ] && [ "${CLOSE:-0}" != 1 ] && [ "$UNPINNED" != 1 ]; then
  HAPROXY_BIN="$HAP" REPS="$REPS" DUR="$DUR" bash bench/hosts.sh
fi
