package runtime_test

import (
	"testing"
)

// http-request and http-response rules change requests and answers as
// HAProxy's do: the echo server returns the request head it got, so each
// answer shows what reached the server; status, headers and body must be
// the same through HAProxy and gohap.
func TestHTTPRulesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	const rules = ` acl is_api path_beg /api
 option http-buffer-request
 http-request return status 200 content-type text/plain lf-string "%[req.body] %[req.body_len]" if { path /echo-body }
 timeout tarpit 300ms
 http-request disable-l7-retry if { path /tarpit }
 http-request reject if { path /reject }
 http-request silent-drop if { path /drop }
 http-request tarpit deny_status 429 if { path /tarpit }
 http-request tarpit if { path /tarpit500 }
 http-request auth realm Secret if { path /auth }
 http-request auth if { path /auth2 }
 http-request set-var(txn.host) req.hdr(host)
 http-request set-var-fmt(txn.path) %[path]-x
 http-request unset-var(txn.host) if { path /unset }
 http-request return status 200 content-type text/plain lf-string "%[var(proc.last)] %[var(txn.host)] %[var(txn.path)]" if { path /vars }
 http-request set-var(proc.last) path
 http-request set-header x-var %[var(txn.host)]/%[var(txn.path)]
 http-response set-header x-resvar %[var(txn.path)]
 acl has_x req.hdr(x-test) -m found
 http-request deny if { path /forbidden }
 http-request deny deny_status 429 if { path /slow }
 http-request return status 200 content-type text/plain string "hello\n" hdr x-from rules if { path /hello }
 http-request return status 404 if { path /gone }
 http-request redirect location /new code 301 if { path /old }
 http-request redirect prefix https://example.com drop-query if { path_beg /moved }
 http-request redirect scheme https if { path /secure }
 http-request set-header x-forwarded-proto http
 http-request add-header X-DUP one if { path /dup }
 http-request add-header x-dup two if { path /dup }
 http-request set-header X-DUP three if { path /dup }
 http-request set-header x-client-case w if { path /dup }
 http-request add-header X-GONE 1 if { path /dup }
 http-request del-header x-gone if { path /dup }
 http-request del-header x-never if { path /dup }
 http-request add-header x-added %[path] if is_api
 http-request set-header x-client-hdr %[req.hdr(x-test)] if has_x
 http-request del-header x-secret
 http-request del-header x-drop- -m beg
 http-request replace-header user-agent ^(\w+)/.* \1 if { req.hdr(user-agent) -m found }
 http-request replace-value x-list ^a(.*) A\1
 http-request set-path /v2%[path] if { path_beg /v1 }
 http-request set-query q=1 if { path /query }
 http-request replace-path /old-(.*) /new-\1
 http-request set-method POST if { path /method }
 http-request set-uri /from-uri if { path /uri }
 http-request set-src hdr(x-src) if { req.hdr(x-src) -m found }
 http-request set-header x-pathq %[pathq] if { path_beg /v1 }
 http-response set-header x-resp %[res.hdr(x-server)]
 http-response set-header x-env "%[so_id] %[fe_id] %[be_id] %[nbsrv(be)] %[be_conn(be)] %[srv_is_up(be/s1)] %[stopping] %[connslots(be)]"
 http-response set-header x-srv %[srv_name]/%[srv_id]/%[be_name]/%[fe_name]
 http-response del-header x-body-crc
 http-response add-header x-served by-proxy
 http-response set-status 202 reason Fine if { status 200 } { res.hdr(x-body-len) 0 } { res.hdr(content-length) 58 }
 redirect location /legacy if { path /legacy-redirect }
 http-after-response set-header x-after %[status]
 http-after-response del-header x-body-len
 http-after-response set-status 299 if { status 202 }
`
	reqs := []string{
		"POST /echo-body HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
		"POST /echo-body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"GET /reject HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /drop HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /tarpit HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /tarpit500 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /auth HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /auth2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /forbidden HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /vars HTTP/1.1\r\nHost: h1\r\n\r\n",
		"GET /unset HTTP/1.1\r\nHost: h2\r\n\r\n",
		"GET /vars HTTP/1.1\r\nHost: h3\r\n\r\n",
		"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /gone HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /old HTTP/1.1\r\nHost: a\r\n\r\n",
		// A Content-Length of 0 is no body: the connection stays.
		"GET /old HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		"POST /old HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
		"GET /moved/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /secure HTTP/1.1\r\nHost: www.a.com\r\n\r\n",
		"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Test: v1\r\nX-Secret: s\r\nX-Drop-Me: 1\r\nX-Drop-You: 2\r\nUser-Agent: curl/8.1\r\nX-List: ab, ac,b\r\n\r\n",
		"GET /v1/items?z=2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /ff HTTP/1.1\r\nHost: a\r\nX-Src: 10.1.2.3\r\n\r\n",
		"GET /query?old=1 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /old-page HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /method HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /uri?x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /status HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /legacy-redirect HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /dup HTTP/1.1\r\nHost: a\r\nX-CLIENT-CASE: v\r\nX-GONE: 0\r\n\r\n",
	}
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n option forwardfor\n server s1 %s\n", rules, up.Addr(), reqs)
}
