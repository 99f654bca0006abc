package runtime

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// rawCase is a socket wrapper that reads and writes with raw system
// calls, on one end of a loopback TCP connection whose other end is
// peer; closed is what a read on it returns once it is closed.
type rawCase struct {
	name    string
	c, peer net.Conn
	closed  error
}

func rawConns(t *testing.T) []rawCase {
	t.Helper()
	rs, rp := lazyPair(t, false)
	cc, cp := lazyPair(t, false)
	sc, sp := lazyPair(t, true)
	return []rawCase{
		{"rawSock", newRawSock(rs.(*cliConn).TCPConn), rp, net.ErrClosed},
		{"cliConn", cc, cp, net.ErrClosed},
		{"sockConn", sc, sp, os.ErrClosed},
	}
}

// TestRawSockets checks the raw reads and writes against what net's and
// os's own return: whole writes through a full socket buffer, the end of
// the stream, a deadline, a reset and a closed socket.
func TestRawSockets(t *testing.T) {
	for _, tc := range rawConns(t) {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := tc.c, tc.peer
			// 4 MiB is far more than the socket buffers: the write waits
			// for the reader, which starts late.
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
			got := make(chan [32]byte, 1)
			go func() {
				time.Sleep(50 * time.Millisecond)
				h := sha256.New()
				io.CopyN(h, peer, int64(len(big)))
				var sum [32]byte
				copy(sum[:], h.Sum(nil))
				got <- sum
			}()
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if n, err := c.Write(big); n != len(big) || err != nil {
				t.Fatalf("write: %d %v", n, err)
			}
			select {
			case sum := <-got:
				if sum != sha256.Sum256(big) {
					t.Fatal("the peer read other bytes")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the peer did not read everything")
			}

			// A read deadline: a timeout, as net's and os's.
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			buf := make([]byte, 64)
			_, err := c.Read(buf)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read past the deadline: %v", err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))

			// Bytes, then the end of the stream.
			peer.Write([]byte("abc"))
			peer.(interface{ CloseWrite() error }).CloseWrite()
			var all []byte
			for {
				n, err := c.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					if err != io.EOF {
						t.Fatalf("read at the end: %v", err)
					}
					break
				}
			}
			if string(all) != "abc" {
				t.Fatalf("read %q", all)
			}

			// A write to a peer that reset: ECONNRESET or EPIPE.
			peer.(*net.TCPConn).SetLinger(0)
			peer.Close()
			time.Sleep(20 * time.Millisecond)
			var werr error
			for i := 0; i < 3 && werr == nil; i++ {
				_, werr = c.Write([]byte("x"))
			}
			if !errors.Is(werr, syscall.ECONNRESET) && !errors.Is(werr, syscall.EPIPE) {
				t.Fatalf("write to a reset peer: %v", werr)
			}

			// A closed socket.
			c.Close()
			if _, err := c.Read(buf); !errors.Is(err, tc.closed) {
				t.Fatalf("read once closed: %v, want %v", err, tc.closed)
			}
			if _, err := c.Write([]byte("x")); !errors.Is(err, tc.closed) {
				t.Fatalf("write once closed: %v, want %v", err, tc.closed)
			}
		})
	}
}

// TestRawSockErrorsMatchNet compares rawSock's errors with those of net's
// own Read on the same kind of socket.
func TestRawSockErrorsMatchNet(t *testing.T) {
	read := func(wrap bool) error {
		c, _ := lazyPair(t, false)
		var nc net.Conn = c.(*cliConn).TCPConn
		if wrap {
			nc = newRawSock(nc)
		}
		nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := nc.Read(make([]byte, 8))
		return err
	}
	want, got := read(false), read(true)
	// The addresses differ (ports): the rest reads the same.
	var wo, gotOE *net.OpError
	if !errors.As(want, &wo) || !errors.As(got, &gotOE) {
		t.Fatalf("net: %v; rawSock: %v", want, got)
	}
	if wo.Op != gotOE.Op || wo.Net != gotOE.Net || wo.Err != gotOE.Err || wo.Timeout() != gotOE.Timeout() {
		t.Fatalf("net: %#v; rawSock: %#v", wo, gotOE)
	}
}

// TestRawSockNoAllocs checks that a read and a write on a TLS or HTTP/2
// client socket allocate nothing: they run once per record.
func TestRawSockNoAllocs(t *testing.T) {
	c, peer := lazyPair(t, false)
	rs := newRawSock(c.(*cliConn).TCPConn)
	msg := []byte("0123456789")
	buf := make([]byte, 64)
	back := make([]byte, len(msg))
	allocs := testing.AllocsPerRun(200, func() {
		if n, err := rs.Write(msg); n != len(msg) || err != nil {
			t.Fatalf("write: %d %v", n, err)
		}
		if _, err := io.ReadFull(peer, back); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(back); err != nil {
			t.Fatal(err)
		}
		got := 0
		for got < len(msg) {
			n, err := rs.Read(buf[got:])
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			got += n
		}
	})
	// The peer's own net.Conn calls allocate nothing either.
	if allocs != 0 {
		t.Fatalf("%v allocations per write and read, want 0", allocs)
	}
}

// TestLinger0 checks that linger0 sets a zero linger, which makes close
// reset the connection, without allocating: it runs for each server
// connection closed.
func TestLinger0(t *testing.T) {
	c, _ := lazyPair(t, true)
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { linger0(rc) }); allocs != 0 {
		t.Fatalf("%v allocations per call", allocs)
	}
	var l *unix.Linger
	var gerr error
	rc.Control(func(fd uintptr) { l, gerr = unix.GetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER) })
	if gerr != nil || l.Onoff != 1 || l.Linger != 0 {
		t.Fatalf("SO_LINGER %+v %v", l, gerr)
	}
}
