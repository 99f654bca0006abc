package runtime_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
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

// TestRuleConnectionDifferential: a Connection field that rules add or
// set goes to the server and decides that side (a close closes the server
// connection), or to the client and decides that side; the client's own
// keep-alive is what it asked for, whatever request rules did.
func TestRuleConnectionDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startH2RandUpstream(t)
	up2 := startH2RandUpstream(t)
	for _, rules := range []string{
		"http-request add-header connection close",
		"http-request set-header connection keep-alive",
		"http-response add-header connection close",
		"http-response set-header connection keep-alive",
	} {
		cfg := baseDefaults + "frontend fe\n bind %s\n " + rules + "\n default_backend b\nbackend b\n server s1 %s\n"
		feH, feG := freePort(t), freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, feH, up.addr), feH)
		startGohap(t, fmt.Sprintf(cfg, feG, up2.addr), nil)
		for _, req := range []string{"GET / HTTP/1.1\r\nhost: a\r\n\r\n", "GET / HTTP/1.0\r\nhost: a\r\n\r\n", "GET / HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\n\r\n"} {
			h, hc := exchange(t, feH, req+req, []string{"GET", "GET"}, time.Second)
			g, gc := exchange(t, feG, req+req, []string{"GET", "GET"}, time.Second)
			time.Sleep(30 * time.Millisecond)
			hs, gs := strings.Join(up.take(0), "|"), strings.Join(up2.take(0), "|")
			if h != g || hs != gs || hc != gc {
				t.Errorf("%s %q:\n haproxy %v %q\n server %q\n gohap   %v %q\n server %q", rules, req, hc, h, hs, gc, g, gs)
			}
		}
	}
}
