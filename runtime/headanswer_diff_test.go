package runtime_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestHeadLocalAnswersDifferential: the answers the proxy makes itself
// (deny, return, an error page for want of a server, auth, an
// errorfile) go to a HEAD request without their body, over HTTP/1.1 (a
// GET follows on the same connection and must read its own answer) and
// HTTP/2, byte for byte as HAProxy sends them.
func TestHeadLocalAnswersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	dir := t.TempDir()
	ef := dir + "/404.http"
	if err := os.WriteFile(ef, []byte("HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nnot here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := func(fe, h2fe string) string {
		return fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"userlist u\n user a insecure-password b\n"+
			"frontend f\n bind %s\n bind %s proto h2\n errorfile 404 %s\n"+
			" http-request deny if { path /deny }\n"+
			" http-request return status 200 content-type text/plain string ok if { path /ret }\n"+
			" http-request auth if { path /auth } !{ http_auth(u) }\n"+
			" http-request deny deny_status 404 if { path /ef }\n"+
			" default_backend b\nbackend b\n", fe, h2fe, ef)
	}
	paths := []string{"/deny", "/ret", "/auth", "/ef", "/none"}
	run := func(start func(text, addr string)) string {
		fe, h2fe := freePort(t), freePort(t)
		start(cfg(fe, h2fe), fe)
		var out []string
		for _, p := range paths {
			c, err := net.DialTimeout("tcp", fe, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(c, "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\nGET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", p, p)
			b, _ := io.ReadAll(c)
			c.Close()
			out = append(out, "h1 "+p+":\n"+string(b))
		}
		tr := &http2.Transport{AllowHTTP: true, DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) {
			return net.DialTimeout(network, addr, 2*time.Second)
		}}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 3 * time.Second}
		for _, p := range paths {
			resp, err := client.Head("http://" + h2fe + p)
			if err != nil {
				out = append(out, "h2 "+p+": "+err.Error())
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out = append(out, fmt.Sprintf("h2 %s: %d content-length %s, %d body bytes", p, resp.StatusCode, resp.Header.Get("Content-Length"), len(b)))
		}
		return strings.Join(out, "\n")
	}
	got := run(func(text, _ string) { startGohap(t, text, nil) })
	want := run(func(text, addr string) { startHAProxy(t, text, addr) })
	if got != want {
		t.Errorf("gohap:\n%s\n\nHAProxy:\n%s", got, want)
	}
}
