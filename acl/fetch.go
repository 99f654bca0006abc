package acl

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/gohap/gohap/runtime/h1"
)

// fetchDefs are the sample fetches by keyword (configuration.txt 7.3.2 to
// 7.3.6), filled by init functions of the files that implement them.
var fetchDefs = map[string]*fetchDef{}

func addFetch(d ...*fetchDef) {
	for _, f := range d {
		fetchDefs[f.name] = f
	}
}

// alias registers the same fetch under other keywords.
func alias(name string, names ...string) {
	for _, n := range names {
		d := *fetchDefs[name]
		d.name = n
		fetchDefs[n] = &d
	}
}

func init() {
	addFetch(
		&fetchDef{name: "base", out: TypeStr, fn: fetchBase},
		&fetchDef{name: "baseq", out: TypeStr, fn: fetchBase},
		&fetchDef{name: "base32", out: TypeInt, fn: fetchBase32},
		&fetchDef{name: "base32+src", out: TypeBin, fn: fetchBase32Src},
		&fetchDef{name: "url32", out: TypeInt, fn: fetchURL32},
		&fetchDef{name: "url32+src", out: TypeBin, fn: fetchURL32Src},
		&fetchDef{name: "path", out: TypeStr, fn: fetchPath},
		&fetchDef{name: "pathq", out: TypeStr, fn: fetchPathQ},
		&fetchDef{name: "query", out: TypeStr, fn: fetchQuery},
		&fetchDef{name: "url", out: TypeStr, fn: fetchURL},
		&fetchDef{name: "url_ip", out: TypeIPv4, fn: fetchURLIP},
		&fetchDef{name: "url_port", out: TypeInt, fn: fetchURLPort},
		&fetchDef{name: "url_param", args: spec(0, aStr, aStr), out: TypeStr, fn: fetchURLParam, iter: iterURLParam, check: checkParam},
		&fetchDef{name: "urlp_val", args: spec(0, aStr, aStr), out: TypeInt, fn: fetchURLParamVal, check: checkParam},
		&fetchDef{name: "method", out: TypeMeth, fn: fetchMethod},
		&fetchDef{name: "req.ver", out: TypeStr, fn: fetchReqVer},
		&fetchDef{name: "res.ver", out: TypeStr, fn: fetchResVer},
		&fetchDef{name: "req.proto_http", out: TypeBool, fn: fetchProtoHTTP},
		&fetchDef{name: "status", out: TypeInt, fn: fetchStatus},
		&fetchDef{name: "txn.status", out: TypeInt, fn: fetchStatus},

		&fetchDef{name: "req.hdr", args: spec(0, aStr, aSint), out: TypeStr, fn: fetchHdr, iter: iterHdr, check: checkHdr},
		&fetchDef{name: "req.fhdr", args: spec(0, aStr, aSint), out: TypeStr, fn: fetchHdr, iter: iterHdr, check: checkHdr},
		&fetchDef{name: "req.hdr_cnt", args: spec(0, aStr), out: TypeInt, fn: fetchHdrCnt, check: checkHdr},
		&fetchDef{name: "req.fhdr_cnt", args: spec(0, aStr), out: TypeInt, fn: fetchHdrCnt, check: checkHdr},
		&fetchDef{name: "req.hdr_ip", args: spec(0, aStr, aSint), out: TypeIPv4, fn: fetchHdrIP, iter: iterHdrIP, check: checkHdr},
		&fetchDef{name: "req.hdr_val", args: spec(0, aStr, aSint), out: TypeInt, fn: fetchHdrVal, iter: iterHdrVal, check: checkHdr},
		&fetchDef{name: "req.hdr_names", args: spec(0, aStr), out: TypeStr, fn: fetchHdrNames, check: checkHdr},
		&fetchDef{name: "req.hdrs", out: TypeBin, fn: fetchHdrs, check: checkHdr},
		&fetchDef{name: "req.hdrs_bin", out: TypeBin, fn: fetchHdrsBin, check: checkHdr},
		&fetchDef{name: "req.cook", args: spec(0, aStr), out: TypeStr, fn: fetchCook, iter: iterCook, check: checkHdr},
		&fetchDef{name: "req.cook_cnt", args: spec(0, aStr), out: TypeInt, fn: fetchCookCnt, check: checkHdr},
		&fetchDef{name: "req.cook_val", args: spec(0, aStr), out: TypeInt, fn: fetchCookVal, iter: iterCookVal, check: checkHdr},

		&fetchDef{name: "http_auth_type", out: TypeStr, fn: fetchAuthType},
		&fetchDef{name: "http_auth_user", out: TypeStr, fn: fetchAuthUser},
		&fetchDef{name: "http_auth_pass", out: TypeStr, fn: fetchAuthPass},
		&fetchDef{name: "http_auth_bearer", args: spec(0, aStr), out: TypeStr, fn: fetchAuthBearer},
		&fetchDef{name: "http_auth", args: spec(1, aUsr), out: TypeBool, fn: fetchHTTPAuth, check: checkUserlist},
		&fetchDef{name: "http_auth_group", args: spec(1, aUsr), out: TypeStr, fn: fetchHTTPAuthGroup, check: checkUserlist},

		&fetchDef{name: "req.body", out: TypeBin, fn: fetchBody},
		&fetchDef{name: "req.body_len", out: TypeInt, fn: fetchBodyLen},
		&fetchDef{name: "req.body_size", out: TypeInt, fn: fetchBodySize},
		&fetchDef{name: "req.body_param", args: spec(0, aStr), out: TypeBin, fn: fetchBodyParam, iter: iterBodyParam},

		&fetchDef{name: "capture.req.hdr", args: spec(1, aSint), out: TypeStr, fn: fetchCapture},
		&fetchDef{name: "capture.res.hdr", args: spec(1, aSint), out: TypeStr, fn: fetchCapture},
		&fetchDef{name: "capture.req.method", out: TypeStr, fn: fetchCapMethod},
		&fetchDef{name: "capture.req.uri", out: TypeStr, fn: fetchCapReqURI},
		&fetchDef{name: "capture.req.ver", out: TypeStr, fn: fetchCapReqVer},
		&fetchDef{name: "capture.res.ver", out: TypeStr, fn: fetchCapResVer},
		&fetchDef{name: "unique-id", out: TypeStr, fn: fetchUniqueID},
		&fetchDef{name: "res.comp", out: TypeBool, fn: fetchResComp},
		&fetchDef{name: "res.comp_algo", out: TypeStr, fn: fetchResCompAlgo},
	)
	for _, n := range []string{"res.hdr", "res.fhdr", "res.hdr_cnt", "res.fhdr_cnt", "res.hdr_ip", "res.hdr_val", "res.hdr_names", "res.hdrs", "res.hdrs_bin", "res.cook", "res.cook_cnt", "res.cook_val"} {
		d := *fetchDefs["req."+n[4:]]
		d.name = n
		fetchDefs[n] = &d
	}
	alias("req.hdr", "hdr")
	alias("req.hdr_cnt", "hdr_cnt")
	alias("req.hdr_ip", "hdr_ip")
	alias("req.hdr_val", "hdr_val")
	alias("res.hdr", "shdr")
	alias("res.hdr_cnt", "shdr_cnt")
	alias("res.hdr_ip", "shdr_ip")
	alias("res.hdr_val", "shdr_val")
	alias("req.cook", "cook", "cookie")
	alias("req.cook_cnt", "cook_cnt")
	alias("req.cook_val", "cook_val")
	alias("res.cook", "scook", "set-cookie")
	alias("res.cook_cnt", "scook_cnt")
	alias("res.cook_val", "scook_val")
	alias("url_param", "urlp")
	alias("req.ver", "req_ver")
	alias("res.ver", "resp_ver")
	alias("req.proto_http", "req_proto_http")
}

// checkHdr compiles a header, cookie or hdr_names fetch's arguments.
func checkHdr(fe *fetch, _ *Context) error {
	fe.res = strings.HasPrefix(fe.def.name, "res.") || fe.def.name[0] == 's'
	// the hdr sample fetch follows the rule's channel; the ACL keyword
	// hdr is req.hdr
	fe.dyn = fe.def.name == "hdr"
	name := argStr(fe.args, 0)
	if strings.Contains(fe.def.name, "cook") {
		fe.name = name
	} else {
		fe.name = strings.ToLower(name)
	}
	fe.occ = int(argInt(fe.args, 1, 0))
	return nil
}

// msg is the head a header fetch reads; nil when it is not there yet.
func (fe *fetch) msg(t *Txn) ([]byte, *h1.Msg) {
	if fe.res || fe.dyn && t.Dir == DirRes {
		return t.RspBuf, t.Rsp
	}
	return t.Buf, t.Req
}

// hdrIter walks the values of the headers of one name (every header when
// the name is empty): comma-separated items, or whole lines when full.
type hdrIter struct {
	buf  []byte
	hs   []h1.Header
	name string
	full bool
	i    int
	rest []byte
	more bool
}

func (it *hdrIter) next() ([]byte, bool) {
	for {
		if it.more {
			var item []byte
			item, it.rest, it.more = nextItem(it.rest)
			return item, true
		}
		if it.i >= len(it.hs) {
			return nil, false
		}
		h := it.hs[it.i]
		it.i++
		if it.name != "" && !h1.EqualFold(h.Name.Of(it.buf), it.name) {
			continue
		}
		v := h.Value.Of(it.buf)
		if it.full {
			return v, true
		}
		it.rest, it.more = v, true
	}
}

// nextItem splits the first comma-separated item off v, trimmed.
func nextItem(v []byte) (item, rest []byte, more bool) {
	i := bytes.IndexByte(v, ',')
	item = v
	if i >= 0 {
		item, rest, more = v[:i], v[i+1:], true
	}
	return trimSP(item), rest, more
}

func trimSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func (fe *fetch) headers(t *Txn, name string, full bool) (hdrIter, bool) {
	buf, m := fe.msg(t)
	if m == nil {
		return hdrIter{}, false
	}
	return hdrIter{buf: buf, hs: m.Headers, name: name, full: full}, true
}

func (fe *fetch) full() bool { return strings.Contains(fe.def.name, "fhdr") }

// hdrOcc returns occurrence occ of the fetch's header (>0 from the first,
// <0 from the last).
func (fe *fetch) hdrOcc(t *Txn, occ int) ([]byte, bool) {
	it, ok := fe.headers(t, fe.name, fe.full())
	if !ok {
		return nil, false
	}
	if occ < 0 {
		n := 0
		for c := it; ; n++ {
			if _, ok := c.next(); !ok {
				break
			}
		}
		occ = n + occ + 1
		if occ < 1 {
			return nil, false
		}
	}
	for n := 1; ; n++ {
		v, ok := it.next()
		if !ok {
			return nil, false
		}
		if n == occ {
			return v, true
		}
	}
}

func fetchHdr(fe *fetch, t *Txn, v *Value) bool {
	occ := fe.occ
	if occ == 0 {
		occ = -1 // a single fetch takes the last value
	}
	b, ok := fe.hdrOcc(t, occ)
	v.Type, v.B = TypeStr, b
	return ok
}

func iterHdr(fe *fetch, t *Txn, vis visitor) bool {
	if fe.occ != 0 {
		v := &t.iv
		*v = Value{}
		if !fetchHdr(fe, t, v) {
			return false
		}
		vis.visit(t, v)
		return true
	}
	it, ok := fe.headers(t, fe.name, fe.full())
	if !ok {
		return false
	}
	found := false
	for {
		b, ok := it.next()
		if !ok {
			return found
		}
		found = true
		v := &t.iv
		*v = Value{Type: TypeStr, B: b}
		if vis.visit(t, v) {
			return true
		}
	}
}

func fetchHdrCnt(fe *fetch, t *Txn, v *Value) bool {
	it, ok := fe.headers(t, fe.name, fe.full())
	if !ok {
		return false
	}
	n := int64(0)
	for {
		if _, ok := it.next(); !ok {
			break
		}
		n++
	}
	v.Type, v.I = TypeInt, n
	return true
}

// hdrIP converts a header value as smp_fetch_hdr_ip does: an IPv4
// address, optionally with a port, or an IPv6 address.
func hdrIP(b []byte, v *Value) bool {
	if a, n := url2ipv4(b); n > 0 {
		if n == len(b) {
			v.Type, v.IP = TypeIPv4, a
			return true
		}
		if b[n] == ':' {
			if p, ok := strictUint(b[n+1:]); ok && p <= 65535 {
				v.Type, v.IP = TypeIPv4, a
				return true
			}
		}
	}
	if a, ok := buf2ip6(b); ok {
		v.Type, v.IP = TypeIPv6, a
		return true
	}
	return false
}

// strictUint parses digits only (strl2irc).
func strictUint(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func fetchHdrIP(fe *fetch, t *Txn, v *Value) bool {
	if fe.occ != 0 {
		b, ok := fe.hdrOcc(t, fe.occ)
		return ok && hdrIP(b, v)
	}
	// The last value that is an address.
	it, ok := fe.headers(t, fe.name, false)
	if !ok {
		return false
	}
	found := false
	for {
		b, ok := it.next()
		if !ok {
			return found
		}
		var x Value
		if hdrIP(b, &x) {
			*v, found = x, true
		}
	}
}

// hdrVisitor adapts a header walk to a typed fetch.
type hdrVisitor struct {
	vis   visitor
	ip    bool
	found bool
}

func (h *hdrVisitor) visit(t *Txn, v *Value) bool {
	if h.ip {
		if !hdrIP(v.B, v) {
			return false
		}
	} else {
		v.Type, v.I = TypeInt, strl2ic(v.B)
	}
	h.found = true
	return h.vis.visit(t, v)
}

func iterHdrIP(fe *fetch, t *Txn, vis visitor) bool {
	h := &t.hv
	*h = hdrVisitor{vis: vis, ip: true}
	iterHdr(fe, t, h)
	return h.found
}

func fetchHdrVal(fe *fetch, t *Txn, v *Value) bool {
	if !fetchHdr(fe, t, v) {
		return false
	}
	v.Type, v.I = TypeInt, strl2ic(v.B)
	return true
}

func iterHdrVal(fe *fetch, t *Txn, vis visitor) bool {
	h := &t.hv
	*h = hdrVisitor{vis: vis}
	return iterHdr(fe, t, h)
}

// strl2ic is HAProxy's: an optional '-' then digits, stopping at the first
// other byte, as a 32-bit int.
func strl2ic(b []byte) int64 {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var n int32
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int32(c-'0')
	}
	if neg {
		n = -n
	}
	return int64(n)
}

func fetchHdrNames(fe *fetch, t *Txn, v *Value) bool {
	buf, m := fe.msg(t)
	if m == nil {
		return false
	}
	del := byte(',')
	if s := argStr(fe.args, 0); s != "" {
		del = s[0]
	}
	out := t.tmp()
	for i, h := range m.Headers {
		if i > 0 {
			out = append(out, del)
		}
		out = appendLower(out, h.Name.Of(buf))
	}
	v.Type, v.B = TypeStr, t.keep(out)
	return true
}

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		dst = append(dst, c)
	}
	return dst
}

// fetchHdrs is req.hdrs: the header block as HTTP/1 writes it, with
// lower-case names as HAProxy's HTX stores them, and the final CRLF.
func fetchHdrs(fe *fetch, t *Txn, v *Value) bool {
	buf, m := fe.msg(t)
	if m == nil {
		return false
	}
	out := t.tmp()
	for _, h := range m.Headers {
		out = appendLower(out, h.Name.Of(buf))
		out = append(out, ": "...)
		out = append(out, h.Value.Of(buf)...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "\r\n"...)
	v.Type, v.B = TypeStr, t.keep(out)
	return true
}

// fetchHdrsBin is req.hdrs_bin: for each header a varint name length, the
// name, a varint value length and the value; two zero bytes end it.
func fetchHdrsBin(fe *fetch, t *Txn, v *Value) bool {
	buf, m := fe.msg(t)
	if m == nil {
		return false
	}
	out := t.tmp()
	for _, h := range m.Headers {
		n, val := h.Name.Of(buf), h.Value.Of(buf)
		out = appendVarint(out, uint64(len(n)))
		out = appendLower(out, n)
		out = appendVarint(out, uint64(len(val)))
		out = append(out, val...)
	}
	out = append(out, 0, 0)
	v.Type, v.B = TypeBin, t.keep(out)
	return true
}

// appendVarint is HAProxy's encode_varint (include/haproxy/intops.h).
func appendVarint(dst []byte, i uint64) []byte {
	if i < 240 {
		return append(dst, byte(i))
	}
	dst = append(dst, byte(i)|240)
	i = (i - 240) >> 4
	for i >= 128 {
		dst = append(dst, byte(i)|128)
		i = (i - 128) >> 7
	}
	return append(dst, byte(i))
}

// cookieIter walks the cookies of the Cookie (request) or Set-Cookie
// (response) headers, as http_extract_cookie_value does.
type cookieIter struct {
	hi   hdrIter
	name string
	list bool
	cur  []byte
	on   bool
}

func (fe *fetch) cookies(t *Txn) (cookieIter, bool) {
	hname := "cookie"
	if fe.res {
		hname = "set-cookie"
	}
	it, ok := fe.headers(t, hname, false)
	return cookieIter{hi: it, name: fe.name, list: !fe.res}, ok
}

func (c *cookieIter) next() ([]byte, bool) {
	for {
		if !c.on {
			v, ok := c.hi.next()
			if !ok {
				return nil, false
			}
			if len(v) < len(c.name)+1 {
				continue
			}
			c.cur, c.on = v, true
		}
		val, rest, ok := extractCookie(c.cur, c.name, c.list)
		if !ok {
			c.on = false
			continue
		}
		c.cur = rest
		return val, true
	}
}

func isSPHT(c byte) bool { return c == ' ' || c == '\t' }

// extractCookie is http_extract_cookie_value (src/http.c): the value of
// the first cookie named name (any when empty) in hdr, and what follows.
func extractCookie(hdr []byte, name string, list bool) (val, rest []byte, ok bool) {
	end := len(hdr)
	for att := 0; att+len(name)+1 < end; {
		for att < end && isSPHT(hdr[att]) {
			att++
		}
		equal, attEnd := att, att
		for equal < end {
			c := hdr[equal]
			if c == '=' || c == ';' || list && c == ',' {
				break
			}
			equal++
			if isSPHT(c) {
				continue
			}
			attEnd = equal
		}
		var vb, ve, next int
		if equal < end && hdr[equal] == '=' {
			vb = equal + 1
			for vb < end && isSPHT(hdr[vb]) {
				vb++
			}
			next = cookieValueEnd(hdr, vb)
			ve = next
			for ve > vb && isSPHT(hdr[ve-1]) {
				ve--
			}
		} else {
			vb, ve, next = equal, equal, equal
		}
		skip := att < end && hdr[att] == '$' || equal == next
		if !skip && (name == "" || string(hdr[att:attEnd]) == name) {
			if next+1 > end {
				return hdr[vb:ve], nil, true
			}
			return hdr[vb:ve], hdr[next+1:], true
		}
		if !skip && !list {
			break
		}
		att = next + 1
	}
	return nil, nil, false
}

// cookieValueEnd is http_find_cookie_value_end: quotes may hold delimiters.
func cookieValueEnd(b []byte, s int) int {
	quoted, qd := false, false
	for ; s < len(b); s++ {
		c := b[s]
		switch {
		case qd:
			qd = false
		case quoted:
			if c == '\\' {
				qd = true
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == ',' || c == ';':
			return s
		}
	}
	return s
}

// fetchCook returns the first cookie when no name is given, else the last
// one of that name, as smp_fetch_cookie does outside ACLs.
func fetchCook(fe *fetch, t *Txn, v *Value) bool {
	it, ok := fe.cookies(t)
	if !ok {
		return false
	}
	found := false
	for {
		b, ok := it.next()
		if !ok {
			return found
		}
		v.Type, v.B, found = TypeStr, b, true
		if fe.name == "" {
			return true
		}
	}
}

func iterCook(fe *fetch, t *Txn, vis visitor) bool {
	it, ok := fe.cookies(t)
	if !ok {
		return false
	}
	found := false
	for {
		b, ok := it.next()
		if !ok {
			return found
		}
		found = true
		v := &t.iv
		*v = Value{Type: TypeStr, B: b}
		if vis.visit(t, v) {
			return true
		}
	}
}

func fetchCookCnt(fe *fetch, t *Txn, v *Value) bool {
	it, ok := fe.cookies(t)
	if !ok {
		return false
	}
	n := int64(0)
	for {
		if _, ok := it.next(); !ok {
			break
		}
		n++
	}
	v.Type, v.I = TypeInt, n
	return true
}

func fetchCookVal(fe *fetch, t *Txn, v *Value) bool {
	if !fetchCook(fe, t, v) {
		return false
	}
	v.Type, v.I = TypeInt, strl2ic(v.B)
	return true
}

func iterCookVal(fe *fetch, t *Txn, vis visitor) bool {
	h := &t.hv
	*h = hdrVisitor{vis: vis}
	return iterCook(fe, t, h)
}

// pathq is the target as http_parse_path gives it: without an absolute
// form's scheme and authority; nil when there is no path.
func pathq(t *Txn) []byte {
	u := t.Req.URI.Of(t.Buf)
	if len(u) > 0 && u[0] != '/' {
		if u[0] == '*' {
			return nil
		}
		if i := bytes.Index(u, []byte("://")); i > 0 {
			rest := u[i+3:]
			j := bytes.IndexByte(rest, '/')
			if j < 0 {
				return nil
			}
			return rest[j:]
		}
		return nil
	}
	return u
}

func path(t *Txn) []byte {
	u := pathq(t)
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u
}

func fetchPath(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	p := pathq(t)
	if p == nil {
		return false
	}
	v.Type, v.B = TypeStr, path(t)
	return true
}

func fetchPathQ(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	p := pathq(t)
	if p == nil {
		return false
	}
	v.Type, v.B = TypeStr, p
	return true
}

func fetchURL(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	v.Type, v.B = TypeStr, reqURI(t)
	return true
}

// reqURI is the request's target as HAProxy holds it: an HTTP/2
// request's in absolute form, its origin before the path.
func reqURI(t *Txn) []byte {
	u := t.Req.URI.Of(t.Buf)
	b, ok := AbsTarget(t.tmp(), t.Origin, u)
	if !ok {
		return u
	}
	return t.keep(b)
}

// AbsTarget appends to dst a request's target as HAProxy holds it when
// gohap keeps its origin apart (Txn.Origin, an HTTP/2 request's): the
// origin then the path, or the origin alone for a target that has no
// path, which the HTTP/1.1 side writes as "*" (an HTTP/2 :path of "*",
// then anything a rewrite added after it). ok is false when the origin
// does not apply.
func AbsTarget(dst []byte, origin string, uri []byte) ([]byte, bool) {
	if origin == "" || len(uri) == 0 {
		return dst, false
	}
	switch uri[0] {
	case '/':
		return append(append(dst, origin...), uri...), true
	case '*':
		return append(append(dst, origin...), uri[1:]...), true
	}
	return dst, false
}

// fetchCapReqURI is capture.req.uri: the target of the request line
// the log shows.
func fetchCapReqURI(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	if t.Origin == "" {
		return fetchPathQ(fe, t, v)
	}
	v.Type, v.B = TypeStr, reqURI(t)
	return true
}

func fetchQuery(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	u := t.Req.URI.Of(t.Buf)
	i := bytes.IndexByte(u, '?')
	if i < 0 {
		return false
	}
	v.Type, v.B = TypeStr, u[i+1:]
	return true
}

// host is the first Host header value.
func host(t *Txn) ([]byte, bool) {
	it := hdrIter{buf: t.Buf, hs: t.Req.Headers, name: "host"}
	return it.next()
}

func fetchBase(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	h, ok := host(t)
	if !ok || len(h) == 0 {
		return fetchPath(fe, t, v)
	}
	out := append(t.tmp(), h...)
	p := pathq(t)
	if fe.def.name == "base" {
		p = path(t)
	}
	if len(p) > 0 && p[0] == '/' {
		out = append(out, p...)
	}
	v.Type, v.B = TypeStr, t.keep(out)
	return true
}

func sdbmStep(h uint32, b []byte) uint32 {
	for _, c := range b {
		h = uint32(c) + (h << 6) + (h << 16) - h
	}
	return h
}

// fullHash is Bob Jenkins' full avalanche hash followed by HAProxy's
// multiplication by a prime close to 3/4 of 2^32 (__full_hash).
func fullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	return a * 3221225473
}

func fetchBase32(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	var h uint32
	if hv, ok := host(t); ok {
		h = sdbmStep(h, hv)
	}
	if p := path(t); len(p) > 0 && p[0] == '/' {
		h = sdbmStep(h, p)
	}
	v.Type, v.I = TypeInt, int64(fullHash(h))
	return true
}

func fetchURL32(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	var h uint32
	it := hdrIter{buf: t.Buf, hs: t.Req.Headers, name: "host", full: true}
	if hv, ok := it.next(); ok {
		h = sdbmStep(h, hv)
	}
	if p := pathq(t); len(p) > 0 && p[0] == '/' {
		h = sdbmStep(h, p)
	}
	v.Type, v.I = TypeInt, int64(fullHash(h))
	return true
}

// hashSrc appends the source address to a 32-bit hash (base32+src).
func hashSrc(t *Txn, v *Value) bool {
	a := t.Src.Addr()
	if !a.IsValid() {
		return false
	}
	out := binary.BigEndian.AppendUint32(t.tmp(), uint32(v.I))
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		out = append(out, b[:]...)
	} else {
		b := a.As16()
		out = append(out, b[:]...)
	}
	v.Type, v.B = TypeBin, t.keep(out)
	return true
}

func fetchBase32Src(fe *fetch, t *Txn, v *Value) bool {
	return fetchBase32(fe, t, v) && hashSrc(t, v)
}

func fetchURL32Src(fe *fetch, t *Txn, v *Value) bool {
	return fetchURL32(fe, t, v) && hashSrc(t, v)
}

// urlHostPort reads the address and port of an absolute "http://a.b.c.d[:p]/"
// target, as url2sa does for IPv4 (port 80 by default).
func urlHostPort(t *Txn) (v Value, port int64, ok bool) {
	if t.Req == nil {
		return v, 0, false
	}
	u := reqURI(t)
	if len(u) < 7 || !h1.EqualFold(u[:7], "http://") {
		return v, 0, false
	}
	u = u[7:]
	a, n := url2ipv4(u)
	if n == 0 {
		return v, 0, false
	}
	port = 80
	if n < len(u) && u[n] == ':' {
		port = 0
		for _, c := range u[n+1:] {
			if c < '0' || c > '9' {
				break
			}
			port = port*10 + int64(c-'0')
		}
	}
	return Value{Type: TypeIPv4, IP: a}, port, true
}

func fetchURLIP(fe *fetch, t *Txn, v *Value) bool {
	x, _, ok := urlHostPort(t)
	*v = x
	return ok
}

func fetchURLPort(fe *fetch, t *Txn, v *Value) bool {
	_, p, ok := urlHostPort(t)
	v.Type, v.I = TypeInt, p
	return ok
}

func checkParam(fe *fetch, _ *Context) error {
	fe.name = argStr(fe.args, 0)
	return nil
}

// paramList returns the query string after the delimiter (default '?').
func (fe *fetch) paramList(t *Txn) ([]byte, byte, bool) {
	if t.Req == nil {
		return nil, 0, false
	}
	delim := byte('?')
	if s := argStr(fe.args, 1); s != "" {
		delim = s[0]
	}
	u := t.Req.URI.Of(t.Buf)
	i := bytes.IndexByte(u, delim)
	if i < 0 {
		return nil, 0, false
	}
	return u[i+1:], delim, true
}

// nextParam is http_find_next_url_param: the value of the next parameter
// named name (any when empty) in q, and what follows it.
func nextParam(q []byte, name string, delim byte) (val, rest []byte, ok bool) {
	isDelim := func(c byte) bool { return c == '&' || c == ';' || c == delim }
	pos := 0
	if name != "" {
		for {
			eq := pos + len(name)
			if eq >= len(q) {
				return nil, nil, false
			}
			if q[eq] == '=' && string(q[pos:eq]) == name {
				pos = eq + 1
				break
			}
			for pos < len(q) && !isDelim(q[pos]) {
				pos++
			}
			if pos >= len(q) {
				return nil, nil, false
			}
			pos++
		}
	} else {
		i := bytes.IndexByte(q, '=')
		if i < 0 {
			return nil, nil, false
		}
		pos = i + 1
	}
	end := pos
	for end < len(q) && !isDelim(q[end]) {
		end++
	}
	return q[pos:end], q[end:], true
}

func fetchURLParam(fe *fetch, t *Txn, v *Value) bool {
	q, d, ok := fe.paramList(t)
	if !ok {
		return false
	}
	b, _, ok := nextParam(q, fe.name, d)
	v.Type, v.B = TypeStr, b
	return ok
}

func iterParams(q []byte, name string, d byte, typ Type, t *Txn, vis visitor) bool {
	found := false
	for {
		b, rest, ok := nextParam(q, name, d)
		if !ok {
			return found
		}
		found = true
		v := &t.iv
		*v = Value{Type: typ, B: b}
		if vis.visit(t, v) {
			return true
		}
		if len(rest) == 0 {
			return true
		}
		q = rest
	}
}

func iterURLParam(fe *fetch, t *Txn, vis visitor) bool {
	q, d, ok := fe.paramList(t)
	return ok && iterParams(q, fe.name, d, TypeStr, t, vis)
}

func fetchURLParamVal(fe *fetch, t *Txn, v *Value) bool {
	if !fetchURLParam(fe, t, v) {
		return false
	}
	v.Type, v.I = TypeInt, strl2ic(v.B)
	return true
}

func fetchMethod(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	v.Type, v.B = TypeMeth, t.Req.Method.Of(t.Buf)
	return true
}

var (
	ver10 = []byte("1.0")
	ver11 = []byte("1.1")
	ver20 = []byte("2.0")
)

// verOf is a message's version as v10 or v11.
func verOf(m *h1.Msg, v *Value, v10, v11 []byte) bool {
	if m == nil {
		return false
	}
	v.Type, v.B = TypeStr, v11
	if m.Minor == 0 {
		v.B = v10
	}
	return true
}

func fetchReqVer(fe *fetch, t *Txn, v *Value) bool {
	if t.H2 && t.Req != nil {
		v.Type, v.B = TypeStr, ver20
		return true
	}
	return verOf(t.Req, v, ver10, ver11)
}
func fetchResVer(fe *fetch, t *Txn, v *Value) bool { return verOf(t.Rsp, v, ver10, ver11) }

func fetchProtoHTTP(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil && t.HeadPending && !t.Final {
		return t.reqPending()
	}
	v.Type, v.I = TypeBool, 0
	if t.Req != nil {
		v.I = 1
	}
	return true
}

func fetchStatus(fe *fetch, t *Txn, v *Value) bool {
	if t.Rsp == nil {
		return false
	}
	v.Type, v.I = TypeInt, int64(t.Rsp.Status)
	return true
}

func fetchBody(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	v.Type, v.B = TypeBin, t.Body
	v.MayChange = !t.BodyDone && !t.Final
	return true
}

func fetchBodyLen(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	v.Type, v.I = TypeInt, int64(len(t.Body))
	return true
}

// fetchBodySize is the advertised length, or what was received of a
// chunked body.
func fetchBodySize(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	v.Type, v.I = TypeInt, int64(len(t.Body))
	if t.Req.Body == h1.BodyLength {
		v.I = t.Req.Length
	}
	return true
}

func fetchBodyParam(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	b, _, ok := nextParam(t.Body, argStr(fe.args, 0), '&')
	v.Type, v.B = TypeBin, b
	return ok
}

func iterBodyParam(fe *fetch, t *Txn, vis visitor) bool {
	return t.Req != nil && iterParams(t.Body, argStr(fe.args, 0), '&', TypeBin, t, vis)
}

func fetchCapture(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	b, ok := t.Env.Capture(fe.def.name == "capture.res.hdr", int(argInt(fe.args, 0, 0)))
	v.Type, v.B = TypeStr, b
	return ok
}

func fetchCapMethod(fe *fetch, t *Txn, v *Value) bool {
	ok := fetchMethod(fe, t, v)
	v.Type = TypeStr
	return ok
}

var (
	http10 = []byte("HTTP/1.0")
	http11 = []byte("HTTP/1.1")
)

func fetchCapReqVer(fe *fetch, t *Txn, v *Value) bool { return verOf(t.Req, v, http10, http11) }
func fetchCapResVer(fe *fetch, t *Txn, v *Value) bool { return verOf(t.Rsp, v, http10, http11) }

func fetchUniqueID(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	b, ok := t.Env.UniqueID()
	v.Type, v.B = TypeStr, b
	return ok
}

func fetchResComp(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil || t.Rsp == nil {
		return false
	}
	_, ok := t.Env.Compression()
	v.Type, v.I = TypeBool, 0
	if ok {
		v.I = 1
	}
	return true
}

func fetchResCompAlgo(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	a, ok := t.Env.Compression()
	if !ok {
		return false
	}
	v.Type, v.B = TypeStr, t.keep(append(t.tmp(), a...))
	return true
}
