// Package h1 parses HTTP/1.x message heads in place, as HAProxy 2.6's H1
// multiplexer does: no copies, no maps, offsets into the caller's buffer.
package h1

import "errors"

// Span is a byte range inside the buffer a message was parsed from.
type Span struct{ Off, End int32 }

// Of returns the bytes of s inside buf.
func (s Span) Of(buf []byte) []byte { return buf[s.Off:s.End] }

// Len is the span's length.
func (s Span) Len() int { return int(s.End - s.Off) }

// Header is one header line. Name keeps the client's case; output lowers it.
type Header struct {
	Name, Value Span
}

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
	// Request line: Method, URI; status line: Status, Reason.
	Method, URI Span
	Status      int
	Reason      Span
	// Minor is the HTTP/1.x minor version (0 or 1); HTTP/2+ request lines
	// are treated as 1.1, as HAProxy does.
	Minor   uint8
	Headers []Header
	// HeadLen is the length of the head including the final empty line.
	HeadLen int
	Body    BodyKind
	// Length is the Content-Length when Body is BodyLength.
	Length int64
	// Conn holds ConnClose/ConnKeepAlive/ConnUpgrade from Connection.
	Conn uint8
	// HasCL/HasTE say whether the headers were present; a request with
	// both drops Content-Length and forces close (anti-smuggling).
	HasCL, HasTE bool
	// Upgrade is the Upgrade header value, WSKey/WSAccept the WebSocket
	// handshake headers.
	Upgrade, WSKey, WSAccept Span
	// Expect100 is set for "Expect: 100-continue".
	Expect100 bool
	// Host is the first Host header value.
	Host Span
	// folded is set when obs-fold lines were rewritten in the buffer.
	folded bool
	// teOther is set when Transfer-Encoding lists a coding besides chunked.
	teOther bool
}

// Error is a parse failure with the status HAProxy answers.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

var (
	// ErrIncomplete means more bytes are needed.
	ErrIncomplete = errors.New("incomplete message head")
	errBad        = &Error{400, "invalid message"}
	errTooMany    = &Error{400, "too many headers"}
	errBadTE      = &Error{400, "invalid transfer-encoding"}
	errTENotLast  = &Error{422, "unsupported transfer-encoding"}
	errBadCL      = &Error{400, "invalid content-length"}
	errBadResp    = &Error{502, "invalid response"}
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

// ParseRequest parses a complete request head at the start of buf (HeadEnd
// must have found its end). maxHdr limits the header count.
func ParseRequest(buf []byte, m *Msg, maxHdr int) error {
	m.reset()
	p := 0
	for p+1 < len(buf) && (buf[p] == '\r' && buf[p+1] == '\n' || buf[p] == '\n') {
		if buf[p] == '\n' {
			p++
		} else {
			p += 2
		}
	}
	start := p
	for p < len(buf) && tchar[buf[p]] {
		p++
	}
	if p == start || p >= len(buf) || !isSP(buf[p]) {
		return errBad
	}
	m.Method = Span{int32(start), int32(p)}
	for p < len(buf) && isSP(buf[p]) {
		p++
	}
	start = p
	for p < len(buf) && buf[p] > ' ' && buf[p] < 0x7f {
		p++
	}
	if p == start || p >= len(buf) || !isSP(buf[p]) {
		return errBad
	}
	m.URI = Span{int32(start), int32(p)}
	for p < len(buf) && isSP(buf[p]) {
		p++
	}
	// HTTP/x.y in upper case, then the end of the line.
	if len(buf)-p < 8 || string(buf[p:p+5]) != "HTTP/" || !isDigit(buf[p+5]) || buf[p+6] != '.' || !isDigit(buf[p+7]) {
		return errBad
	}
	major, minor := buf[p+5]-'0', buf[p+7]-'0'
	if major == 0 {
		return errBad
	}
	m.Minor = 1
	if major == 1 && minor == 0 {
		m.Minor = 0
	}
	p += 8
	p, ok := lineEnd(buf, p)
	if !ok {
		return errBad
	}
	if err := m.parseHeaders(buf, p, maxHdr); err != nil {
		return err
	}
	return m.requestFraming(buf)
}

// ParseResponse parses a complete response head.
func ParseResponse(buf []byte, m *Msg, maxHdr int) error {
	m.reset()
	p := 0
	if len(buf) < 12 || string(buf[:5]) != "HTTP/" || !isDigit(buf[5]) || buf[6] != '.' || !isDigit(buf[7]) || !isSP(buf[8]) {
		return errBadResp
	}
	m.Minor = 1
	if buf[5] == '1' && buf[7] == '0' {
		m.Minor = 0
	}
	p = 9
	for p < len(buf) && isSP(buf[p]) {
		p++
	}
	if len(buf)-p < 3 || !isDigit(buf[p]) || !isDigit(buf[p+1]) || !isDigit(buf[p+2]) {
		return errBadResp
	}
	m.Status = int(buf[p]-'0')*100 + int(buf[p+1]-'0')*10 + int(buf[p+2]-'0')
	p += 3
	if m.Status < 100 || p < len(buf) && !isSP(buf[p]) && buf[p] != '\r' && buf[p] != '\n' {
		return errBadResp
	}
	start := p
	for p < len(buf) && buf[p] != '\r' && buf[p] != '\n' {
		p++
	}
	m.Reason = Span{int32(start), int32(p)}
	for m.Reason.Off < m.Reason.End && isSP(buf[m.Reason.Off]) {
		m.Reason.Off++
	}
	p, ok := lineEnd(buf, p)
	if !ok {
		return errBadResp
	}
	if err := m.parseHeaders(buf, p, maxHdr); err != nil {
		return errBadResp
	}
	return m.responseFraming(buf)
}

func (m *Msg) reset() {
	h := m.Headers[:0]
	*m = Msg{Headers: h}
}

func isSP(c byte) bool    { return c == ' ' || c == '\t' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lineEnd expects CRLF or LF at p and returns the offset after it.
func lineEnd(buf []byte, p int) (int, bool) {
	if p < len(buf) && buf[p] == '\n' {
		return p + 1, true
	}
	if p+1 < len(buf) && buf[p] == '\r' && buf[p+1] == '\n' {
		return p + 2, true
	}
	return p, false
}

func (m *Msg) parseHeaders(buf []byte, p, maxHdr int) error {
	for {
		if q, ok := lineEnd(buf, p); ok {
			m.HeadLen = q
			return nil
		}
		if p >= len(buf) {
			return errBad
		}
		start := p
		for p < len(buf) && tchar[buf[p]] {
			p++
		}
		if p == start || p >= len(buf) || buf[p] != ':' {
			return errBad
		}
		name := Span{int32(start), int32(p)}
		p++
		for p < len(buf) && isSP(buf[p]) {
			p++
		}
		vs := p
		ve := p
		for {
			for p < len(buf) && buf[p] != '\r' && buf[p] != '\n' {
				if buf[p] == 0 {
					return errBad
				}
				if !isSP(buf[p]) {
					ve = p + 1
				}
				p++
			}
			q, ok := lineEnd(buf, p)
			if !ok {
				return errBad
			}
			// obs-fold: the line break becomes spaces, as HAProxy does.
			if q < len(buf) && isSP(buf[q]) {
				for i := p; i < q; i++ {
					buf[i] = ' '
				}
				m.folded = true
				p = q
				continue
			}
			if vs > ve {
				ve = vs
			}
			if len(m.Headers) >= maxHdr {
				return errTooMany
			}
			m.Headers = append(m.Headers, Header{name, Span{int32(vs), int32(ve)}})
			p = q
			break
		}
	}
}

// EqualFold compares b with a lower-case ASCII string, ignoring case.
func EqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != lower[i] {
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
				bad := false
				commaItems(h.Value.Of(buf), func(t []byte) bool {
					n, ok := parseLength(t)
					if !ok || (cl >= 0 && n != cl) {
						bad = true
						return false
					}
					cl = n
					return true
				})
				if bad || cl < 0 {
					return errBadCL
				}
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
	if m.HasTE {
		// A request body whose end cannot be found is refused (400);
		// codings other than chunked are not supported (422).
		if m.Body != BodyChunked {
			return errBadTE
		}
		if m.teOther {
			return errTENotLast
		}
		if m.HasCL {
			m.Conn |= ConnClose
		}
	} else if m.Body != BodyLength {
		m.Body = BodyNone
	}
	return nil
}

func (m *Msg) responseFraming(buf []byte) error {
	if err := m.scanHeaders(buf); err != nil {
		return errBadResp
	}
	if m.HasTE && m.Body != BodyChunked {
		m.Body = BodyUntilClose
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
func (m *Msg) KeepAlive() bool {
	if m.Conn&ConnClose != 0 {
		return false
	}
	return m.Minor == 1 || m.Conn&ConnKeepAlive != 0
}

// IsWebSocket reports whether a request asks for a WebSocket upgrade.
func (m *Msg) IsWebSocket(buf []byte) bool {
	return m.Conn&ConnUpgrade != 0 && EqualFold(m.Upgrade.Of(buf), "websocket")
}
