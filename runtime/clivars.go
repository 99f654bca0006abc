package runtime

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/stats"
)

var (
	_ stats.VarSource     = cliSource{}
	_ stats.PatternSource = cliSource{}
)

// Maps is the graph's registry of map and ACL files.
func (s cliSource) Maps() *acl.Maps { return s.e.g.maps }

// GetVar reads a proc variable for "get var": its type and its value
// cast to a string (a binary one up to its first NUL byte, as HAProxy's
// cast stops there).
func (s cliSource) GetVar(name string) (string, []byte, bool) {
	scope, vname, ok := acl.ParseVarName(name)
	if !ok || scope != acl.ScopeProc {
		return "", nil, false
	}
	e := s.e
	e.procMu.Lock()
	defer e.procMu.Unlock()
	v, ok := e.procVars.Value(scope, vname)
	if !ok {
		return "", nil, false
	}
	var text []byte
	switch v.Type {
	case acl.TypeStr, acl.TypeMeth:
		text = append([]byte{}, v.B...)
	case acl.TypeBin:
		text = append([]byte{}, v.B...)
		if i := strings.IndexByte(string(text), 0); i >= 0 {
			text = text[:i]
		}
	case acl.TypeBool, acl.TypeInt:
		text = strconv.AppendInt([]byte{}, v.I, 10)
	case acl.TypeIPv4, acl.TypeIPv6:
		text = []byte(v.IP.String())
	}
	return v.Type.String(), text, true
}

// varFetchPrefix starts the errors of the var() fetch, whose checks of a
// variable name are the ones "set var" makes.
const varFetchPrefix = "invalid args in fetch method 'var' : "

// SetVar runs "set var": the expression (or format) is compiled as a
// rule's, then run without a stream into the process variables.
func (s cliSource) SetVar(name, text string, fmtForm bool) error {
	e := s.e
	if _, err := acl.CompileSample("var(" + name + ")"); err != nil {
		msg := strings.TrimPrefix(err.Error(), varFetchPrefix)
		// HAProxy reads the name inside "set-var(<name>)", whose closing
		// parenthesis ends the rest it quotes.
		if rest, ok := strings.CutPrefix(msg, "invalid syntax at char '"); ok {
			msg = "invalid syntax at char '" + strings.TrimSuffix(rest, "'") + ")'"
		}
		return errors.New(msg)
	}
	scope, vname, _ := acl.ParseVarName(name)
	ctx := &acl.Context{Tables: e.g.tables, Maps: e.g.maps, File: "CLI"}
	var smp *acl.Sample
	var f *logging.Format
	var err error
	if fmtForm {
		f, err = ruleFormat(text, ctx)
	} else {
		smp, err = acl.CompileSampleWith(text, ctx)
	}
	if err != nil {
		return err
	}
	if scope != acl.ScopeProc {
		return errors.New("'%CMD%': cannot set variable '" + name + "', only scope 'proc' is permitted here.")
	}
	// No stream: only the fetches that need none find something.
	txn := acl.Txn{Buf: []byte{}, Proc: &e.procVars, ProcMu: &e.procMu, VarLimits: e.varLimits}
	if f != nil {
		v := acl.Value{Type: acl.TypeStr, B: f.Append(nil, &logging.Record{Ctx: &txn})}
		txn.SetVar(scope, vname, &v, 0)
		return nil
	}
	smp.SetVar(&txn, scope, vname, 0)
	return nil
}
