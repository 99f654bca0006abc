package logging

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
)

// SampleFunc returns the string value of a compiled sample expression for
// a record; ok is false when the sample does not exist. The value may
// point into the owner's buffers.
type SampleFunc func(r *Record) (val []byte, ok bool)

// SampleCompiler compiles the text of a %[...] node.
type SampleCompiler func(expr string, opts logfmt.Opt) (SampleFunc, error)

type op struct {
	v      logfmt.Var
	opts   logfmt.Opt
	text   []byte
	sample SampleFunc
}

// Format is a compiled log-format.
type Format struct {
	ops []op
	// MaxLen is the size of HAProxy's line buffer (global.max_syslog_len:
	// 1024, or the largest "len" of the targets): lines are cut to
	// MaxLen-1 bytes the way sess_build_logline() cuts them.
	MaxLen int
}

// Compile prepares nodes for rendering. sample compiles %[...] nodes; it
// may be nil when there are none.
func Compile(nodes []logfmt.Node, sample SampleCompiler) (*Format, error) {
	f := &Format{MaxLen: MaxLenDefault}
	for _, n := range nodes {
		switch n.Kind {
		case logfmt.Text:
			f.ops = append(f.ops, op{v: logfmt.VarText, text: []byte(n.Text)})
		case logfmt.Separator:
			f.ops = append(f.ops, op{v: logfmt.VarSeparator})
		case logfmt.Variable:
			f.ops = append(f.ops, op{v: n.Var, opts: n.Opts})
		case logfmt.Expr:
			if sample == nil {
				return nil, fmt.Errorf("no sample engine for %%[%s]", n.Expr)
			}
			fn, err := sample(n.Expr, n.Opts)
			if err != nil {
				return nil, err
			}
			f.ops = append(f.ops, op{v: logfmt.VarExpr, opts: n.Opts, sample: fn})
		}
	}
	return f, nil
}

// IsConst says the format prints only text: it renders the same for
// every record.
func (f *Format) IsConst() bool {
	for _, o := range f.ops {
		if o.v != logfmt.VarText && o.v != logfmt.VarSeparator {
			return false
		}
	}
	return true
}

// line is the output under construction: lim is the absolute end of
// HAProxy's buffer (start + maxsize); one byte is kept for the NUL.
type line struct {
	b   []byte
	lim int
}

func (l *line) room() int { return l.lim - len(l.b) }

// char is LOGCHAR().
func (l *line) char(c byte) bool {
	if len(l.b) < l.lim-1 {
		l.b = append(l.b, c)
		return true
	}
	return false
}

// cut returns s up to its first NUL, as C string functions read it.
func cut(s []byte) []byte {
	for i, c := range s {
		if c == 0 {
			return s[:i]
		}
	}
	return s
}

func cutStr(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// strlcpy2 copies what fits in size bytes, NUL included.
func (l *line) strlcpy2(src []byte, size int) int {
	n := 0
	if size > 0 {
		n = min(len(cut(src)), size-1)
		l.b = append(l.b, src[:n]...)
	}
	return n
}

func (l *line) strlcpy2s(src string, size int) int {
	n := 0
	if size > 0 {
		n = min(len(cutStr(src)), size-1)
		l.b = append(l.b, src[:n]...)
	}
	return n
}

func digits(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// ultoa is ultoa_o()/ulltoa(): all digits and the NUL must fit.
func (l *line) ultoa(n uint64, size int) bool {
	if digits(n)+1 > size {
		return false
	}
	l.b = appendUint(l.b, n)
	return true
}

// ltoa is ltoa_o()/lltoa().
func (l *line) ltoa(n int64) bool {
	size := l.room()
	if n < 0 {
		if size < 3 {
			return false
		}
		l.b = append(l.b, '-')
		if !l.ultoa(uint64(-n), size-1) {
			l.b = l.b[:len(l.b)-1]
			return false
		}
		return true
	}
	return l.ultoa(uint64(n), size)
}

const hexUpper = "0123456789ABCDEF"

// hexN is snprintf("%0NX").
func (l *line) hexN(n uint64, width int) bool {
	var b [16]byte
	i := len(b)
	for n > 0 || len(b)-i < width {
		i--
		b[i] = hexUpper[n&15]
		n >>= 4
	}
	if len(b)-i >= l.room() {
		return false
	}
	l.b = append(l.b, b[i:]...)
	return true
}

// textLen is lf_text_len() with len(src) as its length: quoting, +E
// escaping (bounded by that length, as HAProxy does), "-" for an empty
// value.
func (l *line) textLen(src []byte, present bool, size int, o logfmt.Opt) bool {
	return l.lfText(src, present && len(src) > 0, len(src), size, o)
}

// text is lf_text(): the length given is the room left, so a present
// empty string prints nothing rather than "-".
func (l *line) text(src []byte, present bool, o logfmt.Opt) bool {
	size := l.room()
	return l.lfText(src, present, size, size, o)
}

func (l *line) lfText(src []byte, present bool, n, size int, o logfmt.Opt) bool {
	if size < 2 {
		return false
	}
	if o&logfmt.OptQuote != 0 {
		l.b = append(l.b, '"')
		size--
	}
	if present {
		n++
		if n > size {
			n = size
		}
		var w int
		if o&logfmt.OptEsc != 0 {
			w = l.escape(cut(src), n)
		} else {
			w = l.strlcpy2(src, n)
		}
		size -= w
	} else if o&(logfmt.OptQuote|logfmt.OptMandatory) == logfmt.OptMandatory {
		l.b = append(l.b, '-')
	}
	if o&logfmt.OptQuote != 0 {
		if size < 2 {
			return false
		}
		l.b = append(l.b, '"')
	}
	return true
}

func (l *line) str(src string, o logfmt.Opt) bool {
	return l.text(unsafeBytes(src), true, o)
}

// escape is escape_string() with the rfc5424 map into n bytes.
func (l *line) escape(src []byte, n int) int {
	if n <= 0 {
		return 0
	}
	start := len(l.b)
	stop := start + n - 1
	for _, c := range src {
		if len(l.b) >= stop {
			break
		}
		if !rfc5424Esc.has(c) {
			l.b = append(l.b, c)
		} else {
			if len(l.b)+2 >= stop {
				break
			}
			l.b = append(l.b, '\\', c)
		}
	}
	return len(l.b) - start
}

// encode is lf_encode_string()/lf_encode_chunk() up to the end of the
// buffer: bytes of m become <esc>XX, and with +E the rfc5424 specials get
// a backslash.
func (l *line) encode(src []byte, esc byte, m *byteMap, o logfmt.Opt) bool {
	if len(l.b) >= l.lim {
		return false
	}
	stop := l.lim - 1
	e := o&logfmt.OptEsc != 0
	for _, c := range src {
		if len(l.b) >= stop {
			break
		}
		switch {
		case m.has(c):
			if len(l.b)+3 >= stop {
				return true
			}
			l.b = append(l.b, esc, hexUpper[c>>4], hexUpper[c&15])
		case e && rfc5424Esc.has(c):
			if len(l.b)+2 >= stop {
				return true
			}
			l.b = append(l.b, '\\', c)
		default:
			l.b = append(l.b, c)
		}
	}
	return true
}

func (l *line) ip(a netip.AddrPort, unix bool, o logfmt.Opt) bool {
	if unix {
		return l.str("unix", o)
	}
	if !a.IsValid() {
		return l.textLen(nil, false, l.room(), o)
	}
	addr := a.Addr()
	if o&logfmt.OptHexa != 0 {
		var b [16]byte
		var s []byte
		if addr.Is4() {
			v := addr.As4()
			s = append(b[:0], v[:]...)
		} else {
			v := addr.As16()
			s = append(b[:0], v[:]...)
		}
		if 2*len(s) >= l.room() {
			return false
		}
		for _, c := range s {
			l.b = append(l.b, hexUpper[c>>4], hexUpper[c&15])
		}
		return true
	}
	var buf [64]byte
	return l.text(addr.WithZone("").AppendTo(buf[:0]), true, o)
}

func (l *line) port(a netip.AddrPort, unix bool, luid int, o logfmt.Opt) bool {
	switch {
	case unix:
		return l.ltoa(int64(luid))
	case !a.IsValid():
		return l.textLen(nil, false, l.room(), o)
	case o&logfmt.OptHexa != 0:
		return l.hexN(uint64(a.Port()), 4)
	}
	return l.ltoa(int64(a.Port()))
}

// date is date2str_log(): "dd/Mmm/yyyy:HH:MM:SS.mmm".
func (l *line) date(t time.Time) bool {
	if l.room() < 25 {
		return false
	}
	l.dayTime(t)
	l.b = append(l.b, '.')
	l.b = appendPad(l.b, uint64(t.Nanosecond()/1e6), 3)
	return true
}

func (l *line) dayTime(t time.Time) {
	l.b = append(l.b, secondOf(t).day...)
}

// second is one second of one time zone as the log lines write it, so
// that the lines of a second render its date once.
type second struct {
	unix int64
	loc  *time.Location
	// day is "dd/Mmm/yyyy:HH:MM:SS", legacy "Mmm dd hh:mm:ss " (RFC 3164).
	day, legacy []byte
}

// lastSecond holds the last second rendered in local time and in UTC.
var lastSecond [2]atomic.Pointer[second]

// secondOf is t's second, rendered or taken from the last one rendered
// in its zone.
func secondOf(t time.Time) *second {
	unix, loc := t.Unix(), t.Location()
	var slot *atomic.Pointer[second]
	switch loc {
	case time.Local:
		slot = &lastSecond[0]
	case time.UTC:
		slot = &lastSecond[1]
	}
	if slot != nil {
		if c := slot.Load(); c != nil && c.unix == unix && c.loc == loc {
			return c
		}
	}
	c := &second{unix: unix, loc: loc}
	y, mon, d := t.Date()
	h, mi, s := t.Clock()
	b := make([]byte, 0, 48)
	b = appendPad(b, uint64(d), 2)
	b = append(b, '/')
	b = append(b, monthNames[mon-1]...)
	b = append(b, '/')
	b = appendPad(b, uint64(y), 4)
	b = append(b, ':')
	b = appendClock(b, h, mi, s)
	c.day = b[:len(b):len(b)]
	start := len(b)
	b = append(b, monthNames[mon-1]...)
	b = append(b, ' ')
	if d < 10 {
		b = append(b, ' ')
	}
	b = appendUint(b, uint64(d))
	b = append(b, ' ')
	b = appendClock(b, h, mi, s)
	c.legacy = append(b, ' ')[start:]
	if slot != nil {
		slot.Store(c)
	}
	return c
}

// zoned is gmt2str_log() (UTC) and localdate2str_log():
// "dd/Mmm/yyyy:HH:MM:SS +hhmm".
func (l *line) zoned(t time.Time) bool {
	if l.room() < 27 {
		return false
	}
	l.dayTime(t)
	var off [5]byte
	gmtOffset(&off, t)
	l.b = append(l.b, ' ')
	l.b = append(l.b, off[:]...)
	return true
}

// caps renders %hr/%hs: {a|b}.
func (l *line) caps(caps [][]byte, o logfmt.Opt) bool {
	q := o&logfmt.OptQuote != 0
	if q && !l.char('"') || !l.char('{') {
		return false
	}
	for i, h := range caps {
		if i > 0 && !l.char('|') {
			return false
		}
		if h != nil && !l.encode(cut(h), '#', &hdrEnc, o) {
			return false
		}
	}
	return l.char('}') && (!q || l.char('"'))
}

// capList renders %hrl/%hsl: one field per capture, '-' for a missing one.
func (l *line) capList(caps [][]byte, o logfmt.Opt) bool {
	q := o&logfmt.OptQuote != 0
	for i, h := range caps {
		if i > 0 && !l.char(' ') {
			return false
		}
		if q && !l.char('"') {
			return false
		}
		if h != nil {
			if !l.encode(cut(h), '#', &hdrEnc, o) {
				return false
			}
		} else if !q && !l.char('-') {
			return false
		}
		if q && !l.char('"') {
			return false
		}
	}
	return true
}

var badReq = []byte("<BADREQ>")

func isSPHT(c byte) bool { return c == ' ' || c == '\t' }

// uriPart cuts the part of the request line a %H* variable prints, as
// sess_build_logline() does.
func uriPart(v logfmt.Var, r []byte) []byte {
	if r == nil {
		return badReq
	}
	uri := cut(r)
	end := len(uri)
	if v == logfmt.VarHTTPQuery {
		i := 0
		for i < end && uri[i] != '?' {
			i++
		}
		q := i
		for i < end && !isSPHT(uri[i]) {
			i++
		}
		return uri[q:i]
	}
	if v == logfmt.VarHTTPMethod {
		i := 0
		for i < end && !isSPHT(uri[i]) {
			i++
		}
		if i == end {
			return badReq
		}
		return uri[:i]
	}
	i := 0
	for i < end && !isSPHT(uri[i]) {
		i++
	}
	nsp := 0
	for i < end && isSPHT(uri[i]) {
		i++
		nsp++
	}
	if nsp == 0 {
		return badReq
	}
	start := i
	switch v {
	case logfmt.VarHTTPVersion:
		for i < end && !isSPHT(uri[i]) {
			i++
		}
		for i < end && isSPHT(uri[i]) {
			i++
		}
		if i == end {
			return []byte("HTTP/0.9")
		}
		return uri[i:end]
	case logfmt.VarHTTPPath:
		for i < end && uri[i] != '?' && !isSPHT(uri[i]) {
			i++
		}
		return uri[start:i]
	case logfmt.VarHTTPPathOnly:
		for i < end && !isSPHT(uri[i]) {
			i++
		}
		p := parsePath(uri[start:i])
		for j, c := range p {
			if c == '?' {
				return p[:j]
			}
		}
		return p
	default: // %HU
		for i < end && !isSPHT(uri[i]) {
			i++
		}
		return uri[start:i]
	}
}

// parsePath is http_parse_path(): the path of an origin-form or
// absolute-form URI, nothing for "*" or an authority.
func parsePath(u []byte) []byte {
	if len(u) == 0 || u[0] == '*' {
		return nil
	}
	if u[0] == '/' {
		return u
	}
	isAlpha := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	if !isAlpha(u[0]) {
		return nil
	}
	i := 1
	for i < len(u) && (isAlpha(u[i]) || u[i] >= '0' && u[i] <= '9' || u[i] == '+' || u[i] == '-' || u[i] == '.') {
		i++
	}
	for _, want := range []byte("://") {
		if i == len(u) || u[i] != want {
			return nil
		}
		i++
	}
	for i < len(u) && u[i] != '/' {
		i++
	}
	if i == len(u) {
		return nil
	}
	return u[i:]
}

// Append renders the format for r after dst. It does not allocate when dst
// has room. An empty result means HAProxy would not send the line.
func (f *Format) Append(dst []byte, r *Record) []byte {
	maxsize := f.MaxLen
	if maxsize <= 0 {
		maxsize = MaxLenDefault
	}
	l := line{b: dst, lim: len(dst) + maxsize}
	lastSpace := true
	tReq := r.TRequest
loop:
	for i := range f.ops {
		o := &f.ops[i]
		ok := true
		if o.v == logfmt.VarTa || o.v == logfmt.VarTt || o.v == logfmt.VarTu || o.v == logfmt.VarBytes {
			if r.LogASAP && !l.char('+') {
				break loop
			}
		} else if o.v == logfmt.VarRetries && r.Flags&SFRedisp != 0 && !l.char('+') {
			break loop
		}
		mark := len(l.b)
		switch o.v {
		case logfmt.VarSeparator:
			if !lastSpace {
				if !l.char(' ') {
					break loop
				}
				lastSpace = true
			}
			continue
		case logfmt.VarText:
			ok = l.strlcpy2(o.text, l.room()) > 0
		case logfmt.VarExpr:
			val, present := o.sample(r)
			if o.opts&logfmt.OptHTTP != 0 {
				ok = l.encode(val, '%', &httpEnc, o.opts)
			} else {
				ok = l.textLen(val, present, l.room(), o.opts)
			}
		case logfmt.VarClientIP:
			ok = l.ip(r.Client, r.ClientUnix, o.opts)
		case logfmt.VarClientPort:
			ok = l.port(r.Client, r.ClientUnix, r.ListenerID, o.opts)
		case logfmt.VarFrontendIP:
			ok = l.ip(r.Frontend, r.FrontendUnix, o.opts)
		case logfmt.VarFrontendPort:
			ok = l.port(r.Frontend, r.FrontendUnix, r.ListenerID, o.opts)
		case logfmt.VarBackendIP:
			ok = l.ip(r.BackendSrc, r.ServerUnix, o.opts)
		case logfmt.VarBackendPort:
			ok = l.port(r.BackendSrc, r.ServerUnix, 0, o.opts)
		case logfmt.VarServerIP:
			ok = l.ip(r.Server, r.ServerUnix, o.opts)
		case logfmt.VarServerPort:
			ok = l.port(r.Server, r.ServerUnix, 0, o.opts)
		case logfmt.VarDate:
			ok = l.date(r.AcceptDate.Local())
		case logfmt.VarTrDate:
			ok = l.date(requestDate(r).Local())
		case logfmt.VarDateGMT:
			ok = l.zoned(r.AcceptDate.UTC())
		case logfmt.VarTrDateGMT:
			ok = l.zoned(requestDate(r).UTC())
		case logfmt.VarDateLocal:
			ok = l.zoned(r.AcceptDate.Local())
		case logfmt.VarTrDateLocal:
			ok = l.zoned(requestDate(r).Local())
		case logfmt.VarTS:
			if o.opts&logfmt.OptHexa != 0 {
				ok = l.hexN(uint64(uint32(r.AcceptDate.Unix())), 4)
			} else {
				ok = l.ltoa(r.AcceptDate.Unix())
			}
		case logfmt.VarMS:
			ms := uint64(r.AcceptDate.Nanosecond() / 1e6)
			if o.opts&logfmt.OptHexa != 0 {
				ok = l.hexN(ms, 2)
			} else if ok = l.room() >= 4; ok {
				l.b = appendPad(l.b, ms, 3)
			}
		case logfmt.VarFrontend:
			ok = l.str(r.FrontendName, o.opts)
		case logfmt.VarFrontendXprt:
			q := o.opts&logfmt.OptQuote != 0
			ok = (!q || l.char('"')) && l.strlcpy2s(r.FrontendName, l.room()) > 0 &&
				(!r.FrontendSSL || l.char('~')) && (!q || l.char('"'))
		case logfmt.VarSSLCipher:
			ok = l.text(r.SSLCipher, r.SSLCipher != nil, o.opts)
		case logfmt.VarSSLVersion:
			ok = l.text(r.SSLVersion, r.SSLVersion != nil, o.opts)
		case logfmt.VarBackend:
			ok = l.str(r.BackendName, o.opts)
		case logfmt.VarServer:
			s := r.ServerName
			if s == "" {
				s = "<NOSRV>"
			}
			ok = l.str(s, o.opts)
		case logfmt.VarTh:
			ok = l.ltoa(r.THandshake)
		case logfmt.VarTi:
			ok = l.ltoa(r.TIdle)
		case logfmt.VarTR:
			v := int64(-1)
			if tReq >= 0 {
				v = tReq - r.TIdle - r.THandshake
			}
			ok = l.ltoa(v)
		case logfmt.VarTq:
			ok = l.ltoa(tReq)
		case logfmt.VarTw:
			ok = l.ltoa(since(r.TQueue, tReq))
		case logfmt.VarTc:
			ok = l.ltoa(since(r.TConnect, r.TQueue))
		case logfmt.VarTr:
			ok = l.ltoa(since(r.TData, r.TConnect))
		case logfmt.VarTd:
			if r.BackendHTTP {
				ok = l.ltoa(after(r.TData, r.TClose))
			} else {
				ok = l.ltoa(after(r.TConnect, r.TClose))
			}
		case logfmt.VarTa:
			ok = l.ltoa(r.TClose - idleHandshake(r))
		case logfmt.VarTt:
			ok = l.ltoa(r.TClose)
		case logfmt.VarTu:
			idle := int64(0)
			if r.TIdle >= 0 {
				idle = r.TIdle
			}
			ok = l.ltoa(r.TClose - idle)
		case logfmt.VarStatus:
			ok = l.ltoa(int64(r.Status))
		case logfmt.VarBytes:
			ok = l.ltoa(r.BytesOut)
		case logfmt.VarBytesUp:
			ok = l.ltoa(r.BytesIn)
		case logfmt.VarCookieClient:
			ok = l.text(r.CliCookie, r.CliCookie != nil, o.opts)
		case logfmt.VarCookieServer:
			ok = l.text(r.SrvCookie, r.SrvCookie != nil, o.opts)
		case logfmt.VarTermState, logfmt.VarTermStateCk:
			ts := TermState(r.Flags)
			ok = l.char(ts[0]) && l.char(ts[1])
			if ok && o.v == logfmt.VarTermStateCk {
				ck := [2]byte{'-', '-'}
				if r.HasTxn && r.CookieEnabled {
					ck = CookieState(r.TxFlags)
				}
				ok = l.char(ck[0]) && l.char(ck[1])
			}
		case logfmt.VarActConn:
			ok = l.ltoa(r.ActConn)
		case logfmt.VarFeConn:
			ok = l.ltoa(r.FeConn)
		case logfmt.VarBeConn:
			ok = l.ltoa(r.BeConn)
		case logfmt.VarSrvConn:
			ok = l.ltoa(r.SrvConn)
		case logfmt.VarRetries:
			ok = l.ltoa(r.Retries)
		case logfmt.VarSrvQueue:
			ok = l.ltoa(r.SrvQueue)
		case logfmt.VarBckQueue:
			ok = l.ltoa(r.BckQueue)
		case logfmt.VarHdrRequest, logfmt.VarHdrResponse, logfmt.VarHdrRequestList, logfmt.VarHdrResponseList:
			caps := r.ReqCaps
			if o.v == logfmt.VarHdrResponse || o.v == logfmt.VarHdrResponseList {
				caps = r.ResCaps
			}
			if len(caps) == 0 {
				continue // no capture configured: nothing, not even a space
			}
			if o.v == logfmt.VarHdrRequest || o.v == logfmt.VarHdrResponse {
				ok = l.caps(caps, o.opts)
			} else {
				ok = l.capList(caps, o.opts)
			}
		case logfmt.VarRequest:
			uri := r.RequestLine
			if uri == nil {
				uri = badReq
			}
			q := o.opts&logfmt.OptQuote != 0
			ok = (!q || l.char('"')) && l.encode(cut(uri), '#', &urlEnc, o.opts) && (!q || l.char('"'))
		case logfmt.VarHTTPMethod, logfmt.VarHTTPURI, logfmt.VarHTTPPath, logfmt.VarHTTPPathOnly,
			logfmt.VarHTTPQuery, logfmt.VarHTTPVersion:
			q := o.opts&logfmt.OptQuote != 0
			ok = (!q || l.char('"')) && l.encode(uriPart(o.v, r.RequestLine), '#', &urlEnc, o.opts) && (!q || l.char('"'))
		case logfmt.VarCounter:
			ok = l.counter(uint64(r.ReqCounter), o.opts)
		case logfmt.VarLogCount:
			ok = l.counter(uint64(r.LogCount), o.opts)
		case logfmt.VarPID:
			ok = l.counter(uint64(r.PID), o.opts)
		case logfmt.VarHostname:
			ok = l.str(r.Hostname, o.opts)
		case logfmt.VarUniqueID:
			ok = l.textLen(r.UniqueID, r.UniqueID != nil, l.room(), o.opts)
		default:
			continue
		}
		if !ok {
			if restoresOnFailure(o.v) {
				l.b = l.b[:mark]
			}
			break loop
		}
		lastSpace = false
	}
	return l.b
}

// restoresOnFailure tells whether a variable is written by a helper that
// leaves nothing behind on failure; LOGCHAR sequences keep what they wrote.
func restoresOnFailure(v logfmt.Var) bool {
	switch v {
	case logfmt.VarTermState, logfmt.VarTermStateCk, logfmt.VarFrontendXprt,
		logfmt.VarHdrRequest, logfmt.VarHdrResponse, logfmt.VarHdrRequestList, logfmt.VarHdrResponseList,
		logfmt.VarRequest, logfmt.VarHTTPMethod, logfmt.VarHTTPURI, logfmt.VarHTTPPath,
		logfmt.VarHTTPPathOnly, logfmt.VarHTTPQuery, logfmt.VarHTTPVersion:
		return false
	}
	return true
}

func (l *line) counter(n uint64, o logfmt.Opt) bool {
	if o&logfmt.OptHexa != 0 {
		return l.hexN(n, 4)
	}
	return l.ultoa(n, l.room())
}

func since(t, from int64) int64 {
	if t >= 0 {
		return t - from
	}
	return -1
}

func after(from, end int64) int64 {
	if from >= 0 {
		return end - from
	}
	return -1
}

func idleHandshake(r *Record) int64 {
	if r.TIdle >= 0 {
		return r.TIdle + r.THandshake
	}
	return 0
}

func requestDate(r *Record) time.Time {
	return r.AcceptDate.Add(time.Duration(idleHandshake(r)) * time.Millisecond)
}
