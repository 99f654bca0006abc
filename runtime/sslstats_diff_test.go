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
	return statColumns(out, "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake")
}

// statColumns picks pxname, svname and the columns named of each "show
// stat" line.
func statColumns(out string, cols ...string) []string {
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
		for _, c := range cols {
			row += " " + c + "=" + f[idx[c]]
		}
		rows = append(rows, row)
	}
	return rows
}

// The h1 module's columns of a frontend: its HTTP/1 connections and
// streams, open and in all, and their bytes, as HAProxy counts them
// after keep-alive, close, body and bad requests.
func TestH1StatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dir := t.TempDir()
	up := startEcho(t, "s1")
	run := func(name string, start func(cfg, fe string)) string {
		fe := freePort(t)
		sock := filepath.Join(dir, name+".sock")
		start(fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 %s
`, sock, fe, up.Addr()), fe)
		exchange := func(req string) {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, req)
			io.ReadAll(c)
		}
		if name == "g" {
			// startHAProxy's wait for the port is a connection that
			// sends nothing, which HAProxy counts.
			exchange("")
		}
		get := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		exchange(get + get + "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		exchange("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
		exchange("GET /x HTTP/1.0\r\n\r\n")
		exchange("BAD\x01REQUEST\r\n\r\n")
		var rows []string
		cols := []string{"h1_open_connections", "h1_open_streams", "h1_total_connections", "h1_total_streams", "h1_bytes_in", "h1_bytes_out"}
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), cols...)[:1]
			if strings.Contains(rows[0], "h1_open_connections=0 ") || time.Now().After(deadline) {
				break
			}
		}
		return rows[0]
	}
	ref := run("h", func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run("g", func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("h1 module columns of the frontend:\nhaproxy: %s\ngohap:   %s", ref, got)
	}
	t.Logf("h1 module columns (gohap): %s", got)
}

// A client that shuts its side for writing before a whole request (none
// at all, or part of one) reads HAProxy's 400, as from HAProxy.
func TestHalfClosedRequestDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmt.Sprintf(`defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 %s
`, fe, up.Addr()), fe)
		var out []string
		for _, pre := range []string{"", "GET / HT", "GET / HTTP/1.1\r\nHost: x\r\n"} {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, pre)
			c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			c.Close()
			out = append(out, fmt.Sprintf("%q -> %q %v", pre, b, err))
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], "400 Bad request") {
		t.Errorf("no 400 for an empty half-closed connection:\n%s", strings.Join(got, "\n"))
	}
}
