#!/usr/bin/env bash
# Times 'gohap check' against 'haproxy -c' on the same generated
# configuration (N backends, default 10000), alternating the two, and prints
# the median wall time of each and their ratio. Loopback only; no servers
# are contacted.
set -euo pipefail
N=${N:-10000}
REPS=${REPS:-5}
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gohap" ./cmd/gohap
cfg="$tmp/gen.cfg"
{
  printf 'global\n    maxconn 100000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
  printf 'frontend fe\n    bind 127.0.0.1:18080\n    default_backend be0\n'
  for ((i = 0; i < N; i++)); do printf '    acl host%d hdr(host) -i h%d.example.com\n    use_backend be%d if host%d\n' $i $i $i $i; done
  for ((i = 0; i < N; i++)); do
    p=$((20000 + i % 40000))
    printf 'backend be%d\n    balance roundrobin\n    option forwardfor\n    server s1 127.0.0.1:%d weight 1 maxconn 100 check\n    server s2 127.0.0.2:%d weight 2 check inter 2s rise 2 fall 3\n' $i $p $p
  done
} > "$cfg"
hap=${HAPROXY_BIN:-haproxy}
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
g=(); h=()
for ((r = 0; r < REPS; r++)); do
  h+=("$(ms "$hap" -c -f "$cfg")")
  g+=("$(ms "$tmp/gohap" check --haproxy-compat -f "$cfg")")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
hm=$(med "${h[@]}"); gm=$(med "${g[@]}")
echo "config: $N backends, $(wc -l < "$cfg") lines"
echo "haproxy -c  : ${hm} ms (runs: ${h[*]})"
echo "gohap check : ${gm} ms (runs: ${g[*]})"
awk -v g="$gm" -v h="$hm" 'BEGIN { printf "ratio gohap/haproxy: %.2f\n", (h > 0 ? g / h : 0) }'
