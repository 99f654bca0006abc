package h2

import (
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// Stream is one HTTP/2 request stream seen as a net.Conn carrying one
// HTTP/1.1 exchange: Read yields the request, Write takes the response.
// A Stream must not be used after the serve function it was given to
// returns: it is recycled.
type Stream struct {
	sc *ServerConn
	id uint32
	// run is the stream's place in the count of streams at work
	// (admission.go), under idleMu.
	run runState
	ri  reqInfo
	// reqHead is the parse of the request head rbuf starts with, when
	// ri.built.
	reqHead h1.Msg

	rx
	tx
	remain int64 // Content-Length bytes still expected
	closed bool
	tunnel bool
	mem    *streamMem
	// spare is the memory a freed stream keeps for its next use.
	spare *streamMem
	// start is when the engine got the stream (Start).
	start time.Time
	// Owner is what NewStream made the stream part of.
	Owner any
}

// NewStream, when set, allocates the streams, so that a user of the
// package can make each one part of its own per-stream state: one
// allocation per stream instead of two. It may return a stream it was
// given back through FreeStream: getStream clears it. Both are set
// once, before any connection is served.
var NewStream func() *Stream

// FreeStream, when set, is offered each stream the engine served, once
// the connection no longer holds it (out of its table): it reports
// whether it took it, to hand it to NewStream again, which it may do
// only if nothing of its own holds the stream either.
var FreeStream func(*Stream) bool

// rx is the receive half of a stream, guarded by the connection's mu:
// rbuf holds the HTTP/1.1 bytes not read yet, from roff.
type rx struct {
	rbuf      []byte
	roff      int
	recvWin   int32 // window the peer may still use
	remoteEnd bool
	chunked   bool  // body relayed with chunked coding
	err       error // reset or connection end
	rw        waiter
}

// tx is the send half: sendWin and localEnd under the connection's mu,
// out under wmu.
type tx struct {
	// self is the server stream the tx is part of, nil for a client's:
	// its waits for window are waits of its admission (IOWait).
	self     *Stream
	sendWin  int64
	localEnd bool
	wmu      sync.Mutex
	out      h1Out
	ww       waiter
}

var _ net.Conn = (*Stream)(nil)

// streamMem is what a finished stream hands to the next one: buffers
// and wake-up channels. The Stream itself is not reused, so that an
// engine goroutine still holding one after its serve function returned
// can never touch another request; at worst it wakes one spuriously.
type streamMem struct {
	rbuf, obuf   []byte
	hdrs, rhdrs  []h1.Header
	rwake, wwake chan struct{}
}

var memPool = sync.Pool{New: func() any {
	return &streamMem{rwake: make(chan struct{}, 1), wwake: make(chan struct{}, 1)}
}}

func getStream() *Stream {
	var st *Stream
	var mem *streamMem
	if NewStream != nil {
		st = NewStream()
		// A stream served before starts as a new one, with the memory
		// it kept (freeStream); its timers are stopped and kept.
		owner, rt, wt := st.Owner, st.rw.timer, st.ww.timer
		mem = st.spare
		*st = Stream{Owner: owner}
		st.rw.timer, st.ww.timer = rt, wt
	} else {
		st = new(Stream)
	}
	if mem == nil {
		mem = memPool.Get().(*streamMem)
	}
	st.mem = mem
	st.self = st
	st.rw.wake, st.ww.wake = mem.rwake, mem.wwake
	st.rbuf = mem.rbuf[:0]
	st.out.buf = mem.obuf[:0]
	st.out.msg.Headers = mem.hdrs[:0]
	st.reqHead.Headers = mem.rhdrs[:0]
	return st
}

// Head is the parse of the request head the stream's bytes start with,
// as h1.ParseRequest would make it, or nil when the engine must parse
// the head itself.
func (st *Stream) Head() *h1.Msg {
	if !st.ri.built {
		return nil
	}
	return &st.reqHead
}

// putStream recycles a finished stream's memory; later calls on it see
// a closed stream.
func putStream(st *Stream) {
	if mem := takeMem(st); mem != nil {
		memPool.Put(mem)
	}
}

// freeStream is putStream for a stream the connection no longer holds:
// one FreeStream takes keeps its memory for its next use.
func freeStream(st *Stream) {
	mem := takeMem(st)
	if FreeStream != nil {
		st.spare = mem
		if FreeStream(st) {
			return
		}
		st.spare = nil
	}
	if mem != nil {
		memPool.Put(mem)
	}
}

// takeMem detaches a finished stream's memory, nil when it is gone or
// too large to keep.
func takeMem(st *Stream) *streamMem {
	mem := st.mem
	if mem == nil {
		return nil
	}
	st.wmu.Lock()
	mem.obuf, mem.hdrs = st.out.buf, st.out.msg.Headers
	st.out.buf, st.out.msg.Headers = nil, nil
	// The engine read reqHead when the stream started (Head).
	mem.rhdrs = st.reqHead.Headers[:0]
	st.out.state = sDone
	st.mem = nil
	st.wmu.Unlock()
	if sc := st.sc; sc != nil {
		sc.mu.Lock()
		mem.rbuf = st.rbuf
		st.rbuf, st.roff, st.closed = nil, 0, true
		sc.mu.Unlock()
	} else {
		mem.rbuf, st.rbuf = st.rbuf, nil
	}
	if cap(mem.rbuf) > 64<<10 || cap(mem.obuf) > 64<<10 {
		return nil
	}
	st.rw.reset()
	st.ww.reset()
	return mem
}

// open initialises a stream whose request head is in st.rbuf.
func (st *Stream) open(sc *ServerConn, id uint32, endStream bool) {
	st.sc, st.id = sc, id
	st.roff = 0
	st.remain = st.ri.length
	st.recvWin = int32(sc.set.window)
	st.remoteEnd = endStream
	st.chunked = st.ri.chunked
	st.err = nil
	sc.mu.Lock()
	st.sendWin = int64(sc.peerWin)
	sc.mu.Unlock()
	st.localEnd, st.closed, st.tunnel = false, false, false
	st.out.reset(sc.set.bufSize, sc.set.outFields)
	if endStream && st.ri.chunked {
		st.rbuf = append(st.rbuf, "0\r\n\r\n"...)
	}
}

// Start is when the stream went to the serve function: one clock
// reading for the streams that the frames read together opened, as
// HAProxy's H2 mux creates them in one pass at the time of its loop.
func (st *Stream) Start() time.Time { return st.start }

// ID is the HTTP/2 stream identifier.
func (st *Stream) ID() uint32 { return st.id }

// Origin is "scheme://authority" of a request that had both, whose
// target the HTTP/1.1 side gets in origin form, "" otherwise.
func (st *Stream) Origin() string { return st.ri.origin }

// SchemeHTTP says the request's :scheme is http.
func (st *Stream) SchemeHTTP() bool { return st.ri.schemeHTTP }

// Conn is the connection the stream belongs to.
func (st *Stream) Conn() *ServerConn { return st.sc }

// LocalAddr is the connection's local address.
func (st *Stream) LocalAddr() net.Addr { return st.sc.nc.LocalAddr() }

// RemoteAddr is the connection's remote address.
func (st *Stream) RemoteAddr() net.Addr { return st.sc.nc.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (st *Stream) SetDeadline(t time.Time) error {
	st.rw.setDeadline(t)
	st.ww.setDeadline(t)
	return nil
}

// SetReadDeadline sets the deadline of Read.
func (st *Stream) SetReadDeadline(t time.Time) error { st.rw.setDeadline(t); return nil }

// SetWriteDeadline sets the deadline of Write, which blocks on flow
// control.
func (st *Stream) SetWriteDeadline(t time.Time) error { st.ww.setDeadline(t); return nil }

// SetWriteTimeout bounds each wait of Write for flow control to d from
// when it starts, when no write deadline is set; 0 removes the bound.
func (st *Stream) SetWriteTimeout(d time.Duration) { st.ww.rel.Store(int64(d)) }

// fail ends the stream's pending and future I/O with err. mu held.
func (st *Stream) fail(err error) { failHalves(&st.rx, &st.tx, err) }

func failHalves(r *rx, t *tx, err error) {
	if r.err == nil {
		r.err = err
	}
	r.rw.signal()
	t.ww.signal()
}

// pushBody appends body bytes in the message's HTTP/1.1 framing. mu
// held.
func (r *rx) pushBody(data []byte, end bool) {
	if len(data) > 0 {
		if r.chunked {
			r.rbuf = appendHex(r.rbuf, uint64(len(data)))
			r.rbuf = append(r.rbuf, "\r\n"...)
			r.rbuf = append(r.rbuf, data...)
			r.rbuf = append(r.rbuf, "\r\n"...)
		} else {
			r.rbuf = append(r.rbuf, data...)
		}
	}
	if end && r.chunked {
		r.rbuf = append(r.rbuf, "0\r\n\r\n"...)
	}
}

// take copies buffered bytes to p and says how much window to give
// back: once the buffer is mostly read, which bounds a stream's memory
// to its window. mu held.
func (r *rx) take(p []byte, window uint32) (n int, credit uint32) {
	n = copy(p, r.rbuf[r.roff:])
	r.roff += n
	if r.roff == len(r.rbuf) {
		r.rbuf, r.roff = r.rbuf[:0], 0
	}
	if r.remoteEnd || r.err != nil {
		return n, 0
	}
	pending := int32(window) - r.recvWin
	if pending <= 0 || len(r.rbuf)-r.roff > 16384 {
		return n, 0
	}
	r.recvWin += pending
	return n, uint32(pending)
}

// sendCredit sends a stream WINDOW_UPDATE.
func (c *conn) sendCredit(id, credit uint32) {
	if credit == 0 {
		return
	}
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = c.fr.WriteWindowUpdate(id, credit)
	}
	c.flushLocked()
	c.wmu.Unlock()
}

// pushTrailers ends a request body with trailers; false if HAProxy
// refuses them (h2_make_htx_trailers). sc.mu held.
func (st *Stream) pushTrailers(hdrs []hpack.HeaderField) bool {
	for i := range hdrs {
		n, v := hdrs[i].Name, hdrs[i].Value
		if n == "" || !validName(n, false) || hasForbidden(v) {
			return false
		}
		switch n {
		case "host", "content-length", "connection", "proxy-connection", "keep-alive", "upgrade", "te", "transfer-encoding":
			return false
		}
	}
	if !st.ri.chunked {
		// Trailers only travel with chunked coding.
		return true
	}
	st.pushTrailerLines(hdrs)
	return true
}

// pushTrailerLines ends a chunked body with trailers. mu held.
func (r *rx) pushTrailerLines(hdrs []hpack.HeaderField) {
	r.rbuf = append(r.rbuf, "0\r\n"...)
	for i := range hdrs {
		r.rbuf = appendHeader(r.rbuf, hdrs[i].Name, hdrs[i].Value)
	}
	r.rbuf = append(r.rbuf, "\r\n"...)
}

func appendHex(dst []byte, v uint64) []byte {
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = "0123456789abcdef"[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// Read reads the request as HTTP/1.1. Once the request is read whole it
// blocks until the response is sent, then returns io.EOF, so that an
// engine reading ahead sees no early end. In a tunnel, io.EOF is the
// client's END_STREAM.
func (st *Stream) Read(p []byte) (int, error) {
	sc := st.sc
	for {
		sc.mu.Lock()
		if st.roff < len(st.rbuf) {
			n, credit := st.take(p, sc.set.window)
			sc.mu.Unlock()
			sc.sendCredit(st.id, credit)
			return n, nil
		}
		err := st.err
		switch {
		case st.closed:
			err = ErrStreamClosed
		case err != nil:
		case st.remoteEnd && (st.ri.tunnel || st.localEnd):
			err = io.EOF
		}
		sc.mu.Unlock()
		if err != nil {
			return 0, err
		}
		st.IOWait()
		err = st.rw.wait()
		st.IOReady()
		if err != nil {
			return 0, err
		}
	}
}

// TryRead is Read without the wait: ok is false when no request bytes
// are buffered, and Read decides what comes next.
func (st *Stream) TryRead(p []byte) (n int, ok bool) {
	sc := st.sc
	sc.mu.Lock()
	if st.roff >= len(st.rbuf) || len(p) == 0 {
		sc.mu.Unlock()
		return 0, false
	}
	n, credit := st.take(p, sc.set.window)
	sc.mu.Unlock()
	sc.sendCredit(st.id, credit)
	return n, true
}

// Write takes the HTTP/1.1 response (or tunnel bytes) and sends it as
// HTTP/2 frames.
func (st *Stream) Write(p []byte) (int, error) {
	return st.WriteParsed(p, 0, nil, nil, false)
}

// WriteParsed is Write for p when its first n bytes are a response head
// the caller has parsed already (m not nil): m describes the head as the
// fields of buf, and p[:n] is its HTTP/1.1 rendering, which carries the
// first Content-Length alone, with the value m.CLValue, or none when
// dropCL. The head is encoded from m, without parsing p[:n] again; the
// bytes after it go as Write takes them.
func (st *Stream) WriteParsed(p []byte, n int, buf []byte, m *h1.Msg, dropCL bool) (int, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.writable(); err != nil {
		return 0, err
	}
	o := &st.out
	var err error
	if m == nil || o.state != sHead || len(o.buf) > 0 || n > o.limit || n > len(p) {
		// Not a parsed head at the start of the message.
		err = o.write(p, st, false)
	} else {
		var kind int
		if kind, err = st.headFields(buf, m, true, dropCL); err == nil {
			if err = o.parsed(kind, m.Length, st); err == nil {
				err = o.write(p[n:], st, false)
			}
		}
	}
	if ferr := st.sc.flushSoon(st); err == nil {
		err = ferr
	}
	if err != nil {
		if _, ok := err.(*h1.Error); ok || err == errAfterEnd || err == errChunk || err == errHeadTooBig {
			// The engine wrote an invalid response: the stream cannot
			// go on.
			st.reset(http2.ErrCodeInternal)
		}
		return 0, err
	}
	return len(p), nil
}

func (st *Stream) writable() error {
	st.sc.mu.Lock()
	defer st.sc.mu.Unlock()
	switch {
	case st.closed:
		return ErrStreamClosed
	case st.err != nil:
		return st.err
	}
	return nil
}

// reset sends RST_STREAM code unless the stream is already over.
func (st *Stream) reset(code http2.ErrCode) {
	sc := st.sc
	sc.mu.Lock()
	if sc.streams.get(st.id) == nil {
		sc.mu.Unlock()
		return
	}
	sc.resetLocked(st, code)
	sc.mu.Unlock()
	sc.flush()
}

// CloseWrite ends the response: a close-delimited body or a tunnel gets
// END_STREAM, an incomplete response RST_STREAM CANCEL, a stream with no
// final answer REFUSED_STREAM.
func (st *Stream) CloseWrite() error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	return st.closeWrite()
}

func (st *Stream) closeWrite() error {
	if st.writable() != nil || st.localEnd {
		return nil
	}
	if st.out.state == sRaw {
		err := st.sendData(nil, true)
		st.sc.flush()
		return err
	}
	if st.out.state == sHead {
		// No final answer went: HAProxy resets with REFUSED_STREAM,
		// which tells the client it may retry.
		st.reset(http2.ErrCodeRefusedStream)
		return nil
	}
	st.reset(http2.ErrCodeCancel)
	return nil
}

// Close ends the stream: an incomplete response is reset with CANCEL, a
// complete one whose request is still arriving with NO_ERROR (RFC 9113
// 8.1).
func (st *Stream) Close() error {
	st.wmu.Lock()
	st.closeWrite()
	st.wmu.Unlock()
	sc := st.sc
	sc.mu.Lock()
	if st.closed {
		sc.mu.Unlock()
		return nil
	}
	live := sc.streams.get(st.id) != nil
	if live && !st.remoteEnd {
		sc.resetLocked(st, http2.ErrCodeNo)
	} else if live {
		sc.finish(st, nil)
	}
	st.closed = true
	st.rw.signal()
	st.ww.signal()
	sc.mu.Unlock()
	sc.flushSoon(st)
	return nil
}

// head is the outSink call for the response head.
func (st *Stream) head(buf []byte, m *h1.Msg) (int, error) {
	return st.headFields(buf, m, false, false)
}

// headFields sends the response head m describes. parsed says m is the
// caller's (WriteParsed): its Content-Length fields are then the first
// one alone, with the value m.CLValue, or none when dropCL.
func (st *Stream) headFields(buf []byte, m *h1.Msg, parsed, dropCL bool) (int, error) {
	status := m.Status
	kind := bodyNone
	switch {
	case status == 101 && st.ri.ext:
		// RFC 8441: the WebSocket handshake's answer is a 200, once its
		// key matches the one made up for the server (HAProxy's
		// h1_search_websocket_key).
		if st.ri.hasWSKey && m.IsWebSocket(buf) && string(m.WSAccept.Of(buf)) != h1.WebSocketAccept(st.ri.wsKey[:]) {
			return st.answer(badGatewayPage)
		}
		status, kind, st.tunnel = 200, bodyRaw, true
	case status == 101:
		return 0, &h1.Error{Status: 502, Msg: "101 outside of an extended CONNECT"}
	case status < 200:
		kind = bodyNextHead
	case st.ri.tunnel && !st.ri.ext && status < 300:
		kind, st.tunnel = bodyRaw, true
	case st.ri.head && !st.ri.bad || status == 204 || status == 304:
		// A HEAD request refused as bad is not known as HEAD to
		// HAProxy's HTTP layer: its error page comes with a body, which
		// the h2 layer drops, ending the stream with an empty DATA.
	case m.Body == h1.BodyLength && m.Length > 0:
		kind = bodyLength
	case m.Body == h1.BodyChunked:
		kind = bodyChunked
	case m.Body == h1.BodyUntilClose:
		kind = bodyRaw
	}
	// An extended CONNECT's 2xx opens the tunnel, even one without a
	// body: HAProxy's h2 layer ends it with an empty DATA frame.
	emptyData := kind == bodyNone && st.ri.ext && status >= 200 && status < 300 && status != 304
	sc := st.sc
	sc.wmu.Lock()
	blk := appendStatus(sc.hbuf[:0], status)
	var own *h1.Msg
	if parsed {
		own = m
	}
	blk = sc.appendFields(blk, buf, m.Headers, own, dropCL)
	sc.hbuf = blk
	end := kind == bodyNone && !emptyData
	err := sc.writeHeadersLocked(st.id, blk, end)
	sc.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	if end {
		st.ended()
	}
	if emptyData {
		if err := st.sendData(nil, true); err != nil {
			return 0, err
		}
	}
	return kind, nil
}

// appendFields encodes HTTP/1.1 header lines for HTTP/2: lower-case
// names, connection-specific fields dropped. The head of WriteParsed
// (parsed, whose fields are hs) carries Content-Length once: the first
// field, with the value parsed.CLValue, or none when dropCL. wmu held.
func (c *conn) appendFields(blk, buf []byte, hs []h1.Header, parsed *h1.Msg, dropCL bool) []byte {
	clSeen := dropCL
	for i := range hs {
		h := &hs[i]
		c.lower = h1.AppendLower(c.lower[:0], h.Name.Of(buf))
		// The value as it goes out: an HTTP/2 server's keeps its
		// blanks, as HAProxy passes it on.
		v := h.Out(buf)
		switch string(c.lower) {
		case "connection", "proxy-connection", "keep-alive", "upgrade", "transfer-encoding":
			continue
		case "content-length":
			if parsed != nil {
				if clSeen {
					continue
				}
				clSeen, v = true, parsed.CLValue.Of(buf)
			}
		}
		blk = appendField(blk, c.lower, v)
	}
	return blk
}

// ended records that END_STREAM went out.
func (st *Stream) ended() {
	sc := st.sc
	sc.mu.Lock()
	st.localEnd = true
	sc.maybeDone(st)
	st.rw.signal()
	sc.mu.Unlock()
}

// data is the outSink call for body bytes.
func (st *Stream) data(p []byte, end bool) error {
	if st.ri.head {
		// The body of a page to a HEAD request refused as bad.
		if !end {
			return nil
		}
		p = nil
	}
	return st.sendData(p, end)
}

// trailers is the outSink call ending a chunked body.
func (st *Stream) trailers(buf []byte, m *h1.Msg) error {
	if len(m.Headers) == 0 {
		return st.sendData(nil, true)
	}
	sc := st.sc
	sc.wmu.Lock()
	blk := sc.appendFields(sc.hbuf[:0], buf, m.Headers, nil, false)
	sc.hbuf = blk
	err := sc.writeHeadersLocked(st.id, blk, true)
	sc.wmu.Unlock()
	if err == nil {
		st.ended()
	}
	return err
}

// sendData sends body bytes for the stream.
func (st *Stream) sendData(p []byte, end bool) error {
	ended, err := st.sc.sendData(st.id, &st.rx, &st.tx, p, end)
	if ended {
		st.ended()
	}
	return err
}

// sendData sends p as DATA frames within the flow-control windows and
// the peer's frame size, waiting for WINDOW_UPDATE as needed. ended
// says END_STREAM went out.
func (c *conn) sendData(id uint32, r *rx, t *tx, p []byte, end bool) (ended bool, err error) {
	for len(p) > 0 || end {
		c.mu.Lock()
		if err := r.err; err != nil {
			c.mu.Unlock()
			return false, err
		}
		n := int64(len(p))
		n = min(n, t.sendWin, c.sendWin, int64(c.peerFrame))
		if n <= 0 && len(p) > 0 {
			c.mu.Unlock()
			if err := c.flush(); err != nil {
				return false, err
			}
			if t.self != nil {
				t.self.IOWait()
			}
			err := t.ww.wait()
			if t.self != nil {
				t.self.IOReady()
			}
			if err != nil {
				return false, err
			}
			continue
		}
		t.sendWin -= n
		c.sendWin -= n
		c.mu.Unlock()
		last := end && int(n) == len(p)
		c.wmu.Lock()
		err := c.werr
		if err == nil {
			err = c.fr.WriteData(id, last, p[:n])
			c.werr = err
		}
		c.wmu.Unlock()
		if err != nil {
			return false, err
		}
		p = p[n:]
		if last {
			return true, nil
		}
	}
	return false, nil
}

// badGatewayPage is HAProxy's default 502 answer (src/http.c).
const badGatewayPage = "HTTP/1.1 502 Bad Gateway\r\n" +
	"content-length: 107\r\n" +
	"cache-control: no-cache\r\n" +
	"content-type: text/html\r\n" +
	"\r\n" +
	"<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"

// answer sends page (a whole HTTP/1.1 response) in place of the response
// being written, which is then dropped.
func (st *Stream) answer(page string) (int, error) {
	var m h1.Msg
	buf := []byte(page)
	hl := h1.HeadEnd(buf, 0)
	if err := h1.ParseResponse(buf[:hl], &m, 101); err != nil {
		return 0, err
	}
	if _, err := st.head(buf[:hl], &m); err != nil {
		return 0, err
	}
	return bodyNone, st.data(buf[hl:], true)
}
