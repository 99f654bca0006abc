package runtime

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// Cookie-based persistence ("cookie NAME insert|rewrite|prefix ..." with
// "server ... cookie VALUE"), as HAProxy 2.6 does it: a request carrying
// a server's value goes to that server if it is up; insert adds a
// Set-Cookie when the client did not already point at the server,
// rewrite replaces the value of the server's own cookie, prefix prepends
// the server's value and a '~' to it and strips them from requests.

type cookieMode uint8

const (
	ckInsert cookieMode = iota
	ckRewrite
	ckPrefix
)

type cookieCfg struct {
	name               string
	mode               cookieMode
	indirect, preserve bool
	// postOnly inserts the cookie in responses to POST requests only;
	// noCache marks a cacheable response that gets it private.
	postOnly, noCache bool
	// maxIdle and maxLife, in seconds, date the inserted cookie and
	// ignore it once idle or old for longer.
	maxIdle, maxLife int64
	attrs            string // "; path=/; domain=...; HttpOnly; Secure; attr"
	// vals maps servers and values both ways; dynamic cookies change it
	// with the servers' addresses.
	vals atomic.Pointer[cookieVals]
	// dyn is "cookie ... dynamic" with its key (dynamic-cookie-key):
	// servers without a value get one from their address.
	dynMu   sync.Mutex
	dyn     bool
	dynKey  string
	fixed   map[*backend.Server]string
	servers []*backend.Server
}

type cookieVals struct {
	bySrv map[*backend.Server]string
	byVal map[string]*backend.Server
}

// setServer adds srv, with its configured value (or none), or removes
// it (del), then computes the values again.
func (c *cookieCfg) setServer(srv *backend.Server, val string, del bool) {
	c.dynMu.Lock()
	c.servers = slices.DeleteFunc(slices.Clone(c.servers), func(x *backend.Server) bool { return x == srv })
	delete(c.fixed, srv)
	if !del {
		c.servers = append(c.servers, srv)
		if val != "" {
			c.fixed[srv] = val
		}
	}
	c.dynMu.Unlock()
	c.refresh()
}

// setDyn turns dynamic cookies on or off, or changes their key, and
// computes the values again.
func (c *cookieCfg) setDyn(on *bool, key *string) {
	c.dynMu.Lock()
	if on != nil {
		c.dyn = *on
	}
	if key != nil {
		c.dynKey = *key
	}
	c.dynMu.Unlock()
	c.refresh()
}

// valOf is srv's cookie value, "" when it has none.
func (c *cookieCfg) valOf(srv *backend.Server) string { return c.vals.Load().bySrv[srv] }

// refresh computes the cookie values again: the configured ones, and the
// dynamic ones from each server's current address.
func (c *cookieCfg) refresh() {
	c.dynMu.Lock()
	defer c.dynMu.Unlock()
	v := &cookieVals{bySrv: map[*backend.Server]string{}, byVal: map[string]*backend.Server{}}
	for _, srv := range c.servers {
		val, ok := c.fixed[srv]
		if !ok && c.dyn && c.dynKey != "" {
			val = dynCookie(c.dynKey, srv.Address())
		}
		if val != "" {
			v.bySrv[srv] = val
			v.byVal[val] = srv
		}
	}
	c.vals.Store(v)
}

// dynCookie is HAProxy's srv_set_dyncookie: the XXH64 of the key, the
// address's bytes and the port as 4 big-endian bytes, in hexadecimal;
// "" for an address that is not an IP one.
func dynCookie(key, addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return ""
	}
	b := append([]byte(key), ap.Addr().Unmap().AsSlice()...)
	b = binary.BigEndian.AppendUint32(b, uint32(ap.Port()))
	return fmt.Sprintf("%016x", xxhash.Sum64(b))
}

// cookieDates are the last-seen and first-seen dates a persistence
// cookie carries (unix seconds, 0 for none).
type cookieDates struct{ last, first int64 }

func compileCookie(p *parser.Proxy, servers map[string]*backend.Server, fail func(parser.Pos, string, ...any)) *cookieCfg {
	d := p.Cookie
	if d == nil {
		return nil
	}
	c := &cookieCfg{name: d.Name, indirect: d.Indirect, preserve: d.Preserve, postOnly: d.PostOnly, noCache: d.NoCache,
		maxIdle: int64(d.MaxIdle / time.Second), maxLife: int64(d.MaxLife / time.Second),
		dyn: d.Dynamic, dynKey: p.DynCookieKey, fixed: map[*backend.Server]string{}}
	switch d.Mode {
	case "insert":
		c.mode = ckInsert
	case "prefix":
		c.mode = ckPrefix
	default:
		c.mode = ckRewrite
	}
	for _, bt := range d.BadTimes {
		fail(d.Pos, "'cookie' option '%s' expects a time, got '%s'.", bt[0], bt[1])
	}
	for _, o := range d.Unsupported {
		fail(d.Pos, "'cookie' option '%s' is not supported by the gohap runtime yet.", o)
	}
	domains, attrs, httpOnly, secure := d.Domains, d.Attrs, d.HTTPOnly, d.Secure
	c.attrs = "; path=/"
	for _, dm := range domains {
		c.attrs += "; domain=" + dm
	}
	if httpOnly {
		c.attrs += "; HttpOnly"
	}
	if secure {
		c.attrs += "; Secure"
	}
	for _, a := range attrs {
		c.attrs += "; " + a
	}
	for _, s := range p.Servers {
		srv := servers[s.Name]
		if srv == nil {
			continue
		}
		c.servers = append(c.servers, srv)
		if v := s.Settings.Cookie; v != "" {
			c.fixed[srv] = v
		}
	}
	c.refresh()
	return c
}

// cookieValue finds NAME=value in a Cookie header value.
func cookieValue(v []byte, name string) ([]byte, bool) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ';' {
			i++
		}
		part := trimSP(v[:i])
		if len(part) > len(name) && string(part[:len(name)]) == name && part[len(name)] == '=' {
			return part[len(name)+1:], true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return nil, false
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

// persistTarget returns the server a request's cookie points at, with
// the dates the cookie carries. A cookie idle or old for longer than
// maxidle or maxlife (or dated more than a day ahead) is ignored, as
// HAProxy does.
func (c *cookieCfg) persistTarget(req *h1.Msg, head []byte, now int64) (*backend.Server, cookieDates, uint32) {
	// state is the log's cookie flag (TX_CK_*): none, invalid when no
	// server has the value, expired or old, valid for a server found.
	state := logging.TxCkNone
	for _, h := range req.Headers {
		if !h1.EqualFold(h.Name.Of(head), "cookie") {
			continue
		}
		v, ok := cookieValue(h.Value.Of(head), c.name)
		if !ok {
			continue
		}
		var d cookieDates
		if c.maxIdle > 0 || c.maxLife > 0 {
			if i := bytes.IndexByte(v, '|'); i >= 0 {
				rest := v[i+1:]
				v = v[:i]
				if n := b64tos30(rest); n > 0 {
					d.last = n << 2
				}
				if j := bytes.IndexByte(rest, '|'); j >= 0 && len(rest)-j > 5 {
					if n := b64tos30(rest[j+1:]); n > 0 {
						d.first = n << 2
					}
				}
			}
			if d.last != 0 && c.maxIdle > 0 && (now-d.last > c.maxIdle || d.last-now > 86400) {
				return nil, cookieDates{}, logging.TxCkExpired
			}
			if d.first != 0 && c.maxLife > 0 && (now-d.first > c.maxLife || d.first-now > 86400) {
				return nil, cookieDates{}, logging.TxCkOld
			}
		}
		if c.mode == ckPrefix {
			// Without the delimiter the whole value names the server.
			if i := bytes.IndexByte(v, '~'); i >= 0 {
				v = v[:i]
			}
		}
		if s := c.vals.Load().byVal[string(v)]; s != nil {
			return s, d, logging.TxCkValid
		}
		state = logging.TxCkInvalid
	}
	return nil, cookieDates{}, state
}

// wantInsert is HAProxy's decision to add its Set-Cookie: the request
// did not go where its cookie pointed, or the cookie's dates need an
// update; with postonly, on POST requests only.
func (c *cookieCfg) wantInsert(direct bool, d cookieDates, post bool, now int64) bool {
	if c.mode != ckInsert || c.postOnly && !post {
		return false
	}
	return !direct || (c.maxIdle > 0 || d.last != 0) && (d.last == 0 || d.last-now < 0) ||
		c.maxLife > 0 && d.first == 0 || c.maxLife == 0 && d.first != 0
}

// appendSetCookie writes the value of the inserted Set-Cookie: the
// server's value with its dates, or an expired cookie for a server
// without one.
func (c *cookieCfg) appendSetCookie(out []byte, val string, d cookieDates, now int64) []byte {
	out = append(out, c.name...)
	out = append(out, '=')
	if val == "" {
		out = append(out, "; Expires=Thu, 01-Jan-1970 00:00:01 GMT"...)
		return append(out, c.attrs...)
	}
	out = append(out, val...)
	if c.maxIdle > 0 || c.maxLife > 0 {
		out = append(out, '|')
		out = s30tob64((now+3)>>2, out)
		if c.maxLife > 0 {
			out = append(out, '|')
			if d.first != 0 {
				out = s30tob64(d.first>>2, out)
			} else {
				out = s30tob64((now+3)>>2, out)
			}
		}
	}
	return append(out, c.attrs...)
}

const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// s30tob64 appends the lower 30 bits of v as 5 base64 characters.
func s30tob64(v int64, out []byte) []byte {
	for i := 0; i < 5; i++ {
		out = append(out, b64chars[(v>>24)&0x3f])
		v <<= 6
	}
	return out
}

// b64tos30 reads 5 base64 characters; -1 when they are not.
func b64tos30(in []byte) int64 {
	if len(in) < 5 {
		return -1
	}
	var v int64
	for _, ch := range in[:5] {
		i := strings.IndexByte(b64chars, ch)
		if i < 0 {
			return -1
		}
		v = v<<6 + int64(i)
	}
	return v
}

// rewriteRequestCookie writes a Cookie header value as the server must
// see it: without the persistence cookie (insert indirect) or without the
// server prefix (prefix). It reports false when nothing is left.
func (c *cookieCfg) rewriteRequestCookie(out, v []byte) ([]byte, bool) {
	start := len(out)
	first := true
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ';' {
			i++
		}
		part := trimSP(v[:i])
		isOurs := len(part) > len(c.name) && string(part[:len(c.name)]) == c.name && part[len(c.name)] == '='
		switch {
		case isOurs && c.mode == ckInsert && c.indirect:
			part = nil
		case isOurs && c.mode == ckPrefix:
			val := part[len(c.name)+1:]
			for j := range val {
				if val[j] == '~' {
					out = appendCookiePart(out, &first, part[:len(c.name)+1], val[j+1:])
					part = nil
					break
				}
			}
		}
		if part != nil {
			out = appendCookiePart(out, &first, part, nil)
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return out, len(out) > start
}

func appendCookiePart(out []byte, first *bool, a, b []byte) []byte {
	if !*first {
		out = append(out, "; "...)
	}
	*first = false
	out = append(out, a...)
	return append(out, b...)
}

// rewriteSetCookie handles a server's Set-Cookie: dropped (insert without
// preserve), value replaced (rewrite) or prefixed (prefix). It returns
// the header value to send and whether to send it.
func (c *cookieCfg) rewriteSetCookie(out, v []byte, srvVal string) ([]byte, bool) {
	name := c.name
	if !(len(v) > len(name) && string(v[:len(name)]) == name && v[len(name)] == '=') {
		return append(out, v...), true
	}
	switch c.mode {
	case ckInsert:
		if !c.preserve {
			return out, false
		}
	case ckRewrite:
		if srvVal == "" {
			break
		}
		rest := v[len(name)+1:]
		i := 0
		for i < len(rest) && rest[i] != ';' {
			i++
		}
		out = append(out, v[:len(name)+1]...)
		out = append(out, srvVal...)
		return append(out, rest[i:]...), true
	case ckPrefix:
		if srvVal == "" {
			break
		}
		out = append(out, v[:len(name)+1]...)
		out = append(out, srvVal...)
		out = append(out, '~')
		return append(out, v[len(name)+1:]...), true
	}
	return append(out, v...), true
}
