package runtime_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime"
)

// h2HeadCases are server answers whose heads gohap renders for HTTP/1.1
// with changes (the first Content-Length alone, none on a 204 or beside
// Transfer-Encoding, connection fields dropped, blanks trimmed), keyed
// by the request path.
var h2HeadCases = map[string]string{
	"/plain":   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  spaced  \r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello",
	"/dupcl":   "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Mid: m\r\nContent-Length: 3\r\n\r\nabc",
	"/te":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-T: t\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"/204":     "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-B: b\r\n\r\n",
	"/304":     "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n",
	"/names":   "HTTP/1.1 201 Created\r\nX-UPPER: V\r\nUpgrade: foo\r\nProxy-Connection: x\r\nTE: trailers\r\nContent-Length: 0\r\n\r\n",
	"/close":   "HTTP/1.0 200 OK\r\nX-C: c\r\n\r\nuntil the end",
	"/empty":   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"/reason":  "HTTP/1.1 404 Not Here At All\r\nContent-Length: 2\r\nX-Empty:\r\n\r\nno",
	"/big":     "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("b", 20000),
	"/rewrite": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nr",
}

// TestH2ParsedHeadEquivalent checks that a response head handed to an
// HTTP/2 stream already parsed gives the client the frames the stream's
// own parsing of the HTTP/1.1 rendering gives: the same backend once
// with the head handed, once with accept-invalid-http-response, under
// which the stream parses it.
func TestH2ParsedHeadEquivalent(t *testing.T) {
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		ans, ok := h2HeadCases[r.URL.Path]
		if !ok {
			ans = "HTTP/1.1 500 Unknown\r\nContent-Length: 0\r\n\r\n"
		}
		if r.Method == "HEAD" {
			ans = ans[:strings.Index(ans, "\r\n\r\n")+4]
		}
		io.WriteString(c, ans)
		if strings.HasPrefix(ans, "HTTP/1.0") {
			// The body ends with the connection.
			c.Close()
		}
	})
	fast, slow := freePort(t), freePort(t)
	rules := " http-response set-header X-R \"  padded value  \" if { res.hdr(content-type) -m found }\n" +
		" http-response add-header X-R2 second if { res.hdr(content-type) -m found }\n" +
		" http-response del-header content-type if { res.hdr(content-type) -m found }\n"
	startGohap(t, fmtCfg(baseDefaults+
		"frontend fast\n bind %s proto h2\n default_backend bfast\n"+
		"frontend slow\n bind %s proto h2\n default_backend bslow\n"+
		"backend bfast\n%s server s1 %s\n"+
		"backend bslow\n option accept-invalid-http-response\n%s server s1 %s\n",
		fast, slow, rules, up, rules, up), nil)
	var handed atomic.Int64
	runtime.OnHeadHanded(func() { handed.Add(1) })
	defer runtime.OnHeadHanded(nil)

	var paths []string
	for p := range h2HeadCases {
		paths = append(paths, p)
	}
	for _, p := range paths {
		for _, method := range []string{"GET", "HEAD"} {
			before := handed.Load()
			want := h2Frames(t, slow, method, p)
			if handed.Load() != before {
				t.Fatalf("%s %s: a head was handed under accept-invalid-http-response", method, p)
			}
			got := h2Frames(t, fast, method, p)
			if got != want {
				t.Errorf("%s %s:\nparsed by the stream %s\nhanded parsed        %s", method, p, want, got)
			}
		}
	}
	// Every non-chunked answer went out with its head handed.
	if n := handed.Load(); n < int64(2*(len(h2HeadCases)-1)) {
		t.Fatalf("%d heads handed, want at least %d", n, 2*(len(h2HeadCases)-1))
	}
}

// h2Frames sends one request on a new prior-knowledge connection and
// describes the frames of its stream: each HEADERS block's fields in
// order, DATA sizes and a digest of the body, END_STREAM and resets.
func h2Frames(t *testing.T, addr, method, path string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", method}, {":scheme", "http"}, {":path", path}, {":authority", "example.com"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	var out strings.Builder
	var body []byte
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) { fmt.Fprintf(&out, "%s=%q ", f.Name, f.Value) })
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			fmt.Fprintf(&out, "| error %v", err)
			return out.String()
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
			continue
		case *http2.HeadersFrame:
			out.WriteString("| HEADERS ")
			dec.Write(f.HeaderBlockFragment())
		case *http2.ContinuationFrame:
			dec.Write(f.HeaderBlockFragment())
		case *http2.DataFrame:
			body = append(body, f.Data()...)
			if len(f.Data()) > 0 {
				fr.WriteWindowUpdate(0, uint32(len(f.Data())))
				fr.WriteWindowUpdate(1, uint32(len(f.Data())))
			}
		case *http2.RSTStreamFrame:
			fmt.Fprintf(&out, "| RST %v", f.ErrCode)
			return out.String()
		case *http2.GoAwayFrame, *http2.WindowUpdateFrame, *http2.PingFrame:
			continue
		}
		if f.Header().StreamID == 1 && f.Header().Flags.Has(http2.FlagHeadersEndStream) {
			fmt.Fprintf(&out, "| body %d %q | END", len(body), trim(body))
			return out.String()
		}
	}
}

func trim(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
