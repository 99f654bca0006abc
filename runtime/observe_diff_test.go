package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestObserveDifferential: "observe" counts the outcomes of real traffic,
// and "error-limit" consecutive errors trigger "on-error": a failed check,
// a sudden death, a server marked down, or an earlier check. Side by side
// with HAProxy: the answers, and the server's status, check status,
// chkfail, hanafail and last check in show stat.
func TestObserveDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases := []struct {
		name, opts string
		status     []string // what the server answers, in turn (the last repeats)
		reqs       int
		refuse     bool
	}{
		{"mark-down", "observe layer7 error-limit 3 on-error mark-down", []string{"500"}, 4, false},
		{"fail-check", "observe layer7 error-limit 2", []string{"500"}, 4, false},
		{"sudden-death", "observe layer7 error-limit 2 on-error sudden-death", []string{"502"}, 2, false},
		{"ok-resets", "observe layer7 error-limit 2 on-error mark-down", []string{"500", "501", "500", "404", "503"}, 5, false},
		{"layer4-ignores-http", "observe layer4 error-limit 1 on-error mark-down", []string{"500"}, 3, false},
		{"fastinter", "observe layer7 error-limit 1 on-error fastinter fastinter 100ms", []string{"500"}, 1, false},
		{"layer4-refused", "observe layer4 error-limit 4 on-error mark-down", nil, 1, true},
		{"none", "observe none error-limit 1 on-error mark-down", []string{"500"}, 3, false},
	}
	run := func(t *testing.T, opts string, status []string, reqs int, refuse bool, start func(cfg, fe string)) string {
		addr := ""
		if refuse {
			addr = refusedAddr(t)
		} else {
			n := 0
			addr = serveRaw(t, func(c net.Conn) {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					st := status[min(n, len(status)-1)]
					n++
					io.WriteString(c, "HTTP/1.1 "+st+" X\r\nContent-Length: 0\r\n\r\n")
				}
			})
		}
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		start(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    retries 3
frontend f
    bind %s
    default_backend b
backend b
    # s1's first check comes long after s0's, which is at once.
    use-server s1 if TRUE
    server s0 %s check inter 1h
    server s1 %s check inter 1h %s
`, sock, fe, addr, addr, opts), fe)
		var got []string
		for i := 0; i < reqs; i++ {
			code, _, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			got = append(got, fmt.Sprint(code))
		}
		state := ""
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			// An earlier check (fastinter) leaves the INI status.
			if state = hanaState(cliSend(t, "unix", sock, "show stat\n")); !strings.Contains(opts, "fastinter 100ms") || !strings.Contains(state, "INI") {
				break
			}
		}
		return strings.Join(got, " ") + " | " + state
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := run(t, c.opts, c.status, c.reqs, c.refuse, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := run(t, c.opts, c.status, c.reqs, c.refuse, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			t.Logf("%s: %s", c.name, h)
			if g != h {
				t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
			}
		})
	}
}

// hanaState is b/s1's status, check_status, chkfail, hanafail and
// last_chk in "show stat".
func hanaState(out string) string {
	r := statRow(out, "b", "s1")
	if r == nil {
		return ""
	}
	var kv []string
	for _, k := range []string{"status", "check_status", "chkfail", "hanafail", "last_chk"} {
		kv = append(kv, k+"="+r[k])
	}
	return strings.Join(kv, " ")
}
