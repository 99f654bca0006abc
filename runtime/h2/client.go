package h2

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// ErrTooManyStreams is returned by OpenStream when the server's
// SETTINGS_MAX_CONCURRENT_STREAMS (capped by Config) is reached: the
// engine should use another connection.
var ErrTooManyStreams = errors.New("h2: too many concurrent streams")

// ErrNoExtConnect fails an upgrade request to a server that did not
// announce SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): HAProxy resets
// the stream and answers 502.
var ErrNoExtConnect = errors.New("h2: upgrade without extended CONNECT support")

// ClientConn is the client side of an HTTP/2 connection to a server
// ("server ... proto h2" or ALPN h2).
type ClientConn struct {
	conn
	tls bool

	streams    map[uint32]*ClientStream
	nextID     uint32
	active     int
	limit      int // server's max concurrent streams, capped by ours
	extConnect bool
	goaway     *GoAwayError
	pings      map[[8]byte]chan struct{}
	done       chan struct{}
	// ready is closed by the server's first SETTINGS: as HAProxy, no
	// stream goes out before it, so that its settings (extended
	// CONNECT) are known.
	ready     chan struct{}
	readyOnce bool
}

// NewClientConn starts HTTP/2 on c: it sends the preface and SETTINGS
// and reads the server's frames in its own goroutine. cfg may be nil.
func NewClientConn(c net.Conn, cfg *Config) (*ClientConn, error) {
	cc := &ClientConn{
		streams: make(map[uint32]*ClientStream),
		nextID:  1,
		pings:   make(map[[8]byte]chan struct{}),
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
	}
	if err := cc.init(c, cfg, nil); err != nil {
		return nil, err
	}
	if cfg != nil {
		cc.ctr = cfg.Counters
	}
	_, cc.tls = c.(*tls.Conn)
	cc.limit = cc.set.maxStreams
	cc.eachTx = func(f func(*tx)) {
		for _, cs := range cc.streams {
			f(&cs.tx)
		}
	}
	cc.resetStream = cc.resetClientStream
	// HAProxy's settings as a client: those of its client side, after
	// push disabled.
	ss := []http2.Setting{{ID: http2.SettingEnablePush, Val: 0}}
	if !cc.set.noExtConnect {
		ss = append(ss, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	}
	if cc.set.headerTable != DefaultHeaderTableSize {
		ss = append(ss, http2.Setting{ID: http2.SettingHeaderTableSize, Val: cc.set.headerTable})
	}
	if cc.set.window != DefaultInitialWindowSize {
		ss = append(ss, http2.Setting{ID: http2.SettingInitialWindowSize, Val: cc.set.window})
	}
	if cc.set.maxStreams > 0 {
		ss = append(ss, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(cc.set.maxStreams)})
	}
	if cc.set.frameSize != 16384 {
		ss = append(ss, http2.Setting{ID: http2.SettingMaxFrameSize, Val: cc.set.frameSize})
	}
	cc.wmu.Lock()
	cc.bw.WriteString(Preface)
	err := cc.fr.WriteSettings(ss...)
	if err == nil {
		err = cc.flushLocked()
	}
	cc.wmu.Unlock()
	if err != nil {
		c.Close()
		return nil, err
	}
	cc.ctr.conn(1)
	go cc.readLoop()
	return cc, nil
}

// Done is closed when the connection has ended.
func (cc *ClientConn) Done() <-chan struct{} { return cc.done }

// CanOpen reports whether OpenStream would succeed now.
func (cc *ClientConn) CanOpen() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.openErr() == nil
}

func (cc *ClientConn) openErr() error {
	switch {
	case cc.dead != nil:
		return cc.dead
	case cc.goaway != nil:
		return &GoAwayError{Code: cc.goaway.Code, LastID: cc.goaway.LastID, Retryable: true}
	case cc.limit >= 0 && cc.active >= cc.limit:
		return ErrTooManyStreams
	case cc.nextID > 1<<31-1:
		return &GoAwayError{Code: http2.ErrCodeNo, LastID: cc.nextID, Retryable: true}
	}
	return nil
}

// OpenStream returns a stream as a net.Conn: the engine writes an
// HTTP/1.1 request into it and reads the HTTP/1.1 response back.
func (cc *ClientConn) OpenStream() (net.Conn, error) {
	cs, err := cc.Open()
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// Open is OpenStream with the stream's own type.
func (cc *ClientConn) Open() (*ClientStream, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if err := cc.openErr(); err != nil {
		return nil, err
	}
	cc.active++
	cs := &ClientStream{cc: cc}
	cs.rw.init()
	cs.ww.init()
	cs.recvWin = int32(cc.set.window)
	cs.out.reset(cc.set.bufSize, cc.set.outFields)
	// Room for a usual request and response head in the stream's one
	// allocation.
	cs.out.msg.Headers = cs.hdrs[:0]
	cs.out.buf = cs.headBuf[:0]
	cs.rbuf = cs.respBuf[:0]
	return cs, nil
}

// Ping sends a PING and waits for its acknowledgement.
func (cc *ClientConn) Ping(ctx context.Context) error {
	var data [8]byte
	rand.Read(data[:])
	ch := make(chan struct{})
	cc.mu.Lock()
	if cc.dead != nil {
		cc.mu.Unlock()
		return cc.dead
	}
	cc.pings[data] = ch
	cc.mu.Unlock()
	cc.wmu.Lock()
	err := cc.werr
	if err == nil {
		err = cc.fr.WritePing(false, data)
		cc.werr = err
	}
	if err == nil {
		err = cc.flushLocked()
	}
	cc.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-cc.done:
		return ErrConnClosed
	case <-ctx.Done():
		cc.mu.Lock()
		delete(cc.pings, data)
		cc.mu.Unlock()
		return ctx.Err()
	}
}

// Close sends GOAWAY and closes the connection; open streams fail.
func (cc *ClientConn) Close() error {
	// Closed with the server's frames still unread, the socket would
	// send a reset, which can reach the server before it has read what
	// went out last (a stream's RST_STREAM, the GOAWAY). The write side
	// is shut instead and the read loop, which closes the socket, reads
	// on until the server closes or closeLinger passes. The GOAWAY and
	// the shut are one step under the write lock: what the read loop
	// would still send (a SETTINGS ACK, a window update) is dropped, not
	// written after the GOAWAY or into the shut side, which fails and
	// would end the read loop at once.
	cw, canShut := cc.nc.(interface{ CloseWrite() error })
	shut := false
	cc.wmu.Lock()
	cc.goAwayLocked(0, http2.ErrCodeNo)
	if canShut {
		shut = cw.CloseWrite() == nil
		if shut && cc.werr == nil {
			cc.werr = errWriteShut
		}
	}
	cc.wmu.Unlock()
	cc.fail(ErrConnClosed)
	if shut && cc.nc.SetReadDeadline(time.Now().Add(closeLinger)) == nil {
		return nil
	}
	return cc.nc.Close()
}

// errWriteShut is the write error of a connection Close shut for
// writing.
var errWriteShut = errors.New("h2: connection closed for writing")

// closeLinger bounds how long a closed connection reads on, waiting for
// the server to close its side.
const closeLinger = time.Second

func (cc *ClientConn) fail(err error) {
	cc.mu.Lock()
	if cc.dead == nil {
		cc.dead = err
	}
	for id, cs := range cc.streams {
		failHalves(&cs.rx, &cs.tx, err)
		cc.drop(id)
	}
	cc.mu.Unlock()
}

func (cc *ClientConn) readLoop() {
	defer close(cc.done)
	defer cc.ctr.conn(-1)
	err := cc.read()
	var ce connError
	if errors.As(err, &ce) {
		if connErrCounted(http2.ErrCode(ce)) {
			cc.ctr.inc(connProtoErr)
		}
		if goawayCounted(http2.ErrCode(ce)) {
			cc.ctr.inc(goawayResp)
		}
		cc.writeGoAway(0, http2.ErrCode(ce))
	}
	cc.fail(ErrConnClosed)
	cc.nc.Close()
}

func (cc *ClientConn) read() error {
	for {
		if cc.br.Buffered() == 0 {
			cc.br.idle()
			cc.sendConnCredit()
			if err := cc.flush(); err != nil && err != errWriteShut {
				return err
			}
		}
		f, err := cc.fr.ReadFrame()
		if err != nil {
			if err = cc.readError(err); err != nil {
				return err
			}
			continue
		}
		cc.ctr.frame(f.Header().Type)
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() && !cc.readyOnce {
			// HAProxy counts the server's first SETTINGS twice, as a
			// client's preface SETTINGS.
			cc.ctr.frame(http2.FrameSettings)
		}
		if err := cc.handle(f); err != nil {
			return err
		}
		cc.mu.Lock()
		end := cc.goaway != nil && cc.active == 0
		cc.mu.Unlock()
		if end {
			return nil
		}
	}
}

// drop removes a stream from the connection. mu held.
func (cc *ClientConn) drop(id uint32) {
	if _, ok := cc.streams[id]; ok {
		delete(cc.streams, id)
		cc.ctr.stream(-1)
	}
}

// resetIn is resetStream for a frame received, a stream protocol error
// when proto is set.
func (cc *ClientConn) resetIn(id uint32, code http2.ErrCode, proto bool) {
	if proto {
		cc.ctr.inc(strmProtoErr)
	}
	cc.ctr.inc(rstStreamResp)
	cc.resetStream(id, code)
}

func (cc *ClientConn) resetClientStream(id uint32, code http2.ErrCode) {
	cc.mu.Lock()
	if cs := cc.streams[id]; cs != nil {
		failHalves(&cs.rx, &cs.tx, &StreamError{Code: code})
		cc.drop(id)
	}
	cc.mu.Unlock()
	cc.writeRST(id, code)
}

func (cc *ClientConn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() && !cc.readyOnce {
			// Read-loop only.
			cc.readyOnce = true
			defer close(cc.ready)
		}
		return cc.handleSettings(f, func(s http2.Setting) {
			cc.mu.Lock()
			switch s.ID {
			case http2.SettingMaxConcurrentStreams:
				if cc.set.maxStreams < 0 || int(s.Val) < cc.set.maxStreams {
					cc.limit = int(s.Val)
				}
			case http2.SettingEnableConnectProtocol:
				cc.extConnect = s.Val == 1
			}
			cc.mu.Unlock()
		})
	case *http2.PingFrame:
		return cc.handlePing(f, func(data [8]byte) {
			cc.mu.Lock()
			if ch := cc.pings[data]; ch != nil {
				close(ch)
				delete(cc.pings, data)
			}
			cc.mu.Unlock()
		})
	case *http2.WindowUpdateFrame:
		cc.mu.Lock()
		defer cc.mu.Unlock()
		if f.StreamID == 0 {
			return cc.connWindow(f.Increment)
		}
		if cs := cc.streams[f.StreamID]; cs != nil {
			cs.sendWin += int64(f.Increment)
			cs.ww.signal()
		}
		return nil
	case *http2.RSTStreamFrame:
		cc.mu.Lock()
		if cs := cc.streams[f.StreamID]; cs != nil {
			failHalves(&cs.rx, &cs.tx, &StreamError{Code: f.ErrCode, Remote: true})
			cc.drop(f.StreamID)
		}
		cc.mu.Unlock()
		return nil
	case *http2.GoAwayFrame:
		cc.mu.Lock()
		cc.goaway = &GoAwayError{Code: f.ErrCode, LastID: f.LastStreamID}
		for id, cs := range cc.streams {
			if id > f.LastStreamID {
				failHalves(&cs.rx, &cs.tx, &GoAwayError{Code: f.ErrCode, LastID: f.LastStreamID, Retryable: true})
				cc.drop(id)
			}
		}
		cc.mu.Unlock()
		return nil
	case *http2.DataFrame:
		cc.mu.Lock()
		defer cc.mu.Unlock()
		cc.pendingConn += f.Length
		cs := cc.streams[f.StreamID]
		if cs == nil || !cs.gotHead {
			if cs != nil {
				cc.mu.Unlock()
				cc.resetIn(f.StreamID, http2.ErrCodeProtocol, false)
				cc.mu.Lock()
				return nil
			}
			return nil
		}
		if int64(f.Length) > int64(cs.recvWin) {
			return connError(http2.ErrCodeFlowControl)
		}
		cs.recvWin -= int32(f.Length)
		data := f.Data()
		if cs.hasLength {
			if int64(len(data)) > cs.remain || f.StreamEnded() && cs.remain != int64(len(data)) {
				cc.mu.Unlock()
				cc.resetIn(f.StreamID, http2.ErrCodeProtocol, true)
				cc.mu.Lock()
				return nil
			}
			cs.remain -= int64(len(data))
		}
		cs.pushBody(data, f.StreamEnded())
		if f.StreamEnded() {
			cs.remoteEnd = true
			cc.maybeDone(cs)
		}
		cs.rw.signal()
		return nil
	case *http2.HeadersFrame:
		return cc.handleHeaders(f)
	case *http2.PushPromiseFrame:
		// Push is disabled in our SETTINGS.
		return connError(http2.ErrCodeProtocol)
	case *http2.ContinuationFrame:
		return connError(http2.ErrCodeProtocol)
	}
	return nil
}

// maybeDone drops a stream whose both sides ended. mu held.
func (cc *ClientConn) maybeDone(cs *ClientStream) {
	if cs.localEnd && cs.remoteEnd {
		cc.drop(cs.id)
	}
}

func (cc *ClientConn) handleHeaders(f *http2.HeadersFrame) error {
	if err := cc.readBlock(f); err != nil {
		return err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cs := cc.streams[f.StreamID]
	if cs == nil {
		return nil
	}
	var ok bool
	if !cs.gotHead {
		ok = cs.pushResponse(cc.hdrs, f.StreamEnded())
	} else if f.StreamEnded() {
		ok = cs.pushTrailers(cc.hdrs)
	} else {
		return connError(http2.ErrCodeProtocol)
	}
	if !ok {
		cc.mu.Unlock()
		cc.resetIn(f.StreamID, http2.ErrCodeProtocol, true)
		cc.mu.Lock()
		return nil
	}
	if f.StreamEnded() {
		cs.remoteEnd = true
		cc.maybeDone(cs)
	}
	cs.rw.signal()
	return nil
}

// ClientStream is one request stream of a ClientConn.
type ClientStream struct {
	cc *ClientConn
	id uint32
	rx
	tx
	gotHead   bool
	isHead    bool // request was HEAD
	ext       bool // sent as an extended CONNECT for an upgrade
	tunnel    bool
	proto     []byte // the upgrade's protocol (:protocol)
	wsAccept  string
	hasLength bool
	remain    int64
	closed    bool
	released  bool

	hdrs    [16]h1.Header
	headBuf [512]byte
	respBuf [512]byte
}

var _ net.Conn = (*ClientStream)(nil)

func (cs *ClientStream) LocalAddr() net.Addr  { return cs.cc.nc.LocalAddr() }
func (cs *ClientStream) RemoteAddr() net.Addr { return cs.cc.nc.RemoteAddr() }

func (cs *ClientStream) SetDeadline(t time.Time) error {
	cs.rw.setDeadline(t)
	cs.ww.setDeadline(t)
	return nil
}
func (cs *ClientStream) SetReadDeadline(t time.Time) error  { cs.rw.setDeadline(t); return nil }
func (cs *ClientStream) SetWriteDeadline(t time.Time) error { cs.ww.setDeadline(t); return nil }

// Read returns the response as HTTP/1.1, then io.EOF.
func (cs *ClientStream) Read(p []byte) (int, error) {
	cc := cs.cc
	for {
		cc.mu.Lock()
		if cs.roff < len(cs.rbuf) {
			n, credit := cs.take(p, cc.set.window)
			cc.mu.Unlock()
			cc.sendCredit(cs.id, credit)
			return n, nil
		}
		err := cs.err
		switch {
		case cs.closed:
			err = ErrStreamClosed
		case err != nil:
		case cs.remoteEnd:
			err = io.EOF
		}
		cc.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if err := cs.rw.wait(); err != nil {
			return 0, err
		}
	}
}

// writeErr is why the stream can no longer be written, nil when it can.
func (cs *ClientStream) writeErr() error {
	cs.cc.mu.Lock()
	defer cs.cc.mu.Unlock()
	if cs.closed {
		return ErrStreamClosed
	}
	return cs.err
}

// Write takes the HTTP/1.1 request and sends it as HTTP/2 frames.
func (cs *ClientStream) Write(p []byte) (int, error) {
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	cc := cs.cc
	if err := cs.writeErr(); err != nil {
		return 0, err
	}
	err := cs.out.write(p, cs, true)
	if ferr := cc.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteRequest is Write up to the end of the request: it returns how
// many bytes of p the request took, the rest being the next request's.
func (cs *ClientStream) WriteRequest(p []byte) (int, error) {
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	cc := cs.cc
	if err := cs.writeErr(); err != nil {
		return 0, err
	}
	n, err := cs.out.feed(p, cs, true)
	if ferr := cc.flush(); err == nil {
		err = ferr
	}
	return n, err
}

// HeadSent reports whether the request's HEADERS went out: a head the
// stream refused (one HTTP/2 cannot carry) never leaves.
func (cs *ClientStream) HeadSent() bool {
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	return cs.id != 0
}

// RequestDone reports whether the whole request was written.
func (cs *ClientStream) RequestDone() bool {
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	return cs.out.done()
}

// Responded reports whether the response head arrived.
func (cs *ClientStream) Responded() bool {
	cs.cc.mu.Lock()
	defer cs.cc.mu.Unlock()
	return cs.gotHead
}

// CloseWrite ends a tunnel's sending side; an unfinished request is
// reset.
func (cs *ClientStream) CloseWrite() error {
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	return cs.closeWrite()
}

func (cs *ClientStream) closeWrite() error {
	cc := cs.cc
	cc.mu.Lock()
	skip := cs.localEnd || cs.err != nil || cs.id == 0
	cc.mu.Unlock()
	if skip {
		return nil
	}
	if cs.out.state == sRaw {
		return cs.data(nil, true)
	}
	cc.resetStream(cs.id, http2.ErrCodeCancel)
	return nil
}

// Close ends the stream, resetting it with CANCEL if unfinished, and
// frees its slot on the connection.
func (cs *ClientStream) Close() error {
	cs.wmu.Lock()
	cs.closeWrite()
	cs.wmu.Unlock()
	cc := cs.cc
	cc.mu.Lock()
	if cs.released {
		cc.mu.Unlock()
		return nil
	}
	cs.released, cs.closed = true, true
	_, live := cc.streams[cs.id]
	if live {
		cc.drop(cs.id)
	}
	cc.active--
	end := cc.goaway != nil && cc.active == 0
	cs.rw.signal()
	cs.ww.signal()
	cc.mu.Unlock()
	if live && !cs.remoteEnd {
		cc.writeRST(cs.id, http2.ErrCodeCancel)
		cc.flush()
	}
	if end {
		cc.nc.Close()
	}
	return nil
}

// head is the outSink call for the request head: it sends HEADERS,
// taking the stream ID then so that IDs go out in order.
func (cs *ClientStream) head(buf []byte, m *h1.Msg) (int, error) {
	cc := cs.cc
	if err := cs.waitReady(); err != nil {
		return 0, err
	}
	kind := bodyNone
	switch {
	case m.Connect:
		kind, cs.tunnel = bodyRaw, true
	case m.Conn&h1.ConnUpgrade != 0 && m.Upgrade.Len() > 0:
		// Any HTTP/1.1 upgrade becomes an extended CONNECT, with the
		// first protocol named (HAProxy keeps 15 bytes of it).
		cc.mu.Lock()
		cs.ext = cc.extConnect
		cc.mu.Unlock()
		if !cs.ext {
			return 0, cs.refuse()
		}
		kind, cs.tunnel = bodyRaw, true
		proto := m.Upgrade.Of(buf)
		for i, c := range proto {
			if c == ',' {
				proto = proto[:i]
				break
			}
		}
		proto = trimOWS(proto)
		if len(proto) > 15 {
			proto = proto[:15]
		}
		cs.proto = append(cs.proto[:0], proto...)
		if m.IsWebSocket(buf) {
			cs.wsAccept = h1.WebSocketAccept(m.WSKey.Of(buf))
		}
	case m.Body == h1.BodyLength && m.Length > 0:
		kind = bodyLength
	case m.Body == h1.BodyChunked:
		kind = bodyChunked
	}
	cs.isHead = string(m.Method.Of(buf)) == "HEAD"
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	blk := cs.appendRequestBlock(cc.hbuf[:0], buf, m)
	cc.hbuf = blk
	if err := cs.register(); err != nil {
		return 0, err
	}
	end := kind == bodyNone
	if err := cc.writeHeadersLocked(cs.id, blk, end); err != nil {
		return 0, err
	}
	if end {
		cs.ended()
	}
	return kind, nil
}

// waitReady waits for the server's first SETTINGS, within the stream's
// write deadline.
func (cs *ClientStream) waitReady() error {
	cc := cs.cc
	select {
	case <-cc.ready:
		return nil
	default:
	}
	cs.ww.mu.Lock()
	dl := cs.ww.dl
	cs.ww.mu.Unlock()
	var expire <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-cc.ready:
		return nil
	case <-cc.done:
		return ErrConnClosed
	case <-expire:
		return os.ErrDeadlineExceeded
	}
}

// register gives the stream its ID. wmu held, so that IDs go out in
// order.
func (cs *ClientStream) register() error {
	cc := cs.cc
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if err := cs.err; err != nil {
		return err
	}
	if cc.goaway != nil || cc.dead != nil {
		return cc.openErr()
	}
	cs.id = cc.nextID
	cc.nextID += 2
	cs.sendWin = int64(cc.peerWin)
	cc.streams[cs.id] = cs
	cc.ctr.stream(1)
	return nil
}

// refuse fails a request the server cannot take as HAProxy does: the
// stream is opened and reset with INTERNAL_ERROR, no HEADERS sent.
func (cs *ClientStream) refuse() error {
	cc := cs.cc
	cc.wmu.Lock()
	err := cs.register()
	cc.wmu.Unlock()
	if err != nil {
		return err
	}
	// The stream's reader sees why, before the reset's own error.
	cc.mu.Lock()
	failHalves(&cs.rx, &cs.tx, ErrNoExtConnect)
	cc.mu.Unlock()
	cc.resetStream(cs.id, http2.ErrCodeInternal)
	cc.flush()
	return ErrNoExtConnect
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func (cs *ClientStream) ended() {
	cc := cs.cc
	cc.mu.Lock()
	cs.localEnd = true
	cc.maybeDone(cs)
	cc.mu.Unlock()
}

// appendRequestBlock encodes the request head's pseudo-headers and
// fields as HAProxy's h2s_bck_make_req_headers does: an origin-form
// target goes out with scheme https and Host as a regular field; the
// authority comes from an absolute target, or from Host for an
// extended CONNECT.
func (cs *ClientStream) appendRequestBlock(blk, buf []byte, m *h1.Msg) []byte {
	cc := cs.cc
	uri := m.URI.Of(buf)
	method := m.Method.Of(buf)
	if cs.ext {
		method = []byte("CONNECT")
	}
	blk = appendPseudo(blk, ":method", method)
	var auth []byte
	if m.Connect {
		auth = uri
		blk = appendField(blk, []byte(":authority"), auth)
	} else {
		scheme, path := []byte("https"), uri
		if i := indexScheme(uri); i > 0 {
			scheme = uri[:i]
			rest := uri[i+3:]
			j := 0
			for j < len(rest) && rest[j] != '/' {
				j++
			}
			auth, path = rest[:j], rest[j:]
		}
		if cs.ext && m.Host.Len() > 0 {
			auth = m.Host.Of(buf)
		}
		blk = appendPseudo(blk, ":scheme", scheme)
		if len(auth) > 0 {
			blk = appendField(blk, []byte(":authority"), auth)
		}
		if len(path) == 0 {
			path = []byte("/")
			if string(method) == "OPTIONS" {
				path = []byte("*")
			}
		}
		blk = appendPseudo(blk, ":path", path)
		if cs.ext && len(cs.proto) > 0 {
			blk = appendField(blk, []byte(":protocol"), cs.proto)
		}
	}
	for _, h := range m.Headers {
		cc.lower = h1.AppendLower(cc.lower[:0], h.Name.Of(buf))
		// The value as it goes out: an HTTP/2 client's keeps its blanks.
		v := h.Out(buf)
		switch string(cc.lower) {
		case "connection", "proxy-connection", "keep-alive", "upgrade", "transfer-encoding":
			continue
		case "host":
			if len(auth) > 0 {
				continue
			}
		case "te":
			// Only "trailers" may go, alone.
			v = h.Value.Of(buf)
			i := indexString(v, "trailers")
			if i < 0 || len(v) > i+8 && v[i+8] != ',' {
				continue
			}
			v = []byte("trailers")
		}
		blk = appendField(blk, cc.lower, v)
	}
	return blk
}

func indexString(b []byte, sub string) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

// indexScheme returns the index of "://" ending a URI's scheme, or -1.
func indexScheme(uri []byte) int {
	for i := 0; i+2 < len(uri); i++ {
		c := uri[i]
		if c == ':' {
			if i > 0 && uri[i+1] == '/' && uri[i+2] == '/' {
				return i
			}
			return -1
		}
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return -1
		}
	}
	return -1
}

func (cs *ClientStream) data(p []byte, end bool) error {
	ended, err := cs.cc.sendData(cs.id, &cs.rx, &cs.tx, p, end)
	if ended {
		cs.ended()
	}
	return err
}

func (cs *ClientStream) trailers(buf []byte, m *h1.Msg) error {
	if len(m.Headers) == 0 {
		return cs.data(nil, true)
	}
	cc := cs.cc
	cc.wmu.Lock()
	blk := cc.appendFields(cc.hbuf[:0], buf, m.Headers, nil, false)
	cc.hbuf = blk
	err := cc.writeHeadersLocked(cs.id, blk, true)
	cc.wmu.Unlock()
	if err == nil {
		cs.ended()
	}
	return err
}

// pushResponse converts a response header list to an HTTP/1.1 head in
// rbuf, as h2_make_htx_response and HAProxy's H1 output do. mu held.
func (cs *ClientStream) pushResponse(hdrs []hpack.HeaderField, endStream bool) bool {
	status, hasStatus := 0, false
	lenOK := true
	var ri reqInfo
	for i := range hdrs {
		n, v := hdrs[i].Name, hdrs[i].Value
		if n == "" || hasForbidden(v) {
			return false
		}
		if n[0] == ':' {
			if n != ":status" || hasStatus || i > 0 && hdrs[i-1].Name[0] != ':' || len(v) != 3 {
				return false
			}
			for j := 0; j < 3; j++ {
				if v[j] < '0' || v[j] > '9' {
					return false
				}
				status = status*10 + int(v[j]-'0')
			}
			hasStatus = true
			continue
		}
		if !validName(n, false) {
			return false
		}
		switch n {
		case "connection", "proxy-connection", "keep-alive", "upgrade", "transfer-encoding":
			return false
		case "content-length":
			lenOK = lenOK && parseContentLength(v, &ri)
		}
	}
	if !hasStatus || status < 100 || !lenOK {
		return false
	}
	hasLength, length := ri.hasLength, ri.length
	interim := status < 200 && status != 101
	out := status
	if cs.ext && status == 200 {
		out = 101
	}
	r := cs.rbuf
	r = append(r, "HTTP/1.1 "...)
	r = appendUint(r, uint64(out))
	// HTTP/2 has no reason phrase: HAProxy's HTTP/1 side sends none.
	r = append(r, " \r\n"...)
	bodyless := cs.isHead || status == 204 || status == 304 || interim
	clDone := false
	for i := range hdrs {
		n := hdrs[i].Name
		if n[0] == ':' {
			continue
		}
		if out == 101 && n == "sec-websocket-accept" {
			// Answered for the client's own key below.
			continue
		}
		if n == "content-length" {
			if clDone {
				continue
			}
			clDone = true
			r = appendHeader(r, n, cleanLength(hdrs[i].Value))
			continue
		}
		r = appendHeader(r, n, hdrs[i].Value)
	}
	switch {
	case interim:
	case out == 101:
		r = append(r, "connection: upgrade\r\nupgrade: "...)
		r = append(r, cs.proto...)
		r = append(r, "\r\n"...)
		if cs.wsAccept != "" {
			r = appendHeader(r, "sec-websocket-accept", cs.wsAccept)
		}
		cs.tunnel = true
	case cs.tunnel && status < 300:
	case bodyless:
	case hasLength:
		cs.hasLength, cs.remain = true, length
	case endStream:
		// Spelled so that the engine knows it made up (no HTTP/2 name
		// has capitals): HAProxy's HTTP/1 side adds it, its HTTP/2 side
		// sends none.
		r = append(r, "Content-Length: 0\r\n"...)
	default:
		r = append(r, "transfer-encoding: chunked\r\n"...)
		cs.chunked = true
	}
	cs.rbuf = append(r, "\r\n"...)
	if !interim {
		cs.gotHead = true
		if cs.tunnel && !(status < 300) {
			cs.tunnel = false
		}
	}
	if endStream && cs.chunked {
		cs.rbuf = append(cs.rbuf, "0\r\n\r\n"...)
	}
	return true
}

// pushTrailers ends a response body with trailers. mu held.
func (cs *ClientStream) pushTrailers(hdrs []hpack.HeaderField) bool {
	for i := range hdrs {
		if n := hdrs[i].Name; n == "" || !validName(n, false) || hasForbidden(hdrs[i].Value) {
			return false
		}
	}
	if cs.hasLength && cs.remain != 0 {
		return false
	}
	if cs.chunked {
		cs.pushTrailerLines(hdrs)
	}
	return true
}
