package h2

import (
	"errors"

	"github.com/gohap/gohap/runtime/h1"
)

// How an outgoing HTTP/1.1 message body is read, as decided by the sink
// once it has the head.
const (
	bodyNone     = iota // message complete
	bodyLength          // Content-Length bytes
	bodyChunked         // chunked coding, then trailers
	bodyRaw             // everything until CloseWrite (close-delimited, tunnel)
	bodyNextHead        // an interim (1xx) response: another head follows
)

// Parser states.
const (
	sHead = iota
	sLength
	sChunkSize
	sChunkData
	sChunkCRLF
	sTrailers
	sRaw
	sDone
)

var (
	errAfterEnd   = errors.New("h2: data after the end of the message")
	errHeadTooBig = errors.New("h2: message head too large")
	errChunk      = errors.New("h2: invalid chunked body")
)

// outSink receives the parts of an HTTP/1.1 message written to a stream.
type outSink interface {
	// head is called with a parsed head (buf holds it) and says how the
	// body is delimited.
	head(buf []byte, m *h1.Msg) (int, error)
	// data is called with body bytes; end marks the last ones.
	data(p []byte, end bool) error
	// trailers ends a chunked body; m.Headers may be empty.
	trailers(buf []byte, m *h1.Msg) error
}

// h1Out parses an HTTP/1.1 message written in arbitrary pieces: the head
// and trailers are gathered in buf (bounded by limit), body bytes are
// passed through without copying.
type h1Out struct {
	state  uint8
	buf    []byte
	msg    h1.Msg
	remain int64
	limit  int
	// maxHdr is the most header (or trailer) fields: HAProxy encodes a
	// message into a list tune.http.maxhdr long, its last entry an end
	// mark.
	maxHdr int
}

func (o *h1Out) reset(limit, maxHdr int) {
	o.maxHdr = maxHdr
	o.state = sHead
	o.buf = o.buf[:0]
	o.remain = 0
	o.limit = limit
}

// done reports whether a whole message was written.
func (o *h1Out) done() bool { return o.state == sDone }

// write feeds p to the parser and the sink; bytes after the message's
// end are an error.
func (o *h1Out) write(p []byte, sink outSink, request bool) error {
	n, err := o.feed(p, sink, request)
	if err == nil && n < len(p) {
		err = errAfterEnd
	}
	return err
}

// feed feeds p to the parser and the sink up to the message's end and
// returns how many bytes it took.
func (o *h1Out) feed(p []byte, sink outSink, request bool) (int, error) {
	total := len(p)
	for len(p) > 0 {
		switch o.state {
		case sHead:
			n, whole, err := o.gather(p, true)
			p = p[n:]
			if err != nil || !whole {
				return total - len(p), err
			}
			var perr error
			if request {
				// The engine's own output: HTTP/2 values keep their
				// blanks, bytes its h2 layer let through pass.
				perr = h1.ParseOwnRequest(o.buf, &o.msg, o.maxHdr)
			} else {
				perr = h1.ParseOwnResponse(o.buf, &o.msg, o.maxHdr)
			}
			if perr != nil {
				return total - len(p), perr
			}
			kind, err := sink.head(o.buf, &o.msg)
			if err != nil {
				return total - len(p), err
			}
			o.begin(kind)
			if o.state == sLength && o.remain == 0 {
				o.state = sDone
				if err := sink.data(nil, true); err != nil {
					return total - len(p), err
				}
			}
		case sLength:
			n := len(p)
			if int64(n) > o.remain {
				n = int(o.remain)
			}
			o.remain -= int64(n)
			if o.remain == 0 {
				o.state = sDone
			}
			if err := sink.data(p[:n], o.remain == 0); err != nil {
				return total - len(p), err
			}
			p = p[n:]
		case sChunkSize:
			i := indexNL(p)
			if i < 0 {
				if len(o.buf)+len(p) > 1024 {
					return total - len(p), errChunk
				}
				o.buf = append(o.buf, p...)
				return total, nil
			}
			o.buf = append(o.buf, p[:i+1]...)
			p = p[i+1:]
			size, ok := parseChunkSize(o.buf)
			o.buf = o.buf[:0]
			if !ok {
				return total - len(p), errChunk
			}
			if size == 0 {
				o.state = sTrailers
			} else {
				o.state, o.remain = sChunkData, size
			}
		case sChunkData:
			n := len(p)
			if int64(n) > o.remain {
				n = int(o.remain)
			}
			o.remain -= int64(n)
			if o.remain == 0 {
				o.state = sChunkCRLF
			}
			if err := sink.data(p[:n], false); err != nil {
				return total - len(p), err
			}
			p = p[n:]
		case sChunkCRLF:
			// The CRLF after chunk data; a bare LF is tolerated.
			c := p[0]
			p = p[1:]
			if c == '\n' {
				o.state = sChunkSize
			} else if c != '\r' {
				return total - len(p), errChunk
			}
		case sTrailers:
			n, whole, err := o.gather(p, false)
			p = p[n:]
			if err != nil || !whole {
				return total - len(p), err
			}
			if perr := h1.ParseTrailers(o.buf, &o.msg, o.maxHdr); perr != nil {
				return total - len(p), perr
			}
			o.state = sDone
			if err := sink.trailers(o.buf, &o.msg); err != nil {
				return total - len(p), err
			}
		case sRaw:
			if err := sink.data(p, false); err != nil {
				return total - len(p), err
			}
			return total, nil
		case sDone:
			return total - len(p), nil
		}
	}
	return total, nil
}

// gather copies bytes of a head or trailer section from p into o.buf, up
// to and including its final empty line, and returns how many it took.
// whole says whether the section is complete.
func (o *h1Out) gather(p []byte, head bool) (int, bool, error) {
	start := len(o.buf)
	o.buf = append(o.buf, p...)
	from := start - 3
	if from < 0 {
		from = 0
	}
	end := sectionEnd(o.buf, from, head)
	if end == 0 {
		if len(o.buf) > o.limit {
			return len(p), false, errHeadTooBig
		}
		return len(p), false, nil
	}
	if end > o.limit {
		return 0, false, errHeadTooBig
	}
	o.buf = o.buf[:end]
	return end - start, true, nil
}

// sectionEnd returns the length of the head (or trailer section) at the
// start of b, or 0 when its empty line has not arrived. A trailer section
// may be empty, a head's leading empty lines are skipped as the parser
// does.
func sectionEnd(b []byte, from int, head bool) int {
	if head {
		return h1.HeadEnd(b, 0)
	}
	if len(b) >= 1 && b[0] == '\n' {
		return 1
	}
	if len(b) >= 2 && b[0] == '\r' && b[1] == '\n' {
		return 2
	}
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return 0
}

// parsed moves past a head the sink took from its caller (WriteParsed)
// as feed moves past one it parsed: kind is the sink's answer, length
// the head's Content-Length.
func (o *h1Out) parsed(kind int, length int64, sink outSink) error {
	o.msg.Length = length
	o.begin(kind)
	if o.state == sLength && o.remain == 0 {
		o.state = sDone
		return sink.data(nil, true)
	}
	return nil
}

func (o *h1Out) begin(kind int) {
	o.buf = o.buf[:0]
	switch kind {
	case bodyNone:
		o.state = sDone
	case bodyLength:
		o.state, o.remain = sLength, o.msg.Length
	case bodyChunked:
		o.state = sChunkSize
	case bodyRaw:
		o.state = sRaw
	case bodyNextHead:
		o.state = sHead
	}
}

func indexNL(p []byte) int {
	for i, c := range p {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// parseChunkSize parses a chunk size line ending in LF: hex digits, then
// optional blanks and extensions.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			goto rest
		}
		if n > 1<<59 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
rest:
	if i == 0 {
		return 0, false
	}
	for ; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\r' || c == '\n':
			return n, true
		case c == ';' || c == ' ' || c == '\t':
			for i < len(line) && line[i] != '\r' && line[i] != '\n' {
				i++
			}
			return n, i < len(line)
		default:
			return 0, false
		}
	}
	return 0, false
}
