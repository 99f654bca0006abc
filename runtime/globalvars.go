package runtime

import (
	"sync"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/logging"
)

// globalVar compiles a global "set-var <name> <expr>" line (smp) or
// "set-var-fmt <name> <format>" line (f); msg is HAProxy's error when it
// is refused (vars_parse_global_set_var).
func globalVar(sv parser.GlobalSetVar, ctx *acl.Context) (scope uint8, name string, smp *acl.Sample, f *logging.Format, msg string) {
	scope, name, ok := acl.ParseVarName(sv.Name)
	if !ok {
		return 0, "", nil, nil, acl.VarNameError(sv.Name).Error()
	}
	if scope != acl.ScopeProc {
		return 0, "", nil, nil, "'" + sv.Keyword + "': cannot set variable '" + sv.Name + "', only scope 'proc' is permitted in the global section."
	}
	var err error
	if sv.Keyword == "set-var-fmt" {
		f, err = ruleFormat(sv.Expr, ctx)
	} else {
		smp, err = acl.CompileSampleWith(sv.Expr, ctx)
	}
	if err != nil {
		return 0, "", nil, nil, err.Error()
	}
	return scope, name, smp, f, ""
}

// globalVarDiags are the errors of the global set-var lines, which
// HAProxy finds while it reads them.
func globalVarDiags(cfg *parser.Config) parser.Diagnostics {
	var out parser.Diagnostics
	for _, sv := range cfg.Global.SetVars {
		ctx := &acl.Context{Maps: acl.NewMaps(), File: sv.Pos.File, Line: sv.Pos.Line}
		if _, _, _, _, msg := globalVar(sv, ctx); msg != "" {
			out = append(out, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: sv.Pos, Msg: msg})
		}
	}
	return out
}

// compileGlobalVars runs the global set-var and set-var-fmt lines, in
// order, as HAProxy does while it reads the configuration: the values
// land in the graph's process variables, which every engine starts from.
func compileGlobalVars(cfg *parser.Config, g *Graph, fail func(parser.Pos, string, ...any)) {
	var mu sync.Mutex
	for _, sv := range cfg.Global.SetVars {
		lim := varLimits(sv.Limits)
		ctx := &acl.Context{Tables: g.tables, Maps: g.maps, File: sv.Pos.File, Line: sv.Pos.Line, ProcVars: &g.procVars, VarLimits: lim}
		scope, name, smp, f, msg := globalVar(sv, ctx)
		if msg != "" {
			fail(sv.Pos, "%s", msg)
			continue
		}
		ctx.DeclareVar(scope, name)
		// No stream: only the fetches that need none find something. The
		// empty request buffer lets formats run their samples.
		txn := acl.Txn{Buf: []byte{}, Proc: &g.procVars, ProcMu: &mu, VarLimits: lim}
		if f != nil {
			v := acl.Value{Type: acl.TypeStr, B: f.Append(nil, &logging.Record{Ctx: &txn})}
			txn.SetVar(scope, name, &v, 0)
			continue
		}
		smp.SetVar(&txn, scope, name, 0)
	}
}

// varLimits is the runtime's form of tune.vars.*-max-size, nil when none
// is set: the variables are then not accounted at all.
func varLimits(l parser.VarLimits) *acl.VarLimits {
	if l == (parser.VarLimits{}) {
		return nil
	}
	v := acl.VarLimits(l)
	return &v
}
