package acl

import (
	"strings"
	"sync"
	"sync/atomic"
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
	// used counts the bytes accounted to each scope this set holds
	// (res with req), under tune.vars.*-max-size; only the limited ones.
	used [ScopeCheck + 1]int64
}

// VarLimits are tune.vars.*-max-size: the bytes the variables of a
// request and response, a transaction, a session, a health check and the
// process may hold; 0 is no limit. Global and Proc both bound the
// process's count, which takes every variable of every scope.
type VarLimits struct {
	Reqres, Txn, Sess, Check, Proc, Global uint32
}

// varCost is what HAProxy accounts for a variable besides its text: the
// size of its struct var.
const varCost = 80

// varChain is where a scope's accounting goes: the set holding the
// stream's scopes, the one holding the session's and the process's.
type varChain struct {
	lim              *VarLimits
	vars, sess, proc *Vars
}

// varLevel is a counter a change goes through and its limit.
type varLevel struct {
	n   *int64
	lim uint32
}

// levels lists the counters a change in scope goes through, inner first
// (var_accounting_add in src/vars.c): reqres, txn, session, process; a
// check's goes through the check's, the session's and the process's.
func (c *varChain) levels(scope uint8, out *[5]varLevel) int {
	k := 0
	put := func(vs *Vars, idx uint8, lim uint32) {
		if lim != 0 && vs != nil {
			out[k].n, out[k].lim = &vs.used[idx], lim
			k++
		}
	}
	l := c.lim
	switch scope {
	case ScopeReq, ScopeRes:
		put(c.vars, ScopeReq, l.Reqres)
		put(c.vars, ScopeTxn, l.Txn)
	case ScopeTxn:
		put(c.vars, ScopeTxn, l.Txn)
	case ScopeCheck:
		put(c.vars, ScopeCheck, l.Check)
	}
	if scope != ScopeProc {
		put(c.sess, ScopeSess, l.Sess)
	}
	// The process's count is kept when either of its limits is set.
	if c.proc != nil && (l.Proc != 0 || l.Global != 0) {
		out[k].n, out[k].lim = &c.proc.used[ScopeProc], l.Proc
		k++
		if l.Global != 0 {
			out[k].n, out[k].lim = &c.proc.used[ScopeProc], l.Global
			k++
		}
	}
	return k
}

// add reserves n bytes for a variable of scope, false when a limit on
// the way would be passed.
func (c *varChain) add(scope uint8, n int64) bool {
	var lv [5]varLevel
	k := c.levels(scope, &lv)
	for _, x := range lv[:k] {
		if x.lim != 0 && atomic.LoadInt64(x.n)+n > int64(x.lim) {
			return false
		}
	}
	c.diff(scope, n)
	return true
}

// diff adds n (negative to give back) to the counters of scope.
func (c *varChain) diff(scope uint8, n int64) {
	if n == 0 {
		return
	}
	var lv [5]varLevel
	k := c.levels(scope, &lv)
	var last *int64
	for _, x := range lv[:k] {
		if x.n != last {
			atomic.AddInt64(x.n, n)
		}
		last = x.n
	}
}

// textCost is the accounted size of a value: its bytes for a string, a
// binary or a method other than the eight HAProxy knows.
func textCost(v *Value) int64 {
	switch v.Type {
	case TypeStr, TypeBin:
		return int64(len(v.B))
	case TypeMeth:
		switch string(v.B) {
		case "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT":
			return 0
		}
		return int64(len(v.B))
	}
	return 0
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
func (vs *Vars) Declare(scope uint8, name string) { vs.declare(scope, name, nil) }

// declare is Declare accounting a new variable under lim (nil for none):
// one the process's limit leaves no room for is not created, and it
// reports false.
func (vs *Vars) declare(scope uint8, name string, lim *VarLimits) bool {
	if x := vs.find(scope, name); lim != nil && (x == nil || x.state == varAbsent) {
		c := varChain{lim: lim, vars: vs, sess: vs, proc: vs}
		if !c.add(scope, varCost) {
			return false
		}
	}
	x := vs.slot(scope, name)
	if x.state == varAbsent {
		x.state = varEmpty
	}
	x.permanent = true
	return true
}

// Clone returns an independent copy of the variables.
func (vs *Vars) Clone() Vars {
	var c Vars
	if vs == nil {
		return c
	}
	c.used = vs.used
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
	return vs.setValue(scope, name, v, conds, nil)
}

// setValue is SetValue accounting the variable's bytes on c when not nil.
func (vs *Vars) setValue(scope uint8, name string, v *Value, conds VarConds, c *varChain) bool {
	x := vs.find(scope, name)
	if x != nil && x.state != varAbsent {
		if conds&VarIfNotExists != 0 {
			return false
		}
	} else {
		if conds&VarIfExists != 0 {
			return false
		}
		if c != nil && !c.add(scope, varCost) {
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
	if c != nil {
		if x.state == varSet {
			c.diff(scope, -textCost(&x.v))
		}
		if !c.add(scope, textCost(v)) {
			// HAProxy leaves a boolean holding what the value's storage
			// held: an integer's value, nothing of a text's.
			i := int64(0)
			if x.state == varSet && (x.v.Type == TypeInt || x.v.Type == TypeBool) {
				i = x.v.I
			}
			x.state, x.v = varSet, Value{Type: TypeBool, I: i}
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
func (vs *Vars) Unset(scope uint8, name string) { vs.unset(scope, name, nil) }

func (vs *Vars) unset(scope uint8, name string, c *varChain) {
	if x := vs.find(scope, name); x != nil && x.state != varAbsent {
		// A permanent variable stays, and so does its struct's count.
		n := x.held()
		x.state = varAbsent
		if x.permanent {
			x.state = varEmpty
			n -= varCost
		}
		if c != nil {
			c.diff(scope, -n)
		}
	}
}

// held is what an existing variable counts: its struct and its text.
func (x *variable) held() int64 {
	if x.state == varSet {
		return varCost + textCost(&x.v)
	}
	return varCost
}

// Value returns the variable's typed value; its bytes belong to the
// variable until it is next set.
func (vs *Vars) Value(scope uint8, name string) (Value, bool) {
	x := vs.find(scope, name)
	if x == nil || x.state != varSet {
		return Value{}, false
	}
	if x.v.Type == TypeMeth && textCost(&x.v) != 0 {
		// HAProxy's copy of the variable's sample (smp_dup) overwrites
		// an unknown method's code: it reads back as OPTIONS.
		return Value{Type: TypeMeth, B: optionsMeth}, true
	}
	return x.v, true
}

var optionsMeth = []byte("OPTIONS")

// Get returns the variable's value as text.
func (vs *Vars) Get(scope uint8, name string) ([]byte, bool) {
	x := vs.find(scope, name)
	if x == nil || x.state != varSet {
		return nil, false
	}
	switch x.v.Type {
	case TypeMeth:
		if textCost(&x.v) != 0 {
			return optionsMeth, true
		}
		return x.val, true
	case TypeStr, TypeBin:
		return x.val, true
	}
	vs.text = appendValue(vs.text[:0], &x.v)
	return vs.text, true
}

// Clear removes the variables of the given scopes, permanent ones too
// (vars_prune).
func (vs *Vars) Clear(scopes ...uint8) { vs.clear(nil, scopes...) }

func (vs *Vars) clear(c *varChain, scopes ...uint8) {
	for i := range vs.vars {
		x := &vs.vars[i]
		for _, sc := range scopes {
			if x.scope == sc && x.state != varAbsent {
				if c != nil {
					c.diff(sc, -x.held())
				}
				x.state = varAbsent
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

// chain is the accounting of the transaction's variables, nil without
// limits.
func (t *Txn) chain(c *varChain) *varChain {
	if t.VarLimits == nil {
		return nil
	}
	c.lim, c.vars, c.sess, c.proc = t.VarLimits, t.Vars, t.Vars, t.Proc
	if t.SessMu != nil {
		c.sess = t.Sess
	}
	return c
}

// setVar stores v under conds.
func (t *Txn) setVar(scope uint8, name string, v *Value, conds VarConds) bool {
	vs, mu := t.varsFor(scope)
	ok := false
	if vs != nil {
		var c varChain
		ok = vs.setValue(scope, name, v, conds, t.chain(&c))
	}
	if mu != nil {
		mu.Unlock()
	}
	return ok
}

// SetVar stores v in a variable of the transaction, the session or the
// process under conds, within tune.vars.*-max-size; it reports whether
// it was stored.
func (t *Txn) SetVar(scope uint8, name string, v *Value, conds VarConds) bool {
	return t.setVar(scope, name, v, conds)
}

// UnsetVar removes a variable, its bytes given back.
func (t *Txn) UnsetVar(scope uint8, name string) { t.unsetVar(scope, name) }

// unsetVar removes a variable.
func (t *Txn) unsetVar(scope uint8, name string) {
	vs, mu := t.varsFor(scope)
	if vs != nil {
		var c varChain
		vs.unset(scope, name, t.chain(&c))
	}
	if mu != nil {
		mu.Unlock()
	}
}

// ClearVars removes the variables of scopes from the transaction's set
// (Vars), their bytes given back to the session's and the process's
// counts: at a transaction's end, and at a session's for all but proc.
func (t *Txn) ClearVars(scopes ...uint8) {
	if t.Vars == nil {
		return
	}
	var c varChain
	t.Vars.clear(t.chain(&c), scopes...)
}

// ReleaseSessVars removes the sess variables of vs, a connection's set
// its streams shared, their bytes given back to the process's count.
func ReleaseSessVars(vs, proc *Vars, lim *VarLimits) {
	if vs == nil || lim == nil {
		return
	}
	c := varChain{lim: lim, vars: vs, sess: vs, proc: proc}
	vs.clear(&c, ScopeSess)
}
