package runtime_test

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContStatsDifferential: with option contstats the statistics count
// a long transfer's bytes while it runs, HTTP and TCP alike; without it
// only once it ends. Mid-transfer counts depend on when each proxy
// counts, so they are compared as none or some; the final ones exactly.
func TestContStatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	// 30 KB in 30 writes over 3 s, after the request.
	slow := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n == 0 {
			// A readiness probe's connection, which mode tcp forwards.
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n")
		chunk := strings.Repeat("x", 1000)
		for range 30 {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	for _, mode := range []string{"http", "tcp"} {
		for _, opt := range []string{"", " option contstats\n"} {
			t.Run(mode+strings.TrimSpace(opt), func(t *testing.T) {
				t.Parallel()
				run := func(start func(cfg, fe string)) [2]string {
					fe := freePort(t)
					sock := filepath.Join(t.TempDir(), "s.sock")
					start(fmtCfg("global\n stats socket %s level admin\ndefaults\n mode %s\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n%s"+
						"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", sock, mode, opt, fe, slow), fe)
					c := dialRaw(t, fe)
					defer c.Close()
					c.SetDeadline(time.Now().Add(10 * time.Second))
					io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
					done := make(chan struct{})
					go func() { io.Copy(io.Discard, c); close(done) }()
					time.Sleep(1500 * time.Millisecond)
					mid := statColumns(cliSend(t, "unix", sock, "show stat\n"), "bin", "bout")
					select {
					case <-done:
					case <-time.After(8 * time.Second):
						t.Error("the transfer did not end")
					}
					c.Close()
					// The counts once the stream is over.
					var end []string
					for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
						end = statColumns(cliSend(t, "unix", sock, "show stat\n"), "bin", "bout", "scur")
						if strings.Contains(end[0], " scur=0") {
							break
						}
					}
					// Mid-transfer: zero or some of the bytes, per row.
					var m []string
					for _, r := range mid {
						if strings.HasPrefix(r, "fe,") || strings.HasPrefix(r, "be,") {
							m = append(m, r[:strings.Index(r, " ")]+" counting="+boolWord(!strings.HasSuffix(r, "bout=0")))
						}
					}
					return [2]string{strings.Join(m, "\n"), strings.Join(end, "\n")}
				}
				want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
				got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
				if got != want {
					t.Errorf("gohap:\n%s\n%s\nhaproxy:\n%s\n%s", got[0], got[1], want[0], want[1])
				}
				if c := strings.Contains(want[0], "counting=yes"); c != (opt != "") {
					t.Errorf("haproxy counting mid-transfer: %v\n%s", c, want[0])
				}
			})
		}
	}
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
