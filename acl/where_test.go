package acl

import (
	"testing"

	"github.com/gohap/gohap/parser/smpuse"
)

// Lines whose fetch is not available where a condition runs never match
// there, while the same ACL keeps matching where it is.
func TestParseCondAt(t *testing.T) {
	tx := txn(t, req)
	s := NewSet()
	for _, l := range [][]string{
		{"chat", "path_beg", "/chat"},
		{"mix", "path_beg", "/chat"},
		{"mix", "src", "10.1.2.3"},
		{"reqonly", "hdr(host)", "-m", "found"},
	} {
		if err := s.Add(l[0], l[1], l[2:]); err != nil {
			t.Fatal(err)
		}
	}
	rsp := smpuse.ValFE_HRS_HDR
	req := smpuse.ValFE_HRQ_HDR
	cases := []struct {
		cond  []string
		where smpuse.Val
		want  bool
	}{
		{[]string{"if", "chat"}, req, true},
		{[]string{"if", "chat"}, rsp, false},
		{[]string{"unless", "chat"}, rsp, true},
		{[]string{"if", "!chat"}, rsp, true},
		{[]string{"if", "{", "path_beg", "/chat", "}"}, rsp, false},
		{[]string{"if", "{", "path_beg", "/chat", "}"}, 0, true},
		{[]string{"if", "mix"}, rsp, true}, // src is still there
		{[]string{"if", "mix", "chat"}, rsp, false},
		{[]string{"if", "reqonly"}, req, true},
		{[]string{"if", "reqonly"}, rsp, false}, // hdr is req.hdr in an ACL
		{[]string{"if", "METH_GET"}, rsp, true},
		{[]string{"if", "HTTP_1.1"}, rsp, false},
		{[]string{"if", "HTTP_1.1"}, req, true},
		{[]string{"if", "chat", "||", "TRUE"}, rsp, true},
	}
	for _, c := range cases {
		cond, err := s.ParseCondAt(c.cond, c.where)
		if err != nil {
			t.Fatalf("%v: %v", c.cond, err)
		}
		if got := cond.Eval(tx); got != c.want {
			t.Errorf("%v at %v: %v, want %v", c.cond, c.where, got, c.want)
		}
	}
	// The set's own ACL is left whole for the places that can use it.
	if cond, _ := s.ParseCond([]string{"if", "chat"}); !cond.Eval(tx) {
		t.Error("chat no longer matches after a response condition used it")
	}
}
