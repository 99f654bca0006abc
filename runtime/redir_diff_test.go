package runtime_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestServerRedirDifferential: a server's "redir" answers GET and HEAD
// requests that reach it with a 302 to its prefix and the request's path,
// and closes; other methods go to the server. Side by side with HAProxy:
// the bytes the client reads, and the log line.
func TestServerRedirDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases := []struct{ name, prefix, req string }{
		{"get", "http://example.com", "GET /a/b?c=d HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"head", "https://other:8443/pfx", "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"slash", "/", "GET /keep?q HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"absolute-uri", "http://e", "GET http://host:81/p/q?r HTTP/1.1\r\nHost: host:81\r\n\r\n"},
		{"post", "http://e", "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"},
		{"http10", "http://e", "GET /old HTTP/1.0\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := redirRun(t, c.prefix, c.req, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := redirRun(t, c.prefix, c.req, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			t.Logf("%q", h)
			if g != h {
				t.Errorf("gohap:   %q\nhaproxy: %q", g, h)
			}
		})
	}
}

func redirRun(t *testing.T, prefix, req string, start func(cfg, fe string)) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		c.Read(buf)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	fe := freePort(t)
	start(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind %s
    log %s local0
    log-format "%%ST %%tsc %%s %%r"
    option dontlognull
    default_backend b
backend b
    server s1 %s redir %s
`, fe, pc.LocalAddr(), up, prefix), fe)
	c, err := net.DialTimeout("tcp", fe, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	logs := drainLogs(pc, 500*time.Millisecond)
	return string(b) + " | " + strings.Join(logs, " / ")
}
