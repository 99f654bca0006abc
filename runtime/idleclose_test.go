package runtime_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// idleAfterStop makes one keep-alive exchange on addr, has stop run, and
// tells what became of the idle connection after wait: "closed", or
// "open" followed by how its next request was answered and whether the
// connection then ended.
func idleAfterStop(t *testing.T, addr string, stop func(), wait time.Duration) string {
	stopped := make(chan struct{})
	close(stopped)
	return idleAfter(t, addr, stop, stopped, wait, true)
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

// TestCloseSpreadTime: with close-spread-time a soft stop closes idle
// keep-alive connections at random times within the window, so all are
// closed once it is over; with "infinite" it leaves them open and their
// next answers keep them alive, as in HAProxy.
func TestCloseSpreadTime(t *testing.T) {
	up := startEcho(t, "s1")
	cfg := func(fe, spread string) string {
		return fmtCfg("global\n close-spread-time %s\ndefaults\n mode http\n timeout connect 1s\n timeout client 30s\n timeout server 5s\n timeout http-keep-alive 30s\n"+
			"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", spread, fe, up.Addr())
	}
	cases := []struct{ spread, want string }{
		{"800ms", "closed closed closed closed"},
		{"infinite", "open, then 200 OK open, then 200 OK open, then 200 OK open, then 200 OK"},
	}
	run := func(fe string, stop func()) string {
		// Four idle connections, looked at once the window is over.
		out := make([]string, 4)
		done := make(chan struct{})
		stopped := make(chan struct{})
		for i := range out {
			go func() {
				defer func() { done <- struct{}{} }()
				out[i] = idleAfterStopKeep(t, fe, stopped, 1200*time.Millisecond)
			}()
		}
		time.Sleep(300 * time.Millisecond)
		stop()
		close(stopped)
		for range out {
			<-done
		}
		return strings.Join(out, " ")
	}
	for _, c := range cases {
		t.Run(c.spread, func(t *testing.T) {
			if haproxyBin() != "" {
				fe := freePort(t)
				cmd := exec.Command(haproxyBin(), "-db", "-f", writeCfg(t, cfg(fe, c.spread)))
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				waitListen(t, fe)
				if got := run(fe, func() { cmd.Process.Signal(syscall.SIGUSR1) }); got != c.want {
					t.Errorf("haproxy: %s, want %s", got, c.want)
				}
			} else {
				t.Log("haproxy not installed (set HAPROXY_BIN): gohap alone")
			}
			fe := freePort(t)
			e := startGohap(t, cfg(fe, c.spread), nil)
			if got := run(fe, e.SoftStop); got != c.want {
				t.Errorf("gohap: %s, want %s", got, c.want)
			}
		})
	}
}

// idleAfterStopKeep is idleAfterStop for connections a stop may leave
// alive, several at a time: the stop is over once stopped is closed, and
// nothing waits for the connection's end after its next answer.
func idleAfterStopKeep(t *testing.T, addr string, stopped chan struct{}, wait time.Duration) string {
	return idleAfter(t, addr, func() {}, stopped, wait, false)
}

// idleAfter makes one exchange on addr, runs stop, waits for stopped,
// then wait, and tells whether the connection is "closed" or "open,
// then" its next answer's status ("connection: close" if it said so,
// and, with end, ", then closed" if it then ended).
func idleAfter(t *testing.T, addr string, stop func(), stopped chan struct{}, wait time.Duration, end bool) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait + 5*time.Second))
	br := bufio.NewReader(c)
	if _, err := exchangeOn(c, br); err != nil {
		return "first request: " + err.Error()
	}
	stop()
	<-stopped
	time.Sleep(wait)
	// Closed by now, the connection reads its end at once.
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := br.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		return "closed"
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rsp, err := exchangeOn(c, br)
	if err != nil {
		return "open, then " + err.Error()
	}
	out := "open, then " + rsp.Status
	if rsp.Close {
		out += " connection: close"
	}
	if end {
		if _, err := br.ReadByte(); err == io.EOF {
			out += ", then closed"
		}
	}
	return out
}

// exchangeOn makes one GET exchange on c, whose reader is br.
func exchangeOn(c net.Conn, br *bufio.Reader) (*http.Response, error) {
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
