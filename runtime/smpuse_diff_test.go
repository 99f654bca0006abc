package runtime_test

import (
	"strings"
	"testing"
)

// A condition whose fetches need the request never matches in response
// rules, and one that needs the response never matches in request rules,
// as in HAProxy, which warns about them at startup; fetches available at
// both places keep working, and "unless" turns the never-matching ACL into
// an always-true condition. Buffer fetches (req.len, req.rdp_cookie_cnt)
// read the response's channel in response rules.
func TestUnusableFetchConditionsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	rules := ` acl isa path_beg /a
 acl mix path_beg /a
 acl mix res.hdr(x-nope) -m found
 acl mix2 path_beg /a
 acl mix2 status 200
 http-request set-var(txn.p) path
 http-request set-header x-req-status 1 if { status 200 }
 http-request set-header x-req-srv 1 if { srv_id gt 0 }
 http-request set-header x-req-rhdr 1 unless { res.hdr(x-a) -m found }
 http-response set-header x-path-beg 1 if { path_beg /a }
 http-response set-header x-not-path 1 unless { path_beg /a }
 http-response set-header x-named 1 if isa
 http-response set-header x-neg 1 if !isa
 http-response set-header x-mix 1 if mix
 http-response set-header x-mix2 1 if mix2
 http-response set-header x-hdr 1 if { req.hdr(host) -m found }
 http-response set-header x-hdr-acl 1 if { hdr(host) -m found }
 http-response set-header x-hdr-fetch 1 if { hdr(x-a) -m found }
 http-response set-header x-meth 1 if METH_GET
 http-response set-header x-http11 1 if HTTP_1.1
 http-response set-header x-var 1 if { var(txn.p) -m beg /a }
 http-response set-header x-or 1 if { path_beg /a } || { status 200 }
 http-response set-header x-len 1 if { req.len gt 0 }
 http-response set-header x-len0 1 if { req.len eq 0 }
 http-response set-header x-rdp 1 if { req.rdp_cookie_cnt eq 0 }
 http-after-response set-header x-after 1 if { path_beg /a }
 http-after-response set-header x-after-url 1 unless { url_beg /a }
`
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n",
	}
	cfg := strings.ReplaceAll(baseDefaults, "%", "%%") + "frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n"
	compareRules(t, cfg, rules, up.Addr(), reqs)
}

// tcp-response content conditions on request fetches never match either,
// and use_backend conditions on response fetches never switch.
func TestUnusableFetchTCPAndSwitchDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	rules := ` use_backend other if { status 200 }
 use_backend other unless { res.hdr(x-server) -m found }
 use_backend other if { path_beg /other }
`
	be := " tcp-response content set-var(txn.t) str(yes) if { path_beg /a }\n" +
		" tcp-response content set-var(txn.u) str(yes) unless { path_beg /a }\n" +
		" tcp-response content set-var(txn.h) str(yes) if { req.hdr(host) -m found }\n" +
		" http-response set-header x-t %[var(txn.t)]\n" +
		" http-response set-header x-u %[var(txn.u)]\n" +
		" http-response set-header x-h %[var(txn.h)]\n"
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: a\r\n\r\n",
	}
	cfg := strings.ReplaceAll(baseDefaults, "%", "%%") + "frontend fe\n bind %s\n%s default_backend be\nbackend be\n" +
		strings.ReplaceAll(be, "%", "%%") + " server s1 %s\nbackend other\n http-request return status 404\n"
	compareRules(t, cfg, rules, up.Addr(), reqs)
}
