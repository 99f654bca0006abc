package h1

import (
	"strings"
	"testing"
)

func parse(t *testing.T, s string) (*Msg, error) {
	t.Helper()
	buf := []byte(s)
	n := HeadEnd(buf, 0)
	if n == 0 {
		return nil, ErrIncomplete
	}
	m := &Msg{Headers: make([]Header, 0, 101)}
	return m, ParseRequest(buf[:n], m, 101)
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
	if m.Conn&ConnUpgrade == 0 || string(m.Upgrade.Of(buf)) != "websocket" || string(m.WSKey.Of(buf)) != "k" {
		t.Fatalf("upgrade not seen")
	}
	if !m.Expect100 || string(m.Host.Of(buf)) != "h" || len(m.Headers) != 7 {
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
		{"HTTP/1.1 2000 OK\r\n\r\n", 0, 0, 502},
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
	f.Fuzz(func(t *testing.T, data []byte) {
		n := HeadEnd(data, 0)
		if n == 0 {
			return
		}
		m := &Msg{Headers: make([]Header, 0, 101)}
		if err := ParseRequest(data[:n], m, 101); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, h := range m.Headers {
			if h.Name.End > int32(n) || h.Value.End > int32(n) || h.Name.Off > h.Name.End || h.Value.Off > h.Value.End {
				t.Fatalf("span outside head")
			}
		}
	})
}

func BenchmarkParseRequest(b *testing.B) {
	buf := []byte("GET /index.html?x=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nCookie: a=b; c=d\r\n\r\n")
	m := &Msg{Headers: make([]Header, 0, 101)}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		if err := ParseRequest(buf, m, 101); err != nil {
			b.Fatal(err)
		}
	}
}
