package runtime_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTCPKeepAliveProbesDifferential: clitcpka-cnt, -idle and -intvl
// set a client socket's TCP_KEEPCNT, TCP_KEEPIDLE and TCP_KEEPINTVL
// where option clitcpka (or tcpka) turns keep-alive on, srvtcpka-* a
// server socket's with srvtcpka; delays are seconds, rounded up; the
// settings come from defaults too; without the option neither keep-alive
// nor the settings are set. Read from each proxy's sockets, HAProxy's
// and gohap's.
func TestTCPKeepAliveProbesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			// Held open until the test ends.
			t.Cleanup(func() { c.Close() })
		}
	}()
	cfg := func(on, plain string) string {
		return fmtCfg("defaults\n mode tcp\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n clitcpka-intvl 1m\n"+
			"frontend on\n bind %s\n option clitcpka\n clitcpka-cnt 4\n clitcpka-idle 30s\n default_backend on\n"+
			"backend on\n option srvtcpka\n srvtcpka-cnt 0x6\n srvtcpka-idle 1500ms\n srvtcpka-intvl 7\n server s %s\n"+
			"frontend plain\n bind %s\n clitcpka-cnt 5\n clitcpka-idle 40\n default_backend plain\n"+
			"backend plain\n srvtcpka-cnt 3\n srvtcpka-idle 50\n server s %s\n", on, up.Addr(), plain, up.Addr())
	}
	run := func(start func(text, addr string)) string {
		on, plain := freePort(t), freePort(t)
		start(cfg(on, plain), on)
		var out []string
		for _, fe := range []string{on, plain} {
			c, err := net.DialTimeout("tcp", fe, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			cli := sockOpts(t, fe, c.LocalAddr().String())
			// The server side: the proxy's connection to the upstream,
			// the one made last.
			srv := sockOpts(t, "", up.Addr().String())
			out = append(out, "client "+cli, "server "+srv)
			c.Close()
			waitGone(t, up.Addr().String())
		}
		return strings.Join(out, "\n")
	}
	got := run(func(text, _ string) { startGohap(t, text, nil) })
	want := run(func(text, addr string) { startHAProxy(t, text, addr) })
	if got != want {
		t.Errorf("gohap:\n%s\nHAProxy:\n%s", got, want)
	}
	if !strings.Contains(want, "keepalive=1 cnt=4 idle=30 intvl=60") || !strings.Contains(want, "keepalive=1 cnt=6 idle=2 intvl=7") {
		t.Errorf("HAProxy did not set the probes as expected:\n%s", want)
	}
}

// sockOpts finds the established socket from local (any when "") to
// remote, in whichever process holds it, and reads its keep-alive
// settings through a copy of its descriptor (pidfd_getfd).
func sockOpts(t *testing.T, local, remote string) string {
	t.Helper()
	var inode string
	for end := time.Now().Add(3 * time.Second); inode == ""; time.Sleep(20 * time.Millisecond) {
		if inode = tcpInode(t, local, remote); inode == "" && time.Now().After(end) {
			t.Fatalf("no socket %s -> %s", local, remote)
		}
	}
	target := "socket:[" + inode + "]"
	var pid, fd int
	for end := time.Now().Add(3 * time.Second); pid == 0; time.Sleep(20 * time.Millisecond) {
		pid, fd = socketOwner(target)
		if pid == 0 && time.Now().After(end) {
			t.Fatalf("no process holds %s", target)
		}
	}
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	defer unix.Close(pfd)
	cfd, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		t.Skipf("pidfd_getfd: %v", err)
	}
	defer unix.Close(cfd)
	get := func(level, opt int) int {
		v, err := unix.GetsockoptInt(cfd, level, opt)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ka := get(unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	if ka != 0 {
		ka = 1
	}
	return fmt.Sprintf("keepalive=%d cnt=%d idle=%d intvl=%d", ka,
		get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT), get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE), get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL))
}

// tcpInode is the inode of the established IPv4 socket from local (any
// when "") to remote that a process holds, the last listed, "" when
// none.
func tcpInode(t *testing.T, local, remote string) string {
	inode := ""
	for _, f := range procTCP(t) {
		// Inode 0: a socket its process has closed already.
		if len(f) > 9 && f[3] == "01" && f[9] != "0" && (local == "" || f[1] == hexAddr4(local)) && f[2] == hexAddr4(remote) {
			inode = f[9]
		}
	}
	return inode
}

// socketOwner is the process and descriptor holding the socket link
// target ("socket:[INODE]"), 0 when none.
func socketOwner(target string) (int, int) {
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, p := range fds {
		if l, err := os.Readlink(p); err == nil && l == target {
			parts := strings.Split(p, "/")
			pid, _ := strconv.Atoi(parts[2])
			fd, _ := strconv.Atoi(parts[4])
			return pid, fd
		}
	}
	return 0, 0
}

// waitGone waits until no established socket goes to remote, so that
// the next connection's is the only one.
func waitGone(t *testing.T, remote string) {
	for end := time.Now().Add(3 * time.Second); tcpInode(t, "", remote) != ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("a connection to %s is still established", remote)
		}
	}
}
