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

// startKAServer is a keep-alive upstream that records, per request, its
// own name, the connection it came on and the path. /auth answers 401
// with an NTLM challenge, /slow answers after 600ms.
func startKAServer(t *testing.T, name string, mu *sync.Mutex, log *[]string) string {
	t.Helper()
	note := func(id int, r *http.Request) string { return fmt.Sprintf("%s#%d%s", name, id, r.URL.Path) }
	return recordingUpstream(t, mu, log, note, func(c net.Conn, r *http.Request) bool {
		switch r.URL.Path {
		case "/auth":
			io.WriteString(c, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"a,b\", NTLM\r\nContent-Length: 0\r\n\r\n")
			return true
		case "/slow":
			time.Sleep(600 * time.Millisecond)
		}
		return false
	})
}

// TestPreferLastDifferential: "option prefer-last-server" keeps a client's
// requests on the server its own connection goes to, not with shared
// connections nor a hashing algorithm; "max-keep-alive-queue" gives up a
// full server; a 401 asking for NTLM binds the server connection to the
// client for its next requests. Which server and which server connection
// each request reaches agree with HAProxy's.
func TestPreferLastDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type scenario struct {
		name  string
		be    string
		paths []string
		// busy holds s1's only slot with a slow request first.
		busy bool
	}
	four := []string{"/a", "/b", "/c", "/d"}
	cases := []scenario{
		{"rr-never", "http-reuse never", four, false},
		{"prefer-never", "http-reuse never\n    option prefer-last-server", four, false},
		{"prefer-safe", "option prefer-last-server", four, false},
		{"prefer-always", "http-reuse always\n    option prefer-last-server", four, false},
		{"prefer-hash", "http-reuse never\n    option prefer-last-server\n    balance uri", four, false},
		{"prefer-leastconn", "http-reuse never\n    option prefer-last-server\n    balance leastconn", four, false},
		{"no-prefer-option", "http-reuse never\n    no option prefer-last-server", four, false},
		{"ntlm", "", []string{"/auth", "/b", "/c", "/d"}, false},
		{"ntlm-later", "", []string{"/a", "/auth", "/c", "/d"}, false},
		{"ntlm-hash", "balance uri", []string{"/auth", "/b", "/c", "/d"}, false},
		{"kaq-wait", "http-reuse never\n    option prefer-last-server", []string{"/a", "/b"}, true},
		{"kaq-0", "http-reuse never\n    option prefer-last-server\n    max-keep-alive-queue 0", []string{"/a", "/b"}, true},
		{"kaq-5", "http-reuse never\n    option prefer-last-server\n    max-keep-alive-queue 5", []string{"/a", "/b"}, true},
	}
	run := func(t *testing.T, sc scenario, start func(cfg, fe string)) string {
		var mu sync.Mutex
		var log []string
		s1 := startKAServer(t, "s1", &mu, &log)
		s2 := startKAServer(t, "s2", &mu, &log)
		fe := freePort(t)
		start(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout queue 3s
frontend f
    bind %s
    default_backend b
backend b
    %s
    use-server s1 if { path /slow }
    server s1 %s maxconn 1
    server s2 %s
`, fe, sc.be, s1, s2), fe)
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(8 * time.Second))
		br := bufio.NewReader(c)
		var got []string
		for i, p := range sc.paths {
			if sc.busy && i == 1 {
				// Another client takes s1's only slot and the next
				// request of this one finds it full.
				go func() {
					b, err := net.DialTimeout("tcp", fe, 2*time.Second)
					if err != nil {
						return
					}
					defer b.Close()
					b.SetDeadline(time.Now().Add(5 * time.Second))
					io.WriteString(b, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
					http.ReadResponse(bufio.NewReader(b), nil)
				}()
				// The slow request reaches s1 before this one goes.
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					mu.Lock()
					n := len(log)
					mu.Unlock()
					if n > i {
						break
					}
				}
			}
			io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				got = append(got, "error")
				break
			}
			io.Copy(io.Discard, resp.Body)
			got = append(got, fmt.Sprint(resp.StatusCode))
		}
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(got, " ") + " | " + strings.Join(log, " ")
	}
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			g := run(t, sc, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := run(t, sc, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			t.Logf("%s: %s", sc.name, h)
			if g != h {
				t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
			}
		})
	}
}
