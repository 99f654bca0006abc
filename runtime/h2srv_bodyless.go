package runtime

import (
	"errors"

	"github.com/gohap/gohap/runtime/h1"
)

// skipBody reads and drops the body of a response to a request that was
// a HEAD for the client but went out with another method (set-method):
// as HAProxy's muxes, the server side frames the response by the method
// it sent, the client side by the one it received.
func skipBody(sv *side, rsp *h1.Msg, co *chunkOut, maxHdr, bufLimit int) error {
	switch rsp.Body {
	case h1.BodyLength:
		n := rsp.Length
		for {
			avail := int64(sv.w - sv.r)
			if avail > n {
				avail = n
			}
			sv.r += int(avail)
			n -= avail
			if n == 0 {
				return nil
			}
			sv.r, sv.w = 0, 0
			if err := sv.fill(); err != nil {
				return srcErr(err)
			}
		}
	case h1.BodyChunked:
		co.cs = chunkScanner{}
		for {
			for sv.r < sv.w && co.cs.st != chTrailer {
				n, _, err := co.cs.next(sv.buf[sv.r:sv.w])
				if err != nil {
					return &bodyErr{src: true, framing: true, err: err}
				}
				sv.r += n
			}
			if co.cs.st == chTrailer {
				_, err := co.trailers(sv, maxHdr, bufLimit)
				return err
			}
			sv.r, sv.w = 0, 0
			if err := sv.fill(); err != nil {
				return srcErr(err)
			}
		}
	case h1.BodyUntilClose:
		return errSkipUntilClose
	}
	return nil
}

// errSkipUntilClose: a close-delimited body ends with its connection.
var errSkipUntilClose = &bodyErr{src: true, err: errors.New("body until close")}

// serverKept tells whether the server connection can carry another
// request after this response. A response to HEAD has no body whatever
// its framing says.
func serverKept(mode int, rsp *h1.Msg, bodyDone, isHead bool, sv *side) bool {
	untilClose := rsp.Body == h1.BodyUntilClose && !isHead
	return mode == modeKeepAlive && rsp.KeepAlive() && !untilClose && !(rsp.HasTE && rsp.HasCL) && bodyDone && sv.r == sv.w
}

// detachServer ends a stream's use of its server connection before the
// client sees the end of a bodyless response: HAProxy detaches the
// stream from the connection then, so that the client's next stream, or
// another client, finds it idle.
func (s *session) detachServer(mode int, rsp *h1.Msg, bodyDone, isHead, stays bool) {
	if s.sv.c == nil || !serverKept(mode, rsp, bodyDone, isHead, &s.sv) {
		return
	}
	s.svClean = true
	s.releaseServerAs(!s.FirstRequest(), stays)
}
