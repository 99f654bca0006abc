package acl

import (
	"sync"
	"testing"

	"github.com/gohap/gohap/runtime/h1"
)

// From reg-tests/sample_fetches/cond_set_var.vtc: proc variables the
// configuration names exist, unset, before any request (vars_check_arg
// and the set-var actions create them with VF_CREATEONLY|VF_PERMANENT).
func TestProcVarsDeclared(t *testing.T) {
	decl := &Vars{}
	ctx := &Context{ProcVars: decl}
	for _, e := range []string{"var(proc.a)", "str(x),set-var(proc.b)", "str(x),concat(,proc.c,)",
		"int(1),add(proc.d)", "str(x),strcmp(proc.e)", "var(txn.f)", "str(x),unset-var(proc.g)"} {
		if _, err := CompileSampleWith(e, ctx); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
	}
	ctx.DeclareVar(ScopeProc, "h") // a set-var action's variable
	ctx.DeclareVar(ScopeSess, "i") // only proc ones are kept
	proc := decl.Clone()
	var mu sync.Mutex
	tx := &Txn{Vars: &Vars{}, Proc: &proc, ProcMu: &mu}
	setv := func(name, expr string, conds ...string) bool {
		t.Helper()
		c, err := ParseVarConds(conds)
		if err != nil {
			t.Fatal(err)
		}
		sc, n, _ := ParseVarName(name)
		s, err := CompileSample(expr)
		if err != nil {
			t.Fatal(err)
		}
		return s.SetVar(tx, sc, n, c)
	}
	for _, n := range []string{"a", "b", "c", "d", "e", "g", "h"} {
		if _, ok := proc.Value(ScopeProc, n); ok {
			t.Errorf("proc.%s: declared variables are not set", n)
		}
		if setv("proc."+n, "int(1)", "ifnotexists") {
			t.Errorf("proc.%s: ifnotexists must fail on a declared variable", n)
		}
	}
	if proc.find(ScopeTxn, "f") != nil || proc.find(ScopeSess, "i") != nil {
		t.Errorf("only proc variables are declared")
	}
	// ifexists sets a declared proc variable, not an undeclared one.
	if !setv("proc.a", "int(12)", "ifexists") {
		t.Errorf("ifexists on a declared proc variable")
	}
	if got, _ := eval(t, tx, "var(proc.a)"); got != "12" {
		t.Errorf("proc.a = %q", got)
	}
	if setv("proc.zz", "int(12)", "ifexists") || setv("sess.zz", "int(12)", "ifexists") {
		t.Errorf("ifexists on an undeclared variable")
	}
	// unset-var leaves a permanent variable existing but not set...
	proc.Unset(ScopeProc, "a")
	if _, ok := proc.Value(ScopeProc, "a"); ok {
		t.Errorf("proc.a still set after unset")
	}
	if setv("proc.a", "int(1)", "ifnotexists") || !setv("proc.a", "int(3)", "ifnotset") {
		t.Errorf("an unset permanent variable exists and is not set")
	}
	// ...and removes another one.
	setv("sess.s", "int(1)")
	tx.Vars.Unset(ScopeSess, "s")
	if !setv("sess.s", "int(2)", "ifnotexists") {
		t.Errorf("an unset session variable no longer exists")
	}
	// The clone is independent of the declarations.
	if _, ok := decl.Value(ScopeProc, "a"); ok {
		t.Errorf("setting the process variables changed the declarations")
	}
}

// var_set creates a missing variable before it checks the sample, so a
// set-var whose sample fails the conditions leaves it existing, unset.
func TestSetVarCreatesBeforeConditions(t *testing.T) {
	cases := []struct {
		v     Value
		conds string
	}{
		{Value{Type: TypeInt, I: 5}, "ifempty"},
		{Value{Type: TypeStr, B: []byte("x")}, "ifempty"},
		{Value{Type: TypeStr}, "ifnotempty"},
		{Value{Type: TypeInt, I: 1}, "ifset"},
		{Value{Type: TypeMeth, B: []byte("GET")}, "ifempty"},
	}
	for _, c := range cases {
		vs := &Vars{}
		conds, _ := ParseVarConds([]string{c.conds})
		if vs.SetValue(ScopeTxn, "x", &c.v, conds) {
			t.Errorf("%v %s: stored", c.v.Type, c.conds)
		}
		if _, ok := vs.Value(ScopeTxn, "x"); ok {
			t.Errorf("%v %s: set", c.v.Type, c.conds)
		}
		if vs.SetValue(ScopeTxn, "x", &Value{Type: TypeInt}, VarIfNotExists) {
			t.Errorf("%v %s: the variable was not created", c.v.Type, c.conds)
		}
	}
	// A method is never empty for ifnotempty (only str and bin are checked).
	vs := &Vars{}
	if !vs.SetValue(ScopeTxn, "m", &Value{Type: TypeMeth}, VarIfNotEmpty) {
		t.Errorf("ifnotempty on a method")
	}
}

// req.len on an HTTP stream is the HTX data size (smp_fetch_len): the
// cond_set_var.vtc request "GET /converter" with X-Cust and Host gives 67.
func TestReqLenHTTP(t *testing.T) {
	tx := txn(t, "GET /converter HTTP/1.1\r\nX-Cust: foobar\r\nHost: 127.0.0.1\r\n\r\n")
	tx.Final = true
	if got, _ := eval(t, tx, "req.len"); got != "67" {
		t.Errorf("req.len = %s, want 67", got)
	}
	tx.Body = []byte("abc")
	if got, _ := eval(t, tx, "req_len"); got != "70" {
		t.Errorf("req_len with a body = %s, want 70", got)
	}
	// A TCP stream may carry an empty message: the buffered data counts.
	tcp := &Txn{Req: &h1.Msg{}, Payload: []byte("*1\r\n$4\r\nPING\r\n"), Final: true}
	if got, _ := eval(t, tcp, "req.len"); got != "14" {
		t.Errorf("req.len in TCP = %s, want 14", got)
	}
}
