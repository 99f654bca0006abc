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

// TestPretendKeepAliveDifferential: option http-pretend-keepalive keeps
// the "Connection: close" that server-close mode adds off the requests
// to the server, which still closes after each answer. Side by side
// with HAProxy: the Connection header each request reaches the server
// with, on which of its connections, and what the client reads.
func TestPretendKeepAliveDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	for _, mode := range []string{"option http-server-close", "option httpclose", "option http-keep-alive"} {
		for _, pretend := range []string{"option http-pretend-keepalive", "no option http-pretend-keepalive"} {
			for _, ver := range []string{"1.1", "1.0"} {
				mode, pretend, ver := mode, pretend, ver
				t.Run(mode+"/"+pretend+"/"+ver, func(t *testing.T) {
					t.Parallel()
					g := pretendRun(t, mode, pretend, ver, func(cfg, fe string) { startGohap(t, cfg, nil) })
					h := pretendRun(t, mode, pretend, ver, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
					t.Logf("%s", h)
					if g != h {
						t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
					}
				})
			}
		}
	}
}

func pretendRun(t *testing.T, mode, pretend, ver string, start func(cfg, fe string)) string {
	var mu sync.Mutex
	var seen []string
	up := recordingUpstream(t, &mu, &seen, func(id int, r *http.Request) string {
		return fmt.Sprintf("#%d %s conn=%q", id, r.URL.Path, r.Header.Get("Connection"))
	}, nil)
	fe := freePort(t)
	start(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    %s
frontend f
    bind %s
    default_backend b
backend b
    %s
    server s1 %s
`, mode, fe, pretend, up), fe)
	c, err := net.DialTimeout("tcp", fe, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	var got []string
	for _, p := range []string{"/a", "/b"} {
		extra := ""
		if ver == "1.0" {
			extra = "Connection: keep-alive\r\n"
		}
		if _, err := io.WriteString(c, "GET "+p+" HTTP/"+ver+"\r\nHost: a\r\n"+extra+"\r\n"); err != nil {
			got = append(got, "write error")
			break
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			got = append(got, "closed")
			break
		}
		io.Copy(io.Discard, resp.Body)
		got = append(got, fmt.Sprintf("%d %q", resp.StatusCode, resp.Header.Get("Connection")))
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return strings.Join(got, ", ") + " | " + strings.Join(seen, ", ")
}
