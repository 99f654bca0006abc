package comp

import (
	"github.com/gohap/gohap/runtime/h1"
)

// Op is what an Edit does to the response head.
type Op uint8

// Edit operations.
const (
	// Add appends the header Name: Value.
	Add Op = iota
	// Remove deletes every header Name.
	Remove
	// Prefix puts Value in front of the value of the first header Name.
	Prefix
)

// Edit is one change to a response head. Names are lower case, as HAProxy
// writes the headers it adds.
type Edit struct {
	Op          Op
	Name, Value string
}

// Edits is the list of changes to apply, in order, to a response head that
// is going to be compressed. Its zero value is empty.
type Edits struct {
	n int
	e [5]Edit
}

// List returns the edits in the order HAProxy makes them.
func (e *Edits) List() []Edit { return e.e[:e.n] }

func (e *Edits) add(op Op, name, value string) {
	e.e[e.n] = Edit{op, name, value}
	e.n++
}

// SelectResponse decides, as select_compression_response_header does,
// whether the response of a request for which SelectRequest chose a is
// compressed, and returns the head changes of set_compression_response_header,
// in its order: Content-Length removed, chunked Transfer-Encoding, a strong
// ETag made weak, Vary: Accept-Encoding, Content-Encoding (not for identity).
func (c *Config) SelectResponse(a Algo, req *Request, rsp *Response, lim Limits) (Edits, bool) {
	var e Edits
	if a == None || !rsp.HTTP11 || !req.HTTP11 || req.Head {
		return e, false
	}
	if rsp.Status < 200 || rsp.Status > 203 || !rsp.KnownLength || rsp.Bodyless {
		return e, false
	}
	buf := rsp.Buf
	etags := 0
	var etag []byte
	for _, h := range rsp.Headers {
		name := h.Name.Of(buf)
		switch {
		case h1.EqualFold(name, "content-encoding"):
			return e, false
		case h1.EqualFold(name, "cache-control"):
			if hasElement(h.Value.Of(buf), "no-transform") {
				return e, false
			}
		case h1.EqualFold(name, "etag"):
			if etags++; etags == 1 {
				etag = trimLWS(h.Value.Of(buf))
			}
		}
	}
	if etags > 1 || (etags == 1 && !validETag(etag)) {
		return e, false
	}
	if !c.typeAllowed(buf, rsp.Headers) {
		return e, false
	}
	if lim.RateExceeded || lim.CPUBusy {
		return e, false
	}
	if rsp.ContentLength {
		e.add(Remove, "content-length", "")
	}
	if !rsp.Chunked {
		e.add(Add, "transfer-encoding", "chunked")
	}
	if etags == 1 && etag[0] == '"' {
		e.add(Prefix, "etag", "W/")
	}
	e.add(Add, "vary", "Accept-Encoding")
	// HAProxy 2.6.12 adds Content-Encoding last.
	if a != Identity {
		e.add(Add, "content-encoding", a.Token())
	}
	return e, true
}

// validETag is http_get_etag_type != ETAG_INVALID: "..." or W/"...".
func validETag(v []byte) bool {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return false
	}
	return v[0] == '"' || (len(v) >= 3 && string(v[:3]) == `W/"`)
}

// typeAllowed applies "compression type": the first Content-Type must not
// start with "multipart" and, when types are configured, must start with
// one of them (letter case ignored). Without Content-Type only an empty
// type list passes.
func (c *Config) typeAllowed(buf []byte, hs []h1.Header) bool {
	ct, ok := firstValue(buf, hs, "content-type")
	if !ok {
		return len(c.Types) == 0
	}
	if hasPrefixFold(ct, "multipart") {
		return false
	}
	if len(c.Types) == 0 {
		return true
	}
	for _, t := range c.Types {
		if hasPrefixFold(ct, t) {
			return true
		}
	}
	return false
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		x, y := b[i], p[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hasElement reports whether a list header value has an element equal to
// word in HAProxy's word_match sense.
func hasElement(value []byte, word string) bool {
	v := trimLWS(value)
	for at := 0; ; {
		start, end, next, ok := nextElement(v, at)
		if !ok {
			return false
		}
		if wordMatch(v[start:end], word) {
			return true
		}
		at = next
	}
}
