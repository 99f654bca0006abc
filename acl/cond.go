package acl

import (
	"fmt"
	"strings"
	"sync"
)

// ACL is a named ACL: its lines OR together.
type ACL struct {
	Name  string
	exprs []*Expr
}

// Match reports whether any line of the ACL matches.
func (a *ACL) Match(t *Txn) bool { return a.exec(t) == resPass }

// exec ORs the lines: pass wins, then miss (acl_exec in src/acl.c).
func (a *ACL) exec(t *Txn) int {
	res := resFail
	for _, e := range a.exprs {
		switch e.exec(t) {
		case resPass:
			return resPass
		case resMiss:
			res = resMiss
		}
	}
	return res
}

// Set holds a proxy's named ACLs.
type Set struct {
	byName map[string]*ACL
	ctx    *Context
}

// NewSet returns an empty set with no configuration context.
func NewSet() *Set { return NewSetWith(nil) }

// NewSetWith returns an empty set whose lines compile with ctx (shared
// maps, userlists). ctx.File and ctx.Line may be updated between Add
// calls to name each line's pattern reference.
func NewSetWith(ctx *Context) *Set { return &Set{byName: map[string]*ACL{}, ctx: ctx} }

// Context returns the context the set compiles with, for the samples
// of the rules that use its ACLs; nil when it has none.
func (s *Set) Context() *Context { return s.ctx }

// Add compiles one "acl NAME fetch args..." line into the set.
func (s *Set) Add(name, fetch string, args []string) error {
	e, err := CompileWith(fetch, args, s.ctx)
	if err != nil {
		return err
	}
	a := s.byName[name]
	if a == nil {
		a = &ACL{Name: name}
		s.byName[name] = a
	}
	a.exprs = append(a.exprs, e)
	return nil
}

// predefined are HAProxy's built-in ACLs (doc section 7.4), compiled on
// first use (after every keyword table is filled).
var predefined = sync.OnceValue(func() map[string]*ACL {
	predefined := map[string]*ACL{}
	def := func(name, fetch string, args ...string) {
		e, err := Compile(fetch, args)
		if err != nil {
			panic(name + ": " + err.Error())
		}
		predefined[name] = &ACL{Name: name, exprs: []*Expr{e}}
	}
	def("FALSE", "always_false")
	def("TRUE", "always_true")
	def("HTTP", "req.proto_http")
	def("HTTP_1.0", "req.ver", "1.0")
	def("HTTP_1.1", "req.ver", "1.1")
	def("HTTP_2.0", "req.ver", "2.0")
	def("HTTP_CONTENT", "hdr_val(content-length)", "gt", "0")
	def("HTTP_URL_ABS", "url_reg", "^[^/:]*://")
	def("HTTP_URL_SLASH", "url_beg", "/")
	def("HTTP_URL_STAR", "url", "*")
	def("LOCALHOST", "src", "127.0.0.1/8", "::1")
	def("METH_CONNECT", "method", "CONNECT")
	def("METH_DELETE", "method", "DELETE")
	def("METH_GET", "method", "GET", "HEAD")
	def("METH_HEAD", "method", "HEAD")
	def("METH_OPTIONS", "method", "OPTIONS")
	def("METH_POST", "method", "POST")
	def("METH_PUT", "method", "PUT")
	def("METH_TRACE", "method", "TRACE")
	def("RDP_COOKIE", "req.rdp_cookie_cnt", "gt", "0")
	def("WAIT_END", "wait_end")
	return predefined
})

func (s *Set) lookup(name string) *ACL {
	if a := s.byName[name]; a != nil {
		return a
	}
	return predefined()[name]
}

type term struct {
	neg bool
	acl *ACL
}

// Cond is a compiled "if/unless" condition: OR of AND groups of terms.
type Cond struct {
	unless bool
	ors    [][]term
}

// ParseCond compiles condition words starting with "if" or "unless" as
// parse_acl_cond (src/acl.c) reads them: "!" toggles the next term and
// may stand alone, "||" and "or" (any case) start a new AND group, and
// empty groups are dropped. An empty word list yields nil, which Eval
// treats as true; "if" or "unless" alone yields a condition with no
// group, which an "if" never matches and an "unless" always does.
func (s *Set) ParseCond(words []string) (*Cond, error) {
	if len(words) == 0 {
		return nil, nil
	}
	c := &Cond{}
	switch words[0] {
	case "if":
	case "unless":
		c.unless = true
	default:
		return nil, fmt.Errorf("conditions must start with either 'if' or 'unless'")
	}
	words = words[1:]
	var group []term
	neg := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		for len(w) > 0 && w[0] == '!' {
			neg = !neg
			w = w[1:]
		}
		if w == "" {
			continue
		}
		if w == "||" || strings.EqualFold(w, "or") {
			if len(group) > 0 {
				c.ors = append(c.ors, group)
			}
			group, neg = nil, false
			continue
		}
		var a *ACL
		if w == "{" {
			j := i + 1
			for j < len(words) && words[j] != "}" {
				j++
			}
			if j >= len(words) {
				return nil, fmt.Errorf("missing closing '}' in condition")
			}
			fetch, args := "", []string(nil)
			if j > i+1 {
				fetch, args = words[i+1], words[i+2:j]
			}
			e, err := CompileWith(fetch, args, s.ctx)
			if err != nil {
				return nil, err
			}
			a = &ACL{Name: "anonymous", exprs: []*Expr{e}}
			i = j
		} else if a = s.lookup(w); a == nil {
			return nil, fmt.Errorf("no such ACL : '%s'", w)
		}
		group = append(group, term{neg, a})
		neg = false
	}
	if len(group) > 0 {
		c.ors = append(c.ors, group)
	}
	return c, nil
}

// Eval evaluates the condition; a nil condition is true. Data that may
// still change counts as final (see Exec).
func (c *Cond) Eval(t *Txn) bool {
	final := t.Final
	t.Final = true
	ok, _ := c.Exec(t)
	t.Final = final
	return ok
}

// Exec evaluates the condition as acl_exec does for content inspection.
// When miss is true the answer is not known yet: a fetch needed data that
// has not arrived (req.len, req.payload, req.ssl_sni... on a partial
// buffer, with t.Final false). The runtime should then wait for more data
// and evaluate again, and once the buffer is full, the stream closed or
// inspect-delay expired, set t.Final and evaluate a last time, when miss
// is always false. ok is the condition's value (with "unless" applied)
// when miss is false.
func (c *Cond) Exec(t *Txn) (ok, miss bool) {
	if c == nil {
		return true, false
	}
	res := resFail
	for _, g := range c.ors {
		gr := resPass
		for _, tm := range g {
			r := tm.acl.exec(t)
			if tm.neg && r != resMiss {
				r ^= resPass // pass <-> fail
			}
			if r == resFail {
				gr = resFail
				break
			}
			if r == resMiss {
				gr = resMiss
			}
		}
		if gr == resPass {
			res = resPass
			break
		}
		if gr == resMiss {
			res = resMiss
		}
	}
	if res == resMiss {
		return false, true
	}
	return (res == resPass) != c.unless, false
}
