package h1

import (
	"strings"
	"testing"
)

func parse(t *testing.T, s string) (*Msg, error) {
	t.Helper()
	m := &Msg{Headers: make([]Header, 0, 101)}
	return m, ParseRequest([]byte(s), m, 101)
}

func TestParseRequestVerdicts(t *testing.T) {
	// Statuses are the ones HAProxy 2.6 answers for the same bytes.
	cases := []struct {
		name, req string
		status    int
	}{
		{"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"lf only", "GET / HTTP/1.1\nHost: a\n\n", 0},
		{"leading crlf", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"dup cl differ", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
		{"dup cl same", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 0},
		{"cl list same", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", 0},
		{"cl negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
		{"te gzip chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 422},
		{"te chunked gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
		{"te gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
		{"http10 te", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
		{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
		{"bad method", "G(T / HTTP/1.1\r\n\r\n", 400},
		{"8bit uri", "GET /\x80 HTTP/1.1\r\n\r\n", 400},
		{"http09", "GET /\r\n\r\n", 400},
		{"lower version", "GET / http/1.1\r\n\r\n", 400},
		{"ctl in value", "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 0},
		{"8bit value", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", 0},
		{"absolute uri", "GET http://a/b HTTP/1.1\r\n\r\n", 0},
		{"too many headers", "GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", 102) + "\r\n", 400},
		// Verdicts of HAProxy 2.6.12 (Debian) for the target and Host.
		{"fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"two hosts same", "GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n", 0},
		{"two hosts differ", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"authority differs", "GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"authority default port", "GET http://a:80/x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"authority other port", "GET http://a:81/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"authority userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"relative target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"relative target no host", "GET foo HTTP/1.1\r\n\r\n", 0},
		{"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 0},
		{"connect host differs", "CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n", 400},
		{"connect path", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
		{"version 2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0},
		{"version other", "GET / ABCD/1.1\r\nHost: a\r\n\r\n", 400},
		{"version blank after", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
		{"nul in value", "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 0},
	}
	for _, c := range cases {
		_, err := parse(t, c.req)
		got := 0
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("%s: %v", c.name, err)
			}
			got = e.Status
		}
		if got != c.status {
			t.Errorf("%s: status %d, want %d (%v)", c.name, got, c.status, err)
		}
	}
}

func TestParseRequestFraming(t *testing.T) {
	buf := []byte("POST /x?y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\nConnection: Upgrade, keep-alive\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nExpect: 100-continue\r\n\r\n")
	m := &Msg{Headers: make([]Header, 0, 101)}
	if err := ParseRequest(buf, m, 101); err != nil {
		t.Fatal(err)
	}
	if string(m.Method.Of(buf)) != "POST" || string(m.URI.Of(buf)) != "/x?y" || m.Minor != 1 {
		t.Fatalf("request line: %q %q %d", m.Method.Of(buf), m.URI.Of(buf), m.Minor)
	}
	if m.Body != BodyChunked || m.Conn&ConnClose == 0 {
		t.Fatalf("TE+CL must be chunked with close: body %d conn %d", m.Body, m.Conn)
	}
	if m.Conn&ConnUpgrade != 0 || !m.DropUpgrade || string(m.WSKey.Of(buf)) != "k" {
		t.Fatalf("an upgrade asked with a body must be dropped")
	}
	// Content-Length goes, as HAProxy deletes it next to a coding.
	if !m.Expect100 || string(m.Host.Of(buf)) != "h" || len(m.Headers) != 6 {
		t.Fatalf("expect %v host %q headers %d", m.Expect100, m.Host.Of(buf), len(m.Headers))
	}
	if m.KeepAlive() {
		t.Fatal("TE+CL request must not keep the connection alive")
	}
}

func TestParseResponse(t *testing.T) {
	cases := []struct {
		resp   string
		body   BodyKind
		status int
		err    int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", BodyLength, 200, 0},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", BodyChunked, 200, 0},
		{"HTTP/1.1 200 OK\r\n\r\n", BodyUntilClose, 200, 0},
		{"HTTP/1.1 204 No Content\r\n\r\n", BodyNone, 204, 0},
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", BodyNone, 101, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0, 0, 502},
		// HAProxy 2.6 forwards a four-digit status as it came.
		{"HTTP/1.1 2000 OK\r\n\r\n", BodyUntilClose, 2000, 0},
		{"HTTP/1.1 0200000000 OK\r\n\r\n", 0, 0, 502},
		{"HTTP/1.1 200 OK\rX: y\r\n\r\n", 0, 0, 502},
		{"garbage\r\n\r\n", 0, 0, 502},
	}
	for _, c := range cases {
		buf := []byte(c.resp)
		m := &Msg{Headers: make([]Header, 0, 101)}
		err := ParseResponse(buf, m, 101)
		if c.err != 0 {
			if e, ok := err.(*Error); !ok || e.Status != c.err {
				t.Errorf("%q: err %v, want %d", c.resp, err, c.err)
			}
			continue
		}
		if err != nil || m.Body != c.body || m.Status != c.status {
			t.Errorf("%q: err %v body %d status %d", c.resp, err, m.Body, m.Status)
		}
	}
}

func TestHeadEnd(t *testing.T) {
	if HeadEnd([]byte("GET / HTTP/1.1\r\nHost: a\r\n"), 0) != 0 {
		t.Fatal("incomplete head reported complete")
	}
	s := "GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"
	if n := HeadEnd([]byte(s), 0); n != len(s)-4 {
		t.Fatalf("HeadEnd = %d", n)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"))
	f.Add([]byte("GET http://a:80/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &Msg{Headers: make([]Header, 0, 101)}
		err := ParseRequest(append([]byte(nil), data...), m, 101)
		if err == ErrIncomplete {
			return
		}
		if _, ok := err.(*Error); err != nil && !ok {
			t.Fatalf("untyped error %v", err)
		}
		n := len(data)
		if err == nil {
			n = m.HeadLen
			for _, h := range m.Headers {
				if int(h.Name.End) > n || int(h.Value.End) > n || h.Name.Off > h.Name.End || h.Value.Off > h.Value.End {
					t.Fatalf("span outside head")
				}
			}
		}
		// Read byte by byte, the head is incomplete until its end, and
		// a verdict never changes with more bytes: what a reader
		// decides early is what it would decide on the whole head.
		for k := 0; k < n; k++ {
			perr := ParseRequest(append([]byte(nil), data[:k]...), m, 101)
			if perr != ErrIncomplete && (err == nil || perr.Error() != err.Error()) {
				t.Fatalf("prefix %d of %q: %v, whole: %v", k, data, perr, err)
			}
		}
	})
}

func TestEarlyVerdicts(t *testing.T) {
	// Each is refused before the head's end arrives, as HAProxy does,
	// rather than after the http-request timeout.
	for _, s := range []string{"GET /\r\n", "GET / HTTP/1.1\rHost: a\r\n", "G\x01T / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost a\r\n", "GET /\x01 HTTP/1.1\r\n",
		// A framing header is whole once the next line begins.
		"POST / HTTP/1.1\r\nContent-Length: abc\r\nX", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\nX",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\nX"} {
		m := &Msg{}
		if err := ParseRequest([]byte(s), m, 101); err == nil || err == ErrIncomplete {
			t.Errorf("%q: %v, want an early 400", s, err)
		}
	}
	for _, s := range []string{"GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "POST / HTTP/1.1\r\nContent-Length: abc\r\n"} {
		m := &Msg{}
		if err := ParseRequest([]byte(s), m, 101); err != ErrIncomplete {
			t.Errorf("%q: %v, want incomplete", s, err)
		}
	}
}

func BenchmarkParseRequest(b *testing.B) {
	buf := []byte("GET /index.html?x=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nCookie: a=b; c=d\r\n\r\n")
	benchParse(b, buf)
}

// BenchmarkParseRequestBrowser is a browser's request: long values (the
// user agent, the cookies, the accepted types), which the line scans
// take eight bytes at a time.
func BenchmarkParseRequestBrowser(b *testing.B) {
	buf := []byte("GET /products/category/shoes?color=black&size=42&sort=price_asc HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9,fr;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: https://shop.example.com/products/category/shoes\r\nCookie: session_id=0123456789abcdef0123456789abcdef; _ga=GA1.2.1234567890.1234567890; prefs=dark_mode%3Dtrue%26lang%3Den\r\nSec-Fetch-Mode: navigate\r\nConnection: keep-alive\r\n\r\n")
	benchParse(b, buf)
}

func benchParse(b *testing.B, buf []byte) {
	m := &Msg{Headers: make([]Header, 0, 101)}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		if err := ParseRequest(buf, m, 101); err != nil {
			b.Fatal(err)
		}
	}
}
