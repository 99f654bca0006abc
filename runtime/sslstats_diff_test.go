package runtime_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The ssl module's columns of "show stat" (ssl_sess, ssl_reused_sess,
// ssl_failed_handshake) count the handshakes of a frontend, its
// listener, a backend and its server as HAProxy's do: full ones, resumed
// ones and failed ones, on both sides of the proxy.
func TestSSLStatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	up.TLS = &tls.Config{}
	up.StartTLS()
	t.Cleanup(up.Close)
	upAddr := strings.TrimPrefix(up.URL, "https://")
	run := func(name string, start func(cfg, fe string)) string {
		fe := freePort(t)
		sock := filepath.Join(dir, name+".sock")
		// One thread: HAProxy keeps a server's TLS session per thread.
		start(fmt.Sprintf(`global
 nbthread 1
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s ssl crt %s/site.pem name tls1
 option socket-stats
 default_backend be
backend be
 http-reuse never
 server up %s ssl verify none
`, sock, fe, dir, upAddr), fe)
		if name == "g" {
			// startHAProxy's wait for the port is a connection closed
			// before any byte: a failed handshake, which gohap gets
			// too.
			if c, err := net.DialTimeout("tcp", fe, time.Second); err == nil {
				c.Close()
			}
		}
		plain := &tls.Config{InsecureSkipVerify: true, ServerName: "site.test"}
		cached := plain.Clone()
		cached.ClientSessionCache = tls.NewLRUClientSessionCache(2)
		for _, cfg := range []*tls.Config{plain, plain, cached, cached} {
			tlsGet(t, fe, cfg)
		}
		// Not TLS: a failed handshake.
		if c, err := net.DialTimeout("tcp", fe, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
			io.ReadAll(c)
			c.Close()
		}
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = sslColumns(t, cliSend(t, "unix", sock, "show stat\n"))
			if strings.Contains(strings.Join(rows, "\n"), "fe,tls1 ssl_sess=3 ssl_reused_sess=1 ssl_failed_handshake=2") || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(rows, "\n")
	}
	ref := run("h", func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run("g", func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("ssl module columns:\nhaproxy:\n%s\ngohap:\n%s", ref, got)
	}
	t.Logf("ssl module columns (gohap):\n%s", got)
}

// sslColumns picks pxname, svname and the ssl module's columns of each
// "show stat" line.
func sslColumns(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	idx := map[string]int{}
	for i, h := range head {
		idx[h] = i
	}
	var rows []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) < len(head) {
			continue
		}
		row := f[0] + "," + f[1]
		for _, c := range []string{"ssl_sess", "ssl_reused_sess", "ssl_failed_handshake"} {
			row += " " + c + "=" + f[idx[c]]
		}
		rows = append(rows, row)
	}
	return rows
}
