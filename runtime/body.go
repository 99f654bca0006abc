package runtime

import (
	"errors"
	"io"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/runtime/cache"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/h2"
)

const bufSize = 16384

// bufPool hands out buffers of one size.
type bufPool struct {
	size int
	p    sync.Pool
}

func (bp *bufPool) get() *[]byte  { return bp.p.Get().(*[]byte) }
func (bp *bufPool) put(b *[]byte) { bp.p.Put(b) }

var (
	poolsMu sync.Mutex
	pools   = map[int]*bufPool{}
	// defPool holds buffers of HAProxy's default tune.bufsize.
	defPool = poolFor(bufSize)
)

// poolFor returns the pool of buffers of size n, made once; graphs get
// theirs at compile time.
func poolFor(n int) *bufPool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if p := pools[n]; p != nil {
		return p
	}
	p := &bufPool{size: n}
	p.p.New = func() any { b := make([]byte, n); return &b }
	pools[n] = p
	return p
}

func getBuf() *[]byte  { return defPool.get() }
func putBuf(b *[]byte) { defPool.put(b) }

// side is one connection with its read buffer: unconsumed data is
// buf[r:w].
type side struct {
	// clock, when set, is a clock reading the next awaitv may take as
	// now: one taken just before, with nothing waited for since.
	clock time.Time
	c     netConn
	// rc is c's raw connection, read through fill's readFn, which
	// tells a read that had to wait for readiness.
	rc     syscall.RawConn
	readFn func(fd uintptr) bool
	// m is rc when c is a memConn: reads and writes go through it.
	m *memRaw
	// h2st is the HTTP/2 stream a server side works for: a read that
	// must wait for the server tells it (h2.Stream.IOWait), and a long
	// wait no longer holds the stream's admission; ioWait is the stream
	// so told, until the wait ends.
	h2st, ioWait *h2.Stream
	rn, calls    int
	rerr         error
	// wArmed, sendErr: send's state.
	wArmed  bool
	sendErr error
	// wv, writevFn, one: sendv's state (the vector is sendSegs').
	one      [1][]byte
	wv       [][]byte
	writevFn func(fd uintptr) bool
	// out, outErr: sendAwait's write and its error; pending is the read
	// error it met, for the next fill.
	out     [][]byte
	outErr  error
	pending error
	// order and sess put a session that waited back in ready order.
	order *readyOrder
	sess  *session
	// cont is the session whose statistics count the bytes as they
	// move (option contstats), nil otherwise.
	cont *session
	// procOut counts the bytes the process writes (show info's
	// TotalBytesOut).
	procOut *atomic.Uint64
	buf     []byte
	r, w    int
	timeout time.Duration // inactivity timeout for reads, 0 for none
	wto     time.Duration // inactivity timeout for writes
	// stop, when set and true, ends fill at once.
	stop *atomic.Bool
	// discard makes writes succeed without writing (a request body
	// dropped once the server is gone).
	discard bool
	// read counts the bytes read since the last reset, to tell an
	// empty connection from a started message.
	read int64
	// rbytes and wbytes count every byte read and written, for logs
	// and statistics. rhtx and whtx are what HAProxy's channels count
	// beyond them: less the chunk framing read and written, plus a
	// chunked body's end-of-trailers block and its trailers as names
	// and values (htxIn, htxOut).
	rbytes, wbytes int64
	rhtx, whtx     int64
	// tap, when set, sees what is written (a response being cached).
	tap *cache.Writer
	// trace, when set, is the message written through the stream's
	// trace filters (trace.go).
	trace *traceChan
	// sp is the splicing of bodies read from this side (splice.go).
	sp spliceState
	// lazyW is the connection when it takes the write timeout once.
	lazyW writeTimeouter
	// rdRefresh, when set, is the read timeout that each write pushes
	// back: a server's while a request body goes to it.
	rdRefresh time.Duration
}

func (s *side) htxIn() int64  { return s.rbytes + s.rhtx }
func (s *side) htxOut() int64 { return s.wbytes + s.whtx }

var (
	errBufFull = errors.New("buffer full")
)

// compact moves unconsumed data to the start of the buffer.
func (s *side) compact() {
	if s.r == 0 {
		return
	}
	n := copy(s.buf, s.buf[s.r:s.w])
	s.r, s.w = 0, n
}

// fill reads more data, compacting first when the buffer's end is reached.
func (s *side) fill() error {
	if err := s.pending; err != nil {
		s.pending = nil
		return err
	}
	if s.w == len(s.buf) {
		s.compact()
		if s.w == len(s.buf) {
			return errBufFull
		}
	}
	if s.timeout > 0 {
		s.c.SetReadDeadline(time.Now().Add(s.timeout))
	}
	if s.stop != nil && s.stop.Load() {
		// Stopped from elsewhere (see watchServer): the deadline set
		// just above may have replaced the one that stopped it.
		return os.ErrDeadlineExceeded
	}
	if s.w == s.r {
		// Nothing buffered: the peer is probably still working on it.
		// Letting the other sessions run first often saves the read
		// that would fail with EAGAIN before parking.
		goruntime.Gosched()
	}
	if err := s.readWait(nil); err != nil {
		return err
	}
	if s.rn > 0 {
		return nil
	}
	return s.readErr()
}

// sideCallbacks are a side's readiness callbacks, bound to the side:
// a recycled session keeps them rather than making them again.
type sideCallbacks struct {
	read, writev func(uintptr) bool
}

func (s *side) callbacks() sideCallbacks { return sideCallbacks{s.readFn, s.writevFn} }

func (s *side) setCallbacks(c sideCallbacks) { s.readFn, s.writevFn = c.read, c.writev }

// readWait reads once through the connection's readiness wait, first
// writing out when given. A read after a wait takes the session's turn
// in ready order (see readyOrder). It returns the wait's own error.
func (s *side) readWait(out [][]byte) error {
	if err := s.raw(); err != nil {
		return err
	}
	if s.readFn == nil {
		s.readFn = s.rawRead
	}
	s.calls, s.rn, s.rerr, s.outErr = 0, 0, nil, nil
	s.out = out
	err := s.rc.Read(s.readFn)
	s.endWaitIO()
	s.out = nil
	s.w += s.rn
	s.read += int64(s.rn)
	s.rbytes += int64(s.rn)
	s.moved()
	return err
}

// moved tells the session its bytes moved, for option contstats.
func (s *side) moved() {
	if s.cont != nil {
		s.cont.contFlush()
	}
}

func (s *side) rawRead(fd uintptr) bool {
	s.calls++
	if s.calls == 1 && s.out != nil {
		s.outErr = s.sendv(s.out)
		if s.outErr != nil {
			return true
		}
		s.waitIO()
		return false
	}
	if s.calls == 2 && s.order != nil {
		s.order.wait(s.sess)
	}
	n, err := s.recv(fd, s.buf[s.w:])
	if err == unix.EAGAIN {
		s.waitIO()
		return false
	}
	s.rn, s.rerr = n, err
	return true
}

// waitIO tells the HTTP/2 stream the side works for that it waits for
// the server (a read, a connect); endWaitIO ends the wait.
func (s *side) waitIO() {
	if st := s.h2st; st != nil && s.ioWait == nil {
		s.ioWait = st
		st.IOWait()
	}
}

func (s *side) endWaitIO() {
	if st := s.ioWait; st != nil {
		s.ioWait = nil
		st.IOReady()
	}
}

// send writes b whole, with the side's write timeout armed only when
// the socket is full, as HAProxy does: the writes that complete at once,
// nearly all of them, set no deadline. A deadline it armed is cleared
// after, so none is left for the next write.
func (s *side) send(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	s.one[0] = b
	return s.sendv(s.one[:])
}

// sendv writes the slices of b whole, gathered in one writev while the
// socket takes them. It may change b.
func (s *side) sendv(b [][]byte) error {
	if s.discard {
		return nil
	}
	if s.tap != nil {
		s.tap.Write(b)
	}
	if s.trace != nil {
		return s.trace.send(s, b, false)
	}
	err := s.writev(b)
	if err == nil && s.rdRefresh > 0 {
		s.c.SetReadDeadline(time.Now().Add(s.rdRefresh))
	}
	return err
}

// writev is sendv's write.
func (s *side) writev(b [][]byte) error {
	if err := s.raw(); err != nil {
		return err
	}
	if s.writevFn == nil {
		s.writevFn = s.rawWritev
	}
	s.wv = b
	err := s.writeWait(s.writevFn)
	s.wv = nil
	return err
}

// writeWait runs a raw write through the socket's readiness wait and
// returns its error; the write arms the write timeout (armWrite) only
// when the socket is full, and the deadline is cleared after.
func (s *side) writeWait(fn func(fd uintptr) bool) error {
	s.wArmed, s.sendErr = false, nil
	err := s.rc.Write(fn)
	if s.wArmed {
		s.c.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		return err
	}
	return s.sendErr
}

// armWrite sets the write timeout for a write that found the socket
// full.
func (s *side) armWrite() {
	if w := s.lazyW; w != nil {
		w.SetWriteTimeout(s.wto)
		return
	}
	if s.wto > 0 {
		s.c.SetWriteDeadline(time.Now().Add(s.wto))
		s.wArmed = true
	}
}

// recv is rawRead on the side's connection, called inside its
// readiness wait.
func (s *side) recv(fd uintptr, b []byte) (int, error) {
	if s.m != nil {
		return s.m.read(b)
	}
	return rawRead(int(fd), b)
}

func (s *side) rawWritev(fd uintptr) bool {
	if s.m != nil {
		return s.memWritev()
	}
	for {
		for len(s.wv) > 0 && len(s.wv[0]) == 0 {
			s.wv = s.wv[1:]
		}
		if len(s.wv) == 0 {
			return true
		}
		var r int
		var e unix.Errno
		if len(s.wv) == 1 {
			r, e = sendOne(fd, s.wv[0])
		} else {
			r, e = sendSegs(fd, s.wv)
		}
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			s.armWrite()
			return false
		case e != 0:
			s.sendErr = e
			return true
		}
		s.wbytes += int64(r)
		if s.procOut != nil {
			s.procOut.Add(uint64(r))
		}
		s.moved()
		for w := int(r); w > 0; {
			if w >= len(s.wv[0]) {
				w -= len(s.wv[0])
				s.wv = s.wv[1:]
			} else {
				s.wv[0] = s.wv[0][w:]
				w = 0
			}
		}
	}
}

// sendSegs sends the first segments of wv in one sendmsg. Its vector
// is on the stack: in the side, it made every session 750 bytes larger
// for the whole connection.
func sendSegs(fd uintptr, wv [][]byte) (int, unix.Errno) {
	var iovs [maxSegs + 4]unix.Iovec
	var msg unix.Msghdr
	n := 0
	for _, b := range wv {
		if n == len(iovs) {
			break
		}
		if len(b) > 0 {
			iovs[n].Base = &b[0]
			iovs[n].SetLen(len(b))
			n++
		}
	}
	msg.Iov = &iovs[0]
	msg.SetIovlen(n)
	r, _, e := unix.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// raw gets the connection's RawConn once.
func (s *side) raw() error {
	if s.rc != nil {
		return nil
	}
	rc, err := s.c.SyscallConn()
	s.rc = rc
	s.m, _ = rc.(*memRaw)
	s.setLazyW()
	return err
}

// memCoalesce is the most a memConn write gathers into one: a TLS
// record, an HTTP/2 write, each costing a system call.
const memCoalesce = 16 << 10

var coalescePool = sync.Pool{New: func() any { return new([memCoalesce]byte) }}

// memWritev is rawWritev for a memConn: blocking writes, under the
// write timeout, small slices gathered into one.
func (s *side) memWritev() bool {
	s.armWrite()
	total := 0
	for _, b := range s.wv {
		total += len(b)
	}
	var err error
	if len(s.wv) > 1 && total <= memCoalesce {
		bp := coalescePool.Get().(*[memCoalesce]byte)
		buf := bp[:0]
		for _, b := range s.wv {
			buf = append(buf, b...)
		}
		_, err = s.c.Write(buf)
		coalescePool.Put(bp)
	} else {
		for _, b := range s.wv {
			if len(b) > 0 {
				if _, err = s.c.Write(b); err != nil {
					break
				}
			}
		}
	}
	s.wv = nil
	if err != nil {
		s.sendErr = err
		return true
	}
	s.wbytes += int64(total)
	if s.procOut != nil && s.h2st == nil {
		// A TLS connection's clear bytes (a server's HTTP/2 stream
		// counts in its connection's frames).
		s.procOut.Add(uint64(total))
	}
	s.moved()
	return true
}

// readErr is the error of a read that returned nothing.
func (s *side) readErr() error {
	if s.rerr != nil {
		return s.rerr
	}
	return io.EOF
}

// setConn gives the side a connection, with its raw connection if known.
func (s *side) setConn(c netConn, rc syscall.RawConn) {
	s.c, s.rc, s.pending = c, rc, nil
	s.m, _ = rc.(*memRaw)
	s.setLazyW()
}

// setLazyW finds whether the side's connection takes a write timeout.
func (s *side) setLazyW() {
	s.lazyW = nil
	if m, ok := s.c.(*memConn); ok {
		s.lazyW, _ = m.Conn.(writeTimeouter)
	}
}

// writeTimeouter is a connection whose writes take an inactivity
// timeout once (an HTTP/2 stream), instead of a deadline armed and
// cleared around each.
type writeTimeouter interface{ SetWriteTimeout(time.Duration) }

// sendAwait writes a whole request to the server and reads the first
// of the answer once the server's socket reports it, without the read
// that would fail with EAGAIN first: the write happens inside the
// readiness wait, so the answer's readiness event cannot be missed. It
// returns the write's error; a read error is left for fill.
func (s *side) sendAwait(out []byte) error {
	s.one[0] = out
	return s.sendAwaitv(s.one[:])
}

// sendAwaitv is sendAwait for a write gathered from several slices.
func (s *side) sendAwaitv(out [][]byte) error {
	if s.trace != nil {
		return s.trace.send(s, out, true)
	}
	return s.awaitv(out)
}

// awaitv is sendAwaitv's write and wait.
func (s *side) awaitv(out [][]byte) error {
	s.compact()
	if s.timeout > 0 {
		now := s.clock
		if now.IsZero() {
			now = time.Now()
		}
		s.c.SetReadDeadline(now.Add(s.timeout))
	}
	s.clock = time.Time{}
	s.pending = nil
	err := s.readWait(out)
	switch {
	case s.outErr != nil:
		return s.outErr
	case err != nil:
		s.pending = err
	case s.rn == 0:
		s.pending = s.readErr()
	}
	return nil
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// bodyErr says which side failed while a body was forwarded.
type bodyErr struct {
	src     bool // the source failed (read error, timeout, bad framing)
	timeout bool
	framing bool
	err     error
}

func (e *bodyErr) Error() string { return e.err.Error() }

func srcErr(err error) error {
	return &bodyErr{src: true, timeout: isTimeout(err), err: err}
}

// copyLength forwards n bytes from src to dst.
func copyLength(src, dst *side, n int64) error { return copyLeft(src, dst, &n) }

// copyLeft is copyLength counting *n down, so that a copy stopped early
// can go on later.
func copyLeft(src, dst *side, n *int64) error {
	for {
		avail := int64(src.w - src.r)
		if avail > *n {
			avail = *n
		}
		if avail > 0 {
			if err := dst.send(src.buf[src.r : src.r+int(avail)]); err != nil {
				return &bodyErr{err: err}
			}
			src.r += int(avail)
			*n -= avail
		}
		if *n == 0 {
			return nil
		}
		src.r, src.w = 0, 0
		if canSplice(src, dst) {
			if err, ok := spliceBody(src, dst, n, false); ok {
				return err
			}
		}
		if err := src.fill(); err != nil {
			return srcErr(err)
		}
	}
}

// copyLengthChunked forwards n bytes from src to dst as a chunked body,
// a chunk per read, then the last chunk: the body of a message whose
// length a rule removed, which HAProxy's HTTP/1 side chunks.
func copyLengthChunked(src, dst *side, co *chunkOut, n int64) error {
	if n == 0 {
		if err := dst.send(endEmpty); err != nil {
			return &bodyErr{err: err}
		}
		return nil
	}
	return copyLeftChunked(src, dst, co, &n)
}

// appendChunkSize appends n in upper-case hexadecimal, as HAProxy's H1
// side writes a chunk's size.
func appendChunkSize(dst []byte, n int64) []byte {
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = "0123456789ABCDEF"[n&0xF]
		n >>= 4
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// copyLeftChunked is copyLengthChunked counting *n (above 0) down, so
// that a copy stopped early can go on later.
func copyLeftChunked(src, dst *side, co *chunkOut, n *int64) error {
	co.iov[0] = nil
	for {
		avail := int(min(int64(src.w-src.r), *n))
		if avail > 0 {
			out := co.frame(append(co.iov[:2], src.buf[src.r:src.r+avail]), avail)
			*n -= int64(avail)
			if *n == 0 {
				out = endChunks(out, true, nil)
			}
			if err := dst.sendv(out); err != nil {
				return &bodyErr{err: err}
			}
			src.r += avail
		}
		if *n == 0 {
			return nil
		}
		src.r, src.w = 0, 0
		if err := src.fill(); err != nil {
			return srcErr(err)
		}
	}
}

// copyUntilClose forwards everything until the source closes.
func copyUntilClose(src, dst *side) error {
	for {
		if src.w > src.r {
			if err := dst.send(src.buf[src.r:src.w]); err != nil {
				return &bodyErr{err: err}
			}
		}
		src.r, src.w = 0, 0
		if canSplice(src, dst) {
			if err, ok := spliceBody(src, dst, nil, true); ok {
				return err
			}
		}
		if err := src.fill(); err != nil {
			if err == io.EOF {
				return nil
			}
			return srcErr(err)
		}
	}
}

// Chunked-body scanner states.
const (
	chSize = iota
	chSizeWS
	chExt
	chSizeLF
	chData
	chDataCR
	chDataLF
	chTrailer
)

var errBadChunk = errors.New("invalid chunked body")

// chunkScanner follows a chunked body's framing as HAProxy 2.6's H1
// parser does: hex sizes below 2^52 (leading zeros allowed), blanks,
// extensions up to the line end, CRLF or LF after sizes and data. The
// framing is consumed here and never forwarded: copyChunked writes its
// own, so the next hop reads exactly the chunks gohap read.
type chunkScanner struct {
	st     uint8
	digits bool
	size   uint64
}

// next consumes b up to and including the first run of data bytes,
// which are b[n-dlen:n], or up to the end of the last-chunk line (the
// trailers follow, st is chTrailer), or to the end of b.
func (cs *chunkScanner) next(b []byte) (n, dlen int, err error) {
	i := 0
	for i < len(b) {
		c := b[i]
		switch cs.st {
		case chSize:
			v, ok := hexVal(c)
			switch {
			case ok:
				cs.size = cs.size<<4 | uint64(v)
				cs.digits = true
				if cs.size&0xF0000000000000 != 0 {
					return i, 0, errBadChunk
				}
			case !cs.digits:
				return i, 0, errBadChunk
			case c == ' ' || c == '\t':
				cs.st = chSizeWS
			case c == ';':
				cs.st = chExt
			case c == '\r':
				cs.st = chSizeLF
			case c == '\n':
				if cs.endSizeLine() {
					return i + 1, 0, nil
				}
			default:
				return i, 0, errBadChunk
			}
		case chSizeWS:
			switch c {
			case ' ', '\t':
			case ';':
				cs.st = chExt
			case '\r':
				cs.st = chSizeLF
			case '\n':
				if cs.endSizeLine() {
					return i + 1, 0, nil
				}
			default:
				return i, 0, errBadChunk
			}
		case chExt:
			// An extension is anything up to a CR or an LF.
			if c == '\r' {
				cs.st = chSizeLF
			} else if c == '\n' {
				if cs.endSizeLine() {
					return i + 1, 0, nil
				}
			}
		case chSizeLF:
			if c != '\n' {
				return i, 0, errBadChunk
			}
			if cs.endSizeLine() {
				return i + 1, 0, nil
			}
		case chData:
			k := uint64(len(b) - i)
			if k > cs.size {
				k = cs.size
			}
			cs.size -= k
			if cs.size == 0 {
				cs.st = chDataCR
			}
			return i + int(k), int(k), nil
		case chDataCR:
			if c == '\r' {
				cs.st = chDataLF
			} else if c == '\n' {
				cs.st = chSize
			} else {
				return i, 0, errBadChunk
			}
		case chDataLF:
			if c != '\n' {
				return i, 0, errBadChunk
			}
			cs.st = chSize
		case chTrailer:
			return i, 0, nil
		}
		i++
	}
	return i, 0, nil
}

// endSizeLine ends a size line; it reports the last chunk.
func (cs *chunkScanner) endSizeLine() bool {
	cs.digits = false
	if cs.size == 0 {
		cs.st = chTrailer
		return true
	}
	cs.st = chData
	return false
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// checkChunked checks the part of a chunked body that is already
// buffered, trailers included when they are there whole: HAProxy's
// parser sees it before anything is forwarded, so a bad one is refused
// at once (400 for a request, 502 for a response).
// It also reports whether the body is there to the end of its trailers.
func checkChunked(b []byte, tm *h1.Msg, maxHdr, maxTrailers int) (complete bool, err error) {
	var cs chunkScanner
	for len(b) > 0 {
		n, _, err := cs.next(b)
		if err != nil {
			return false, err
		}
		b = b[n:]
		if cs.st == chTrailer {
			err := h1.ParseTrailers(b, tm, maxHdr)
			if err != nil && err != h1.ErrIncomplete || err == nil && tm.HeadLen >= maxTrailers || len(b) >= maxTrailers && err != nil {
				return false, errBadChunk
			}
			return err == nil, nil
		}
	}
	return false, nil
}

// maxSegs bounds the data runs gathered into one write.
const maxSegs = 16

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n")
	// The ends of a body without trailers, after data and alone: one
	// slice rather than three keeps a write's vector within the
	// kernel's inline one (UIO_FASTIOV, 8), which a longer one makes it
	// allocate and copy.
	endData  = []byte("\r\n0\r\n\r\n")
	endEmpty = endData[2:]
)

// endChunks appends the last chunk and the trailers tl (normalised, nil
// when none) to out, which ends with a framed chunk's CRLF when framed.
func endChunks(out [][]byte, framed bool, tl []byte) [][]byte {
	switch {
	case tl == nil && framed:
		return append(out[:len(out)-1], endData)
	case tl == nil:
		return append(out, endEmpty)
	}
	return append(out, lastChunk, tl, crlf)
}

// chunkOut is copyChunked's per-direction state, kept in the session so
// that re-framing allocates nothing.
type chunkOut struct {
	cs   chunkScanner
	hdr  [20]byte
	iov  [maxSegs + 5][]byte
	tm   h1.Msg
	tbuf []byte
}

// copyChunked forwards a chunked body re-framed as HAProxy 2.6 frames
// it: the data buffered at once goes out as one chunk with an upper-case
// hex size and no extension, the last chunk as "0", the trailers with
// lower-case names, folded lines joined and blanks trimmed. The data
// itself is written from the source buffer, never copied.
//
// prefix (the message head) goes out in the same write as the first
// chunk, as HAProxy sends them; with await, the last write happens
// inside the destination's readiness wait (see sendAwait), for a request
// whose answer is read next.
func copyChunked(src, dst *side, co *chunkOut, maxHdr, bufLimit int, prefix []byte, await bool) error {
	co.cs = chunkScanner{}
	return co.copy(src, dst, maxHdr, bufLimit, prefix, await)
}

// copy is copyChunked from the scanner's current state.
func (co *chunkOut) copy(src, dst *side, maxHdr, bufLimit int, prefix []byte, await bool) error {
	co.iov[0] = prefix
	defer func() { co.iov[0] = nil }()
	for {
		iov := co.iov[:2]
		total := 0
		for src.r < src.w && co.cs.st != chTrailer && len(iov) < maxSegs+2 {
			n, dlen, err := co.cs.next(src.buf[src.r:src.w])
			if err != nil {
				if total > 0 {
					// What was read before the error still goes.
					dst.sendv(co.frame(iov, total))
				}
				return &bodyErr{src: true, framing: true, err: err}
			}
			if dlen > 0 {
				iov = append(iov, src.buf[src.r+n-dlen:src.r+n])
				total += dlen
			}
			src.rhtx -= int64(n - dlen)
			src.r += n
		}
		if co.cs.st == chTrailer {
			// The last data waits for the whole trailer section, as
			// HAProxy parses the trailers that came with it before it
			// forwards any of it: a bad or oversized trailer sends
			// nothing. Reading on without compacting keeps the data runs
			// where iov points.
			for total > 0 {
				err := h1.ParseTrailers(src.buf[src.r:src.w], &co.tm, maxHdr)
				if err == nil {
					break
				}
				if err != h1.ErrIncomplete || src.w-src.r >= bufLimit || src.w == len(src.buf) {
					return &bodyErr{src: true, framing: true, err: errBadChunk}
				}
				if err := src.fill(); err != nil {
					return srcErr(err)
				}
			}
			tl, err := co.trailers(src, maxHdr, bufLimit)
			if err != nil {
				if total > 0 {
					dst.sendv(co.frame(iov, total))
				}
				return err
			}
			var out [][]byte
			if total > 0 {
				out = co.frame(iov, total)
			} else {
				out = co.iov[:1]
			}
			out = endChunks(out, total > 0, tl)
			eot := 1 + co.trailersHTX()
			src.rhtx += eot - int64(co.tm.HeadLen)
			dst.whtx += eot - (segsLen(out) - int64(len(co.iov[0])) - int64(total))
			var err2 error
			if await {
				err2 = dst.sendAwaitv(out)
			} else {
				err2 = dst.sendv(out)
			}
			if err2 != nil {
				return &bodyErr{err: err2}
			}
			return nil
		}
		if total > 0 {
			out := co.frame(iov, total)
			dst.whtx -= segsLen(out) - int64(len(co.iov[0])) - int64(total)
			if err := dst.sendv(out); err != nil {
				return &bodyErr{err: err}
			}
			co.iov[0] = nil
		}
		if src.r < src.w {
			continue
		}
		src.r, src.w = 0, 0
		if err := src.fill(); err != nil {
			return srcErr(err)
		}
	}
}

// trailersHTX is what the trailers just parsed take in HAProxy's
// message: their names and values.
func (co *chunkOut) trailersHTX() int64 {
	var n int
	for _, h := range co.tm.Headers {
		n += h.Name.Len() + h.Value.Len()
	}
	return int64(n)
}

func segsLen(b [][]byte) int64 {
	var n int
	for _, s := range b {
		n += len(s)
	}
	return int64(n)
}

// frame puts the size line in front of the data runs of iov[2:] (iov[0]
// is the prefix, if any) and a CRLF after them.
func (co *chunkOut) frame(iov [][]byte, total int) [][]byte {
	i := len(co.hdr) - 2
	co.hdr[i], co.hdr[i+1] = '\r', '\n'
	for {
		i--
		co.hdr[i] = "0123456789ABCDEF"[total&0xF]
		total >>= 4
		if total == 0 {
			break
		}
	}
	iov[1] = co.hdr[i:]
	return append(iov, crlf)
}

// trailers reads the trailer section that starts at src.r, whole, and
// returns it normalised (nil when empty), consumed from src. Like a
// head, it must fit in maxTrailers bytes (tune.bufsize).
func (co *chunkOut) trailers(src *side, maxHdr, maxTrailers int) ([]byte, error) {
	for {
		err := h1.ParseTrailers(src.buf[src.r:src.w], &co.tm, maxHdr)
		if err == nil {
			break
		}
		if err != h1.ErrIncomplete || src.w-src.r >= maxTrailers {
			return nil, &bodyErr{src: true, framing: true, err: err}
		}
		src.compact()
		if err := src.fill(); err != nil {
			if err == errBufFull {
				return nil, &bodyErr{src: true, framing: true, err: err}
			}
			return nil, srcErr(err)
		}
	}
	if co.tm.HeadLen >= maxTrailers {
		return nil, &bodyErr{src: true, framing: true, err: errBadChunk}
	}
	t := src.buf[src.r:src.w]
	src.r += co.tm.HeadLen
	if len(co.tm.Headers) == 0 {
		return nil, nil
	}
	out := co.tbuf[:0]
	for _, h := range co.tm.Headers {
		out = h1.AppendLower(out, h.Name.Of(t))
		out = append(out, ": "...)
		out = append(out, h.Value.Of(t)...)
		out = append(out, "\r\n"...)
	}
	co.tbuf = out
	return out, nil
}
