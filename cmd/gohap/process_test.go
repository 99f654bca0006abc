package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
	"github.com/gohap/gohap/examples/freeport"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// proxyCfg writes a configuration that sends everything on addr to an
// echo server named name.
func proxyCfg(t *testing.T, dir, addr, name string) string {
	t.Helper()
	up, err := echo.Start(name, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if up.Addr() == addr {
		// The kernel gave the upstream the port just picked for the
		// proxy: take another one, or the proxy cannot bind and the
		// upstream answers in its place.
		defer up.Close()
		return proxyCfg(t, dir, addr, name)
	}
	t.Cleanup(up.Close)
	return writeCfg(t, dir, name+".cfg", fmt.Sprintf("defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
		"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", addr, up.Addr()))
}

// startBin runs a binary with args; the process is killed at cleanup.
func startBin(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	p := &proc{cmd: cmd, stderr: &syncBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

func startGohap(t *testing.T, args ...string) *proc {
	t.Helper()
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	return startBin(t, bin, args...)
}

// get sends one request and returns the status and the answering server.
func get(addr string) (int, string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Server"), nil
}

// waitServing waits until addr answers through the echo server name.
func waitServing(t *testing.T, addr, name string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, srv, err := get(addr)
		if err == nil && code == 200 && srv == name {
			return
		}
		if time.Now().After(deadline) {
			out := ""
			if p != nil {
				out = p.stderr.String()
			}
			t.Fatalf("%s is not served by %s: %d %q %v\n%s", addr, name, code, srv, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone waits until pid no longer runs (or is a zombie nobody reaps).
func gone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestForegroundRunAndSIGINT runs `-d -f cfg -p pidfile` as the reg-test
// harness does: it serves, writes no pidfile (HAProxy writes one only in
// daemon and master-worker modes) and dies by SIGINT at once, as HAProxy, even
// with a client connection open in the middle of a request.
func TestForegroundRunAndSIGINT(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	pidfile := filepath.Join(dir, "gohap.pid")
	p := startGohap(t, "-d", "-f", proxyCfg(t, dir, addr, "fg"), "-p", pidfile)
	waitServing(t, addr, "fg", p)
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("foreground run wrote a pidfile: %v", err)
	}
	if bin := os.Getenv("HAPROXY_BIN"); bin != "" {
		hdir := t.TempDir()
		haddr := freeAddr(t)
		hpid := filepath.Join(hdir, "h.pid")
		h := startBin(t, bin, "-d", "-f", proxyCfg(t, hdir, haddr, "ref"), "-p", hpid)
		waitServing(t, haddr, "ref", h)
		if _, err := os.Stat(hpid); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("haproxy -d wrote its pidfile, gohap did not: %v", err)
		}
		h.cmd.Process.Signal(syscall.SIGINT)
		if h.wait(t, 2*time.Second); !h.diedBy(syscall.SIGINT) {
			t.Errorf("haproxy: %v on SIGINT", h.cmd.ProcessState)
		}
	}
	half, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	io.WriteString(half, "GET / HTTP/1.1\r\nHost: x\r\n")
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	if p.wait(t, 2*time.Second); !p.diedBy(syscall.SIGINT) {
		t.Errorf("SIGINT: %v, want to die by it\n%s", p.cmd.ProcessState, p.stderr)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("SIGINT took %v", d)
	}
}

// TestDaemon runs -D: the command returns 0 once the daemon serves, the
// pidfile holds the daemon's pid, which leads its own session with stdio
// on /dev/null.
func TestDaemon(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	pidfile := filepath.Join(dir, "gohap.pid")
	os.WriteFile(pidfile, []byte("stale\n"), 0o644)
	p := startGohap(t, "-D", "-f", proxyCfg(t, dir, addr, "daemon"), "-p", pidfile)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("-D: exit %d\n%s", code, p.stderr)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "\n") {
		t.Errorf("pidfile %q lacks its final LF", b)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid == p.cmd.Process.Pid {
		t.Fatalf("pidfile %q, parent pid %d", b, p.cmd.Process.Pid)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	// served at once: the parent returned only when listeners were up
	if code, srv, err := get(addr); err != nil || code != 200 || srv != "daemon" {
		t.Errorf("daemon does not serve: %d %q %v", code, srv, err)
	}
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	if len(f) < 4 || f[3] != strconv.Itoa(pid) {
		t.Errorf("daemon is not a session leader: %s", stat)
	}
	for fd := 0; fd <= 2; fd++ {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); l != os.DevNull {
			t.Errorf("daemon fd %d is %q", fd, l)
		}
	}
	syscall.Kill(pid, syscall.SIGINT)
	if !gone(pid, 2*time.Second) {
		t.Errorf("daemon still runs 2s after SIGINT")
	}
}

// TestDaemonStartFailure: when the daemon cannot bind, -D exits 1 with
// the daemon's alerts and leaves no pidfile.
func TestDaemonStartFailure(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pidfile := filepath.Join(dir, "gohap.pid")
	p := startGohap(t, "-D", "-f", proxyCfg(t, dir, busy.Addr().String(), "busy"), "-p", pidfile)
	if code := p.wait(t, 10*time.Second); code != 1 || !strings.Contains(p.stderr.String(), "Address already in use") {
		t.Errorf("exit %d\n%s", code, p.stderr)
	}
	if _, err := os.Stat(pidfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pidfile left behind: %v", err)
	}
}

// TestOldPids starts a second instance with -sf on the first one, which
// soft-stops (SIGUSR1) once the second one listens; then -st on the
// second one, which is terminated (SIGTERM).
func TestOldPids(t *testing.T) {
	dir := t.TempDir()
	addrA, addrB, addrC := freeAddr(t), freeAddr(t), freeAddr(t)
	a := startGohap(t, "-db", "-f", proxyCfg(t, dir, addrA, "a"))
	waitServing(t, addrA, "a", a)
	b := startGohap(t, "-db", "-f", proxyCfg(t, dir, addrB, "b"), "-sf", strconv.Itoa(a.cmd.Process.Pid))
	if code := a.wait(t, 5*time.Second); code != 0 || !strings.Contains(a.stderr.String(), ") : Proxy fe stopped (cumulated conns: FE: ") {
		t.Errorf("old instance after -sf: exit %d\n%s", code, a.stderr)
	}
	waitServing(t, addrB, "b", b)
	c := startGohap(t, "-db", "-f", proxyCfg(t, dir, addrC, "c"), "-st", strconv.Itoa(b.cmd.Process.Pid))
	b.wait(t, 5*time.Second)
	if ws, ok := b.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("old instance after -st: %v\n%s", b.cmd.ProcessState, b.stderr)
	}
	waitServing(t, addrC, "c", c)
}

// TestOldPidSameAddress: with SO_REUSEPORT, set as HAProxy sets it, a
// new instance binds the address the old one serves; the old one then
// soft-stops (-sf) and the new one serves.
func TestOldPidSameAddress(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	old := startGohap(t, "-db", "-f", proxyCfg(t, dir, addr, "old"))
	waitServing(t, addr, "old", old)
	nu := startGohap(t, "-db", "-f", proxyCfg(t, dir, addr, "new"), "-sf", strconv.Itoa(old.cmd.Process.Pid))
	if code := old.wait(t, 10*time.Second); code != 0 {
		t.Errorf("old instance: exit %d\n%s", code, old.stderr)
	}
	waitServing(t, addr, "new", nu)
}

// TestQuietRun: -q prints nothing, as HAProxy: not a server's state
// changes, nor the SIGHUP dump, nor a soft stop's proxies. Without -q the
// same run prints them.
func TestQuietRun(t *testing.T) {
	for _, quiet := range []bool{true, false} {
		dir := t.TempDir()
		addr := freeAddr(t)
		cfg := proxyCfg(t, dir, addr, "quiet")
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, []byte(strings.Replace(string(b), "server s1 ", "server dead "+freeAddr(t)+" check inter 100\n server s1 ", 1)), 0o644)
		args := []string{"-db", "-f", cfg}
		if quiet {
			args = append(args, "-q")
		}
		p := startGohap(t, args...)
		waitServing(t, addr, "quiet", p)
		// Once served, the dead server's first check is over.
		for deadline := time.Now().Add(5 * time.Second); !quiet && !strings.Contains(p.stderr.String(), "Server be/dead is DOWN"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no DOWN line without -q:\n%s", p.stderr)
			}
		}
		p.cmd.Process.Signal(syscall.SIGHUP)
		time.Sleep(100 * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGUSR1)
		if code := p.wait(t, 5*time.Second); code != 0 {
			t.Errorf("exit %d after SIGUSR1", code)
		}
		out := p.stderr.String()
		if quiet && out != "" {
			t.Errorf("-q printed:\n%s", out)
		}
		if !quiet && (!strings.Contains(out, "SIGHUP: Server be/dead is DOWN") || !strings.Contains(out, "Proxy fe stopped")) {
			t.Errorf("without -q:\n%s", out)
		}
	}
}

// TestSIGHUPDumpsStates: SIGHUP logs each server's state in HAProxy's
// words and the proxy goes on serving.
func TestSIGHUPDumpsStates(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startGohap(t, "-db", "-f", proxyCfg(t, dir, addr, "hup"))
	waitServing(t, addr, "hup", p)
	p.cmd.Process.Signal(syscall.SIGHUP)
	// The session of the one request may not be released yet: 0 or 1 act.
	want := regexp.MustCompile(`\[WARNING\]  \(\d+\) : SIGHUP: Server be/s1 is UP\. Conn: [01] act, 0 pend, 1 tot\.\n`)
	deadline := time.Now().Add(5 * time.Second)
	for !want.MatchString(p.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitServing(t, addr, "hup", p)
}

// TestMasterCLIWithoutMasterWorker: -S without -W is HAProxy's warning,
// under the one pair of version notices, and the proxy runs.
func TestMasterCLIWithoutMasterWorker(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startGohap(t, "-db", "-S", filepath.Join(dir, "master.sock"), "-f", proxyCfg(t, dir, addr, "mcli"))
	waitServing(t, addr, "mcli", p)
	out := p.stderr.String()
	if !strings.Contains(out, ") : config : a master CLI socket was defined, but master-worker mode (-W) is not enabled.\n") ||
		strings.Count(out, "haproxy version is") != 1 {
		t.Errorf("stderr:\n%s", out)
	}
}

// TestHardStopAfter: a soft stop (SIGUSR1) waits for the requests in
// progress, but no longer than hard-stop-after; without it the stuck
// request keeps the process for the whole server timeout.
func TestHardStopAfter(t *testing.T) {
	// A server that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, c := range []struct {
		global string
		limit  time.Duration
		stuck  bool
	}{
		{"global\n hard-stop-after 300ms\n", 2 * time.Second, false},
		{"", 2 * time.Second, true},
	} {
		addr := freeAddr(t)
		cfg := writeCfg(t, t.TempDir(), "hsa.cfg", fmt.Sprintf("%sdefaults\n mode http\n timeout connect 1s\n timeout client 20s\n timeout server 20s\n"+
			"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", c.global, addr, ln.Addr()))
		p := startGohap(t, "-d", "-f", cfg)
		conn := dialRetry(t, "tcp", addr, 2*time.Second)
		defer conn.Close()
		io.WriteString(conn, "GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(200 * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGUSR1)
		select {
		case <-p.done:
			if c.stuck {
				t.Errorf("%q: exited while a request was in progress", c.global)
			}
		case <-time.After(c.limit):
			if !c.stuck {
				t.Errorf("%q: still running %v after SIGUSR1\n%s", c.global, c.limit, p.stderr.String())
			}
		}
	}
}

// TestRunSubcommandStaysInForeground: "gohap run" is the foreground run
// even when the configuration says "daemon" (which the HAProxy command
// line obeys): it serves, and is the process that was started.
func TestRunSubcommandStaysInForeground(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := proxyCfg(t, dir, addr, "fgrun")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = writeCfg(t, dir, "daemon.cfg", "global\n daemon\n"+string(b))
	p := startGohap(t, "run", "-f", cfg)
	waitServing(t, addr, "fgrun", p)
	select {
	case <-p.done:
		t.Fatalf("gohap run left the foreground: %v\n%s", p.cmd.ProcessState, p.stderr.String())
	default:
	}
}
