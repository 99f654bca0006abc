#!/usr/bin/env bash
# Runs the seed configuration, unchanged, with its demo upstreams on
# loopback. Port 80 needs root, so the frontend is mapped to 8000 and the
# host name targetserver to 127.0.0.1 (see --map in the README).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(mktemp -d)"
go build -o "$bin/gohap" ./cmd/gohap
go build -o "$bin/demo" ./examples/demo
"$bin/demo" &
demo=$!
trap 'kill $demo 2>/dev/null; rm -rf "$bin"' EXIT
echo "try: curl -i http://127.0.0.1:8000/   and   curl -i -H 'Host: ws.example' http://127.0.0.1:8000/" >&2
"$bin/gohap" -f examples/seed/haproxy.cfg --map 0.0.0.0:80=127.0.0.1:8000 --map targetserver=127.0.0.1 "$@"
