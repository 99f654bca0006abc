#!/usr/bin/env bash
# Configuration-size scaling of 'gohap check' and start-up against HAProxy
# 2.6. The generated configuration has N backends, each with a cookie and
# two servers, and one frontend with a 'use_backend bN if { hdr(host) -i
# hN }' rule per backend. It prints the CPU time (user+system) of:
#   gohap check at SMALL and LARGE backends, and their ratio (4 is linear);
#   haproxy -c and gohap check at REF backends, and their ratio;
#   start-up to a listening socket at REF backends, both proxies, and
#   their resident memory (VmRSS) once they serve, 3 seconds later;
#   and for a frontend of RULES rules (set-header with log formats, deny
#   and use_backend with inline ACL patterns, path_reg regexes, named
#   ACLs): haproxy -c and gohap check, and each proxy's resident memory.
# Environment: SMALL (2000), LARGE (8000), REF (10000), RULES (20000),
# HAPROXY_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${SMALL:-2000}
LARGE=${LARGE:-8000}
REF=${REF:-10000}
RULES=${RULES:-20000}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
[ -x "$HAP" ] || { echo "haproxy not found (set HAPROXY_BIN)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gohap" ./cmd/gohap

gen() { # gen N PORT > file
  awk -v n="$1" -v port="$2" 'BEGIN {
    printf "global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
    printf "frontend fe\n    bind 127.0.0.1:%d\n    default_backend b0\n", port
    for (i = 0; i < n; i++) printf "    use_backend b%d if { hdr(host) -i h%d }\n", i, i
    for (i = 0; i < n; i++) {
      p = 20000 + i % 40000
      printf "backend b%d\n    cookie SRV insert indirect nocache\n    server s1 127.0.0.1:%d cookie a\n    server s2 127.0.0.2:%d cookie b\n", i, p, p
    }
  }'
}

# cpu CMD...: user+system seconds of the command and its children.
cpu() { /usr/bin/time -f '%U %S' -o "$tmp/t" "$@" >/dev/null 2>&1 || true; awk '{ printf "%.2f", $1 + $2 }' "$tmp/t"; }

# waitport PORT: until 127.0.0.1:PORT accepts, at most 60 seconds.
waitport() {
  for ((i = 0; i < 6000; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.01
  done
}

# startup PORT CMD...: CPU seconds spent until the bind port accepts.
startup() {
  local port=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  waitport "$port"
  local ticks
  ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

gen "$SMALL" 18081 >"$tmp/s.cfg"
gen "$LARGE" 18082 >"$tmp/l.cfg"
gen "$REF" 18083 >"$tmp/r.cfg"
s=$(cpu "$tmp/gohap" check -f "$tmp/s.cfg")
l=$(cpu "$tmp/gohap" check -f "$tmp/l.cfg")
echo "gohap check: $SMALL backends ${s}s, $LARGE backends ${l}s, growth x$(awk -v a="$s" -v b="$l" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }') (x$(awk -v a="$SMALL" -v b="$LARGE" 'BEGIN { print b / a }') is linear)"
# rss PORT CMD...: VmRSS in MiB of CMD 3 seconds after PORT accepts.
rss() {
  local port=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  waitport "$port"
  sleep 3
  local kb
  kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }'
}

# ratio A B: B/A with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }'; }

# checks WHAT CFG: haproxy -c against gohap check on CFG.
checks() {
  local h g
  h=$(cpu "$HAP" -c -f "$2")
  g=$(cpu "$tmp/gohap" check -f "$2")
  echo "check at $1: haproxy -c ${h}s, gohap check ${g}s, ratio $(ratio "$h" "$g")"
}

checks "$REF backends" "$tmp/r.cfg"
hs=$(startup 18083 "$HAP" -db -f "$tmp/r.cfg")
gs=$(startup 18083 "$tmp/gohap" -db -f "$tmp/r.cfg")
echo "start-up at $REF backends: haproxy ${hs}s, gohap ${gs}s, ratio $(ratio "$hs" "$gs")"
hm=$(rss 18083 "$HAP" -db -f "$tmp/r.cfg")
gm=$(rss 18083 "$tmp/gohap" -db -f "$tmp/r.cfg")
echo "serving RSS at $REF backends: haproxy ${hm} MiB, gohap ${gm} MiB, ratio $(ratio "$hm" "$gm")"

genrules() { # genrules N PORT > file
  awk -v n="$1" -v port="$2" 'BEGIN {
    printf "global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"
    printf "frontend fe\n    bind 127.0.0.1:%d\n", port
    for (i = 0; i < n; i++) {
      k = i % 5
      if (k == 0) printf "    http-request set-header X-H%d %%[req.hdr(host),lower] if { path_beg /p%d }\n", i, i
      else if (k == 1) printf "    acl a%d hdr(host) -i h%d.example.com\n", i, i
      else if (k == 2) printf "    http-request deny if a%d { src 10.%d.0.0/16 }\n", i - 1, i % 250
      else if (k == 3) printf "    use_backend b%d if { path_reg ^/x%d/.*$ }\n", i % 20, i
      else printf "    http-response set-header X-R%d %%[res.hdr(server)]-%%[var(txn.x)] if { status %d }\n", i, 200 + i % 300
    }
    printf "    default_backend b0\n"
    for (b = 0; b < 20; b++) printf "backend b%d\n    server s1 127.0.0.1:%d\n", b, 19000 + b
  }'
}


genrules "$RULES" 18084 >"$tmp/rules.cfg"
checks "$RULES rules" "$tmp/rules.cfg"
hm=$(rss 18084 "$HAP" -db -f "$tmp/rules.cfg")
gm=$(rss 18084 "$tmp/gohap" -db -f "$tmp/rules.cfg")
echo "serving RSS at $RULES rules: haproxy ${hm} MiB, gohap ${gm} MiB, ratio $(ratio "$hm" "$gm")"
