package runtime

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSocketFileKeepsNonBlocking: passing a SocketFile on (exec.Cmd
// calls its Fd) leaves the listening socket non-blocking, where net's
// File would make the socket, shared by every process holding it,
// blocking.
func TestSocketFileKeepsNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nonBlocking := func() bool {
		rc, _ := ln.(*net.TCPListener).SyscallConn()
		var fl int
		rc.Control(func(fd uintptr) { fl, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		return fl&unix.O_NONBLOCK != 0
	}
	f, err := SocketFile(ln.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd()
	if !nonBlocking() {
		t.Errorf("the listening socket became blocking")
	}
	if fl, _ := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("the duplicate is inherited by any program run")
	}
	// The check itself: net's File makes it blocking.
	nf, _ := ln.(*net.TCPListener).File()
	defer nf.Close()
	nf.Fd()
	if nonBlocking() {
		t.Errorf("net's File left it non-blocking: the check checks nothing")
	}
}
