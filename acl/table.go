package acl

import "fmt"

// Table is a run of routing rules that each test one string fetch for
// exact patterns ("use_backend X if { hdr(host) -i x.example }"),
// compiled into one hash lookup. A rule matches when any value of the
// fetch equals one of its patterns, and the rules are tried in order,
// so the rule taken is the lowest one whose pattern equals a value: the
// table keeps, for each pattern, the first rule that has it.
type Table struct {
	e Expr
	// Cond matches when a rule of the table does; the rule is then
	// Txn.Hit.
	Cond *Cond
}

// ExactKey reports whether a condition is "if" over one ACL whose lines
// all match the same string fetch with exact patterns, as a Table can
// run it. key is the same for conditions one Table can hold.
func (c *Cond) ExactKey() (key string, ok bool) {
	if c == nil || c.unless || len(c.ors) != 1 || len(c.ors[0]) != 1 || c.ors[0][0].neg {
		return "", false
	}
	a := c.ors[0][0].acl
	for _, e := range a.exprs {
		k := e.exactKey()
		if k == "" || key != "" && k != key {
			return "", false
		}
		key = k
	}
	return key, key != ""
}

func (e *Expr) exactKey() string {
	if e.m != mStr || e.x.out != TypeStr || len(e.x.convs) > 0 || len(e.strs) == 0 || len(e.pats) != 1 || e.route != nil {
		return ""
	}
	fe := &e.x.fe
	args := ""
	for _, a := range fe.args {
		args += "," + a.s
	}
	return fmt.Sprintf("%s(%s)/%v", fe.def.name, args, e.icase)
}

// NewTable returns a table for conditions of one ExactKey; c is any of
// them.
func NewTable(c *Cond) *Table {
	x := c.ors[0][0].acl.exprs[0]
	t := &Table{e: Expr{x: x.x, m: mStr, icase: x.icase, route: map[string]int32{}, source: x.source}}
	t.Cond = &Cond{ors: [][]term{{{acl: &ACL{Name: "table", exprs: []*Expr{&t.e}}}}}}
	return t
}

// Add gives the patterns of condition c (of the table's key) to rule n.
// Rules are added in order.
func (t *Table) Add(c *Cond, n int) {
	for _, x := range c.ors[0][0].acl.exprs {
		for _, p := range x.strs {
			if _, ok := t.e.route[string(p)]; !ok {
				t.e.route[string(p)] = int32(n)
			}
		}
	}
}

// Hit is the rule the last matching Table condition found.
func (t *Txn) Hit() int { return int(t.hit) }

// routeSample keeps the lowest rule whose pattern equals the value; it
// stops the fetch once the first rule is found.
func (e *Expr) routeSample(t *Txn, s *Value) bool {
	if !cast(t, s, TypeStr) {
		return false
	}
	v := s.B
	if e.icase {
		t.low = append(t.low[:0], v...)
		lower(t.low)
		v = t.low
	}
	if n, ok := e.route[string(v)]; ok && (!t.matched || n < t.hit) {
		t.hit, t.matched = n, true
	}
	return t.matched && t.hit == 0
}
