package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestResponseFramingDeletedDifferential: a response rule that removes
// an answer's Content-Length or Transfer-Encoding leaves HAProxy's
// framing as it read it: its HTTP/1 side sends the body chunked (to
// HTTP/1.0 clients too), its HTTP/2 side with no length.
func TestResponseFramingDeletedDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	answers := map[string]string{
		"/cl":      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nhello world",
		"/chunked": "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"/trailer": "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n",
		"/204":     "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
		"/empty":   "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
		"/10":      "HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello",
	}
	up := servePaths(t, answers)
	cfg := baseDefaults + "frontend fe\n bind %s\n http-response del-header content-length\n http-response del-header transfer-encoding\n http-response set-header x-cl \"%%[res.hdr(content-length)]\"\n default_backend b\nbackend b\n server s1 %s\n"
	feH, feG := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, feH, up), feH)
	startGohap(t, fmt.Sprintf(cfg, feG, up), nil)
	for _, p := range []string{"/cl", "/chunked", "/trailer", "/204", "/empty", "/10"} {
		for _, r := range []string{"GET %s HTTP/1.1\r\nhost: a\r\n\r\n", "HEAD %s HTTP/1.1\r\nhost: a\r\n\r\n", "GET %s HTTP/1.0\r\n\r\n"} {
			req := fmt.Sprintf(r, p)
			method := strings.Fields(req)[0]
			// Two requests on one connection: the framing must hold.
			h, _ := exchange(t, feH, req+req, []string{method, method}, 2*time.Second)
			g, _ := exchange(t, feG, req+req, []string{method, method}, 2*time.Second)
			if h != g {
				t.Errorf("%q:\n haproxy: %q\n gohap:   %q", req, h, g)
			}
		}
		c := h2RandCase{fields: []string{":method", "GET", ":scheme", "http", ":path", p, ":authority", "a"}, es: true}
		if h, g := h2RandExchange(t, feH, c), h2RandExchange(t, feG, c); h != g {
			t.Errorf("HTTP/2 %s:\n haproxy: %s\n gohap:   %s", p, h, g)
		}
	}
}

// TestRequestFramingDeletedDifferential: a request rule that removes a
// body's Content-Length or Transfer-Encoding leaves the framing HAProxy
// read: an HTTP/1.1 body goes to the server chunked, an HTTP/1.0 one as
// it is, a Content-Length of 0 with nothing.
func TestRequestFramingDeletedDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	rec := func() (string, func() string) {
		got := make(chan string, 4)
		addr := serveRaw(t, func(c net.Conn) {
			// Everything the proxy sends within a moment, then an answer.
			var b []byte
			buf := make([]byte, 4096)
			c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			for {
				n, err := c.Read(buf)
				b = append(b, buf[:n]...)
				if err != nil {
					break
				}
			}
			got <- string(b)
			io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
		})
		return addr, func() string {
			select {
			case g := <-got:
				return g
			case <-time.After(2 * time.Second):
				return "(nothing)"
			}
		}
	}
	upH, takeH := rec()
	upG, takeG := rec()
	cfg := baseDefaults + "frontend fe\n bind %s\n http-request set-header x-cl \"%%[req.hdr(content-length)]\"\n http-request del-header content-length\n http-request del-header transfer-encoding\n default_backend b\nbackend b\n server s1 %s\n"
	feH, feG := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, feH, upH), feH)
	startGohap(t, fmt.Sprintf(cfg, feG, upG), nil)
	for _, req := range []string{
		"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello",
		"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n",
		"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n",
		"POST / HTTP/1.0\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello",
	} {
		h, _ := exchange(t, feH, req, []string{"POST"}, 2*time.Second)
		g, _ := exchange(t, feG, req, []string{"POST"}, 2*time.Second)
		hs, gs := takeH(), takeG()
		if h != g || hs != gs {
			t.Errorf("%q:\n haproxy: %q\n  server got %q\n gohap:   %q\n  server got %q", req, h, hs, g, gs)
		}
	}
	// The body arriving after the head: chunked as it comes.
	for _, addr := range []string{feH, feG} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhe")
		time.Sleep(30 * time.Millisecond)
		io.WriteString(c, "llo")
		c.Close()
	}
	if hs, gs := takeH(), takeG(); strings.ReplaceAll(hs, "\r\n2\r\nhe\r\n3\r\nllo\r\n", "\r\n5\r\nhello\r\n") != strings.ReplaceAll(gs, "\r\n2\r\nhe\r\n3\r\nllo\r\n", "\r\n5\r\nhello\r\n") {
		t.Errorf("body in two parts:\n haproxy server got %q\n gohap server got   %q", hs, gs)
	}
}

// TestRuleStatusWithoutBodyDifferential: a rule that gives an answer with
// a body a status that has none (204, 304) drops the body the server sent
// (HAProxy reads it on); 304 keeps its Content-Length.
func TestRuleStatusWithoutBodyDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := servePaths(t, map[string]string{
		"/404": "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nnop",
		"/403": "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nnop",
		"/402": "HTTP/1.1 402 Payment Required\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	})
	cfg := baseDefaults + "frontend fe\n bind %s\n http-response set-status 204 if { status 404 }\n http-response set-status 304 if { status 403 }\n http-response set-status 204 if { status 402 }\n http-response set-header x-s %%[status]\n default_backend b\nbackend b\n server s1 %s\n"
	feH, feG := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, feH, up), feH)
	startGohap(t, fmt.Sprintf(cfg, feG, up), nil)
	for _, p := range []string{"/404", "/403", "/402", "/empty"} {
		req := "GET " + p + " HTTP/1.1\r\nhost: a\r\n\r\n"
		h, _ := exchange(t, feH, req+req, []string{"GET", "GET"}, time.Second)
		g, _ := exchange(t, feG, req+req, []string{"GET", "GET"}, time.Second)
		if h != g {
			t.Errorf("%s:\n haproxy %q\n gohap   %q", p, h, g)
		}
		// HTTP/2 clients are left out: HAProxy keeps the length and
		// ends the stream with an empty DATA frame, gohap ends it with
		// the head.
	}
}

// servePaths is an HTTP/1 server answering each request with the answer
// its path names in answers, an empty 200 for the others; an HTTP/1.0
// answer closes the connection.
func servePaths(t *testing.T, answers map[string]string) string {
	return serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			a, ok := answers[req.URL.Path]
			if !ok {
				a = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
			}
			io.WriteString(c, a)
			if strings.HasPrefix(a, "HTTP/1.0") {
				return
			}
		}
	})
}
