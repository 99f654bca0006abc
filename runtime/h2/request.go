package h2

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// Pseudo-header indexes, as HAProxy's H2_PHDR_IDX_*.
const (
	phNone = iota
	phAuth
	phMeth
	phPath
	phSchm
	phStat
	phProt
	phCount
)

func pseudoIndex(name string) int {
	switch name {
	case ":path":
		return phPath
	case ":method":
		return phMeth
	case ":scheme":
		return phSchm
	case ":status":
		return phStat
	case ":authority":
		return phAuth
	case ":protocol":
		return phProt
	}
	return -1
}

// reqInfo is what the request conversion learns about the message.
type reqInfo struct {
	length    int64 // Content-Length when hasLength
	hasLength bool
	chunked   bool // body sent with chunked coding
	tunnel    bool // CONNECT or extended CONNECT: DATA is raw tunnel bytes
	ext       bool // extended CONNECT (RFC 8441)
	head      bool // HEAD: the response has no body
	// bad is set for a request HAProxy's HTTP layer answers with 400;
	// the h2 layer accepts it.
	bad bool
	// wsKey is the Sec-WebSocket-Key made up for the HTTP/1.1 side, whose
	// answer is then checked.
	wsKey    [24]byte
	hasWSKey bool
	// origin is "scheme://authority" of a request whose absolute URI goes
	// out in origin form: HAProxy's logs show the absolute one.
	origin string
	// schemeHTTP: :scheme is http, in any case.
	schemeHTTP bool
	// built says the Msg given to appendRequest is the parse of the head
	// it wrote (h1.Msg.StartRequest).
	built bool
}

// headBuilder records the lines appendRequest writes into m, the parse
// of the head, while ok holds.
type headBuilder struct {
	m  *h1.Msg
	ok bool
}

func span(a, b int) h1.Span { return h1.Span{Off: int32(a), End: int32(b)} }

// header appends a header line, lower case as HAProxy stores names
// (htx_add_header).
func (hb *headBuilder) header(dst []byte, n, v string) []byte {
	ns := len(dst)
	if strings.IndexByte(n, 'Z') < 0 {
		// validName let no other upper case through.
		dst = append(dst, n...)
	} else {
		dst = h1.AppendLowerString(dst, n)
	}
	ne := len(dst)
	dst = append(dst, ": "...)
	vs := len(dst)
	dst = append(dst, v...)
	if hb.ok {
		hb.ok = hb.m.AddHeader(dst, span(ns, ne), span(vs, len(dst)))
	}
	return append(dst, "\r\n"...)
}

// line records a line written whole, "name: value\r\n", the value
// starting at vs.
func (hb *headBuilder) line(dst []byte, ns, vs int) {
	if hb.ok {
		hb.ok = hb.m.AddHeader(dst, span(ns, vs-2), span(vs, len(dst)-2))
	}
}

// appendRequest converts a decoded request header list to an HTTP/1.1
// request head, appended to dst, following h2_make_htx_request (src/h2.c)
// and what HAProxy's H1 multiplexer then writes. ok is false for a
// request refused with RST_STREAM PROTOCOL_ERROR.
//
// lastOrigin is the origin of the connection's previous request, taken
// again when it is the same (see joinOrigin).
//
// m, when not nil, is made the parse of the head if it can be built as
// it is written (ri.built), which spares the engine parsing it again.
func appendRequest(dst []byte, hdrs []hpack.HeaderField, endStream bool, ri *reqInfo, lastOrigin string, m *h1.Msg) (_ []byte, ok bool) {
	*ri = reqInfo{}
	var ph [phCount]string
	var found uint32
	regular := false
	for i := range hdrs {
		n, v := hdrs[i].Name, hdrs[i].Value
		if n == "" {
			return dst, false
		}
		p := 0
		if n[0] == ':' {
			p = pseudoIndex(n)
		}
		if !validName(n, p != 0) || hasForbidden(v) {
			return dst, false
		}
		if p != 0 {
			if p < 0 || regular || found&(1<<p) != 0 {
				// Unknown, after regular headers, or repeated.
				return dst, false
			}
			found |= 1 << p
			ph[p] = v
			continue
		}
		regular = true
		switch n {
		case "connection", "proxy-connection", "keep-alive", "upgrade", "transfer-encoding":
			return dst, false
		case "te":
			if v != "trailers" {
				return dst, false
			}
		case "content-length":
			if !parseContentLength(v, ri) {
				return dst, false
			}
		}
	}
	if found&(1<<phStat) != 0 {
		return dst, false
	}
	has := func(p int) bool { return found&(1<<p) != 0 }

	meth, scheme := ph[phMeth], ph[phSchm]
	schemeKind := 0 // 1 http, 2 https, 3 other
	switch {
	case has(phMeth) && meth == "CONNECT" && has(phProt):
		if !has(phSchm) || !has(phPath) || !has(phAuth) {
			return dst, false
		}
		meth = "GET"
		ri.ext, ri.tunnel = true, true
	case has(phMeth) && meth == "CONNECT":
		if has(phSchm) || has(phPath) || !has(phAuth) {
			return dst, false
		}
		ri.tunnel = true
	case !has(phMeth) || !has(phSchm) || !has(phPath):
		return dst, false
	}
	if has(phSchm) {
		switch {
		case equalFoldASCII(scheme, "http"):
			schemeKind = 1
			ri.schemeHTTP = true
		case equalFoldASCII(scheme, "https"):
			schemeKind = 2
		default:
			schemeKind = 3
			if !validScheme(scheme) {
				ri.bad = true
			}
		}
	}
	path := ph[phPath]
	if has(phPath) {
		if path == "" || path[0] != '/' && path != "*" {
			return dst, false
		}
		for i := 0; i < len(path); i++ {
			// HAProxy 2.6 (as Debian ships it) refuses blanks, controls
			// and '#' in :path at the h2 layer; DEL is its HTTP layer's
			// 400, bytes above it go through (where the HTTP/1 parser
			// would refuse them).
			switch c := path[i]; {
			case c <= ' ' || c == '#':
				return dst, false
			case c == 0x7f:
				ri.bad = true
			}
		}
	}
	if meth == "" {
		return dst, false
	}
	for i := 0; i < len(meth); i++ {
		if !h1.IsToken(meth[i]) {
			ri.bad = true
		}
	}
	auth := ph[phAuth]
	for i := 0; i < len(auth); i++ {
		if c := auth[i]; c <= ' ' || c == 0x7f {
			// HAProxy's HTTP layer answers 400 to blanks and controls
			// in the authority.
			ri.bad = true
		}
	}
	hostVal := auth
	// The absolute URI's authority ends at its first '/': what follows
	// goes out as the start of the path (http_parse_authority), while
	// Host keeps the whole :authority.
	authPart, pathPre := auth, ""
	if has(phAuth) && schemeKind != 0 {
		if i := strings.IndexByte(auth, '/'); i >= 0 {
			authPart, pathPre = auth[:i], auth[i:]
		}
		// Scheme-based normalization: an empty or default port is
		// dropped from the target's authority and from Host, which
		// loses any userinfo then (http_scheme_based_normalize).
		ui := strings.LastIndexByte(authPart, '@') + 1
		hp := authPart[ui:]
		if h := dropDefaultPort(hp, schemeKind); len(h) != len(hp) {
			authPart, hostVal = authPart[:ui+len(h)], h
		}
	}
	start := len(dst)
	dst = append(dst, meth...)
	dst = append(dst, ' ')
	uriStart := len(dst)
	switch {
	case schemeKind == 0:
		dst = append(dst, auth...)
	case has(phAuth) && schemeKind != 3:
		// A normalized absolute URI goes out in origin form.
		switch {
		case path != "*" || pathPre != "":
			dst = append(dst, pathPre...)
			if path != "*" {
				dst = append(dst, path...)
			}
			ri.origin = joinOrigin(lastOrigin, scheme, authPart)
		default:
			// HAProxy's target is the origin alone, which the HTTP/1.1
			// side writes "*" (acl.AbsTarget): the engine sends it as
			// "*" for OPTIONS and "/" for the others, as HAProxy's
			// HTTP/1 side does.
			dst = append(dst, '*')
			ri.origin = joinOrigin(lastOrigin, scheme, authPart)
		}
	case has(phAuth):
		dst = append(dst, scheme...)
		dst = append(dst, "://"...)
		dst = append(dst, authPart...)
		dst = append(dst, pathPre...)
		if path != "*" {
			dst = append(dst, path...)
		}
	default:
		dst = append(dst, path...)
	}
	if len(dst) == uriStart {
		return dst[:start], false
	}
	uriEnd := len(dst)
	dst = append(dst, " HTTP/1.1\r\n"...)
	hb := headBuilder{m: m}
	if m != nil && start == 0 && !ri.bad {
		hb.ok = m.StartRequest(dst, span(0, uriStart-1), span(uriStart, uriEnd), span(uriEnd+1, uriEnd+9))
	}

	hostDone := false
	if regular && has(phAuth) {
		dst = hb.header(dst, "host", hostVal)
		hostDone = true
	}
	cookies, clDone := 0, false
	for i := range hdrs {
		n, v := hdrs[i].Name, hdrs[i].Value
		if n[0] == ':' {
			continue
		}
		switch n {
		case "host":
			if hostDone {
				continue
			}
			hostDone = true
		case "content-length":
			// The first one goes out cleaned, the equal others are
			// dropped.
			if clDone {
				continue
			}
			clDone = true
			if endStream && ri.length > 0 {
				// A bodyless request loses a non-zero length, as
				// HAProxy's H1 output does.
				continue
			}
			v = cleanLength(v)
		case "cookie":
			cookies++
			continue
		}
		dst = hb.header(dst, n, v)
	}
	if ri.ext {
		dst = hb.header(dst, "upgrade", ph[phProt])
		dst = hb.header(dst, "connection", "upgrade")
	}
	if !hostDone && has(phAuth) {
		dst = hb.header(dst, "host", hostVal)
	}
	if cookies > 0 {
		ns := len(dst)
		dst = append(dst, "cookie: "...)
		vs := len(dst)
		sep := false
		for i := range hdrs {
			if hdrs[i].Name == "cookie" {
				if sep {
					dst = append(dst, "; "...)
				}
				dst = append(dst, hdrs[i].Value...)
				sep = true
			}
		}
		dst = append(dst, "\r\n"...)
		hb.line(dst, ns, vs)
	}
	if ri.ext && equalFoldASCII(ph[phProt], "websocket") && !hasField(hdrs, "sec-websocket-key") {
		// RFC 8441 has no key; HAProxy's H1 side makes one up for the
		// HTTP/1.1 handshake, last, under this name.
		ns := len(dst)
		dst = append(dst, "Sec-Websocket-Key: "...)
		n := len(dst)
		dst = appendWSKey(dst)
		copy(ri.wsKey[:], dst[n:])
		ri.hasWSKey = true
		dst = append(dst, "\r\n"...)
		hb.line(dst, ns, n)
	}
	if ri.tunnel {
		ri.hasLength = false
	} else if !endStream && !ri.hasLength {
		ns := len(dst)
		dst = append(dst, "transfer-encoding: chunked\r\n"...)
		hb.line(dst, ns, ns+len("transfer-encoding: "))
		ri.chunked = true
	}
	ri.head = meth == "HEAD"
	dst = append(dst, "\r\n"...)
	ri.built = hb.ok && m.FinishRequest(dst, len(dst)) == nil
	return dst, true
}

// appendHeader appends a header line; HAProxy stores names lower case
// (htx_add_header), so they go out so.
func appendHeader(dst []byte, n, v string) []byte {
	dst = h1.AppendLowerString(dst, n)
	dst = append(dst, ": "...)
	dst = append(dst, v...)
	return append(dst, "\r\n"...)
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// validName applies HAProxy's check on header names: tokens without
// upper case. HAProxy's test is (c - 'A') < 'Z' - 'A', which lets 'Z'
// through; kept so that the same requests pass. A pseudo-header's
// leading colon is not checked. HAProxy's HTX stores a name's length in
// a byte: a longer one fails there as a bad one does.
func validName(n string, pseudo bool) bool {
	if len(n) > 255 {
		return false
	}
	i := 0
	if pseudo {
		i = 1
	}
	for ; i < len(n); i++ {
		if !nameChar[n[i]] {
			return false
		}
	}
	return true
}

var nameChar [256]bool

func init() {
	for c := 0; c < 256; c++ {
		nameChar[c] = !(byte(c)-'A' < 'Z'-'A') && h1.IsToken(byte(c))
	}
}

// hasForbidden reports NUL, CR or LF in a value (RFC 9113 8.2.1).
func hasForbidden(v string) bool { return h1.HasCtlCRLF(v) }

// parseContentLength checks a content-length value as
// h2_parse_cont_len_header does: a comma-separated list of equal decimal
// values, equal to any previous one.
func parseContentLength(v string, ri *reqInfo) bool {
	for i := 0; ; i++ {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		// Every element has a value: an empty one, or an empty list, is
		// refused (HAProxy's fix for CVE-2023-40225).
		if i == len(v) {
			return false
		}
		j := i
		var cl uint64
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			d := uint64(v[j] - '0')
			if cl > (1<<64-1)/10 || cl*10+d < cl*10 {
				return false
			}
			cl = cl*10 + d
			j++
		}
		if j == i {
			return false
		}
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		if j < len(v) && v[j] != ',' {
			return false
		}
		if cl > 1<<63-1 || ri.hasLength && int64(cl) != ri.length {
			return false
		}
		ri.hasLength, ri.length = true, int64(cl)
		if j == len(v) {
			return true
		}
		i = j
	}
}

// cleanLength returns the last value of a checked content-length list
// without blanks, as HAProxy forwards it.
func cleanLength(v string) string {
	e := len(v)
	for e > 0 && (v[e-1] < '0' || v[e-1] > '9') {
		e--
	}
	s := e
	for s > 0 && v[s-1] >= '0' && v[s-1] <= '9' {
		s--
	}
	return v[s:e]
}

// dropDefaultPort removes an empty port, ":80" (http) or ":443" (https)
// from an authority, as http_scheme_based_normalize does (HAProxy 2.6 as
// Debian ships it drops an empty one whatever the scheme).
func dropDefaultPort(auth string, schemeKind int) string {
	i := len(auth)
	for i > 0 && auth[i-1] >= '0' && auth[i-1] <= '9' {
		i--
	}
	if i == 0 || auth[i-1] != ':' {
		return auth
	}
	port := auth[i:]
	if port == "" || schemeKind == 1 && port == "80" || schemeKind == 2 && port == "443" {
		return auth[:i-1]
	}
	return auth
}

// validScheme is RFC 3986's scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func hasField(hdrs []hpack.HeaderField, name string) bool {
	for i := range hdrs {
		if hdrs[i].Name == name {
			return true
		}
	}
	return false
}

// appendWSKey appends a random Sec-WebSocket-Key (RFC 6455 4.1).
func appendWSKey(dst []byte) []byte {
	var k [16]byte
	rand.Read(k[:])
	return base64.StdEncoding.AppendEncode(dst, k[:])
}

// joinOrigin is scheme "://" host, or last when it says just that: the
// requests of a connection nearly always share their origin, which is
// then not made again for each.
func joinOrigin(last, scheme, host string) string {
	n := len(scheme)
	if len(last) == n+3+len(host) && last[:n] == scheme && last[n:n+3] == "://" && last[n+3:] == host {
		return last
	}
	return scheme + "://" + host
}
