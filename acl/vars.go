package acl

import (
	"strings"
	"sync"
)

// Variable scopes, as HAProxy's set-var names them.
const (
	ScopeProc uint8 = iota
	ScopeSess
	ScopeTxn
	ScopeReq
	ScopeRes
	ScopeCheck
)

// ParseVarName splits "scope.name" (proc, sess, txn, req, res, check); ok
// is false for another scope, an empty name or a name with a byte other
// than letters, digits, '_' and '.' (vars_hash_name in src/vars.c).
func ParseVarName(s string) (scope uint8, name string, ok bool) {
	sc, name, found := strings.Cut(s, ".")
	if !found || name == "" {
		return 0, "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return 0, "", false
		}
	}
	switch sc {
	case "proc":
		return ScopeProc, name, true
	case "sess":
		return ScopeSess, name, true
	case "txn":
		return ScopeTxn, name, true
	case "req":
		return ScopeReq, name, true
	case "res":
		return ScopeRes, name, true
	case "check":
		return ScopeCheck, name, true
	}
	return 0, "", false
}

// VarNameError is HAProxy's error for a variable name ParseVarName
// refuses (vars_hash_name).
func VarNameError(s string) error { return varNameErr(s) }

func varNameErr(s string) error {
	sc, rest, _ := strings.Cut(s, ".")
	switch sc {
	case "proc", "sess", "txn", "req", "res", "check":
		if rest != "" {
			for i := 0; i < len(rest); i++ {
				c := rest[i]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
					return errorf("invalid syntax at char '%s'", rest[i:])
				}
			}
		}
	}
	if s == "" {
		return errorf("Empty variable name cannot be accepted")
	}
	return errorf("invalid variable name '%s'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'", s)
}

// VarConds are set-var's conditions (ifexists, ifgt...), a bit set.
type VarConds uint16

// set-var conditions, as conditions_array in src/vars.c.
const (
	VarIfExists VarConds = 1 << iota
	VarIfNotExists
	VarIfEmpty
	VarIfNotEmpty
	VarIfSet
	VarIfNotSet
	VarIfGt
	VarIfLt
)

var varCondNames = []string{"ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt"}

// ParseVarConds parses set-var's condition words; the error is HAProxy's
// `unknown condition "x"`.
func ParseVarConds(words []string) (VarConds, error) {
	var c VarConds
	for _, w := range words {
		ok := false
		for i, n := range varCondNames {
			if w == n {
				c |= 1 << i
				ok = true
				break
			}
		}
		if !ok {
			return 0, errorf("unknown condition \"%s\"", w)
		}
	}
	return c, nil
}

// Vars holds variables of some scopes. Values are copied into buffers
// that keep their capacity, so a warm set does not allocate. The zero
// value is ready; it is not safe for concurrent use.
type Vars struct {
	vars []variable
	text []byte
}

// variable states: a variable exists once created (varEmpty, HAProxy's
// SMP_T_ANY: created but not set, or unset while permanent) and holds a
// value once set; it stops existing when cleared or unset.
const (
	varAbsent uint8 = iota
	varEmpty
	varSet
)

type variable struct {
	scope uint8
	state uint8
	// permanent variables (the proc ones the configuration names) survive
	// unset-var as varEmpty (VF_PERMANENT in src/vars.c).
	permanent bool
	name      string
	v         Value
	val       []byte
}

func (vs *Vars) find(scope uint8, name string) *variable {
	if vs == nil {
		return nil
	}
	for i := range vs.vars {
		if x := &vs.vars[i]; x.scope == scope && x.name == name {
			return x
		}
	}
	return nil
}

func (vs *Vars) slot(scope uint8, name string) *variable {
	if x := vs.find(scope, name); x != nil {
		return x
	}
	vs.vars = append(vs.vars, variable{scope: scope, name: name})
	return &vs.vars[len(vs.vars)-1]
}

// Declare creates the variable, existing but not set and permanent, unless
// it exists already: HAProxy does so at configuration time for every proc
// variable the configuration names (vars_check_arg, VF_CREATEONLY |
// VF_PERMANENT), so that ifexists finds them.
func (vs *Vars) Declare(scope uint8, name string) {
	x := vs.slot(scope, name)
	if x.state == varAbsent {
		x.state = varEmpty
	}
	x.permanent = true
}

// Clone returns an independent copy of the variables.
func (vs *Vars) Clone() Vars {
	var c Vars
	if vs == nil {
		return c
	}
	c.vars = make([]variable, len(vs.vars))
	copy(c.vars, vs.vars)
	for i := range c.vars {
		x := &c.vars[i]
		if x.val != nil {
			x.val = append([]byte(nil), x.val...)
			x.v.B = x.val
		}
	}
	return c
}

// Set stores v in the variable as a string.
func (vs *Vars) Set(scope uint8, name string, v []byte) {
	vs.SetValue(scope, name, &Value{Type: TypeStr, B: v}, 0)
}

// SetValue stores a typed value in the variable under set-var's
// conditions (var_set in src/vars.c); it reports whether it was stored.
// As there, a missing variable is created before the conditions on the
// sample are checked, so one that fails them leaves it existing but not
// set.
func (vs *Vars) SetValue(scope uint8, name string, v *Value, conds VarConds) bool {
	x := vs.find(scope, name)
	if x != nil && x.state != varAbsent {
		if conds&VarIfNotExists != 0 {
			return false
		}
	} else {
		if conds&VarIfExists != 0 {
			return false
		}
		x = vs.slot(scope, name)
		x.state = varEmpty
	}
	isSet := x.state == varSet
	if conds&VarIfSet != 0 && !isSet || conds&VarIfNotSet != 0 && isSet {
		return false
	}
	switch v.Type {
	case TypeStr, TypeBin:
		if conds&VarIfNotEmpty != 0 && len(v.B) == 0 || conds&VarIfEmpty != 0 && len(v.B) != 0 {
			return false
		}
	case TypeInt:
		if conds&VarIfEmpty != 0 {
			return false
		}
		if isSet && x.v.Type == TypeInt &&
			(conds&VarIfGt != 0 && !(x.v.I > v.I) || conds&VarIfLt != 0 && !(x.v.I < v.I)) {
			return false
		}
	default:
		if conds&VarIfEmpty != 0 {
			return false
		}
	}
	x.state = varSet
	x.v = Value{Type: v.Type, I: v.I, IP: v.IP}
	if v.Type == TypeStr || v.Type == TypeBin || v.Type == TypeMeth {
		x.val = append(x.val[:0], v.B...)
		x.v.B = x.val
	}
	return true
}

// Unset removes the variable; a permanent one stays, not set.
func (vs *Vars) Unset(scope uint8, name string) {
	if x := vs.find(scope, name); x != nil {
		x.state = varAbsent
		if x.permanent {
			x.state = varEmpty
		}
	}
}

// Value returns the variable's typed value; its bytes belong to the
// variable until it is next set.
func (vs *Vars) Value(scope uint8, name string) (Value, bool) {
	x := vs.find(scope, name)
	if x == nil || x.state != varSet {
		return Value{}, false
	}
	return x.v, true
}

// Get returns the variable's value as text.
func (vs *Vars) Get(scope uint8, name string) ([]byte, bool) {
	x := vs.find(scope, name)
	if x == nil || x.state != varSet {
		return nil, false
	}
	switch x.v.Type {
	case TypeStr, TypeBin, TypeMeth:
		return x.val, true
	}
	vs.text = appendValue(vs.text[:0], &x.v)
	return vs.text, true
}

// Clear removes the variables of the given scopes, permanent ones too
// (vars_prune).
func (vs *Vars) Clear(scopes ...uint8) {
	for i := range vs.vars {
		for _, sc := range scopes {
			if vs.vars[i].scope == sc {
				vs.vars[i].state = varAbsent
			}
		}
	}
}

// varsFor returns the variable set of a scope and the lock it was taken
// under (the process set's, or a connection's shared one), nil if none.
func (t *Txn) varsFor(scope uint8) (vs *Vars, mu *sync.Mutex) {
	switch {
	case scope == ScopeProc:
		if t.ProcMu == nil || t.Proc == nil {
			return nil, nil
		}
		t.ProcMu.Lock()
		return t.Proc, t.ProcMu
	case scope == ScopeSess && t.SessMu != nil:
		t.SessMu.Lock()
		return t.Sess, t.SessMu
	}
	return t.Vars, nil
}

// getVar copies a variable's value into v (its bytes into a work area).
func (t *Txn) getVar(scope uint8, name string, v *Value) bool {
	vs, mu := t.varsFor(scope)
	x, ok := vs.Value(scope, name)
	if ok {
		*v = x
		if x.B != nil {
			v.B = t.keep(append(t.tmp(), x.B...))
		}
	}
	if mu != nil {
		mu.Unlock()
	}
	return ok
}

// setVar stores v under conds.
func (t *Txn) setVar(scope uint8, name string, v *Value, conds VarConds) bool {
	vs, mu := t.varsFor(scope)
	ok := false
	if vs != nil {
		ok = vs.SetValue(scope, name, v, conds)
	}
	if mu != nil {
		mu.Unlock()
	}
	return ok
}

// unsetVar removes a variable.
func (t *Txn) unsetVar(scope uint8, name string) {
	vs, mu := t.varsFor(scope)
	if vs != nil {
		vs.Unset(scope, name)
	}
	if mu != nil {
		mu.Unlock()
	}
}
