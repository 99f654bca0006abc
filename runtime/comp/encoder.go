package comp

import (
	"errors"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// DefaultLevel is HAProxy's default "tune.comp.maxlevel".
const DefaultLevel = 1

// gzipOSUnix is the OS byte zlib and libslz write in gzip headers.
const gzipOSUnix = 3

// sink appends what a compressor writes to the caller's buffer.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

type compressor interface {
	Write([]byte) (int, error)
	Flush() error
	Close() error
}

// Encoder compresses one response body at a time. It keeps its compressor
// state between responses, so a reused Encoder does not allocate. The zero
// value is not usable: get one from a Pool or NewEncoder.
type Encoder struct {
	algo  Algo
	level int
	out   sink
	w     compressor
	gz    *gzip.Writer
	zl    *zlib.Writer
	fl    *flate.Writer
}

var errNoAlgo = errors.New("comp: encoder used without an algorithm")

// NewEncoder returns an Encoder at a compression level from 0 (stored) to
// 9; HAProxy's libslz build only has 0 and 1, and any level above 0 acts
// as 1 there.
func NewEncoder(level int) *Encoder {
	return &Encoder{level: min(max(level, 0), 9)}
}

// Reset starts a new body compressed with a.
func (e *Encoder) Reset(a Algo) error {
	e.algo, e.w = a, nil
	var err error
	switch a {
	case Gzip:
		if e.gz == nil {
			e.gz, err = gzip.NewWriterLevel(&e.out, e.level)
		} else {
			e.gz.Reset(&e.out)
		}
		if e.gz != nil {
			e.gz.Header.OS = gzipOSUnix
			e.w = e.gz
		}
	case Deflate:
		if e.zl == nil {
			e.zl, err = zlib.NewWriterLevel(&e.out, e.level)
		} else {
			e.zl.Reset(&e.out)
		}
		e.w = e.zl
	case RawDeflate:
		if e.fl == nil {
			e.fl, err = flate.NewWriter(&e.out, e.level)
		} else {
			e.fl.Reset(&e.out)
		}
		e.w = e.fl
	case Identity:
	default:
		return errNoAlgo
	}
	return err
}

// Algo is the algorithm of the body in progress.
func (e *Encoder) Algo() Algo { return e.algo }

// run calls f on the compressor with output appended to dst.
func (e *Encoder) run(dst []byte, f func(compressor) error) ([]byte, error) {
	e.out.b = dst
	err := f(e.w)
	dst, e.out.b = e.out.b, nil
	return dst, err
}

// Write compresses p and appends the output produced so far to dst. Most
// of it stays buffered until Flush or Close.
func (e *Encoder) Write(dst, p []byte) ([]byte, error) {
	switch {
	case e.algo == Identity:
		return append(dst, p...), nil
	case e.w == nil:
		return dst, errNoAlgo
	}
	e.out.b = dst
	_, err := e.w.Write(p)
	dst, e.out.b = e.out.b, nil
	return dst, err
}

// Flush appends everything written so far to dst, ending on a byte
// boundary (a sync flush), as HAProxy does after each data block.
func (e *Encoder) Flush(dst []byte) ([]byte, error) {
	switch {
	case e.algo == Identity:
		return dst, nil
	case e.w == nil:
		return dst, errNoAlgo
	}
	return e.run(dst, flushCompressor)
}

// Close appends the end of the stream (final block and trailer) to dst.
func (e *Encoder) Close(dst []byte) ([]byte, error) {
	switch {
	case e.algo == Identity:
		return dst, nil
	case e.w == nil:
		return dst, errNoAlgo
	}
	dst, err := e.run(dst, closeCompressor)
	e.w = nil
	return dst, err
}

func flushCompressor(w compressor) error { return w.Flush() }
func closeCompressor(w compressor) error { return w.Close() }

// Pool hands out Encoders at one level. Each algorithm has its own pool so
// a reused Encoder has its compressor state ready.
type Pool struct {
	level int
	pools [Gzip + 1]sync.Pool
}

// NewPool returns a Pool of Encoders at level ("tune.comp.maxlevel",
// DefaultLevel when not set).
func NewPool(level int) *Pool { return &Pool{level: level} }

// Get returns an Encoder reset for a.
func (p *Pool) Get(a Algo) (*Encoder, error) {
	if a > Gzip {
		return nil, errNoAlgo
	}
	e, _ := p.pools[a].Get().(*Encoder)
	if e == nil {
		e = NewEncoder(p.level)
	}
	return e, e.Reset(a)
}

// Put gives e back for reuse.
func (p *Pool) Put(e *Encoder) {
	if e == nil || e.algo > Gzip {
		return
	}
	p.pools[e.algo].Put(e)
}
