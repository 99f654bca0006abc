package runtime

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pollPair is a pollFD on the client end of a loopback connection, and
// the server end.
func pollPair(t *testing.T) (*pollFD, net.Conn) {
	t.Helper()
	ln := listenLocal(t)
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	rc, _ := cl.(*net.TCPConn).SyscallConn()
	var fd int
	rc.Control(func(s uintptr) { fd, err = unix.Dup(int(s)) })
	if err != nil {
		t.Fatal(err)
	}
	p := new(pollFD)
	if err := p.open(fd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, peer
}

// pollRead waits for p to be readable and reads what is there.
func pollRead(p *pollFD) (string, error) {
	b := make([]byte, 64)
	var n int
	err := p.Read(func(fd uintptr) bool {
		var e error
		n, e = unix.Read(int(fd), b)
		return e != unix.EAGAIN
	})
	if n < 0 {
		n = 0
	}
	return string(b[:n]), err
}

// A read waits for data, and for no longer than its deadline.
func TestPollFDReadDeadline(t *testing.T) {
	p, peer := pollPair(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("hello"))
	}()
	if got, err := pollRead(p); err != nil || got != "hello" {
		t.Fatalf("read %q, %v", got, err)
	}
	p.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, err := pollRead(p); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 2*time.Second {
		t.Fatalf("deadline fired after %v", d)
	}
	p.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := pollRead(p); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after a past deadline: %v", err)
	}
	p.SetReadDeadline(time.Time{})
	peer.Write([]byte("again"))
	if got, err := pollRead(p); err != nil || got != "again" {
		t.Fatalf("read once the deadline cleared: %q, %v", got, err)
	}
}

// A write waits while the socket's buffer is full, until the peer reads.
func TestPollFDWriteWaits(t *testing.T) {
	p, peer := pollPair(t)
	chunk := make([]byte, 64<<10)
	var sent int
	waited := false
	done := make(chan error, 1)
	go func() {
		done <- p.Write(func(fd uintptr) bool {
			for {
				n, err := unix.Write(int(fd), chunk)
				if err == unix.EAGAIN {
					// Full: wait once for the peer to read, then stop.
					if waited {
						return true
					}
					waited = true
					return false
				}
				if err != nil {
					return true
				}
				sent += n
			}
		})
	}()
	buf := make([]byte, 64<<10)
	got := 0
	end := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil || !waited {
				t.Fatalf("write: %v, waited %v", err, waited)
			}
			return
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("the write still waits after the peer read %d bytes", got)
		}
		// The peer may read all there is before the writer reports it
		// stopped: short reads let the loop see the report.
		peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := peer.Read(buf)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("peer read after %d bytes: %v", got, err)
		}
		got += n
	}
}

// Close wakes a blocked read, which fails as a closed file's does; the
// descriptor is closed when Close returns, and a second Close fails.
func TestPollFDCloseWakes(t *testing.T) {
	for i := 0; i < 20; i++ {
		p, _ := pollPair(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for j := 0; j < 4; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := pollRead(p)
				errs <- err
			}()
		}
		time.Sleep(5 * time.Millisecond)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !p.shut.Load() {
			t.Fatal("Close returned before the descriptor closed")
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, os.ErrClosed) {
				t.Fatalf("read on a closed pollFD: %v", err)
			}
		}
		if err := p.Close(); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("second Close: %v", err)
		}
		if err := p.Control(func(uintptr) {}); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Control after Close: %v", err)
		}
		if err := p.SetReadDeadline(time.Now()); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("deadline after Close: %v", err)
		}
	}
}

// A Close while calls end on other goroutines: the descriptor leaves the
// poller only once the waiters were woken, whichever ends last (the
// runtime throws "close polldesc w/o unblock" otherwise).
func TestPollFDCloseWhileCallsEnd(t *testing.T) {
	for i := 0; i < 300; i++ {
		p, _ := pollPair(t)
		var wg sync.WaitGroup
		for j := 0; j < 2; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p.SetReadDeadline(time.Now().Add(time.Hour)) == nil && p.Control(func(uintptr) {}) == nil {
				}
			}()
		}
		time.Sleep(50 * time.Microsecond)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}
