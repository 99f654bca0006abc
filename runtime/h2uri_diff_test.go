package runtime_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// HAProxy holds an HTTP/2 request's target in absolute form: url,
// url_port and capture.req.uri show it, set-uri and replace-uri work on
// it (an absolute result names the Host, the server gets the path), and
// path and query do not change. gohap answers the same.
func TestHTTP2AbsoluteURIDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for HTTP/2 targets")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmt.Sprintf(baseDefaults+`frontend fe
 bind %s proto h2
 http-request set-header x-url "%%[url]"
 http-request set-header x-port "%%[url_port]"
 http-request set-header x-cap "%%[capture.req.uri]"
 http-request set-header x-path "%%[path]|%%[query]"
 http-request replace-uri ^https?://[^/]*/rw/(.*) /new/\1 if { path_beg /rw/ }
 http-request replace-uri ^/orig/(.*) /never/\1 if { path_beg /orig/ }
 http-request set-uri http://other.example:81/set%%[path] if { path_beg /set }
 http-request set-uri /plain if { path /tostr }
 http-request set-header x-url2 "%%[url]|%%[req.hdr(host)]"
 http-response set-header x-seen "%%[res.hdr(x-uri)]"
 default_backend b
backend b
 server s1 %s
`, fe, up.Addr()), fe)
		c := h2cClient(3 * time.Second)
		defer c.CloseIdleConnections()
		var out []string
		for _, p := range []string{"/a?b=1", "/rw/x?q", "/orig/y", "/set/z", "/tostr"} {
			r, err := c.Get("http://" + fe + p)
			if err != nil {
				out = append(out, p+" "+err.Error())
				continue
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			// The echo server sends the request it got back in its body.
			first, _, _ := strings.Cut(string(b), "\n")
			out = append(out, fmt.Sprintf("%s -> %d %q", p, r.StatusCode, first))
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	t.Logf("%d of %d agree: %q", sameLines(t, ref, got), len(ref), ref)
}
