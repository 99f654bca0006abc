package h1

// A request head written by a caller that checked its parts itself (an
// HTTP/2 request turned into HTTP/1.1) can come with the Msg a parse of
// it would give, built as the head is written: StartRequest with the
// request line, AddHeader for each header line in order, FinishRequest
// with the head's length. The byte scans of a parse are skipped; the
// authority and framing checks are the parser's own. A part the parser
// would look at twice (a target byte it refuses, a second Host, a long
// name) makes the build fail, and the head is parsed instead. A fuzz
// test of the HTTP/2 conversion holds the result to the parser's.

// StartRequest starts m as the parse of a request line whose method,
// target and version are at these spans of buf. The caller checked that
// the method is a token and the target holds no blank or control (an
// HTTP/2 target may hold bytes the HTTP/1 parser refuses: HAProxy's h2
// layer lets them through). It reports false for a line the parser must
// judge.
func (m *Msg) StartRequest(buf []byte, method, uri, version Span) bool {
	m.reset()
	meth, v := method.Of(buf), version.Of(buf)
	if len(meth) == 0 || uri.Len() == 0 || string(v) != "HTTP/1.1" || string(meth) == "PRI" {
		return false
	}
	m.Method, m.URI, m.Version = method, uri, version
	m.Minor = 1
	m.Connect = string(meth) == "CONNECT"
	return true
}

// AddHeader adds the header line whose name and value are at these
// spans of buf, the value as written after "name:". The caller checked
// that the name is a token and that the value holds no CR, LF or NUL. It
// reports false for a line the parser must judge.
func (m *Msg) AddHeader(buf []byte, name, value Span) bool {
	if name.Len() == 0 || name.Len() > 255 {
		return false
	}
	vs, ve := value.Off, value.End
	for vs < ve && isSP(buf[vs]) {
		vs++
	}
	for ve > vs && isSP(buf[ve-1]) {
		ve--
	}
	val := Span{vs, ve}
	if name.Len() == 4 && EqualFold(name.Of(buf), "host") {
		for i := range m.Headers {
			if h := &m.Headers[i]; h.Name.Len() == 4 && EqualFold(h.Name.Of(buf), "host") {
				// A second Host: the parser drops or refuses it.
				return false
			}
		}
	}
	// An HTTP/2 value goes out as it came, blanks and all (HAProxy's h2
	// layer does not trim it); lookups see it trimmed.
	m.Headers = append(m.Headers, Header{name, val, value})
	return true
}

// FinishRequest completes m for the head buf[:headLen], which ends with
// its empty line, as ParseRequest would: it returns the parser's error
// for a head the parser refuses once whole. The head is an HTTP/2
// request's: its Host is its authority, which is not checked against
// the target (HAProxy's HTTP/1 parser alone compares them, and only it
// wants a CONNECT's target as host:port).
func (m *Msg) FinishRequest(buf []byte, headLen int) error {
	m.HeadLen = headLen
	return m.requestFraming(buf)
}
