package acl

import "strings"

// Variable scopes, as HAProxy's set-var names them.
const (
	ScopeProc uint8 = iota
	ScopeSess
	ScopeTxn
	ScopeReq
	ScopeRes
)

// ParseVarName splits "scope.name" (proc, sess, txn, req, res); ok is
// false for another scope or an empty name.
func ParseVarName(s string) (scope uint8, name string, ok bool) {
	sc, name, found := strings.Cut(s, ".")
	if !found || name == "" {
		return 0, "", false
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
	}
	return 0, "", false
}

// Vars holds variables of some scopes. Values are copied into buffers
// that keep their capacity, so a warm set does not allocate. The zero
// value is ready; it is not safe for concurrent use unless through
// SetShared/GetShared.
type Vars struct {
	vars []variable
}

type variable struct {
	scope uint8
	name  string
	val   []byte
	set   bool
}

// Set stores v in the variable.
func (vs *Vars) Set(scope uint8, name string, v []byte) {
	for i := range vs.vars {
		x := &vs.vars[i]
		if x.scope == scope && x.name == name {
			x.val, x.set = append(x.val[:0], v...), true
			return
		}
	}
	vs.vars = append(vs.vars, variable{scope: scope, name: name, val: append([]byte(nil), v...), set: true})
}

// Unset removes the variable.
func (vs *Vars) Unset(scope uint8, name string) {
	for i := range vs.vars {
		if x := &vs.vars[i]; x.scope == scope && x.name == name {
			x.set = false
		}
	}
}

// Get returns the variable's value.
func (vs *Vars) Get(scope uint8, name string) ([]byte, bool) {
	if vs == nil {
		return nil, false
	}
	for i := range vs.vars {
		if x := &vs.vars[i]; x.scope == scope && x.name == name && x.set {
			return x.val, true
		}
	}
	return nil, false
}

// Clear unsets the variables of the given scopes.
func (vs *Vars) Clear(scopes ...uint8) {
	for i := range vs.vars {
		for _, sc := range scopes {
			if vs.vars[i].scope == sc {
				vs.vars[i].set = false
			}
		}
	}
}
