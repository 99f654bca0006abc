package runtime_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// connEnds is an upstream that answers every request head with a small
// response, keeps the connection open and records how each one ended:
// with a reset or with a FIN.
type connEnds struct {
	mu           sync.Mutex
	opened       int
	resets, fins int
}

func (ce *connEnds) counts() (opened, resets, fins int) {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	return ce.opened, ce.resets, ce.fins
}

func (ce *connEnds) serve(c net.Conn) {
	ce.mu.Lock()
	ce.opened++
	ce.mu.Unlock()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			ce.mu.Lock()
			if errors.Is(err, syscall.ECONNRESET) {
				ce.resets++
			} else if err == io.EOF {
				ce.fins++
			}
			ce.mu.Unlock()
			return
		}
		if line == "\r\n" {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	}
}

// closeRequests sends n requests to addr, each on a new connection with
// Connection: close, and checks each answer.
func closeRequests(t *testing.T, addr string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i)
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200") || !strings.HasSuffix(string(b), "\r\n\r\nok") {
			t.Fatalf("request %d: %q, %v", i, b, err)
		}
	}
}

// TestCloseModeServerConnections: under a stream of Connection: close
// requests, one at a time, the proxy keeps idle no more server
// connections than were in use at once (two: the previous one may not
// be idle yet when the next one opens), and closes the others with a
// reset as soon as their exchange is over, as HAProxy does (srv_add_to_idle_list, and the
// linger-0 close of the connections it opened): none of its local ports
// is left in TIME_WAIT, and none waits for a purge. The same run is made
// against HAProxy when it is installed.
func TestCloseModeServerConnections(t *testing.T) {
	const n = 20
	run := func(t *testing.T, start func(cfg, fe string)) {
		ce := &connEnds{}
		up := serveRaw(t, ce.serve)
		fe := freePort(t)
		start(fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, up), fe)
		closeRequests(t, fe, n)
		deadline := time.Now().Add(5 * time.Second)
		for {
			opened, resets, fins := ce.counts()
			if fins > 0 {
				t.Fatalf("%d of %d server connections closed with a FIN, want resets", fins, opened)
			}
			if opened == n && resets >= n-2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server connections: %d opened, %d reset, want %d and at least %d", opened, resets, n, n-2)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Run("gohap", func(t *testing.T) {
		run(t, func(cfg, _ string) { startGohap(t, cfg, nil) })
	})
	t.Run("haproxy", func(t *testing.T) {
		if haproxyBin() == "" {
			t.Skip("HAPROXY_BIN not set and haproxy not in PATH")
		}
		run(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	})
}

// TestSmartAcceptQuickAck: option tcp-smart-accept, on by default in
// HTTP frontends, clears TCP_QUICKACK on the listening socket, so that
// a request is acknowledged with its answer rather than by an ACK of
// its own; "no option tcp-smart-accept" and TCP frontends set it, as
// HAProxy's tcp_bind_listener does. The sockets are inherited (fd@), so
// that the test reads the flag on its own descriptor of each.
func TestSmartAcceptQuickAck(t *testing.T) {
	cases := []struct {
		name, mode, option string
		want               int
	}{
		{"http default", "http", "", 0},
		{"http no option", "http", " no option tcp-smart-accept\n", 1},
		{"tcp default", "tcp", "", 1},
		{"tcp option", "tcp", " option tcp-smart-accept\n", 0},
	}
	var cfg strings.Builder
	cfg.WriteString(baseDefaults)
	fds := make([]int, len(cases))
	for i, c := range cases {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		if err := unix.Listen(fd, 16); err != nil {
			t.Fatal(err)
		}
		// The engine closes the descriptor it adopts: the test keeps a
		// duplicate of the same socket.
		keep, err := unix.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = keep
		t.Cleanup(func() { unix.Close(keep) })
		// The flag as the socket starts: quick ACKs.
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
		fmt.Fprintf(&cfg, "frontend f%d\n mode %s\n bind fd@%d\n%s default_backend be_%s\n", i, c.mode, fd, c.option, c.mode)
	}
	cfg.WriteString("backend be_http\n server s1 127.0.0.1:1\nbackend be_tcp\n mode tcp\n server s1 127.0.0.1:1\n")
	startGohap(t, cfg.String(), nil)
	for i, c := range cases {
		got, err := unix.GetsockoptInt(fds[i], unix.IPPROTO_TCP, unix.TCP_QUICKACK)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: TCP_QUICKACK %d, want %d", c.name, got, c.want)
		}
	}
}
