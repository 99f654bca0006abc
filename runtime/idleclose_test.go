package runtime_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// idleAfterStop makes one keep-alive exchange on addr, has stop run, and
// tells what became of the idle connection after wait: "closed", or
// "open" followed by how its next request was answered.
func idleAfterStop(t *testing.T, addr string, stop func(), wait time.Duration) string {
	c := dialRaw(t, addr)
	c.SetDeadline(time.Now().Add(wait + 5*time.Second))
	br := bufio.NewReader(c)
	get := func() (*http.Response, error) {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
			return nil, err
		}
		rsp, err := http.ReadResponse(br, nil)
		if err == nil {
			io.Copy(io.Discard, rsp.Body)
			rsp.Body.Close()
		}
		return rsp, err
	}
	if _, err := get(); err != nil {
		return "first request: " + err.Error()
	}
	stop()
	time.Sleep(wait)
	// Closed by now, the connection reads its end at once.
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := br.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		return "closed"
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rsp, err := get()
	if err != nil {
		return "open, then " + err.Error()
	}
	out := "open, then " + rsp.Status
	if rsp.Close {
		out += " connection: close"
	}
	if _, err := br.ReadByte(); err == io.EOF {
		out += ", then closed"
	}
	return out
}

// TestIdleCloseOnResponse: with option idle-close-on-response a soft stop
// leaves an idle keep-alive connection open; its next request is
// answered with "connection: close", then the connection ends, as in
// HAProxy. Without it HAProxy closes the connection at once, and gohap
// within its grace period.
func TestIdleCloseOnResponse(t *testing.T) {
	up := startEcho(t, "s1")
	cfg := func(fe, opt string) string {
		return fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 30s\n timeout server 5s\n timeout http-keep-alive 30s\n%s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", opt, fe, up.Addr())
	}
	const opt = " option idle-close-on-response"
	want := "open, then 200 OK connection: close, then closed"
	if haproxyBin() != "" {
		for _, o := range []string{opt, ""} {
			fe := freePort(t)
			cmd := exec.Command(haproxyBin(), "-db", "-f", writeCfg(t, cfg(fe, o)))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if c, err := net.Dial("tcp", fe); err == nil {
					c.Close()
					break
				}
			}
			got := idleAfterStop(t, fe, func() { cmd.Process.Signal(syscall.SIGUSR1) }, 300*time.Millisecond)
			ref := want
			if o == "" {
				ref = "closed"
			}
			if got != ref {
				t.Errorf("haproxy %q: %s, want %s", o, got, ref)
			}
		}
	} else {
		t.Log("haproxy not installed (set HAPROXY_BIN): gohap alone")
	}
	// gohap keeps idle connections for a grace period at most: both
	// side by side, past it.
	res := make(chan [2]string, 2)
	for _, o := range []string{opt, ""} {
		fe := freePort(t)
		e := startGohap(t, cfg(fe, o), nil)
		go func() { res <- [2]string{o, idleAfterStop(t, fe, e.SoftStop, 5500*time.Millisecond)} }()
	}
	for range 2 {
		r := <-res
		ref := want
		if r[0] == "" {
			ref = "closed"
		}
		if r[1] != ref {
			t.Errorf("gohap %q: %s, want %s", r[0], r[1], ref)
		}
	}
}
