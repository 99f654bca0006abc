package acl

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/gohap/gohap/runtime/h1"
)

// Txn is what a condition is evaluated against: a parsed request head in
// its buffer and the connection's addresses.
type Txn struct {
	Buf []byte
	Req *h1.Msg
	// FeName, BeName, SrvName and SrvID name the stream's frontend,
	// backend and server, once known.
	FeName, BeName, SrvName string
	SrvID                   int
	// Vars holds the stream's and connection's variables, Proc the
	// process's (guarded by ProcMu).
	Vars   *Vars
	Proc   *Vars
	ProcMu *sync.Mutex
	// RspBuf and Rsp are the response head, once there is one.
	RspBuf   []byte
	Rsp      *h1.Msg
	Src, Dst netip.AddrPort
	// scratch and low are reused work areas (base, lower-casing) so that
	// evaluation does not allocate once they have grown.
	scratch, low []byte
	s            sample
	matched      bool
	// hit is the rule a Table found.
	hit int32
}

type fetchKind uint8

const (
	fTrue fetchKind = iota
	fFalse
	fHdr      // comma-split header values
	fFhdr     // full header lines
	fHdrCnt   // number of hdr values
	fFhdrCnt  // number of header lines
	fPath     // path without query
	fURL      // whole URI
	fBase     // host + path
	fQuery    // after '?'
	fURLParam // one query parameter
	fMethod
	fVer
	fSrc
	fDst
	fSrcPort
	fDstPort
	fProtoHTTP
	fStatus
	fPathQ
	fSrvName
	fSrvID
	fFeName
	fBeName
	fVar
)

type sampleType uint8

const (
	tStr sampleType = iota
	tInt
	tIP
	tBool
)

// fetch is a compiled sample fetch: kind plus arguments.
type fetch struct {
	kind fetchKind
	name string // header or parameter name, lower-cased for headers
	occ  int    // header occurrence: 0 all, >0 from first, <0 from last
	typ  sampleType
	// res makes a header fetch read the response.
	res bool
	// scope is var()'s; its name is in name.
	scope uint8
}

// msg is the head a header fetch reads; nil when it is not there yet.
func (fe *fetch) msg(t *Txn) ([]byte, *h1.Msg) {
	if fe.res {
		return t.RspBuf, t.Rsp
	}
	return t.Buf, t.Req
}

// sample is one value produced by a fetch.
type sample struct {
	b  []byte
	i  int64
	ip netip.Addr
}

// each offers every value the fetch yields to e.visit, which returns true
// to stop. It reports false when the fetch yields nothing. The expression
// is passed instead of a callback so that nothing escapes to the heap.
func (fe *fetch) each(t *Txn, e *Expr) (found bool) {
	s := &t.s
	*s = sample{}
	switch fe.kind {
	case fTrue:
		s.i = 1
		e.visit(t, s)
		return true
	case fFalse:
		return false
	case fHdr, fFhdr:
		if _, m := fe.msg(t); m == nil {
			return false
		}
		return fe.eachHeader(t, e)
	case fHdrCnt, fFhdrCnt:
		if _, m := fe.msg(t); m == nil {
			return false
		}
		n := int64(0)
		fe.countHeaders(t, &n)
		s.i = n
		e.visit(t, s)
		return true
	case fPath:
		s.b = path(t)
	case fURL:
		s.b = t.Req.URI.Of(t.Buf)
	case fBase:
		t.scratch = append(append(t.scratch[:0], t.Req.Host.Of(t.Buf)...), path(t)...)
		s.b = t.scratch
	case fQuery:
		u := t.Req.URI.Of(t.Buf)
		i := bytes.IndexByte(u, '?')
		if i < 0 {
			return false
		}
		s.b = u[i+1:]
	case fURLParam:
		v, ok := urlParam(t.Req.URI.Of(t.Buf), fe.name)
		if !ok {
			return false
		}
		s.b = v
	case fMethod:
		s.b = t.Req.Method.Of(t.Buf)
	case fVer:
		if t.Req.Minor == 0 {
			s.b = ver10
		} else {
			s.b = ver11
		}
	case fSrc:
		s.ip = t.Src.Addr().Unmap()
	case fDst:
		s.ip = t.Dst.Addr().Unmap()
	case fSrcPort:
		s.i = int64(t.Src.Port())
	case fDstPort:
		s.i = int64(t.Dst.Port())
	case fProtoHTTP:
		s.i = 1
	case fStatus:
		if t.Rsp == nil {
			return false
		}
		s.i = int64(t.Rsp.Status)
	case fPathQ:
		s.b = pathq(t)
	case fSrvName, fFeName, fBeName:
		name := t.SrvName
		if fe.kind == fFeName {
			name = t.FeName
		} else if fe.kind == fBeName {
			name = t.BeName
		}
		if name == "" {
			return false
		}
		t.scratch = append(t.scratch[:0], name...)
		s.b = t.scratch
	case fSrvID:
		if t.SrvName == "" {
			return false
		}
		s.i = int64(t.SrvID)
	case fVar:
		var v []byte
		var ok bool
		if fe.scope == ScopeProc {
			if t.ProcMu == nil {
				return false
			}
			t.ProcMu.Lock()
			v, ok = t.Proc.Get(fe.scope, fe.name)
			t.scratch = append(t.scratch[:0], v...)
			t.ProcMu.Unlock()
			v = t.scratch
		} else {
			v, ok = t.Vars.Get(fe.scope, fe.name)
		}
		if !ok {
			return false
		}
		s.b = v
	}
	e.visit(t, s)
	return true
}

var (
	ver10 = []byte("1.0")
	ver11 = []byte("1.1")
)

func path(t *Txn) []byte {
	u := pathq(t)
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u
}

// pathq is the target without an absolute form's scheme and authority.
func pathq(t *Txn) []byte {
	u := t.Req.URI.Of(t.Buf)
	// An absolute URI's path starts after the authority.
	if len(u) > 0 && u[0] != '/' {
		if i := bytes.Index(u, []byte("://")); i > 0 {
			rest := u[i+3:]
			j := bytes.IndexByte(rest, '/')
			if j < 0 {
				return nil
			}
			u = rest[j:]
		}
	}
	return u
}

func urlParam(u []byte, name string) ([]byte, bool) {
	i := bytes.IndexByte(u, '?')
	if i < 0 {
		return nil, false
	}
	q := u[i+1:]
	for len(q) > 0 {
		j := bytes.IndexByte(q, '&')
		part := q
		if j >= 0 {
			part, q = q[:j], q[j+1:]
		} else {
			q = nil
		}
		if len(part) >= len(name) && string(part[:len(name)]) == name {
			if len(part) == len(name) {
				return part[len(name):], true
			}
			if part[len(name)] == '=' {
				return part[len(name)+1:], true
			}
		}
	}
	return nil, false
}

func (fe *fetch) matchName(buf []byte, h h1.Header) bool {
	return fe.name == "" || h1.EqualFold(h.Name.Of(buf), fe.name)
}

func (fe *fetch) countHeaders(t *Txn, n *int64) {
	buf, m := fe.msg(t)
	for _, h := range m.Headers {
		if !fe.matchName(buf, h) {
			continue
		}
		if fe.kind == fFhdrCnt {
			*n++
			continue
		}
		v := h.Value.Of(buf)
		for more := true; more; {
			_, v, more = nextItem(v)
			*n++
		}
	}
}

// nextItem splits the first comma-separated item off v, trimmed.
func nextItem(v []byte) (item, rest []byte, more bool) {
	i := bytes.IndexByte(v, ',')
	item = v
	if i >= 0 {
		item, rest, more = v[:i], v[i+1:], true
	}
	for len(item) > 0 && (item[0] == ' ' || item[0] == '\t') {
		item = item[1:]
	}
	for len(item) > 0 && (item[len(item)-1] == ' ' || item[len(item)-1] == '\t') {
		item = item[:len(item)-1]
	}
	return item, rest, more
}

func (fe *fetch) eachHeader(t *Txn, e *Expr) bool {
	if fe.occ < 0 {
		// Count from the last occurrence.
		var n int64
		fe.countHeaders(t, &n)
		target := n + int64(fe.occ) + 1
		if target < 1 {
			return false
		}
		return fe.nth(t, target, e)
	}
	if fe.occ > 0 {
		return fe.nth(t, int64(fe.occ), e)
	}
	s := &t.s
	*s = sample{}
	found := false
	buf, m := fe.msg(t)
	for _, h := range m.Headers {
		if !fe.matchName(buf, h) {
			continue
		}
		v := h.Value.Of(buf)
		if fe.kind == fFhdr {
			found = true
			s.b = v
			if e.visit(t, s) {
				return true
			}
			continue
		}
		for more := true; more; {
			s.b, v, more = nextItem(v)
			found = true
			if e.visit(t, s) {
				return true
			}
		}
	}
	return found
}

func (fe *fetch) nth(t *Txn, target int64, e *Expr) bool {
	s := &t.s
	*s = sample{}
	n := int64(0)
	buf, m := fe.msg(t)
	for _, h := range m.Headers {
		if !fe.matchName(buf, h) {
			continue
		}
		v := h.Value.Of(buf)
		if fe.kind == fFhdr {
			n++
			if n == target {
				s.b = v
				e.visit(t, s)
				return true
			}
			continue
		}
		for more := true; more; {
			var item []byte
			item, v, more = nextItem(v)
			n++
			if n == target {
				s.b = item
				e.visit(t, s)
				return true
			}
		}
	}
	return false
}

// parseFetch compiles "name(args)" for the fetches the runtime implements.
func parseFetch(name, args string) (*fetch, error) {
	fe := &fetch{typ: tStr}
	argList := splitArgs(args)
	switch name {
	case "always_true":
		fe.kind, fe.typ = fTrue, tBool
	case "always_false":
		fe.kind, fe.typ = fFalse, tBool
	case "hdr", "req.hdr":
		fe.kind = fHdr
	case "req.fhdr":
		fe.kind = fFhdr
	case "hdr_cnt", "req.hdr_cnt":
		fe.kind, fe.typ = fHdrCnt, tInt
	case "req.fhdr_cnt":
		fe.kind, fe.typ = fFhdrCnt, tInt
	case "path":
		fe.kind = fPath
	case "url":
		fe.kind = fURL
	case "base":
		fe.kind = fBase
	case "query":
		fe.kind = fQuery
	case "url_param", "urlp":
		fe.kind = fURLParam
		if len(argList) == 0 || argList[0] == "" {
			return nil, errorf("fetch method '%s' : missing parameter name", name)
		}
		fe.name = argList[0]
		return fe, nil
	case "method":
		fe.kind = fMethod
	case "req.ver", "req_ver":
		fe.kind = fVer
	case "src":
		fe.kind, fe.typ = fSrc, tIP
	case "dst":
		fe.kind, fe.typ = fDst, tIP
	case "src_port":
		fe.kind, fe.typ = fSrcPort, tInt
	case "dst_port":
		fe.kind, fe.typ = fDstPort, tInt
	case "req.proto_http", "req_proto_http":
		fe.kind, fe.typ = fProtoHTTP, tBool
	case "res.hdr", "shdr":
		fe.kind, fe.res = fHdr, true
	case "res.fhdr":
		fe.kind, fe.res = fFhdr, true
	case "res.hdr_cnt", "shdr_cnt":
		fe.kind, fe.typ, fe.res = fHdrCnt, tInt, true
	case "res.fhdr_cnt":
		fe.kind, fe.typ, fe.res = fFhdrCnt, tInt, true
	case "status":
		fe.kind, fe.typ = fStatus, tInt
	case "pathq":
		fe.kind = fPathQ
	case "srv_name":
		fe.kind = fSrvName
	case "srv_id":
		fe.kind, fe.typ = fSrvID, tInt
	case "fe_name":
		fe.kind = fFeName
	case "var":
		sc, n, ok := ParseVarName(strings.TrimSpace(argList0(argList)))
		if !ok {
			return nil, errorf("fetch method 'var' : invalid variable name '%s'", args)
		}
		fe.kind, fe.scope, fe.name = fVar, sc, n
		return fe, nil
	case "be_name":
		fe.kind = fBeName
	default:
		return nil, errNotImpl
	}
	switch fe.kind {
	case fHdr, fFhdr, fHdrCnt, fFhdrCnt:
		if len(argList) > 0 {
			fe.name = string(bytes.ToLower([]byte(argList[0])))
		}
		if len(argList) > 1 && fe.kind != fHdrCnt && fe.kind != fFhdrCnt {
			n, err := strconv.Atoi(argList[1])
			if err != nil {
				return nil, errorf("fetch method '%s' : invalid occurrence '%s'", name, argList[1])
			}
			fe.occ = n
		}
	default:
		if len(argList) > 0 && argList[0] != "" {
			return nil, errorf("fetch method '%s' : no argument supported, but got '%s'", name, args)
		}
	}
	return fe, nil
}

func argList0(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return a[0]
}

func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for {
		i := bytes.IndexByte([]byte(s), ',')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}
