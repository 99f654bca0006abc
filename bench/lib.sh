# Shared by the bench scripts (sourced): a work directory removed at exit
# with the background processes listed in pids, the proxy's CPU ticks and
# RSS, and the report of a side-by-side run.
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# jiffies [N] -> "idle total": the idle and total jiffies of core N, or of
# the whole machine without N (/proc/stat; iowait counts as idle).
jiffies() { awk -v c="cpu${1:-}" '$1 == c { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
# self_signed rsa|ec FILE CN: a self-signed certificate (RSA 2048 or
# ECDSA P-256) and its key, in one PEM file as "crt" takes it.
self_signed() {
  local key=(-newkey rsa:2048)
  [ "$1" = ec ] && key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  openssl req -x509 "${key[@]}" -nodes -keyout "$2.key" -out "$2.crt" -days 1 -subj "/CN=$3" 2>/dev/null
  cat "$2.crt" "$2.key" >"$2"
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# wait_port ADDR: waits up to 10 s for something to listen on host:port.
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  return 1
}
median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print 0 }'; }

# report: for each name in the metrics array with values in M[metric,
# haproxy|gohap,rep] for rep 1..REPS, the medians, the median of the
# per-repetition ratios gohap/haproxy, and those ratios. Metrics not
# measured are left out.
report() {
  local m r hv gv h g q
  printf '%-16s %12s %12s %10s   %s\n' metric haproxy gohap ratio "per-repetition ratios"
  for m in "${metrics[@]}"; do
    [ -n "${M[$m,haproxy,1]:-}" ] || continue
    h=(); g=(); q=()
    for ((r = 1; r <= REPS; r++)); do
      hv=${M[$m,haproxy,$r]:-0}; gv=${M[$m,gohap,$r]:-0}
      h+=("$hv"); g+=("$gv")
      q+=("$(awk -v g="$gv" -v h="$hv" 'BEGIN { printf "%.2f", (h > 0 ? g / h : 0) }')")
    done
    printf '%-16s %12s %12s %10s   %s\n' "$m" "$(printf '%s\n' "${h[@]}" | median)" "$(printf '%s\n' "${g[@]}" | median)" \
      "$(printf '%s\n' "${q[@]}" | median)" "${q[*]}"
  done
}

# tls_setup: RSA 2048 and ECDSA P-256 certificates, bench/upstream
# ($tmp/upstream) on UP pinned to LOAD_CPU, and $tmp/proxy.cfg: one
# thread, the frontends rsa on RSA and ecdsa on EC (TLS, ALPN h2 and
# http/1.1) in front of it (bench/tls.sh, bench/cachesim.sh).
tls_setup() {
  self_signed rsa "$tmp/rsa.pem" bench.test
  self_signed ec "$tmp/ecdsa.pem" bench.test
  taskset -c "$LOAD_CPU" "$tmp/upstream" -http "$UP" -ws 127.0.0.1:18944 >/dev/null 2>&1 &
  pids+=($!)
  cat >"$tmp/proxy.cfg" <<CFG
global
    nbthread 1
    maxconn 5000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend rsa
    bind $RSA ssl crt $tmp/rsa.pem alpn h2,http/1.1
    default_backend up
frontend ecdsa
    bind $EC ssl crt $tmp/ecdsa.pem alpn h2,http/1.1
    default_backend up
backend up
    server s $UP
CFG
}
