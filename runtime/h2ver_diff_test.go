package runtime_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// An HTTP/2 request's version is 2.0 for req.ver and the HTTP_2.0
// predefined ACL, as HAProxy keeps it, although gohap serves the stream
// as HTTP/1.1 inside.
func TestHTTP2RequestVersionDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the version")
	}
	cfg := baseDefaults + "frontend fe\n bind %s proto h2\n http-request return status 200 hdr x-ver \"%%[req.ver]\" hdr x-h2 \"%%[str(yes)]\" if HTTP_2.0\n http-request return status 200 hdr x-ver \"%%[req.ver]\"\n"
	run := func(start func(cfg, fe string)) string {
		fe := freePort(t)
		start(fmtCfg(cfg, fe), fe)
		c := &http.Client{Timeout: 3 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
			DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) { return net.Dial(network, addr) }}}
		defer c.CloseIdleConnections()
		r, err := c.Get("http://" + fe + "/")
		if err != nil {
			return err.Error()
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r.Proto + " " + r.Header.Get("x-ver") + " " + r.Header.Get("x-h2")
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("haproxy %q, gohap %q", ref, got)
	}
	t.Logf("both %q", ref)
}
