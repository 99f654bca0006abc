package acl

import "fmt"

// ACL is a named ACL: its lines OR together.
type ACL struct {
	Name  string
	exprs []*Expr
}

// Match reports whether any line of the ACL matches.
func (a *ACL) Match(t *Txn) bool {
	for _, e := range a.exprs {
		if e.Match(t) {
			return true
		}
	}
	return false
}

// Set holds a proxy's named ACLs.
type Set struct {
	byName map[string]*ACL
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{byName: map[string]*ACL{}} }

// Add compiles one "acl NAME fetch args..." line into the set.
func (s *Set) Add(name, fetch string, args []string) error {
	e, err := Compile(fetch, args)
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

// predefined are HAProxy's built-in ACLs (doc section 7.4), compiled once.
var predefined = map[string]*ACL{}

func init() {
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
	// Requests are evaluated once their head is complete, so the
	// inspect-delay end is always reached.
	def("WAIT_END", "always_true")
}

func (s *Set) lookup(name string) *ACL {
	if a := s.byName[name]; a != nil {
		return a
	}
	return predefined[name]
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

// ParseCond compiles condition words starting with "if" or "unless". An
// empty word list yields nil, which Eval treats as true.
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
		return nil, fmt.Errorf("expects 'if' or 'unless', got '%s'", words[0])
	}
	words = words[1:]
	if len(words) == 0 {
		return nil, fmt.Errorf("missing condition after '%s'", map[bool]string{true: "unless", false: "if"}[c.unless])
	}
	group := []term{}
	neg := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "||" || w == "or":
			if len(group) == 0 {
				return nil, fmt.Errorf("missing ACL before '%s'", w)
			}
			c.ors = append(c.ors, group)
			group = []term{}
			continue
		case w == "!":
			neg = !neg
			continue
		case w == "{":
			j := i + 1
			for j < len(words) && words[j] != "}" {
				j++
			}
			if j >= len(words) || j == i+1 {
				return nil, fmt.Errorf("unterminated anonymous ACL")
			}
			e, err := Compile(words[i+1], words[i+2:j])
			if err != nil {
				return nil, err
			}
			group = append(group, term{neg, &ACL{Name: "anonymous", exprs: []*Expr{e}}})
			i = j
		default:
			for len(w) > 1 && w[0] == '!' {
				neg = !neg
				w = w[1:]
			}
			a := s.lookup(w)
			if a == nil {
				return nil, fmt.Errorf("no such ACL : '%s'", w)
			}
			group = append(group, term{neg, a})
		}
		neg = false
	}
	if len(group) == 0 {
		return nil, fmt.Errorf("missing ACL at the end of the condition")
	}
	c.ors = append(c.ors, group)
	return c, nil
}

// Eval evaluates the condition; a nil condition is true.
func (c *Cond) Eval(t *Txn) bool {
	if c == nil {
		return true
	}
	res := false
	for _, g := range c.ors {
		ok := true
		for _, tm := range g {
			if tm.acl.Match(t) == tm.neg {
				ok = false
				break
			}
		}
		if ok {
			res = true
			break
		}
	}
	return res != c.unless
}
