package runtime_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The differential suite sends the same bytes to HAProxy 2.6 and to gohap
// running the same configuration and compares everything that comes back:
// status lines, headers, bodies (the echo upstream returns the request
// head it received, so forwarding differences show), error pages, and
// whether the connection was closed afterwards.

const diffCfg = `
global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 700ms
    timeout queue 1s
    retries 1
frontend fe
    bind %s
    option forwardfor
    acl is_ws hdr(Upgrade) -i WebSocket
    acl is_ws hdr_beg(Host) -i ws
    acl b2 path_beg /b2
    acl down path_beg /down
    use_backend be_ws if is_ws
    use_backend be2 if b2
    use_backend be_down if down
    use_backend be_%%[req.hdr(x-be)] if { req.hdr(x-be) -m found }
    default_backend be1
frontend fe2
    bind %s
    use_backend be2 if { path_beg /b2 }
    use_backend be_w if { path_beg /w }
    use_backend be_redisp if { path_beg /redisp }
frontend fe3
    bind %s
    timeout http-request 300ms
    timeout http-keep-alive 200ms
    default_backend be2
backend be1
    balance roundrobin
    server s1 %s
    server s2 %s
backend be2
    option originalto
    server s3 %s
backend be_ws
    server s3 %s
backend be_down
    server d1 %s
backend be_redisp
    option redispatch
    server d1 %[8]s
    server s1 %[4]s
backend be_w
    server w1 %[9]s weight 3
    server w2 %[10]s weight 2
    server w3 %[11]s weight 1
`

type diffCase struct {
	name    string
	fe2     int // 0: fe, 1: fe2, 2: fe3
	raw     string
	methods []string
}

func req(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

var diffCases = []diffCase{
	{"get", 0, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"get-rr-second", 0, req("GET /x HTTP/1.1", "Host: a"), []string{"GET"}},
	{"http10", 0, req("GET / HTTP/1.0"), []string{"GET"}},
	{"http10-keepalive", 0, req("GET / HTTP/1.0", "Connection: keep-alive"), []string{"GET"}},
	{"close", 0, req("GET / HTTP/1.1", "Host: a", "Connection: close"), []string{"GET"}},
	{"te-trailers", 0, req("GET / HTTP/1.1", "Host: a", "TE: trailers, gzip"), []string{"GET"}},
	{"te-gzip", 0, req("GET / HTTP/1.1", "Host: a", "TE: gzip"), []string{"GET"}},
	{"te-trailers-q", 0, req("GET / HTTP/1.1", "Host: a", "TE: trailers;q=0.5"), []string{"GET"}},
	{"pipelined", 0, req("GET /1 HTTP/1.1", "Host: a") + req("GET /2 HTTP/1.1", "Host: a") + req("GET /3 HTTP/1.1", "Host: a", "Connection: close"), []string{"GET", "GET", "GET"}},
	{"post-length", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", []string{"POST"}},
	{"post-chunked", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", []string{"POST"}},
	{"te-and-cl", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []string{"POST"}},
	{"dup-cl-equal", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", []string{"POST"}},
	{"dup-cl-differ", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", []string{"POST"}},
	{"cl-list", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", []string{"POST"}},
	{"cl-bad", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", []string{"POST"}},
	{"cl-negative", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", []string{"POST"}},
	{"te-gzip-chunked", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"te-chunked-gzip", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"te-gzip", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", []string{"POST"}},
	{"te-chunked-twice", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"bad-chunk-size", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", []string{"POST"}},
	{"no-colon", 0, req("GET / HTTP/1.1", "Host: a", "Broken header"), []string{"GET"}},
	{"space-before-colon", 0, req("GET / HTTP/1.1", "Host : a"), []string{"GET"}},
	{"header-case", 0, req("GET / HTTP/1.1", "HOST: a", "X-Mixed-Case:  v  ", "accept: */*"), []string{"GET"}},
	{"head", 0, req("HEAD / HTTP/1.1", "Host: a"), []string{"HEAD"}},
	{"head-size", 0, req("HEAD /size/1000 HTTP/1.1", "Host: a"), []string{"HEAD"}},
	{"route-b2", 0, req("GET /b2/x HTTP/1.1", "Host: a"), []string{"GET"}},
	{"dynamic-be2", 0, req("GET / HTTP/1.1", "Host: a", "X-Be: 2"), []string{"GET"}},
	{"dynamic-missing", 0, req("GET / HTTP/1.1", "Host: a", "X-Be: nope"), []string{"GET"}},
	{"server-down", 0, req("GET /down HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-slow", 0, req("GET /sleep/1500 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-close-mid-head", 0, req("GET /close HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-drop", 0, req("GET /drop HTTP/1.1", "Host: a"), []string{"GET"}},
	{"status-404", 0, req("GET /status/404 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"size", 0, req("GET /size/100000 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"chunked-response", 0, req("GET /chunked/10000 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"http10-chunked-response", 0, req("GET /chunked/100 HTTP/1.0"), []string{"GET"}},
	{"http10-keepalive-chunked-response", 0, req("GET /chunked/100 HTTP/1.0", "Connection: keep-alive"), []string{"GET"}},
	{"until-close", 0, req("GET /untilclose HTTP/1.1", "Host: a"), []string{"GET"}},
	{"until-close-http10", 0, req("GET /untilclose HTTP/1.0"), []string{"GET"}},
	{"expect-100", 0, "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", []string{"POST"}},
	{"ws-no-key", 0, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-bad-accept", 0, req("GET /badaccept HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-ok", 0, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-keepalive-upgrade", 0, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: keep-alive, Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"upgrade-other", 0, req("GET /x HTTP/1.1", "Host: a", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), []string{"GET"}},
	{"connection-tokens", 0, req("GET / HTTP/1.1", "Host: a", "Connection: keep-alive, X-Foo", "X-Foo: 1"), []string{"GET"}},
	{"ws-host-route", 0, req("GET /chat HTTP/1.1", "Host: ws.example.com"), []string{"GET"}},
	{"absolute-uri", 0, req("GET http://a/b?c=d HTTP/1.1", "Host: a"), []string{"GET"}},
	{"no-host", 0, req("GET / HTTP/1.1"), []string{"GET"}},
	{"spaces-in-request-line", 0, req("GET  /  HTTP/1.1", "Host: a"), []string{"GET"}},
	{"obs-fold", 0, req("GET / HTTP/1.1", "Host: a", "X-Fold: one", " two"), []string{"GET"}},
	{"existing-xff", 0, req("GET / HTTP/1.1", "Host: a", "X-Forwarded-For: 10.0.0.1"), []string{"GET"}},
	{"too-many-headers", 0, req(append([]string{"GET / HTTP/1.1", "Host: a"}, strings.Split(strings.Repeat("X-H: v\n", 101), "\n")[:101]...)...), []string{"GET"}},
	{"too-large", 0, req("GET / HTTP/1.1", "Host: a", "X-Big: "+strings.Repeat("a", 17000)), []string{"GET"}},
	{"large-at-limit", 0, req("GET / HTTP/1.1", "Host: a", "X-Big: "+strings.Repeat("a", 15237)), []string{"GET"}},
	{"large-over-limit", 0, req("GET / HTTP/1.1", "Host: a", "X-Big: "+strings.Repeat("a", 15238)), []string{"GET"}},
	{"large-uri-at-limit", 0, req("GET /"+strings.Repeat("u", 15240)+" HTTP/1.1", "Host: a"), []string{"GET"}},
	{"large-uri-over-limit", 0, req("GET /"+strings.Repeat("u", 15260)+" HTTP/1.1", "Host: a"), []string{"GET"}},
	{"large-many-headers", 0, req(append([]string{"GET / HTTP/1.1", "Host: a"}, strings.Split(strings.Repeat("X-Many: "+strings.Repeat("m", 290)+"\n", 50), "\n")[:50]...)...), []string{"GET"}},
	{"headers-100", 0, req(append([]string{"GET / HTTP/1.1", "Host: a"}, strings.Split(strings.Repeat("X-H: v\n", 99), "\n")[:99]...)...), []string{"GET"}},
	{"headers-101", 0, req(append([]string{"GET / HTTP/1.1", "Host: a"}, strings.Split(strings.Repeat("X-H: v\n", 100), "\n")[:100]...)...), []string{"GET"}},
	{"bad-method", 0, req("G(ET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"bad-version", 0, req("GET / HTTQ/1.1", "Host: a"), []string{"GET"}},
	{"lf-only", 0, "GET / HTTP/1.1\nHost: a\n\n", []string{"GET"}},
	{"leading-crlf", 0, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}},
	{"no-backend", 1, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"no-backend-then-ok", 1, req("GET / HTTP/1.1", "Host: a") + req("GET /b2 HTTP/1.1", "Host: a"), []string{"GET", "GET"}},
	{"http-request-timeout-idle", 2, "", []string{"GET"}},
	{"http-request-timeout-partial", 2, "GET / HTTP/1.1\r\nHost: a\r\n", []string{"GET"}},
	{"keep-alive-timeout", 2, req("GET / HTTP/1.1", "Host: a"), []string{"GET", "GET"}},
	{"redispatch-1", 1, req("GET /redisp HTTP/1.1", "Host: a"), []string{"GET"}},
	{"redispatch-2", 1, req("GET /redisp HTTP/1.1", "Host: a"), []string{"GET"}},
	{"redispatch-3", 1, req("GET /redisp HTTP/1.1", "Host: a"), []string{"GET"}},
	{"originalto", 1, req("GET /b2 HTTP/1.1", "Host: a"), []string{"GET"}},
	// Chunked requests buffered to their end, trailers included, are
	// served as they come, pipelined ones after them.
	{"pipelined-chunked-trailers", 0, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-Sum: 1\r\nx-folded: a\r\n b\r\n\r\n" +
		req("GET /2 HTTP/1.1", "Host: a") +
		"POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0000A\r\n0123456789\r\n0\r\n\r\n", []string{"POST", "GET", "POST"}},
	{"chunked-server-down", 0, "POST /down HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + req("GET / HTTP/1.1", "Host: a"), []string{"POST", "GET"}},
	{"chunked-redispatch", 1, "POST /redisp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []string{"POST"}},
}

func TestDifferentialHTTP(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	setup := func(start func(cfg string, fe string)) [3]string {
		s1, s2, s3 := startEcho(t, "s1"), startEcho(t, "s2"), startEcho(t, "s3")
		w1, w2, w3 := startEcho(t, "w1"), startEcho(t, "w2"), startEcho(t, "w3")
		down := freePort(t)
		fe := [3]string{freePort(t), freePort(t), freePort(t)}
		start(fmtCfg(diffCfg, fe[0], fe[1], fe[2], s1.Addr(), s2.Addr(), s3.Addr(), s3.Addr(), down, w1.Addr(), w2.Addr(), w3.Addr()), fe[0])
		return fe
	}
	ha := setup(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gh := setup(func(cfg, _ string) { startGohap(t, cfg, nil) })
	// Ports differ between the two runs; the echoed heads name none.
	agree := 0
	for _, c := range diffCases {
		haAddr, ghAddr := ha[c.fe2], gh[c.fe2]
		want, wantClosed := exchange(t, haAddr, c.raw, c.methods, 4*time.Second)
		got, gotClosed := exchange(t, ghAddr, c.raw, c.methods, 4*time.Second)
		want, got = dechunk(want), dechunk(got)
		if want != got || wantClosed != gotClosed {
			t.Errorf("%s: responses differ\nhaproxy (closed=%v):\n%q\ngohap (closed=%v):\n%q", c.name, wantClosed, clip(want), gotClosed, clip(got))
			continue
		}
		agree++
	}
	t.Logf("differential HTTP: %d/%d cases identical to HAProxy", agree, len(diffCases))
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "..."
	}
	return s
}

// dechunk replaces chunked bodies by their content: HAProxy re-chunks
// what it forwards along buffer boundaries, so chunk sizes are not part
// of the behaviour compared.
func dechunk(s string) string {
	var out strings.Builder
	for {
		i := strings.Index(s, "transfer-encoding: chunked\r\n")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.Index(s[i:], "\r\n\r\n")
		if j < 0 {
			out.WriteString(s)
			return out.String()
		}
		j += i + 4
		out.WriteString(s[:j])
		out.WriteString("<chunked ")
		s = s[j:]
		for {
			k := strings.Index(s, "\r\n")
			if k < 0 {
				break
			}
			var n int
			if _, err := fmt.Sscanf(s[:k], "%x", &n); err != nil {
				break
			}
			s = s[k+2:]
			if n == 0 {
				s = strings.TrimPrefix(s, "\r\n")
				break
			}
			if n+2 > len(s) {
				break
			}
			out.WriteString(s[:n])
			s = s[n+2:]
		}
		out.WriteString(">")
	}
}

func TestDifferentialErrorfiles(t *testing.T) {
	write := pageWriter(t)
	e400 := write("400.http", "HTTP/1.0 400 Bad request\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/plain\r\nX-Page: custom-400\r\n\r\nbad request, said the errorfile\n")
	e503 := write("503.http", "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 12\r\nX-Page: custom-503\r\n\r\nmaintenance\n")
	e502 := write("502.http", "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\nConnection: close\r\nX-Page: be-502\r\n\r\noops")
	// As Debian's pages: no length, so the page ends with the connection.
	e503n := write("503n.http", "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>down</html>\n")
	cfg := `
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 1s
    retries 0
frontend fe
    bind %s
    errorfile 400 ` + e400 + `
    errorfile 503 ` + e503 + `
    use_backend be if { path_beg /be }
    use_backend nolen if { path_beg /nolen }
backend be
    errorfile 502 ` + e502 + `
    server s1 %s
backend nolen
    errorfile 503 ` + e503n + `
    server s1 127.0.0.1:1
`
	cases := []diffCase{
		{"errorfile-400", 0, req("GET / HTTP/1.1", "Host: a", "Bad header"), []string{"GET"}},
		{"errorfile-503", 0, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
		{"errorfile-backend-502", 0, req("GET /be/drop HTTP/1.1", "Host: a"), []string{"GET"}},
		{"errorfile-frontend-503-close", 0, req("GET / HTTP/1.1", "Host: a", "Connection: close"), []string{"GET"}},
		{"errorfile-until-close", 0, req("GET /nolen HTTP/1.1", "Host: a") + req("GET / HTTP/1.1", "Host: a"), []string{"GET", "GET"}},
	}
	diffProxies(t, cfg, cases)
}

// pageWriter skips a test without haproxy, else returns a function that
// writes a page file in a temporary directory and returns its path.
func pageWriter(t *testing.T) func(name, content string) string {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	dir := t.TempDir()
	return func(name, content string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// diffProxies runs cfg (with the frontend's and an echo server's
// addresses as its two %s) in haproxy and in gohap, and compares what
// each case gets back.
func diffProxies(t *testing.T, cfg string, cases []diffCase) {
	run := func(start func(cfg, fe string)) string {
		s1 := startEcho(t, "s1")
		fe := freePort(t)
		start(fmtCfg(cfg, fe, s1.Addr()), fe)
		return fe
	}
	ha := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gh := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for _, c := range cases {
		want, wc := exchange(t, ha, c.raw, c.methods, 3*time.Second)
		got, gc := exchange(t, gh, c.raw, c.methods, 3*time.Second)
		if want != got || wc != gc {
			t.Errorf("%s:\nhaproxy (closed=%v): %q\ngohap   (closed=%v): %q", c.name, wc, want, gc, got)
		}
	}
}

// The pages of http-errors sections, errorloc and http-error replies,
// and the order in which a proxy's lines replace each other.
func TestDifferentialHTTPErrors(t *testing.T) {
	write := pageWriter(t)
	p403 := write("403.http", "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nX-Page: site-403\r\n\r\nnope\n")
	p503 := write("503.http", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nX-Page: site-503\r\n\r\ndown\n")
	p503b := write("503b.http", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 6\r\nX-Page: be-503\r\n\r\ndown2\n")
	cfg := `
http-errors site
    errorfile 403 ` + p403 + `
    errorfile 503 ` + p503 + `
http-errors other
    errorfile 503 ` + p503b + `
defaults
    mode http
    timeout connect 1s
    timeout client 3s
    timeout server 1s
    retries 0
    errorfiles site
frontend fe
    bind %s
    errorloc302 400 http://example.com/bad
    http-error status 429 content-type text/plain string "slow down" hdr x-a b
    http-error status 500 errorfiles other
    http-request deny if { path /deny }
    http-request deny deny_status 429 if { path /slow }
    http-request deny deny_status 500 if { path /five }
    http-request deny deny_status 400 if { path /bad }
    use_backend be if { path_beg /be }
    use_backend down if { path_beg /down }
backend be
    server s1 %s
backend down
    errorfiles other 503
    server s1 127.0.0.1:1
`
	diffProxies(t, cfg, []diffCase{
		{"section-403", 0, req("GET /deny HTTP/1.1", "Host: a"), []string{"GET"}},
		{"http-error-string", 0, req("GET /slow HTTP/1.1", "Host: a"), []string{"GET"}},
		{"http-error-errorfiles-missing", 0, req("GET /five HTTP/1.1", "Host: a"), []string{"GET"}},
		{"errorloc", 0, req("GET /bad HTTP/1.1", "Host: a"), []string{"GET"}},
		{"errorloc-parse-error", 0, req("GET / HTTP/1.1", "Host: a", "Bad header"), []string{"GET"}},
		{"backend-section-503", 0, req("GET /down HTTP/1.1", "Host: a"), []string{"GET"}},
		{"proxied", 0, req("GET /be HTTP/1.1", "Host: a"), []string{"GET"}},
	})
}
