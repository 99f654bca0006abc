package runtime

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gohap/gohap/backend"
)

// lazyPair is a connected loopback pair: the client end as the engine
// holds a client (cliConn) or a server (sockConn) connection, and the
// peer.
func lazyPair(t *testing.T, server bool) (netConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if server {
		c, err := dialSock(netip.MustParseAddrPort(ln.Addr().String()), time.Second, tcpKeepAlive{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); p.Close() })
		return c.(netConn), p
	}
	p, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cc := new(cliConn)
	if err := cc.init(a.(*net.TCPConn)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close(); p.Close() })
	return cc, p
}

// readOnce reads once through Read and, when raw, through the RawConn.
func readOnce(c netConn, raw bool) error {
	var b [16]byte
	if !raw {
		_, err := c.Read(b[:])
		return err
	}
	rc, _ := c.SyscallConn()
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		n, e := rawRead(int(fd), b[:])
		if e != nil && n == 0 {
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	return rerr
}

// A later deadline asked for while an earlier one is armed is kept
// lazily, yet a read times out on the later one, not the earlier; an
// earlier one, as a wake-up, is armed at once; none lets a read wait.
func TestLazyReadDeadline(t *testing.T) {
	for _, server := range []bool{false, true} {
		for _, raw := range []bool{false, true} {
			c, peer := lazyPair(t, server)
			start := time.Now()
			c.SetReadDeadline(start.Add(100 * time.Millisecond))
			c.SetReadDeadline(start.Add(600 * time.Millisecond))
			err := readOnce(c, raw)
			if el := time.Since(start); !isTimeout(err) || el < 550*time.Millisecond || el > 3*time.Second {
				t.Fatalf("server=%v raw=%v: later deadline: %v after %v, want a timeout after 600ms", server, raw, err, el)
			}

			// A wake-up from another goroutine.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			start = time.Now()
			go func() {
				time.Sleep(100 * time.Millisecond)
				c.SetReadDeadline(time.Now())
			}()
			err = readOnce(c, raw)
			if el := time.Since(start); !isTimeout(err) || el > 3*time.Second {
				t.Fatalf("server=%v raw=%v: wake-up: %v after %v", server, raw, err, el)
			}

			// No deadline after an early one: the read waits for data.
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			c.SetReadDeadline(time.Time{})
			go func() {
				time.Sleep(300 * time.Millisecond)
				peer.Write([]byte("x"))
			}()
			start = time.Now()
			err = readOnce(c, raw)
			if el := time.Since(start); err != nil || el < 250*time.Millisecond || el > 3*time.Second {
				t.Fatalf("server=%v raw=%v: no deadline: %v after %v, want the data after 300ms", server, raw, err, el)
			}

			// Data that waits is read once even when the deadline asked
			// for passed while an earlier one, already fired, was kept:
			// as a read right after asking would have found it.
			peer.Write([]byte("y"))
			c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			time.Sleep(30 * time.Millisecond)
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			time.Sleep(10 * time.Millisecond)
			if err := readOnce(c, raw); err != nil {
				t.Fatalf("server=%v raw=%v: waiting data after a kept deadline: %v", server, raw, err)
			}
			// Nothing waits: the deadline asked for holds.
			if err := readOnce(c, raw); !isTimeout(err) {
				t.Fatalf("server=%v raw=%v: no data after a passed deadline: %v, want a timeout", server, raw, err)
			}
		}
	}
}

// A tunnel gets the client connection with the deadline asked for
// armed, not an earlier one left armed.
func TestCliConnRelease(t *testing.T) {
	c, peer := lazyPair(t, false)
	cc := c.(*cliConn)
	cc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	cc.SetReadDeadline(time.Time{})
	tc := cc.release()
	go func() {
		time.Sleep(300 * time.Millisecond)
		peer.Write([]byte("x"))
	}()
	var b [1]byte
	start := time.Now()
	if _, err := tc.Read(b[:]); err != nil || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("released connection: %v after %v, want the data after 300ms", err, time.Since(start))
	}
}

// unwatched is a server connection the close watcher does not watch.
type unwatched struct{ netConn }

// A connection back in the pool for less than freshIdle is taken without
// a peek; after that, one the server closed is found closed and dropped.
// This is for the connections the close watcher does not watch.
func TestPoolFreshIdle(t *testing.T) {
	var p idlePool
	srv := &backend.Server{Name: "s"}
	take := func() bool {
		pc, ok := p.take(srv, false, nil, connKey{})
		if ok {
			pc.c.Close()
		}
		return ok
	}
	put := func() net.Conn {
		c, peer := lazyPair(t, true)
		rc, _ := c.SyscallConn()
		// One the close watcher does not watch.
		p.put(srv, pooledConn{c: unwatched{c}, rc: rc}, false)
		return peer
	}
	// Closed by the server, taken at once: not asked.
	peer := put()
	peer.Close()
	time.Sleep(50 * time.Millisecond)
	p.mu.Lock()
	p.conns[srv].list[0].idleAt = monoNow()
	p.mu.Unlock()
	if !take() {
		t.Fatal("a connection just back in the pool was peeked at")
	}
	// Closed by the server, taken later: found closed.
	peer = put()
	peer.Close()
	time.Sleep(50 * time.Millisecond)
	if take() {
		t.Fatal("a connection the server closed was taken")
	}
	// Open, taken later: taken.
	put()
	time.Sleep(5 * time.Millisecond)
	if !take() {
		t.Fatal("an open idle connection was dropped")
	}
}

// A connection to a server in the pool is watched for the server's close:
// taken again, an open one needs no peek however long it waited, and one
// the server ended is dropped.
func TestPoolCloseWatch(t *testing.T) {
	if getCloseWatcher() == nil {
		t.Skip("no epoll instance for the close watcher")
	}
	var p idlePool
	srv := &backend.Server{Name: "s"}
	// Seen to need 6 connections at once: the pool keeps up to that.
	for range 6 {
		p.use(srv)
	}
	for range 6 {
		p.unuse(srv)
	}
	put := func() (netConn, net.Conn) {
		c, peer := lazyPair(t, true)
		rc, _ := c.SyscallConn()
		p.put(srv, pooledConn{c: c, rc: rc}, false)
		if _, known := pooledEnded(c); !known {
			t.Fatal("a pooled server connection is not watched")
		}
		return c, peer
	}
	// Open, taken after freshIdle: taken without a peek.
	put()
	time.Sleep(20 * time.Millisecond)
	before := peeks.Load()
	pc, ok := p.take(srv, false, nil, connKey{})
	if !ok {
		t.Fatal("an open idle connection was dropped")
	}
	if n := peeks.Load() - before; n != 0 {
		t.Fatalf("%d peeks to take a watched connection, want 0", n)
	}
	// Back in the pool (registered once), then ended by the server: the
	// watcher marks it, and take drops it.
	p.put(srv, pc, false)
	peer := func() net.Conn { _, peer := put(); return peer }()
	for _, end := range []func(net.Conn){
		func(c net.Conn) { c.Close() },
		func(c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() },
	} {
		c2, peer2 := put()
		end(peer2)
		deadline := time.Now().Add(5 * time.Second)
		for {
			if ended, _ := pooledEnded(c2); ended {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the server's close was not seen within 5s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The list: pc (open), the open one of peer, then the two ended ones
	// on top: take skips and closes those, and returns an open one.
	pc, ok = p.take(srv, false, nil, connKey{})
	if !ok {
		t.Fatal("no open connection taken")
	}
	if ended, _ := pooledEnded(pc.c); ended {
		t.Fatal("an ended connection was taken")
	}
	if n := p.n; n != 1 {
		t.Fatalf("%d idle connections left, want 1", n)
	}
	// A closed connection leaves the watcher.
	sc := pc.c.(*sockConn)
	sc.Close()
	w := getCloseWatcher()
	w.mu.Lock()
	held := w.byFD[sc.watch.fd.Load()] == sc
	w.mu.Unlock()
	if held {
		t.Fatal("the watcher still holds a closed connection")
	}
	_ = peer
}
