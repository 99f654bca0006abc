package runtime_test

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// skmemRe reads the receive and send buffer sizes in ss's skmem.
var skmemRe = regexp.MustCompile(`skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)`)

// sockBufs is "rb/tb" of the established TCP socket whose local address
// is local and peer peer, as ss shows it ("" if not found).
func sockBufs(t *testing.T, local, peer string) string {
	t.Helper()
	out, err := exec.Command("ss", "-tmnH", "state", "established").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 4 && f[2] == local && f[3] == peer && i+1 < len(lines) {
			if m := skmemRe.FindStringSubmatch(lines[i+1]); m != nil {
				return m[1] + "/" + m[2]
			}
		}
	}
	return ""
}

// tune.rcvbuf.client, tune.sndbuf.client, tune.rcvbuf.server and
// tune.sndbuf.server size the buffers of the client's and the server's
// sockets as HAProxy's do (ss shows the kernel's doubled values).
func TestSocketBufferSizesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for socket buffer sizes")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss not installed (apt-get install -y iproute2): cannot read socket buffer sizes")
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		// An upstream that holds its connection until the test is done
		// and says which client address it saw.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		peers := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.ReadAtLeast(c, make([]byte, 64), 16)
			peers <- c
		}()
		fe := freePort(t)
		start(fmtCfg("global\n tune.rcvbuf.client 8192\n tune.sndbuf.client 16384\n tune.rcvbuf.server 4096\n tune.sndbuf.server 32768\n"+
			"defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n"+
			"frontend f\n bind %s\n default_backend b\nbackend b\n server s %s\n", fe, ln.Addr()), fe)
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		var sc net.Conn
		select {
		case sc = <-peers:
		case <-time.After(5 * time.Second):
			t.Fatal("the request never reached the server")
		}
		defer sc.Close()
		// The proxy's two sockets: the one it accepted, the one it
		// connected.
		return "client " + sockBufs(t, fe, c.LocalAddr().String()) + " server " + sockBufs(t, sc.RemoteAddr().String(), ln.Addr().String())
	})
}

// A unix socket does not inherit its listener's buffer sizes: each one
// accepted gets them, as HAProxy sets them on every socket it accepts.
func TestUnixSocketBufferSizesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for socket buffer sizes")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss not installed (apt-get install -y iproute2): cannot read socket buffer sizes")
	}
	up := startEcho(t, "up")
	sideBySide(t, func(start func(cfg, fe string)) string {
		path := filepath.Join(t.TempDir(), "fe.sock")
		// The TCP bind says when the proxy is up.
		fe := freePort(t)
		start(fmtCfg("global\n tune.rcvbuf.client 8192\n tune.sndbuf.client 16384\n"+
			"defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n"+
			"frontend f\n bind %s\n bind %s\n default_backend b\nbackend b\n server s %s\n", path, fe, up.Addr()), fe)
		// The kernel completes a TCP connection once the bind listens,
		// which HAProxy may do before it binds the unix socket.
		waitUnixSocket(path)
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 512))
		out, err := exec.Command("ss", "-xmnH", "state", "established").Output()
		if err != nil {
			t.Fatalf("ss: %v", err)
		}
		// The proxy's side is named after the socket's path.
		lines := strings.Split(string(out), "\n")
		for i, l := range lines {
			// Netid, Recv-Q, Send-Q, then the local address.
			if f := strings.Fields(l); len(f) >= 4 && strings.HasPrefix(f[3], path) {
				rest := l
				if i+1 < len(lines) {
					rest += lines[i+1]
				}
				if m := skmemRe.FindStringSubmatch(rest); m != nil {
					return m[1] + "/" + m[2]
				}
			}
		}
		t.Errorf("no socket of %s in ss's list:\n%s", path, out)
		return ""
	})
}

// Health checks and agent checks connect to the server as its traffic
// does (tcp_connect_server), so their sockets get the server buffer
// sizes too.
func TestCheckSocketBufferSizesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for socket buffer sizes")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss not installed (apt-get install -y iproute2): cannot read socket buffer sizes")
	}
	// hold accepts connections on a new listener and keeps them open,
	// answering nothing, so the check waits on them. A check whose
	// connect timed out under load (its connect timeout is its 100 ms
	// inter) was closed before ss could see it: the next one is taken.
	hold := func() (net.Listener, chan net.Conn) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan net.Conn, 64)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				select {
				case got <- c:
				default:
					c.Close()
				}
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			for {
				select {
				case c := <-got:
					c.Close()
				default:
					return
				}
			}
		})
		return ln, got
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		srv, srvConns := hold()
		defer srv.Close()
		agent, agentConns := hold()
		defer agent.Close()
		fe := freePort(t)
		start(fmtCfg("global\n tune.rcvbuf.server 4096\n tune.sndbuf.server 32768\n"+
			"defaults\n mode tcp\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n timeout check 10s\n"+
			"frontend f\n bind %s\n default_backend b\n"+
			"backend b\n option tcp-check\n tcp-check expect string never\n"+
			" server s %s check inter 100ms agent-check agent-addr 127.0.0.1 agent-port %d agent-inter 100ms\n",
			fe, srv.Addr(), agent.Addr().(*net.TCPAddr).Port), fe)
		out := ""
		for _, w := range []struct {
			name  string
			ln    net.Listener
			conns chan net.Conn
		}{{"check", srv, srvConns}, {"agent", agent, agentConns}} {
			found := ""
			for deadline := time.After(5 * time.Second); found == ""; {
				select {
				case c := <-w.conns:
					defer c.Close()
					found = sockBufs(t, c.RemoteAddr().String(), w.ln.Addr().String())
				case <-deadline:
					t.Fatalf("no %s connection that ss sees", w.name)
				}
			}
			out += w.name + " " + found + " "
		}
		return out
	})
}
