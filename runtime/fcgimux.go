package runtime

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime/fcgi"
)

// fcgiStream is one request's view of a FastCGI connection: its records
// in, whole records out.
type fcgiStream interface {
	id() uint16
	next(timeout time.Duration) (fcgi.Header, []byte, error)
	// buffered tells whether a record of the request is already there.
	buffered() bool
	write(b []byte) error
}

// fcgiConn is a connection to a FastCGI server. Without multiplexing it
// carries one request at a time, read in place; with it (mpxs-conns, or
// the server's FCGI_MPXS_CONNS with get-values) a reader hands each
// request its records, and engine connections share it when http-reuse
// lets them (aggressive, always), as HAProxy's FCGI mux does.
type fcgiConn struct {
	srv net.Conn
	rd  *fcgi.Reader
	wmu sync.Mutex
	// limit is how many requests may run at once: max-reqs, or the
	// server's FCGI_MAX_REQS with get-values; 1 without multiplexing.
	limit int

	mu      sync.Mutex
	maxID   int
	streams map[uint16]*muxStream
	dead    bool
	used    bool
	// idle closes a shared connection left without requests for
	// timeout server.
	idle    *time.Timer
	timeout time.Duration
	shared  bool
}

type fcgiRecord struct {
	h   fcgi.Header
	c   []byte
	err error
}

// newFCGIConn sets up a connection: GET_VALUES first with get-values,
// then the reader of a multiplexed one.
func newFCGIConn(srv net.Conn, f *fcgiApp) (*fcgiConn, error) {
	c := &fcgiConn{srv: srv, rd: fcgi.NewReader(srv), limit: 1}
	mpxs, limit := f.mpxs, f.maxReqs
	if f.getValues {
		var err error
		if mpxs, limit, err = c.getValues(f, mpxs, limit); err != nil {
			return nil, err
		}
	}
	if mpxs && limit > 1 {
		c.limit = limit
		c.streams = map[uint16]*muxStream{}
		go c.demux()
	}
	return c, nil
}

var errFCGIValues = errors.New("fcgi: bad GET_VALUES_RESULT")

// getValues asks the server FCGI_MAX_REQS and FCGI_MPXS_CONNS
// (fcgi_conn_send_get_values, fcgi_conn_handle_values_result).
func (c *fcgiConn) getValues(f *fcgiApp, mpxs bool, limit int) (bool, int, error) {
	var q []byte
	q = fcgi.AppendParam(q, "FCGI_MAX_REQS", "")
	q = fcgi.AppendParam(q, "FCGI_MPXS_CONNS", "")
	if _, err := c.srv.Write(fcgi.AppendStream(nil, fcgi.TypeGetValues, 0, q)); err != nil {
		return false, 0, err
	}
	for {
		if f.timeout > 0 {
			c.srv.SetReadDeadline(time.Now().Add(f.timeout))
		}
		h, b, err := c.rd.Next()
		if err != nil {
			return false, 0, err
		}
		if h.Type != fcgi.TypeGetValuesResult {
			continue
		}
		for len(b) > 0 {
			var n, v []byte
			if n, v, b, err = fcgi.NextParam(b); err != nil {
				return false, 0, errFCGIValues
			}
			switch {
			case asciiEqualFold(n, "FCGI_MPXS_CONNS"):
				mpxs = string(v) == "1"
			case asciiEqualFold(n, "FCGI_MAX_REQS"):
				m, _ := strconv.Atoi(string(v))
				limit = m
			}
		}
		if !mpxs {
			limit = 1
		}
		return mpxs, limit, nil
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// demux hands each record of a multiplexed connection to its request;
// a request slow to read holds the others, as HAProxy's demux does.
func (c *fcgiConn) demux() {
	for {
		h, b, err := c.rd.Next()
		if err != nil {
			c.mu.Lock()
			c.dead = true
			for id, m := range c.streams {
				select {
				case m.ch <- fcgiRecord{err: err}:
				default:
				}
				delete(c.streams, id)
			}
			c.mu.Unlock()
			c.srv.Close()
			return
		}
		c.mu.Lock()
		m := c.streams[h.ID]
		c.mu.Unlock()
		if m != nil {
			select {
			case m.ch <- fcgiRecord{h: h, c: append([]byte(nil), b...)}:
			case <-m.quit:
			}
		}
	}
}

// open starts a request on c; nil when c is full or gone. Request ids
// are odd and grow on a connection, as HAProxy numbers its streams
// (fcgi_conn_get_next_sid).
func (c *fcgiConn) open() fcgiStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := (c.maxID + 1) | 1
	if c.dead || id > 0xffff || c.streams != nil && len(c.streams) >= c.limit {
		return nil
	}
	c.maxID = id
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	if c.streams == nil {
		return &directStream{c: c, sid: uint16(id)}
	}
	st := &muxStream{c: c, sid: uint16(id), ch: make(chan fcgiRecord, 16), quit: make(chan struct{})}
	c.streams[st.sid] = st
	return st
}

// done ends a request, ok when its exchange completed.
func (c *fcgiConn) done(st fcgiStream, ok bool) {
	m, isMux := st.(*muxStream)
	if !isMux {
		return
	}
	c.mu.Lock()
	if c.streams[m.sid] == m {
		delete(c.streams, m.sid)
	}
	c.used = c.used || ok
	if c.shared && len(c.streams) == 0 && c.timeout > 0 && !c.dead {
		c.idle = time.AfterFunc(c.timeout, c.closeIdle)
	}
	c.mu.Unlock()
	close(m.quit)
}

// closeIdle closes a shared connection still without requests.
func (c *fcgiConn) closeIdle() {
	c.mu.Lock()
	idle := len(c.streams) == 0 && c.idle != nil
	if idle {
		c.dead = true
	}
	c.mu.Unlock()
	if idle {
		c.srv.Close()
	}
}

func (c *fcgiConn) write(b []byte) error {
	c.wmu.Lock()
	_, err := c.srv.Write(b)
	c.wmu.Unlock()
	return err
}

// directStream is the request of a connection without multiplexing.
type directStream struct {
	c   *fcgiConn
	sid uint16
}

func (d *directStream) id() uint16           { return d.sid }
func (d *directStream) buffered() bool       { return d.c.rd.Buffered() }
func (d *directStream) write(b []byte) error { return d.c.write(b) }
func (d *directStream) next(timeout time.Duration) (fcgi.Header, []byte, error) {
	if timeout > 0 {
		d.c.srv.SetReadDeadline(time.Now().Add(timeout))
	}
	for {
		h, b, err := d.c.rd.Next()
		if err != nil || h.ID == d.sid || h.ID == 0 {
			return h, b, err
		}
	}
}

// muxStream is a request among others on a multiplexed connection.
type muxStream struct {
	c   *fcgiConn
	sid uint16
	ch  chan fcgiRecord
	// quit tells the reader the request ended.
	quit chan struct{}
}

func (m *muxStream) id() uint16           { return m.sid }
func (m *muxStream) buffered() bool       { return len(m.ch) > 0 }
func (m *muxStream) write(b []byte) error { return m.c.write(b) }
func (m *muxStream) next(timeout time.Duration) (fcgi.Header, []byte, error) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case r := <-m.ch:
		return r.h, r.c, r.err
	case <-tc:
		return fcgi.Header{}, nil, os.ErrDeadlineExceeded
	}
}

// fcgiPool holds a server's multiplexed connections that engine
// connections share.
type fcgiPool struct {
	mu    sync.Mutex
	conns []*fcgiConn
	// aggressive shares only connections that completed a request.
	aggressive bool
}

// take returns a shared connection with a free request slot, and the
// request opened on it.
func (p *fcgiPool) take() (*fcgiConn, fcgiStream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < len(p.conns); i++ {
		c := p.conns[i]
		c.mu.Lock()
		dead, used := c.dead, c.used
		c.mu.Unlock()
		if dead {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			i--
			continue
		}
		if p.aggressive && !used {
			continue
		}
		if st := c.open(); st != nil {
			return c, st
		}
	}
	return nil, nil
}

// free returns a shared connection with a free request slot, nil when
// none.
func (p *fcgiPool) free() *fcgiConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.mu.Lock()
		ok := !c.dead && (c.used || !p.aggressive) && len(c.streams) < c.limit
		c.mu.Unlock()
		if ok {
			return c
		}
	}
	return nil
}

func (p *fcgiPool) add(c *fcgiConn, timeout time.Duration) {
	c.mu.Lock()
	c.shared, c.timeout = true, timeout
	c.mu.Unlock()
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

// dialShared opens a new connection to a server whose connections are
// shared, for a request that found none free.
func (f *fcgiApp) dialShared(srv *backend.Server, connect time.Duration) (*fcgiConn, error) {
	d := &net.Dialer{Timeout: connect}
	var nc net.Conn
	var err error
	if srv.Socks4 != "" {
		nc, err = dialSocks4(d, srv, srv.DialAddr(netipZero), srv.NetNS)
	} else {
		nc, err = netDial(d, srv.DialAddr(netipZero), srv.NetNS)
	}
	if err != nil {
		return nil, err
	}
	c, err := newFCGIConn(nc, f)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if c.limit > 1 {
		f.pools[srv].add(c, f.timeout)
	}
	return c, nil
}

// addServer registers a "proto fcgi" server; its multiplexed
// connections are shared with http-reuse aggressive or always, without
// a PROXY header (each one carries its client's).
func (f *fcgiApp) addServer(be *Backend, srv *backend.Server) {
	f.servers[srv] = true
	if (f.mpxs || f.getValues) && be.reuse >= reuseAggressive && be.pp.get(srv) == nil {
		f.pools[srv] = &fcgiPool{aggressive: be.reuse == reuseAggressive}
	}
}

var netipZero netip.AddrPort

// closeShared closes the shared connections to srv, all servers' when
// srv is nil (the engine stops).
func (f *fcgiApp) closeShared(srv *backend.Server) {
	for s, p := range f.pools {
		if srv != nil && s != srv {
			continue
		}
		p.mu.Lock()
		list := p.conns
		p.conns = nil
		p.mu.Unlock()
		for _, c := range list {
			c.mu.Lock()
			c.dead = true
			c.mu.Unlock()
			c.srv.Close()
		}
	}
}
