package runtime_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// h2Seen is what an HTTP/2 upstream saw of one request.
type h2Seen struct {
	Proto, Method, URI, Host, Body string
	Header, Trailer                http.Header
	Remote                         string
}

// h2Upstream is a Go HTTP/2 server (h2c, or TLS with ALPN) that records
// what it receives and answers by path.
type h2Upstream struct {
	addr string
	mu   sync.Mutex
	seen []h2Seen
	// conns counts the connections accepted.
	conns map[string]bool
}

func (u *h2Upstream) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, h2Seen{Proto: r.Proto, Method: r.Method, URI: r.RequestURI, Host: r.Host,
			Body: string(body), Header: r.Header.Clone(), Trailer: r.Trailer.Clone(), Remote: r.RemoteAddr})
		u.conns[r.RemoteAddr] = true
		u.mu.Unlock()
		switch {
		case r.Header.Get("Upgrade") == "websocket" && r.ProtoMajor == 1:
			// A WebSocket handshake over HTTP/1.1: 101, then echo.
			c, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: %s\r\nx-proto: %s\r\n\r\n",
				wsAcceptOf(r.Header.Get("Sec-WebSocket-Key")), r.Proto)
			brw.Flush()
			io.Copy(c, brw)
		case r.URL.Path == "/rst":
			panic(http.ErrAbortHandler)
		case r.URL.Path == "/204":
			w.WriteHeader(204)
		case r.URL.Path == "/slow":
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, "slow")
		case r.URL.Path == "/trailers":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "with trailers")
			w.Header().Set("X-Sum", "42")
		case r.URL.Path == "/nolen":
			w.(http.Flusher).Flush()
			io.WriteString(w, "streamed")
		default:
			w.Header().Set("x-proto", r.Proto)
			fmt.Fprintf(w, "%s %s body=%s", r.Method, r.URL.Path, body)
		}
	})
}

func (u *h2Upstream) reqs() []h2Seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]h2Seen(nil), u.seen...)
}

func (u *h2Upstream) connCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.conns)
}

// startH2C starts an h2c (prior knowledge) upstream.
func startH2C(t *testing.T, maxStreams uint32) *h2Upstream {
	t.Helper()
	u := &h2Upstream{conns: map[string]bool{}}
	srv := &http.Server{Handler: h2c.NewHandler(u.handler(), &http2.Server{MaxConcurrentStreams: maxStreams})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	u.addr = ln.Addr().String()
	return u
}

// startH2TLS starts a TLS upstream offering h2 and http/1.1 by ALPN.
func startH2TLS(t *testing.T) *h2Upstream {
	t.Helper()
	u := &h2Upstream{conns: map[string]bool{}}
	s := httptest.NewUnstartedServer(u.handler())
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	u.addr = s.Listener.Addr().String()
	return u
}

// h1Client is one keep-alive HTTP/1.1 client connection.
type h1Client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialH1(t *testing.T, addr string) *h1Client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &h1Client{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends raw and reads one response to method.
func (h *h1Client) do(raw, method string) (*http.Response, string) {
	h.t.Helper()
	resp, body, err := h.try(raw, method)
	if err != nil {
		h.t.Fatalf("%q: %v", raw, err)
	}
	return resp, body
}

func (h *h1Client) try(raw, method string) (*http.Response, string, error) {
	h.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(h.c, raw); err != nil {
		return nil, "", err
	}
	resp, err := http.ReadResponse(h.br, &http.Request{Method: method})
	// An interim answer (a 100 Continue the proxy sends when it read the
	// head before the body) precedes the final one.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
		resp, err = http.ReadResponse(h.br, &http.Request{Method: method})
	}
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func h2Cfg(port, server, extra string) string {
	return fmtCfg(`defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend fe
	bind %s
	default_backend be
backend be
%s
	server s1 %s
`, port, extra, server)
}

func TestH2ServerRequests(t *testing.T) {
	up := startH2C(t, 0)
	port := freePort(t)
	startGohap(t, h2Cfg(port, up.addr+" proto h2", ""), nil)
	c := dialH1(t, port)

	resp, body := c.do("GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "GET /a body=" || resp.Header.Get("x-proto") != "HTTP/2.0" {
		t.Fatalf("GET: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = c.do("POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello", "POST")
	if resp.StatusCode != 200 || body != "POST /p body=hello" {
		t.Fatalf("POST length: %d %q", resp.StatusCode, body)
	}
	resp, body = c.do("POST /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: v\r\n\r\n", "POST")
	if resp.StatusCode != 200 || body != "POST /c body=abcdefg" {
		t.Fatalf("POST chunked: %d %q", resp.StatusCode, body)
	}
	resp, body = c.do("HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n", "HEAD")
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
	resp, body = c.do("GET /204 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET")
	if resp.StatusCode != 204 || body != "" {
		t.Fatalf("204: %d %q", resp.StatusCode, body)
	}
	resp, body = c.do("GET /trailers HTTP/1.1\r\nHost: example.com\r\nTE: trailers\r\n\r\n", "GET")
	// A response with a length loses its trailers in HTTP/1.1.
	if resp.StatusCode != 200 || body != "with trailers" || resp.Header.Get("Trailer") != "X-Sum" {
		t.Fatalf("trailers: %d %q %v", resp.StatusCode, body, resp.Trailer)
	}
	resp, body = c.do("GET /nolen HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "streamed" {
		t.Fatalf("no length: %d %q", resp.StatusCode, body)
	}
	seen := up.reqs()
	if len(seen) != 7 {
		t.Fatalf("upstream saw %d requests", len(seen))
	}
	// One client connection, one HTTP/2 connection for all its requests.
	if n := up.connCount(); n != 1 {
		t.Errorf("upstream saw %d connections, want 1", n)
	}
	if s := seen[0]; s.Proto != "HTTP/2.0" || s.Host != "example.com" || s.Header.Get("User-Agent") != "t" {
		t.Errorf("GET seen as %+v", s)
	}
	if s := seen[2]; s.Trailer.Get("X-T") != "v" {
		t.Errorf("request trailers seen as %v", s.Trailer)
	}
	if s := seen[3]; s.Method != "HEAD" {
		t.Errorf("HEAD seen as %s", s.Method)
	}
}

func TestH2ServerReset(t *testing.T) {
	up := startH2C(t, 0)
	port := freePort(t)
	startGohap(t, h2Cfg(port, up.addr+" proto h2", ""), nil)
	c := dialH1(t, port)
	resp, _ := c.do("GET /rst HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if resp.StatusCode != 502 {
		t.Fatalf("reset stream answered %d, want 502", resp.StatusCode)
	}
	// The reset request is not sent again.
	if n := len(up.reqs()); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
	// The next request gets its own stream.
	c = dialH1(t, port)
	resp, body := c.do("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "GET /ok body=" {
		t.Fatalf("after reset: %d %q", resp.StatusCode, body)
	}
}

// With http-reuse always, concurrent clients share one connection until
// its stream limit, then open another.
func TestH2ServerReuseAlways(t *testing.T) {
	up := startH2C(t, 2)
	port := freePort(t)
	startGohap(t, h2Cfg(port, up.addr+" proto h2", "\thttp-reuse always"), nil)
	for i := 0; i < 3; i++ {
		c := dialH1(t, port)
		if resp, _ := c.do("GET /seq HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
		c.c.Close()
	}
	if n := up.connCount(); n != 1 {
		t.Fatalf("sequential clients used %d connections, want 1", n)
	}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", port, time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				codes[i] = resp.StatusCode
			}
		}(i)
	}
	wg.Wait()
	for i, code := range codes {
		if code != 200 {
			t.Errorf("concurrent request %d: %d", i, code)
		}
	}
	// Four concurrent streams over connections of two streams each.
	if n := up.connCount(); n < 2 || n > 3 {
		t.Errorf("concurrent clients used %d connections in all, want 2 or 3", n)
	}
}

// With http-reuse safe, each client connection has its own.
func TestH2ServerReuseSafe(t *testing.T) {
	up := startH2C(t, 0)
	port := freePort(t)
	startGohap(t, h2Cfg(port, up.addr+" proto h2", ""), nil)
	a, b := dialH1(t, port), dialH1(t, port)
	for i := 0; i < 2; i++ {
		a.do("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		b.do("GET /b HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	}
	if n := up.connCount(); n != 2 {
		t.Fatalf("two clients used %d connections, want 2", n)
	}
}

func TestH2ServerALPN(t *testing.T) {
	for _, tc := range []struct{ alpn, want string }{{"h2,http/1.1", "HTTP/2.0"}, {"http/1.1", "HTTP/1.1"}} {
		up := startH2TLS(t)
		port := freePort(t)
		startGohap(t, h2Cfg(port, up.addr+" ssl verify none alpn "+tc.alpn, "\thttp-response set-header x-alpn %[ssl_bc_alpn]"), nil)
		c := dialH1(t, port)
		for i := 0; i < 2; i++ {
			resp, body := c.do("POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", "POST")
			if resp.StatusCode != 200 || body != "POST /t body=ok" || resp.Header.Get("x-proto") != tc.want {
				t.Fatalf("alpn %s: %d %q %v", tc.alpn, resp.StatusCode, body, resp.Header)
			}
			if want := strings.TrimPrefix(strings.ToLower(tc.want), "http/2.0"); want == "" && resp.Header.Get("x-alpn") != "h2" {
				t.Errorf("alpn %s: ssl_bc_alpn %q", tc.alpn, resp.Header.Get("x-alpn"))
			}
		}
		if n := up.connCount(); n != 1 {
			t.Errorf("alpn %s: %d connections, want 1", tc.alpn, n)
		}
	}
}

// The same requests through HAProxy and gohap to the same HTTP/2
// upstream: the upstream and the client see the same.
func TestH2ServerDiff(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// alone: on a connection of its own (HAProxy may or may not keep
	// the client connection after it).
	reqs := []struct {
		raw, method string
		alone       bool
	}{
		{"GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nConnection: keep-alive\r\nTE: trailers, gzip\r\n\r\n", "GET", false},
		{"POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello", "POST", false},
		{"PUT /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\n", "PUT", false},
		{"GET http://other.example:8080/abs HTTP/1.1\r\nHost: other.example:8080\r\n\r\n", "GET", false},
		{"HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n", "HEAD", false},
		{"GET /204 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", false},
		{"GET /trailers HTTP/1.1\r\nHost: example.com\r\nTE: trailers\r\n\r\n", "GET", false},
		{"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n", "OPTIONS", false},
		{"POST /big HTTP/1.1\r\nHost: example.com\r\nContent-Length: 200000\r\n\r\n" + strings.Repeat("b", 200000), "POST", false},
		{"POST /e HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", "POST", false},
		{"GET /nolen HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", false},
		{"GET /rst HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", false},
		{"GET /rst HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", false},
		{"GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "GET", true},
		{"GET /after HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", false},
	}
	run := func(start func(cfg, port string)) ([]string, []h2Seen) {
		up := startH2C(t, 0)
		port := freePort(t)
		start(h2Cfg(port, up.addr+" proto h2", ""), port)
		var client []string
		c := dialH1(t, port)
		for _, r := range reqs {
			if r.alone {
				c = dialH1(t, port)
			}
			resp, body, err := c.try(r.raw, r.method)
			if r.alone {
				defer func(c *h1Client) { c.c.Close() }(c)
				c = dialH1(t, port)
			}
			if err != nil {
				client = append(client, "error")
				c = dialH1(t, port)
				continue
			}
			var hs []string
			for k, v := range resp.Header {
				if k != "Date" {
					hs = append(hs, k+": "+strings.Join(v, ","))
				}
			}
			sort.Strings(hs)
			if len(body) > 100 {
				body = fmt.Sprint(len(body))
			}
			client = append(client, fmt.Sprintf("%s %q %v trailer=%v", resp.Status, body, hs, resp.Trailer))
			if resp.Close {
				c = dialH1(t, port)
			}
		}
		return client, up.reqs()
	}
	hc, hs := run(func(cfg, port string) { startHAProxy(t, cfg, port) })
	gc, gs := run(func(cfg, port string) { startGohap(t, cfg, nil) })
	if !slices.Equal(hc, gc) {
		// HAProxy now and then answers a request of this sequence with
		// the bytes of another (its side alone, seen on loaded
		// machines): the reference is taken again before comparing.
		if hc2, hs2 := run(func(cfg, port string) { startHAProxy(t, cfg, port) }); slices.Equal(hc2, gc) {
			hc, hs = hc2, hs2
		}
	}
	for i := range reqs {
		if i < len(hc) && i < len(gc) && hc[i] != gc[i] {
			t.Errorf("request %d: client saw\nhaproxy %s\ngohap   %s", i, hc[i], gc[i])
		}
	}
	if len(hs) != len(gs) {
		t.Fatalf("upstream saw %d requests from haproxy, %d from gohap", len(hs), len(gs))
	}
	for i := range hs {
		h, g := hs[i], gs[i]
		h.Remote, g.Remote = "", ""
		if len(h.Body) > 100 {
			h.Body, g.Body = fmt.Sprint(len(h.Body)), fmt.Sprint(len(g.Body))
		}
		if hv, gv := fmt.Sprintf("%+v", h), fmt.Sprintf("%+v", g); hv != gv {
			t.Errorf("upstream request %d:\nhaproxy %s\ngohap   %s", i, hv, gv)
		}
	}
}

// A stream that outlives timeout server gets 504; a connection the
// server ends with GOAWAY is replaced for the next request.
func TestH2ServerTimeoutAndGoAway(t *testing.T) {
	u := &h2Upstream{conns: map[string]bool{}}
	srv := &http.Server{Handler: h2c.NewHandler(u.handler(), &http2.Server{IdleTimeout: 200 * time.Millisecond})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := freePort(t)
	startGohap(t, fmtCfg(`defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 150ms
frontend fe
	bind %s
	default_backend be
backend be
	server s1 %s proto h2
`, port, ln.Addr().String()), nil)
	c := dialH1(t, port)
	if resp, _ := c.do("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); resp.StatusCode != 504 {
		t.Fatalf("slow stream: %d, want 504", resp.StatusCode)
	}
	c = dialH1(t, port)
	if resp, _ := c.do("GET /one HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); resp.StatusCode != 200 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	// The server's idle timeout sends GOAWAY and closes.
	time.Sleep(500 * time.Millisecond)
	resp, body := c.do("GET /two HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "GET /two body=" {
		t.Fatalf("after GOAWAY: %d %q", resp.StatusCode, body)
	}
	if n := u.connCount(); n < 2 {
		t.Errorf("upstream saw %d connections, want a new one after GOAWAY", n)
	}
}

// "proto" fits the proxy's mode as HAProxy checks it; what the runtime
// does not run is refused.
func TestH2ServerCompile(t *testing.T) {
	head := "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
	for _, tc := range []struct{ cfg, want string }{
		{"backend b\n mode http\n server s 127.0.0.1:1 proto h2\n", ""},
		{"backend b\n mode http\n server s 127.0.0.1:1 proto h1 ws h2\n", ""},
		{"backend b\n mode tcp\n server s 127.0.0.1:1 proto none\n", ""},
		{"backend b\n mode tcp\n server s 127.0.0.1:1 proto h2\n", "backend 'b' : MUX protocol 'h2' is not usable for server 's' at [c.cfg:7]."},
		{"backend b\n mode http\n server s 127.0.0.1:1 proto none\n", "backend 'b' : MUX protocol 'none' is not usable for server 's' at [c.cfg:7]."},
		{"backend b\n mode http\n use-fcgi-app a\n server s 127.0.0.1:1 proto fcgi\nfcgi-app a\n docroot /x\n", ""},
		{"backend b\n mode http\n use-fcgi-app a\n server s 127.0.0.1:1 proto fcgi\nfcgi-app a\n docroot /x\n option mpxs-conns\n", ""},
		{"backend b\n mode http\n use-fcgi-app a\n option httpchk\n server s 127.0.0.1:1 proto fcgi check\nfcgi-app a\n docroot /x\n",
			"parsing [c.cfg:9] : 'server s' : HTTP checks over 'proto fcgi' are not supported by the gohap runtime yet."},
		{"backend b\n mode http\n use-fcgi-app a\n server s 127.0.0.1:1 proto fcgi check\nfcgi-app a\n docroot /x\n", ""},
		{"backend b\n mode http\n use-fcgi-app a\n server s 127.0.0.1:1 proto fcgi\nfcgi-app a\n docroot /x\n log-stderr ring@r local0\n",
			"parsing [c.cfg:11] : fcgi-app 'a': 'log-stderr ring@r' is not supported by the gohap runtime yet."},
		{"backend b\n mode http\n option httpchk\n server s 127.0.0.1:1 proto h2 check\n", ""},
	} {
		cfg, ds := parser.Parse([]parser.Input{{Name: "c.cfg", Data: []byte(head + tc.cfg)}}, parser.Options{})
		if ds.HasErrors() {
			t.Fatalf("%q: %v", tc.cfg, ds)
		}
		_, errs := runtime.Compile(cfg, runtime.Options{})
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("%q: %q, want %q", tc.cfg, g, tc.want)
		}
	}
}

// pool-max-conn 1 with http-reuse safe: a client's connection that finds
// the idle pool full is closed after its first answer, and the client's
// next request takes the idle one another client left (HAProxy's
// http_reuse_safe reg-test, over real sockets).
func TestPoolMaxConnSafe(t *testing.T) {
	up := serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nx-conn: %s\r\nContent-Length: 0\r\n\r\n", c.RemoteAddr())
		}
	})
	port := freePort(t)
	startGohap(t, h2Cfg(port, up+" pool-max-conn 1", "\thttp-reuse safe"), nil)
	conns := func(c *h1Client) (first, second string) {
		r1, _ := c.do("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		r2, _ := c.do("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		return r1.Header.Get("x-conn"), r2.Header.Get("x-conn")
	}
	c1 := dialH1(t, port)
	a1, a2 := conns(c1)
	if a1 != a2 {
		t.Fatalf("first client changed connections: %s then %s", a1, a2)
	}
	c1.c.Close()
	time.Sleep(100 * time.Millisecond)
	c2 := dialH1(t, port)
	b1, b2 := conns(c2)
	if b1 == a1 || b2 != a1 {
		t.Fatalf("second client used %s then %s, want a new one then the first client's %s", b1, b2, a1)
	}
}

func wsAcceptOf(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// "ws h1" sends WebSocket streams of a "proto h2" server over HTTP/1.1,
// and "ws auto" with ALPN offers http/1.1 alone for them; other
// requests stay on HTTP/2.
func TestH2ServerWebSocketProto(t *testing.T) {
	plain := startH2C(t, 0)
	tlsUp := startH2TLS(t)
	for _, tc := range []struct{ name, server string }{
		{"proto h2 ws h1", plain.addr + " proto h2 ws h1"},
		{"alpn ws auto", tlsUp.addr + " ssl verify none alpn h2,http/1.1"},
	} {
		port := freePort(t)
		startGohap(t, h2Cfg(port, tc.server, ""), nil)
		c := dialH1(t, port)
		resp, _ := c.do("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if resp.Header.Get("x-proto") != "HTTP/2.0" {
			t.Errorf("%s: plain request over %q", tc.name, resp.Header.Get("x-proto"))
		}
		c = dialH1(t, port)
		c.c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c.c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.StatusCode != 101 || resp.Header.Get("x-proto") != "HTTP/1.1" || resp.Header.Get("Sec-WebSocket-Accept") != wsAcceptOf("dGhlIHNhbXBsZSBub25jZQ==") {
			t.Fatalf("%s: %d %v", tc.name, resp.StatusCode, resp.Header)
		}
		io.WriteString(c.c, "ping")
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c.br, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("%s: tunnel echo %q %v", tc.name, buf, err)
		}
	}
}
