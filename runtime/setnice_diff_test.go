package runtime_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestSetNiceDifferential: the priority a stream runs with, as "show
// sess all" reports it, is HAProxy's: a bind's "nice", set-nice from
// http-request, tcp-request content and tcp-response content rules
// (atoi's value clamped to -1024..1024, the last rule winning), and the
// CLI's -64.
func TestSetNiceDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(haproxy bool) string {
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		hold := holdServer(t)
		fh, fn, ft := freePort(t), freePort(t), freePort(t)
		cfg := fmt.Sprintf(`global
    nbthread 1
    stats socket %s level admin
%sfrontend fh
    bind %s
    http-request set-nice 100 if { path /a }
    http-request set-nice -2000 if { path /b }
    http-request set-nice 3 if { path /c }
    http-request set-nice x7 if { path /c }
    default_backend bh
frontend fn
    bind %s nice 7
    default_backend bh
frontend ft
    mode tcp
    bind %s nice -3
    tcp-request inspect-delay 1s
    tcp-request content set-nice 12 if { req.len gt 0 }
    default_backend bt
backend bh
    server s %s
backend bt
    mode tcp
    tcp-response content set-nice 40
    server s %s
`, sock, diffDefaults, fh, fn, ft, hold, hold)
		if haproxy {
			startHAProxy(t, cfg, fh)
		} else {
			startGohap(t, cfg, nil)
		}
		for _, p := range []string{"/a", "/b", "/c"} {
			dialHold(t, fh, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		dialHold(t, fn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		dialHold(t, ft, "hello")
		waitSess(t, sock, 5)
		// One line per stream: its frontend, then its task's nice.
		fe := regexp.MustCompile(`frontend=(\S+)`)
		nice := regexp.MustCompile(`nice=(-?\d+)`)
		var rows []string
		for end := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = rows[:0]
			for _, blk := range strings.Split(cliSend(t, "unix", sock, "show sess all\n"), "\n0x") {
				f, n := fe.FindStringSubmatch(blk), nice.FindAllStringSubmatch(blk, -1)
				if f == nil || n == nil {
					continue
				}
				row := f[1]
				for _, m := range n {
					row += " " + m[1]
				}
				rows = append(rows, row)
			}
			sort.Strings(rows)
			// Without an inspection delay the tcp-response rule runs
			// once connected, before any answer: a process under load
			// may show the stream before that.
			if len(rows) == 6 && strings.Contains(strings.Join(rows, "\n"), "ft 40") || time.Now().After(end) {
				break
			}
		}
		return strings.Join(rows, "\n")
	}
	h, g := run(true), run(false)
	if g != h {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", g, h)
	}
	t.Logf("%s", h)
}
