package acl

// Reads is what of the HTTP message a condition or a sample reads. The
// rules use it to let header edits pile up while nothing reads what
// they change, and to write the message once.
type Reads struct {
	// Hdrs are the lower-cased names of the headers read.
	Hdrs []string
	// Line says the start line is read; Other that something else of
	// the message is, or that it is not known what.
	Line, Other bool
}

// Reset empties r, keeping its storage.
func (r *Reads) Reset() { r.Hdrs, r.Line, r.Other = r.Hdrs[:0], false, false }

// Add merges o into r.
func (r *Reads) Add(o Reads) {
	r.Line = r.Line || o.Line
	r.Other = r.Other || o.Other
	for _, h := range o.Hdrs {
		if !r.reads(h) {
			r.Hdrs = append(r.Hdrs, h)
		}
	}
}

func (r Reads) any() bool { return r.Other || r.Line || len(r.Hdrs) > 0 }

func (r *Reads) reads(name string) bool {
	for _, h := range r.Hdrs {
		if h == name {
			return true
		}
	}
	return false
}

// Sees tells whether something reading r may see the changes pending
// says were made: header names changed, the start line, or other parts.
func (r Reads) Sees(pending Reads) bool {
	if !r.any() || !pending.any() {
		return false
	}
	if r.Other || pending.Other {
		return true
	}
	if r.Line && pending.Line {
		return true
	}
	for _, h := range r.Hdrs {
		if pending.reads(h) {
			return true
		}
	}
	return false
}

// Only the fetches listed here are known; any other one reads Other.
var (
	lineFetches = map[string]bool{"path": true, "pathq": true, "query": true, "url": true, "url_ip": true,
		"url_port": true, "url_param": true, "urlp_val": true, "method": true, "req.ver": true}
	namedHdrFetches = map[string]bool{"req.hdr": true, "req.fhdr": true, "req.hdr_cnt": true,
		"req.fhdr_cnt": true, "req.hdr_ip": true, "req.hdr_val": true}
	cookieFetches = map[string]bool{"req.cook": true, "req.cook_cnt": true, "req.cook_val": true}
	// These read nothing of the message.
	outsideFetches = map[string]bool{"src": true, "src_port": true, "dst": true, "dst_port": true,
		"var": true, "always_true": true, "always_false": true, "fe_id": true, "fe_name": true,
		"be_id": true, "be_name": true, "nbsrv": true, "env": true, "rand": true, "date": true,
		"stopping": true, "int": true, "str": true, "bool": true}
)

func (f *fetch) reads() Reads {
	name := ""
	if f.def != nil {
		name = f.def.name
	}
	switch {
	case outsideFetches[name]:
		return Reads{}
	case lineFetches[name]:
		return Reads{Line: true}
	case name == "base" || name == "baseq":
		return Reads{Line: true, Hdrs: []string{"host"}}
	case namedHdrFetches[name] && f.name != "":
		return Reads{Hdrs: []string{f.name}}
	case cookieFetches[name]:
		return Reads{Hdrs: []string{"cookie"}}
	}
	return Reads{Other: true}
}

// Reads is what the sample reads of the message.
func (s *Sample) Reads() Reads {
	if s == nil || s.x == nil {
		return Reads{}
	}
	return s.x.fe.reads()
}

// Reads is what the condition reads of the message; nil reads nothing.
func (c *Cond) Reads() Reads {
	var r Reads
	if c == nil {
		return r
	}
	for _, g := range c.ors {
		for _, t := range g {
			for _, e := range t.acl.exprs {
				if e.x == nil {
					r.Other = true
					continue
				}
				r.Add(e.x.fe.reads())
			}
		}
	}
	return r
}
