package runtime_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Mode tcp streams cut short, as HAProxy logs and counts them: each
// side's timeout (cD, sD) and each side's reset, and cli_abrt and
// srv_abrt on the backend and its server.
func TestTCPAbortsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	// The server reads what comes; "rst" makes it reset its side, "hold"
	// makes it wait (for a timeout).
	up := serveRaw(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		b := make([]byte, 16)
		n, _ := c.Read(b)
		switch strings.TrimSpace(string(b[:n])) {
		case "rst":
			c.(*net.TCPConn).SetLinger(0)
		case "hold":
			io.Copy(io.Discard, c)
		default:
			io.WriteString(c, "ok")
			io.Copy(io.Discard, c)
		}
	})
	cases := []struct {
		fe    int // 0: client timeout 300ms; 1: server timeout 300ms
		send  string
		rst   bool          // the client resets its side
		after time.Duration // before the client closes
	}{
		{0, "hold\n", false, 800 * time.Millisecond},
		{1, "hold\n", false, 800 * time.Millisecond},
		{0, "rst\n", false, 300 * time.Millisecond},
		{0, "data\n", true, 200 * time.Millisecond},
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fes := [2]string{freePort(t), freePort(t)}
		logs := " log " + sink.addr() + " local0\n log-format \"%%ts %%B\"\n"
		_, sock := startStatsFE(t, start, `backend be
 server s1 %s
frontend c
 mode tcp
 bind %s
 timeout client 300ms
`+logs+` default_backend slow
frontend s
 mode tcp
 bind %s
 timeout client 3s
`+logs+` default_backend fast
backend slow
 mode tcp
 timeout server 3s
 server t1 %s
backend fast
 mode tcp
 timeout server 300ms
 server t1 %s
`, up, fes[0], fes[1], up, up)
		var out []string
		for _, c := range cases {
			conn, err := net.DialTimeout("tcp", fes[c.fe], 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(conn, c.send)
			time.Sleep(c.after)
			if c.rst {
				conn.(*net.TCPConn).SetLinger(0)
			}
			conn.Close()
			out = append(out, sink.message(3*time.Second))
		}
		out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), "eresp", "cli_abrt", "srv_abrt")[1:]...)
		return strings.Join(out, "\n")
	})
}
