package runtime_test

import (
	"fmt"
	"strings"
	"testing"
)

// Explicit "filter cache" and "filter compression" lines, in that order,
// run as the implicit ones: the second request is a cache hit and both
// are compressed, as with HAProxy.
func TestExplicitFiltersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmt.Sprintf(`cache c1
 total-max-size 4
 max-age 60
defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend b
backend b
 filter cache c1
 filter compression
 compression algo gzip
 http-request cache-use c1
 http-response cache-store c1
 http-response set-header x-hit %%[res.cache_hit]
 server s1 %s
`, fe, up.Addr()), fe)
		var out []string
		for i := 0; i < 2; i++ {
			r, body := roundTrip(t, fe, "GET /size/3000 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
			out = append(out, fmt.Sprintf("%d enc=%q hit=%q gz=%v", r.StatusCode, r.Header.Get("content-encoding"), r.Header.Get("x-hit"),
				strings.HasPrefix(body, "\x1f\x8b")))
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
	t.Logf("%q", got)
}
