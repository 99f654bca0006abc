package runtime_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// compCfg has a frontend per compression setting; the fourth %s is the
// upstream.
const compCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 3s
    http-reuse never
frontend fe
    bind %s
    compression algo gzip deflate
    compression type text/plain text/html
    http-response set-header x-seen-ce "%%[res.hdr(content-encoding)]"
    default_backend be
frontend fe-offload
    bind %s
    compression offload
    default_backend be-offload
frontend fe-identity
    bind %s
    default_backend be-identity
backend be
    server s %s
backend be-offload
    compression algo raw-deflate gzip
    server s %[4]s
backend be-identity
    compression algo identity
    server s %[4]s
`

// compBody is a body long and repetitive enough to compress.
var compBody = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)

// compResponses are the upstream's answers, chosen by the request path
// /r/<index>; "%B" stands for compBody and "%L" for its length.
var compResponses = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n%C",
	"HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: W/\"v1\"\r\nVary: Cookie\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: br\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-transform\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n%C",
	"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Length: %L\r\n\r\n%B",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n%T",
}

// compUpstream answers /r/<i> with compResponses[i], the chunked bodies
// in several writes, and echoes the Accept-Encoding it received.
func compUpstream(t *testing.T) string {
	return serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			i, _ := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/r/"))
			rsp := compResponses[i%len(compResponses)]
			ae := "x-ae: " + strings.Join(req.Header.Values("Accept-Encoding"), "|") + "\r\n"
			rsp = strings.Replace(rsp, "\r\n", "\r\n"+ae, 1)
			rsp = strings.ReplaceAll(rsp, "%L", strconv.Itoa(len(compBody)))
			head, body, _ := strings.Cut(rsp, "%")
			io.WriteString(c, head)
			if body != "" {
				switch body[0] {
				case 'B':
					io.WriteString(c, compBody+body[1:])
				case 'C', 'T':
					// Three chunks, the server pausing between them.
					for _, part := range []string{compBody[:100], compBody[100:1000], compBody[1000:]} {
						fmt.Fprintf(c, "%x\r\n%s\r\n", len(part), part)
						time.Sleep(20 * time.Millisecond)
					}
					if body[0] == 'T' {
						io.WriteString(c, "0\r\nX-Trailer: t\r\n\r\n")
					} else {
						io.WriteString(c, "0\r\n\r\n")
					}
				}
			}
			if strings.Contains(rsp, "Connection: close") || strings.HasPrefix(rsp, "HTTP/1.0") {
				return
			}
		}
	})
}

type compCase struct {
	name string
	fe   int
	reqs []string // requests sent on one connection
}

func compReq(method, path, proto string, hdrs ...string) string {
	return method + " " + path + " " + proto + "\r\nHost: a\r\n" + strings.Join(append(hdrs, ""), "\r\n") + "\r\n"
}

var compCases = []compCase{
	{"gzip length", 0, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"deflate chunked", 0, []string{compReq("GET", "/r/1", "HTTP/1.1", "Accept-Encoding: deflate")}},
	{"q-values", 0, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip;q=0.5, deflate;q=0.9, *;q=0")}},
	{"no accept-encoding", 0, []string{compReq("GET", "/r/0", "HTTP/1.1")}},
	{"type refused", 0, []string{compReq("GET", "/r/2", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"strong etag", 0, []string{compReq("GET", "/r/3", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"weak etag and vary", 0, []string{compReq("GET", "/r/4", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"already encoded", 0, []string{compReq("GET", "/r/5", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"no-transform", 0, []string{compReq("GET", "/r/6", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"status 404", 0, []string{compReq("GET", "/r/7", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"close-delimited", 0, []string{compReq("GET", "/r/8", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"empty chunked", 0, []string{compReq("GET", "/r/9", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"HEAD", 0, []string{compReq("HEAD", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"HTTP/1.0 request", 0, []string{compReq("GET", "/r/0", "HTTP/1.0", "Accept-Encoding: gzip")}},
	{"HTTP/1.0 response", 0, []string{compReq("GET", "/r/11", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"empty length", 0, []string{compReq("GET", "/r/12", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"status 201", 0, []string{compReq("GET", "/r/13", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"no content-type", 0, []string{compReq("GET", "/r/14", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"old mozilla", 0, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip", "User-Agent: Mozilla/4.0 (compatible; MSIE 5.0)")}},
	{"keep-alive", 0, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip"), compReq("GET", "/r/10", "HTTP/1.1", "Accept-Encoding: deflate"), compReq("GET", "/r/2", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"trailers", 0, []string{compReq("GET", "/r/15", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"offload gzip", 1, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip", "Accept-Encoding: br")}},
	{"offload raw-deflate", 1, []string{compReq("GET", "/r/1", "HTTP/1.1", "Accept-Encoding: deflate")}},
	{"offload no match", 1, []string{compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: br")}},
	{"offload any type", 1, []string{compReq("GET", "/r/2", "HTTP/1.1", "Accept-Encoding: gzip")}},
	{"identity length", 2, []string{compReq("GET", "/r/0", "HTTP/1.1")}},
	{"identity chunked", 2, []string{compReq("GET", "/r/10", "HTTP/1.1", "Accept-Encoding: gzip")}},
}

// compResult describes one response as compared: the status line, the
// headers sorted, and the body decoded.
func compResults(t *testing.T, addr string, c compCase) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// The raw bytes keep the order of the header fields.
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &raw))
	var out strings.Builder
	for _, r := range c.reqs {
		io.WriteString(conn, r)
		method, _, _ := strings.Cut(r, " ")
		start := raw.Len() - br.Buffered()
		rsp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			fmt.Fprintf(&out, "error %v\n", err)
			break
		}
		head, _, _ := strings.Cut(raw.String()[start:], "\r\n\r\n")
		for _, l := range strings.Split(head, "\r\n")[1:] {
			name, _, _ := strings.Cut(l, ":")
			fmt.Fprintf(&out, "%s,", strings.ToLower(name))
		}
		out.WriteString("\n")
		body, err := io.ReadAll(rsp.Body)
		if err != nil {
			fmt.Fprintf(&out, "body error %v\n", err)
		}
		fmt.Fprintf(&out, "%s %s te=%v cl=%d close=%v\n", rsp.Proto, rsp.Status, rsp.TransferEncoding, rsp.ContentLength, rsp.Close)
		var names []string
		for k := range rsp.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&out, "%s: %q\n", k, rsp.Header[k])
		}
		fmt.Fprintf(&out, "trailer: %v\n", rsp.Trailer)
		dec, err := decodeBody(rsp.Header.Get("Content-Encoding"), body)
		// Compressed sizes differ between compressors: the decoded body
		// is compared.
		fmt.Fprintf(&out, "body decoded to %d bytes, original %v (err %v)\n", len(dec), string(dec) == compBody, err)
	}
	return out.String()
}

func decodeBody(ce string, b []byte) ([]byte, error) {
	var r io.Reader
	var err error
	switch ce {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		// zlib for "deflate", bare deflate for raw-deflate.
		if r, err = zlib.NewReader(bytes.NewReader(b)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(b)), nil
		}
	default:
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestDifferentialCompression compares, for each case, what HAProxy and
// gohap send back (status, headers, decompressed body) and what the
// upstream receives of Accept-Encoding (echoed as x-ae).
func TestDifferentialCompression(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	up := compUpstream(t)
	run := func(start func(cfg, fe string)) [3]string {
		fe := [3]string{freePort(t), freePort(t), freePort(t)}
		start(fmtCfg(compCfg, fe[0], fe[1], fe[2], up), fe[0])
		return fe
	}
	ha := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gh := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := 0
	for _, c := range compCases {
		want := compResults(t, ha[c.fe], c)
		got := compResults(t, gh[c.fe], c)
		if want != got {
			t.Errorf("%s:\nhaproxy:\n%s\ngohap:\n%s", c.name, want, got)
			continue
		}
		agree++
	}
	t.Logf("differential compression: %d/%d cases identical to HAProxy", agree, len(compCases))
}

// TestDifferentialCompressionRate: above maxcomprate (1 kB/s here), new
// responses go uncompressed until the rate falls again.
func TestDifferentialCompressionRate(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	up := compUpstream(t)
	cfg := "global\n    maxcomprate 1\n" + compCfg
	run := func(start func(cfg, fe string)) string {
		fe := [3]string{freePort(t), freePort(t), freePort(t)}
		start(fmtCfg(cfg, fe[0], fe[1], fe[2], up), fe[0])
		return fe[0]
	}
	ha := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gh := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	r := compReq("GET", "/r/0", "HTTP/1.1", "Accept-Encoding: gzip")
	c := compCase{"rate", 0, []string{r, r, r}}
	want, got := compResults(t, ha, c), compResults(t, gh, c)
	if want != got {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", want, got)
	}
	if n := strings.Count(got, "Content-Encoding"); n != 1 {
		t.Errorf("%d responses compressed, want only the first:\n%s", n, got)
	}
}

// TestCompressionMaxLevel: tune.comp.maxlevel sets the level of the
// encoders, so a higher one gives a smaller body for the same input.
func TestCompressionMaxLevel(t *testing.T) {
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike")
	var b strings.Builder
	for i := 0; b.Len() < 60000; i++ {
		b.WriteString(words[(i*7+i/13)%len(words)])
		b.WriteString(strconv.Itoa(i % 97))
		b.WriteByte(' ')
	}
	body := b.String()
	up := serveRaw(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	size := func(level string) int {
		fe := freePort(t)
		startGohap(t, fmtCfg("global\n    tune.comp.maxlevel %s\n"+compCfg, level, fe, freePort(t), freePort(t), up), nil)
		got := compResults(t, fe, compCase{"", 0, []string{compReq("GET", "/", "HTTP/1.1", "Accept-Encoding: gzip")}})
		if !strings.Contains(got, "Content-Encoding: [\"gzip\"]") || !strings.Contains(got, fmt.Sprintf("decoded to %d bytes", len(body))) {
			t.Fatalf("level %s: not compressed whole:\n%s", level, got)
		}
		return compressedLen(t, fe)
	}
	if l1, l9 := size("1"), size("9"); l9 >= l1 {
		t.Errorf("level 9 gives %d bytes, level 1 %d: want fewer", l9, l1)
	}
}

// compressedLen fetches / from addr with gzip and returns the length of
// the body as sent, chunking removed.
func compressedLen(t *testing.T, addr string) int {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, compReq("GET", "/", "HTTP/1.1", "Accept-Encoding: gzip"))
	rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rsp.Body)
	return len(b)
}
