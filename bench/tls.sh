#!/usr/bin/env bash
# TLS and HTTP/2 termination, gohap against HAProxy 2.6 in the same run,
# repetition by repetition: full TLS handshakes per second (one request
# per connection, Connection: close) on an RSA 2048 and on an ECDSA P-256
# certificate, HTTP/2 requests per second over TLS with h2load -c 20
# -m 10 (both proxies up and loaded back to back, with the share of the
# load's core left idle: h2_load_idle), and with -c 100 -m 10 (a
# thousand streams at once), and the
# RSS an idle TLS connection adds (IDLE connections that
# each served one request), then an idle HTTP/2 one (one stream each, on
# a new process warmed by a short h2load run), and requests per second on
# one connection with one request at a time, HTTP/2 (h2load -c 1 -m 1) and
# HTTP/1.1 over TLS (wrk -c 1): the latency of the whole path, where the
# proxy waits between requests. The proxy is pinned alone to PROXY_CPU with
# one thread, the load and bench/upstream to LOAD_CPU. Prints medians,
# the proxy's CPU time per handshake or request, and the gohap/HAProxy
# ratios (median of the per-repetition ratios).
# Environment: REPS (3), DUR seconds (3), IDLE (2000, below maxconn 5000), HAPROXY_BIN,
# PROXY_CPU (0), LOAD_CPU (1). Needs wrk, h2load (nghttp2-client) and
# openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
DUR=${DUR:-3}
IDLE=${IDLE:-2000}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
for c in wrk h2load openssl; do
  command -v "$c" >/dev/null || { echo "$c not found (apt-get install -y wrk nghttp2-client openssl)" >&2; exit 1; }
done
source bench/lib.sh
go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
go build -o "$tmp/tlshold" ./bench/tlshold
UP=127.0.0.1:18941 RSA=127.0.0.1:18942 EC=127.0.0.1:18943
tls_setup
# The same frontends on other ports, for gohap beside HAProxy.
EC2=127.0.0.1:18948
sed -e "s/${RSA#*:}/18947/" -e "s/${EC#*:}/${EC2#*:}/" "$tmp/proxy.cfg" >"$tmp/proxy2.cfg"
hz=$(getconf CLK_TCK)
per() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }'; }

declare -A M # M[metric,proxy,rep]
metrics=(rsa_hs_s rsa_cpu_us ecdsa_hs_s ecdsa_cpu_us h2_req_s h2_cpu_us h2_load_idle h2_c100_req_s h2_c100_cpu_us h2_c1_req_s tls_c1_req_s idle_kib h2_idle_kib)
# handshakes ADDR -> "handshakes/s cpu-us-per-handshake"
handshakes() {
  local t0 t1 n
  t0=$(cpu_ticks "$PID")
  taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${DUR}s" -H "Connection: close" "https://$1/" >"$tmp/wrk.out" 2>&1
  t1=$(cpu_ticks "$PID")
  n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
  if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.out"; then echo "warning: $(grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out")" >&2; fi
  echo "$(awk -v n="$n" -v d="$DUR" 'BEGIN { printf "%.0f", n / d }') $(per $((t1 - t0)) "$n")"
}
# h2_rate H2LOAD-ARGS... -> "requests/s cpu-us-per-request load-idle-%"
# of an h2load run of DUR seconds against the ECDSA bind. The share of
# LOAD_CPU left idle says which side set the pace: near 0, h2load and the
# upstream (and then their cost per request, which the proxy's batching
# moves); well above, the proxy.
h2_rate() {
  local t0 t1 n i0 a0 i1 a1
  t0=$(cpu_ticks "$PID")
  read -r i0 a0 < <(jiffies "$LOAD_CPU")
  taskset -c "$LOAD_CPU" h2load "$@" -D "$DUR" "https://${H2_ADDR:-$EC}/" >"$tmp/h2.out" 2>&1 || true
  t1=$(cpu_ticks "$PID")
  read -r i1 a1 < <(jiffies "$LOAD_CPU")
  n=$(awk '/^requests:/ {print $8}' "$tmp/h2.out")
  echo "$(awk -v n="${n:-0}" -v d="$DUR" 'BEGIN { printf "%.0f", n / d }') $(per $((t1 - t0)) "${n:-0}")" \
    "$(awk -v i=$((i1 - i0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.1f", (a > 0 ? 100 * i / a : 0) }')"
}
# start_proxy NAME BIN [CFG ADDR] starts a proxy pinned to PROXY_CPU, as
# PID, on $tmp/proxy.cfg (whose ECDSA frontend is on EC) or CFG (on ADDR).
start_proxy() {
  local addr=${4:-$EC}
  taskset -c "$PROXY_CPU" "$2" -db -f "${3:-$tmp/proxy.cfg}" >"$tmp/$1.log" 2>&1 &
  PID=$!
  pids+=("$PID")
  for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break; sleep 0.02; done
  kill -0 "$PID" 2>/dev/null || { cat "$tmp/$1.log" >&2; exit 1; }
}
# idle_growth [-h2] -> KiB of RSS per idle connection that tlshold holds
# open, after one request (one stream with -h2) each.
# Both readings are taken at rest, two seconds after the last traffic: a
# gohap that went quiet has handed the garbage of the load back by then
# (quietGC), as HAProxy frees a connection's memory when it ends.
idle_growth() {
  local before after opened hold
  sleep 2
  before=$(rss_kib "$PID")
  taskset -c "$LOAD_CPU" "$tmp/tlshold" "$@" -addr "$EC" -n "$IDLE" >"$tmp/hold.out" 2>&1 &
  hold=$!
  for _ in $(seq 1 1200); do grep -q ready "$tmp/hold.out" 2>/dev/null && break; sleep 0.1; done
  sleep 2
  after=$(rss_kib "$PID")
  opened=$(awk '/ready/ {print $2}' "$tmp/hold.out")
  kill "$hold" 2>/dev/null || true
  wait "$hold" 2>/dev/null || true
  awk -v a="$after" -v b="$before" -v n="${opened:-0}" 'BEGIN { printf "%.2f", (n > 0 ? (a - b) / n : 0) }'
}
for ((r = 1; r <= REPS; r++)); do
  # HTTP/2, -c 20 -m 10: both proxies up, loaded back to back, the order
  # swapped each repetition (the machine's speed drifts within a minute;
  # the idle proxy takes no CPU).
  start_proxy haproxy "$HAP"
  hpid=$PID
  start_proxy gohap "$tmp/gohap" "$tmp/proxy2.cfg" "$EC2"
  gpid=$PID
  taskset -c "$LOAD_CPU" h2load -c 20 -m 10 -D 1 "https://$EC/" >/dev/null 2>&1 || true
  taskset -c "$LOAD_CPU" h2load -c 20 -m 10 -D 1 "https://$EC2/" >/dev/null 2>&1 || true
  if ((r % 2)); then order=(haproxy gohap); else order=(gohap haproxy); fi
  for p in "${order[@]}"; do
    if [ "$p" = haproxy ]; then PID=$hpid H2_ADDR=$EC; else PID=$gpid H2_ADDR=$EC2; fi
    read -r M[h2_req_s,$p,$r] M[h2_cpu_us,$p,$r] M[h2_load_idle,$p,$r] < <(h2_rate -c 20 -m 10)
  done
  H2_ADDR=
  kill "$hpid" "$gpid" 2>/dev/null || true
  wait "$hpid" "$gpid" 2>/dev/null || true
  for p in haproxy gohap; do
    if [ "$p" = haproxy ]; then bin=$HAP; else bin=$tmp/gohap; fi
    start_proxy "$p" "$bin"
    taskset -c "$LOAD_CPU" wrk -t1 -c64 -d1s -H "Connection: close" "https://$EC/" >/dev/null 2>&1 || true # warm-up
    read -r M[rsa_hs_s,$p,$r] M[rsa_cpu_us,$p,$r] < <(handshakes "$RSA")
    read -r M[ecdsa_hs_s,$p,$r] M[ecdsa_cpu_us,$p,$r] < <(handshakes "$EC")
    # The HTTP/2 load again, unmeasured: the idle figures below have
    # always been taken after it (a process that served it has memory to
    # reuse, one that did not grows more per connection).
    taskset -c "$LOAD_CPU" h2load -c 20 -m 10 -D "$DUR" "https://$EC/" >/dev/null 2>&1 || true
    # Idle TLS connections: RSS growth per connection once all are open.
    M[idle_kib,$p,$r]=$(idle_growth)
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    # Idle HTTP/2 connections, each after one stream, on a new process
    # warmed by a short h2load run.
    start_proxy "$p" "$bin"
    taskset -c "$LOAD_CPU" h2load -c 20 -m 10 -D 1 "https://$EC/" >/dev/null 2>&1 || true
    M[h2_idle_kib,$p,$r]=$(idle_growth -h2)
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    # One request at a time, on a new process after a short warm-up
    # (the idle figures above depend on what ran before them, and these
    # on the thousands of connections those left).
    start_proxy "$p" "$bin"
    taskset -c "$LOAD_CPU" h2load -c 20 -m 10 -D 1 "https://$EC/" >/dev/null 2>&1 || true
    read -r M[h2_c1_req_s,$p,$r] _ < <(h2_rate -c 1 -m 1)
    taskset -c "$LOAD_CPU" wrk -t1 -c1 -d"${DUR}s" "https://$EC/" >"$tmp/wrk.out" 2>&1 || true
    n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
    M[tls_c1_req_s,$p,$r]=$(awk -v n="${n:-0}" -v d="$DUR" 'BEGIN { printf "%.0f", n / d }')
    # A thousand streams at once (last: its thousands of workers and
    # buffers would weigh on the figures above), after a warm-up.
    taskset -c "$LOAD_CPU" h2load -c 100 -m 10 -D 1 "https://$EC/" >/dev/null 2>&1 || true
    read -r M[h2_c100_req_s,$p,$r] M[h2_c100_cpu_us,$p,$r] _ < <(h2_rate -c 100 -m 10)
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  done
  echo "repetition $r/$REPS done" >&2
done
report
