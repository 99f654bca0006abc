package runtime

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawConns are the socket wrappers that read and write with raw system
// calls, each on one end of a loopback TCP connection whose other end is
// peer. closed is what a read on the wrapper returns once it is closed.
func rawConns(t *testing.T) []struct {
	name   string
	c      net.Conn
	peer   net.Conn
	closed error
} {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	pair := func() (*net.TCPConn, net.Conn) {
		d, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(); d.Close() })
		return a.(*net.TCPConn), d
	}
	type rc = struct {
		name   string
		c      net.Conn
		peer   net.Conn
		closed error
	}
	var out []rc
	a, peer := pair()
	out = append(out, rc{"rawSock", newRawSock(a), peer, net.ErrClosed})
	a, peer = pair()
	cc := &cliConn{}
	if err := cc.init(a); err != nil {
		t.Fatal(err)
	}
	out = append(out, rc{"cliConn", cc, peer, net.ErrClosed})
	ap := netip.MustParseAddrPort(ln.Addr().String())
	sc, err := dialSock(ap, 5*time.Second, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close(); p.Close() })
	out = append(out, rc{"sockConn", sc, p, os.ErrClosed})
	return out
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	read := func(wrap bool) error {
		d, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		c := net.Conn(a)
		if wrap {
			c = newRawSock(a)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err = c.Read(make([]byte, 8))
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
