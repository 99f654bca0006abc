package acl

import "testing"

// TestReadsSees: a reader sees pending changes only where they meet,
// and anything unknown on either side meets whatever the other has.
func TestReadsSees(t *testing.T) {
	hdr := func(n ...string) Reads { return Reads{Hdrs: n} }
	for _, c := range []struct {
		name string
		r, p Reads
		want bool
	}{
		{"nothing read", Reads{}, Reads{Other: true}, false},
		{"nothing changed", Reads{Other: true}, Reads{}, false},
		{"other header", hdr("host"), hdr("x-a", "x-b"), false},
		{"same header", hdr("x-b"), hdr("x-a", "x-b"), true},
		{"line read, headers changed", Reads{Line: true}, hdr("x-a"), false},
		{"line read, line changed", Reads{Line: true}, Reads{Line: true}, true},
		{"unknown read", Reads{Other: true}, hdr("x-a"), true},
		{"unknown change", hdr("host"), Reads{Other: true}, true},
	} {
		if got := c.r.Sees(c.p); got != c.want {
			t.Errorf("%s: Sees = %v, want %v", c.name, got, c.want)
		}
	}
	set := NewSet()
	for _, c := range []struct {
		cond []string
		want Reads
	}{
		{[]string{"if", "{", "path_beg", "/a", "}"}, Reads{Line: true}},
		{[]string{"if", "{", "hdr(X-Forwarded-Proto)", "http", "}"}, hdr("x-forwarded-proto")},
		{[]string{"if", "{", "src", "10.0.0.1", "}", "||", "{", "req.cook(s)", "-m", "found", "}"}, hdr("cookie")},
		{[]string{"if", "{", "req.hdrs", "-m", "sub", "x", "}"}, Reads{Other: true}},
	} {
		cond, err := set.ParseCond(c.cond)
		if err != nil {
			t.Fatalf("%v: %v", c.cond, err)
		}
		if got := cond.Reads(); got.Line != c.want.Line || got.Other != c.want.Other || len(got.Hdrs) != len(c.want.Hdrs) ||
			len(got.Hdrs) > 0 && got.Hdrs[0] != c.want.Hdrs[0] {
			t.Errorf("%v reads %+v, want %+v", c.cond, got, c.want)
		}
	}
}
