package runtime

import (
	"strconv"
	"testing"

	"github.com/gohap/gohap/parser"
)

// The global set-var lines are refused with HAProxy's messages.
func TestGlobalSetVarDiags(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"set-var proc.a", "'set-var' requires a process-wide variable name ('proc.<name>') and a sample expression."},
		{"set-var-fmt proc.a", "'set-var-fmt' requires a process-wide variable name ('proc.<name>') and a format string."},
		{"set-var txn.a int(1)", "'set-var': cannot set variable 'txn.a', only scope 'proc' is permitted in the global section."},
		{"set-var-fmt txn.a x", "'set-var-fmt': cannot set variable 'txn.a', only scope 'proc' is permitted in the global section."},
		{"set-var proc.a nope(1)", "unknown fetch method 'nope'"},
		{"set-var proc.a int(1),foo", "unknown converter 'foo'"},
		{"set-var bad int(1)", "invalid variable name 'bad'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"},
	} {
		cfg, ds := parser.Parse([]parser.Input{{Name: "c.cfg", Data: []byte("global\n " + c.line + "\n" + base)}}, parser.Options{})
		ds = ParseChecks(cfg, ds)
		var got []string
		for _, d := range ds {
			if d.Severity == parser.Alert {
				got = append(got, d.Pos.File+":"+strconv.Itoa(d.Pos.Line)+": "+d.Msg)
			}
		}
		if want := "c.cfg:2: " + c.want; len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", c.line, got, want)
		}
	}
}
