package h2

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// HAProxy's defaults for the tune.h2.* keywords (configuration.txt 3.2)
// and tune.bufsize, which bounds a frame and a header list.
const (
	DefaultHeaderTableSize      = 4096
	DefaultInitialWindowSize    = 65535
	DefaultMaxConcurrentStreams = 100
	DefaultMaxFrameSize         = 16384
	DefaultBufSize              = 16384
	// NoStreamLimit as Config.MaxConcurrentStreams is what
	// "tune.h2.max-concurrent-streams 0" means: no limit.
	NoStreamLimit = -1
)

// Config holds the HTTP/2 settings of a connection. The zero value (and
// a nil *Config) gives HAProxy's defaults.
type Config struct {
	// HeaderTableSize is tune.h2.header-table-size: the HPACK dynamic
	// table size we let the peer use. 0 means 4096.
	HeaderTableSize uint32
	// InitialWindowSize is tune.h2.initial-window-size: how much request
	// (or response, client side) body a stream may send before a window
	// update. 0 means 65535.
	InitialWindowSize uint32
	// MaxConcurrentStreams is tune.h2.max-concurrent-streams: streams
	// over it are refused with RST_STREAM REFUSED_STREAM. 0 means 100,
	// NoStreamLimit no limit. Client side it caps the server's value.
	MaxConcurrentStreams int
	// MaxFrameSize is tune.h2.max-frame-size, never above BufSize. 0
	// means BufSize.
	MaxFrameSize uint32
	// NoExtConnect leaves SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
	// out of the settings sent (h2-workaround-bogus-websocket-clients).
	NoExtConnect bool
	// BufSize is tune.bufsize: the largest frame and header block
	// accepted. 0 means 16384.
	BufSize int
	// MaxHeaderFields is twice tune.http.maxhdr: HAProxy decodes a
	// header block into a list that long, its last entry an end mark,
	// and refuses a block with more fields (pseudo-headers included)
	// with COMPRESSION_ERROR. It does not apply maxhdr itself to
	// HTTP/2 received; a message sent may have maxhdr less one header
	// fields. 0 means 2 * 101.
	MaxHeaderFields int
	// IdleTimeout closes a connection (GOAWAY NO_ERROR) that has had no
	// active stream for that long since its last one, like HAProxy's
	// timeout http-keep-alive/client on an idle H2 connection;
	// FirstIdleTimeout is that before the first stream (timeout
	// http-request/client). 0 disables them.
	IdleTimeout, FirstIdleTimeout time.Duration
	// BytesOut, when set, counts the bytes written to the connection.
	BytesOut *atomic.Uint64
	// Counters, when set, counts a client connection: its backend's h2
	// module counters (a server connection takes SetCounters).
	Counters *Counters
	// Preread holds bytes already read from the connection, such as an
	// h2c preface sniffed on a plain bind (see IsPreface). They are
	// read before the connection's own bytes.
	Preread []byte
	// BadRequest, when set, is called in its own goroutine instead of
	// the serve function for a request HAProxy's HTTP layer answers with
	// 400 (a method that is not a token, an invalid scheme, spaces or
	// control characters in the target). It may write its own error
	// page and log. Nil writes HAProxy's default 400 page.
	BadRequest func(st *Stream)
}

// settings is a Config with defaults applied.
type settings struct {
	headerTable uint32
	window      uint32
	maxStreams  int // <0: no limit
	frameSize   uint32
	bufSize     int
	idle        time.Duration
	firstIdle   time.Duration
	// noExtConnect is Config.NoExtConnect.
	noExtConnect bool
	// maxFields is the most fields a header block may decode to;
	// outFields the most header fields a message sent may have.
	maxFields, outFields int
}

var errConfig = errors.New("h2: invalid config")

func (c *Config) settings() (settings, error) {
	s := settings{
		headerTable: DefaultHeaderTableSize,
		window:      DefaultInitialWindowSize,
		maxStreams:  DefaultMaxConcurrentStreams,
		bufSize:     DefaultBufSize,
		maxFields:   2*101 - 1,
		outFields:   101 - 1,
	}
	if c == nil {
		s.frameSize = DefaultMaxFrameSize
		return s, nil
	}
	if c.HeaderTableSize != 0 {
		if c.HeaderTableSize > 65536 {
			return s, fmt.Errorf("%w: header table size %d above 65536", errConfig, c.HeaderTableSize)
		}
		s.headerTable = c.HeaderTableSize
	}
	if c.InitialWindowSize != 0 {
		if c.InitialWindowSize > 1<<31-1 {
			return s, fmt.Errorf("%w: initial window size %d above 2^31-1", errConfig, c.InitialWindowSize)
		}
		s.window = c.InitialWindowSize
	}
	switch {
	case c.MaxConcurrentStreams < 0:
		s.maxStreams = -1
	case c.MaxConcurrentStreams > 0:
		s.maxStreams = c.MaxConcurrentStreams
	}
	if c.BufSize > 0 {
		if c.BufSize < 1024 || c.BufSize > 1<<24-1 {
			return s, fmt.Errorf("%w: buffer size %d out of range", errConfig, c.BufSize)
		}
		s.bufSize = c.BufSize
	}
	s.frameSize = c.MaxFrameSize
	if s.frameSize == 0 || int(s.frameSize) > s.bufSize {
		s.frameSize = uint32(s.bufSize)
	}
	if s.frameSize < 16384 {
		// RFC 9113 6.5.2: the smallest maximum frame size.
		s.frameSize = 16384
	}
	s.idle, s.firstIdle = c.IdleTimeout, c.FirstIdleTimeout
	s.noExtConnect = c.NoExtConnect
	if c.MaxHeaderFields > 1 {
		s.maxFields = c.MaxHeaderFields - 1
		s.outFields = c.MaxHeaderFields/2 - 1
	}
	return s, nil
}
