package runtime_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// More rule forms, against HAProxy: early-hint, wait-for-body, tcp-request content rules in an HTTP
// frontend and backend (run per request, before the http-request rules),
// redirect options in any order with ignore-empty, return with lf-file,
// errorfile and errorfiles, and rule-set header values that end in blanks
// (forwarded as set, seen trimmed by fetches), and set-timeout server with
// a time or a sample.
func TestHTTPRulesMoreDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	dir := t.TempDir()
	lf := filepath.Join(dir, "lf.txt")
	ef := filepath.Join(dir, "page.http")
	e503 := filepath.Join(dir, "503.http")
	os.WriteFile(lf, []byte("path=%[path] host=%[req.hdr(host)]\n"), 0o644)
	os.WriteFile(ef, []byte("HTTP/1.1 418 Teapot\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nX-File: 1\r\n\r\ntea\n"), 0o644)
	os.WriteFile(e503, []byte("HTTP/1.1 503 Busy\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nbusy\n"), 0o644)
	up := startEcho(t, "s1")
	rules := ` http-request early-hint Link "</a.css>; rel=preload" if { path /hints }
 http-request early-hint Link "</%[req.hdr(x-js)]>; rel=preload" if { path /hints }
 http-request wait-for-body time 300ms at-least 4 if { path /wfb }
 http-request return status 200 content-type text/plain lf-string "body=%[req.body]" if { path /wfb }
 tcp-request content set-var(txn.tc) req.hdr(x-tc)
 tcp-request content reject if { req.hdr(x-tc) drop }
 tcp-request content set-var-fmt(req.fmt) "%[var(txn.tc)]-fmt"
 http-request set-header x-tc-seen "%[var(txn.tc)]/%[var(req.fmt)]"
 http-request set-var(txn.sp) "str(a b )"
 http-request set-header x-sp "%[var(txn.sp)]"
 http-request set-header x-sp-len "%[req.hdr(x-sp),length]"
 http-request redirect code 301 location %[req.hdr(x-to)] ignore-empty if { path /maybe }
 http-request return content-type text/plain lf-file ` + lf + ` hdr x-h "%[path]" if { path /lf }
 http-request return errorfile ` + ef + ` if { path /ef }
 http-request deny deny_status 503 errorfiles errs if { path /errs }
 http-request deny errorfiles errs if { path /errs403 }
 http-response set-header x-rsp-sp "v "
`
	reqs := []string{
		"GET /hints HTTP/1.1\r\nHost: a\r\nX-Js: b.js\r\n\r\n",
		"GET /hints HTTP/1.0\r\nHost: a\r\n\r\n",
		"POST /wfb HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /wfb HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhel",
		"POST /wfb HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhell",
		"GET /a HTTP/1.1\r\nHost: a\r\nX-Tc: one\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /maybe HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /maybe HTTP/1.1\r\nHost: a\r\nX-To: /there\r\n\r\n",
		"GET /lf HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /ef HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /errs HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /errs403 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: a\r\nX-Tc: drop\r\n\r\n",
		"GET /sleep/800 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /sleep/700 HTTP/1.1\r\nHost: a\r\nX-Tmo: 200\r\n\r\n",
		"GET /sleep/100 HTTP/1.1\r\nHost: a\r\nX-Tmo: 2000\r\n\r\n",
	}
	compareRules(t, "http-errors errs\n errorfile 503 "+e503+"\n"+baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n tcp-request content set-var(txn.betc) str(be)\n http-request set-timeout server 300ms if { path /sleep/800 }\n http-request set-timeout server req.hdr(x-tmo) if { req.hdr(x-tmo) -m found }\n http-request set-header x-be-tc %%[var(txn.betc)]\n server s1 %s\n", rules, up.Addr(), reqs)
}

// compareRules runs reqs, each on its own connection, through HAProxy
// then gohap, with cfgFmt filled with the frontend's address, the rules
// and the server's address, and compares the answers.
func compareRules(t *testing.T, cfgFmt, rules, server string, reqs []string) {
	t.Helper()
	compareRulesN(t, cfgFmt, rules, server, reqs, []string{"GET"})
}

// compareRulesN is compareRules reading one answer per method listed.
func compareRulesN(t *testing.T, cfgFmt, rules, server string, reqs, methods []string) {
	t.Helper()
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmtCfg(cfgFmt, fe, rules, server), fe)
		var out []string
		for _, raw := range reqs {
			got, _ := exchange(t, fe, raw, methods, 3*time.Second)
			out = append(out, strings.SplitN(raw, "\r\n", 2)[0]+" => "+got)
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := sameLines(t, ref, got)
	t.Logf("rules: %d of %d answers agree with haproxy", agree, len(ref))
}

// Rules of a named defaults section run before the proxy's own (an allow
// there ends them), and capture rules fill their slots: declared by a
// rule's len, by "declare capture", or named by id.
func TestDefaultsRulesAndCapturesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	defs := strings.Replace(baseDefaults, "defaults", "defaults base", 1) + ` http-request capture req.hdr(host) len 4
 http-request capture req.hdr(x-one) len 32
 http-request set-header x-def-fe %[fe_name]
 http-request allow if { path /allow }
 http-response set-header x-def-rsp %[var(txn.v)]
 http-after-response set-header x-def-after 1
`
	rules := ` declare capture request len 8
 declare capture response len 16
 http-request capture req.hdr(x-two) id 2
 http-request set-var(txn.v) str(own)
 http-request deny if { path /allow }
 http-request return status 200 hdr x-c0 "%[capture.req.hdr(0)]" hdr x-c1 "%[capture.req.hdr(1)]" hdr x-c2 "%[capture.req.hdr(2)]" if { path /caps }
 http-response capture res.hdr(x-server) id 0
 http-response set-header x-rc "%[capture.res.hdr(0)]"
`
	reqs := []string{
		"GET /caps HTTP/1.1\r\nHost: longhost\r\nX-One: 1\r\nX-Two: two-is-longer-than-8\r\n\r\n",
		"GET /allow HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
	}
	bk := strings.Replace(baseDefaults, "defaults", "defaults bk", 1)
	cfg := strings.ReplaceAll(defs+bk, "%", "%%") + "frontend fe from base\n bind %s\n%s default_backend be\nbackend be from bk\n server s1 %s\n"
	compareRules(t, cfg, rules, up.Addr(), reqs)
}

// add-acl, del-acl, set-map and del-map change the patterns that the
// configuration loaded from a file, for the requests that follow.
func TestPatternActionsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	dir := t.TempDir()
	lst := filepath.Join(dir, "block.lst")
	mp := filepath.Join(dir, "users.map")
	os.WriteFile(lst, []byte("evil\n"), 0o644)
	os.WriteFile(mp, []byte("alice admin\n"), 0o644)
	up := startEcho(t, "s1")
	rules := ` http-request add-acl(` + lst + `) %[req.hdr(x-add)] if { req.hdr(x-add) -m found }
 http-request del-acl(` + lst + `) %[req.hdr(x-del)] if { req.hdr(x-del) -m found }
 http-request set-map(` + mp + `) %[req.hdr(x-user)] %[req.hdr(x-role)] if { req.hdr(x-role) -m found }
 http-request del-map(` + mp + `) %[req.hdr(x-user)] if { path /forget }
 http-request deny if { req.hdr(x-who) -f ` + lst + ` }
 http-request return status 200 content-type text/plain lf-string "role=%[req.hdr(x-user),map(` + mp + `,none)]" if { path /role }
`
	reqs := []string{
		"GET /role HTTP/1.1\r\nHost: a\r\nX-User: alice\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Who: evil\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Who: bob\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Add: bob\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Add: bob\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Who: bob\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Del: bob\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nX-Who: bob\r\n\r\n",
		"GET /role HTTP/1.1\r\nHost: a\r\nX-User: bob\r\nX-Role: ops\r\n\r\n",
		"GET /role HTTP/1.1\r\nHost: a\r\nX-User: alice\r\nX-Role: guest\r\n\r\n",
		"GET /forget HTTP/1.1\r\nHost: a\r\nX-User: bob\r\n\r\n",
		"GET /role HTTP/1.1\r\nHost: a\r\nX-User: bob\r\n\r\n",
	}
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), reqs)
}

// The map, ACL and header actions take their words whatever they are:
// "set-map(f) if TRUE" sets the key "if" to "TRUE" on every request,
// "set-header x-a if" the header x-a to "if".
func TestPatternActionRawWordsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	mp := filepath.Join(t.TempDir(), "words.map")
	os.WriteFile(mp, []byte("alice admin\n"), 0o644)
	up := startEcho(t, "s1")
	rules := ` http-request set-map(` + mp + `) if TRUE
 http-request del-map(` + mp + `) unless
 http-request set-header x-a if
 http-request set-nice if
 http-request return status 200 content-type text/plain lf-string "if=%[str(if),map(` + mp + `,none)] unless=%[str(unless),map(` + mp + `,none)] x-a=%[req.hdr(x-a)]" if { path /show }
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET /show HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /show HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// option http-restrict-req-hdr-names: header names with a character
// other than letters, digits and '-' are deleted, or refused with 403,
// after the http-request rules; the frontend's option then the backend's.
func TestRestrictHeaderNamesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the option")
	}
	up := startEcho(t, "s1")
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: a\r\nX_One: 1\r\nX-Two: 2\r\nX.Three: 3\r\nX-Four: 4\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: a\r\nX_A_B: 1\r\nX-Next: 2\r\nX-After: 3\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: a\r\nX-Plain: 1\r\n\r\n",
	}
	for _, c := range []struct{ fe, be string }{{"delete", "preserve"}, {"preserve", "reject"}, {"reject", "delete"}} {
		t.Run(c.fe+"/"+c.be, func(t *testing.T) {
			compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n option http-restrict-req-hdr-names "+c.be+"\n server s1 %s\n",
				" option http-restrict-req-hdr-names "+c.fe+"\n http-request set-header x-seen %[req.hdr_cnt(x_one)]\n", up.Addr(), reqs)
		})
	}
}

// normalize-uri rewrites the target as HAProxy's normalizers do (a strict
// one refuses a bad percent sequence with 400), and option
// accept-invalid-http-request lets through what HAProxy's lax parser
// does: bytes above 0x7f and '#' in the target, odd header names, a Host
// that differs from the authority.
func TestNormalizeURIAcceptInvalidDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the normalizers")
	}
	up := startEcho(t, "s1")
	rules := ` option accept-invalid-http-request
 http-request normalize-uri path-merge-slashes
 http-request normalize-uri path-strip-dotdot full
 http-request normalize-uri percent-to-uppercase
 http-request normalize-uri percent-decode-unreserved strict if { path_beg /strict }
 http-request normalize-uri query-sort-by-name
 http-request normalize-uri fragment-encode if { path_beg /enc }
 http-request normalize-uri fragment-strip
`
	compareRules(t, "global\n expose-experimental-directives\n"+baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET //a/./b/../c//d?z=1&a=2&m=%7e HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /strict/%41%2x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /strict/%41%7A HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /enc/x#frag#more HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /x#frag HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /h HTTP/1.1\r\nHost: a\r\nX[odd]: 1\r\n\r\n",
		"GET http://b/h HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// Rewrites must fit in HAProxy's buffer with the body it holds: in strict
// mode (each rule set's start) one that does not is answered 500, after
// strict-mode off it is skipped.
func TestStrictModeDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for strict-mode")
	}
	up := startEcho(t, "s1")
	long := strings.Repeat("0123456789", 6)
	rules := ` option http-buffer-request
 http-request set-header x-hdr1 ` + long + `
 http-request set-header x-hdr2 ` + long + ` if { path /req2 }
 http-request strict-mode off if { path /req3 }
 http-request set-header x-hdr3 ` + long + ` if { path /req3 }
`
	body := strings.Repeat("b", 2000)
	var reqs []string
	for _, p := range []string{"/req1", "/req2", "/req3", "/req4"} {
		reqs = append(reqs, "POST "+p+" HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n"+body)
	}
	compareRules(t, "global\n tune.bufsize 2048\n tune.maxrewrite 128\n"+baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n http-request set-header x-hdr3 "+long+" if { path /req4 }\n server s1 %s\n", rules, up.Addr(), reqs)
}

// unique-id-format and unique-id-header: the id is made once per request,
// sent to the server in the header (before X-Forwarded-For) and read back
// by the unique-id fetch.
func TestUniqueIDDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for unique-id")
	}
	up := startEcho(t, "s1")
	rules := ` unique-id-format %[req.hdr(host),upper]-%[path]-%[req.hdr(x-n)]
 unique-id-header X-Unique-ID
 option forwardfor
 http-request set-header x-seen-id %[unique-id] if { path /early }
 http-response set-header x-uid %[unique-id]
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET /a HTTP/1.1\r\nHost: example\r\nX-N: 1\r\n\r\n",
		"GET /early HTTP/1.1\r\nHost: b\r\n\r\n",
		"GET /" + strings.Repeat("x", 200) + " HTTP/1.1\r\nHost: c\r\n\r\n",
	})
}

// An empty errorfile, as an errorfile line or a rule's errorfile, sends
// nothing and closes the connection, as HAProxy does.
func TestEmptyErrorfileDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for errorfiles")
	}
	up := startEcho(t, "s1")
	rules := ` errorfile 403 /dev/null
 http-request deny if { path /deny }
 http-request deny deny_status 500 errorfile /dev/null if { path /500 }
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET /deny HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /500 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// be_server_timeout, be_tunnel_timeout and their cur_ forms, before and
// after set-timeout, in milliseconds.
func TestTimeoutFetchesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the fetches")
	}
	up := startEcho(t, "s1")
	be := ` timeout tunnel 7s
 http-request set-timeout server 1500 if { path /set }
 http-request set-timeout tunnel 2s if { path /set }
 http-request return status 200 content-type text/plain lf-string "%[be_server_timeout] %[cur_server_timeout] %[be_tunnel_timeout] %[cur_tunnel_timeout]" if { path /set /plain }
 http-response set-header x-t "%[be_server_timeout] %[cur_server_timeout] %[be_tunnel_timeout] %[cur_tunnel_timeout]"
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n"+strings.ReplaceAll(be, "%", "%%")+" server s1 %s\n", "", up.Addr(), []string{
		"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /set HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /server HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// tcp-response content rules in an HTTP backend run once per response,
// before it is read as HTTP (status is not known to them yet); a reject
// closes the client connection without an answer.
func TestTCPResponseInHTTPDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for tcp-response rules")
	}
	up := startEcho(t, "s1")
	be := ` tcp-response content reject if { var(txn.y) -m found }
 tcp-response content reject if { status 200 }
 tcp-response content set-var(txn.x) str(hello)
 http-request set-var(txn.y) str(1) if { path /rej }
 http-response set-header x-x %[var(txn.x)]
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n"+strings.ReplaceAll(be, "%", "%%")+" server s1 %s\n", "", up.Addr(), []string{
		"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /rej HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// http-response wait-for-body waits for the response body up to its time:
// a body that comes later gets 504, one in time goes through, as with
// HAProxy.
func TestResponseWaitForBodyDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for wait-for-body")
	}
	srv := serveRaw(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			delay := 20 * time.Millisecond
			if req.URL.Path == "/slow" {
				delay = 400 * time.Millisecond
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
			time.Sleep(delay)
			io.WriteString(c, "hello")
		}
	})
	be := ` http-response wait-for-body time 150ms
 http-response set-header x-waited yes
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n"+strings.ReplaceAll(be, "%", "%%")+" server s1 %s\n", "", srv, []string{
		"GET /fast HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}

// proxy-v2-options unique-id sends each request's unique id in the PROXY
// header, on a connection of its own; the receiving side reads it with
// fc_pp_unique_id, and the authority with fc_pp_authority.
func TestProxyUniqueIDChainDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the PROXY TLVs")
	}
	recv := freePort(t)
	cfg := baseDefaults + ` unique-id-format TEST-%%[req.hdr(in)]
listen sender
 bind %[1]s
%[2]s unique-id-header unique_id
 server example %[3]s send-proxy-v2 proxy-v2-options unique-id,authority
listen receiver
 bind %[3]s accept-proxy
 http-request set-var(txn.h) req.hdr(unique_id)
 http-request set-var(txn.p) fc_pp_unique_id
 http-request return status 200 hdr x-h %%[var(txn.h)] hdr x-p %%[var(txn.p)] hdr x-a "%%[fc_pp_authority]"
`
	compareRulesN(t, cfg, "", recv, []string{
		"GET / HTTP/1.1\r\nHost: a\r\nin: foo\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nin: bar\r\n\r\n",
	}, []string{"GET", "GET"})
}

// Addresses at each level: tcp-request connection rules change the
// connection's (fc_src, fc_dst), session rules the session's, and
// http-request rules the stream's only, which the next request on the
// connection no longer sees.
func TestSetSrcLevelsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for set-src")
	}
	up := startEcho(t, "s1")
	rules := ` tcp-request connection set-src ipv4(10.0.0.1)
 tcp-request connection set-dst ipv4(10.0.0.2)
 tcp-request session set-src ipv4(10.1.0.1)
 tcp-request content set-dst-port int(8080)
 http-request set-src hdr(x-forwarded-for) if { hdr(x-forwarded-for) -m found }
 http-request return status 200 hdr x-a "%[fc_src] %[src] %[fc_dst] %[dst] %[dst_port]"
`
	compareRulesN(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.168.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	}, []string{"GET", "GET"})
}

// last_rule_line names the rule that ended the last rule set run: a
// tcp-request content accept, an http-request allow or deny, an
// http-response allow; set-var and conditions that fail do not count.
func TestLastRuleDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	rules := ` tcp-request content set-var(txn.p) path
 tcp-request content accept if { var(txn.p) -m beg /tacc }
 http-request set-var(txn.x) str(1) if { path_beg /var }
 http-request allow if { path_beg /hacc }
 http-request deny if { path_beg /hdeny } || { path_end hdeny }
 http-request return status 200 if { path_beg /ret }
 http-response allow if { var(txn.p) -m beg /racc }
 http-after-response set-header x-lr "%[last_rule_line]"
 http-after-response set-header x-lrf "%[last_rule_file,length,bool]"
`
	var reqs []string
	for _, p := range []string{"/tacc", "/var", "/hacc", "/hdeny", "/ret", "/racc", "/tacc/hacc/racc", "/none", "/tacc-hdeny"} {
		reqs = append(reqs, "GET "+p+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	}
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), reqs)
}

// http-error answers with log-format parts are rendered per request:
// lf-string bodies, headers with samples, for the proxy's own answers
// (deny, no server) on kept and closing connections; a later errorfile
// line takes the status back.
func TestHTTPErrorFormatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the answers")
	}
	up := startEcho(t, "s1")
	rules := ` http-error status 403 content-type text/plain hdr x-path "p=%[path]" lf-string "denied %[path] for %[req.hdr(host)]"
 http-error status 503 content-type text/plain hdr x-be "%[be_name]" lf-string "%[path]"
 http-error status 400 content-type text/plain lf-string "x"
 http-error status 400 default-errorfiles
 http-request deny if { path_beg /deny }
 http-request deny deny_status 400 if { path_beg /bad }
 http-after-response set-header x-after 1
 use_backend none if { path_beg /nosrv }
`
	var reqs []string
	for _, p := range []string{"/deny/a", "/nosrv", "/bad", "/ok"} {
		reqs = append(reqs, "GET "+p+" HTTP/1.1\r\nHost: h\r\n\r\n", "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	}
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\nbackend none\n", rules, up.Addr(), reqs)
}

// Before switching, the stream's backend is its frontend: be_name and
// be_id in the frontend's rules name it, as in HAProxy.
func TestBackendNameBeforeSwitchingDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	rules := ` http-request return status 200 hdr x-r fe-name if { be_name fe }
 http-request return status 200 hdr x-r fe-id if { be_id 7 }
`
	compareRules(t, baseDefaults+"frontend fe\n id 7\n bind %s\n%s default_backend be\nbackend be\n id 9\n http-request set-header x-be-be \"%%[be_name] %%[be_id]\"\n server s1 %s\n", rules, up.Addr(), []string{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"})
}

// TestDeferredHeaderEditsDifferential: header edits are written to the
// request once something reads what they changed. Conditions, samples
// and answers that read an edited header, the start line after a path
// edit, or a header deleted since, see the edits as HAProxy's do; those
// reading something else see the same message either way.
func TestDeferredHeaderEditsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	up := startEcho(t, "s1")
	rules := ` http-request set-header x-a one
 http-request set-header x-b two
 http-request return status 200 content-type text/plain lf-string "a=%[req.hdr(x-a)] b=%[req.hdr(x-b)]" if { req.hdr(x-a) one } { path /a }
 http-request set-header x-a three
 http-request add-header x-a four if { path_beg /b }
 http-request set-header x-c %[req.hdr(x-a)]-%[req.hdr(x-b)]-%[req.hdr(host)]
 http-request deny deny_status 403 if { req.hdr(x-c) three-two-h } { path /c }
 http-request set-header x-n %[req.hdr_cnt(x-a)] if { req.hdr(x-b) two }
 http-request set-path /p%[path]
 http-request return status 200 content-type text/plain lf-string "%[path] %[req.hdr(x-c)] %[req.hdr(x-n)]" if { path_beg /p/b }
 http-request del-header x-b
 http-request set-header x-d "%[req.hdr(x-b)]|%[req.fhdr(x-a)]" if { src 127.0.0.1 }
 http-request set-header x-e %[req.hdrs,length] if { path_end /e }
 http-request set-header x-f %[url]
`
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: h\r\nX-A: client\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: h\r\nX-A: client\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /d HTTP/1.1\r\nHost: h\r\nX-B: client\r\n\r\n",
		"GET /d/e HTTP/1.1\r\nHost: h\r\nX-A: x\r\nX-A: y\r\n\r\n",
	}
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), reqs)
}
