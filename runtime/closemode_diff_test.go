package runtime_test

import (
	"fmt"
	"net"
	"testing"
)

// TestCloseModeAnswersDifferential: under option httpclose (in the
// frontend or the backend) and http-server-close, the answers the proxy
// makes itself (an error page, deny, return, redirect) carry HAProxy's
// connection header, as the server's do.
func TestCloseModeAnswersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	garbage := serveRaw(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte("junk\r\n\r\n"))
	})
	ok := serveRaw(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
	})
	cfg := baseDefaults + `frontend fe
 bind %s
 %s
 http-request deny if { path /deny }
 http-request return status 200 content-type text/plain string x if { path /ret }
 http-request redirect location /x if { path /redir }
 use_backend junk if { path /junk }
 default_backend b
backend b
 %s
 server s1 %s
backend junk
 %s
 server s1 %s
`
	reqs := []string{"/deny", "/ret", "/redir", "/junk", "/ok"}
	for _, m := range [][2]string{{"option httpclose", ""}, {"", "option httpclose"}, {"option http-server-close", ""}} {
		feH, feG := freePort(t), freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, feH, m[0], m[1], ok, m[1], garbage), feH)
		startGohap(t, fmt.Sprintf(cfg, feG, m[0], m[1], ok, m[1], garbage), nil)
		for _, p := range reqs {
			for _, v := range []string{"HTTP/1.1", "HTTP/1.0"} {
				req := "GET " + p + " " + v + "\r\nhost: a\r\n\r\n"
				h, g := h1Head(t, feH, req), h1Head(t, feG, req)
				if h != g {
					t.Errorf("frontend %q backend %q, %q:\n haproxy: %s\n gohap:   %s", m[0], m[1], req, h, g)
				}
			}
		}
	}
}
