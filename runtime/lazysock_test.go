package runtime

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pendingConn makes a client connection that waits in ln's backlog with
// what the client sent, and accepts it with a rawAcceptor.
func pendingConn(t *testing.T, ln net.Listener, send string) (*sockConn, net.Conn) {
	t.Helper()
	return pendingConnVia(t, ln, ln.Addr().String(), false, send)
}

// pendingConnVia is pendingConn with the connection made to addr, taken
// by an acceptor for a bind transparent or not.
func pendingConnVia(t *testing.T, ln net.Listener, addr string, transparent bool, send string) (*sockConn, net.Conn) {
	t.Helper()
	cl, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if send != "" {
		if _, err := io.WriteString(cl, send); err != nil {
			t.Fatal(err)
		}
	}
	a := newRawAcceptor(ln, transparent)
	if a == nil {
		t.Fatal("no raw acceptor for a TCP listener")
	}
	acc := new(acceptWait)
	t.Cleanup(acc.close)
	w := acc.open(a.rc)
	if w == nil {
		t.Fatal("no wait on the listener")
	}
	w.SetReadDeadline(time.Now().Add(2 * time.Second))
	c, _, err := a.take(w, tcpKeepAlive{})
	if err != nil {
		t.Fatalf("the connection never showed in the backlog: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if c.raddr.String() != cl.LocalAddr().String() {
		t.Fatalf("peer %s, want %s", c.raddr, cl.LocalAddr())
	}
	return c, cl
}

func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// A request that is there when its connection is accepted, and an
// answer the socket buffer takes, go without the poller; a read that
// has to wait registers the socket, and then gets what comes.
func TestLazySockRegistersOnlyToWait(t *testing.T) {
	ln := listenLocal(t)
	c, cl := pendingConn(t, ln, "GET / HTTP/1.1\r\n\r\n")
	time.Sleep(20 * time.Millisecond) // the request reaches the socket
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if c.lazy.reg.Load() != nil {
		t.Fatal("registered with the poller without a wait")
	}
	if _, local := c.addrs(); local.String() != ln.Addr().String() {
		t.Fatalf("local address %s, want %s", local, ln.Addr())
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(cl, "next")
	}()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "next" {
		t.Fatalf("read after a wait: %q, %v", buf[:n], err)
	}
	if c.lazy.reg.Load() == nil {
		t.Fatal("a read waited without the poller")
	}
	// The deadline set before the wait holds: nothing more comes.
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	c.Close()
	cl.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := cl.Read(buf); err == nil {
		// The answer first, then the end.
		if _, err = cl.Read(buf[n:]); err != io.EOF {
			t.Fatalf("client after close: %v", err)
		}
	}
}

// A deadline already passed when it is set fails the next call, as the
// poller's would, before any registration: a kill wakes a session so.
func TestLazySockPastDeadline(t *testing.T) {
	ln := listenLocal(t)
	c, _ := pendingConn(t, ln, "data")
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want a deadline error", err)
	}
	c.SetReadDeadline(time.Time{})
	if n, err := c.Read(make([]byte, 10)); err != nil || n != 4 {
		t.Fatalf("read after clearing the deadline: %d, %v", n, err)
	}
}

// A Close from another goroutine during a call on the descriptor closes
// it only once the call ends; calls after it fail. The client sees the
// close (an end of stream) only then.
func TestLazySockCloseDuringCall(t *testing.T) {
	ln := listenLocal(t)
	c, cl := pendingConn(t, ln, "")
	inside, leave, closed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		c.rc.Control(func(uintptr) {
			close(inside)
			<-leave
		})
	}()
	<-inside
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for the call")
	}
	if err := c.rc.Control(func(uintptr) {}); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	endAfterCall(t, cl, leave)
}

// Once a wait registered the socket, the poller works on the descriptor
// itself: a Close wakes the waiter at once, yet a call begun on the
// descriptor before the registration still holds it open, and the
// client sees the end only when that call is out.
func TestLazySockCloseRegisteredDuringCall(t *testing.T) {
	ln := listenLocal(t)
	c, cl := pendingConn(t, ln, "")
	inside, leave := make(chan struct{}), make(chan struct{})
	go func() {
		c.rc.Control(func(uintptr) {
			close(inside)
			<-leave
		})
	}()
	<-inside
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		readErr <- err
	}()
	for i := 0; c.lazy.reg.Load() == nil; i++ {
		if i > 2000 {
			t.Fatal("the read did not register the socket")
		}
		time.Sleep(time.Millisecond)
	}
	if got := c.lazy.reg.Load().fd; got != c.lazy.fd {
		t.Fatalf("poller registered descriptor %d, want the socket's own %d", got, c.lazy.fd)
	}
	c.Close()
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("the waiting read succeeded after Close")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake the waiting read")
	}
	endAfterCall(t, cl, leave)
}

// endAfterCall checks that the client sees nothing while a call holds
// the closed socket's descriptor, and the end once leave lets it out.
func endAfterCall(t *testing.T, cl net.Conn, leave chan struct{}) {
	t.Helper()
	buf := make([]byte, 10)
	cl.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := cl.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client during the call: %v, want nothing yet", err)
	}
	close(leave)
	cl.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := cl.Read(buf); err != io.EOF {
		t.Fatalf("client after the call: %v, want the end", err)
	}
}

// A listener with an address of its own gives it to its connections as
// their local address, which getsockname would answer; a wildcard or a
// transparent one leaves it to be asked, and the answer is the address
// the client reached.
func TestRawAcceptLocalAddr(t *testing.T) {
	ln := listenLocal(t)
	c, _ := pendingConn(t, ln, "")
	if a := c.laddr.Load(); a == nil || a.String() != ln.Addr().String() {
		t.Fatalf("local address at accept %v, want %s", a, ln.Addr())
	}
	c, _ = pendingConnVia(t, ln, ln.Addr().String(), true, "")
	if a := c.laddr.Load(); a != nil {
		t.Fatalf("a transparent bind's connection has local address %s before asking", a)
	}
	if _, local := c.addrs(); local.String() != ln.Addr().String() {
		t.Fatalf("transparent bind: local address %s, want %s", local, ln.Addr())
	}

	wild, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wild.Close() })
	port := wild.Addr().(*net.TCPAddr).Port
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		to := net.JoinHostPort(ip, strconv.Itoa(port))
		c, _ := pendingConnVia(t, wild, to, false, "")
		if a := c.laddr.Load(); a != nil {
			t.Fatalf("a wildcard bind's connection has local address %s before asking", a)
		}
		if _, local := c.addrs(); local.String() != to {
			t.Fatalf("wildcard bind: local address %s, want %s", local, to)
		}
	}
	for _, ap := range []string{"127.0.0.1:80", "[::1]:80", "[fe80::1%lo]:80"} {
		if !fixedLocal(netip.MustParseAddrPort(ap)) {
			t.Errorf("%s: not an address of its own", ap)
		}
	}
	for _, ap := range []string{"0.0.0.0:80", "[::]:80", "127.0.0.1:0", "[::ffff:127.0.0.1]:80", "224.0.0.1:80"} {
		if fixedLocal(netip.MustParseAddrPort(ap)) {
			t.Errorf("%s: taken as an address of its own", ap)
		}
	}
}

// Sockets accepted from a listener of the engine's own have TCP_NODELAY
// from it, without a setsockopt each; from any other listener the
// acceptor sets it on each.
func TestRawAcceptNoDelay(t *testing.T) {
	own, err := listenBind(net.ListenConfig{}, &Listen{Addr: "127.0.0.1:0"}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	for _, tc := range []struct {
		name    string
		ln      net.Listener
		inherit bool
	}{{"own listener", own, true}, {"other listener", listenLocal(t), false}} {
		if a := newRawAcceptor(tc.ln, false); a.nodelay != tc.inherit {
			t.Errorf("%s: acceptor takes TCP_NODELAY as inherited: %v, want %v", tc.name, a.nodelay, tc.inherit)
		}
		c, _ := pendingConn(t, tc.ln, "")
		v, err := unix.GetsockoptInt(c.lazy.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		if err != nil || v == 0 {
			t.Errorf("%s: accepted socket's TCP_NODELAY %d (%v)", tc.name, v, err)
		}
	}
}

// The accept loop waits for a connection on its own registration of the
// listening socket and takes it with accept4, as a socket the poller
// has not seen, whether it came while the loop waited or was pending
// already. Closing the listener ends the wait, and the duplicate the
// wait is on does not keep the socket listening.
func TestAcceptWait(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{ln: tl.(*net.TCPListener), acc: new(acceptWait)}
	t.Cleanup(l.closeLn)
	a := newRawAcceptor(tl, false)
	w := l.acc.open(a.rc)
	if w == nil {
		t.Fatal("no wait on the listener")
	}
	type taken struct {
		c      *sockConn
		waited bool
		err    error
	}
	take := func() chan taken {
		ch := make(chan taken, 1)
		go func() {
			c, waited, err := a.take(w, tcpKeepAlive{})
			if c != nil {
				t.Cleanup(func() { c.Close() })
			}
			ch <- taken{c, waited, err}
		}()
		return ch
	}
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", tl.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	check := func(ch chan taken, cl net.Conn, wantWaited bool) {
		t.Helper()
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.waited != wantWaited {
				t.Errorf("waited %v, want %v", r.waited, wantWaited)
			}
			if r.c.raddr.String() != cl.LocalAddr().String() {
				t.Errorf("peer %s, want %s", r.c.raddr, cl.LocalAddr())
			}
			if r.c.lazy.reg.Load() != nil {
				t.Error("the accepted socket was registered with the poller")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no connection taken")
		}
	}

	ch := take()
	select {
	case r := <-ch:
		t.Fatalf("took %+v with no client", r)
	case <-time.After(50 * time.Millisecond):
	}
	check(ch, dial(), true)

	cl := dial()
	// Pending in the backlog before the take.
	time.Sleep(20 * time.Millisecond)
	check(take(), cl, false)

	ch = take()
	time.Sleep(20 * time.Millisecond)
	l.closeLn()
	select {
	case r := <-ch:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("after the close: %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the wait outlived the listener")
	}
	if c, err := net.DialTimeout("tcp", tl.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the closed listener's socket still accepts connections")
	}
	if l.acc.open(a.rc) != nil {
		t.Error("a closed listener's wait opened again")
	}
}
