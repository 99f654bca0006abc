package runtime_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBindInheritedFD: "bind fd@N" serves on a socket that is already
// listening, as the reg-test harness and master processes hand them
// over; gohap never binds the address itself.
func TestBindInheritedFD(t *testing.T) {
	up := startEcho(t, "s1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	// A bare descriptor, as a parent hands it over: gohap closes it once
	// adopted, so no *os.File of this process may own it too.
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("defaults\n mode http\n timeout connect 1s\n timeout client 2s\n timeout server 2s\nfrontend fe\n bind \"fd@%d\"\n default_backend be\nbackend be\n server s1 %s\n", fd, up.Addr())
	startGohap(t, cfg, nil)
	// The original listener is still open in this process, so connects
	// succeed either way: only the engine accepts them.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /fd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") || !strings.Contains(string(b), "/fd") {
		t.Fatalf("through the inherited socket: %q", b)
	}
}
