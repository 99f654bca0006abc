package runtime_test

import (
	"fmt"
	"io"
	"net"
	goruntime "runtime"
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
	// The engine has closed the number it adopted: whatever takes it next
	// must not be closed behind its owner's back, as a finalizer of an
	// *os.File still naming it would, under a later test's connection.
	checkReusedFD(t, fd)
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

// checkReusedFD opens sockets until one gets descriptor n, then runs the
// garbage collector and its finalizers a few times: that socket must
// stay open. It gives up quietly when another goroutine takes n first.
func checkReusedFD(t *testing.T, n int) {
	t.Helper()
	var spare []int
	defer func() {
		for _, fd := range spare {
			syscall.Close(fd)
		}
	}()
	for {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fd > n {
			syscall.Close(fd)
			t.Logf("descriptor %d was taken elsewhere first, not checked", n)
			return
		}
		if fd < n {
			spare = append(spare, fd)
			continue
		}
		break
	}
	var want syscall.Stat_t
	if err := syscall.Fstat(n, &want); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		goruntime.GC()
		time.Sleep(20 * time.Millisecond)
		var st syscall.Stat_t
		if err := syscall.Fstat(n, &st); err != nil || st.Ino != want.Ino {
			// Not ours any more: leave it alone.
			t.Fatalf("descriptor %d, adopted by the engine and then reused, was closed behind its new owner (fstat: %v)", n, err)
		}
	}
	syscall.Close(n)
}
