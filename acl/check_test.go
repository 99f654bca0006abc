package acl

import (
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
)

// exprMessage gives parse_acl_expr()'s wording (checked against haproxy
// -c by cmd/gohap's differential test).
func TestExprMessage(t *testing.T) {
	for _, c := range []struct {
		expr, err string
		noPattern bool
		id        int
	}{
		{"path", "", true, -1},
		{"path -m found", "", false, -1},
		{"hdr_beg(host)", "", true, -1},
		{"always_true", "", false, -1},
		{"int(1),bool", "", false, -1},
		{"str(x),length", "", true, -1},
		{"path -u 3 a", "", false, 3},
		{"nosuch", "unknown fetch method 'nosuch' in ACL expression 'nosuch'", false, -1},
		{"hdr(host),nosuch -m found", "ACL keyword 'hdr' : unknown converter 'nosuch'.", false, -1},
		{"path,field(x) -m found", "ACL keyword 'path' : invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1.", false, -1},
		{"hdr(host,x) -m found", "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2", false, -1},
		{"req.len gt x", "'x' is neither a number nor a supported operator", false, -1},
		{"req.len x", "'x' is not a number", false, -1},
		{"req.len ge 1:2", "", false, -1},
		{"path -m reg (", "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)", false, -1},
		{"path -m reg a)", "regex 'a)' is invalid (error=unmatched closing parenthesis, erroffset=1)", false, -1},
		{"path -m reg x[a", "regex 'x[a' is invalid (error=missing terminating ] for character class, erroffset=3)", false, -1},
		{"path -m reg a|*", "regex 'a|*' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)", false, -1},
		{"path -m reg a**", "regex 'a**' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)", false, -1},
		{`path -m reg a\`, `regex 'a\' is invalid (error=\ at end of pattern, erroffset=2)`, false, -1},
		{"path -i -m reg a(", "regex 'a(' is invalid (error=missing closing parenthesis, erroffset=2)", false, -1},
	} {
		w := strings.Fields(c.expr)
		r := exprMessage(w[0], w[1:])
		if !r.Checked || r.Err != c.err || r.NoPattern != c.noPattern || r.UniqueID != c.id {
			t.Errorf("%s: got %+v, want err %q, no pattern %v, id %d", c.expr, r, c.err, c.noPattern, c.id)
		}
	}
	// Table arguments resolve later: not judged here.
	if r := exprMessage("sc0_conn_cur(nosuch)", []string{"gt", "1"}); r.Checked {
		t.Errorf("table argument checked: %+v", r)
	}
}

// A condition of any words compiles or fails without panicking, and the
// expression check gives a message or a clean result for any expression.
func FuzzParseCond(f *testing.F) {
	for _, s := range []string{"if", "unless", "if !", "if || TRUE ||", "if a !a or TRUE", "if { path -m beg / } !{ src 1.2.3.4 }",
		"if { path", "if { }", "if }", "if { path -m reg a(b }", "if { req.len gt x }", "if { path -u 3 a }", "unless !!a OR { hdr(host),lower -m str x }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.Fields(s)
		set := NewSet()
		if err := set.Add("a", "path", []string{"/a"}); err != nil {
			t.Fatal(err)
		}
		if c, err := set.ParseCond(words); err == nil {
			c.Eval(txn(t, req))
		}
		if len(words) > 0 {
			exprMessage(words[0], words[1:])
		}
		parser.PCREError(s, true)
	})
}
