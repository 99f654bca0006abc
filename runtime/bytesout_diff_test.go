package runtime_test

import (
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var bytesOutRe = regexp.MustCompile(`(?m)^TotalBytesOut: (\d+)$`)

// TestTotalBytesOutDifferential: show info's TotalBytesOut counts every
// byte the process writes to a socket, the client's answer, the request
// sent to the server and the CLI's own answers, as HAProxy's raw socket
// layer counts them; BytesOutRate follows.
func TestTotalBytesOutDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n == 0 {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n"+strings.Repeat("x", 20000))
	})
	run := func(start func(cfg, fe string)) string {
		fe := freePort(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		start(fmtCfg("global\n stats socket %s level admin\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", sock, fe, up), fe)
		total := func(answer string) int {
			m := bytesOutRe.FindStringSubmatch(answer)
			if m == nil {
				t.Fatalf("no TotalBytesOut in %q", answer)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		first := cliSend(t, "unix", sock, "show info\n")
		got, _ := exchange(t, fe, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
		if !strings.Contains(got, "200 OK") {
			t.Fatalf("answer: %q", got)
		}
		second := cliSend(t, "unix", sock, "show info\n")
		// The first answer counts too; what its text is differs.
		written := total(second) - total(first) - len(first)
		rate := regexp.MustCompile(`(?m)^BytesOutRate: (\d+)$`).FindStringSubmatch(second)
		return "written=" + strconv.Itoa(written) + " rate>0=" + strconv.FormatBool(rate != nil && rate[1] != "0")
	}
	// Under load HAProxy has counted some 200 bytes more once (its own
	// timing): both run again, up to three rounds, until one agrees.
	var got, want string
	for round := 1; round <= 3; round++ {
		want = run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		got = run(func(cfg, _ string) { startGohap(t, cfg, nil) })
		if got == want {
			break
		}
		t.Logf("round %d: gohap %s, haproxy %s", round, got, want)
	}
	if got != want {
		t.Errorf("gohap %s, haproxy %s", got, want)
	}
	if !strings.Contains(want, "rate>0=true") {
		t.Errorf("haproxy: %s", want)
	}
}
