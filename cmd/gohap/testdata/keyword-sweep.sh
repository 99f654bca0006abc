#!/usr/bin/env bash
# Every keyword with odd arguments, side by side with haproxy -c: global
# and proxy keywords, options (with no/default), other sections' lines,
# server and bind options, http-request/response/after-response and tcp
# rule actions,
# each in a one-line configuration, with the
# arguments "", x, 1, "x y", -1, 0, 99999999999 and "1s 2" (fewer for
# some families). Prints each difference and the totals per family.
# Usage: HAPROXY_BIN=/usr/sbin/haproxy bash keyword-sweep.sh [GOHAP_BIN]
# (the default builds ./cmd/gohap). Takes a few minutes.
set -uo pipefail
cd "$(dirname "$0")/../../.."
HAP=${HAPROXY_BIN:-$(command -v haproxy)}
GH=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$GH" ]; then go build -o "$tmp/gohap" ./cmd/gohap || exit 1; GH=$tmp/gohap; fi
norm() { sed -E 's/\(([0-9]+)\)/(PID)/g; s/haproxy version is .*/V/; s/path to executable is .*/P/'; }
n=0 bad=0
one() { # label: compare both on $tmp/t.cfg
  local h g
  h=$(cd "$tmp" && timeout 10 "$HAP" -c -f t.cfg 2>&1 | norm; echo "rc=${PIPESTATUS[0]}")
  g=$(cd "$tmp" && timeout 10 "$GH" -c --haproxy-compat -f t.cfg 2>&1 | norm; echo "rc=${PIPESTATUS[0]}")
  n=$((n + 1))
  if [ "$h" != "$g" ]; then bad=$((bad + 1)); echo "### $1"; diff <(echo "$h") <(echo "$g") | head -12; fi
}
report() { echo "== $1: $n lines, $bad differ"; n=0 bad=0; }
ARGS=("" "x" "1" "x y" "-1" "0" "99999999999" "1s 2")
for kw in busy-polling ca-base chroot close-spread-time cluster-secret cpu-map crt-base daemon default-path description expose-experimental-directives external-check fd-hard-limit gid gohap-reload group h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file h2-workaround-bogus-websocket-clients hard-stop-after httpclient.resolvers.id httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify insecure-fork-wanted insecure-setuid-wanted issuers-chain-path localpeer log log-send-hostname log-tag lua-load lua-load-per-thread lua-prepend-path master-worker max-spread-checks maxcompcpuusage maxcomprate maxconn maxconnrate maxpipes maxsessrate maxsslconn maxsslrate maxzlibmem mworker-max-reloads nbthread no-memory-trimming node noepoll noevports nogetaddrinfo nokqueue nopoll noreuseport nosplice numa-cpu-mapping pidfile pp2-never-send-local presetenv profiling.tasks quiet resetenv server-state-base server-state-file set-dumpable set-var set-var-fmt setenv spread-checks ssl-default-bind-ciphers ssl-default-bind-ciphersuites ssl-default-bind-curves ssl-default-bind-options ssl-default-server-ciphers ssl-default-server-ciphersuites ssl-default-server-options ssl-dh-param-file ssl-load-extra-del-ext ssl-load-extra-files ssl-mode-async ssl-propquery ssl-provider ssl-provider-path ssl-server-verify ssl-skip-self-issued-ca stats strict-limits thread-group thread-groups tune.buffers.limit tune.buffers.reserve tune.bufsize tune.comp.maxlevel tune.fail-alloc tune.fd.edge-triggered tune.h2.header-table-size tune.h2.initial-window-size tune.h2.max-concurrent-streams tune.h2.max-frame-size tune.http.cookielen tune.http.logurilen tune.http.maxhdr tune.idle-pool.shared tune.idletimer tune.listener.multi-queue tune.lua.forced-yield tune.lua.maxmem tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout tune.maxaccept tune.maxpollevents tune.maxrewrite tune.pattern.cache-size tune.peers.max-updates-at-once tune.pipesize tune.pool-high-fd-ratio tune.pool-low-fd-ratio tune.rcvbuf.client tune.rcvbuf.server tune.recv_enough tune.runqueue-depth tune.sched.low-latency tune.sndbuf.client tune.sndbuf.server tune.ssl.cachesize tune.ssl.capture-buffer-size tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param tune.ssl.force-private-cache tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime tune.ssl.maxrecord tune.ssl.ssl-ctx-cache-size tune.vars.check-max-size tune.vars.global-max-size tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size tune.vars.txn-max-size uid ulimit-n unix-bind unsetenv user zero-warning ; do for a in "${ARGS[@]}"; do
  printf 'global\n    %s %s\ndefaults\n    mode http\n' "$kw" "$a" >"$tmp/t.cfg"; one "global: $kw $a"
done; done; report global
for kw in acl backlog balance bind capture clitcpka-cnt clitcpka-idle clitcpka-intvl compression cookie declare default-server default_backend description disabled dispatch dynamic-cookie-key email-alert enabled error-log-format errorfile errorfiles errorloc errorloc302 errorloc303 external-check filter force-persist fullconn hash-balance-factor hash-type http-after-response http-check http-error http-request http-response http-reuse http-send-name-header id ignore-persist load-server-state-from-file log log-format log-format-sd log-tag max-keep-alive-queue max-session-srv-conns maxconn mode monitor monitor-uri option persist rate-limit redirect retries retry-on server server-state-file-name server-template source srvtcpka-cnt srvtcpka-idle srvtcpka-intvl stats stick stick-table tcp-check tcp-request tcp-response timeout unique-id-format unique-id-header use-fcgi-app use-server use_backend usesrc ; do for sec in defaults frontend backend listen; do for a in "" "x" "1" "x y" "-1" "0"; do
  if [ $sec = defaults ]; then printf 'defaults\n    mode http\n    %s %s\n' "$kw" "$a"; else printf 'defaults\n    mode http\n%s p\n    %s %s\n' "$sec" "$kw" "$a"; fi >"$tmp/t.cfg"
  one "$sec: $kw $a"
done; done; done; report proxy
for o in abortonclose accept-invalid-http-request accept-invalid-http-response allbackups checkcache clitcpka contstats disable-h2-upgrade dontlog-normal dontlognull external-check forceclose forwardfor h1-case-adjust-bogus-client h1-case-adjust-bogus-server http-buffer-request http-ignore-probes http-keep-alive http-no-delay http-pretend-keepalive http-restrict-req-hdr-names http-server-close http-use-proxy-header httpchk httpclose httplog httpslog idle-close-on-response independent-streams ldap-check log-health-checks log-separate-errors logasap mysql-check nolinger originalto persist pgsql-check prefer-last-server redis-check redispatch smtpchk socket-stats splice-auto splice-request splice-response spop-check srvtcpka ssl-hello-chk tcp-check tcp-smart-accept tcp-smart-connect tcplog transparent ; do for sec in defaults frontend backend listen; do for mod in "" "no " "default "; do for a in "" "x" "x y"; do
  if [ $sec = defaults ]; then printf 'defaults\n    mode http\n    %soption %s %s\n' "$mod" "$o" "$a"; else printf 'defaults\n    mode http\n    timeout client 1s\n%s p\n    %soption %s %s\n' "$sec" "$mod" "$o" "$a"; fi >"$tmp/t.cfg"
  one "$sec: ${mod}option $o $a"
done; done; done; done; report options
for kw in "timeout client" "timeout server" "timeout connect" "timeout http-request" "timeout http-keep-alive" "timeout queue" "timeout tunnel" "timeout client-fin" "timeout server-fin" "timeout tarpit" "timeout check" "timeout bogus" "stats enable" "stats uri" "stats realm" "stats auth" "stats scope" "stats refresh" "stats hide-version" "stats show-legends" "stats show-node" "stats show-desc" "stats admin" "stats http-request" "stats bogus" "stick on" "stick match" "stick store-request" "stick-table type" "tcp-request connection" "tcp-request content" "tcp-request inspect-delay" "tcp-request session" "tcp-response content" "tcp-response inspect-delay" "http-check expect" "http-check send" "http-check connect" "http-check comment" "http-check disable-on-404" "http-check send-state" "http-check set-var(txn.x)" "compression algo" "compression type" "compression offload" "monitor fail" "errorfile 503" "errorloc 503" "http-error status" "email-alert from" "email-alert level" "hash-type map-based" "hash-type consistent" "balance roundrobin" "balance url_param" "balance hdr(x)" "balance rdp-cookie" "balance uri" "balance random" "balance source"; do
for sec in defaults frontend backend listen; do for a in "" "x" "1" "x y" "-1" "1s 2"; do
  if [ $sec = defaults ]; then printf 'defaults\n    mode http\n    %s %s\n' "$kw" "$a"; else printf 'defaults\n    mode http\n    timeout client 1s\n%s p\n    %s %s\n' "$sec" "$kw" "$a"; fi >"$tmp/t.cfg"
  one "$sec: $kw $a"
done; done; done; report "proxy keywords with a word"
section() { # header keyword...
  local hdr=$1 kw a; shift
  for kw in "$@"; do for a in "" "x" "1" "x y" "-1" "0" "1s 2"; do
    printf '%b\n    %s %s\n' "$hdr" "$kw" "$a" >"$tmp/t.cfg"; one "[$hdr] $kw $a"
  done; done
}
section "peers pp\n    peer p1 127.0.0.1:10000" bind server disabled enabled table shards default-bind default-server log
section "peers pp" peer
section "resolvers r" nameserver parse-resolv-conf accepted_payload_size resolve_retries timeout hold "hold valid" "hold nx" "timeout resolve" "timeout retry"
section "userlist ul" user group "user u password" "user u insecure-password"
section "cache c" total-max-size max-object-size max-age process-vary max-secondary-entries
section "ring rr" description format maxlen size server timeout "timeout connect" "timeout server"
section "mailers m" mailer "timeout mail"
section "http-errors he" errorfile
section "program pg" command user group option "option start-on-reload"
section "fcgi-app fa" docroot index path-info log-stderr set-param pass-header option "option get-values" "option keep-conn" "option mpxs-conns" "option max-reqs" max-reqs
report sections
for o in addr agent-addr agent-check agent-inter agent-port agent-send allow-0rtt alpn backup ca-file check check-alpn check-proto check-send-proxy check-sni check-ssl check-via-socks4 ciphers ciphersuites cookie crl-file crt disabled downinter enabled error-limit fall fastinter force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 id init-addr inter log-proto max-reuse maxconn maxqueue minconn namespace no-agent-check no-backup no-check no-check-send-proxy no-check-ssl no-send-proxy no-send-proxy-v2 no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn no-ssl no-ssl-reuse no-sslv3 no-tfo no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 non-stick npn observe on-error on-marked-down on-marked-up pool-low-conn pool-max-conn pool-purge-delay port proto proxy-v2-options redir resolve-net resolve-opts resolve-prefer resolvers rise send-proxy send-proxy-v2 send-proxy-v2-ssl send-proxy-v2-ssl-cn slowstart sni socks4 source ssl ssl-max-ver ssl-min-ver ssl-reuse stick tcp-ut tfo tls-tickets track usesrc verify verifyhost weight ws ; do for a in "" "x" "0" "-1" "99999999999" "1s"; do
  printf 'defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend b\n    server s 127.0.0.1:1 %s %s\n' "$o" "$a" >"$tmp/t.cfg"
  one "server $o $a"
done; done; report server
for o in accept-netscaler-cip accept-proxy allow-0rtt alpn backlog ca-file ca-ignore-err ca-sign-file ca-sign-pass ca-verify-file ciphers ciphersuites crl-file crt crt-ignore-err crt-list curves defer-accept ecdhe expose-fd force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 generate-certificates gid group id interface level maxconn mode mss name namespace nice no-ca-names no-sslv3 no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 npn prefer-client-ciphers process proto quic-force-retry severity-output shards ssl ssl-max-ver ssl-min-ver strict-sni tcp-ut tfo thread tls-ticket-keys transparent uid user v4v6 v6only verify ; do for a in "" "x" "0" "-1" "99999999999" "1s"; do
  printf 'defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend f\n    bind 127.0.0.1:18555 %s %s\n' "$o" "$a" >"$tmp/t.cfg"
  one "bind $o $a"
done; done; report bind
for kw in http-request http-response http-after-response; do
for act in add-acl add-header allow auth cache-use capture del-acl del-header del-map deny disable-l7-retry do-resolve early-hint normalize-uri redirect reject replace-header replace-path replace-pathq replace-uri replace-value return sc-add-gpc sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 send-spoe-group set-dst set-dst-port set-header set-log-level set-map set-mark set-method set-nice set-path set-pathq set-priority-class set-priority-offset set-query set-src set-src-port set-status set-timeout set-tos set-uri set-var set-var-fmt silent-drop strict-mode tarpit track-sc0 unset-var use-service wait-for-body wait-for-handshake; do
for a in "" "x" "1" "x y" "x y z" "-1" "%[foo]" "%[path,lower(1)]" "if" "x if TRUE" "99999999999"; do
  printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:18999\n    %s %s %s\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n' "$kw" "$act" "$a" >"$tmp/t.cfg"
  one "$kw $act $a"
done; done; done; report "rule actions"
for kw in "tcp-request connection" "tcp-request session" "tcp-request content" "tcp-response content"; do
for act in accept reject close expect-proxy expect-netscaler-cip capture track-sc0 sc-inc-gpc0 sc-inc-gpc sc-set-gpt0 sc-set-gpt set-var set-var-fmt unset-var set-src set-dst set-src-port set-dst-port set-mark set-tos set-nice set-log-level silent-drop do-resolve set-priority-class set-priority-offset send-spoe-group switch-mode use-service lua.x; do
for a in "" "x" "1" "x y" "-1" "%[foo]" "if" "x if TRUE" "99999999999"; do
  printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:18999\n    %s %s %s\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n' "$kw" "$act" "$a" >"$tmp/t.cfg"
  one "$kw $act $a"
done; done; done; report "tcp rule actions"
