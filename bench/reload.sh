#!/usr/bin/env bash
# Reload cost with long-lived WebSockets: gohap against HAProxy 2.6, both
# in master-worker mode (-W), in the same run.
#
# bench/wsreload opens TUNNELS WebSockets in RELOADS batches, one batch per
# configuration generation, and reloads the proxy (SIGUSR2 to the master)
# between batches, so that every generation holds tunnels, as when a
# deployment reloads while clients come and go. It reports the time from
# SIGUSR2 until the new configuration answers (each SIGUSR2 waits until the
# master CLI answers: HAProxy's re-executed master loses one sent earlier), whether every tunnel still
# echoes, then the process count and the RSS and PSS sums of the proxy's
# process tree; again once the tunnels are closed.
#
# HAProxy keeps an old worker per generation that still holds a tunnel;
# gohap (gohap-reload in-process, the default) keeps one worker and the
# old graphs inside it. GOHAP_RELOAD=new-worker measures gohap with
# HAProxy's way.
#
# Environment: TUNNELS (9000), RELOADS (100), HAPROXY_BIN, GOHAP_RELOAD.
# A proxy holds two descriptors per tunnel: where the hard limit of open
# files is 20000 (containers without CAP_SYS_RESOURCE), 9000 tunnels is
# what fits.
set -euo pipefail
cd "$(dirname "$0")/.."
TUNNELS=${TUNNELS:-9000}
RELOADS=${RELOADS:-100}
HAP=${HAPROXY_BIN:-$(command -v haproxy || true)}
BIND=127.0.0.1:18950 WS=127.0.0.1:18952

source bench/lib.sh
# Two descriptors per tunnel in the proxy, one in the client and the upstream.
ulimit -n $((TUNNELS * 4 + 10000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

go build -o "$tmp/gohap" ./cmd/gohap
go build -o "$tmp/upstream" ./bench/upstream
go build -o "$tmp/wsreload" ./bench/wsreload
"$tmp/upstream" -http 127.0.0.1:18951 -ws "$WS" &
pids+=($!)
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/${WS%:*}/${WS#*:}") 2>/dev/null && break; sleep 0.05; done

template() {
  cat <<CFG
global
    maxconn $((TUNNELS + 500))
    $1
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend fe
    bind $BIND
    http-request return status 200 content-type text/plain string "gen GEN" if { path /gen }
    default_backend be
backend be
    server ws $WS
CFG
}

measure() { # label binary global-line
  local label=$1 bin=$2
  template "$3" > "$tmp/$label.tmpl"
  sed 's/GEN/0/' "$tmp/$label.tmpl" > "$tmp/$label.cfg"
  "$bin" -W -S "$tmp/$label.sock" -f "$tmp/$label.cfg" >"$tmp/$label.log" 2>&1 &
  local master=$!
  pids+=($master)
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/${BIND%:*}/${BIND#*:}") 2>/dev/null && break; sleep 0.05; done
  "$tmp/wsreload" -addr "$BIND" -master "$master" -template "$tmp/$label.tmpl" -cfg "$tmp/$label.cfg" -mcli "$tmp/$label.sock" \
    -n "$TUNNELS" -reloads "$RELOADS" -label "$label" || { cat "$tmp/$label.log"; }
  kill -TERM "$master" 2>/dev/null || true
  wait "$master" 2>/dev/null || true
  echo "$label: $(grep -c 'Loading success' "$tmp/$label.log") loadings, $(grep -c 'Worker (.*) reloaded in process' "$tmp/$label.log") in process, $(grep -c 'New worker' "$tmp/$label.log") workers started"
  grep -E 'could not reload|Reloading with a new worker|in-process reload|Loading failure' "$tmp/$label.log" | sort | uniq -c | head -5 || true
}

[ -n "${SKIP_GOHAP:-}" ] || measure gohap "$tmp/gohap" "${GOHAP_RELOAD:+gohap-reload $GOHAP_RELOAD}"
if [ -n "${SKIP_HAPROXY:-}" ]; then
  :
elif [ -x "$HAP" ]; then
  measure haproxy "$HAP" ""
else
  echo "haproxy not found (set HAPROXY_BIN): gohap only"
fi
