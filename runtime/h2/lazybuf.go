package h2

import (
	"io"
	"sync"
	"sync/atomic"
)

// An idle HTTP/2 connection holds no buffer: lazyReader and lazyWriter
// take one from bufPool while bytes wait in it and give it back once it
// is empty, as HAProxy releases empty buffers.

const bufSize = 16 << 10

var bufPool = sync.Pool{New: func() any { return new([bufSize]byte) }}

// buffersHeld counts the buffers taken and not given back.
var buffersHeld atomic.Int64

func getBuf() *[bufSize]byte {
	buffersHeld.Add(1)
	return bufPool.Get().(*[bufSize]byte)
}

func putBuf(b *[bufSize]byte) {
	buffersHeld.Add(-1)
	bufPool.Put(b)
}

// lazyReader buffers reads from src. Once idle (nothing buffered, the
// connection waiting for its next frame), a read waits for the first
// bytes in small; a buffer is taken for what follows them.
type lazyReader struct {
	src    io.Reader
	buf    *[bufSize]byte
	r, w   int
	small  [64]byte
	sr, sw int // small[sr:sw] is unread
	// primed: bytes came since the last idle, the next read may take a
	// buffer.
	primed bool
	err    error
	// onPrime, when set, is called as the first bytes come after idle.
	onPrime func()
}

// clearErr forgets a read error that is not the connection's end (a
// deadline the reader set to park).
func (l *lazyReader) clearErr() { l.err = nil }

// Buffered is how many bytes can be read without reading src.
func (l *lazyReader) Buffered() int { return l.w - l.r + l.sw - l.sr }

// idle says the connection now waits for a frame: the buffer, empty,
// goes back, and the next read waits without one.
func (l *lazyReader) idle() {
	if l.Buffered() == 0 {
		l.release()
		l.primed = false
	}
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if l.sr < l.sw {
		n := copy(p, l.small[l.sr:l.sw])
		l.sr += n
		return n, nil
	}
	if l.r == l.w {
		if l.err != nil {
			return 0, l.err
		}
		if !l.primed {
			n, err := l.src.Read(l.small[:])
			if n == 0 {
				l.err = err
				return 0, err
			}
			l.sr, l.sw, l.err, l.primed = 0, n, err, true
			if l.onPrime != nil {
				l.onPrime()
			}
			return l.Read(p)
		}
		if len(p) >= bufSize {
			return l.src.Read(p)
		}
		if l.buf == nil {
			l.buf = getBuf()
		}
		n, err := l.src.Read(l.buf[:])
		l.r, l.w, l.err = 0, n, err
		if n == 0 {
			l.release()
			return 0, err
		}
	}
	n := copy(p, l.buf[l.r:l.w])
	l.r += n
	return n, nil
}

func (l *lazyReader) release() {
	if l.buf != nil {
		putBuf(l.buf)
		l.buf, l.r, l.w = nil, 0, 0
	}
}

// lazyWriter buffers writes to dst until Flush, which sends them and
// gives the buffer back.
type lazyWriter struct {
	dst io.Writer
	buf *[bufSize]byte
	n   int
	// out, when set, counts the bytes written to dst.
	out *atomic.Uint64
}

func (l *lazyWriter) write(p []byte) (int, error) {
	n, err := l.dst.Write(p)
	if l.out != nil {
		l.out.Add(uint64(n))
	}
	return n, err
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if l.buf == nil {
			if len(p) >= bufSize {
				n, err := l.write(p)
				return total + n, err
			}
			l.buf = getBuf()
		}
		if l.n == bufSize {
			if err := l.Flush(); err != nil {
				return total, err
			}
			continue
		}
		c := copy(l.buf[l.n:], p)
		l.n += c
		p = p[c:]
		total += c
	}
	return total, nil
}

func (l *lazyWriter) WriteString(s string) (int, error) { return l.Write([]byte(s)) }

// Flush sends what is buffered and gives the buffer back.
func (l *lazyWriter) Flush() error {
	if l.buf == nil {
		return nil
	}
	var err error
	if l.n > 0 {
		_, err = l.write(l.buf[:l.n])
	}
	putBuf(l.buf)
	l.buf, l.n = nil, 0
	return err
}
