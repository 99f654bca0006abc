package runtime

import "github.com/gohap/gohap/runtime/h1"

// "option logasap" (configuration.txt 4.2): the line of a stream goes out
// as soon as HAProxy has it, not when the stream ends.

// logASAP sends the line of an HTTP stream whose response head is in; the
// end of the stream then sends nothing more.
// bodyIn is how many bytes after the head were read with it.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) logASAP(status int, bodyIn int) {
	if l := s.fe.log; l == nil || !l.asap || !s.track {
		return
	}
	in := int64(bodyIn)
	if s.rsp.Body == h1.BodyLength {
		in = min(in, s.rsp.Length)
	}
	s.logStreamAt(0, status, true, in)
	s.noLog = true
}

// logASAP sends the line of a mode tcp stream once its server connection
// is established; the tunnel's end then sends nothing more.
func (te *tunnelEnd) logASAP() {
	if te.rec == nil || !te.l.fe.log.asap {
		return
	}
	te.logTCPAt(true)
	te.rec = nil
}
