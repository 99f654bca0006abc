package runtime_test

import (
	"fmt"
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
`

type diffCase struct {
	name    string
	fe2     bool
	raw     string
	methods []string
}

func req(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

var diffCases = []diffCase{
	{"get", false, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"get-rr-second", false, req("GET /x HTTP/1.1", "Host: a"), []string{"GET"}},
	{"http10", false, req("GET / HTTP/1.0"), []string{"GET"}},
	{"http10-keepalive", false, req("GET / HTTP/1.0", "Connection: keep-alive"), []string{"GET"}},
	{"close", false, req("GET / HTTP/1.1", "Host: a", "Connection: close"), []string{"GET"}},
	{"pipelined", false, req("GET /1 HTTP/1.1", "Host: a") + req("GET /2 HTTP/1.1", "Host: a") + req("GET /3 HTTP/1.1", "Host: a", "Connection: close"), []string{"GET", "GET", "GET"}},
	{"post-length", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", []string{"POST"}},
	{"post-chunked", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", []string{"POST"}},
	{"te-and-cl", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []string{"POST"}},
	{"dup-cl-equal", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", []string{"POST"}},
	{"dup-cl-differ", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", []string{"POST"}},
	{"cl-list", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", []string{"POST"}},
	{"cl-bad", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", []string{"POST"}},
	{"cl-negative", false, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", []string{"POST"}},
	{"te-gzip-chunked", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"te-chunked-gzip", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"te-gzip", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", []string{"POST"}},
	{"te-chunked-twice", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"POST"}},
	{"bad-chunk-size", false, "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", []string{"POST"}},
	{"no-colon", false, req("GET / HTTP/1.1", "Host: a", "Broken header"), []string{"GET"}},
	{"space-before-colon", false, req("GET / HTTP/1.1", "Host : a"), []string{"GET"}},
	{"header-case", false, req("GET / HTTP/1.1", "HOST: a", "X-Mixed-Case:  v  ", "accept: */*"), []string{"GET"}},
	{"head", false, req("HEAD / HTTP/1.1", "Host: a"), []string{"HEAD"}},
	{"head-size", false, req("HEAD /size/1000 HTTP/1.1", "Host: a"), []string{"HEAD"}},
	{"route-b2", false, req("GET /b2/x HTTP/1.1", "Host: a"), []string{"GET"}},
	{"dynamic-be2", false, req("GET / HTTP/1.1", "Host: a", "X-Be: 2"), []string{"GET"}},
	{"dynamic-missing", false, req("GET / HTTP/1.1", "Host: a", "X-Be: nope"), []string{"GET"}},
	{"server-down", false, req("GET /down HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-slow", false, req("GET /sleep/1500 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-close-mid-head", false, req("GET /close HTTP/1.1", "Host: a"), []string{"GET"}},
	{"server-drop", false, req("GET /drop HTTP/1.1", "Host: a"), []string{"GET"}},
	{"status-404", false, req("GET /status/404 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"size", false, req("GET /size/100000 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"chunked-response", false, req("GET /chunked/10000 HTTP/1.1", "Host: a"), []string{"GET"}},
	{"until-close", false, req("GET /untilclose HTTP/1.1", "Host: a"), []string{"GET"}},
	{"until-close-http10", false, req("GET /untilclose HTTP/1.0"), []string{"GET"}},
	{"expect-100", false, "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", []string{"POST"}},
	{"ws-no-key", false, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-bad-accept", false, req("GET /badaccept HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-ok", false, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"ws-keepalive-upgrade", false, req("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: keep-alive, Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"), []string{"GET"}},
	{"upgrade-other", false, req("GET /x HTTP/1.1", "Host: a", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), []string{"GET"}},
	{"connection-tokens", false, req("GET / HTTP/1.1", "Host: a", "Connection: keep-alive, X-Foo", "X-Foo: 1"), []string{"GET"}},
	{"ws-host-route", false, req("GET /chat HTTP/1.1", "Host: ws.example.com"), []string{"GET"}},
	{"absolute-uri", false, req("GET http://a/b?c=d HTTP/1.1", "Host: a"), []string{"GET"}},
	{"no-host", false, req("GET / HTTP/1.1"), []string{"GET"}},
	{"spaces-in-request-line", false, req("GET  /  HTTP/1.1", "Host: a"), []string{"GET"}},
	{"obs-fold", false, req("GET / HTTP/1.1", "Host: a", "X-Fold: one", " two"), []string{"GET"}},
	{"existing-xff", false, req("GET / HTTP/1.1", "Host: a", "X-Forwarded-For: 10.0.0.1"), []string{"GET"}},
	{"too-many-headers", false, req(append([]string{"GET / HTTP/1.1", "Host: a"}, strings.Split(strings.Repeat("X-H: v\n", 101), "\n")[:101]...)...), []string{"GET"}},
	{"too-large", false, req("GET / HTTP/1.1", "Host: a", "X-Big: "+strings.Repeat("a", 17000)), []string{"GET"}},
	{"bad-method", false, req("G(ET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"bad-version", false, req("GET / HTTQ/1.1", "Host: a"), []string{"GET"}},
	{"lf-only", false, "GET / HTTP/1.1\nHost: a\n\n", []string{"GET"}},
	{"leading-crlf", false, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}},
	{"no-backend", true, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
	{"no-backend-then-ok", true, req("GET / HTTP/1.1", "Host: a") + req("GET /b2 HTTP/1.1", "Host: a"), []string{"GET", "GET"}},
	{"originalto", true, req("GET /b2 HTTP/1.1", "Host: a"), []string{"GET"}},
}

func TestDifferentialHTTP(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type env struct{ fe, fe2 string }
	setup := func(start func(cfg string, fe, fe2 string)) env {
		s1, s2, s3 := startEcho(t, "s1"), startEcho(t, "s2"), startEcho(t, "s3")
		down := freePort(t)
		fe, fe2 := freePort(t), freePort(t)
		start(fmtCfg(diffCfg, fe, fe2, s1.Addr(), s2.Addr(), s3.Addr(), s3.Addr(), down), fe, fe2)
		return env{fe, fe2}
	}
	ha := setup(func(cfg, fe, _ string) { startHAProxy(t, cfg, fe) })
	gh := setup(func(cfg, _, _ string) { startGohap(t, cfg, nil) })
	// Ports differ between the two runs; the echoed heads name none.
	agree := 0
	for _, c := range diffCases {
		haAddr, ghAddr := ha.fe, gh.fe
		if c.fe2 {
			haAddr, ghAddr = ha.fe2, gh.fe2
		}
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
