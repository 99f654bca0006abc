package ring

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is HAProxy's buffer size: a forwarder passes over a framed
// message longer than this, as sink_forward_io_handler() does.
const chunkSize = 16384

// retryDelay is how long a forwarder waits after a failed connection
// before trying again, as a stream waits before its connect retry.
const retryDelay = time.Second

// Target is a server a ring's messages are forwarded to.
type Target struct {
	// Network is "tcp" or "unix", Addr its address.
	Network, Addr string
	// OctetCount frames each message as "<len> <msg>" (RFC 6587);
	// otherwise it is followed by a newline ("log-proto legacy").
	OctetCount bool
	// Connect bounds a connection attempt, Server a write that makes no
	// progress; zero means no limit ("timeout connect|server").
	Connect, Server time.Duration
	// Proxy is the PROXY protocol header sent first on each connection,
	// in clear before any TLS handshake, as HAProxy's connection layer
	// sends it; nil for none.
	Proxy []byte
	// TLS, when set, gives the TLS client settings of each new
	// connection: the messages then go over TLS ("ssl").
	TLS func() *tls.Config
}

// Forwarder sends a ring's messages to one Target over TCP, reconnecting
// whenever the connection fails. Once it has connected, the message it
// sends next stays in the ring until it is sent, as HAProxy keeps its
// reader's place across connections: a receiver that is away then makes
// the ring drop new messages rather than old ones.
type Forwarder struct {
	r    *Ring
	t    Target
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// sent counts the messages written to a connection.
	sent atomic.Uint64
}

// Forward starts forwarding r's messages to t.
func Forward(r *Ring, t Target) *Forwarder {
	f := &Forwarder{r: r, t: t, stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

// Sent is the number of messages written to the server so far.
func (f *Forwarder) Sent() uint64 { return f.sent.Load() }

// Close stops the forwarder at once, as HAProxy closes its forwarding
// sessions when it stops, and waits for it to end.
func (f *Forwarder) Close() {
	f.once.Do(func() { close(f.stop) })
	<-f.done
}

func (f *Forwarder) run() {
	defer close(f.done)
	rd := f.r.Attach()
	if rd == nil {
		return
	}
	defer rd.Detach()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	d := net.Dialer{Timeout: f.t.Connect}
	for {
		c, err := d.DialContext(ctx, f.t.Network, f.t.Addr)
		if err == nil {
			c, err = f.setup(ctx, c)
		}
		if err != nil {
			select {
			case <-f.stop:
				return
			case <-time.After(retryDelay):
			}
			continue
		}
		rd.Start(false)
		f.serve(c, rd)
		c.Close()
		select {
		case <-f.stop:
			return
		default:
		}
	}
}

// setup sends the PROXY header and runs the TLS handshake of a new
// connection, both within the connect timeout. It closes c on failure.
func (f *Forwarder) setup(ctx context.Context, c net.Conn) (net.Conn, error) {
	if len(f.t.Proxy) == 0 && f.t.TLS == nil {
		return c, nil
	}
	if f.t.Connect > 0 {
		c.SetDeadline(time.Now().Add(f.t.Connect))
	}
	if len(f.t.Proxy) > 0 {
		if _, err := c.Write(f.t.Proxy); err != nil {
			c.Close()
			return nil, err
		}
	}
	if f.t.TLS != nil {
		tc := tls.Client(c, f.t.TLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// serve writes the messages to c until the connection fails, the server
// closes it or the forwarder stops.
func (f *Forwarder) serve(c net.Conn, rd *Reader) {
	closed := make(chan struct{})
	go func() {
		// The server's data is read and dropped.
		io.Copy(io.Discard, c)
		close(closed)
	}()
	go func() {
		// Stopping ends a write the server does not take.
		select {
		case <-f.stop:
			c.Close()
		case <-closed:
		}
	}()
	buf := make([]byte, 0, chunkSize)
	var n uint64
	frame := func(msg []byte) bool {
		size := len(msg) + 1
		var digits [20]byte
		var d []byte
		if f.t.OctetCount {
			d = strconv.AppendInt(digits[:0], int64(len(msg)), 10)
			size = len(d) + 1 + len(msg)
		}
		if size > chunkSize {
			return true
		}
		if len(buf)+size > chunkSize {
			return false
		}
		if f.t.OctetCount {
			buf = append(append(append(buf, d...), ' '), msg...)
		} else {
			buf = append(append(buf, msg...), '\n')
		}
		n++
		return true
	}
	for {
		wake := f.r.Wait()
		buf, n = buf[:0], 0
		rd.Read(chunkSize, frame)
		if len(buf) > 0 {
			if f.t.Server > 0 {
				c.SetWriteDeadline(time.Now().Add(f.t.Server))
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
			f.sent.Add(n)
			continue
		}
		select {
		case <-wake:
		case <-closed:
			return
		case <-f.stop:
			return
		}
	}
}
