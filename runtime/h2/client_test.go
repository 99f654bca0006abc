package h2

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// startGoH2Server runs Go's HTTP/2 server (h2c prior knowledge).
func startGoH2Server(t *testing.T, srv *http2.Server, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(c, &http2.ServeConnOpts{Handler: h})
		}
	}()
	return ln.Addr().String()
}

func dialClient(t *testing.T, addr string, cfg *Config) *ClientConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := NewClientConn(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cc.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	return cc
}

// exchange writes an HTTP/1.1 request into a new stream and reads the
// HTTP/1.1 response, raw.
func exchange(t *testing.T, cc *ClientConn, req string) string {
	t.Helper()
	s, err := cc.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(s, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, b)
	}
	return string(b)
}

func goEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-T")
		w.(http.Flusher).Flush()
		fmt.Fprintf(w, "%s %s %s host=%s te=%s body=%s trailer=%s", r.Method, r.URL.Scheme, r.URL.RequestURI(), r.Host, r.Header.Get("Te"), body, r.Trailer.Get("X-In"))
		w.Header().Set("X-T", "done")
	})
}

func TestClientAgainstGoServer(t *testing.T) {
	addr := startGoH2Server(t, &http2.Server{}, goEcho())
	cc := dialClient(t, addr, nil)

	got := exchange(t, cc, "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\nTE: trailers\r\n\r\n")
	for _, w := range []string{"HTTP/1.1 200 \r\n", "transfer-encoding: chunked\r\n", "GET  /a?x=1 host=example.com te=trailers body= trailer=", "0\r\nx-t: done\r\n\r\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("GET: %q lacks %q", got, w)
		}
	}
	got = exchange(t, cc, "POST /p HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\n\r\nhello")
	if !strings.Contains(got, "POST  /p host=e te= body=hello") {
		t.Errorf("POST: %q", got)
	}
	got = exchange(t, cc, "PUT /c HTTP/1.1\r\nHost: e\r\nTrailer: X-In\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-In: v\r\n\r\n")
	if !strings.Contains(got, "body=abcde trailer=v") {
		t.Errorf("chunked PUT: %q", got)
	}
	got = exchange(t, cc, "GET http://abs.example/path HTTP/1.1\r\nHost: abs.example\r\n\r\n")
	if !strings.Contains(got, "/path host=abs.example") {
		t.Errorf("absolute URI: %q", got)
	}
	// A response with a content-length keeps it, and a HEAD none.
	addr2 := startGoH2Server(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		io.WriteString(w, "ok")
	}))
	cc2 := dialClient(t, addr2, nil)
	got = exchange(t, cc2, "GET / HTTP/1.1\r\nHost: e\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 200 \r\n") || !strings.Contains(got, "content-length: 2\r\n") || !strings.HasSuffix(got, "\r\n\r\nok") {
		t.Errorf("CL response: %q", got)
	}
	got = exchange(t, cc2, "HEAD / HTTP/1.1\r\nHost: e\r\n\r\n")
	if !strings.HasSuffix(got, "\r\n\r\n") || strings.Contains(got, "chunked") {
		t.Errorf("HEAD: %q", got)
	}
}

func TestClientStreamLimitAndGoAway(t *testing.T) {
	release := make(chan struct{})
	addr := startGoH2Server(t, &http2.Server{MaxConcurrentStreams: 1}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "x")
	}))
	cc := dialClient(t, addr, nil)
	s1, err := cc.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.OpenStream(); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("second stream: %v", err)
	}
	s1.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(s1, "GET / HTTP/1.1\r\nHost: e\r\n\r\n")
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(s1), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "x" {
		t.Fatalf("body %q", b)
	}
	s1.Close()
	if !cc.CanOpen() {
		t.Fatal("slot not released")
	}
}

// Our client against our server: both ends of this package.
func TestClientAgainstServeConn(t *testing.T) {
	addr := startServer(t, nil, echoServe)
	cc := dialClient(t, addr, nil)
	got := exchange(t, cc, "POST /both HTTP/1.1\r\nHost: e\r\nCookie: a=1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
	for _, w := range []string{"HTTP/1.1 200 \r\n", "POST /both\n", "host=e\n", "Cookie=a=1\n", "body=abcd\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
}

// A WebSocket handshake written by the engine goes out as an extended
// CONNECT when the server allows it, and the 200 comes back as a 101.
func TestClientWebSocket(t *testing.T) {
	addr := startServer(t, nil, forwarder(startWSUpstream(t)))
	cc := dialClient(t, addr, nil)
	s, err := cc.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(s, "GET /ws HTTP/1.1\r\nHost: e\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(s)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	s.Write(wsFrame("hi"))
	frame := make([]byte, 9)
	if _, err := io.ReadFull(br, frame); err != nil {
		t.Fatal(err)
	}
	if string(frame[2:]) != "echo:hi" {
		t.Fatalf("frame %q", frame)
	}
}

// TestClientCloseShutsWrite: Close sends GOAWAY and FIN but reads on, so
// that frames the server sends meanwhile do not make the socket answer
// with a reset, which would lose what the server has not read yet.
func TestClientCloseShutsWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetDeadline(time.Now().Add(5 * time.Second))
	fr := http2.NewFramer(srv, srv)
	fr.WriteSettings()
	cc, err := NewClientConn(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	pre := make([]byte, len(Preface))
	if _, err := io.ReadFull(srv, pre); err != nil || string(pre) != Preface {
		t.Fatalf("preface %q: %v", pre, err)
	}
	cc.Close()
	// The client's frames, the GOAWAY last, then the end of the stream.
	var last http2.FrameType
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the client: %v", err)
		}
		last = f.Header().Type
	}
	if last != http2.FrameGoAway {
		t.Fatalf("last frame %v, want GOAWAY", last)
	}
	// Frames the server sends now are read and dropped: no reset comes
	// back, so a second write after a pause still succeeds.
	for i := 0; i < 2; i++ {
		if err := fr.WriteSettingsAck(); err != nil {
			t.Fatalf("write %d after the client's FIN: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The client closes once the server does.
	srv.(*net.TCPConn).CloseWrite()
	select {
	case <-cc.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the client kept the connection after the server closed")
	}
}
