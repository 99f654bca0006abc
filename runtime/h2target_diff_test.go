package runtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// h2TargetRules are the target rewrites TestTargetRewritesDifferential
// runs each request through.
var h2TargetRules = []string{
	"",
	"http-request set-path /p",
	"http-request set-pathq /p?q=1",
	"http-request set-query q=1",
	"http-request set-query %[req.hdr(x-none)]",
	`http-request replace-path (.*) /x\1`,
	`http-request replace-pathq (.*) /y\1`,
	"http-request set-uri /u",
	"http-request set-uri http://n/u",
	"http-request set-uri https://n/u",
}

// TestTargetRewritesDifferential plays requests whose target HAProxy
// holds in absolute form, with a path or without one (an HTTP/2
// request's :path *, an absolute HTTP/1 target with no path), through
// path, query and URI rewrites, to an HTTP/1 and to an HTTP/2 server:
// what the server gets (an HTTP/2 server's :scheme is the request's as
// HAProxy recorded it, also once the target went to origin form), the
// url, path and query fetches after the rewrite and the log's request
// line must be HAProxy's.
func TestTargetRewritesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	h2Reqs := [][]string{
		{":method", "GET", ":scheme", "http", ":path", "*", ":authority", "h"},
		{":method", "OPTIONS", ":scheme", "https", ":path", "*", ":authority", "h:8443"},
		{":method", "GET", ":scheme", "http", ":path", "/a?b=c", ":authority", "h"},
		{":method", "GET", ":scheme", "HTTP", ":path", "/a", "host", "h"},
		{":method", "GET", ":scheme", "http", ":path", "/a"},
		{":method", "GET", ":scheme", "https", ":path", "/a", "host", "h"},
		{":method", "DELETE", ":scheme", "foo", ":path", "*", ":authority", "h"},
		{":method", "GET", ":scheme", "foo", ":path", "/a?", ":authority", "h"},
	}
	h1Reqs := []string{
		"GET http://h HTTP/1.1\r\nhost: h\r\n\r\n",
		"GET http://h/a?b HTTP/1.1\r\nhost: h\r\n\r\n",
		"GET /a?b HTTP/1.1\r\nhost: h\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nhost: h\r\n\r\n",
		"GET HTTP://h/a HTTP/1.1\r\nhost: h\r\n\r\n",
		"GET foo://h HTTP/1.1\r\nhost: h\r\n\r\n",
	}
	for _, server := range []string{"h1", "h2"} {
		t.Run(server, func(t *testing.T) {
			upH, upG := startH2RandUpstream(t), startH2RandUpstream(t)
			recH, recG := startH2Recorder(t), startH2Recorder(t)
			sinkH, sinkG := newLogSink(t), newLogSink(t)
			take := func() (string, string) {
				if server == "h1" {
					return strings.Join(upH.take(0), "\n"), strings.Join(upG.take(0), "\n")
				}
				return recH.take(), recG.take()
			}
			cfg := func(sink string, up1, up2 string) (string, []string) {
				var b strings.Builder
				fmt.Fprintf(&b, "global\n log %s local0\n", sink)
				b.WriteString(baseDefaults)
				b.WriteString(" log global\n log-format \"%{+Q}r %HU %HP %HQ\"\n")
				var ports []string
				for i, r := range h2TargetRules {
					p := freePort(t)
					ports = append(ports, p)
					fmt.Fprintf(&b, "frontend fe%d\n bind %s\n %s\n", i, p, r)
					b.WriteString(" http-request set-var(txn.url) url\n http-request set-var(txn.path) path\n http-request set-var(txn.q) query\n")
					b.WriteString(" http-response set-header x-url \"%[var(txn.url)]\"\n http-response set-header x-path \"%[var(txn.path)]\"\n http-response set-header x-query \"%[var(txn.q)]\"\n")
					b.WriteString(" default_backend b\n")
				}
				if server == "h1" {
					fmt.Fprintf(&b, "backend b\n server s %s\n", up1)
				} else {
					fmt.Fprintf(&b, "backend b\n server s %s proto h2\n", up2)
				}
				return b.String(), ports
			}
			cH, pH := cfg(sinkH.addr(), upH.addr, recH.addr)
			cG, pG := cfg(sinkG.addr(), upG.addr, recG.addr)
			startHAProxy(t, cH, pH[0])
			startGohap(t, cG, nil)
			// The readiness probes' lines.
			sinkH.drain(300 * time.Millisecond)
			sinkG.drain(300 * time.Millisecond)
			check := func(name, h, g string) {
				time.Sleep(30 * time.Millisecond)
				hs, gs := take()
				hl, gl := sinkH.message(time.Second), sinkG.message(time.Second)
				if h != g || hs != gs || hl != gl {
					t.Errorf("%s:\n haproxy: %s\n  server got %q\n  log %s\n gohap:   %s\n  server got %q\n  log %s", name, h, hs, hl, g, gs, gl)
				}
			}
			for i, rule := range h2TargetRules {
				for _, f := range h2Reqs {
					c := h2RandCase{fields: f, es: true}
					check(fmt.Sprintf("%q, HTTP/2 %q", rule, f), h2RandExchange(t, pH[i], c), h2RandExchange(t, pG[i], c))
				}
				for _, r := range h1Reqs {
					check(fmt.Sprintf("%q, %q", rule, r), h1Head(t, pH[i], r), h1Head(t, pG[i], r))
				}
			}
		})
	}
}
