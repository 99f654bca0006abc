package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMaxReuseHTTP1Differential: in HAProxy 2.6 "max-reuse" bounds the
// streams of HTTP/2 and FastCGI connections only; an HTTP/1 server
// connection goes on carrying requests. Side by side with HAProxy: which
// server connection each of a client's requests reaches.
func TestMaxReuseHTTP1Differential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	for _, opt := range []string{"max-reuse 0", "max-reuse 1", ""} {
		t.Run(opt, func(t *testing.T) {
			t.Parallel()
			g := maxReuseRun(t, opt, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := maxReuseRun(t, opt, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			if g != h {
				t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
			}
		})
	}
}

func maxReuseRun(t *testing.T, opt string, start func(cfg, fe string)) string {
	var mu sync.Mutex
	var seen []string
	conns := 0
	up := serveRaw(t, func(c net.Conn) {
		mu.Lock()
		conns++
		id := conns
		mu.Unlock()
		br := bufio.NewReader(c)
		for {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			mu.Lock()
			seen = append(seen, fmt.Sprintf("#%d%s", id, req.URL.Path))
			mu.Unlock()
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	fe := freePort(t)
	start(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind %s
    default_backend b
backend b
    server s1 %s %s
`, fe, up, opt), fe)
	c, err := net.DialTimeout("tcp", fe, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for _, p := range []string{"/a", "/b", "/c"} {
		io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	return strings.Join(seen, " ")
}
