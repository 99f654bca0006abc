package runtime_test

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const baseDefaults = `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
`

// client is a keep-alive HTTP/1.1 connection.
type client struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

func TestKeepAliveReusesServerConnection(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	c := dial(t, fe)
	for i := 0; i < 100; i++ {
		c.send(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
		resp, body := c.read("GET")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, fmt.Sprintf("GET /%d HTTP/1.1\r\n", i)) {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := s1.Conns.Load(); n != 1 {
		t.Errorf("100 keep-alive requests used %d server connections, want 1", n)
	}
}

func TestServerCloseModes(t *testing.T) {
	for _, opt := range []string{"http-server-close", "httpclose"} {
		t.Run(opt, func(t *testing.T) {
			s1 := startEcho(t, "s1")
			fe := freePort(t)
			startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n option %s\n default_backend be\nbackend be\n server s1 %s\n", fe, opt, s1.Addr()), nil)
			c := dial(t, fe)
			c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, body := c.read("GET")
			if !strings.Contains(body, "connection: close\r\n") {
				t.Errorf("server did not get connection: close: %q", body)
			}
			if opt == "httpclose" && !resp.Close {
				t.Errorf("httpclose: client connection kept open")
			}
			if opt == "http-server-close" {
				c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
				c.read("GET")
				if n := s1.Conns.Load(); n != 2 {
					t.Errorf("server connections: %d, want 2", n)
				}
			}
		})
	}
}

// bigBody streams n bytes of a repeating pattern.
type bigBody struct{ left, off int64 }

func (b *bigBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > b.left {
		n = int(b.left)
	}
	for i := 0; i < n; i++ {
		p[i] = byte('a' + (b.off+int64(i))%26)
	}
	b.left -= int64(n)
	b.off += int64(n)
	return n, nil
}

func TestLargeBodiesStreamWithFlatMemory(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	const size = 100 << 20
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)

	// Upload with Content-Length, then chunked.
	want := crc32.NewIEEE()
	io.Copy(want, &bigBody{left: size})
	for _, chunked := range []bool{false, true} {
		c := dial(t, fe)
		if chunked {
			c.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
			w := bufio.NewWriterSize(c.c, 64<<10)
			buf := make([]byte, 50000)
			src := &bigBody{left: size}
			for {
				n, _ := io.ReadFull(src, buf)
				if n == 0 {
					break
				}
				fmt.Fprintf(w, "%x\r\n", n)
				w.Write(buf[:n])
				w.WriteString("\r\n")
			}
			w.WriteString("0\r\n\r\n")
			w.Flush()
		} else {
			c.send(fmt.Sprintf("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size))
			io.Copy(c.c, &bigBody{left: size})
		}
		resp, _ := c.read("POST")
		if resp.Header.Get("X-Body-Len") != fmt.Sprint(size) || resp.Header.Get("X-Body-Crc") != fmt.Sprintf("%08x", want.Sum32()) {
			t.Errorf("chunked=%v: server got %s bytes crc %s", chunked, resp.Header.Get("X-Body-Len"), resp.Header.Get("X-Body-Crc"))
		}
	}
	// Download with Content-Length and chunked.
	for _, path := range []string{"/size/", "/chunked/"} {
		c := dial(t, fe)
		c.send(fmt.Sprintf("GET %s%d HTTP/1.1\r\nHost: a\r\n\r\n", path, size))
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != size {
			t.Errorf("%s: got %d bytes, %v", path, n, err)
		}
	}
	goruntime.ReadMemStats(&after)
	// 400 MB went through the process; what it allocated must not grow
	// with the body size.
	t.Logf("allocated %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 32<<20 {
		t.Errorf("allocated %d MiB while streaming 400 MiB", grown>>20)
	}
}

func TestQueueAndQueueTimeout(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe, fe2 := freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`
frontend fe
    bind %s
    default_backend be
frontend fe2
    bind %s
    default_backend be_short
backend be
    timeout queue 5s
    server s1 %s maxconn 1
backend be_short
    timeout queue 200ms
    server s1 %s maxconn 1
`, fe, fe2, s1.Addr(), s1.Addr()), nil)
	// Queued requests wait for the slot and are served in order.
	var wg sync.WaitGroup
	results := make([]int, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st, _, _ := get(t, fe, "GET /sleep/200 HTTP/1.1\r\nHost: a\r\n\r\n")
			results[i] = st
		}(i)
	}
	wg.Wait()
	for i, st := range results {
		if st != 200 {
			t.Errorf("queued request %d: status %d", i, st)
		}
	}
	// A full server and a short queue timeout: 503.
	c := dial(t, fe2)
	c.send("GET /sleep/1500 HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	st, _, body := get(t, fe2, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if st != 503 || !strings.Contains(body, "No server is available") {
		t.Errorf("queue timeout: %d %q", st, body)
	}
	if resp, _ := c.read("GET"); resp.StatusCode != 200 {
		t.Errorf("slow request: %d", resp.StatusCode)
	}
}

func TestFrontendMaxconnStopsAccepting(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n maxconn 2\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	a, b := dial(t, fe), dial(t, fe)
	for _, c := range []*client{a, b} {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read("GET")
	}
	third := dial(t, fe)
	third.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	third.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := third.br.ReadByte(); err == nil {
		t.Fatal("third connection served while maxconn 2 were open")
	}
	a.c.Close()
	third.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, _ := third.read("GET"); resp.StatusCode != 200 {
		t.Errorf("third connection after a slot freed: %d", resp.StatusCode)
	}
}

func TestForwardForOptions(t *testing.T) {
	s1 := startEcho(t, "s1")
	fes := []string{freePort(t), freePort(t), freePort(t)}
	startGohap(t, fmtCfg(baseDefaults+`
frontend f1
    bind %s
    option forwardfor except 127.0.0.0/8
    default_backend be
frontend f2
    bind %s
    option forwardfor header X-Client-IP
    default_backend be
frontend f3
    bind %s
    option forwardfor if-none
    default_backend be
backend be
    server s1 %s
`, fes[0], fes[1], fes[2], s1.Addr()), nil)
	cases := []struct {
		fe, extra, want, notWant string
	}{
		{fes[0], "", "", "x-forwarded-for"},
		{fes[1], "", "x-client-ip: 127.0.0.1\r\n", "x-forwarded-for"},
		{fes[2], "X-Forwarded-For: 10.1.1.1\r\n", "x-forwarded-for: 10.1.1.1\r\n\r\n", "127.0.0.1"},
		{fes[2], "", "x-forwarded-for: 127.0.0.1\r\n", ""},
	}
	for i, c := range cases {
		_, _, body := get(t, c.fe, "GET / HTTP/1.1\r\nHost: a\r\n"+c.extra+"\r\n")
		if c.want != "" && !strings.Contains(body, c.want) || c.notWant != "" && strings.Contains(body, c.notWant) {
			t.Errorf("case %d: server saw %q", i, body)
		}
	}
}

func TestWeightsOver1000Requests(t *testing.T) {
	servers := []string{"w5", "w3", "w2"}
	run := func(start func(cfg, fe string)) map[string]int {
		a, b, c := startEcho(t, "w5"), startEcho(t, "w3"), startEcho(t, "w2")
		fe := freePort(t)
		start(fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n balance roundrobin\n server w5 %s weight 5\n server w3 %s weight 3\n server w2 %s weight 2\n",
			fe, a.Addr(), b.Addr(), c.Addr()), fe)
		cl := dial(t, fe)
		counts := map[string]int{}
		for i := 0; i < 1000; i++ {
			cl.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, _ := cl.read("GET")
			counts[resp.Header.Get("X-Server")]++
		}
		return counts
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	want := map[string]int{"w5": 500, "w3": 300, "w2": 200}
	for _, s := range servers {
		if got[s] != want[s] {
			t.Errorf("gohap: %s served %d, want %d", s, got[s], want[s])
		}
	}
	if haproxyBin() != "" {
		ha := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		for _, s := range servers {
			if ha[s] != got[s] {
				t.Errorf("%s: haproxy %d, gohap %d", s, ha[s], got[s])
			}
		}
	}
}

func TestHealthCheckMarksServerDownAndUp(t *testing.T) {
	s1 := startEcho(t, "s1")
	// s2's port is taken over by a listener only later.
	s2addr := freePort(t)
	fe := freePort(t)
	core, logs := observer.New(zap.InfoLevel)
	startGohapLog(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s check inter 100ms\n server s2 %s check inter 100ms rise 1 fall 1\n", fe, s1.Addr(), s2addr), nil, zap.New(core))
	// Once s2 is seen DOWN, every request goes to s1.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		for i := 0; i < 4; i++ {
			if _, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); srv != "s1" {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("s2 never marked DOWN")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ln, err := net.Listen("tcp", s2addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", s2addr, err)
	}
	ln.Close()
	s2, err := startEchoAt("s2", s2addr)
	if err != nil {
		t.Skip(err)
	}
	defer s2.Close()
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); srv == "s2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("s2 never marked UP again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var msgs []string
	for _, e := range logs.All() {
		msgs = append(msgs, e.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`Server be/s2 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: `,
		"ms. 1 active and 0 backup servers left. ", " sessions active, 0 requeued, 0 remaining in queue.",
		"Server be/s2 is UP, reason: Layer4 check passed, check duration: ",
		"ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
}

func TestTCPMode(t *testing.T) {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	fe := freePort(t)
	startGohap(t, fmtCfg(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen l
    bind %s
    balance roundrobin
    server s1 %s
    server s2 %s
`, fe, s1.Addr(), s2.Addr()), nil)
	var seen []string
	for i := 0; i < 4; i++ {
		_, srv, body := get(t, fe, "GET /raw HTTP/1.1\r\nHost: a\r\n\r\n")
		// TCP mode forwards bytes untouched: no header is added.
		if body != "GET /raw HTTP/1.1\r\nHost: a\r\n\r\n" {
			t.Errorf("tcp mode changed the request: %q", body)
		}
		seen = append(seen, srv)
	}
	if strings.Join(seen, ",") != "s1,s2,s1,s2" {
		t.Errorf("tcp balancing: %v", seen)
	}
}

func wsDial(t testing.TB, addr, path string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	return c
}

func TestThousandConcurrentWebSockets(t *testing.T) {
	// Four descriptors per tunnel live in this process: client, proxy
	// client side, proxy server side, upstream.
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Max < 4500 {
		t.Skipf("needs 4,500 file descriptors, the limit is %d", rl.Max)
	}
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+" timeout tunnel 30s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	const n = 1000
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
			c, _, err := d.Dial("ws://"+fe+"/ws", nil)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("dial: %v", err)
	}
	// All tunnels are open at once; each echoes its own message.
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *websocket.Conn) {
			defer wg.Done()
			msg := fmt.Sprintf("message %d", i)
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Errorf("%d: write: %v", i, err)
				return
			}
			_, got, err := c.ReadMessage()
			if err != nil || string(got) != msg {
				t.Errorf("%d: got %q, %v", i, got, err)
			}
		}(i, c)
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
}

func TestIdleTunnelTimeouts(t *testing.T) {
	s1 := startEcho(t, "s1")
	feTunnel, feClient := freePort(t), freePort(t)
	startGohap(t, fmtCfg(`
defaults
    mode http
    timeout connect 1s
frontend ft
    bind %s
    timeout client 10s
    default_backend bt
frontend fc
    bind %s
    timeout client 300ms
    default_backend bc
backend bt
    timeout server 10s
    timeout tunnel 300ms
    server s1 %s
backend bc
    timeout server 10s
    server s1 %s
`, feTunnel, feClient, s1.Addr(), s1.Addr()), nil)
	for _, fe := range []string{feTunnel, feClient} {
		c := wsDial(t, fe, "/ws")
		// Activity keeps the tunnel open past the timeout.
		for i := 0; i < 4; i++ {
			time.Sleep(100 * time.Millisecond)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.WriteMessage(websocket.TextMessage, []byte("ping"))
			if _, _, err := c.ReadMessage(); err != nil {
				t.Fatalf("%s: active tunnel closed: %v", fe, err)
			}
		}
		// Then idleness closes it.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadMessage(); err == nil {
			t.Errorf("%s: idle tunnel not closed", fe)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: idle tunnel still open after 5s", fe)
		}
		c.Close()
	}
}

func TestClientHalfClose(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	c, err := net.Dial("tcp", fe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /untilclose HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	// The client shuts its sending side; the response still arrives whole.
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(b), "host: a\r\n\r\n") {
		t.Errorf("after half-close: %q", b)
	}
}

// timeout http-request bounds the head only; a slow body is under
// timeout client.
func TestSlowBodyAfterHTTPRequestTimeout(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n timeout http-request 200ms\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	c := dial(t, fe)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n")
	for _, part := range []string{"ab", "cd", "ef"} {
		time.Sleep(150 * time.Millisecond)
		c.send(part)
	}
	resp, _ := c.read("POST")
	if resp.StatusCode != 200 || resp.Header.Get("X-Body-Len") != "6" {
		t.Errorf("slow body: %d, server got %s bytes", resp.StatusCode, resp.Header.Get("X-Body-Len"))
	}
}

// With roundrobin, a keep-alive client alternates servers and each
// server connection is kept for its next turn.
func TestIdleServerConnectionsPerServer(t *testing.T) {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n server s2 %s\n", fe, s1.Addr(), s2.Addr()), nil)
	c := dial(t, fe)
	for i := 0; i < 20; i++ {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read("GET")
	}
	if a, b := s1.Conns.Load(), s2.Conns.Load(); a != 1 || b != 1 {
		t.Errorf("server connections: s1 %d s2 %d, want 1 each", a, b)
	}
}

// option nolinger closes with a reset instead of a FIN, as HAProxy does.
func TestNoLingerResets(t *testing.T) {
	s1 := startEcho(t, "s1")
	for _, opt := range []string{"", " option nolinger\n"} {
		fe := freePort(t)
		startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", fe, opt, s1.Addr()), nil)
		c := dial(t, fe)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if resp, _ := c.read("GET"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		_, err := io.ReadAll(c.br)
		reset := err != nil && strings.Contains(err.Error(), "reset")
		if reset != (opt != "") {
			t.Errorf("option %q: close after the response gave %v", opt, err)
		}
	}
}

// procTCP is /proc/net/tcp, a line's fields each.
func procTCP(t *testing.T) [][]string {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp")
	}
	var out [][]string
	for _, l := range strings.Split(string(data), "\n") {
		out = append(out, strings.Fields(l))
	}
	return out
}

// hexAddr4 is an IPv4 address and port as /proc/net/tcp shows them.
func hexAddr4(a string) string {
	ap := netip.MustParseAddrPort(a)
	ip := ap.Addr().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
}

// procTimer returns the kernel timer of the TCP socket with the given
// local (any when "") and remote addresses ("02" is the keep-alive
// timer), from /proc/net/tcp.
func procTimer(t *testing.T, local, remote string) string {
	for _, f := range procTCP(t) {
		// Established sockets only: a TIME_WAIT one of an earlier test
		// may share the address.
		if len(f) > 5 && f[3] == "01" && (local == "" || f[1] == hexAddr4(local)) && f[2] == hexAddr4(remote) {
			tr, _, _ := strings.Cut(f[5], ":")
			return tr
		}
	}
	return "none"
}

// TCP keep-alive is off unless option clitcpka/srvtcpka/tcpka asks for
// it, as with HAProxy: an idle client connection shows the kernel's
// keep-alive timer only on the frontend with clitcpka.
func TestTCPKeepAliveOptions(t *testing.T) {
	s1 := startEcho(t, "s1")
	run := func(start func(cfg string, fes []string)) []string {
		fe, fe2 := freePort(t), freePort(t)
		start(fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nfrontend fe2\n bind %s\n option clitcpka\n default_backend be\nbackend be\n server s1 %s\n", fe, fe2, s1.Addr()), []string{fe, fe2})
		var out []string
		for _, a := range []string{fe, fe2} {
			c, err := net.Dial("tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			// The timer shows once the proxy accepted the connection and
			// set its options: give a loaded machine up to a second.
			tm := procTimer(t, a, c.LocalAddr().String())
			for end := time.Now().Add(time.Second); tm != "02" && time.Now().Before(end); {
				time.Sleep(50 * time.Millisecond)
				tm = procTimer(t, a, c.LocalAddr().String())
			}
			out = append(out, tm)
			c.Close()
		}
		return out
	}
	got := run(func(cfg string, _ []string) { startGohap(t, cfg, nil) })
	if got[0] != "00" || got[1] != "02" {
		t.Errorf("gohap keep-alive timers: plain %s, clitcpka %s; want 00 and 02", got[0], got[1])
	}
	if haproxyBin() != "" {
		want := run(func(cfg string, fes []string) { startHAProxy(t, cfg, fes[0]) })
		if strings.Join(want, " ") != strings.Join(got, " ") {
			t.Errorf("haproxy %v, gohap %v", want, got)
		}
	}
}
