package comp

import (
	"github.com/gohap/gohap/runtime/h1"
)

// Request is the part of a request head the decisions read. Header spans
// point into Buf.
type Request struct {
	Buf     []byte
	Headers []h1.Header
	// HTTP11 is set for HTTP/1.1 and later (HTTP_MSGF_VER_11).
	HTTP11 bool
	// Head is set for the HEAD method.
	Head bool
}

// Response is the part of a response head the decisions read.
type Response struct {
	Buf     []byte
	Headers []h1.Header
	HTTP11  bool
	Status  int
	// KnownLength is set when the body length is known from
	// Content-Length or chunking (HTTP_MSGF_XFER_LEN); a body that ends
	// with the connection is never compressed.
	KnownLength bool
	// ContentLength and Chunked say how the server framed the body.
	ContentLength, Chunked bool
	// Bodyless is set when the framing says there is no body, as
	// "Content-Length: 0" does (HTTP_MSGF_BODYLESS): such a response is
	// not compressed.
	Bodyless bool
}

// RequestFromH1 describes a request parsed by runtime/h1.
func RequestFromH1(buf []byte, m *h1.Msg) Request {
	return Request{Buf: buf, Headers: m.Headers, HTTP11: m.Minor >= 1, Head: string(m.Method.Of(buf)) == "HEAD"}
}

// ResponseFromH1 describes a response parsed by runtime/h1.
func ResponseFromH1(buf []byte, m *h1.Msg) Response {
	return Response{
		Buf: buf, Headers: m.Headers, HTTP11: m.Minor >= 1, Status: m.Status,
		KnownLength:   m.Body == h1.BodyLength || m.Body == h1.BodyChunked,
		ContentLength: m.Body == h1.BodyLength,
		Chunked:       m.Body == h1.BodyChunked,
		Bodyless:      m.Body == h1.BodyNone || (m.Body == h1.BodyLength && m.Length == 0),
	}
}

// SelectRequest picks the algorithm for a request as
// select_compression_request_header does, and says whether "compression
// offload" removes its Accept-Encoding headers. None means the response
// will not be compressed.
func (c *Config) SelectRequest(r *Request) (a Algo, dropAcceptEncoding bool) {
	if ua, ok := firstValue(r.Buf, r.Headers, "user-agent"); ok && oldMozilla(ua) {
		return None, false
	}
	best := 0
	for _, h := range r.Headers {
		if !h1.EqualFold(h.Name.Of(r.Buf), "accept-encoding") {
			continue
		}
		// Across headers too, only a strictly better q-value wins.
		if found, q := c.AcceptEncoding(h.Value.Of(r.Buf)); q > best {
			a, best = found, q
		}
	}
	if a != None {
		return a, c.Offload
	}
	// identity needs no header.
	for _, x := range c.Algos {
		if x == Identity {
			return Identity, false
		}
	}
	return None, false
}

// AcceptEncoding returns the algorithm of c an Accept-Encoding value asks
// for and its q-value in thousandths, as HAProxy reads one header: the
// first element with the highest q-value whose coding is configured wins.
// A leading "*" matches the last configured algorithm. The q-value is 0
// when nothing matches.
func (c *Config) AcceptEncoding(value []byte) (Algo, int) {
	best, a := 0, None
	v := trimLWS(value)
	for at := 0; ; {
		start, end, next, ok := nextElement(v, at)
		if !ok {
			return a, best
		}
		at = next
		elem := v[start:end]
		if len(elem) == 0 {
			continue
		}
		tok := 0
		for tok < len(elem) && h1.IsToken(elem[tok]) {
			tok++
		}
		q := 1000
		if qp := qParam(elem, tok); qp >= 0 {
			// The q-value reader stops only at a non-digit, so it may
			// read past the element, up to the end of the header value.
			q = parseQValue(v[min(start+qp, len(v)):])
		}
		if q <= best {
			continue
		}
		for i := len(c.Algos) - 1; i >= 0; i-- {
			if elem[0] == '*' || wordMatch(elem[:tok], c.Algos[i].Token()) {
				a, best = c.Algos[i], q
				break
			}
		}
	}
}

// qParam returns the offset in elem of the digits after the first "q="
// parameter that follows the token ending at tok, or -1.
func qParam(elem []byte, tok int) int {
	p := tok
	for {
		for p < len(elem) && isLWS(elem[p]) {
			p++
		}
		if p >= len(elem) || elem[p] != ';' {
			return -1
		}
		p++
		for p < len(elem) && isLWS(elem[p]) {
			p++
		}
		if p >= len(elem) {
			return -1
		}
		// HAProxy compares at most the bytes left, so a lone "q" at the
		// end of the element counts as "q=".
		if n := min(len(elem)-p, 2); string(elem[p:p+n]) == "q="[:n] {
			return p + 2
		}
		for p < len(elem) && elem[p] != ';' {
			p++
		}
	}
}

// parseQValue is http_parse_qvalue: "d[.ddd]" in thousandths, at most 1000,
// and 1000 when no digit starts it.
func parseQValue(b []byte) int {
	digit := func(i int) (int, bool) {
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			return int(b[i] - '0'), true
		}
		return 0, false
	}
	d, ok := digit(0)
	if !ok {
		return 1000
	}
	q := d * 1000
	if len(b) > 1 && b[1] == '.' {
		for i, mul := 2, 100; mul > 0; i, mul = i+1, mul/10 {
			d, ok := digit(i)
			if !ok {
				break
			}
			q += d * mul
		}
	}
	return min(q, 1000)
}

// wordMatch is HAProxy's word_match: s equals word with letters compared
// by their case bit only, followed by nothing but spaces and tabs.
func wordMatch(s []byte, word string) bool {
	if len(s) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if c := s[i] ^ word[i]; c != 0 && c != 'A'^'a' {
			return false
		}
	}
	for _, c := range s[len(word):] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// oldMozilla is HAProxy's test for old browsers announcing "Mozilla/4":
// compression is off for them unless they are MSIE 6 with XP SP2 or MSIE 7
// and later.
func oldMozilla(ua []byte) bool {
	if len(ua) < 9 || string(ua[:9]) != "Mozilla/4" {
		return false
	}
	return len(ua) < 31 || string(ua[25:30]) != "MSIE " || ua[30] < '6' ||
		(ua[30] == '6' && (len(ua) < 54 || string(ua[51:54]) != "SV1"))
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimLWS(b []byte) []byte {
	for len(b) > 0 && isLWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextElement finds the comma-separated element of v that starts at or
// after from, commas in double quotes excepted, and returns its bounds
// trimmed of LWS and where the next one starts, as http_find_header walks
// a list header. Empty elements count; ok is false past the end.
func nextElement(v []byte, from int) (start, end, next int, ok bool) {
	if from >= len(v) {
		return 0, 0, 0, false
	}
	end = len(v)
	quoted, pair := false, false
	for i := from; i < len(v); i++ {
		c := v[i]
		if pair {
			pair = false
		} else if quoted {
			if c == '\\' {
				pair = true
			} else if c == '"' {
				quoted = false
			}
		} else if c == '"' {
			quoted = true
		} else if c == ',' {
			end = i
			break
		}
	}
	next = end + 1
	start = from
	for start < end && isLWS(v[start]) {
		start++
	}
	for end > start && isLWS(v[end-1]) {
		end--
	}
	return start, end, next, true
}

// firstValue is the first header named name (lower case), trimmed.
func firstValue(buf []byte, hs []h1.Header, name string) ([]byte, bool) {
	for _, h := range hs {
		if h1.EqualFold(h.Name.Of(buf), name) {
			return trimLWS(h.Value.Of(buf)), true
		}
	}
	return nil, false
}
