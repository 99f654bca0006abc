package runtime

import (
	"errors"
	"io"
	"net"
	"os"
	goruntime "runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const bufSize = 16384

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// side is one connection with its read buffer: unconsumed data is
// buf[r:w].
type side struct {
	c *net.TCPConn
	// rc is c's raw connection, read through fill's readFn, which
	// tells a read that had to wait for readiness.
	rc        syscall.RawConn
	readFn    func(fd uintptr) bool
	rn, calls int
	rerr      error
	// wb, writeFn, wArmed, sendErr: send's state.
	wb      []byte
	writeFn func(fd uintptr) bool
	wArmed  bool
	sendErr error
	// out, outErr: sendAwait's write and its error; pending is the read
	// error it met, for the next fill.
	out     []byte
	outErr  error
	pending error
	// order and sess put a session that waited back in ready order.
	order   *readyOrder
	sess    *session
	buf     []byte
	r, w    int
	timeout time.Duration // inactivity timeout for reads, 0 for none
	wto     time.Duration // inactivity timeout for writes
	// read counts the bytes read since the last reset, to tell an
	// empty connection from a started message.
	read int64
}

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

// readWait reads once through the connection's readiness wait, first
// writing out when given. A read after a wait takes the session's turn
// in ready order (see readyOrder). It returns the wait's own error.
func (s *side) readWait(out []byte) error {
	if err := s.raw(); err != nil {
		return err
	}
	if s.readFn == nil {
		s.readFn = s.rawRead
	}
	s.calls, s.rn, s.rerr, s.outErr = 0, 0, nil, nil
	s.out = out
	err := s.rc.Read(s.readFn)
	s.out = nil
	s.w += s.rn
	s.read += int64(s.rn)
	return err
}

func (s *side) rawRead(fd uintptr) bool {
	s.calls++
	if s.calls == 1 && s.out != nil {
		s.outErr = s.send(s.out)
		return s.outErr != nil
	}
	if s.calls == 2 && s.order != nil {
		s.order.wait(s.sess)
	}
	n, err := rawRead(int(fd), s.buf[s.w:])
	if err == unix.EAGAIN {
		return false
	}
	s.rn, s.rerr = n, err
	return true
}

// send writes b whole, with the side's write timeout armed only when
// the socket is full, as HAProxy does: the writes that complete at once,
// nearly all of them, set no deadline. A deadline it armed is cleared
// after, so none is left for the next write.
func (s *side) send(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := s.raw(); err != nil {
		return err
	}
	if s.writeFn == nil {
		s.writeFn = s.rawWrite
	}
	s.wb, s.wArmed, s.sendErr = b, false, nil
	err := s.rc.Write(s.writeFn)
	s.wb = nil
	if s.wArmed {
		s.c.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		return err
	}
	return s.sendErr
}

func (s *side) rawWrite(fd uintptr) bool {
	for len(s.wb) > 0 {
		n, err := unix.Write(int(fd), s.wb)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			// Full: the timeout runs from here, and from each
			// progress after.
			if s.wto > 0 {
				s.c.SetWriteDeadline(time.Now().Add(s.wto))
				s.wArmed = true
			}
			return false
		case err != nil:
			s.sendErr = err
			return true
		}
		s.wb = s.wb[n:]
	}
	return true
}

// raw gets the connection's RawConn once.
func (s *side) raw() error {
	if s.rc != nil {
		return nil
	}
	rc, err := s.c.SyscallConn()
	s.rc = rc
	return err
}

// readErr is the error of a read that returned nothing.
func (s *side) readErr() error {
	if s.rerr != nil {
		return s.rerr
	}
	return io.EOF
}

// setConn gives the side a connection, with its raw connection if known.
func (s *side) setConn(c *net.TCPConn, rc syscall.RawConn) {
	s.c, s.rc, s.pending = c, rc, nil
}

// sendAwait writes a whole request to the server and reads the first
// of the answer once the server's socket reports it, without the read
// that would fail with EAGAIN first: the write happens inside the
// readiness wait, so the answer's readiness event cannot be missed. It
// returns the write's error; a read error is left for fill.
func (s *side) sendAwait(out []byte) error {
	s.compact()
	if s.timeout > 0 {
		s.c.SetReadDeadline(time.Now().Add(s.timeout))
	}
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
func copyLength(src, dst *side, n int64) error {
	for {
		avail := int64(src.w - src.r)
		if avail > n {
			avail = n
		}
		if avail > 0 {
			if err := dst.send(src.buf[src.r : src.r+int(avail)]); err != nil {
				return &bodyErr{err: err}
			}
			src.r += int(avail)
			n -= avail
		}
		if n == 0 {
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
	chTrailerLine
	chEndLF
)

var errBadChunk = errors.New("invalid chunked body")

// chunkScanner validates a chunked body as it streams so that it can be
// forwarded byte for byte: a message's end is found exactly where the
// next hop will find it, which is what defeats request smuggling.
type chunkScanner struct {
	st     uint8
	digits uint8
	size   uint64
}

// scan consumes bytes of b; done is set at the end of the body, n is the
// number of bytes that belong to the body.
func (cs *chunkScanner) scan(b []byte) (n int, done bool, err error) {
	i := 0
	for i < len(b) {
		c := b[i]
		switch cs.st {
		case chSize:
			v, ok := hexVal(c)
			switch {
			case ok:
				if cs.digits == 15 {
					return i, false, errBadChunk
				}
				cs.size = cs.size<<4 | uint64(v)
				cs.digits++
			case cs.digits == 0:
				return i, false, errBadChunk
			case c == ' ' || c == '\t':
				cs.st = chSizeWS
			case c == ';':
				cs.st = chExt
			case c == '\r':
				cs.st = chSizeLF
			case c == '\n':
				cs.endSizeLine()
			default:
				return i, false, errBadChunk
			}
		case chSizeWS:
			switch c {
			case ' ', '\t':
			case ';':
				cs.st = chExt
			case '\r':
				cs.st = chSizeLF
			case '\n':
				cs.endSizeLine()
			default:
				return i, false, errBadChunk
			}
		case chExt:
			if c == '\r' {
				cs.st = chSizeLF
			} else if c == '\n' {
				cs.endSizeLine()
			} else if c < ' ' && c != '\t' {
				return i, false, errBadChunk
			}
		case chSizeLF:
			if c != '\n' {
				return i, false, errBadChunk
			}
			cs.endSizeLine()
		case chData:
			k := uint64(len(b) - i)
			if k > cs.size {
				k = cs.size
			}
			i += int(k)
			cs.size -= k
			if cs.size == 0 {
				cs.st = chDataCR
			}
			continue
		case chDataCR:
			if c == '\r' {
				cs.st = chDataLF
			} else if c == '\n' {
				cs.st = chSize
			} else {
				return i, false, errBadChunk
			}
		case chDataLF:
			if c != '\n' {
				return i, false, errBadChunk
			}
			cs.st = chSize
		case chTrailer:
			switch c {
			case '\r':
				cs.st = chEndLF
			case '\n':
				*cs = chunkScanner{}
				return i + 1, true, nil
			default:
				cs.st = chTrailerLine
			}
		case chTrailerLine:
			if c == '\n' {
				cs.st = chTrailer
			}
		case chEndLF:
			if c != '\n' {
				return i, false, errBadChunk
			}
			*cs = chunkScanner{}
			return i + 1, true, nil
		}
		i++
	}
	return i, false, nil
}

func (cs *chunkScanner) endSizeLine() {
	cs.digits = 0
	if cs.size == 0 {
		cs.st = chTrailer
	} else {
		cs.st = chData
	}
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

// copyChunked forwards a chunked body, validated, byte for byte.
func copyChunked(src, dst *side) error {
	var cs chunkScanner
	for {
		n, done, err := cs.scan(src.buf[src.r:src.w])
		if n > 0 {
			if werr := dst.send(src.buf[src.r : src.r+n]); werr != nil {
				return &bodyErr{err: werr}
			}
			src.r += n
		}
		if err != nil {
			return &bodyErr{src: true, framing: true, err: err}
		}
		if done {
			return nil
		}
		src.r, src.w = 0, 0
		if err := src.fill(); err != nil {
			return srcErr(err)
		}
	}
}
