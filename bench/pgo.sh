#!/usr/bin/env bash
# Records the CPU profile the compiler optimises gohap for
# (cmd/gohap/default.pgo, which go build uses by itself): gohap built with
# -tags pgoprofile serves, one process per load, the bench's loads:
# keep-alive, Connection: close, the rules frontend, logged requests,
# chunked bodies both ways, HTTP/2 over TLS (h2load -c 20 -m 10) and TLS
# handshakes in close mode; the profiles are merged into default.pgo.
# Regenerate it when the hot path changes. The proxy is pinned to
# PROXY_CPU, the load and bench/upstream to LOAD_CPU.
# Environment: DUR seconds per load (5), PROXY_CPU (0), LOAD_CPU (1).
# Needs wrk, h2load (nghttp2-client) and openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-5}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
for c in wrk h2load openssl; do
  command -v "$c" >/dev/null || { echo "$c not found (apt-get install -y wrk nghttp2-client openssl)" >&2; exit 1; }
done
source bench/lib.sh
go build -tags pgoprofile -pgo=off -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
export BENCH_BIND=127.0.0.1:18920 BENCH_BODY_BIND=127.0.0.1:18923 BENCH_LOG_BIND=127.0.0.1:18925 BENCH_RULES_BIND=127.0.0.1:18927
export BENCH_REUSE=safe BENCH_HTTP=127.0.0.1:18921 BENCH_WS=127.0.0.1:18922 BENCH_BODY=127.0.0.1:18924 BENCH_SYSLOG=127.0.0.1:18926
TLS=127.0.0.1:18928
self_signed ec "$tmp/ecdsa.pem" bench.test
taskset -c "$LOAD_CPU" "$tmp/upstream" -http "$BENCH_HTTP" -ws "$BENCH_WS" -body "$BENCH_BODY" -syslog "$BENCH_SYSLOG" >/dev/null 2>&1 &
pids+=($!)
# bench/proxy.cfg with one thread, and a TLS frontend.
{ sed 's/^global$/global\n    nbthread 1/' bench/proxy.cfg
  printf 'frontend tls\n    bind %s ssl crt %s alpn h2,http/1.1\n    default_backend be_http\n' "$TLS" "$tmp/ecdsa.pem"
} >"$tmp/proxy.cfg"
wait_port "$BENCH_HTTP"
# profile NAME LOAD...: one gohap process profiled for DUR seconds under
# LOAD, which starts a second before and ends a second after.
profile() {
  local name=$1; shift
  GOHAP_CPUPROFILE="$tmp/$name.pprof" GOHAP_CPUPROFILE_WAIT=1s GOHAP_CPUPROFILE_FOR="${DUR}s" \
    taskset -c "$PROXY_CPU" "$tmp/gohap" -db -f "$tmp/proxy.cfg" >"$tmp/$name.log" 2>&1 &
  local p=$!
  wait_port "$BENCH_BIND"
  wait_port "$TLS"
  taskset -c "$LOAD_CPU" "$@" >"$tmp/$name.out" 2>&1
  sleep 0.5
  kill "$p"
  wait "$p" 2>/dev/null || true
  [ -s "$tmp/$name.pprof" ] || { echo "no profile for $name" >&2; cat "$tmp/$name.log" >&2; exit 1; }
  echo "$name: $(grep -hE 'Requests/sec|^finished in' "$tmp/$name.out" | tr -s ' ')"
}
d=$((DUR + 2))
profile ka wrk -t1 -c64 -d${d}s "http://$BENCH_BIND/api/items?id=42"
profile close wrk -t1 -c64 -d${d}s -H 'Connection: close' "http://$BENCH_BIND/api/items?id=42"
profile rules wrk -t1 -c64 -d${d}s -H 'Host: h1' "http://$BENCH_RULES_BIND/"
profile log wrk -t1 -c64 -d${d}s "http://$BENCH_LOG_BIND/api/items?id=42"
for m in up down mix; do
  CHUNKED=$m profile "chunked_$m" wrk -t1 -c64 -d${d}s -s bench/chunked.lua "http://$BENCH_BODY_BIND/"
done
profile h2 h2load -c 20 -m 10 -D $d "https://$TLS/"
profile tls_close wrk -t1 -c64 -d${d}s -H 'Connection: close' "https://$TLS/"
go tool pprof -proto "$tmp"/*.pprof >cmd/gohap/default.pgo 2>/dev/null
echo "cmd/gohap/default.pgo: $(wc -c <cmd/gohap/default.pgo) bytes"
