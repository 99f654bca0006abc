package runtime_test

import (
	"testing"
)

// monitor-uri answers HAProxy's 200 page itself: on the path when the
// URI given starts with '/', else on the whole target, case-sensitive.
func TestMonitorURI(t *testing.T) {
	up := startEcho(t, "s1")
	fe1, fe2 := freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe1
 bind %s
 monitor-uri /health
 default_backend be
frontend fe2
 bind %s
 monitor-uri http://www.haproxy.org/health
 default_backend be
backend be
 server s1 %s
`, fe1, fe2, up.Addr()), nil)
	for _, c := range []struct {
		addr, target, srv string
		status            int
	}{
		{fe1, "/health", "", 200},
		{fe1, "http://www.haproxy.org/health", "", 200},
		{fe1, "/hEAlth", "s1", 200},
		{fe2, "http://www.haproxy.org/health", "", 200},
		{fe2, "/health", "s1", 200},
	} {
		st, srv, body := get(t, c.addr, "GET "+c.target+" HTTP/1.1\r\nHost: www.haproxy.org\r\n\r\n")
		if st != c.status || srv != c.srv {
			t.Errorf("%s %s: status %d from %q, want %d from %q", c.addr, c.target, st, srv, c.status, c.srv)
		}
		if c.srv == "" && body != "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n" {
			t.Errorf("%s: body %q", c.target, body)
		}
	}
}

// monitor fail: a monitor-uri request that matches one of the conditions
// gets HAProxy's 503 page instead of the 200 one, as HAProxy sends it.
func TestMonitorFailDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for monitor fail")
	}
	up := startEcho(t, "s1")
	rules := ` monitor-uri /health
 acl nosrv nbsrv(be) lt 1
 monitor fail if nosrv
 monitor fail unless { req.hdr(x-ok) -m found } { path /health }
`
	compareRules(t, baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", rules, up.Addr(), []string{
		"GET /health HTTP/1.1\r\nHost: a\r\nX-Ok: 1\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /other HTTP/1.1\r\nHost: a\r\n\r\n",
	})
}
