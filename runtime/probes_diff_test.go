package runtime_test

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIgnoreProbesDifferential: with option http-ignore-probes a
// connection that sends nothing, then closes or lets the request timeout
// strike, gets no 408 and no log line; one that began a request is
// answered and logged as without the option. Side by side with HAProxy:
// what the client reads, the log lines and the frontend's ereq and
// req_tot.
func TestIgnoreProbesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	for _, opt := range []string{"option http-ignore-probes", "no option http-ignore-probes"} {
		for _, send := range []string{"", "GET / HT"} {
			for _, wait := range []bool{false, true} {
				name := fmt.Sprintf("%s/%q/timeout=%v", opt, send, wait)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					g := probeRun(t, opt, send, wait, func(cfg, fe string) { startGohap(t, cfg, nil) })
					h := probeRun(t, opt, send, wait, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
					if g != h {
						t.Errorf("gohap:   %q\nhaproxy: %q", g, h)
					}
				})
			}
		}
	}
}

func probeRun(t *testing.T, opt, send string, wait bool, start func(cfg, fe string)) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 300ms
frontend f
    bind %s
    log %s local0
    log-format "%%ST %%tsc %%r"
    %s
    default_backend b
backend b
    server s1 127.0.0.1:1
`, sock, fe, pc.LocalAddr(), opt), fe)
	// The start-up probe of startHAProxy may have logged and counted:
	// drain it, and count from here.
	drainLogs(pc, 300*time.Millisecond)
	e0, r0 := feCounters(cliSend(t, "unix", sock, "show stat\n"))
	c, err := net.DialTimeout("tcp", fe, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, send)
	got := ""
	if wait {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		got = string(b)
		if i := strings.Index(got, "\r\n"); i >= 0 {
			got = got[:i]
		}
	}
	c.Close()
	logs := drainLogs(pc, 500*time.Millisecond)
	e1, r1 := feCounters(cliSend(t, "unix", sock, "show stat\n"))
	return fmt.Sprintf("%s | %s | ereq +%d req_tot +%d", got, strings.Join(logs, " / "), e1-e0, r1-r0)
}

// drainLogs reads the log lines that come within d, without their
// syslog header.
func drainLogs(pc net.PacketConn, d time.Duration) []string {
	var out []string
	buf := make([]byte, 2048)
	for {
		pc.SetReadDeadline(time.Now().Add(d))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return out
		}
		l := string(buf[:n])
		if i := strings.Index(l, "]: "); i >= 0 {
			l = l[i+3:]
		}
		out = append(out, strings.TrimSpace(l))
	}
}

// feCounters is frontend f's ereq and req_tot in "show stat".
func feCounters(out string) (ereq, reqTot int) {
	r := statRow(out, "f", "FRONTEND")
	if r == nil {
		return -1, -1
	}
	ereq, _ = strconv.Atoi(r["ereq"])
	reqTot, _ = strconv.Atoi(r["req_tot"])
	return ereq, reqTot
}
