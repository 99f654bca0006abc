package runtime

import (
	"sync"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
)

// globalVar compiles a global "set-var <name> <expr>" line; msg is
// HAProxy's error when it is refused (vars_parse_global_set_var).
func globalVar(sv parser.GlobalSetVar, ctx *acl.Context) (scope uint8, name string, smp *acl.Sample, msg string) {
	scope, name, ok := acl.ParseVarName(sv.Name)
	if !ok {
		return 0, "", nil, acl.VarNameError(sv.Name).Error()
	}
	if scope != acl.ScopeProc {
		return 0, "", nil, "'" + sv.Keyword + "': cannot set variable '" + sv.Name + "', only scope 'proc' is permitted in the global section."
	}
	smp, err := acl.CompileSampleWith(sv.Expr, ctx)
	if err != nil {
		return 0, "", nil, err.Error()
	}
	return scope, name, smp, ""
}

// globalVarDiags are the errors of the global set-var lines, which
// HAProxy finds while it reads them.
func globalVarDiags(cfg *parser.Config) parser.Diagnostics {
	var out parser.Diagnostics
	for _, sv := range cfg.Global.SetVars {
		if sv.Keyword != "set-var" {
			continue
		}
		ctx := &acl.Context{Maps: acl.NewMaps(), File: sv.Pos.File, Line: sv.Pos.Line}
		if _, _, _, msg := globalVar(sv, ctx); msg != "" {
			out = append(out, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: sv.Pos, Msg: msg})
		}
	}
	return out
}

// compileGlobalVars runs the global set-var lines, in order, as HAProxy
// does while it reads the configuration: the values land in the graph's
// process variables, which every engine starts from. set-var-fmt is
// refused as unsupported by the parser's table.
func compileGlobalVars(cfg *parser.Config, g *Graph, fail func(parser.Pos, string, ...any)) {
	var mu sync.Mutex
	for _, sv := range cfg.Global.SetVars {
		if sv.Keyword != "set-var" {
			continue
		}
		ctx := &acl.Context{Tables: g.tables, Maps: g.maps, File: sv.Pos.File, Line: sv.Pos.Line, ProcVars: &g.procVars}
		scope, name, smp, msg := globalVar(sv, ctx)
		if msg != "" {
			fail(sv.Pos, "%s", msg)
			continue
		}
		ctx.DeclareVar(scope, name)
		// No stream: only the fetches that need none find something.
		txn := acl.Txn{Proc: &g.procVars, ProcMu: &mu}
		smp.SetVar(&txn, scope, name, 0)
	}
}
