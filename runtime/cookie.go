package runtime

import (
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
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
	attrs              string // "; path=/; domain=...; HttpOnly; Secure"
	bySrv              map[*backend.Server]string
	byVal              map[string]*backend.Server
}

func compileCookie(cfg *parser.Config, p *parser.Proxy, servers map[string]*backend.Server, fail func(parser.Pos, string, ...any)) *cookieCfg {
	var d *parser.Directive
	for _, x := range cfg.Directives {
		if x.Keyword == "cookie" && (x.Name == p.Name || x.Section == "defaults") && (x.Section == "defaults" || x.Section == p.Kind) {
			d = x
		}
	}
	if d == nil || len(d.Args) == 0 {
		return nil
	}
	c := &cookieCfg{name: d.Args[0], mode: ckRewrite, bySrv: map[*backend.Server]string{}, byVal: map[string]*backend.Server{}}
	var domains []string
	httpOnly, secure := false, false
	for i := 1; i < len(d.Args); i++ {
		switch a := d.Args[i]; a {
		case "insert":
			c.mode = ckInsert
		case "rewrite":
			c.mode = ckRewrite
		case "prefix":
			c.mode = ckPrefix
		case "indirect":
			c.indirect = true
		case "preserve":
			c.preserve = true
		case "nocache":
			// HAProxy only marks such responses as not cacheable by its
			// own cache, which the runtime does not have.
		case "httponly":
			httpOnly = true
		case "secure":
			secure = true
		case "domain":
			if i+1 < len(d.Args) {
				domains = append(domains, d.Args[i+1])
				i++
			}
		default:
			fail(d.Pos, "'cookie' option '%s' is not supported by the gohap runtime yet.", a)
			if a == "maxidle" || a == "maxlife" || a == "attr" {
				i++ // its value
			}
		}
	}
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
	for _, s := range p.Servers {
		opts := append(append([]string{}, p.DefaultServer...), s.Options...)
		for i := 0; i+1 < len(opts); i++ {
			if opts[i] == "cookie" {
				srv := servers[s.Name]
				if srv != nil {
					c.bySrv[srv] = opts[i+1]
					c.byVal[opts[i+1]] = srv
				}
				i++
			}
		}
	}
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

// persistTarget returns the server a request's cookie points at.
func (c *cookieCfg) persistTarget(req *h1.Msg, head []byte) *backend.Server {
	for _, h := range req.Headers {
		if !h1.EqualFold(h.Name.Of(head), "cookie") {
			continue
		}
		v, ok := cookieValue(h.Value.Of(head), c.name)
		if !ok {
			continue
		}
		if c.mode == ckPrefix {
			i := 0
			for i < len(v) && v[i] != '~' {
				i++
			}
			if i == len(v) {
				continue
			}
			v = v[:i]
		}
		if s := c.byVal[string(v)]; s != nil {
			return s
		}
	}
	return nil
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
