// Package fcgi encodes and decodes FastCGI records (FastCGI 1.0
// specification; HAProxy's src/fcgi.c): the client side of a responder
// exchange. It allocates nothing once its buffers are warm.
package fcgi

import (
	"encoding/binary"
	"errors"
	"io"
)

// Version is the only protocol version (FCGI_VERSION_1).
const Version = 1

// HeaderSize is the size of a record header.
const HeaderSize = 8

// MaxContent is the largest content of one record.
const MaxContent = 65535

// Record types.
const (
	TypeBeginRequest    = 1
	TypeAbortRequest    = 2
	TypeEndRequest      = 3
	TypeParams          = 4
	TypeStdin           = 5
	TypeStdout          = 6
	TypeStderr          = 7
	TypeData            = 8
	TypeGetValues       = 9
	TypeGetValuesResult = 10
	TypeUnknownType     = 11
)

// RoleResponder is the only role HAProxy plays.
const RoleResponder = 1

// FlagKeepConn asks the application to keep the connection after the
// request (BEGIN_REQUEST flags).
const FlagKeepConn = 1

// Protocol statuses of END_REQUEST.
const (
	RequestComplete = 0
	CantMpxConn     = 1
	Overloaded      = 2
	UnknownRole     = 3
)

// Header is a record header.
type Header struct {
	Version uint8
	Type    uint8
	ID      uint16
	Length  uint16
	Padding uint8
}

// ParseHeader decodes the record header at the start of b; ok is false
// when b is shorter than a header.
func ParseHeader(b []byte) (h Header, ok bool) {
	if len(b) < HeaderSize {
		return h, false
	}
	return Header{Version: b[0], Type: b[1], ID: binary.BigEndian.Uint16(b[2:]), Length: binary.BigEndian.Uint16(b[4:]), Padding: b[6]}, true
}

// AppendHeader appends a record header.
func AppendHeader(dst []byte, typ uint8, id uint16, length int, padding uint8) []byte {
	return append(dst, Version, typ, byte(id>>8), byte(id), byte(length>>8), byte(length), padding, 0)
}

// AppendBeginRequest appends a BEGIN_REQUEST record.
func AppendBeginRequest(dst []byte, id uint16, role uint16, flags uint8) []byte {
	dst = AppendHeader(dst, TypeBeginRequest, id, 8, 0)
	return append(dst, byte(role>>8), byte(role), flags, 0, 0, 0, 0, 0)
}

// AppendStream appends data as records of typ, split at MaxContent; an
// empty data appends the empty record that ends the stream.
func AppendStream(dst []byte, typ uint8, id uint16, data []byte) []byte {
	for {
		n := len(data)
		if n > MaxContent {
			n = MaxContent
		}
		dst = AppendHeader(dst, typ, id, n, 0)
		dst = append(dst, data[:n]...)
		data = data[n:]
		if len(data) == 0 {
			return dst
		}
	}
}

// AppendLength appends a name or value length: one byte below 128,
// else four bytes with the high bit set.
func AppendLength(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return append(dst, byte(n>>24)|0x80, byte(n>>16), byte(n>>8), byte(n))
}

// AppendParam appends a name-value pair. The name is written as HAProxy
// writes it (fcgi_encode_param): letters in upper case, each byte that
// is not alphanumeric as '_'.
func AppendParam(dst []byte, name, value string) []byte {
	dst = AppendLength(dst, len(name))
	dst = AppendLength(dst, len(value))
	for i := 0; i < len(name); i++ {
		dst = append(dst, paramChar(name[i]))
	}
	return append(dst, value...)
}

// AppendParamJoin is AppendParam for a value made of a and b.
func AppendParamJoin(dst []byte, name string, a, b []byte) []byte {
	dst = AppendLength(dst, len(name))
	dst = AppendLength(dst, len(a)+len(b))
	for i := 0; i < len(name); i++ {
		dst = append(dst, paramChar(name[i]))
	}
	return append(append(dst, a...), b...)
}

// AppendParamBytes is AppendParam for a value in bytes, with a prefix
// written before the name ("HTTP_").
func AppendParamBytes(dst []byte, prefix string, name, value []byte) []byte {
	dst = AppendLength(dst, len(prefix)+len(name))
	dst = AppendLength(dst, len(value))
	dst = append(dst, prefix...)
	for _, c := range name {
		dst = append(dst, paramChar(c))
	}
	return append(dst, value...)
}

func paramChar(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 32
	case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return c
	}
	return '_'
}

// ErrShort is a name-value pair cut by the end of its record.
var ErrShort = errors.New("fcgi: truncated name-value pair")

func readLength(b []byte) (n, used int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0]&0x80 == 0 {
		return int(b[0]), 1, true
	}
	if len(b) < 4 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(b) & 0x7fffffff), 4, true
}

// NextParam decodes the name-value pair at the start of b and returns
// the rest.
func NextParam(b []byte) (name, value, rest []byte, err error) {
	nl, u1, ok := readLength(b)
	if !ok {
		return nil, nil, nil, ErrShort
	}
	vl, u2, ok := readLength(b[u1:])
	if !ok {
		return nil, nil, nil, ErrShort
	}
	b = b[u1+u2:]
	if nl > len(b) || vl > len(b)-nl {
		return nil, nil, nil, ErrShort
	}
	return b[:nl], b[nl : nl+vl], b[nl+vl:], nil
}

// EndRequest is the content of an END_REQUEST record.
type EndRequest struct {
	AppStatus      uint32
	ProtocolStatus uint8
}

// ParseEndRequest decodes an END_REQUEST record's content.
func ParseEndRequest(b []byte) (EndRequest, bool) {
	if len(b) < 8 {
		return EndRequest{}, false
	}
	return EndRequest{AppStatus: binary.BigEndian.Uint32(b), ProtocolStatus: b[4]}, true
}

// Reader reads whole records from a connection into one buffer it
// keeps.
type Reader struct {
	r   io.Reader
	buf []byte
	// r0 and w are the unread part of buf.
	r0, w int
}

// NewReader reads records from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 0, 16384)}
}

// ErrVersion is a record of another protocol version.
var ErrVersion = errors.New("fcgi: unsupported record version")

// Next returns the next record; its content stays valid until the next
// call. An EOF between records is io.EOF, inside one
// io.ErrUnexpectedEOF.
func (r *Reader) Next() (Header, []byte, error) {
	if err := r.fill(HeaderSize); err != nil {
		return Header{}, nil, err
	}
	h, _ := ParseHeader(r.buf[r.r0:r.w])
	if h.Version != Version {
		return h, nil, ErrVersion
	}
	total := HeaderSize + int(h.Length) + int(h.Padding)
	if err := r.fill(total); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	content := r.buf[r.r0+HeaderSize : r.r0+HeaderSize+int(h.Length)]
	r.r0 += total
	return h, content, nil
}

// Buffered tells whether a whole record is already read.
func (r *Reader) Buffered() bool {
	h, ok := ParseHeader(r.buf[r.r0:r.w])
	return ok && r.w-r.r0 >= HeaderSize+int(h.Length)+int(h.Padding)
}

// fill makes n bytes available from r.r0.
func (r *Reader) fill(n int) error {
	if r.w-r.r0 >= n {
		return nil
	}
	if r.r0 > 0 {
		r.w = copy(r.buf[:cap(r.buf)], r.buf[r.r0:r.w])
		r.r0 = 0
	}
	if cap(r.buf) < n {
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb[:0]
	}
	b := r.buf[:cap(r.buf)]
	for r.w < n {
		m, err := r.r.Read(b[r.w:])
		r.w += m
		if r.w >= n {
			break
		}
		if err != nil {
			if err == io.EOF && r.w > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	r.buf = b
	return nil
}
