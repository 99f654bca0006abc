package runtime_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A TLS connection that becomes a tunnel: a mode tcp frontend on a TLS
// bind, and a WebSocket upgrade on an HTTP one. Bytes go both ways in
// several writes, the client's close_notify reaches the server as the
// end of its input, and the server's end closes the client's side, on
// HAProxy and on gohap alike.
func TestTLSTunnelsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	// The server echoes each line in upper case, upgrades a request
	// first when asked, and ends once its input ends.
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		first, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasPrefix(first, "GET ") {
			for l := first; l != "\r\n"; l, _ = br.ReadString('\n') {
				if err != nil {
					return
				}
			}
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		} else {
			io.WriteString(c, strings.ToUpper(first))
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				io.WriteString(c, "server saw the end\n")
				c.(*net.TCPConn).CloseWrite()
				return
			}
			io.WriteString(c, strings.ToUpper(l))
		}
	})
	run := func(start func(cfg, first string)) []string {
		tcp, ws := freePort(t), freePort(t)
		start(fmt.Sprintf(`defaults
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend tcp
 mode tcp
 bind %s ssl crt %s/site.pem
 default_backend tb
backend tb
 mode tcp
 server s %s
frontend ws
 mode http
 bind %s ssl crt %s/site.pem
 default_backend wb
backend wb
 mode http
 server s %s
`, tcp, dir, up, ws, dir, up), tcp)
		var out []string
		for _, addr := range []string{tcp, ws} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if addr == ws {
				io.WriteString(c, "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
			} else {
				io.WriteString(c, "hello\n")
			}
			for _, l := range []string{"one\n", "two\n", strings.Repeat("x", 40000) + "\n"} {
				io.WriteString(c, l)
				time.Sleep(20 * time.Millisecond)
			}
			c.CloseWrite()
			b, err := io.ReadAll(c)
			c.Close()
			s := string(b)
			if len(s) > 200 {
				s = s[:100] + fmt.Sprintf("...(%d bytes)...", len(s)) + s[len(s)-40:]
			}
			out = append(out, fmt.Sprintf("%q err=%v", s, err))
		}
		return out
	}
	ref := run(func(cfg, first string) { startHAProxy(t, cfg, first) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
	t.Logf("both proxies:\n%s", strings.Join(got, "\n"))
	if !strings.Contains(got[0], "server saw the end") || !strings.Contains(got[1], "101 Switching") {
		t.Errorf("tunnels did not carry both ways:\n%s", strings.Join(got, "\n"))
	}
}
