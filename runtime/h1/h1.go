// Package h1 parses HTTP/1.x message heads in place, as HAProxy 2.6's H1
// multiplexer does: no copies, no maps, offsets into the caller's buffer.
package h1

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
)

// Span is a byte range inside the buffer a message was parsed from.
type Span struct{ Off, End int32 }

// Of returns the bytes of s inside buf.
func (s Span) Of(buf []byte) []byte { return buf[s.Off:s.End] }

// Len is the span's length.
func (s Span) Len() int { return int(s.End - s.Off) }

// Header is one header line. Name keeps the client's case; output lowers it.
type Header struct {
	Name, Value Span
	// out is the value as forwarded: a rule's value keeps its blanks,
	// while fetches see Value trimmed, as HAProxy's header lookup does.
	out Span
}

// Out is the value as it is forwarded.
func (h *Header) Out(buf []byte) []byte { return h.out.Of(buf) }

// BodyKind says how a message body is delimited.
type BodyKind uint8

// Body kinds.
const (
	BodyNone BodyKind = iota
	BodyLength
	BodyChunked
	BodyUntilClose
)

// Connection header flags.
const (
	ConnClose = 1 << iota
	ConnKeepAlive
	ConnUpgrade
)

// Msg is a parsed request or response head.
type Msg struct {
	// Request line: Method, URI, Version; status line: Status (Code as
	// written, which may have more than three digits), Reason.
	Method, URI, Version Span
	Status               int
	Code, Reason         Span
	// Connect is set for the CONNECT method, which has no body.
	Connect bool
	// PortCut is the ":port" of an absolute target whose port is the
	// scheme's default (or empty), NormHost the target's host: HAProxy
	// forwards the target without that port and every Host as NormHost
	// (RFC 3986 6.3.2 scheme-based normalization). Empty when not so.
	PortCut, NormHost Span
	// Refuse10Payload refuses an HTTP/1.0 GET, HEAD or DELETE with a body
	// as HAProxy's HTTP/1 side does unless h1-accept-payload-with-any-
	// method (payload10); it outlives parsing.
	Refuse10Payload bool
	// Minor is the HTTP/1.x minor version (0 or 1); HTTP/2+ request lines
	// are treated as 1.1, as HAProxy does.
	Minor   uint8
	Headers []Header
	// HeadLen is the length of the head including the final empty line.
	HeadLen int
	Body    BodyKind
	// Length is the Content-Length when Body is BodyLength, CLValue its
	// first value as written.
	Length  int64
	CLValue Span
	// Conn holds ConnClose/ConnKeepAlive/ConnUpgrade from Connection.
	Conn uint8
	// HasCL/HasTE say whether the headers were present; a request with
	// both drops Content-Length and forces close (anti-smuggling).
	HasCL, HasTE bool
	// Upgrade is the Upgrade header value, WSKey/WSAccept the WebSocket
	// handshake headers.
	Upgrade, WSKey, WSAccept Span
	// DropUpgrade: a request asked for an upgrade with a body, which
	// HAProxy does not switch: its Upgrade fields go, Connection stays.
	DropUpgrade bool
	// Expect100 is set for "Expect: 100-continue".
	Expect100 bool
	// Host is the first Host header value.
	Host Span
	// folded is set when obs-fold lines were rewritten in the buffer.
	folded bool
	// verbatim keeps header values as a rule rebuilt them; lax is
	// accept-invalid-http-request.
	verbatim, lax bool
	// teOther is set when Transfer-Encoding lists a coding besides chunked.
	teOther bool
}

// Error is a parse failure with the status HAProxy answers.
type Error struct {
	Status int
	Msg    string
	// Late is set for errors HAProxy finds after the head is parsed,
	// which it answers with the stream's error page.
	Late bool
}

func (e *Error) Error() string { return e.Msg }

// ErrPreface is an HTTP/2 connection preface where an HTTP/1 request was
// expected.
var ErrPreface = &Error{Status: 400, Msg: "HTTP/2 preface on an HTTP/1 connection"}

var (
	// ErrIncomplete means more bytes are needed.
	ErrIncomplete = errors.New("incomplete message head")
	errBad        = &Error{Status: 400, Msg: "invalid message"}
	errTooMany    = &Error{Status: 400, Msg: "too many headers"}
	errBadTE      = &Error{Status: 400, Msg: "invalid transfer-encoding"}
	errTENotLast  = &Error{Status: 422, Msg: "unsupported transfer-encoding"}
	errPayload10  = &Error{Status: 413, Msg: "HTTP/1.0 GET/HEAD/DELETE request with a payload"}
	errBadCL      = &Error{Status: 400, Msg: "invalid content-length"}
	errBadResp    = &Error{Status: 502, Msg: "invalid response"}
	errPreface    = ErrPreface
	errPRI        = &Error{Status: 400, Msg: "PRI method in HTTP/1", Late: true}
)

var tchar [256]bool

func init() {
	for c := 'a'; c <= 'z'; c++ {
		tchar[c] = true
		tchar[c-32] = true
	}
	for c := '0'; c <= '9'; c++ {
		tchar[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tchar[c] = true
	}
}

// uriChar is what a request target may hold; uriCharLax under
// accept-invalid-http-request also lets '#' and bytes above 0x7f through.
var uriChar, uriCharLax [256]bool

func init() {
	for c := 0; c < 256; c++ {
		uriCharLax[c] = c > ' ' && c != 0x7f
		uriChar[c] = uriCharLax[c] && c < 0x7f && c != '#'
	}
}

// IsToken reports whether c is an RFC 9110 tchar.
func IsToken(c byte) bool { return tchar[c] }

// HeadEnd returns the length of the head at the start of buf (after any
// leading empty lines, which count in the length), or 0 if the final empty
// line has not arrived yet. from lets a caller resume a previous scan.
func HeadEnd(buf []byte, from int) int {
	i := from
	if i == 0 {
		// Leading empty lines before a request line are skipped by the
		// parser, so they must not be taken for the end of the head.
		for i < len(buf) {
			if buf[i] == '\n' {
				i++
			} else if i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n' {
				i += 2
			} else {
				break
			}
		}
		if i >= len(buf)-1 {
			return 0
		}
	}
	for i < len(buf) {
		j := indexByte(buf[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		if i < len(buf) && buf[i] == '\n' {
			return i + 1
		}
		if i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n' {
			return i + 2
		}
		if i+1 >= len(buf) {
			return 0
		}
	}
	return 0
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// ParseRequest parses the request head at the start of buf, which may
// hold more (a body, the next request): m.HeadLen tells where the head
// ends. It returns ErrIncomplete when the head has not arrived whole and
// nothing so far is invalid, so that a bad byte is answered at once, as
// HAProxy's parser does, not after the head's timeout. maxHdr limits the
// header count.
func ParseRequest(buf []byte, m *Msg, maxHdr int) error {
	return parseRequest(buf, m, maxHdr, false, false)
}

// ParseRequestLax is ParseRequest under "option
// accept-invalid-http-request": bytes above 0x7f and '#' in the target,
// any byte but a colon or a line end in a header name, and a Host that
// differs from the target's authority or from an earlier Host pass.
func ParseRequestLax(buf []byte, m *Msg, maxHdr int) error {
	return parseRequest(buf, m, maxHdr, false, true)
}

// ParseOwnRequest parses a head that was judged once and written again
// as "name: value" lines: one that rules rebuilt, or the engine's
// output going on to an HTTP/2 server. A value keeps its blanks (the
// one "name: " wrote aside), as a value set by a rule or an HTTP/2 one
// does in HAProxy, and what was let through once is not refused: HAProxy
// checks a head once, as it arrives, so the parse is ParseRequestLax's
// (rules may also add beyond tune.http.maxhdr: their edits pass
// math.MaxInt).
func ParseOwnRequest(buf []byte, m *Msg, maxHdr int) error {
	return parseRequest(buf, m, maxHdr, true, true)
}

func parseRequest(buf []byte, m *Msg, maxHdr int, verbatim, lax bool) error {
	m.reset()
	m.verbatim, m.lax = verbatim, lax
	p := 0
	for {
		if p >= len(buf) {
			return ErrIncomplete
		}
		if buf[p] == '\n' {
			p++
			continue
		}
		if buf[p] != '\r' {
			break
		}
		if p+1 >= len(buf) {
			return ErrIncomplete
		}
		if buf[p+1] != '\n' {
			return errBad
		}
		p += 2
	}
	start := p
	for p < len(buf) && tchar[buf[p]] {
		p++
	}
	if p >= len(buf) {
		return ErrIncomplete
	}
	if p == start || !isSP(buf[p]) {
		// A line end here is an HTTP/0.9 request, refused as HAProxy
		// refuses it without "accept-invalid-http-request".
		return crlfOr(buf, p, errBad)
	}
	m.Method = Span{int32(start), int32(p)}
	if p, start = skipSP(buf, p); p >= len(buf) {
		return ErrIncomplete
	}
	uc := &uriChar
	if lax {
		uc = &uriCharLax
	}
	for p < len(buf) && uc[buf[p]] {
		p++
	}
	if p >= len(buf) {
		return ErrIncomplete
	}
	if p == start || !isSP(buf[p]) {
		return crlfOr(buf, p, errBad)
	}
	m.URI = Span{int32(start), int32(p)}
	if p, start = skipSP(buf, p); p >= len(buf) {
		return ErrIncomplete
	}
	for p < len(buf) && verChar(buf[p]) {
		p++
	}
	if p >= len(buf) {
		return ErrIncomplete
	}
	if buf[p] != '\r' && buf[p] != '\n' || p == start {
		return crlfOr(buf, p, errBad)
	}
	m.Version = Span{int32(start), int32(p)}
	v := buf[start:p]
	badVersion := len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7])
	// HTTP/1.1 and above are HTTP/1.1, anything below is HTTP/1.0.
	if !badVersion && (v[5] > '1' || v[5] == '1' && v[7] >= '1') {
		m.Minor = 1
	}
	p, err := lineEnd(buf, p)
	if err != nil {
		return err
	}
	if badVersion {
		// HAProxy checks the version's form once the head is whole
		// (h1_process_req_vsn): until then the head waits like any
		// other, and a bad header is refused first.
		if err := m.parseHeaders(buf, p, maxHdr, true, lax); err != nil {
			return err
		}
		return errBad
	}
	meth := m.Method.Of(buf)
	m.Connect = string(meth) == "CONNECT"
	if string(meth) == "PRI" {
		// An HTTP/2 preface, or the method reserved for it: never
		// forwarded as an HTTP/1 request.
		if string(v) == "HTTP/2.0" {
			return errPreface
		}
		return errPRI
	}
	if err := m.parseHeaders(buf, p, maxHdr, true, lax); err != nil {
		return err
	}
	if err := m.checkAuthority(buf); err != nil && !(lax && (!m.Connect || m.verbatim)) {
		return err
	}
	return m.requestFraming(buf)
}

// ParseResponse parses the response head at the start of buf, like
// ParseRequest.
func ParseResponse(buf []byte, m *Msg, maxHdr int) error {
	return parseResponse(buf, m, maxHdr, false, false)
}

// ParseResponseLax is ParseResponse under "option
// accept-invalid-http-response": any byte but a colon or a line end in a
// header name, as HAProxy's parser then lets through.
func ParseResponseLax(buf []byte, m *Msg, maxHdr int) error {
	return parseResponse(buf, m, maxHdr, false, true)
}

// ParseOwnResponse is ParseOwnRequest for a response head: one rules
// rebuilt, or one an HTTP/2 server's answer was written as.
func ParseOwnResponse(buf []byte, m *Msg, maxHdr int) error {
	return parseResponse(buf, m, maxHdr, true, true)
}

func parseResponse(buf []byte, m *Msg, maxHdr int, verbatim, lax bool) error {
	m.reset()
	m.verbatim, m.lax = verbatim, lax
	p := 0
	for p < len(buf) && verChar(buf[p]) {
		p++
	}
	if p >= len(buf) {
		return ErrIncomplete
	}
	v := buf[:p]
	m.Version = Span{0, int32(p)}
	if !isSP(buf[p]) || len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return errBadResp
	}
	if v[5] > '1' || v[5] == '1' && v[7] >= '1' {
		m.Minor = 1
	}
	p, start := skipSP(buf, p)
	for p < len(buf) && isDigit(buf[p]) {
		if p-start < 9 {
			m.Status = m.Status*10 + int(buf[p]-'0')
		}
		p++
	}
	if p >= len(buf) {
		return ErrIncomplete
	}
	if p == start || !isSP(buf[p]) && buf[p] != '\r' && buf[p] != '\n' {
		return errBadResp
	}
	m.Code = Span{int32(start), int32(p)}
	if p-start > 9 || m.Status < 100 {
		return errBadResp
	}
	p, start = skipSP(buf, p)
	p = LineStop(buf, p)
	m.Reason = Span{int32(start), int32(p)}
	p, err := lineEnd(buf, p)
	if err != nil {
		if err == errBad {
			err = errBadResp
		}
		return err
	}
	if err := m.parseHeaders(buf, p, maxHdr, false, lax); err != nil {
		if err == errBad || err == errTooMany {
			err = errBadResp
		}
		return err
	}
	return m.responseFraming(buf)
}

// ParseTrailers parses the trailer section of a chunked body at the
// start of buf (after the last chunk's size line): header lines up to
// an empty line. m.Headers holds them and m.HeadLen the section's
// length.
func ParseTrailers(buf []byte, m *Msg, maxHdr int) error {
	m.reset()
	return m.parseHeaders(buf, 0, maxHdr, false, false)
}

func (m *Msg) reset() {
	h := m.Headers[:0]
	if h == nil {
		// Room for a usual head at once, not grown one header at a
		// time: a new connection's first message allocates once.
		h = make([]Header, 0, 8)
	}
	*m = Msg{Headers: h, Refuse10Payload: m.Refuse10Payload}
}

func isSP(c byte) bool    { return c == ' ' || c == '\t' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// verChar is HAProxy's HTTP_IS_VER_TOKEN: upper-case letters, digits,
// '.', '/'. Any other byte in a version is refused as it arrives.
func verChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || isDigit(c) || c == '.' || c == '/'
}

// skipSP skips blanks from p; it returns the new offset twice.
func skipSP(buf []byte, p int) (int, int) {
	for p < len(buf) && isSP(buf[p]) {
		p++
	}
	return p, p
}

// crlfOr returns err, or ErrIncomplete for a CR that is the last byte:
// what follows it decides nothing here, but HAProxy waits for it.
func crlfOr(buf []byte, p int, err error) error {
	if buf[p] == '\r' && p+1 == len(buf) {
		return ErrIncomplete
	}
	return err
}

// lineEnd expects CRLF or LF at p and returns the offset after it; a CR
// alone is an error.
func lineEnd(buf []byte, p int) (int, error) {
	if p >= len(buf) {
		return p, ErrIncomplete
	}
	if buf[p] == '\n' {
		return p + 1, nil
	}
	if buf[p] != '\r' {
		return p, errBad
	}
	if p+1 >= len(buf) {
		return p, ErrIncomplete
	}
	if buf[p+1] != '\n' {
		return p, errBad
	}
	return p + 2, nil
}

// parseHeaders reads header lines from p up to the empty line, as
// HAProxy's parser does: token names, values up to the line end with
// their blanks trimmed, obs-folds turned into spaces in place, and a
// second Host header dropped when it repeats the first (400 when it
// differs).
// In trailers (lax) HAProxy's parser lets any byte but a colon or a
// line end through in a name.
func (m *Msg) parseHeaders(buf []byte, p, maxHdr int, request, lax bool) error {
	hostIdx := -1
	// A request's framing headers are checked as each is read, as
	// HAProxy's h1_headers_to_hdr_list does once the next line shows the
	// header is whole: a bad one is refused before the head ends.
	var cl int64 = -1
	chunked := false
	for {
		if p >= len(buf) {
			return ErrIncomplete
		}
		if buf[p] == '\r' || buf[p] == '\n' {
			q, err := lineEnd(buf, p)
			if err != nil {
				return err
			}
			m.HeadLen = q
			return nil
		}
		start := p
		for p < len(buf) && (tchar[buf[p]] || lax && buf[p] != ':' && buf[p] != '\r' && buf[p] != '\n') {
			p++
		}
		if p >= len(buf) {
			return ErrIncomplete
		}
		if p == start || buf[p] != ':' || p-start > 255 && !lax {
			// HAProxy stores a name's length in a byte.
			return errBad
		}
		name := Span{int32(start), int32(p)}
		p++
		vs := p
		ve := p
		for {
			p = LineStop(buf, p)
			q, err := lineEnd(buf, p)
			if err != nil {
				return err
			}
			if q >= len(buf) {
				// Whether the next line folds into this one is not
				// known yet.
				return ErrIncomplete
			}
			if isSP(buf[q]) {
				// obs-fold: the line break becomes spaces, as HAProxy
				// does.
				for i := p; i < q; i++ {
					buf[i] = ' '
				}
				m.folded = true
				p = q
				continue
			}
			ve = p
			p = q
			break
		}
		if m.verbatim && vs < ve && buf[vs] == ' ' {
			// Only the blank that the rebuilt "name: " wrote.
			vs++
		}
		out := Span{int32(vs), int32(ve)}
		for vs < ve && isSP(buf[vs]) {
			vs++
		}
		for ve > vs && isSP(buf[ve-1]) {
			ve--
		}
		if !m.verbatim {
			out = Span{int32(vs), int32(ve)}
		}
		val := Span{int32(vs), int32(ve)}
		if name.Len() == 14 && EqualFold(name.Of(buf), "content-length") {
			// HAProxy checks a Content-Length wherever it comes, in
			// trailers too.
			_, n, ok := parseCL(buf, val)
			if !ok && !request {
				return errBad
			}
			if request && !lax {
				if !ok || cl >= 0 && n != cl {
					return errBadCL
				}
				cl = n
			}
		}
		if request && !lax && name.Len() == 17 && EqualFold(name.Of(buf), "transfer-encoding") {
			// chunked once, and last (h1_parse_xfer_enc_header).
			var bad bool
			commaItems(val.Of(buf), func(t []byte) bool {
				if chunked {
					bad = true
					return false
				}
				chunked = EqualFold(t, "chunked")
				return true
			})
			if bad {
				return errBadTE
			}
		}
		if request && name.Len() == 4 && EqualFold(name.Of(buf), "host") {
			if hostIdx >= 0 {
				same := equalFoldBytes(val.Of(buf), m.Headers[hostIdx].Value.Of(buf))
				if !same && !m.lax {
					return errBad
				}
				if same {
					continue
				}
			} else {
				hostIdx = len(m.Headers)
			}
		}
		if len(m.Headers) >= maxHdr {
			return errTooMany
		}
		m.Headers = append(m.Headers, Header{name, val, out})
	}
}

// equalFoldBytes compares two byte strings, ignoring ASCII case.
func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 32
		}
		if y >= 'A' && y <= 'Z' {
			y += 32
		}
		if x != y {
			return false
		}
	}
	return true
}

// commaItems calls f for each trimmed, non-empty comma-separated item.
func commaItems(v []byte, f func(item []byte) bool) {
	i := 0
	for i <= len(v) {
		j := i
		for j < len(v) && v[j] != ',' {
			j++
		}
		a, b := i, j
		for a < b && isSP(v[a]) {
			a++
		}
		for b > a && isSP(v[b-1]) {
			b--
		}
		if b > a && !f(v[a:b]) {
			return
		}
		i = j + 1
	}
}

// common header handling for both directions.
func (m *Msg) scanHeaders(buf []byte) error {
	var cl int64 = -1
	for _, h := range m.Headers {
		name := h.Name.Of(buf)
		switch len(name) {
		case 4:
			if EqualFold(name, "host") && m.Host.End == 0 {
				m.Host = h.Value
			}
		case 6:
			if EqualFold(name, "expect") && EqualFold(h.Value.Of(buf), "100-continue") {
				m.Expect100 = true
			}
		case 7:
			if EqualFold(name, "upgrade") {
				m.Upgrade = h.Value
			}
		case 10:
			if EqualFold(name, "connection") {
				commaItems(h.Value.Of(buf), func(t []byte) bool {
					switch {
					case EqualFold(t, "close"):
						m.Conn |= ConnClose
					case EqualFold(t, "keep-alive"):
						m.Conn |= ConnKeepAlive
					case EqualFold(t, "upgrade"):
						m.Conn |= ConnUpgrade
					}
					return true
				})
			}
		case 14:
			if EqualFold(name, "content-length") {
				m.HasCL = true
				first, n, ok := parseCL(buf, h.Value)
				if !ok || cl >= 0 && n != cl {
					return errBadCL
				}
				if cl < 0 {
					m.CLValue = first
				}
				cl = n
			}
		case 17:
			if EqualFold(name, "transfer-encoding") {
				m.HasTE = true
				var err error
				commaItems(h.Value.Of(buf), func(t []byte) bool {
					if m.Body == BodyChunked {
						// chunked must be the last coding, and only once.
						err = errBadTE
						return false
					}
					if EqualFold(t, "chunked") {
						m.Body = BodyChunked
					} else {
						m.Body = BodyUntilClose
						m.teOther = true
					}
					return true
				})
				if err != nil {
					return err
				}
				if m.Body != BodyChunked {
					m.Body = BodyUntilClose
				}
			}
		}
		if len(name) == 17 && EqualFold(name, "sec-websocket-key") {
			m.WSKey = h.Value
		}
		if len(name) == 20 && EqualFold(name, "sec-websocket-accept") {
			m.WSAccept = h.Value
		}
	}
	if !m.HasTE && cl >= 0 {
		m.Body = BodyLength
		m.Length = cl
	}
	return nil
}

// parseCL reads a Content-Length value as HAProxy does: comma-separated
// equal numbers with blanks around them, an empty element refused, a
// final comma too. first is the first number as written, which is what
// goes on.
func parseCL(buf []byte, v Span) (first Span, n int64, ok bool) {
	b := v.Of(buf)
	seen, comma := false, false
	for i := 0; i < len(b); {
		if isSP(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == i {
			return first, 0, false
		}
		x, ok := parseLength(b[i:j])
		if !ok || seen && x != n {
			return first, 0, false
		}
		if !seen {
			first = Span{v.Off + int32(i), v.Off + int32(j)}
		}
		seen, n = true, x
		for j < len(b) && isSP(b[j]) {
			j++
		}
		if j < len(b) && b[j] != ',' {
			return first, 0, false
		}
		comma = j < len(b)
		i = j + 1
	}
	return first, n, seen && !comma
}

func parseLength(t []byte) (int64, bool) {
	if len(t) == 0 || len(t) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range t {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func (m *Msg) requestFraming(buf []byte) error {
	if err := m.scanHeaders(buf); err != nil {
		return err
	}
	m.dropCLWithTE(buf)
	// A request body whose end cannot be found is refused (400), then
	// an HTTP/1.0 body HAProxy refuses (413), then codings other than
	// chunked (422), in HAProxy's order.
	if m.HasTE && m.Body != BodyChunked {
		return errBadTE
	}
	if m.payload10(buf) {
		return errPayload10
	}
	if m.HasTE {
		if m.teOther {
			return errTENotLast
		}
		if m.HasCL || m.Minor == 0 {
			// TE with CL, or TE in HTTP/1.0: the connection closes
			// after this request.
			m.Conn |= ConnClose
		}
	} else if m.Body != BodyLength {
		m.Body = BodyNone
	}
	if m.Connect {
		m.Body, m.Length = BodyNone, 0
	}
	if m.Conn&ConnUpgrade != 0 && (m.Body == BodyChunked || m.Body == BodyLength && m.Length > 0) {
		// h1_postparse_req_hdrs: no upgrade for a request with a body.
		m.Conn &^= ConnUpgrade
		m.Upgrade, m.DropUpgrade = Span{}, true
	}
	return nil
}

// dropCLWithTE takes Content-Length out of the headers when
// Transfer-Encoding comes with it, as HAProxy's parser deletes it
// (h1_headers_to_hdr_list): rules, fetches and logs do not see it.
// HasCL stays, for the close that such a message forces.
func (m *Msg) dropCLWithTE(buf []byte) {
	if !m.HasTE || !m.HasCL {
		return
	}
	kept := m.Headers[:0]
	for _, h := range m.Headers {
		if h.Name.Len() != 14 || !EqualFold(h.Name.Of(buf), "content-length") {
			kept = append(kept, h)
		}
	}
	m.Headers = kept
}

// payload10 is HAProxy's refusal of an HTTP/1.0 GET, HEAD or DELETE
// with a body (a non-zero Content-Length, or chunked), which HTTP/1.0
// servers may not look for: a smuggling risk, answered 413 when
// Refuse10Payload.
func (m *Msg) payload10(buf []byte) bool {
	if !m.Refuse10Payload || m.Minor != 0 || !(m.HasCL && m.Length > 0 || m.Body == BodyChunked) {
		return false
	}
	meth := m.Method.Of(buf)
	return string(meth) == "GET" || string(meth) == "HEAD" || string(meth) == "DELETE"
}

func (m *Msg) responseFraming(buf []byte) error {
	if err := m.scanHeaders(buf); err != nil {
		return errBadResp
	}
	m.dropCLWithTE(buf)
	if m.HasTE && (m.Body != BodyChunked || m.teOther) {
		// HAProxy 2.6.12 refuses a response coding other than chunked.
		return errBadResp
	}
	if !m.HasTE && !m.HasCL {
		m.Body = BodyUntilClose
	}
	if m.Status < 200 || m.Status == 204 || m.Status == 304 {
		m.Body = BodyNone
	}
	return nil
}

// KeepAlive reports whether the sender wants the connection kept open
// after this message.
func (m *Msg) KeepAlive() bool { return KeepAlive(m.Minor, m.Conn) }

// KeepAlive says whether a message of HTTP/1.minor whose Connection
// fields gave conn keeps its connection.
func KeepAlive(minor, conn uint8) bool {
	if conn&ConnClose != 0 {
		return false
	}
	return minor == 1 || conn&ConnKeepAlive != 0
}

// IsWebSocket reports whether a message is a WebSocket handshake, as
// HAProxy's H1_MF_CONN_UPG and H1_MF_UPG_WEBSOCKET say it: Connection
// has "upgrade" and one of Upgrade's words is "websocket".
func (m *Msg) IsWebSocket(buf []byte) bool {
	if m.Conn&ConnUpgrade == 0 {
		return false
	}
	ws := false
	commaItems(m.Upgrade.Of(buf), func(w []byte) bool {
		ws = EqualFold(w, "websocket")
		return !ws
	})
	return ws
}

// WebSocketAccept is the Sec-WebSocket-Accept that answers key (RFC 6455
// 4.2.2).
func WebSocketAccept(key []byte) string {
	h := sha1.New()
	h.Write(key)
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// checkAuthority checks the request target against the Host header as
// HAProxy 2.6 does: an authority in the target (absolute or authority
// form) must name the same host as Host, default ports aside, and a
// CONNECT target must be host:port. A CONNECT Host header that repeats
// a default port loses it, as in HAProxy.
func (m *Msg) checkAuthority(buf []byte) error {
	uri := m.URI.Of(buf)
	var scheme, auth []byte
	hasAuth := false
	var authOff int32
	if len(uri) > 0 && uri[0] != '/' && uri[0] != '*' {
		rest := uri
		if isAlpha(uri[0]) {
			i := 1
			for i < len(uri) && (isAlpha(uri[i]) || isDigit(uri[i]) || uri[i] == '+' || uri[i] == '-' || uri[i] == '.') {
				i++
			}
			if len(uri)-i >= 3 && string(uri[i:i+3]) == "://" {
				scheme, rest = uri[:i+3], uri[i+3:]
			}
		}
		s, j := 0, 0
		for j < len(rest) && rest[j] != '/' {
			if rest[j] == '@' {
				s = j + 1
			}
			j++
		}
		auth, hasAuth = rest[s:j], true
		authOff = int32(len(uri)-len(rest)) + int32(s)
	}
	hi := -1
	for i, h := range m.Headers {
		if h.Name.Len() == 4 && EqualFold(h.Name.Of(buf), "host") {
			hi = i
			break
		}
	}
	if scheme != nil && !m.Connect {
		// A CONNECT's target is not normalized (h1_postparse_req_hdrs).
		if port, ok := hostPort(auth); ok && defaultPort(scheme, port) {
			end := m.URI.Off + authOff + int32(len(auth))
			m.PortCut = Span{end - int32(len(port)) - 1, end}
			m.NormHost = Span{m.URI.Off + authOff, m.PortCut.Off}
		}
	}
	if m.Connect {
		if !hasAuth {
			return errBad
		}
		uport, ok := hostPort(auth)
		if !ok || len(uport) == 0 {
			return errBad
		}
		uhost := auth[:len(auth)-len(uport)-1]
		if hi < 0 {
			return nil
		}
		hv := &m.Headers[hi].Value
		host := hv.Of(buf)
		hport, hok := hostPort(host)
		if hok {
			host = host[:len(host)-len(hport)-1]
		}
		if len(hport) > 0 {
			if !equalFoldBytes(host, uhost) || string(hport) != string(uport) {
				return errBad
			}
			if defaultPort(nil, uport) {
				hv.End = hv.Off + int32(len(host))
				m.Headers[hi].out = *hv
			}
			return nil
		}
		if !defaultPort(nil, uport) || !equalFoldBytes(host, uhost) {
			return errBad
		}
		return nil
	}
	if hi < 0 || len(auth) == 0 {
		return nil
	}
	host := m.Headers[hi].Value.Of(buf)
	if equalFoldBytes(auth, host) {
		return nil
	}
	if scheme == nil {
		return errBad
	}
	uport, uok := hostPort(auth)
	uhost := auth
	if uok {
		uhost = auth[:len(auth)-len(uport)-1]
	}
	hport, hok := hostPort(host)
	if hok {
		host = host[:len(host)-len(hport)-1]
	}
	switch {
	case !uok && !hok:
		return errBad
	case uok && !defaultPort(scheme, uport):
		return errBad
	case hok && !defaultPort(scheme, hport):
		return errBad
	case !equalFoldBytes(uhost, host):
		return errBad
	}
	return nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// hostPort returns the digits after the last ':' of h, with ok set when
// that ':' is there ("h:" has an empty port), as HAProxy's
// http_get_host_port.
func hostPort(h []byte) (port []byte, ok bool) {
	i := len(h)
	for i > 0 && isDigit(h[i-1]) {
		i--
	}
	if i == 0 || h[i-1] != ':' {
		return nil, false
	}
	return h[i:], true
}

// defaultPort tells an empty port, or the scheme's default one (80 or
// 443 when there is no scheme).
func defaultPort(scheme, port []byte) bool {
	switch {
	case len(port) == 0:
		return true
	case scheme == nil:
		return string(port) == "80" || string(port) == "443"
	}
	return string(port) == "443" && equalFoldBytes(scheme, []byte("https://")) ||
		string(port) == "80" && equalFoldBytes(scheme, []byte("http://"))
}

// ValueEnd is HAProxy's http_find_hdr_value_end: the index of the first
// comma of v outside a quoted string, or len(v).
func ValueEnd(v []byte) int {
	quoted, pair := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case pair:
			pair = false
		case quoted && c == '\\':
			pair = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return i
		}
	}
	return len(v)
}
