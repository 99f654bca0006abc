package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/examples/echo"
)

// listenInodes lists the inodes of the sockets listening on port.
func listenInodes(t *testing.T, port string) []string {
	t.Helper()
	p, _ := strconv.Atoi(port)
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(f)
		for _, l := range strings.Split(string(b), "\n")[1:] {
			w := strings.Fields(l)
			if len(w) < 10 || w[3] != "0A" {
				continue
			}
			if i := strings.LastIndex(w[1], ":"); i > 0 && w[1][i+1:] == fmt.Sprintf("%04X", p) {
				out = append(out, w[9])
			}
		}
	}
	return out
}

// holds tells whether process pid has the socket inode open.
func holds(pid int, inode string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, _ := os.Readlink(fd); l == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

// TestTakeSocketsFromOldProcess: -x fetches the listening sockets of the
// process serving an "expose-fd listeners" stats socket (_getsocks), and
// -sf then stops it: the new process serves on the very same socket.
// HAProxy takes gohap's sockets and gohap takes HAProxy's the same way.
func TestTakeSocketsFromOldProcess(t *testing.T) {
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	ref := haproxyBin()
	for _, c := range []struct{ name, from, to string }{
		{"gohap-to-gohap", gohap, gohap}, {"gohap-to-haproxy", gohap, ref}, {"haproxy-to-gohap", ref, gohap},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.from == "" || c.to == "" {
				t.Skip("haproxy is not installed")
			}
			dir := t.TempDir()
			addr := freeAddr(t)
			_, port, _ := net.SplitHostPort(addr)
			var ups []*echo.Server
			for i := 0; i < 2; i++ {
				up, err := echo.Start(fmt.Sprintf("x%d", i), "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(up.Close)
				ups = append(ups, up)
			}
			cfg := func(i int) string {
				return writeCfg(t, dir, fmt.Sprintf("%d.cfg", i), fmt.Sprintf("global\n stats socket %s/%d.sock level admin expose-fd listeners\n"+
					"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
					"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", dir, i, addr, ups[i].Addr()))
			}
			a := startBin(t, c.from, "-db", "-f", cfg(0))
			waitServing(t, addr, "x0", a)
			before := listenInodes(t, port)
			if len(before) != 1 {
				t.Fatalf("listening sockets %v", before)
			}
			b := startBin(t, c.to, "-db", "-f", cfg(1), "-x", dir+"/0.sock", "-sf", strconv.Itoa(a.cmd.Process.Pid))
			waitServing(t, addr, "x1", b)
			waitOldExit(t, a, c.from == gohap, "")
			if after := listenInodes(t, port); len(after) != 1 || after[0] != before[0] || !holds(b.cmd.Process.Pid, before[0]) {
				t.Errorf("listening sockets %v after, %v before\n%s", after, before, b.stderr)
			}
			waitServing(t, addr, "x1", b)
		})
	}
}

// waitOldExit waits for the old process of a hand-over to end; it ends
// within a second, and 10 s even under load. A gohap still running dumps
// its goroutines (SIGQUIT) into the failure: what it waits on.
func waitOldExit(t *testing.T, p *proc, dump bool, more string) {
	t.Helper()
	select {
	case <-p.done:
		return
	case <-time.After(10 * time.Second):
	}
	if dump {
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	}
	t.Fatalf("the old process still runs\n%s\n%s", p.stderr, more)
}

// TestGetSocksLeavesListenersNonBlocking: handing the listening sockets
// over leaves them non-blocking. Their mode is the open socket's, shared
// with the old process, whose next accept would otherwise block in the
// kernel, and the close of its soft stop wait for another connection.
func TestGetSocksLeavesListenersNonBlocking(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	up, err := echo.Start("nb", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	cfg := writeCfg(t, dir, "a.cfg", fmt.Sprintf("global\n stats socket %s/a.sock level admin expose-fd listeners\n"+
		"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
		"frontend fe\n bind %s\n bind %s/fe.sock\n default_backend be\nbackend be\n server s1 %s\n", dir, addr, dir, up.Addr()))
	a := startGohap(t, "-db", "-f", cfg)
	waitServing(t, addr, "nb", a)
	dialRetry(t, "unix", dir+"/a.sock", 5*time.Second).Close()
	files, err := fetchSockets(dir + "/a.sock")
	if err != nil || len(files) != 2 {
		t.Fatalf("%d sockets: %v", len(files), err)
	}
	for _, f := range files {
		defer f.Close()
		rc, _ := f.SyscallConn()
		var fl int
		rc.Control(func(fd uintptr) { fl, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if fl&unix.O_NONBLOCK == 0 {
			t.Errorf("socket %s handed over in blocking mode", f.Name())
		}
	}
	// The old process accepts once more, then stops at once: no accept
	// of its holds the sockets.
	waitServing(t, addr, "nb", a)
	a.cmd.Process.Signal(syscall.SIGUSR1)
	waitOldExit(t, a, true, "")
}

// TestGetSocksNeedsExposeFD: without "expose-fd listeners" the stats
// socket hands nothing over, and -x fails as in HAProxy.
func TestGetSocksNeedsExposeFD(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeCfg(t, dir, "a.cfg", fmt.Sprintf("global\n stats socket %s/a.sock level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
		"frontend fe\n bind %s\n http-request return status 200\n", dir, addr))
	a := startGohap(t, "-db", "-f", cfg)
	c := dialRetry(t, "unix", dir+"/a.sock", 5*time.Second)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("_getsocks\n"))
	var b [16]byte
	if n, err := c.Read(b[:]); n != 0 || err == nil {
		t.Errorf("_getsocks without expose-fd answered %q", b[:n])
	}
	c.Close()
	addr2 := freeAddr(t)
	cfg2 := writeCfg(t, dir, "b.cfg", fmt.Sprintf("defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n http-request return status 200\n", addr2))
	code, _, errOut := runCLI("-db", "-f", cfg2, "-x", dir+"/a.sock")
	if code != 1 || !strings.Contains(errOut, "Failed to get the number of sockets to be transferred !\n") || !strings.Contains(errOut, "Failed to get the sockets from the old process!\n") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	a.cmd.Process.Signal(syscall.SIGINT)
	a.wait(t, 5*time.Second)
}

// TestNoReusePort: "noreuseport" and -dR bind without SO_REUSEPORT, so
// that nothing else binds the address; -sf still hands over, pausing the
// old process (SIGTTOU) while the new one binds.
func TestNoReusePort(t *testing.T) {
	for _, c := range []struct {
		name, global string
		args         []string
	}{{"noreuseport", " noreuseport\n", nil}, {"-dR", "", []string{"-dR"}}, {"default", "", nil}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			up, _ := echo.Start("nr", "127.0.0.1:0")
			defer up.Close()
			body := strings.Replace(lbCfg(addr, up.Addr()), "global\n", "global\n"+c.global, 1)
			cfg := writeCfg(t, dir, "nr.cfg", body)
			a := startGohap(t, append(append([]string{"-db"}, c.args...), "-f", cfg)...)
			waitServing(t, addr, "nr", a)
			// A socket with SO_REUSEPORT binds next to it only if it has
			// the option too.
			lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
				return serr
			}}
			ln, err := lc.Listen(t.Context(), "tcp", addr)
			if ln != nil {
				ln.Close()
			}
			if (err == nil) != (c.name == "default") {
				t.Errorf("binding next to it: %v", err)
			}
			b := startGohap(t, append(append([]string{"-db"}, c.args...), "-f", cfg, "-sf", strconv.Itoa(a.cmd.Process.Pid))...)
			waitOldExit(t, a, true, b.stderr.String())
			waitServing(t, addr, "nr", b)
		})
	}
}
