package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheCfg caches the backend's answers; %s are the bind and the
// upstream. The response rules show whether an answer is a hit.
const cacheCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 3s
frontend fe
    bind %s
    default_backend be
backend be
    http-request cache-use c
    server s %s
    http-response cache-store c
    http-response set-header x-hit %%[res.cache_hit]
    http-response set-header x-name %%[res.cache_name]
frontend fe-comp
    bind %s
    default_backend be-comp
backend be-comp
    compression algo gzip
    compression type text/plain
    http-request cache-use c
    server s %[2]s
    http-response cache-store c
    http-response set-header x-hit %%[res.cache_hit]
frontend fe-comp2
    bind %[4]s
    compression algo gzip
    compression type text/plain
    default_backend be
cache c
    total-max-size 1
    max-age 2
    max-object-size 2000
    process-vary on
    max-secondary-entries 3
`

// cacheUpstream answers by path and counts the requests of each path;
// the count is in the x-n header and in the body, so an answer from the
// cache shows an old count.
type cacheUpstream struct {
	mu    sync.Mutex
	count map[string]int
}

func (u *cacheUpstream) n(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.count[path]
}

// cacheAnswer is the upstream's answer to a path; "%N" is the count.
func cacheAnswer(method, path string, n int) string {
	body := fmt.Sprintf("body of %s number %d\n", path, n)
	hdr := ""
	switch {
	case method == "POST":
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	case strings.HasPrefix(path, "/big"):
		body = strings.Repeat("x", 3000)
		hdr = "Cache-Control: max-age=60\r\n"
	case strings.HasPrefix(path, "/chunked"), strings.HasPrefix(path, "/tchunked"):
		hdr = "Cache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n"
		if path[1] == 't' {
			body = strings.Repeat(body, 20)
			hdr += "Content-Type: text/plain\r\n"
		}
		half := len(body) / 2
		return "HTTP/1.1 200 OK\r\n" + hdr + fmt.Sprintf("x-n: %d\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", n, half, body[:half], len(body)-half, body[half:])
	case strings.HasPrefix(path, "/ronly"):
		hdr = "Cache-Control: max-age=60\r\nVary: referer\r\n"
	case strings.HasPrefix(path, "/referer"):
		hdr = "Cache-Control: max-age=60\r\nVary: referer,accept-encoding\r\n"
	case strings.HasPrefix(path, "/age"):
		hdr = "Cache-Control: max-age=60\r\nAge: 30\r\n"
	case strings.HasPrefix(path, "/vary"):
		hdr = "Cache-Control: max-age=60\r\nVary: accept-encoding\r\nContent-Encoding: gzip\r\n"
	case strings.HasPrefix(path, "/etag"):
		hdr = "ETag: \"v1\"\r\nLast-Modified: Thu, 15 Oct 2020 22:23:24 GMT\r\n"
	case strings.HasPrefix(path, "/private"):
		hdr = "Cache-Control: private, max-age=60\r\n"
	case strings.HasPrefix(path, "/nostore"):
	case strings.HasPrefix(path, "/text"):
		body = strings.Repeat(body, 20)
		hdr = "Cache-Control: max-age=60\r\nContent-Type: text/plain\r\n"
	default:
		hdr = "Cache-Control: max-age=60\r\n"
	}
	return fmt.Sprintf("HTTP/1.1 200 OK\r\n%sx-n: %d\r\nContent-Length: %d\r\n\r\n%s", hdr, n, len(body), body)
}

func startCacheUpstream(t *testing.T) (*cacheUpstream, string) {
	u := &cacheUpstream{count: map[string]int{}}
	addr := serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			u.mu.Lock()
			u.count[req.URL.Path]++
			n := u.count[req.URL.Path]
			u.mu.Unlock()
			rsp := cacheAnswer(req.Method, req.URL.Path, n)
			if ae := req.Header.Values("Accept-Encoding"); len(ae) > 0 {
				// What reaches the server of Accept-Encoding.
				rsp = strings.Replace(rsp, "\r\n", "\r\nx-ae: "+strings.Join(ae, "|")+"\r\n", 1)
			}
			io.WriteString(c, rsp)
		}
	})
	return u, addr
}

// cacheClient sends requests on one connection and describes answers.
type cacheClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialCache(t *testing.T, addr string) *cacheClient {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &cacheClient{t: t, c: c, br: bufio.NewReader(c)}
}

type cacheRsp struct {
	status int
	hdr    http.Header
	body   string
}

func (cc *cacheClient) do(method, path string, hdrs ...string) cacheRsp {
	cc.t.Helper()
	cc.c.SetDeadline(time.Now().Add(5 * time.Second))
	r := method + " " + path + " HTTP/1.1\r\nHost: a\r\n"
	for _, h := range hdrs {
		r += h + "\r\n"
	}
	if method == "POST" {
		r += "Content-Length: 3\r\n\r\nabc"
	} else {
		r += "\r\n"
	}
	io.WriteString(cc.c, r)
	rsp, err := http.ReadResponse(cc.br, &http.Request{Method: method})
	if err != nil {
		cc.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		cc.t.Fatalf("%s %s body: %v", method, path, err)
	}
	return cacheRsp{status: rsp.StatusCode, hdr: rsp.Header, body: string(b)}
}

// TestCache checks over real sockets what the cache does: a miss reaches
// the server, the next request is a hit with an Age and the old count,
// until max-age; Vary, 304s, invalidation, HEAD, objects too big or not
// cacheable.
func TestCache(t *testing.T) {
	up, addr := startCacheUpstream(t)
	fe := freePort(t)
	startGohap(t, fmtCfg(cacheCfg, fe, addr, freePort(t), freePort(t)), nil)
	cc := dialCache(t, fe)

	r := cc.do("GET", "/a")
	if r.hdr.Get("x-hit") != "0" || r.hdr.Get("Age") != "" || r.body != "body of /a number 1\n" {
		t.Fatalf("first answer is not a miss: %+v", r)
	}
	r = cc.do("GET", "/a")
	if r.hdr.Get("x-hit") != "1" || r.hdr.Get("x-name") != "c" || r.hdr.Get("Age") == "" || r.body != "body of /a number 1\n" || up.n("/a") != 1 {
		t.Fatalf("second answer is not a hit (server saw %d): %+v", up.n("/a"), r)
	}
	if r = cc.do("HEAD", "/a"); r.hdr.Get("x-hit") != "1" || r.body != "" || r.hdr.Get("Content-Length") != "20" {
		t.Fatalf("HEAD not served from the cache: %+v", r)
	}

	// Chunked responses are stored as they stream.
	cc.do("GET", "/chunked")
	if r = cc.do("GET", "/chunked"); r.hdr.Get("x-hit") != "1" || r.body != "body of /chunked number 1\n" || up.n("/chunked") != 1 {
		t.Fatalf("chunked answer not cached: %+v", r)
	}

	// A successful POST drops the object.
	cc.do("POST", "/a")
	if r = cc.do("GET", "/a"); r.hdr.Get("x-hit") != "0" || r.body != "body of /a number 3\n" {
		t.Fatalf("POST did not invalidate: %+v", r)
	}

	// Too big, private, or without freshness nor validator: not stored.
	for _, p := range []string{"/big", "/private", "/nostore"} {
		cc.do("GET", p)
		if r = cc.do("GET", p); r.hdr.Get("x-hit") != "0" || up.n(p) != 2 {
			t.Errorf("%s was served from the cache: %+v", p, r)
		}
	}

	// Vary: a stored gzip answer serves clients that accept gzip only.
	cc.do("GET", "/vary", "Accept-Encoding: gzip")
	if r = cc.do("GET", "/vary", "Accept-Encoding: br, GZIP"); r.hdr.Get("x-hit") != "1" {
		t.Errorf("gzip-accepting client missed: %+v", r)
	}
	if r = cc.do("GET", "/vary", "Accept-Encoding: br"); r.hdr.Get("x-hit") != "0" {
		t.Errorf("br-only client got the gzip object: %+v", r)
	}

	// Conditional requests get a 304 from the stored object.
	cc.do("GET", "/etag")
	if r = cc.do("GET", "/etag", `If-None-Match: W/"v1"`); r.status != 304 || r.body != "" {
		t.Errorf("If-None-Match: %+v", r)
	}
	if r = cc.do("GET", "/etag", `If-Modified-Since: Thu, 15 Oct 2020 22:23:24 GMT`); r.status != 304 {
		t.Errorf("If-Modified-Since: %+v", r)
	}
	if r = cc.do("GET", "/etag", `If-None-Match: "v2"`); r.status != 200 || r.hdr.Get("x-hit") != "1" {
		t.Errorf("other ETag: %+v", r)
	}

	// Requests that must not be served from the cache.
	if r = cc.do("GET", "/chunked", "Cache-Control: no-cache"); r.hdr.Get("x-hit") != "0" {
		t.Errorf("no-cache request served from the cache: %+v", r)
	}
	if r = cc.do("GET", "/chunked", "Authorization: Basic eDp5"); r.hdr.Get("x-hit") != "0" {
		t.Errorf("authorized request served from the cache: %+v", r)
	}

	// max-age 2: the object expires.
	cc.do("GET", "/e")
	time.Sleep(2100 * time.Millisecond)
	if r = cc.do("GET", "/e"); r.hdr.Get("x-hit") != "0" || up.n("/e") != 2 {
		t.Errorf("object outlived max-age: %+v", r)
	}
}

// cacheSteps is the sequence the differential test plays on both
// proxies, one connection each.
var cacheSteps = [][]string{
	{"GET", "/a"}, {"GET", "/a"}, {"HEAD", "/a"},
	{"GET", "/chunked"}, {"GET", "/chunked"},
	{"POST", "/a"}, {"GET", "/a"}, {"GET", "/a"},
	{"GET", "/big"}, {"GET", "/big"},
	{"GET", "/private"}, {"GET", "/private"},
	{"GET", "/nostore"}, {"GET", "/nostore"},
	{"GET", "/vary", "Accept-Encoding: gzip"}, {"GET", "/vary", "Accept-Encoding: br, GZIP"},
	{"GET", "/vary", "Accept-Encoding: br"}, {"GET", "/vary"}, {"GET", "/vary", "Accept-Encoding:"},
	{"GET", "/etag"}, {"GET", "/etag", `If-None-Match: W/"v1"`},
	{"GET", "/etag", `If-None-Match: "v2", "v1"`}, {"GET", "/etag", `If-None-Match: *`},
	{"GET", "/etag", "If-Modified-Since: Thu, 15 Oct 2020 22:23:24 GMT"},
	{"GET", "/etag", "If-Modified-Since: Thu, 15 Oct 2020 22:23:23 GMT"},
	{"HEAD", "/etag", `If-None-Match: "v1"`},
	{"GET", "/chunked", "Cache-Control: no-cache"}, {"GET", "/chunked", "Pragma: no-cache"},
	{"GET", "/chunked", "Authorization: Basic eDp5"}, {"GET", "/chunked", "Cache-Control: no-store"},
	{"HEAD", "/h"}, {"GET", "/h"},
	{"GET", "/referer", "Referer: r1"}, {"GET", "/referer", "Referer: r2"},
	{"GET", "/referer", "Referer: r1"}, {"GET", "/referer", "Referer: r2", "Accept-Encoding: gzip"},
	{"GET", "/referer", "Referer: r3"}, {"GET", "/referer", "Referer: r4"}, {"GET", "/referer"},
	{"GET", "/referer", "Referer: r4"}, {"GET", "/referer"},
	{"GET", "/age"}, {"GET", "/age"},
	{"GET", "/lc", "Accept-Encoding: GZIP, Br;Q=1"}, {"GET", "/vary2", "Accept-Encoding: GZIP, Br;Q=1"},
	{"GET", "/ronly", "Referer: r1"}, {"GET", "/ronly", "Referer: r1"}, {"GET", "/ronly"}, {"GET", "/ronly"},
	{"GET", "/q?x=1"}, {"GET", "/q?x=2"}, {"GET", "/q?x=1"},
	{"GET", "http://a/abs"}, {"GET", "/abs"}, {"GET", "http://a/abs"},
	{"PUT", "/q?x=1"}, {"GET", "/q?x=1"}, {"DELETE", "/q?x=2"}, {"GET", "/q?x=2"},
}

// compSteps are played on a backend that compresses and caches.
var compSteps = [][]string{
	{"GET", "/text", "Accept-Encoding: gzip"}, {"GET", "/text", "Accept-Encoding: gzip"},
	{"GET", "/text"}, {"GET", "/text"}, {"GET", "/text", "Accept-Encoding: gzip"},
	{"GET", "/tchunked", "Accept-Encoding: gzip"}, {"GET", "/tchunked", "Accept-Encoding: gzip"},
	{"GET", "/tchunked"}, {"HEAD", "/tchunked", "Accept-Encoding: gzip"},
}

// compFrontSteps are played on a frontend that compresses in front of
// the caching backend.
var compFrontSteps = [][]string{
	{"GET", "/text2", "Accept-Encoding: gzip"}, {"GET", "/text2", "Accept-Encoding: gzip"},
	{"GET", "/text2"}, {"GET", "/text2"}, {"GET", "/text2", "Accept-Encoding: gzip"},
}

// describe renders an answer for comparison: status, headers sorted
// (Date dropped, Age reduced to its presence), body.
func (r cacheRsp) describe() string {
	var names []string
	for k := range r.hdr {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.status)
	for _, k := range names {
		v := r.hdr[k]
		switch k {
		case "Date":
			continue
		case "Age":
			if n, err := strconv.Atoi(v[0]); err == nil && n >= 0 && n < 5 {
				v = []string{"present"}
			}
		}
		fmt.Fprintf(&b, "%s: %q\n", k, v)
	}
	// Compressors differ in their output: the body is compared decoded.
	body, err := decodeBody(r.hdr.Get("Content-Encoding"), []byte(r.body))
	fmt.Fprintf(&b, "%q %v\n", body, err)
	return b.String()
}

// TestDifferentialCache plays the same requests on HAProxy and gohap,
// each with its own counting upstream, and compares every answer.
func TestDifferentialCache(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	_, upH := startCacheUpstream(t)
	_, upG := startCacheUpstream(t)
	feH, feG := [3]string{freePort(t), freePort(t), freePort(t)}, [3]string{freePort(t), freePort(t), freePort(t)}
	dir := t.TempDir()
	sockH, sockG := filepath.Join(dir, "h.sock"), filepath.Join(dir, "g.sock")
	global := "global\n    stats socket %s level admin\n"
	// Objects must outlive the exchanges here (TestCache sees them expire).
	cfg := strings.Replace(cacheCfg, "max-age 2\n", "max-age 60\n", 1)
	startHAProxy(t, fmtCfg(global, sockH)+fmtCfg(cfg, feH[0], upH, feH[1], feH[2]), feH[0])
	startGohap(t, fmtCfg(global, sockG)+fmtCfg(cfg, feG[0], upG, feG[1], feG[2]), nil)
	agree, total := 0, 0
	for i, steps := range [3][][]string{cacheSteps, compSteps, compFrontSteps} {
		ch, cg := dialCache(t, feH[i]), dialCache(t, feG[i])
		for _, s := range steps {
			want := ch.do(s[0], s[1], s[2:]...).describe()
			got := cg.do(s[0], s[1], s[2:]...).describe()
			total++
			if want != got {
				t.Errorf("%v:\nhaproxy:\n%s\ngohap:\n%s", s, want, got)
				continue
			}
			agree++
		}
	}
	t.Logf("differential cache: %d/%d answers identical to HAProxy", agree, total)
	// "show cache": the same objects, sizes and keys; addresses and
	// seconds left differ.
	norm := regexp.MustCompile(`(?m)^0x[0-9a-f]+|shctx:0x[0-9a-f]+|expire:\d+`)
	h := norm.ReplaceAllString(cliSend(t, "unix", sockH, "show cache\n"), "X")
	g := norm.ReplaceAllString(cliSend(t, "unix", sockG, "show cache\n"), "X")
	if h != g || strings.Count(h, "\n") < 5 {
		t.Errorf("show cache:\nhaproxy:\n%q\ngohap:\n%q", h, g)
	}
}

// TestDifferentialCacheRaw compares the bytes of answers, hits included,
// as HAProxy and gohap write them: pipelined requests, request bodies,
// HTTP/1.0, HEAD, chunked framing, connection closes.
func TestDifferentialCacheRaw(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	_, upH := startCacheUpstream(t)
	_, upG := startCacheUpstream(t)
	feH, feG := freePort(t), freePort(t)
	// Objects must outlive the exchanges here.
	cfg := strings.Replace(cacheCfg, "max-age 2\n", "max-age 60\n", 1)
	startHAProxy(t, fmtCfg(cfg, feH, upH, freePort(t), freePort(t)), feH)
	startGohap(t, fmtCfg(cfg, feG, upG, freePort(t), freePort(t)), nil)
	get := func(path string, hdrs ...string) string {
		return req(append([]string{"GET " + path + " HTTP/1.1", "Host: a"}, hdrs...)...)
	}
	cases := []diffCase{
		{"warm", 0, get("/p") + get("/chunked"), []string{"GET", "GET"}},
		{"pipelined hits", 0, get("/p") + get("/p") + get("/p", "Connection: close"), []string{"GET", "GET", "GET"}},
		{"hit with a request body", 0, "GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + get("/p"), []string{"GET", "GET"}},
		{"chunked hits", 0, get("/chunked") + get("/chunked"), []string{"GET", "GET"}},
		{"hit with a chunked request body", 0, "GET /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + get("/p"), []string{"GET", "GET"}},
		{"HTTP/1.0", 0, req("GET /p HTTP/1.0", "Host: a"), []string{"GET"}},
		{"HTTP/1.0 keep-alive", 0, req("GET /p HTTP/1.0", "Host: a", "Connection: keep-alive") + get("/p"), []string{"GET", "GET"}},
		{"HEAD close", 0, req("HEAD /p HTTP/1.1", "Host: a", "Connection: close"), []string{"HEAD"}},
		{"304 close", 0, get("/etag") + get("/etag", `If-None-Match: "v1"`, "Connection: close"), []string{"GET", "GET"}},
	}
	norm := regexp.MustCompile(`(?i)(date|age): [^\r]*\r\n`)
	agree := 0
	for _, c := range cases {
		want, wc := exchange(t, feH, c.raw, c.methods, 3*time.Second)
		got, gc := exchange(t, feG, c.raw, c.methods, 3*time.Second)
		want, got = norm.ReplaceAllString(want, "$1\r\n"), norm.ReplaceAllString(got, "$1\r\n")
		if want != got || wc != gc {
			t.Errorf("%s:\nhaproxy (closed=%v): %q\ngohap   (closed=%v): %q", c.name, wc, want, gc, got)
			continue
		}
		agree++
	}
	t.Logf("differential cache, raw: %d/%d exchanges identical to HAProxy", agree, len(cases))
}

// BenchmarkCacheHit measures a hit over a kept connection: the proxy's
// work (and the client's reads) per answer served from the cache.
func BenchmarkCacheHit(b *testing.B) {
	u := &cacheUpstream{count: map[string]int{}}
	addr := serveRaw(b, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.count[req.URL.Path]++
			u.mu.Unlock()
			io.WriteString(c, cacheAnswer(req.Method, req.URL.Path, 1))
		}
	})
	fe := freePort(b)
	startGohap(b, fmtCfg(strings.Replace(cacheCfg, "max-age 2\n", "max-age 600\n", 1), fe, addr, freePort(b), freePort(b)), nil)
	c, err := net.Dial("tcp", fe)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rq := []byte("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
	buf := make([]byte, 4096)
	// The answer's length, learnt from the first hit.
	c.Write(rq)
	c.Read(buf)
	c.Write(rq)
	n, _ := c.Read(buf)
	if !strings.Contains(string(buf[:n]), "x-hit: 1") {
		b.Fatalf("not a hit: %q", buf[:n])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Write(rq)
		for got := 0; got < n; {
			m, err := c.Read(buf[got:])
			if err != nil {
				b.Fatal(err)
			}
			got += m
		}
	}
	b.StopTimer()
	if u.count["/a"] != 1 {
		b.Fatalf("the server saw %d requests", u.count["/a"])
	}
}

// listenCacheCfg caches in a listen section and in a frontend in front of
// a backend that has its own rules.
const listenCacheCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 3s
listen li
    bind %s
    http-request cache-use c
    http-response cache-store c
    http-response set-header x-hit %%[res.cache_hit]
    server s %s
frontend fe
    bind %s
    http-request cache-use c
    http-response cache-store c
    http-response set-header x-fe-hit %%[res.cache_hit]
    default_backend be
backend be
    http-response set-header x-be-name %%[res.cache_name]
    server s %[2]s
cache c
    total-max-size 1
    max-age 60
`

// TestDifferentialCacheListen: the same answers from HAProxy and gohap
// when a listen section or a frontend caches.
func TestDifferentialCacheListen(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	_, upH := startCacheUpstream(t)
	_, upG := startCacheUpstream(t)
	feH, feG := [2]string{freePort(t), freePort(t)}, [2]string{freePort(t), freePort(t)}
	startHAProxy(t, fmtCfg(listenCacheCfg, feH[0], upH, feH[1]), feH[0])
	startGohap(t, fmtCfg(listenCacheCfg, feG[0], upG, feG[1]), nil)
	steps := [][]string{{"GET", "/a"}, {"GET", "/a"}, {"HEAD", "/a"}, {"GET", "/etag", `If-None-Match: "v1"`}, {"GET", "/etag", `If-None-Match: "v1"`}}
	agree, total := 0, 0
	for i := range feH {
		ch, cg := dialCache(t, feH[i]), dialCache(t, feG[i])
		for _, s := range steps {
			want := ch.do(s[0], s[1], s[2:]...).describe()
			got := cg.do(s[0], s[1], s[2:]...).describe()
			total++
			if want != got {
				t.Errorf("%d %v:\nhaproxy:\n%s\ngohap:\n%s", i, s, want, got)
				continue
			}
			agree++
		}
	}
	t.Logf("differential cache, listen and frontend: %d/%d answers identical to HAProxy", agree, total)
}
