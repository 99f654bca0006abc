package runtime_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestUseProxyHeaderDifferential: with "option http-use-proxy-header", a
// proxied request (a target that is neither a path nor '*') carries its
// credentials in Proxy-Authorization and "http-request auth" and the
// stats page ask for them with a 407 and Proxy-Authenticate. The status,
// the authenticate headers and what the server sees agree with HAProxy.
func TestUseProxyHeaderDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	cases := []struct{ name, opt, target, hdr string }{
		{"origin-form", "option http-use-proxy-header", "/a", ""},
		{"absolute", "option http-use-proxy-header", "http://h/a", ""},
		{"absolute-no-option", "", "http://h/a", ""},
		{"absolute-authorization", "option http-use-proxy-header", "http://h/a", "Authorization: " + good},
		{"absolute-proxy-authorization", "option http-use-proxy-header", "http://h/a", "Proxy-Authorization: " + good},
		{"origin-proxy-authorization", "option http-use-proxy-header", "/a", "Proxy-Authorization: " + good},
		{"origin-authorization", "option http-use-proxy-header", "/a", "Authorization: " + good},
		{"absolute-passes", "option http-use-proxy-header", "http://h/ok", ""},
		{"stats-absolute", "option http-use-proxy-header", "http://h/st", ""},
		{"stats-absolute-proxy-authorization", "option http-use-proxy-header", "http://h/st", "Proxy-Authorization: " + good},
		{"stats-origin", "option http-use-proxy-header", "/st", ""},
		{"bearer", "option http-use-proxy-header", "http://h/bearer", "Proxy-Authorization: Bearer tok"},
		{"bearer-authorization", "option http-use-proxy-header", "http://h/bearer", "Authorization: Bearer tok"},
		{"bearer-origin", "option http-use-proxy-header", "/bearer", "Authorization: Bearer tok"},
		{"stats-absolute-authorization", "option http-use-proxy-header", "http://h/st", "Authorization: " + good},
		{"stats-absolute-no-option", "", "http://h/st", "Authorization: " + good},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sideBySide(t, func(start func(cfg, fe string)) string { return proxyHdrRun(t, c.opt, c.target, c.hdr, start) })
		})
	}
}

func proxyHdrRun(t *testing.T, opt, target, hdr string, start func(cfg, fe string)) string {
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-bearer: %s\r\n\r\n", req.Header.Get("X-Bearer"))
	})
	addr := freePort(t)
	start(fmt.Sprintf(`%sfrontend f
    bind %s
    %s
    stats enable
    stats uri /st
    stats auth u:p
    http-request set-header x-bearer %%[http_auth_bearer] if { path_beg /bearer }
    http-request auth realm R if !{ path_beg /bearer } !{ path_beg /st } !{ path_end /ok }
    default_backend b
backend b
    server s1 %s
`, diffDefaults, addr, opt, up), addr)
	c := dialRaw(t, addr)
	extra := ""
	if hdr != "" {
		extra = hdr + "\r\n"
	}
	io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: h\r\n"+extra+"\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error " + err.Error()
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode == 200 && len(body) > 100 {
		body = body[:20]
	}
	return fmt.Sprintf("%d www=%q proxy=%q bearer=%q body=%q", resp.StatusCode, resp.Header.Get("Www-Authenticate"),
		resp.Header.Get("Proxy-Authenticate"), resp.Header.Get("X-Bearer"), body)
}
