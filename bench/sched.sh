#!/usr/bin/env bash
# Where an unpinned run loses to HAProxy: the machine's cores shared by
# the proxy, wrk and bench/upstream, nothing pinned. Three setups serve
# bench/proxy.cfg side by side, loaded one after the other (the order
# rotated each repetition) with wrk, one thread per core, 64 connections:
#   haproxy  HAProxy with its default one thread per core;
#   gohap    one gohap process, GOMAXPROCS at the core count;
#   split    one gohap process per core, GOMAXPROCS=1 each, sharing the
#            ports (SO_REUSEPORT): the same work with the Go scheduler's
#            Ps kept apart, as HAProxy keeps its threads' connections.
# For each: req/s, wrk's p99, the proxy's CPU (every process of it), the
# share of the machine left idle and the CPU everything else spent, per
# 100,000 requests (medians). Then an execution trace of one second of
# each gohap setup under the same load (a build with -tags pgoprofile):
# how long a goroutine that became runnable (its socket ready) waited
# for a P, how many Ps ran on average, how many goroutines waited, and
# how often a P sat idle while some waited.
# Environment: REPS (3), DUR seconds (5), MODE (ka, or close for
# Connection: close), HAPROXY_BIN. Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
DUR=${DUR:-5}
MODE=${MODE:-ka}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }
source bench/lib.sh
go build -tags pgoprofile -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
CORES=$(nproc)
hz=$(getconf CLK_TCK)
export BENCH_REUSE=safe BENCH_HTTP=127.0.0.1:18951 BENCH_WS=127.0.0.1:18952 BENCH_BODY=127.0.0.1:18954 BENCH_SYSLOG=127.0.0.1:18956
"$tmp/upstream" -http "$BENCH_HTTP" -ws "$BENCH_WS" -body "$BENCH_BODY" -syslog "$BENCH_SYSLOG" >/dev/null 2>&1 &
pids+=($!)
wait_port "$BENCH_HTTP"
wrk_args=()
[ "$MODE" = close ] && wrk_args=(-H "Connection: close")

declare -A PORT=([haproxy]=18960 [gohap]=18970 [split]=18980 [trace]=18990)
declare -A PIDS
# start SETUP [env...]: one process of SETUP on its ports, PIDS[SETUP]
# gathers the pids.
start() {
  local name=$1 b=${PORT[$1]}
  shift
  export BENCH_BIND=127.0.0.1:$b BENCH_BODY_BIND=127.0.0.1:$((b + 3)) BENCH_LOG_BIND=127.0.0.1:$((b + 5)) BENCH_RULES_BIND=127.0.0.1:$((b + 7))
  if [ "$name" = haproxy ]; then
    "$HAP" -db -f bench/proxy.cfg >"$tmp/$name.log" 2>&1 &
  else
    env "$@" "$tmp/gohap" run -f bench/proxy.cfg >>"$tmp/$name.log" 2>&1 &
  fi
  pids+=($!)
  PIDS[$name]="${PIDS[$name]:-} $!"
  wait_port "$BENCH_BIND"
}
start haproxy
start gohap
for ((i = 0; i < CORES; i++)); do start split GOMAXPROCS=1; done
sleep 0.5 # the port listened already: the later processes bind meanwhile

ticks_of() { local s=0 p; for p in $1; do s=$((s + $(cpu_ticks "$p"))); done; echo "$s"; }
us() { awk '{ v = $1; if (v ~ /us$/) v += 0; else if (v ~ /ms$/) v *= 1000; else if (v ~ /s$/) v *= 1000000; printf "%.0f", v }'; }

declare -A M # M[metric,setup,rep]
setups=(haproxy gohap split)
metrics=(rps p99_us proxy_cpu_100k idle_pct rest_cpu_100k)
# load SETUP REP: one wrk run against SETUP.
load() {
  local t0 t1 i0 a0 i1 a1 reqs rps p99
  t0=$(ticks_of "${PIDS[$1]}")
  read -r i0 a0 < <(jiffies)
  wrk -t"$CORES" -c64 -d"${DUR}s" --latency "${wrk_args[@]}" "http://127.0.0.1:${PORT[$1]}/api/items?id=42" >"$tmp/wrk.out" 2>&1
  t1=$(ticks_of "${PIDS[$1]}")
  read -r i1 a1 < <(jiffies)
  reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
  rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$tmp/wrk.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out" | us)
  M[rps,$1,$2]=$rps M[p99_us,$1,$2]=$p99
  read -r "M[proxy_cpu_100k,$1,$2]" "M[idle_pct,$1,$2]" "M[rest_cpu_100k,$1,$2]" < <(
    awk -v p=$((t1 - t0)) -v i=$((i1 - i0)) -v a=$((a1 - a0)) -v n="$reqs" -v hz="$hz" 'BEGIN {
      ms = 1000 / hz * 100000 / n
      printf "%.0f %.1f %.0f\n", p * ms, 100 * i / a, (a - i - p) * ms }')
}
for s in "${setups[@]}"; do wrk -t"$CORES" -c64 -d1s "${wrk_args[@]}" "http://127.0.0.1:${PORT[$s]}/api/items?id=42" >/dev/null 2>&1; done
for ((r = 1; r <= REPS; r++)); do
  for ((k = 0; k < ${#setups[@]}; k++)); do load "${setups[$(((k + r) % ${#setups[@]}))]}" "$r"; done
  echo "repetition $r/$REPS done" >&2
done

echo "unpinned, $CORES cores, wrk -t$CORES -c64, MODE=$MODE, medians of $REPS runs of ${DUR}s"
printf '%-16s %10s %10s %10s\n' metric "${setups[@]}"
for m in "${metrics[@]}"; do
  printf '%-16s' "$m"
  for s in "${setups[@]}"; do
    printf ' %10s' "$(for ((r = 1; r <= REPS; r++)); do echo "${M[$m,$s,$r]}"; done | median)"
  done
  echo
done

# trace SETUP ENV...: a fresh process of the setup traced for a second
# in the middle of a 4-second load.
trace() {
  local name=$1 f=$tmp/$1.trace
  shift
  PIDS[trace]=""
  start trace GOHAP_TRACE="$f" GOHAP_TRACE_WAIT=2s GOHAP_TRACE_FOR=1s "$@"
  if [ "$name" = split ]; then
    for ((i = 1; i < CORES; i++)); do start trace GOMAXPROCS=1; done
  fi
  sleep 0.5
  # The trace runs from 2 s to 3 s into the load.
  wrk -t"$CORES" -c64 -d4s "${wrk_args[@]}" "http://127.0.0.1:${PORT[trace]}/api/items?id=42" >/dev/null 2>&1
  kill ${PIDS[trace]} 2>/dev/null || true
  wait ${PIDS[trace]} 2>/dev/null || true
  [ -s "$f" ] || { echo "no trace from $name" >&2; return 1; }
  read -r wakes procs nprocs waiting gap < <(go tool trace -d=parsed "$f" 2>/dev/null | awk -v DELAYS="$tmp/delays" -f bench/schedstat.awk)
  read -r p50 p90 p99 < <(sort -n "$tmp/delays" | awk '{ a[NR] = $1 } END { printf "%.0f %.0f %.0f\n", a[int(NR * .5) + 1], a[int(NR * .9) + 1], a[int(NR * .99) + 1] }')
  printf '%-7s %9s %8s %8s %8s %10s %14s %12s\n' "$name" "$wakes" "$p50" "$p90" "$p99" "$procs/$nprocs" "$waiting" "$gap%"
}
echo
echo "one second traced (for split, one of its processes)"
printf '%-7s %9s %8s %8s %8s %10s %14s %12s\n' setup "wakes/s" "wait p50" "p90" "p99 us" "Ps running" "goroutines" "P idle, G waits"
trace gohap
trace split GOMAXPROCS=1
