package runtime_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// accept-proxy on a TLS bind: the PROXY header comes before the TLS
// handshake, and its source address is the client's (X-Forwarded-For),
// through HAProxy and gohap alike; a connection without one is closed.
func TestAcceptProxyOnTLSBind(t *testing.T) {
	tlsPrefixDiff(t, "accept-proxy", []string{"PROXY TCP4 10.9.8.7 10.0.0.1 1234 443\r\n", "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x0a\x01\x02\x03\x0a\x00\x00\x01\x04\xd2\x01\xbb", ""},
		[]string{"200 OK x-forwarded-for: 10.9.8.7", "200 OK x-forwarded-for: 10.1.2.3", "handshake failed"})
}

// accept-netscaler-cip on a TLS bind: the NetScaler Client IP header
// comes before the handshake and gives the client's address; one with
// another magic number, or none, closes the connection.
func TestAcceptNetScalerCIPOnTLSBind(t *testing.T) {
	v4 := cipIPv4("10.1.2.3:1111", "10.9.9.9:443", 6, 5)
	tlsPrefixDiff(t, "accept-netscaler-cip 1234", []string{cipLegacy(1234, v4, len(v4)), cipStd(1234, 0, v4, len(v4)), cipLegacy(99, v4, len(v4)), ""},
		[]string{"200 OK x-forwarded-for: 10.1.2.3", "200 OK x-forwarded-for: 10.1.2.3", "handshake failed", "handshake failed"})
}

// tlsPrefixDiff sends each prefix, then a TLS handshake and a request,
// to a TLS bind with opts, and compares the answers (status and
// X-Forwarded-For) with want, and with HAProxy's when it is installed.
func tlsPrefixDiff(t *testing.T, opts string, prefixes, want []string) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmtCfg(baseDefaults+"frontend fe\n bind %s ssl crt %s/site.pem %s\n option forwardfor\n default_backend be\nbackend be\n server s1 %s\n", fe, dir, opts, up.Addr()), fe)
		var out []string
		for _, pre := range prefixes {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, pre)
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test"})
			if err := tc.Handshake(); err != nil {
				out = append(out, "handshake failed")
				c.Close()
				continue
			}
			io.WriteString(tc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
			if err != nil {
				out = append(out, "no answer")
				c.Close()
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			xff := ""
			for _, l := range strings.Split(string(b), "\r\n") {
				if strings.HasPrefix(l, "x-forwarded-for: ") {
					xff = l
				}
			}
			out = append(out, resp.Status+" "+xff)
			c.Close()
		}
		return out
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("gohap: %q, want %q", got, want)
	}
	if haproxyBin() != "" {
		ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		if strings.Join(ref, "|") != strings.Join(got, "|") {
			t.Errorf("haproxy %q, gohap %q", ref, got)
		}
	}
}
