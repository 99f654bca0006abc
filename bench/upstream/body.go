package main

import (
	"bytes"
	"net"
	"strconv"

	"github.com/gohap/gohap/examples/echo"
)

// The body server reads every request's body, framed by Content-Length or
// by the chunked transfer coding, before it answers. It is strict (CRLF
// line ends, hex chunk sizes, optional ";ext"), so that a proxy that
// re-frames a body wrongly gets a 400 and a close, and it allocates
// nothing per request.
//
//	GET /chunked...      a 4 KiB chunked response (chunkedResponse)
//	... ?len=N           400 unless the body held exactly N bytes
//	anything else        echo.FixedResponse

var (
	badResponse = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

	chunkedResponse = func() []byte {
		b := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
		for _, n := range []int{1460, 1000, 1000, 636} {
			b = strconv.AppendInt(b, int64(n), 16)
			b = append(b, "\r\n"...)
			b = append(b, bytes.Repeat([]byte{'y'}, n)...)
			b = append(b, "\r\n"...)
		}
		return append(b, "0\r\n\r\n"...)
	}()
)

func startBody(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveBody(c)
		}
	}()
	return ln, nil
}

// reader is a buffered connection reader with a fixed buffer.
type reader struct {
	c    net.Conn
	buf  []byte
	r, w int
}

// fill reads more bytes, moving the unread ones to the front first.
func (rd *reader) fill() bool {
	if rd.r > 0 {
		rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r = 0
	}
	if rd.w == len(rd.buf) {
		return false
	}
	n, err := rd.c.Read(rd.buf[rd.w:])
	rd.w += n
	return err == nil || n > 0
}

// line returns the next line without its CRLF; a bare LF is an error.
func (rd *reader) line() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(rd.buf[rd.r:rd.w], '\n'); i >= 0 {
			l := rd.buf[rd.r : rd.r+i]
			rd.r += i + 1
			if len(l) == 0 || l[len(l)-1] != '\r' {
				return nil, false
			}
			return l[:len(l)-1], true
		}
		if !rd.fill() {
			return nil, false
		}
	}
}

// skip discards n bytes.
func (rd *reader) skip(n int64) bool {
	for {
		avail := int64(rd.w - rd.r)
		if avail >= n {
			rd.r += int(n)
			return true
		}
		n -= avail
		rd.r, rd.w = 0, 0
		if !rd.fill() {
			return false
		}
	}
}

// chunked reads a chunked body and returns its data length.
func (rd *reader) chunked() (int64, bool) {
	var total int64
	for {
		l, ok := rd.line()
		if !ok {
			return 0, false
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		size, ok := parseHex(l)
		if !ok {
			return 0, false
		}
		if size == 0 {
			for { // trailers up to the empty line
				t, ok := rd.line()
				if !ok {
					return 0, false
				}
				if len(t) == 0 {
					return total, true
				}
			}
		}
		if !rd.skip(size) {
			return 0, false
		}
		if l, ok := rd.line(); !ok || len(l) != 0 {
			return 0, false
		}
		total += size
	}
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

func parseDec(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

var (
	hdrCL      = []byte("content-length")
	hdrTE      = []byte("transfer-encoding")
	tokChunked = []byte("chunked")
	pathChunk  = []byte("/chunked")
	argLen     = []byte("len=")
)

func serveBody(c net.Conn) {
	defer c.Close()
	rd := &reader{c: c, buf: make([]byte, 64<<10)}
	for {
		reqLine, ok := rd.line()
		if !ok {
			return
		}
		// The request line's target, between the first two spaces, is read
		// before the headers: reading them may move the buffer.
		target := reqLine
		if i := bytes.IndexByte(target, ' '); i >= 0 {
			target = target[i+1:]
		}
		if i := bytes.IndexByte(target, ' '); i >= 0 {
			target = target[:i]
		}
		chunkedResp := bytes.HasPrefix(target, pathChunk)
		want := int64(-1)
		if i := bytes.Index(target, argLen); i >= 0 {
			v := target[i+len(argLen):]
			if j := bytes.IndexByte(v, '&'); j >= 0 {
				v = v[:j]
			}
			if want, ok = parseDec(v); !ok {
				want = -2 // never matches
			}
		}
		cl, te := int64(-1), false
		for {
			h, ok := rd.line()
			if !ok {
				return
			}
			if len(h) == 0 {
				break
			}
			i := bytes.IndexByte(h, ':')
			if i < 0 {
				c.Write(badResponse)
				return
			}
			name, val := h[:i], bytes.TrimSpace(h[i+1:])
			switch {
			case bytes.EqualFold(name, hdrCL):
				if cl, ok = parseDec(val); !ok {
					c.Write(badResponse)
					return
				}
			case bytes.EqualFold(name, hdrTE):
				te = bytes.EqualFold(val, tokChunked)
				if !te {
					c.Write(badResponse)
					return
				}
			}
		}
		var got int64
		switch {
		case te && cl >= 0:
			c.Write(badResponse)
			return
		case te:
			if got, ok = rd.chunked(); !ok {
				c.Write(badResponse)
				return
			}
		case cl > 0:
			if !rd.skip(cl) {
				return
			}
			got = cl
		}
		if want != -1 && got != want {
			c.Write(badResponse)
			return
		}
		resp := echo.FixedResponse
		if chunkedResp {
			resp = chunkedResponse
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}
