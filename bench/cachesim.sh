#!/usr/bin/env bash
# Simulated CPU caches per HTTP/2 request, gohap against HAProxy 2.6: each
# proxy runs under valgrind's callgrind with this machine's L1 and L2
# geometry (the L2 stands as callgrind's last level), serves h2load over
# TLS (H2ARGS, -c 20 -m 10 by default) on an ECDSA certificate, and the
# counters, zeroed after WARM requests, are read after N more. Unlike
# timings, these counts hardly move between runs, so they show where the
# CPU time per request goes when the machine is too noisy to measure a
# few percent: instructions, L1 instruction misses, L1 data read and write
# misses, and L2 data read and write misses (each costs a trip to L3 or
# memory). User-space work only: the kernel is not simulated. The counts
# include the handshakes of h2load's connections (N large makes them
# small). CLOSE=1 measures plain HTTP/1.1 with Connection: close instead
# (wrk, 64 connections, DUR seconds after a 2-second warm-up; a new client
# and server connection per request). Environment: N (20000), WARM
# (2000), H2ARGS, CLOSE, DUR (8), HAPROXY_BIN, PROXY_CPU (0), LOAD_CPU (1),
# KEEP (a directory to keep the callgrind outputs in, for callgrind_annotate;
# their names are then written in full, as a dump after a reset does not
# repeat the names the first part defined), CG_EXTRA (more callgrind
# options, such as --dump-instr=yes for per-instruction counts).
# Needs valgrind, h2load (wrk for CLOSE=1) and openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
CLOSE=${CLOSE:-0}
DUR=${DUR:-8}
WARM=${WARM:-2000}
KEEP=${KEEP:-}
H2ARGS=${H2ARGS:--c 20 -m 10}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
for c in valgrind callgrind_control h2load wrk openssl; do
  command -v "$c" >/dev/null || { echo "$c not found (apt-get install -y valgrind nghttp2-client wrk openssl)" >&2; exit 1; }
done
source bench/lib.sh
go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
UP=127.0.0.1:18941 RSA=127.0.0.1:18942 EC=127.0.0.1:18943
tls_setup
FE=$EC PLAIN=127.0.0.1:18946
cat >>"$tmp/proxy.cfg" <<CFG
frontend plain
    bind $PLAIN
    default_backend up
CFG

# geometry INDEX -> size,ways,line of this CPU's cache INDEX (sysfs, or
# getconf's CPUID reading where a virtual machine has no cache in sysfs;
# a missing associativity is taken as 8).
geometry() {
  local d=/sys/devices/system/cpu/cpu0/cache/index$1 size name ways
  if [ ! -r "$d/size" ]; then
    case $1 in 0) name=LEVEL1_DCACHE ;; 1) name=LEVEL1_ICACHE ;; *) name=LEVEL2_CACHE ;; esac
    ways=$(getconf "${name}_ASSOC" 2>/dev/null | grep -x "[0-9][0-9]*" || true)
    echo "$(getconf "${name}_SIZE"),${ways:-8},$(getconf "${name}_LINESIZE")"
    return
  fi
  size=$(cat "$d/size")
  case $size in *K) size=$((${size%K} * 1024)) ;; *M) size=$((${size%M} * 1048576)) ;; esac
  echo "$size,$(cat "$d/ways_of_associativity"),$(cat "$d/coherency_line_size")"
}
L1D=$(geometry 0) L1I=$(geometry 1) L2=$(geometry 2)

# sim NAME CMD... -> "Ir I1mr D1mr D1mw L2mr L2mw" per request
sim() {
  local name=$1 pid f
  shift
  # cpu.rdtscp=off: valgrind 3.19 cannot decode RDTSCP, which Go's clock
  # uses when the CPU has it (SIGILL at the first reading otherwise).
  GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off taskset -c "$PROXY_CPU" valgrind --tool=callgrind --cache-sim=yes \
    --D1="$L1D" --I1="$L1I" --LL="$L2" ${KEEP:+--compress-strings=no} ${CG_EXTRA:-} --callgrind-out-file="$tmp/cg.$name.%p" "$@" >"$tmp/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/${FE%:*}/${FE#*:}") 2>/dev/null && break; sleep 0.2; done
  local n=$N
  if [ "$CLOSE" = 1 ]; then
    taskset -c "$LOAD_CPU" wrk -t1 -c64 -d2s -H "Connection: close" "http://$PLAIN/" >/dev/null 2>&1
    callgrind_control -z "$pid" >/dev/null 2>&1
    taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${DUR}s" -H "Connection: close" "http://$PLAIN/" >"$tmp/$name.wrk" 2>&1
    callgrind_control -d "$pid" >/dev/null 2>&1
    n=$(awk '/requests in/ { print $1 }' "$tmp/$name.wrk")
    if grep -q 'Non-2xx\|Socket errors' "$tmp/$name.wrk" || [ "${n:-0}" -eq 0 ]; then cat "$tmp/$name.wrk" >&2; exit 1; fi
  else
    taskset -c "$LOAD_CPU" h2load $H2ARGS -n "$WARM" "https://$FE/" >/dev/null 2>&1
    callgrind_control -z "$pid" >/dev/null 2>&1
    taskset -c "$LOAD_CPU" h2load $H2ARGS -n "$N" "https://$FE/" >"$tmp/$name.h2load" 2>&1
    grep -q "succeeded, 0 failed" "$tmp/$name.h2load" || { cat "$tmp/$name.h2load" >&2; exit 1; }
    callgrind_control -d "$pid" >/dev/null 2>&1
  fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  f=$(ls -t "$tmp"/cg."$name".* | head -1)
  if [ -n "$KEEP" ]; then cp "$f" "$KEEP/cg.$name.out"; fi
  # The dump's totals line: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
  awk -v n="$n" '/^totals:/ { printf "%.0f %.1f %.1f %.1f %.1f %.1f\n", $2/n, $5/n, $6/n, $7/n, $9/n, $10/n }' "$f"
}

read -r -a H <<<"$(sim haproxy "$HAP" -db -f "$tmp/proxy.cfg")"
read -r -a G <<<"$(sim gohap "$tmp/gohap" run -f "$tmp/proxy.cfg")"
if [ "$CLOSE" = 1 ]; then
  echo "per request, wrk -c 64 with Connection: close, ${DUR}s; L1d $L1D, L1i $L1I, L2 $L2 (size,ways,line)"
else
  echo "per request, h2load $H2ARGS over TLS, N=$N; L1d $L1D, L1i $L1I, L2 $L2 (size,ways,line)"
fi
printf "%-32s %12s %12s %8s\n" metric haproxy gohap ratio
names=("instructions" "L1 instruction misses" "L1 data read misses" "L1 data write misses" "L2 data read misses" "L2 data write misses")
for i in "${!names[@]}"; do
  printf "%-32s %12s %12s %8s\n" "${names[$i]}" "${H[$i]}" "${G[$i]}" "$(awk -v a="${H[$i]}" -v b="${G[$i]}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else printf "-" }')"
done
