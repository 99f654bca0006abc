package runtime_test

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"
)

// h2Pair is one HAProxy and one gohap, each in front of its own
// h2RandUpstream, with an HTTP/2 frontend (and an HTTP/1 one) on the
// same configuration.
type h2Pair struct {
	upH, upG   *h2RandUpstream
	h2H, h2G   string // HTTP/2 frontends
	h1H, h1G   string // HTTP/1 frontends
	diffs, all int
}

func startH2Pair(t *testing.T, rules string) *h2Pair {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	p := &h2Pair{upH: startH2RandUpstream(t), upG: startH2RandUpstream(t),
		h2H: freePort(t), h2G: freePort(t), h1H: freePort(t), h1G: freePort(t)}
	cfg := baseDefaults + `frontend fe
 bind %s proto h2
 bind %s
` + rules + `
 default_backend b
backend b
 server s1 %s
backend none
`
	startHAProxy(t, fmt.Sprintf(cfg, p.h2H, p.h1H, p.upH.addr), p.h2H)
	startGohap(t, fmt.Sprintf(cfg, p.h2G, p.h1G, p.upG.addr), nil)
	return p
}

// h2 plays c on both and fails the test when the client's outcome or
// what the server was sent differ.
func (p *h2Pair) h2(t *testing.T, name string, c h2RandCase) {
	t.Helper()
	p.upH.take(c.answer)
	p.upG.take(c.answer)
	h := h2RandExchange(t, p.h2H, c)
	g := h2RandExchange(t, p.h2G, c)
	p.compare(t, name, h, g)
}

// h1 sends req on a new HTTP/1 connection to both, reads what comes
// within a moment, and compares the heads.
func (p *h2Pair) h1(t *testing.T, name, req string, answer int) {
	t.Helper()
	p.upH.take(answer)
	p.upG.take(answer)
	h, g := h1Head(t, p.h1H, req), h1Head(t, p.h1G, req)
	p.compare(t, name, h, g)
}

// h1Head sends req on a new HTTP/1 connection to addr and returns the
// head that comes back within a second, its lines joined by " | ".
func h1Head(t *testing.T, addr, req string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(c, req)
	// The head is compared: read until it ends or the proxy closes.
	var b []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(b), "\r\n\r\n") {
		n, err := c.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	s, _, _ := strings.Cut(string(b), "\r\n\r\n")
	return strings.ReplaceAll(s, "\r\n", " | ")
}

func (p *h2Pair) compare(t *testing.T, name, h, g string) {
	t.Helper()
	hr, gr := p.upH.take(0), p.upG.take(0)
	if h == g && len(hr) != len(gr) {
		// A server may read its request after the client's answer.
		time.Sleep(100 * time.Millisecond)
		hr, gr = append(hr, p.upH.take(0)...), append(gr, p.upG.take(0)...)
	}
	// Reads on different server connections come in either order.
	sort.Strings(hr)
	sort.Strings(gr)
	hu, gu := strings.Join(hr, "\n"), strings.Join(gr, "\n")
	p.all++
	if h != g || hu != gu {
		p.diffs++
		t.Errorf("%s:\n haproxy: %s\n  server got %q\n gohap:   %s\n  server got %q", name, h, hu, g, gu)
	}
}

func getFields(kv ...string) []string {
	return append([]string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "e"}, kv...)
}

// TestH2BytesDifferential puts each byte value in each pseudo-header,
// a header name and a header value of an HTTP/2 request: HAProxy (2.6 as
// Debian ships it) resets the stream for some, answers 400 for others
// (DEL in :path, controls and blanks in :authority), and forwards the
// rest (bytes above 0x7f in :path); gohap must do the same with each.
func TestH2BytesDifferential(t *testing.T) {
	p := startH2Pair(t, "")
	for _, where := range []string{":path", ":authority", ":method", ":scheme", "value", "name"} {
		for b := 0; b < 256; b++ {
			c := string(rune(b))
			if b >= 0x80 {
				c = string([]byte{byte(b)})
			}
			f := getFields()
			switch where {
			case ":path":
				f[5] = "/a" + c + "b"
			case ":authority":
				f[7] = "e" + c + "com"
			case ":method":
				f[1] = "G" + c + "T"
			case ":scheme":
				f[3] = "h" + c + "tp"
			case "value":
				f = append(f, "x-v", "a"+c+"b")
			case "name":
				f = append(f, "x"+c+"n", "v")
			}
			p.h2(t, fmt.Sprintf("%s with %#02x", where, b), h2RandCase{fields: f, es: true})
		}
	}
	t.Logf("%d of %d cases agree", p.all-p.diffs, p.all)
}

// TestH2EdgesDifferential: what HAProxy's h2 layer keeps or changes of a
// request (blanks around values, an authority with a path or userinfo,
// the target of a CONNECT, Content-Length lists, the key of an HTTP/2
// WebSocket) and of an answer (Content-Length of a 204 or an interim
// answer, the framing of bodyless answers to HEAD and extended CONNECT,
// which switch answers pass).
func TestH2EdgesDifferential(t *testing.T) {
	p := startH2Pair(t, ` http-request deny if { path /deny }
 http-request return status 200 content-type text/plain string hello if { path /ret }
 http-request redirect location /x if { path /redir }
 use_backend none if { path /none }`)
	for _, path := range []string{"/deny", "/ret", "/redir", "/none"} {
		p.h2(t, "HEAD "+path, h2RandCase{fields: []string{":method", "HEAD", ":scheme", "http", ":path", path, ":authority", "e"}, es: true})
	}
	// Answers: 0 plain, 1 chunked with trailers, 3 204 with CL 0, 4 304,
	// 18 short body, 20 bad chunk, 22 404, 24 204 with CL 5, 25 304 with
	// CL and TE, 26 100 with CL then 200.
	for _, a := range []int{0, 1, 3, 4, 18, 20, 22, 24, 25, 26} {
		p.h2(t, fmt.Sprintf("HEAD, answer %d", a), h2RandCase{fields: []string{":method", "HEAD", ":scheme", "http", ":path", "/", ":authority", "e"}, es: true, answer: a})
		p.h2(t, fmt.Sprintf("GET, answer %d", a), h2RandCase{fields: getFields(), es: true, answer: a})
	}
	p.h2(t, "HEAD refused as bad", h2RandCase{fields: []string{":method", "HEAD", ":scheme", "", ":path", "/", ":authority", "e"}, es: true})
	for _, v := range []string{"trail ", " lead", "a\t", "\ta", " ", ""} {
		for _, n := range []string{"cookie", "x-a"} {
			p.h2(t, fmt.Sprintf("%s %q", n, v), h2RandCase{fields: getFields(n, v), es: true})
			p.h2(t, fmt.Sprintf("%s %q twice", n, v), h2RandCase{fields: getFields(n, v, n, "z=1"), es: true})
		}
	}
	for _, a := range []string{"e/com", "e:80/x", "e/", "e?x/y", "e#f", "/x", "e:8080/p", "u@h", "u:p@h:80", "u@h:443"} {
		for _, scheme := range []string{"http", "https", "foo"} {
			for _, path := range []string{"/a", "*"} {
				p.h2(t, fmt.Sprintf("%s %s %s", scheme, a, path), h2RandCase{fields: []string{":method", "PUT", ":scheme", scheme, ":path", path, ":authority", a}, es: true})
			}
		}
	}
	for _, scheme := range []string{"http", "https", "foo", "A000"} {
		for _, a := range []string{"e:", "e:80", "e:443", "000:", "e:080", "u@e:"} {
			for _, path := range []string{"/", "*"} {
				p.h2(t, fmt.Sprintf("%s %s %s", scheme, a, path), h2RandCase{fields: []string{":method", "GET", ":scheme", scheme, ":path", path, ":authority", a}, es: true})
			}
		}
	}
	for _, path := range []string{"/a?\x7f", "/a?\xff", "/\xff", "/a#b", "/a?#"} {
		for _, scheme := range []string{"http", "foo"} {
			p.h2(t, fmt.Sprintf("%s path %q", scheme, path), h2RandCase{fields: []string{":method", "GET", ":scheme", scheme, ":path", path, ":authority", "e"}, es: true})
		}
	}
	for _, a := range []string{"h", "h:80", "u@h:443", "h:443", ""} {
		p.h2(t, "CONNECT "+a, h2RandCase{fields: []string{":method", "CONNECT", ":authority", a}})
	}
	for _, a := range []int{0, 3, 4, 12, 17, 22} {
		p.h2(t, fmt.Sprintf("CONNECT, answer %d", a), h2RandCase{fields: []string{":method", "CONNECT", ":authority", "h:443"}, answer: a})
	}
	for _, v := range []string{"", " ", "5,", ",5", "5,,5", "5, ", " 5", "5 ,5", "\t", ",", "05", "5\t"} {
		p.h2(t, fmt.Sprintf("content-length %q", v), h2RandCase{fields: []string{":method", "POST", ":scheme", "http", ":path", "/", ":authority", "e", "content-length", v}, data: []int{5}, dataES: true})
	}
	// Extended CONNECT: answers 0 plain, 3 204, 4 304, 12 200 without
	// body, 13 101 websocket without its key, 17 200 with a folded line,
	// 20 bad chunk, 22 404, 27 101 foo.
	for _, proto := range []string{"websocket", "foo"} {
		for _, key := range []string{"", " lead", "dGhlIHNhbXBsZSBub25jZQ=="} {
			f := []string{":method", "CONNECT", ":scheme", "https", ":path", "/", ":authority", "h", ":protocol", proto}
			if key != "" {
				f = append(f, "sec-websocket-key", key)
			}
			for _, a := range []int{0, 3, 4, 12, 13, 17, 20, 22, 27} {
				p.h2(t, fmt.Sprintf("extended CONNECT %s, key %q, answer %d", proto, key, a), h2RandCase{fields: f, answer: a})
			}
			p.h2(t, fmt.Sprintf("extended CONNECT %s, key %q, more fields", proto, key), h2RandCase{fields: append(f, "host", "a=1", "host", "b", "cookie", "c=1"), answer: 13})
		}
	}
	t.Logf("%d of %d cases agree", p.all-p.diffs, p.all)
}

// TestUpgradeAnswersDifferential: which answers to an upgrade HAProxy's
// HTTP/1 side lets through (a switch needs "Connection: upgrade" both
// ways; a WebSocket switch needs its key, whatever was asked; an HTTP/1
// WebSocket handshake needs a 24-byte key) and what it adds (the key to a
// WebSocket answer that lacks one, made from the client's or from none).
func TestUpgradeAnswersDifferential(t *testing.T) {
	p := startH2Pair(t, "")
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	reqs := []string{
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo, WebSocket\r\n" + key + "\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n",
	}
	// 13 101 websocket without key, 27 101 foo, 28-33 below.
	for i, r := range reqs {
		for _, a := range []int{13, 27, 28, 29, 30, 31, 32, 33} {
			p.h1(t, fmt.Sprintf("request %d, answer %d", i, a), r, a)
		}
	}
	t.Logf("%d of %d cases agree", p.all-p.diffs, p.all)
}

// TestExpectAndHeadDifferential: a body sent whole with its head and
// "Expect: 100-continue" goes to the server at once, as HAProxy sends it
// (gohap waited for a 100 Continue the server never sent); a HEAD answer
// followed by bytes that do not parse as its chunked body is forwarded.
func TestExpectAndHeadDifferential(t *testing.T) {
	p := startH2Pair(t, "")
	for _, a := range []int{0, 5} {
		p.h1(t, fmt.Sprintf("length body, answer %d", a), "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", a)
		p.h1(t, fmt.Sprintf("chunked body, answer %d", a), "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", a)
		for _, f := range [][]string{{"expect", "100-continue"}, {"expect", "100-continue", "content-length", "2"}} {
			p.h2(t, fmt.Sprintf("HTTP/2 %q, answer %d", f, a), h2RandCase{fields: append([]string{":method", "POST", ":scheme", "http", ":path", "/", ":authority", "e"}, f...), data: []int{1, 1}, dataES: true, answer: a})
		}
	}
	for _, a := range []int{0, 1, 7, 20} {
		p.h1(t, fmt.Sprintf("HEAD, answer %d", a), "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", a)
	}
	t.Logf("%d of %d cases agree", p.all-p.diffs, p.all)
}

// TestH1EdgesDifferential: the Connection header of answers (none to
// close with an HTTP/1.0 answer, none added to one that names
// "upgrade") and CONNECT requests (a non-zero Content-Length dropped, a
// coding closing the connection, an absolute target not normalized), as
// HAProxy's H1 side writes them.
func TestH1EdgesDifferential(t *testing.T) {
	p := startH2Pair(t, "")
	// Answers: 0 plain, 2 hop-by-hop fields, 4 304, 7 HTTP/1.0 until
	// close, 22 404, 29 200 offering a WebSocket upgrade.
	groups := []struct {
		reqs    []string
		answers []int
	}{
		{[]string{
			"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
			"POST / HTTP/1.1\nHost: h\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
			"GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
		}, []int{0, 2, 7, 29}},
		{[]string{
			"CONNECT h:443 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
			"CONNECT h:443 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			"CONNECT http://h:80/x HTTP/1.1\r\n\r\n",
			"CONNECT http://h:80/x HTTP/1.1\r\nHost: h:80\r\n\r\n",
			"CONNECT h:80 HTTP/1.1\r\nHost: h\r\n\r\n",
		}, []int{0, 4, 22}},
		// An upgrade asked for with a body is not one: the Upgrade
		// field goes, and a switch answered is refused.
		{[]string{
			"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo\r\nContent-Length: 5\r\n\r\nhello",
			"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo\r\nContent-Length: 0\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\nContent-Length: 5\r\n\r\nhello",
		}, []int{22, 27}},
		// The server waits for a chunked body that does not come: the
		// clients see nothing, the servers' reads tell.
		{[]string{
			"CONNECT h:443 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
			"CONNECT h:443 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			"CONNECT h:443 HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		}, []int{22}},
	}
	for _, g := range groups {
		for _, r := range g.reqs {
			for _, a := range g.answers {
				p.h1(t, fmt.Sprintf("%q, answer %d", r, a), r, a)
			}
		}
	}
	t.Logf("%d of %d cases agree", p.all-p.diffs, p.all)
}
