package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
)

// http-reuse decides whether a server connection a client left behind
// serves another client's request: never; safe, for later requests of a
// client only; aggressive, also for first requests on connections that
// carried two requests; always, for any request. Four clients in turn on
// a roundrobin backend of two servers, HAProxy alongside: each server
// must see as many connections through gohap as through HAProxy.
func TestHTTPReuseModes(t *testing.T) {
	// A: one request (s1). B: two requests (s2, s1). C: one request (s2).
	// D: one request (s1).
	want := map[string][2]int64{"never": {3, 2}, "safe": {2, 2}, "aggressive": {1, 2}, "always": {1, 1}}
	for _, mode := range []string{"never", "safe", "aggressive", "always"} {
		t.Run(mode, func(t *testing.T) {
			run := func(start func(cfg, fe string)) [2]int64 {
				s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
				fe := freePort(t)
				start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse %s\n server s1 %s\n server s2 %s\n",
					fe, mode, s1.Addr(), s2.Addr()), fe)
				for _, n := range []int{1, 2, 1, 1} {
					c := dial(t, fe)
					for i := 0; i < n; i++ {
						c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
						if resp, _ := c.read("GET"); resp.StatusCode != 200 {
							t.Fatalf("status %d", resp.StatusCode)
						}
					}
					c.c.Close()
					// The proxy sees the close before the next client.
					time.Sleep(100 * time.Millisecond)
				}
				return [2]int64{s1.Conns.Load(), s2.Conns.Load()}
			}
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if got != want[mode] {
				t.Errorf("gohap: server connections s1, s2 = %v, want %v", got, want[mode])
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			if ref != got {
				t.Errorf("server connections s1, s2: gohap %v, haproxy %v", got, ref)
			}
		})
	}
}

// A shared server connection goes back to the server's idle list as a
// transaction ends, not when its client leaves: with client A still
// connected, client B's request may take the connection A's request
// used (http-reuse always), and A's next request then takes it from the
// list. The requests alternate, A, B, A, B, on two open connections,
// HAProxy alongside; the server must see as many connections through
// gohap as through HAProxy.
func TestReuseWhileClientOpen(t *testing.T) {
	want := map[string]int64{"never": 2, "safe": 2, "aggressive": 2, "always": 1}
	for _, mode := range []string{"never", "safe", "aggressive", "always"} {
		t.Run(mode, func(t *testing.T) {
			run := func(start func(cfg, fe string)) int64 {
				s1 := startEcho(t, "s1")
				fe := freePort(t)
				start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse %s\n server s1 %s\n",
					fe, mode, s1.Addr()), fe)
				a, b := dial(t, fe), dial(t, fe)
				defer a.c.Close()
				defer b.c.Close()
				for _, c := range []*client{a, b, a, b} {
					c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
					if resp, _ := c.read("GET"); resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
				}
				return s1.Conns.Load()
			}
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if got != want[mode] {
				t.Errorf("gohap: server connections = %d, want %d", got, want[mode])
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); ref != got {
				t.Errorf("server connections: gohap %d, haproxy %d", got, ref)
			}
		})
	}
}

// A server that closes an idle connection takes it out of the idle
// list: it no longer counts against what the server keeps. Client A's
// two requests leave a connection the server then closes; client B's
// connection must stay for its second request, as in HAProxy, where the
// closed one would otherwise make the pool refuse it. The server sees
// each client's requests on one connection; a request on a connection
// the proxy reset fails.
func TestPoolDropsClosedIdle(t *testing.T) {
	run := func(t *testing.T, start func(cfg, fe string)) []string {
		var mu sync.Mutex
		var log []string
		up := recordingUpstream(t, &mu, &log, func(conn int, r *http.Request) string {
			return fmt.Sprintf("%d %s", conn, r.URL.Path)
		}, func(c net.Conn, r *http.Request) bool {
			if r.URL.Path == "/a2" {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				// The server ends the connection once idle.
				time.Sleep(50 * time.Millisecond)
				c.Close()
				return true
			}
			return false
		})
		fe := freePort(t)
		start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, up), fe)
		for _, name := range []string{"a", "b"} {
			c := dial(t, fe)
			for i := 1; i <= 2; i++ {
				c.send(fmt.Sprintf("GET /%s%d HTTP/1.1\r\nHost: a\r\n\r\n", name, i))
				if resp, _ := c.read("GET"); resp.StatusCode != 200 {
					t.Fatalf("%s%d: status %d", name, i, resp.StatusCode)
				}
			}
			c.c.Close()
			time.Sleep(200 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(log)
	}
	want := []string{"1 /a1", "1 /a2", "2 /b1", "2 /b2"}
	got := run(t, func(cfg, _ string) { startGohap(t, cfg, nil) })
	if !slices.Equal(got, want) {
		t.Errorf("gohap: server saw %q, want %q", got, want)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
	if ref := run(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) }); !slices.Equal(ref, got) {
		t.Errorf("server saw: gohap %q, haproxy %q", got, ref)
	}
}

// connStep is one request of a connection-hash scenario: a new client
// (with the PROXY line it sends, if any) or the same one, the headers
// added, and what the receiving frontend reports.
type connStep struct {
	newClient string // "" keeps the previous client; "-" opens one without PROXY line
	hdr       string
}

// connCase is a connection-hash scenario: its configuration for a
// frontend address, its requests, and what the receiver reports.
type connCase struct {
	name  string
	cfg   func(fe string) string
	steps func(fe string) []connStep
	want  []string
}

// runConnSteps plays steps against fe and returns, per request, the
// receiver's http_first_req and the address it saw.
func runConnSteps(t *testing.T, fe string, steps []connStep) []string {
	var c *client
	var out []string
	for _, st := range steps {
		if st.newClient != "" {
			if c != nil {
				c.c.Close()
				// The proxy sees the close before the next client.
				time.Sleep(100 * time.Millisecond)
			}
			c = dial(t, fe)
			if st.newClient != "-" {
				c.send(st.newClient)
			}
		}
		c.send("GET / HTTP/1.1\r\nHost: a\r\n" + st.hdr + "\r\n")
		resp, _ := c.read("GET")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		out = append(out, resp.Header.Get("X-First")+" "+resp.Header.Get("X-Seen"))
	}
	return out
}

// Server connections are reused only by requests they fit, as HAProxy's
// connection hash decides: a PROXY header names its client, so another
// client's request (http-reuse always) gets its own connection; the port
// of a port-mapped server follows the request's destination. A
// connection waits between two requests in the server's idle list,
// which keeps one beyond the estimated need only with pool-low-conn;
// "pool-purge-delay 0" keeps none, not even for the same client.
// HAProxy alongside.
func TestConnHashReuse(t *testing.T) {
	recv := func(self string) string {
		return fmtCfg("frontend recv\n bind %s accept-proxy\n http-request return status 200 hdr x-seen \"%%[src]:%%[src_port]\"\n http-after-response set-header x-first %%[http_first_req]\n", self)
	}
	recvPlain := func(name, self string) string {
		return fmtCfg("frontend %s\n bind %s\n http-request return status 200 hdr x-seen %s\n http-after-response set-header x-first %%[http_first_req]\n", name, self, name)
	}
	mappedPort := func(name, opt, last string) connCase {
		return connCase{name, func(fe string) string {
			r1, r2 := freePort(t), freePort(t)
			_, p1, _ := net.SplitHostPort(r1)
			_, p2, _ := net.SplitHostPort(r2)
			t.Setenv("P1", p1)
			t.Setenv("P2", p2)
			return fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n http-request set-dst-port hdr(x-port)\n default_backend be\nbackend be\n server s 127.0.0.1:0%s\n", fe, opt) +
				recvPlain("r1", r1) + recvPlain("r2", r2)
		}, func(fe string) []connStep {
			p1, p2 := "x-port: "+os.Getenv("P1")+"\r\n", "x-port: "+os.Getenv("P2")+"\r\n"
			return []connStep{{newClient: "-", hdr: p1}, {hdr: p1}, {hdr: p2}, {hdr: p1}, {hdr: p2}}
		}, []string{"1 r1", "0 r1", "1 r2", "0 r1", last}}
	}
	cases := []connCase{
		{"proxy", func(fe string) string {
			r := freePort(t)
			return fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s accept-proxy\n default_backend be\nbackend be\n http-reuse always\n server s %s send-proxy pool-low-conn 2\n", fe, r) + recv(r)
		}, func(fe string) []connStep {
			return []connStep{
				{newClient: "PROXY TCP4 10.0.0.1 10.0.0.9 40000 80\r\n"}, {},
				{newClient: "PROXY TCP4 10.0.0.2 10.0.0.9 50000 80\r\n"},
				{newClient: "PROXY TCP4 10.0.0.1 10.0.0.9 40000 80\r\n"},
			}
		}, []string{"1 10.0.0.1:40000", "0 10.0.0.1:40000", "1 10.0.0.2:50000", "0 10.0.0.1:40000"}},
		mappedPort("mapped-port", "", "1 r2"),
		mappedPort("mapped-port-low-conn", " pool-low-conn 2", "0 r2"),
		{"purge-delay-0", func(fe string) string {
			r := freePort(t)
			return fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse always\n server s %s pool-purge-delay 0\n", fe, r) + recvPlain("r", r)
		}, func(fe string) []connStep {
			return []connStep{{newClient: "-"}, {}, {newClient: "-"}}
		}, []string{"1 r", "1 r", "1 r"}},
		{"purge-delay-default", func(fe string) string {
			r := freePort(t)
			return fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse always\n server s %s\n", fe, r) + recvPlain("r", r)
		}, func(fe string) []connStep {
			return []connStep{{newClient: "-"}, {}, {newClient: "-"}}
		}, []string{"1 r", "0 r", "0 r"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := freePort(t)
			startGohap(t, tc.cfg(fe), nil)
			got := runConnSteps(t, fe, tc.steps(fe))
			if !slices.Equal(got, tc.want) {
				t.Errorf("gohap: %q, want %q", got, tc.want)
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			hfe := freePort(t)
			startHAProxy(t, tc.cfg(hfe), hfe)
			if ref := runConnSteps(t, hfe, tc.steps(hfe)); !slices.Equal(ref, got) {
				t.Errorf("gohap %q, haproxy %q", got, ref)
			}
		})
	}
}

// pool-purge-delay sets how often a server's idle connections are
// purged: three connections left idle by three clients at once are all
// closed within a few purges of 200 ms, and none of them within 2 s at
// the default 5 s. HAProxy alongside.
func TestPoolPurgeDelay(t *testing.T) {
	run := func(t *testing.T, opt string, start func(cfg, fe string)) (open []int) {
		s := startEcho(t, "s")
		fe := freePort(t)
		start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse always\n server s %s%s\n", fe, s.Addr(), opt), fe)
		var cs []*client
		for i := 0; i < 3; i++ {
			c := dial(t, fe)
			// Held by the server, the three are in flight at once.
			c.send("GET /sleep/500 HTTP/1.1\r\nHost: a\r\n\r\n")
			cs = append(cs, c)
		}
		for _, c := range cs {
			if resp, _ := c.read("GET"); resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		open = append(open, s.Open())
		for _, c := range cs {
			c.c.Close()
		}
		time.Sleep(100 * time.Millisecond)
		open = append(open, s.Open())
		deadline := time.Now().Add(2 * time.Second)
		for s.Open() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		return append(open, s.Open())
	}
	for _, tc := range []struct {
		opt  string
		want []int
	}{{" pool-purge-delay 200ms", []int{3, 3, 0}}, {"", []int{3, 3, 3}}} {
		t.Run(tc.opt, func(t *testing.T) {
			got := run(t, tc.opt, func(cfg, _ string) { startGohap(t, cfg, nil) })
			if !slices.Equal(got, tc.want) {
				t.Errorf("gohap: open server connections %v, want %v", got, tc.want)
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			if ref := run(t, tc.opt, func(cfg, fe string) { startHAProxy(t, cfg, fe) }); !slices.Equal(ref, got) {
				t.Errorf("open server connections: gohap %v, haproxy %v", got, ref)
			}
		})
	}
}

// http-send-name-header: the server gets the name of the server it is,
// last in the head, and the client's occurrences of that header are
// gone; HAProxy alongside, head for head.
func TestSendNameHeader(t *testing.T) {
	run := func(start func(cfg, fe string)) []string {
		s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
		fe := freePort(t)
		start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n option forwardfor\n default_backend be\nbackend be\n option http-server-close\n http-send-name-header X-Srv\n server s1 %s\n server s2 %s\n",
			fe, s1.Addr(), s2.Addr()), fe)
		c := dial(t, fe)
		var heads []string
		for i := 0; i < 2; i++ {
			c.send("GET / HTTP/1.1\r\nHost: a\r\nX-SRV: forged\r\nAccept: */*\r\nx-srv: again\r\n\r\n")
			resp, body := c.read("GET")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			heads = append(heads, body)
		}
		return heads
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for i, want := range []string{"s1", "s2"} {
		if !strings.HasSuffix(got[i], "\r\nx-srv: "+want+"\r\n\r\n") || strings.Contains(got[i], "forged") || strings.Contains(got[i], "again") {
			t.Errorf("request %d as the server saw it:\n%s", i, got[i])
		}
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
	if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); !slices.Equal(ref, got) {
		t.Errorf("gohap:\n%q\nhaproxy:\n%q", got, ref)
	}
}

// max-session-srv-conns bounds the idle server connections a client
// connection keeps as its own (http-reuse never): one client, six
// requests over three servers in turn; with 5 (the default) each server
// keeps its connection, with 1 only the first one kept idle is, with 0
// none. HAProxy alongside: each server sees as many connections.
func TestMaxSessionSrvConns(t *testing.T) {
	want := map[string][3]int64{"": {1, 1, 1}, "1": {1, 2, 2}, "0": {2, 2, 2}}
	for _, n := range []string{"", "1", "0"} {
		t.Run("max="+n, func(t *testing.T) {
			run := func(start func(cfg, fe string)) [3]int64 {
				s := [3]*echo.Server{startEcho(t, "s1"), startEcho(t, "s2"), startEcho(t, "s3")}
				fe := freePort(t)
				opt := ""
				if n != "" {
					opt = " max-session-srv-conns " + n + "\n"
				}
				start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n http-reuse never\n server s1 %s\n server s2 %s\n server s3 %s\n",
					fe, opt, s[0].Addr(), s[1].Addr(), s[2].Addr()), fe)
				c := dial(t, fe)
				for i := 0; i < 6; i++ {
					c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
					if resp, _ := c.read("GET"); resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
				}
				return [3]int64{s[0].Conns.Load(), s[1].Conns.Load(), s[2].Conns.Load()}
			}
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if got != want[n] {
				t.Errorf("gohap: server connections %v, want %v", got, want[n])
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); ref != got {
				t.Errorf("server connections: gohap %v, haproxy %v", got, ref)
			}
		})
	}
}
