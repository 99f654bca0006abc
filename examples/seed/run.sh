#!/usr/bin/env bash
# Runs the seed configuration, unchanged, with its demo upstreams on
# loopback. Port 80 needs root, so the frontend is mapped to PORT (8000)
# and the config's upstreams 127.0.0.1:8080 and targetserver:7777 to
# WWW_PORT (8080) and WS_PORT (7777) on 127.0.0.1 (see --map in the
# README). Extra arguments go to gohap.
#   PORT=9000 WWW_PORT=9080 WS_PORT=9777 bash examples/seed/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8000}
WWW_PORT=${WWW_PORT:-8080}
WS_PORT=${WS_PORT:-7777}
bin="$(mktemp -d)"
go build -o "$bin/gohap" ./cmd/gohap
go build -o "$bin/demo" ./examples/demo
"$bin/demo" -www "127.0.0.1:$WWW_PORT" -socket "127.0.0.1:$WS_PORT" &
demo=$!
trap 'kill $demo 2>/dev/null; rm -rf "$bin"' EXIT
cat >&2 <<MSG
gohap serves examples/seed/haproxy.cfg on 127.0.0.1:$PORT; try:
  curl -i http://127.0.0.1:$PORT/
  curl -i -H 'Host: ws.example' http://127.0.0.1:$PORT/
  curl -i -N -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' http://127.0.0.1:$PORT/
MSG
"$bin/gohap" -f examples/seed/haproxy.cfg --map "0.0.0.0:80=127.0.0.1:$PORT" \
  --map "127.0.0.1:8080=127.0.0.1:$WWW_PORT" --map "targetserver:7777=127.0.0.1:$WS_PORT" "$@"
