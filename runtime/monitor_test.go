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
