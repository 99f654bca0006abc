package h2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Preface is the HTTP/2 client connection preface (RFC 9113 3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// PrefaceLen is the length of Preface: the number of bytes to sniff on a
// plain bind to recognise an h2c client.
const PrefaceLen = len(Preface)

// IsPreface reports whether b, the first bytes read from a connection,
// can be the start of the HTTP/2 preface: it is true for a prefix of it
// too, so that a caller knows to read more (up to PrefaceLen) before
// deciding.
func IsPreface(b []byte) bool {
	n := len(b)
	if n > PrefaceLen {
		n = PrefaceLen
	}
	return string(b[:n]) == Preface[:n]
}

// Errors a Stream's Read or Write returns.
var (
	// ErrConnClosed: the HTTP/2 connection under the stream is gone.
	ErrConnClosed = errors.New("h2: connection closed")
	// ErrStreamClosed: the stream was closed locally.
	ErrStreamClosed = errors.New("h2: stream closed")
)

// StreamError is an RST_STREAM received or sent on a stream.
type StreamError struct {
	Code   http2.ErrCode
	Remote bool // received from the peer
}

func (e *StreamError) Error() string {
	if e.Remote {
		return "h2: stream reset by peer: " + e.Code.String()
	}
	return "h2: stream reset: " + e.Code.String()
}

// GoAwayError is a GOAWAY received from the peer. Retryable streams were
// above its last stream ID and were never processed.
type GoAwayError struct {
	Code      http2.ErrCode
	LastID    uint32
	Retryable bool
}

func (e *GoAwayError) Error() string {
	if e.Retryable {
		return fmt.Sprintf("h2: GOAWAY %s, last stream %d: stream not processed, retryable", e.Code, e.LastID)
	}
	return fmt.Sprintf("h2: GOAWAY %s, last stream %d", e.Code, e.LastID)
}

// connError ends the connection with GOAWAY code.
type connError http2.ErrCode

func (e connError) Error() string { return "h2: connection error: " + http2.ErrCode(e).String() }

// errSilent ends the connection without GOAWAY, as HAProxy does for a
// bad preface or first frame (RFC 9113 3.4 lets it omit one).
var errSilent = errors.New("h2: invalid connection preface")

// conn is what the server and client connections share: the socket, the
// framer and the write side.
type conn struct {
	nc  net.Conn
	set settings
	br  *lazyReader
	bw  *lazyWriter
	fr  *http2.Framer

	// wmu serialises frame writes; hbuf and lower are its scratch.
	wmu   sync.Mutex
	hbuf  []byte
	lower []byte
	werr  error

	// mu guards the connection state below and every stream's state.
	mu          sync.Mutex
	sendWin     int64  // connection send window
	peerWin     int32  // peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame   uint32 // peer's SETTINGS_MAX_FRAME_SIZE
	dead        error  // set once the connection is finished
	pendingConn uint32 // connection window credit to return
	// connOpened says the connection window was opened wide.
	connOpened bool

	// eachTx visits the send half of every open stream (mu held);
	// resetStream resets one. Set by the server or client side.
	eachTx      func(func(*tx))
	resetStream func(id uint32, code http2.ErrCode)

	// ctr counts frames, errors, the connection and its streams.
	ctr *Counters

	// Header block decoding, reader goroutine only.
	dec   *hpack.Decoder
	hdrs  []hpack.HeaderField
	hsize int
	hbad  bool
	block []byte
}

func (c *conn) init(nc net.Conn, cfg *Config, preread []byte) error {
	set, err := cfg.settings()
	if err != nil {
		return err
	}
	c.nc, c.set = nc, set
	var r io.Reader = nc
	if len(preread) > 0 {
		r = io.MultiReader(bytes.NewReader(preread), nc)
	}
	c.br = &lazyReader{src: r}
	c.bw = &lazyWriter{dst: nc}
	if cfg != nil {
		c.bw.out = cfg.BytesOut
	}
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(uint32(set.bufSize))
	c.sendWin = 65535
	c.peerWin = 65535
	c.peerFrame = 16384
	c.dec = hpack.NewDecoder(set.headerTable, c.emit)
	c.dec.SetMaxStringLength(set.bufSize)
	return nil
}

// flush sends buffered frames; the caller holds wmu.
func (c *conn) flushLocked() error {
	if c.werr == nil {
		c.werr = c.bw.Flush()
	}
	return c.werr
}

func (c *conn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

// writeHeaders sends block as HEADERS plus CONTINUATION frames no larger
// than the peer accepts. The caller holds wmu.
func (c *conn) writeHeadersLocked(id uint32, block []byte, end bool) error {
	if c.werr != nil {
		return c.werr
	}
	c.mu.Lock()
	max := int(c.peerFrame)
	c.mu.Unlock()
	first := block
	if len(first) > max {
		first = first[:max]
	}
	block = block[len(first):]
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(block) == 0,
	})
	for err == nil && len(block) > 0 {
		n := len(block)
		if n > max {
			n = max
		}
		err = c.fr.WriteContinuation(id, n == len(block), block[:n])
		block = block[n:]
	}
	if err != nil {
		c.werr = err
	}
	return err
}

func (c *conn) writeRST(id uint32, code http2.ErrCode) {
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = c.fr.WriteRSTStream(id, code)
	}
	c.wmu.Unlock()
}

func (c *conn) writeGoAway(last uint32, code http2.ErrCode) {
	c.wmu.Lock()
	c.goAwayLocked(last, code)
	c.wmu.Unlock()
}

// goAwayLocked writes a GOAWAY and flushes; c.wmu is held.
func (c *conn) goAwayLocked(last uint32, code http2.ErrCode) {
	if c.werr == nil {
		c.werr = c.fr.WriteGoAway(last, code, nil)
	}
	c.flushLocked()
}

// ServerConn is the server side of an HTTP/2 connection.
type ServerConn struct {
	conn
	cfg   *Config
	serve func(*Stream)

	streams streamTable
	pending []*Stream // opened, engine not started yet
	// lastOrigin is the origin of the last request that had one.
	lastOrigin string
	// sdmu is held by Shutdown; sdOver, under it, says the connection
	// is over (WaitShutdown).
	sdmu     sync.Mutex
	sdOver   bool
	active   int
	maxID    uint32
	shutdown bool // GOAWAY sent: no new stream
	wg       sync.WaitGroup
	idleSet  bool
	// idleDL is the idle timeout's deadline while idleSet (zero when
	// there is no idle timeout); under mu.
	idleDL time.Time
	// park parks the idle connection (SetPark). Under mu: atIdle says
	// the reader waits for a frame with nothing read since it drained
	// its input, and parkArmed that its wait has the park deadline.
	park      func(deadline time.Time) bool
	parkAfter time.Duration
	atIdle    bool
	parkArmed bool
	// flushQ asks flusher to send what the streams wrote; flushEnd
	// stops it, and flushDone says it stopped: Serve returns only then,
	// so nothing writes to the connection once it returned.
	flushQ, flushEnd, flushDone chan struct{}
	// flushPending is set from a stream's kick until the flusher sends:
	// the reader leaves what it wrote to that send rather than cutting
	// the round's answers into two writes.
	flushPending atomic.Bool
}

// kicks counts the flush requests of every connection's streams: a
// flusher waits while a round of the scheduler added some, on any
// connection. Its own connection's would not do: a flusher the
// scheduler takes up in the middle of a round (as it does every 61
// switches) would send half of its connection's answers, the other
// streams still queued behind, and their answers in a second write.
var kicks atomic.Uint32

// NewServerConn prepares an HTTP/2 server connection on c; Serve runs it.
// cfg may be nil (HAProxy's defaults).
func NewServerConn(c net.Conn, cfg *Config) (*ServerConn, error) {
	sc := &ServerConn{cfg: cfg}
	var pre []byte
	if cfg != nil {
		pre = cfg.Preread
	}
	if err := sc.init(c, cfg, pre); err != nil {
		return nil, err
	}
	sc.eachTx = func(f func(*tx)) {
		sc.streams.each(func(_ uint32, st *Stream) { f(&st.tx) })
	}
	sc.resetStream = sc.resetServerStream
	return sc, nil
}

// ServeConn runs an HTTP/2 server connection on c until it ends, calling
// serve in its own goroutine for each request stream. It closes c and
// returns once every serve call has returned. A connection whose first
// bytes were already read (h2c sniffing) passes them in cfg.Preread.
func ServeConn(c net.Conn, cfg *Config, serve func(st *Stream)) error {
	sc, err := NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return err
	}
	return sc.Serve(serve)
}

// LocalAddr is the connection's local address.
func (sc *ServerConn) LocalAddr() net.Addr { return sc.nc.LocalAddr() }

// RemoteAddr is the connection's remote address.
func (sc *ServerConn) RemoteAddr() net.Addr { return sc.nc.RemoteAddr() }

// Shutdown starts a graceful close: GOAWAY NO_ERROR with the last stream
// ID is sent, new streams are refused, and the connection closes once
// the streams in flight are done.
func (sc *ServerConn) Shutdown() {
	sc.sdmu.Lock()
	defer sc.sdmu.Unlock()
	if sc.sdOver {
		return
	}
	sc.mu.Lock()
	if sc.shutdown || sc.dead != nil {
		sc.mu.Unlock()
		return
	}
	sc.shutdown = true
	last, idle := sc.maxID, sc.active == 0
	sc.mu.Unlock()
	sc.writeGoAway(last, http2.ErrCodeNo)
	if idle {
		sc.nc.Close()
	}
}

// WaitShutdown waits for a Shutdown in progress to return, and makes
// later ones do nothing: the connection may then be reused.
func (sc *ServerConn) WaitShutdown() {
	sc.sdmu.Lock()
	sc.sdOver = true
	sc.sdmu.Unlock()
}

// SetCounters has the connection counted in c (its frontend's); it is
// called before Serve.
func (sc *ServerConn) SetCounters(c *Counters) { sc.ctr = c }

// Close closes the connection at once; streams fail with ErrConnClosed.
func (sc *ServerConn) Close() error {
	sc.kill(ErrConnClosed)
	return sc.nc.Close()
}

// ErrParked is what Serve and Resume return when the connection parked
// (SetPark): nothing of it runs until Resume is called.
var ErrParked = errors.New("h2: connection parked")

// SetPark lets the connection park once it has waited after for a frame
// with no stream open: its reader then stops its flusher, hands its
// buffers back and calls park with the idle timeout's deadline (zero
// when none). When park returns true, Serve or Resume returns ErrParked,
// and Resume is to be called in a new goroutine once the socket is
// readable, the deadline passed, or Shutdown was called. Called before
// Serve.
func (sc *ServerConn) SetPark(after time.Duration, park func(deadline time.Time) bool) {
	sc.park, sc.parkAfter = park, after
	sc.br.onPrime = sc.unarmPark
}

// Serve runs the connection; see ServeConn.
func (sc *ServerConn) Serve(serve func(st *Stream)) error {
	sc.serve = serve
	sc.flushQ = make(chan struct{}, 1)
	sc.startFlusher()
	sc.ctr.conn(1)
	return sc.end(sc.run())
}

// Resume goes on with a connection that parked, in the calling
// goroutine; it returns as Serve does.
func (sc *ServerConn) Resume() error {
	sc.startFlusher()
	return sc.end(sc.loop())
}

func (sc *ServerConn) startFlusher() {
	sc.flushEnd, sc.flushDone = make(chan struct{}), make(chan struct{})
	go sc.flusher()
}

func (sc *ServerConn) stopFlusher() {
	close(sc.flushEnd)
	<-sc.flushDone
	sc.flushPending.Store(false)
}

// end is the end of Serve and Resume, once the reader returned err.
func (sc *ServerConn) end(err error) error {
	if err == ErrParked {
		return err
	}
	defer sc.ctr.conn(-1)
	var ce connError
	switch {
	case errors.As(err, &ce):
		sc.mu.Lock()
		last := sc.maxID
		sc.mu.Unlock()
		if connErrCounted(http2.ErrCode(ce)) {
			sc.ctr.inc(connProtoErr)
		}
		if goawayCounted(http2.ErrCode(ce)) {
			sc.ctr.inc(goawayResp)
		}
		sc.writeGoAway(last, http2.ErrCode(ce))
	case errors.Is(err, os.ErrDeadlineExceeded):
		sc.mu.Lock()
		idle := sc.active == 0
		last := sc.maxID
		sc.mu.Unlock()
		if idle {
			sc.writeGoAway(last, http2.ErrCodeNo)
			err = nil
		}
	}
	sc.kill(ErrConnClosed)
	sc.launch()
	sc.flush()
	sc.nc.Close()
	sc.wg.Wait()
	sc.stopFlusher()
	if err == io.EOF || sc.shutdown {
		err = nil
	}
	return err
}

// kill ends every stream with err.
func (sc *ServerConn) kill(err error) {
	sc.mu.Lock()
	if sc.dead == nil {
		sc.dead = err
	}
	sc.streams.each(func(id uint32, st *Stream) {
		st.fail(err)
		sc.streams.del(id)
		sc.ctr.stream(-1)
	})
	sc.active = 0
	sc.mu.Unlock()
}

func (sc *ServerConn) run() error {
	var pre [PrefaceLen]byte
	if _, err := io.ReadFull(sc.br, pre[:]); err != nil || string(pre[:]) != Preface {
		// A connection closed before its preface counts too.
		sc.ctr.inc(connProtoErr)
		return errSilent
	}
	if err := sc.sendSettings(); err != nil {
		return err
	}
	f, err := sc.fr.ReadFrame()
	if err != nil {
		return errSilent
	}
	if s, ok := f.(*http2.SettingsFrame); !ok || s.IsAck() {
		sc.ctr.inc(connProtoErr)
		return errSilent
	}
	// HAProxy counts the preface's SETTINGS twice: once with the
	// preface, once as it processes the frame.
	sc.ctr.frame(http2.FrameSettings)
	sc.ctr.frame(http2.FrameSettings)
	if err := sc.handleSettings(f.(*http2.SettingsFrame), nil); err != nil {
		return err
	}
	sc.armIdle()
	return sc.loop()
}

// loop reads and handles frames until the connection ends or parks.
func (sc *ServerConn) loop() error {
	for {
		if sc.br.Buffered() == 0 {
			// Input drained: return window credit and send what the
			// frames read so far produced.
			sc.br.idle()
			sc.launch()
			sc.sendConnCredit()
			if sc.flushPending.Load() {
				// The flusher sends it with the answers.
			} else if err := sc.flush(); err != nil {
				return err
			}
			sc.armPark()
		}
		f, err := sc.fr.ReadFrame()
		if err != nil {
			if sc.park != nil && sc.parkFired() {
				// Nothing came since the connection went idle: no
				// frame was cut short.
				if parked, again := sc.parkNow(err); parked {
					return ErrParked
				} else if again {
					continue
				}
			}
			return sc.readError(err)
		}
		sc.ctr.frame(f.Header().Type)
		if err := sc.handle(f); err != nil {
			return err
		}
		sc.mu.Lock()
		end := sc.shutdown && sc.active == 0
		sc.mu.Unlock()
		if end {
			sc.flush()
			return nil
		}
	}
}

func (c *conn) readError(err error) error {
	var ce http2.ConnectionError
	var se http2.StreamError
	switch {
	case errors.As(err, &ce):
		return connError(ce)
	case errors.As(err, &se):
		// Only the framer's stream-level checks (WINDOW_UPDATE of 0)
		// land here; the frame was consumed.
		if se.Code == http2.ErrCodeProtocol {
			c.ctr.inc(strmProtoErr)
		}
		c.resetStream(se.StreamID, se.Code)
		return nil
	case err == http2.ErrFrameTooLarge:
		return connError(http2.ErrCodeFrameSize)
	}
	return err
}

// armIdle sets the idle timeout when no stream is active.
func (sc *ServerConn) armIdle() {
	if sc.set.idle <= 0 && sc.set.firstIdle <= 0 && sc.park == nil {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	idle := sc.active == 0
	changed := idle != sc.idleSet
	sc.idleSet = idle
	if !changed {
		return
	}
	if idle && sc.shutdown {
		// The reader is to see the end now (finish), not at a timeout.
		sc.nc.SetReadDeadline(time.Now())
		return
	}
	to := sc.set.idle
	if sc.maxID == 0 {
		to = sc.set.firstIdle
	}
	// Under mu: the reader's park deadline (armPark) is set under it
	// too, and the last one set holds.
	if idle && to > 0 {
		sc.idleDL = time.Now().Add(to)
	} else {
		sc.idleDL = time.Time{}
	}
	if idle && sc.armParkLocked() {
		return
	}
	sc.nc.SetReadDeadline(sc.idleDL)
}

// armParkLocked gives the reader's wait the park deadline when it waits
// for a frame with nothing read, and the connection may park; mu is
// held.
func (sc *ServerConn) armParkLocked() bool {
	if sc.park == nil || !sc.atIdle || sc.active != 0 || sc.shutdown || sc.dead != nil {
		return false
	}
	t := time.Now().Add(sc.parkAfter)
	if !sc.idleDL.IsZero() && !sc.idleDL.After(t) {
		return false
	}
	sc.parkArmed = true
	sc.nc.SetReadDeadline(t)
	return true
}

// parkFired says, after a read error, whether the read had the park
// deadline.
func (sc *ServerConn) parkFired() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	armed := sc.parkArmed
	sc.parkArmed, sc.atIdle = false, false
	return armed
}

// armPark says the reader now waits for a frame with its input drained,
// and arms the park deadline when the connection is idle; the last
// stream's end arms it otherwise (armIdle).
func (sc *ServerConn) armPark() {
	if sc.park == nil {
		return
	}
	sc.mu.Lock()
	sc.atIdle = true
	sc.armParkLocked()
	sc.mu.Unlock()
}

// unarmPark puts the idle deadline back once bytes came: the frame they
// begin is read whole, however long it takes within that deadline.
func (sc *ServerConn) unarmPark() {
	sc.mu.Lock()
	sc.atIdle = false
	if sc.parkArmed {
		sc.parkArmed = false
		sc.nc.SetReadDeadline(sc.idleDL)
	}
	sc.mu.Unlock()
}

// parkNow answers the park deadline's timeout err: the connection parks
// when it is still idle, or the reader reads again (again) with the idle
// deadline back; otherwise err is the connection's.
func (sc *ServerConn) parkNow(err error) (parked, again bool) {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false, false
	}
	sc.mu.Lock()
	dl := sc.idleDL
	idle := sc.active == 0 && !sc.shutdown && sc.dead == nil
	sc.nc.SetReadDeadline(dl)
	sc.mu.Unlock()
	if !dl.IsZero() && !time.Now().Before(dl) {
		// The idle timeout itself.
		return false, false
	}
	sc.br.clearErr()
	if !idle {
		return false, true
	}
	sc.stopFlusher()
	if err := sc.flush(); err != nil {
		sc.startFlusher()
		return false, false
	}
	// The last request's header fields and block go too.
	sc.hdrs, sc.block = nil, nil
	if sc.park(dl) {
		return true, false
	}
	sc.startFlusher()
	return false, true
}

func (sc *ServerConn) sendSettings() error {
	var ss [5]http2.Setting
	n := 0
	if !sc.set.noExtConnect {
		ss[n] = http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}
		n++
	}
	if sc.set.headerTable != DefaultHeaderTableSize {
		ss[n] = http2.Setting{ID: http2.SettingHeaderTableSize, Val: sc.set.headerTable}
		n++
	}
	if sc.set.window != DefaultInitialWindowSize {
		ss[n] = http2.Setting{ID: http2.SettingInitialWindowSize, Val: sc.set.window}
		n++
	}
	if sc.set.maxStreams > 0 {
		ss[n] = http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(sc.set.maxStreams)}
		n++
	}
	if sc.set.frameSize != 16384 {
		ss[n] = http2.Setting{ID: http2.SettingMaxFrameSize, Val: sc.set.frameSize}
		n++
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	if err := sc.fr.WriteSettings(ss[:n]...); err != nil {
		return err
	}
	// The connection window is opened wide with the first credit it
	// returns, as HAProxy does (sendConnCredit).
	return sc.flushLocked()
}

func (c *conn) applySettings(f *http2.SettingsFrame, onWindow func(delta int32)) error {
	return f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				return connError(ce)
			}
			return connError(http2.ErrCodeProtocol)
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			c.mu.Lock()
			delta := int32(s.Val) - c.peerWin
			c.peerWin = int32(s.Val)
			c.mu.Unlock()
			if delta != 0 {
				onWindow(delta)
			}
		case http2.SettingMaxFrameSize:
			c.mu.Lock()
			c.peerFrame = s.Val
			c.mu.Unlock()
		}
		return nil
	})
}

// handleSettings applies a SETTINGS frame, moving every stream's send
// window with the initial window size, and acknowledges it. extra sees
// each setting too.
//
// The writers wait from the first setting applied to the ACK: a stream
// that a larger window lets send writes its DATA after the ACK, as
// HAProxy acknowledges a SETTINGS frame before its streams send again.
// A peer that reads the ACK before anything else it asked for (h2spec
// 6.9.2) would otherwise miss that DATA frame.
func (c *conn) handleSettings(f *http2.SettingsFrame, extra func(http2.Setting)) error {
	if f.IsAck() {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	err := c.applySettings(f, func(delta int32) {
		c.mu.Lock()
		c.eachTx(func(t *tx) {
			t.sendWin += int64(delta)
			t.ww.signal()
		})
		c.mu.Unlock()
	})
	if err != nil {
		return err
	}
	if extra != nil {
		f.ForeachSetting(func(s http2.Setting) error {
			extra(s)
			return nil
		})
	}
	return c.fr.WriteSettingsAck()
}

// handlePing answers a PING; onAck sees acknowledgements.
func (c *conn) handlePing(f *http2.PingFrame, onAck func([8]byte)) error {
	if f.IsAck() {
		if onAck != nil {
			onAck(f.Data)
		}
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fr.WritePing(true, f.Data)
}

// connWindow adds a connection WINDOW_UPDATE increment. mu held.
func (c *conn) connWindow(inc uint32) error {
	if c.sendWin+int64(inc) > 1<<31-1 {
		return connError(http2.ErrCodeFlowControl)
	}
	c.sendWin += int64(inc)
	c.eachTx(func(t *tx) { t.ww.signal() })
	return nil
}

// state of a stream ID as HAProxy's h2c_st_by_id sees it.
func (sc *ServerConn) lookup(id uint32) (st *Stream, idle bool) {
	if id > sc.maxID {
		return nil, true
	}
	return sc.streams.get(id), false
}

func (sc *ServerConn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		return sc.handleSettings(f, nil)
	case *http2.PingFrame:
		return sc.handlePing(f, nil)
	case *http2.WindowUpdateFrame:
		return sc.handleWindowUpdate(f)
	case *http2.PriorityFrame:
		sc.mu.Lock()
		_, idle := sc.lookup(f.StreamID)
		sc.mu.Unlock()
		_ = idle // PRIORITY is valid on idle streams
		if f.StreamDep == f.StreamID {
			return connError(http2.ErrCodeProtocol)
		}
		return nil
	case *http2.RSTStreamFrame:
		sc.mu.Lock()
		st, idle := sc.lookup(f.StreamID)
		if idle {
			sc.mu.Unlock()
			return connError(http2.ErrCodeProtocol)
		}
		if st != nil {
			sc.finish(st, &StreamError{Code: f.ErrCode, Remote: true})
		}
		sc.mu.Unlock()
		return nil
	case *http2.GoAwayFrame:
		// The client stops opening streams; those in flight finish.
		return nil
	case *http2.DataFrame:
		return sc.handleData(f)
	case *http2.HeadersFrame:
		return sc.handleHeaders(f)
	case *http2.ContinuationFrame:
		return connError(http2.ErrCodeProtocol)
	case *http2.PushPromiseFrame:
		return connError(http2.ErrCodeProtocol)
	}
	// Unknown frame types are ignored (RFC 9113 5.5).
	return nil
}

func (sc *ServerConn) handleWindowUpdate(f *http2.WindowUpdateFrame) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if f.StreamID == 0 {
		return sc.connWindow(f.Increment)
	}
	st, idle := sc.lookup(f.StreamID)
	if idle {
		return connError(http2.ErrCodeProtocol)
	}
	if st == nil {
		return nil
	}
	if st.sendWin+int64(f.Increment) > 1<<31-1 {
		sc.resetInLocked(st, http2.ErrCodeFlowControl)
		return nil
	}
	st.sendWin += int64(f.Increment)
	st.ww.signal()
	return nil
}

// resetServerStream sends RST_STREAM code on id for a frame received and
// ends the stream if known.
func (sc *ServerConn) resetServerStream(id uint32, code http2.ErrCode) {
	sc.ctr.inc(rstStreamResp)
	sc.mu.Lock()
	if st := sc.streams.get(id); st != nil {
		sc.finish(st, &StreamError{Code: code})
	}
	sc.mu.Unlock()
	sc.writeRST(id, code)
}

// resetInLocked is resetLocked for a frame received.
func (sc *ServerConn) resetInLocked(st *Stream, code http2.ErrCode) {
	sc.ctr.inc(rstStreamResp)
	sc.resetLocked(st, code)
}

// rstIn sends RST_STREAM code on a stream the engine never saw, for a
// frame received.
func (sc *ServerConn) rstIn(id uint32, code http2.ErrCode) {
	sc.ctr.inc(rstStreamResp)
	sc.writeRST(id, code)
}

// resetLocked is resetStream for a known stream with mu held.
func (sc *ServerConn) resetLocked(st *Stream, code http2.ErrCode) {
	id := st.id
	sc.finish(st, &StreamError{Code: code})
	sc.mu.Unlock()
	sc.writeRST(id, code)
	sc.mu.Lock()
}

// finish removes a stream from the connection, failing its pending
// Read and Write with err when not nil. mu is held.
func (sc *ServerConn) finish(st *Stream, err error) {
	if err != nil {
		st.fail(err)
	}
	if !sc.streams.del(st.id) {
		return
	}
	sc.ctr.stream(-1)
	sc.active--
	if sc.active == 0 && sc.shutdown {
		// Wake the reader so that it sees the end.
		sc.nc.SetReadDeadline(time.Now())
	}
}

// done is called when a stream's sides may both be finished. mu held.
func (sc *ServerConn) maybeDone(st *Stream) {
	if st.localEnd && st.remoteEnd {
		sc.finish(st, nil)
	}
}

func (sc *ServerConn) handleData(f *http2.DataFrame) error {
	flow := f.Length // padding included
	sc.mu.Lock()
	sc.pendingConn += flow
	st, idle := sc.lookup(f.StreamID)
	if idle {
		sc.mu.Unlock()
		return connError(http2.ErrCodeProtocol)
	}
	if st == nil || st.remoteEnd {
		// Closed stream, or half-closed (remote): STREAM_CLOSED.
		sc.mu.Unlock()
		sc.resetStream(f.StreamID, http2.ErrCodeStreamClosed)
		return nil
	}
	data := f.Data()
	if int64(flow) > int64(st.recvWin) {
		sc.resetInLocked(st, http2.ErrCodeFlowControl)
		sc.mu.Unlock()
		return nil
	}
	st.recvWin -= int32(flow)
	if st.ri.hasLength {
		if int64(len(data)) > st.remain || f.StreamEnded() && st.remain != int64(len(data)) {
			sc.ctr.inc(strmProtoErr)
			sc.resetInLocked(st, http2.ErrCodeProtocol)
			sc.mu.Unlock()
			return nil
		}
		st.remain -= int64(len(data))
	}
	st.pushBody(data, f.StreamEnded())
	// HAProxy gives a stream's window back as soon as it takes a DATA
	// frame into the stream's buffer; here too while little is waiting
	// to be read (else once it is read, which bounds the memory).
	var credit uint32
	if flow > 0 && len(st.rbuf)-st.roff <= int(sc.set.window)/2 {
		st.recvWin += int32(flow)
		credit = flow
	}
	if f.StreamEnded() {
		st.remoteEnd = true
		sc.maybeDone(st)
	}
	st.rw.signal()
	sc.mu.Unlock()
	sc.sendCredit(f.StreamID, credit)
	return nil
}

// sendConnCredit returns the connection window consumed by DATA.
func (c *conn) sendConnCredit() {
	c.mu.Lock()
	n := c.pendingConn
	c.pendingConn = 0
	c.mu.Unlock()
	if n == 0 {
		return
	}
	if !c.connOpened {
		// Flow control is per stream: the connection window is opened
		// to 2G on its first update.
		c.connOpened = true
		n += 1<<31 - 1 - 65535
	}
	c.wmu.Lock()
	if c.werr == nil {
		c.werr = c.fr.WriteWindowUpdate(0, n)
	}
	c.wmu.Unlock()
}

// emit collects decoded header fields, bounded as HAProxy bounds them.
func (c *conn) emit(f hpack.HeaderField) {
	c.hsize += len(f.Name) + len(f.Value)
	if len(c.hdrs) >= c.set.maxFields || c.hsize > c.set.bufSize {
		c.hbad = true
		return
	}
	c.hdrs = append(c.hdrs, f)
}

// readBlock gathers a header block from HEADERS and its CONTINUATION
// frames and decodes it into c.hdrs.
func (c *conn) readBlock(f *http2.HeadersFrame) error {
	c.block = append(c.block[:0], f.HeaderBlockFragment()...)
	for end := f.HeadersEnded(); !end; {
		nf, err := c.fr.ReadFrame()
		if err != nil {
			return c.readError(err)
		}
		cf, ok := nf.(*http2.ContinuationFrame)
		if !ok {
			return connError(http2.ErrCodeProtocol)
		}
		if len(c.block)+len(cf.HeaderBlockFragment()) > c.set.bufSize {
			// HAProxy gathers the block in one buffer.
			return connError(http2.ErrCodeInternal)
		}
		c.block = append(c.block, cf.HeaderBlockFragment()...)
		end = cf.HeadersEnded()
	}
	c.hdrs, c.hsize, c.hbad = c.hdrs[:0], 0, false
	if _, err := c.dec.Write(c.block); err != nil {
		return connError(http2.ErrCodeCompression)
	}
	if err := c.dec.Close(); err != nil {
		return connError(http2.ErrCodeCompression)
	}
	if c.hbad {
		return connError(http2.ErrCodeCompression)
	}
	return nil
}

func (sc *ServerConn) handleHeaders(f *http2.HeadersFrame) error {
	id := f.StreamID
	if f.HasPriority() && f.Priority.StreamDep == id {
		return connError(http2.ErrCodeProtocol)
	}
	sc.mu.Lock()
	st, idle := sc.lookup(id)
	sc.mu.Unlock()
	if !idle {
		if st == nil {
			// A closed stream's ID reused.
			return connError(http2.ErrCodeStreamClosed)
		}
		// HAProxy lets a stream take in what it has buffered before it
		// decodes trailers: the engine gets the request first.
		sc.launch()
		return sc.handleTrailers(st, f)
	}
	if id&1 == 0 {
		return connError(http2.ErrCodeProtocol)
	}
	if err := sc.readBlock(f); err != nil {
		return err
	}
	sc.mu.Lock()
	sc.maxID = id
	refuse := sc.shutdown || sc.dead != nil || sc.set.maxStreams >= 0 && sc.active >= sc.set.maxStreams
	sc.mu.Unlock()
	if refuse {
		sc.rstIn(id, http2.ErrCodeRefusedStream)
		return nil
	}
	st = getStream()
	var ok bool
	st.rbuf, ok = appendRequest(st.rbuf[:0], sc.hdrs, f.StreamEnded(), &st.ri, sc.lastOrigin, &st.reqHead)
	if st.ri.origin != "" {
		sc.lastOrigin = st.ri.origin
	}
	if !ok || len(st.rbuf) > sc.set.bufSize-1024 {
		// Refused as a stream error; HAProxy's buffer keeps
		// tune.maxrewrite (1024) free.
		putStream(st)
		sc.rstIn(id, http2.ErrCodeProtocol)
		return nil
	}
	st.open(sc, id, f.StreamEnded())
	sc.mu.Lock()
	sc.streams.put(id, st)
	sc.ctr.stream(1)
	sc.active++
	sc.mu.Unlock()
	sc.armIdle()
	// The engine sees the stream once the frames read with it are
	// processed, as HAProxy analyses a stream after its demux pass: one
	// that these frames reset never reaches it.
	sc.pending = append(sc.pending, st)
	return nil
}

// launch starts the engine on the streams opened by the frames just
// processed, and recycles those already reset.
func (sc *ServerConn) launch() {
	var now time.Time
	if len(sc.pending) > 0 {
		now = time.Now()
	}
	for i, st := range sc.pending {
		sc.pending[i] = nil
		sc.mu.Lock()
		failed := st.err != nil
		sc.mu.Unlock()
		if failed {
			putStream(st)
			continue
		}
		st.start = now
		sc.wg.Add(1)
		admit(st)
	}
	sc.pending = sc.pending[:0]
}

func (sc *ServerConn) handleTrailers(st *Stream, f *http2.HeadersFrame) error {
	sc.mu.Lock()
	remoteEnd := st.remoteEnd
	sc.mu.Unlock()
	if remoteEnd {
		// HEADERS on a half-closed (remote) stream.
		return connError(http2.ErrCodeProtocol)
	}
	if err := sc.readBlock(f); err != nil {
		return err
	}
	if !f.StreamEnded() {
		return connError(http2.ErrCodeProtocol)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.streams.get(f.StreamID) != st {
		// Closed while the block was read: the Stream may be reused.
		return nil
	}
	if st.ri.hasLength && st.remain != 0 {
		sc.resetInLocked(st, http2.ErrCodeProtocol)
		return nil
	}
	if !st.pushTrailers(sc.hdrs) {
		sc.resetInLocked(st, http2.ErrCodeInternal)
		return nil
	}
	st.remoteEnd = true
	sc.maybeDone(st)
	st.rw.signal()
	return nil
}

// badRequestPage is HAProxy's default 400 answer (src/http.c).
const badRequestPage = "HTTP/1.1 400 Bad request\r\n" +
	"Content-length: 90\r\n" +
	"Cache-Control: no-cache\r\n" +
	"Connection: close\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"

// The workers waiting for a stream, the latest to finish on top: each
// has a stack grown already, where a new goroutine's grows and is copied
// each time it doubles while the engine serves, and the latest to
// finish has the stack still in the CPU's caches. A shared channel would
// wake the worker that waited longest, cycling through every stack kept.
var (
	idleMu    sync.Mutex
	idleStack []*worker
)

// worker is a goroutine serving streams one after another; it waits on
// wake for the next (nil retires it).
type worker struct {
	wake chan *Stream
}

// maxIdleWorkers bounds the workers kept waiting for a stream: enough
// for the thousand streams of a hundred connections ten deep, whose
// bursts of ends and starts would otherwise retire workers only to start
// new ones, each stack grown and copied again (7% of the streams and 9%
// of the instructions under h2load -c 100 -m 10 with 256). A quiet
// process retires them (TrimWorkers).
const maxIdleWorkers = 1024

// dispatchLocked hands st to the worker that finished last, or to a new
// one; idleMu is held.
func dispatchLocked(st *Stream) {
	if n := len(idleStack); n > 0 {
		w := idleStack[n-1]
		idleStack[n-1] = nil
		idleStack = idleStack[:n-1]
		// Buffered and empty: the send does not block.
		w.wake <- st
		return
	}
	go streamWorker(st)
}

func streamWorker(st *Stream) {
	w := &worker{wake: make(chan *Stream, 1)}
	for {
		st.sc.runStream(st)
		idleMu.Lock()
		if next := nextPendingLocked(); next != nil {
			// The admission the finished stream gave up goes to the
			// stream that waited longest, on this stack still warm.
			idleMu.Unlock()
			st = next
			continue
		}
		if len(idleStack) >= maxIdleWorkers {
			idleMu.Unlock()
			return
		}
		idleStack = append(idleStack, w)
		idleMu.Unlock()
		if st = <-w.wake; st == nil {
			return
		}
	}
}

// TrimWorkers retires the workers waiting for a stream, but keep of them,
// so that their stacks go back to the system: the engine calls it once
// the traffic stops. The longest idle go first.
func TrimWorkers(keep int) {
	idleMu.Lock()
	n := len(idleStack) - keep
	if n <= 0 {
		idleMu.Unlock()
		return
	}
	gone := append([]*worker(nil), idleStack[:n]...)
	rest := copy(idleStack, idleStack[n:])
	clear(idleStack[rest:])
	idleStack = idleStack[:rest]
	if rest == 0 {
		idleStack = nil
	}
	idleMu.Unlock()
	for _, w := range gone {
		w.wake <- nil
	}
}

// IdleWorkers is the number of workers waiting for a stream.
func IdleWorkers() int {
	idleMu.Lock()
	defer idleMu.Unlock()
	return len(idleStack)
}

// flushSoon has the frames the streams wrote sent once the goroutines
// ready now have run: the answers of the streams served in one round go
// out in one write, as HAProxy sends once per loop.
//
// A connection with no other stream open has nothing to gather: its
// frames go out at once, from the stream's goroutine, before the engine
// ends the stream's session, and the writer goroutine is not woken. A
// stream that sent its END_STREAM no longer counts as open: the others
// still to answer are what a flush would wait for. The last of a batch
// of answers still leaves the write to the flusher when the others
// asked for it: the write then goes out with the other connections'
// at the end of the round, as HAProxy's, and not between the round's
// requests to the servers, where each one woke the client alone.
func (sc *ServerConn) flushSoon(st *Stream) error {
	sc.mu.Lock()
	others := sc.active
	if sc.streams.get(st.id) == st {
		others--
	}
	alone := others <= 0
	sc.mu.Unlock()
	if alone && !sc.flushPending.Load() {
		return sc.flush()
	}
	sc.flushPending.Store(true)
	kicks.Add(1)
	select {
	case sc.flushQ <- struct{}{}:
	default:
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	return sc.werr
}

func (sc *ServerConn) flusher() {
	defer close(sc.flushDone)
	for {
		select {
		case <-sc.flushQ:
			// Other streams answered in the same round go in the same
			// write: yield until a whole round added no answer (a few
			// rounds at most, not to hold the first one back).
			for n, i := kicks.Load(), 0; i < 4; i++ {
				goruntime.Gosched()
				m := kicks.Load()
				if m == n {
					break
				}
				n = m
			}
			sc.flushPending.Store(false)
			sc.flush()
		case <-sc.flushEnd:
			return
		}
	}
}

func (sc *ServerConn) runStream(st *Stream) {
	defer sc.wg.Done()
	starting()
	switch {
	case !st.ri.bad:
		sc.serve(st)
	case sc.cfg != nil && sc.cfg.BadRequest != nil:
		sc.cfg.BadRequest(st)
	default:
		io.WriteString(st, badRequestPage)
	}
	// Close takes the stream out of the connection's table.
	st.Close()
	sc.armIdle()
	finished(st)
	freeStream(st)
}
