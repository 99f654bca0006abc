package runtime

import (
	"bytes"
	"time"

	"github.com/gohap/gohap/runtime/h1"
)

// bufferBody waits, as "option http-buffer-request" asks, for the whole
// request body or a full buffer, at most until timeout http-request (or
// timeout client) runs out, and gives its data to the body fetches
// (req.body...). The body stays in the client buffer and is forwarded
// from there. done means the request was answered (408 when the time ran
// out) or the client left; keep then says whether the connection goes on.
func (s *session) bufferBody() (done, keep bool) {
	wait := s.fe.HTTPRequest
	if wait == 0 {
		wait = s.fe.Client
	}
	return s.waitBody(wait, 0)
}

// waitBody buffers the request body until it is whole, atLeast bytes of
// it are in (when not 0), or the buffer is full; when wait expires first
// the client gets a 408.
func (s *session) waitBody(wait time.Duration, atLeast int64) (done, keep bool) {
	cl, req, t := &s.cl, &s.req, &s.txn
	t.Body, t.BodyDone = nil, true
	if req.Body == h1.BodyNone {
		return false, false
	}
	if req.Expect100 && req.Minor == 1 {
		// HAProxy answers the expectation itself before it waits.
		if cl.send(continue100) != nil {
			return true, false
		}
		req.Expect100 = false
	}
	deadline := time.Now().Add(wait)
	for {
		data := cl.buf[cl.r:cl.w]
		whole, body, wire := bufferedBody(req, data, &s.bodyBuf)
		t.Body, t.BodyDone, s.bodyWire = body, whole, wire
		if whole || cl.w == len(cl.buf) || atLeast > 0 && int64(len(body)) >= atLeast {
			return false, false
		}
		if wait > 0 && !time.Now().Before(deadline) {
			return true, s.errorReply(408, false)
		}
		if wait > 0 {
			cl.c.SetReadDeadline(deadline)
		}
		n, err := cl.c.Read(cl.buf[cl.w:])
		cl.c.SetReadDeadline(time.Time{})
		cl.w += n
		if err != nil && n == 0 && !isTimeout(err) {
			// As in HAProxy, the stream goes on with what came (rules,
			// switching) and stops before it would connect.
			s.bodyAborted = true
			return false, false
		}
	}
}

var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// bufferedBody is the body data of data, the bytes after the head: for a
// chunked body its chunks' data, decoded into *dec. wire is the length of
// the whole message body on the wire when it is known to end there (a
// chunked body with trailers does not tell).
func bufferedBody(req *h1.Msg, data []byte, dec *[]byte) (whole bool, body []byte, wire int) {
	if req.Body == h1.BodyLength {
		if int64(len(data)) >= req.Length {
			return true, data[:req.Length], int(req.Length)
		}
		return false, data, 0
	}
	all := len(data)
	var cs chunkScanner
	out := (*dec)[:0]
	for len(data) > 0 {
		n, dlen, err := cs.next(data)
		if err != nil {
			break
		}
		out = append(out, data[n-dlen:n]...)
		data = data[n:]
		if cs.st == chTrailer {
			// Whole once the trailer section's empty line is in, as
			// HAProxy's end of message needs it.
			if end := trailersEnd(data); end > 0 {
				whole, wire = true, all-len(data)+end
			}
			break
		}
		if n == 0 {
			break
		}
	}
	*dec = out
	return whole, out, wire
}

// skipBufferedBody drops a request body buffered whole when the proxy
// answers the request itself, so that the connection can carry the next
// one, as HAProxy does; it reports whether the body is gone.
func (s *session) skipBufferedBody() bool {
	if s.bodyDone || s.req.Body == h1.BodyNone || s.req.Body == h1.BodyLength && s.req.Length == 0 {
		return true
	}
	if !s.txn.BodyDone {
		// Not waited for, but it may all be here already, as HAProxy
		// then holds the whole message.
		whole, _, wire := bufferedBody(&s.req, s.cl.buf[s.cl.r:s.cl.w], &s.bodyBuf)
		if !whole {
			return false
		}
		s.bodyWire = wire
	} else if s.bodyWire == 0 || s.cl.w-s.cl.r < s.bodyWire {
		return false
	}
	s.cl.r += s.bodyWire
	s.bodyDone = true
	return true
}

// waitResponseBody is http-response wait-for-body: it reads the response
// body until it is whole, atLeast bytes of it are in (when not 0), or the
// buffer is full; false when wait ran out first.
func (s *session) waitResponseBody(wait time.Duration, atLeast int64) bool {
	sv, rsp := &s.sv, &s.rsp
	if rsp.Body == h1.BodyNone {
		return true
	}
	deadline := time.Now().Add(wait)
	for {
		whole, body, _ := bufferedBody(rsp, sv.buf[s.rspHL:sv.w], &s.rspBodyBuf)
		if whole || sv.w == len(sv.buf) || atLeast > 0 && int64(len(body)) >= atLeast {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		sv.c.SetReadDeadline(deadline)
		n, err := sv.c.Read(sv.buf[sv.w:])
		sv.c.SetReadDeadline(time.Time{})
		sv.w += n
		if err != nil && n == 0 && !isTimeout(err) {
			// The server closed: what came is all there is.
			return true
		}
	}
}

// trailersEnd is the length of the trailer section that starts data, up
// to and including its empty line, or 0 when that line is not in yet.
func trailersEnd(data []byte) int {
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return 0
		}
		line := data[i : i+j]
		i += j + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return i
		}
	}
	return 0
}
