package runtime

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// tunnelCfg holds a tunnel's timeouts. With shared set, idle is the
// tunnel timeout and activity in either direction keeps both alive;
// otherwise each side's own inactivity timeout applies to its reads, as
// HAProxy does without "timeout tunnel".
type tunnelCfg struct {
	shared            bool
	idle              time.Duration
	client, server    time.Duration
	clientFin, srvFin time.Duration
}

type tunnel struct {
	cfg    tunnelCfg
	c, s   *net.TCPConn
	last   atomic.Int64 // unix nanos of the last transfer, either direction
	closed atomic.Bool
	once   sync.Once
	// fin holds, per direction, the timeout that applies once the other
	// direction has ended (client-fin/server-fin).
	cDone, sDone atomic.Bool
	running      atomic.Int32
	done         func()
}

// startTunnel relays bytes both ways until both directions end or a
// timeout expires, then closes both connections and calls done. toServer
// and toClient are bytes already read and not yet forwarded; they are
// written before startTunnel returns, so the caller may reuse their
// buffers. The relaying runs in two new goroutines with small stacks and
// holds no buffer while the tunnel is idle.
func startTunnel(c, s *net.TCPConn, toServer, toClient []byte, cfg tunnelCfg, done func()) {
	t := &tunnel{cfg: cfg, c: c, s: s, done: done}
	t.last.Store(time.Now().UnixNano())
	if len(toServer) > 0 {
		if _, err := s.Write(toServer); err != nil {
			t.abort()
			t.end()
			return
		}
	}
	if len(toClient) > 0 {
		if _, err := c.Write(toClient); err != nil {
			t.abort()
			t.end()
			return
		}
	}
	t.running.Store(2)
	go t.run(s, c, false)
	go t.run(c, s, true)
}

func (t *tunnel) run(src, dst *net.TCPConn, fromClient bool) {
	t.pump(src, dst, fromClient)
	if t.running.Add(-1) == 0 {
		t.end()
	}
}

func (t *tunnel) end() {
	t.c.Close()
	t.s.Close()
	if t.done != nil {
		t.done()
	}
}

func (t *tunnel) abort() {
	t.once.Do(func() {
		t.closed.Store(true)
		// A reset, as HAProxy does on a tunnel timeout.
		t.c.SetLinger(0)
		t.c.Close()
		t.s.Close()
	})
}

// timeoutFor is the read inactivity timeout for one direction.
func (t *tunnel) timeoutFor(fromClient bool) time.Duration {
	d := t.cfg.server
	if fromClient {
		d = t.cfg.client
	}
	if t.cfg.shared {
		d = t.cfg.idle
	}
	// Once the peer's direction is over, the fin timeouts apply.
	if fromClient && t.sDone.Load() && t.cfg.srvFin > 0 {
		d = t.cfg.srvFin
	}
	if !fromClient && t.cDone.Load() && t.cfg.clientFin > 0 {
		d = t.cfg.clientFin
	}
	return d
}

// waitReadable blocks until src has data, EOF or an error, without a
// buffer: the peek reads nothing.
func waitReadable(rc syscall.RawConn) error {
	return rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return e != syscall.EAGAIN
	})
}

func (t *tunnel) pump(src, dst *net.TCPConn, fromClient bool) {
	rc, err := src.SyscallConn()
	if err != nil {
		t.abort()
		return
	}
	finish := func() {
		if fromClient {
			t.cDone.Store(true)
		} else {
			t.sDone.Store(true)
		}
		dst.CloseWrite()
		// The other direction now runs under its fin timeout.
		other := dst
		if d := t.timeoutFor(!fromClient); d > 0 {
			other.SetReadDeadline(time.Now().Add(d))
		}
	}
	for {
		d := t.timeoutFor(fromClient)
		if d > 0 {
			src.SetReadDeadline(time.Now().Add(d))
		}
		err := waitReadable(rc)
		if err != nil {
			if isTimeout(err) && !t.closed.Load() {
				// Shared timeout: the other direction may have been active.
				if t.cfg.shared && d > 0 && time.Since(time.Unix(0, t.last.Load())) < d {
					continue
				}
			}
			t.abort()
			return
		}
		bp := getBuf()
		n, rerr := src.Read(*bp)
		if n > 0 {
			t.last.Store(time.Now().UnixNano())
			wd := t.timeoutFor(!fromClient)
			if wd > 0 {
				dst.SetWriteDeadline(time.Now().Add(wd))
			}
			if _, werr := dst.Write((*bp)[:n]); werr != nil {
				putBuf(bp)
				t.abort()
				return
			}
		}
		putBuf(bp)
		if rerr != nil {
			if n == 0 && !isTimeout(rerr) && !t.closed.Load() && isEOF(rerr) {
				finish()
				return
			}
			if isTimeout(rerr) {
				continue
			}
			t.abort()
			return
		}
	}
}
