package h2

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gohap/gohap/examples/freeport"
	"github.com/gohap/gohap/runtime/h1"
)

func haproxyBin(t *testing.T) string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	if b, err := exec.LookPath("haproxy"); err == nil {
		return b
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy 2.6 to compare with")
	return ""
}

func freePort(t *testing.T) int {
	// freeport's ports are handed once across the test binaries: haproxy
	// binds with SO_REUSEPORT.
	a, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		t.Fatal(err)
	}
	return int(ap.Port())
}

// startHAProxy runs haproxy with cfg and waits for port to accept.
func startHAProxy(t *testing.T, cfg string, port int) {
	bin := haproxyBin(t)
	p := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", p)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy did not start: %s", stderr.String())
}

// upstream is an HTTP/1.1 server that reports every request it reads,
// raw, and answers 200 "ok" then closes.
type upstream struct {
	addr string
	got  chan string
}

func startUpstream(t *testing.T) *upstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: ln.Addr().String(), got: make(chan string, 200)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				req, err := readH1Request(bufio.NewReader(c))
				if req == "" {
					return
				}
				if err != nil {
					u.got <- req + " (incomplete)"
					return
				}
				u.got <- req
				io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
			}()
		}
	}()
	return u
}

// drain returns what the upstream received within wait.
func (u *upstream) drain(wait time.Duration) []string {
	var out []string
	tm := time.After(wait)
	for {
		select {
		case s := <-u.got:
			out = append(out, s)
		case <-tm:
			return out
		}
	}
}

// forwarder models the HTTP/1.1 engine on a Stream: it parses the
// request head as the engine does (400 on error) and relays the
// exchange with the upstream.
func forwarder(up string) func(st *Stream) {
	return func(st *Stream) {
		st.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReaderSize(st, 64<<10)
		var head []byte
		for h1.HeadEnd(head, 0) == 0 {
			line, err := br.ReadSlice('\n')
			head = append(head, line...)
			if err != nil {
				return
			}
		}
		var m h1.Msg
		if err := h1.ParseRequest(head, &m, 2*101); err != nil {
			io.WriteString(st, badRequestPage)
			return
		}
		uc, err := net.Dial("tcp", up)
		if err != nil {
			io.WriteString(st, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
			return
		}
		defer uc.Close()
		uc.SetDeadline(time.Now().Add(5 * time.Second))
		uc.Write(head)
		done := make(chan struct{})
		go func() {
			defer close(done)
			// A request that cannot complete aborts the exchange.
			if _, err := io.Copy(uc, br); err != nil {
				uc.Close()
			}
		}()
		io.Copy(st, uc)
		// The Stream must not be used once this function returns.
		st.Close()
		<-done
	}
}

type diffCase struct {
	name string
	run  func(rc *rawClient) uint32
}

// req sends a request HEADERS frame on stream 1.
func req(es bool, fields ...string) func(rc *rawClient) uint32 {
	return func(rc *rawClient) uint32 {
		rc.headers(1, es, fields...)
		return 1
	}
}

var get = []string{":method", "GET", ":scheme", "http", ":path", "/"}

func with(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

var diffCases = []diffCase{
	{"valid GET", req(true, with(get, ":authority", "example.com")...)},
	{"no authority, host", req(true, with(get, "host", "h.example")...)},
	{"desync c3 invalid path", req(true, ":method", "GET", ":scheme", "http", ":path", "hello-world")},
	{"desync c4 invalid scheme", req(true, ":method", "GET", ":scheme", "http://localhost/?", ":path", "/")},
	{"desync c5 invalid method", req(true, ":method", "GET?", ":scheme", "http", ":path", "/")},
	{"desync c6 authority and host", req(true, with(get, ":authority", "hostname", "host", "other_host")...)},
	{"uppercase name", req(true, with(get, "X-Foo", "1")...)},
	{"uppercase Z only", req(true, with(get, "zZz", "1")...)},
	{"connection header", req(true, with(get, "connection", "close")...)},
	{"proxy-connection", req(true, with(get, "proxy-connection", "keep-alive")...)},
	{"keep-alive header", req(true, with(get, "keep-alive", "5")...)},
	{"upgrade header", req(true, with(get, "upgrade", "h2c")...)},
	{"transfer-encoding header", req(false, with(get, "transfer-encoding", "chunked")...)},
	{"te trailers", req(true, with(get, "te", "trailers")...)},
	{"te gzip", req(true, with(get, "te", "gzip")...)},
	{"pseudo after regular", req(true, ":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/")},
	{"duplicate path", req(true, with(get, ":path", "/x")...)},
	{"missing method", req(true, ":scheme", "http", ":path", "/")},
	{"missing scheme", req(true, ":method", "GET", ":path", "/")},
	{"missing path", req(true, ":method", "GET", ":scheme", "http")},
	{"empty path", req(true, ":method", "GET", ":scheme", "http", ":path", "")},
	{"unknown pseudo", req(true, with(get, ":foo", "bar")...)},
	{"status in request", req(true, with(get, ":status", "200")...)},
	{"CR in value", req(true, with(get, "x-a", "a\rb")...)},
	{"LF in value", req(true, with(get, "x-a", "a\nb")...)},
	{"NUL in value", req(true, with(get, "x-a", "a\x00b")...)},
	{"space in path", req(true, ":method", "GET", ":scheme", "http", ":path", "/a b")},
	{"tab in value", req(true, with(get, "x-a", "a\tb")...)},
	{"space in name", req(true, with(get, "x a", "1")...)},
	{"cookie crumbs", req(true, with(get, "cookie", "a=1", "x-b", "2", "cookie", "b=2", "cookie", "c=3")...)},
	{"authority default port", req(true, with(get, ":authority", "example.com:80")...)},
	{"authority https port", req(true, ":method", "GET", ":scheme", "https", ":path", "/s", ":authority", "example.com:443")},
	{"authority other port", req(true, with(get, ":authority", "example.com:8080")...)},
	{"OPTIONS star", req(true, ":method", "OPTIONS", ":scheme", "http", ":path", "*", ":authority", "example.com")},
	{"OPTIONS star no authority", req(true, ":method", "OPTIONS", ":scheme", "http", ":path", "*")},
	{"other scheme", req(true, ":method", "GET", ":scheme", "ftp", ":path", "/f", ":authority", "example.com")},
	{"CONNECT without authority", req(false, ":method", "CONNECT")},
	{"CONNECT with path", req(false, ":method", "CONNECT", ":authority", "a:1", ":path", "/")},
	{"no regular headers, authority", req(true, ":method", "GET", ":scheme", "http", ":path", "/n", ":authority", "auth.example")},
	{"CL body", func(rc *rawClient) uint32 {
		rc.headers(1, false, with(get, ":authority", "e", "content-length", "5")...)
		rc.data(1, true, "hello")
		return 1
	}},
	{"CL list", func(rc *rawClient) uint32 {
		rc.headers(1, false, with(get, ":authority", "e", "content-length", "5, 5", "content-length", "5")...)
		rc.data(1, true, "hello")
		return 1
	}},
	{"CL differs", req(false, with(get, "content-length", "5, 6")...)},
	{"CL not a number", req(false, with(get, "content-length", "5a")...)},
	{"CL short body", func(rc *rawClient) uint32 {
		rc.headers(1, false, with(get, "content-length", "5")...)
		rc.data(1, true, "abc")
		return 1
	}},
	{"CL long body", func(rc *rawClient) uint32 {
		rc.headers(1, false, with(get, "content-length", "3")...)
		rc.data(1, true, "abcdef")
		return 1
	}},
	{"CL with ES on HEADERS", req(true, with(get, "content-length", "10")...)},
	{"CL zero", req(true, with(get, "content-length", "0")...)},
	{"chunked body", func(rc *rawClient) uint32 {
		rc.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/c", ":authority", "e")
		rc.data(1, false, "abc")
		rc.data(1, true, "de")
		return 1
	}},
	{"trailers", func(rc *rawClient) uint32 {
		rc.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/t", ":authority", "e")
		rc.data(1, false, "abc")
		rc.headers(1, true, "x-trailer", "v")
		return 1
	}},
	{"trailers with pseudo", func(rc *rawClient) uint32 {
		rc.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/t", ":authority", "e")
		rc.data(1, false, "abc")
		rc.headers(1, true, ":path", "/x")
		return 1
	}},
	{"trailers without ES", func(rc *rawClient) uint32 {
		rc.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/t", ":authority", "e")
		rc.data(1, false, "abc")
		rc.headers(1, false, "x-trailer", "v")
		return 1
	}},
	{"DATA on idle stream", func(rc *rawClient) uint32 {
		rc.data(3, true, "x")
		return 3
	}},
	{"HEADERS on even stream", func(rc *rawClient) uint32 {
		rc.headers(2, true, get...)
		return 2
	}},
	{"DATA after ES", func(rc *rawClient) uint32 {
		rc.headers(1, true, with(get, ":authority", "e")...)
		rc.data(1, true, "x")
		return 1
	}},
	{"frame too large", func(rc *rawClient) uint32 {
		rc.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "e")
		rc.data(1, true, strings.Repeat("x", 20000))
		return 1
	}},
	{"conn WINDOW_UPDATE 0", func(rc *rawClient) uint32 {
		rc.fr.WriteWindowUpdate(0, 0)
		rc.flush()
		return 1
	}},
	{"CONTINUATION alone", func(rc *rawClient) uint32 {
		rc.fr.WriteContinuation(1, true, rc.block(get...))
		rc.flush()
		return 1
	}},
	{"PRIORITY on itself", func(rc *rawClient) uint32 {
		rc.fr.WritePriority(1, http2.PriorityParam{StreamDep: 1, Weight: 1})
		rc.flush()
		return 1
	}},
	{"RST on idle stream", func(rc *rawClient) uint32 {
		rc.fr.WriteRSTStream(1, http2.ErrCodeCancel)
		rc.flush()
		return 1
	}},
	{"PING", func(rc *rawClient) uint32 {
		rc.fr.WritePing(false, [8]byte{1, 2, 3})
		rc.flush()
		return 0
	}},
	{"HEADERS reusing closed id", func(rc *rawClient) uint32 {
		rc.headers(3, true, with(get, ":authority", "e")...)
		rc.outcome(3)
		rc.headers(1, true, with(get, ":authority", "e")...)
		return 1
	}},
	{"HEADERS split in CONTINUATION", func(rc *rawClient) uint32 {
		b := rc.block(with(get, ":authority", "e", "x-long", strings.Repeat("v", 300))...)
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:10], EndStream: true})
		rc.fr.WriteContinuation(1, false, b[10:100])
		rc.fr.WriteContinuation(1, true, b[100:])
		rc.flush()
		return 1
	}},
	{"CONTINUATION interleaved", func(rc *rawClient) uint32 {
		b := rc.block(with(get, ":authority", "e")...)
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:5], EndStream: true})
		rc.fr.WritePing(false, [8]byte{})
		rc.flush()
		return 1
	}},
	{"big header 10k", req(true, with(get, ":authority", "e", "x-big", strings.Repeat("b", 10000))...)},
	{"big header 15k", req(true, with(get, ":authority", "e", "x-big", strings.Repeat("b", 15000))...)},
	{"big header 17k", func(rc *rawClient) uint32 {
		b := rc.block(with(get, ":authority", "e", "x-big", strings.Repeat("b", 17000))...)
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:len(b)/2], EndStream: true})
		rc.fr.WriteContinuation(1, true, b[len(b)/2:])
		rc.flush()
		return 1
	}},
	{"150 headers", func(rc *rawClient) uint32 {
		f := with(get, ":authority", "e")
		for i := 0; i < 150; i++ {
			f = append(f, fmt.Sprintf("x-h%d", i), "v")
		}
		rc.headers(1, true, f...)
		return 1
	}},
	{"250 headers", func(rc *rawClient) uint32 {
		f := with(get, ":authority", "e")
		for i := 0; i < 250; i++ {
			f = append(f, fmt.Sprintf("x-h%d", i), "v")
		}
		rc.headers(1, true, f...)
		return 1
	}},
	{"HEAD", req(true, ":method", "HEAD", ":scheme", "http", ":path", "/h", ":authority", "e")},
}

func TestHAProxyAgreement(t *testing.T) {
	bin := haproxyBin(t)
	_ = bin
	upH, upG := startUpstream(t), startUpstream(t)
	hport := freePort(t)
	startHAProxy(t, fmt.Sprintf(`global
	log stderr format raw local0 emerg
defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:%d proto h2
	default_backend be
backend be
	server s1 %s
`, hport, upH.addr), hport)
	gaddr := startServer(t, nil, forwarder(upG.addr))
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)

	agree := 0
	for _, c := range diffCases {
		hres, hup := runDiffCase(t, haddr, upH, c)
		gres, gup := runDiffCase(t, gaddr, upG, c)
		if hres == gres && hup == gup {
			t.Logf("%s: %s", c.name, hres)
			agree++
			continue
		}
		t.Errorf("%s:\n haproxy: %s\n  upstream %q\n gohap:   %s\n  upstream %q", c.name, hres, short(hup), gres, short(gup))
	}
	t.Logf("HAProxy agreement: %d/%d cases", agree, len(diffCases))
}

func runDiffCase(t *testing.T, addr string, up *upstream, c diffCase) (string, string) {
	up.drain(0)
	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	rc.handshake()
	id := c.run(rc)
	res := rc.outcome(id)
	got := up.drain(100 * time.Millisecond)
	for i := range got {
		got[i] = normChunks(got[i])
	}
	return res, strings.Join(got, "\n---\n")
}

func short(s string) string {
	if len(s) > 300 {
		return s[:150] + "..." + s[len(s)-150:]
	}
	return s
}

// normChunks rewrites a chunked body as one chunk: how DATA frames are
// grouped into chunks depends on timing.
func normChunks(req string) string {
	head, body, ok := strings.Cut(req, "\r\n\r\n")
	if !ok || !strings.Contains(strings.ToLower(head), "transfer-encoding: chunked") {
		return req
	}
	var data, rest strings.Builder
	for {
		line, after, ok := strings.Cut(body, "\r\n")
		if !ok {
			return req
		}
		var n int
		if _, err := fmt.Sscanf(line, "%x", &n); err != nil {
			return req
		}
		if n == 0 {
			rest.WriteString(after)
			break
		}
		if len(after) < n+2 {
			return req
		}
		data.WriteString(after[:n])
		body = after[n+2:]
	}
	out := head + "\r\n\r\n"
	if data.Len() > 0 {
		out += fmt.Sprintf("%x\r\n%s\r\n", data.Len(), data.String())
	}
	return out + "0\r\n" + rest.String()
}
