package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/acl/stick"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
)

// Stick tables: the tables of the proxies' "stick-table" lines, the
// track-sc, sc-inc-gpc and sc-set-gpt actions, the engine's counters on
// tracked entries, and "stick on|match|store" persistence
// (configuration.txt 4.2; HAProxy's src/stick_table.c, stream.c).

// buildTables reads the stick-table lines in proxy order, as HAProxy's
// parser registers them: a table is named after its proxy, a name taken
// by an earlier valid table is a conflict, and a line that does not parse
// makes no table. Tables that stick rules use get server_id and
// server_key, which HAProxy allocates for them.
func buildTables(cfg *parser.Config) (*stick.Tables, parser.Diagnostics) {
	var diags parser.Diagnostics
	tables := &stick.Tables{}
	type decl struct {
		p   *parser.Proxy
		pos parser.Pos
	}
	declared := map[string]decl{}
	sticky := map[string]bool{}
	for _, p := range cfg.Proxies {
		for _, r := range p.StickRules {
			sticky[stickTableName(r.Table, p)] = true
		}
	}
	// The "table" lines of peers sections are tables named
	// "<peers>/<table>", which rules may name.
	diags = append(diags, peersTables(cfg, tables, sticky)...)
	for _, p := range cfg.Proxies {
		for _, st := range p.StickTables {
			if d, ok := declared[p.Name]; ok {
				diags = append(diags, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: st.Pos,
					Msg: fmt.Sprintf("stick-table name '%s' conflicts with table declared in %s '%s' at %s:%d.",
						p.Name, proxyCapStr(d.p), d.p.Name, d.pos.File, d.pos.Line)})
				continue
			}
			c, msgs := stick.Parse(st.Words, p.Name, false)
			diags = append(diags, tableDiags(msgs, st.Pos)...)
			if stick.HasErrors(msgs) {
				continue
			}
			if sticky[p.Name] {
				c.Store[stick.ServerID] = stick.Store{On: true, Elems: 1}
				c.Store[stick.ServerKey] = stick.Store{On: true, Elems: 1}
			}
			declared[p.Name] = decl{p: p, pos: st.Pos}
			tables.Add(stick.New(c, nil))
		}
	}
	return tables, diags
}

// tableDiags turns acl/stick's messages about a line into diagnostics.
func tableDiags(msgs []stick.Message, pos parser.Pos) parser.Diagnostics {
	var diags parser.Diagnostics
	for _, m := range msgs {
		d := parser.Diagnostic{Severity: parser.Alert, Fatal: !m.Warning, Pos: pos, Msg: m.Text}
		if m.Warning {
			d.Severity = parser.Warning
		}
		if m.Tight {
			d.Style = parser.StyleParsingTight
		}
		if m.NoPos {
			// Kept for ordering, not printed.
			d.Style = parser.StyleNone
		}
		diags = append(diags, d)
	}
	return diags
}

// proxyCapStr is HAProxy's proxy_cap_str.
func proxyCapStr(p *parser.Proxy) string {
	switch {
	case p.Cap&parser.CapFE != 0 && p.Cap&parser.CapBE != 0:
		return "listen"
	case p.Cap&parser.CapFE != 0:
		return "frontend"
	}
	return "backend"
}

// stickTableName is the table a rule names: its own, else its proxy's.
func stickTableName(name string, p *parser.Proxy) string {
	if name == "" {
		return p.Name
	}
	return name
}

// stickRefDiags are the per-proxy checks HAProxy's check_config_validity
// makes on stick-table references: the tables of stick rules, then of
// track-sc actions, then the table arguments of the proxy's samples,
// grouped as smp_resolve_args groups them.
func stickRefDiags(p *parser.Proxy, tables *stick.Tables, maps *acl.Maps, servers acl.ServerResolver, uls map[string]*acl.Userlist) parser.Diagnostics {
	var diags parser.Diagnostics
	if p.Cap&parser.CapDef != 0 && !p.RulesInherited() {
		// HAProxy checks a defaults section when a proxy inherits its
		// rules, and otherwise not at all.
		return nil
	}
	alert := func(format string, a ...any) {
		diags = append(diags, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Msg: fmt.Sprintf(format, a...)})
	}
	// compatible is stktable_compatible_sample: an expression that does
	// not compile here is reported elsewhere.
	compatible := func(expr string, tb *stick.Table) bool {
		s, err := acl.CompileSampleWith(expr, &acl.Context{Unresolved: func(*acl.ResolveError) {}})
		return err != nil || s.TableCompatible(tb)
	}
	for _, resp := range []bool{false, true} {
		for _, r := range p.StickRules {
			if r.Response != resp {
				continue
			}
			tb := tables.Table(stickTableName(r.Table, p))
			if tb != nil {
				if !compatible(r.Expr, tb) {
					alert("Proxy '%s': type of fetch not usable with type of stick-table '%s'.", p.Name, stickTableName(r.Table, p))
				}
				continue
			}
			what := "stick-table"
			if resp {
				what = "store table"
			}
			alert("Proxy '%s': unable to find %s '%s'.", p.Name, what, stickTableName(r.Table, p))
		}
	}
	trk := func(sa *parser.StickAction, act, expr string) {
		if act != "track-sc" || sa == nil {
			return
		}
		tb := tables.Table(stickTableName(sa.Table, p))
		if tb == nil {
			alert("Proxy '%s': unable to find table '%s' referenced by track-sc%d.", p.Name, stickTableName(sa.Table, p), sa.SC)
		} else if !compatible(expr, tb) {
			alert("Proxy '%s': stick-table '%s' uses a type incompatible with the 'track-sc%d' rule.", p.Name, stickTableName(sa.Table, p), sa.SC)
		}
	}
	// send-spoe-group's engine is one of the proxy's SPOE filters, and
	// ot-group's filter one of its OpenTracing filters. A SPOE filter
	// without "engine" takes its agent's name from its SPOE file, which
	// is not read, and an OpenTracing filter without "id" its default:
	// then any name may be theirs.
	filterGroups := func(list string) {
		for _, g := range p.FilterGroups {
			if g.List != list {
				continue
			}
			found := false
			for _, f := range p.Filters {
				found = found || f.Kind == g.Kind && (f.Name == "" || f.Name == g.Filter)
			}
			switch {
			case found:
			case g.Kind == "spoe":
				alert("Proxy '%s': unable to find SPOE engine '%s' used by the send-spoe-group '%s'.", p.Name, g.Filter, g.Group)
			default:
				alert("Proxy '%s': unable to find the OpenTracing filter '%s' used by the ot-group '%s'.", p.Name, g.Filter, g.Group)
			}
		}
	}
	for _, stage := range []string{"connection", "session", "content"} {
		for _, r := range p.TCPRequests {
			if !r.Response && r.Stage == stage {
				trk(r.Stick, r.Action, r.Expr)
			}
		}
	}
	filterGroups("tcp-request")
	filterGroups("tcp-response")
	for i, rules := range [][]*parser.HTTPRule{p.HTTPRequestRules, p.HTTPResponseRules} {
		slots, kw := len(p.Log.ReqCaps), "http-request"
		if i == 1 {
			slots, kw = len(p.Log.RspCaps), "http-response"
		}
		for _, r := range rules {
			trk(r.Stick, r.Action, r.Expr)
			// A capture by id names a slot a frontend declared; a
			// backend's are only known when a stream runs.
			if r.Action == "capture" && r.CaptureLen == 0 && p.Cap&parser.CapFE != 0 && r.CaptureID >= slots {
				alert("Proxy '%s': unable to find capture id '%d' referenced by %s capture rule.", p.Name, r.CaptureID, kw)
			}
		}
		filterGroups(kw)
	}
	// Argument resolution: every ACL and sample of the proxy, in line
	// order, each error saying where the expression is.
	type resErr struct {
		pos parser.Pos
		msg string
	}
	var errs []resErr
	rc := p.ResolveCap()
	ctx := &acl.Context{Tables: tables, Proxy: p.Name, Maps: maps, Servers: servers, Defaults: p.Cap&parser.CapDef != 0, Userlists: uls,
		NoBackend: rc&parser.CapBE == 0, NoFrontend: rc&parser.CapFE == 0}
	set := acl.NewSetWith(ctx)
	// Every argument that does not resolve is reported, several in one
	// expression as well, at the line and place being compiled.
	var curPos parser.Pos
	var curWhere string
	ctx.Unresolved = func(re *acl.ResolveError) {
		where := curWhere
		if where == argACL {
			re.ACL = true
		}
		if re.ACL {
			where = "in"
		}
		errs = append(errs, resErr{curPos, fmt.Sprintf("parsing [%s:%d]: %s %s proxy '%s'%s.", curPos.File, curPos.Line, re.Error(), where, p.Name, re.Suffix())})
	}
	note := func(pos parser.Pos, err error, where string) {
		var re *acl.ResolveError
		if errors.As(err, &re) {
			curPos, curWhere = pos, where
			ctx.Unresolved(re)
		}
	}
	for _, a := range p.ACLs {
		ctx.File, ctx.Line = a.Pos.File, a.Pos.Line
		curPos, curWhere = a.Pos, "in"
		note(a.Pos, set.Add(a.Name, a.Fetch, a.Args), "in")
	}
	cond := func(pos parser.Pos, words []string) {
		if len(words) > 0 {
			curPos, curWhere = pos, "in"
			_, err := set.ParseCond(words)
			note(pos, err, "in")
		}
	}
	sample := func(pos parser.Pos, expr, where string) {
		if expr != "" {
			curPos, curWhere = pos, where
			_, err := acl.CompileSampleWith(expr, ctx)
			note(pos, err, where)
		}
	}
	places := argPlaces(p)
	for _, r := range p.TCPRequests {
		if r.Stage == "" || r.Section == "defaults" && p.Cap&parser.CapDef == 0 {
			// The inherited rules are the defaults section's, resolved
			// there.
			continue
		}
		sample(r.Pos, r.Expr, places[r])
		cond(r.Pos, r.Cond)
	}
	httpRule := func(r *parser.HTTPRule, where string) {
		sample(r.Pos, r.Expr, places[r])
		// The samples of the rule's log-format values, but for the
		// legacy redirect lines', which HAProxy leaves unresolved.
		if r.Keyword != "redirect" {
			fw := where
			if r.Action == "redirect" {
				fw = "in redirect format string in"
			}
			fmts := []string{r.Fmt, r.MapValue}
			for _, h := range r.Hdrs {
				fmts = append(fmts, h[1])
			}
			for _, f := range append(fmts, r.BodyFmt) {
				for _, e := range formatSamples(f) {
					sample(r.Pos, e, fw)
				}
			}
		}
		cond(r.Pos, r.Cond)
	}
	for _, r := range p.HTTPRequestRules {
		httpRule(r, "in http-request expression in")
	}
	for _, r := range p.HTTPResponseRules {
		httpRule(r, "in http-response response in")
	}
	for _, r := range p.HTTPAfterRules {
		httpRule(r, "in http-response response in")
	}
	if p.Cap&parser.CapFE != 0 && p.Cap&parser.CapDef == 0 {
		for _, e := range formatSamples(p.Log.FormatText) {
			sample(p.LogFormatLine(), e, "in log-format string in")
		}
		for _, e := range formatSamples(p.Log.SDText) {
			sample(p.LogFormatLine(), e, "in log-format-sd string in")
		}
	}
	if p.Cap&parser.CapDef == 0 {
		// error-log-format is read with log-format's context.
		for _, e := range formatSamples(p.Log.ErrText) {
			sample(p.Log.ErrPos, e, "in log-format string in")
		}
		for _, e := range formatSamples(p.UniqueIDFormat) {
			sample(p.UniqueIDPos, e, "in unique-id-format string in")
		}
	}
	for _, r := range p.StickRules {
		sample(r.Pos, r.Expr, "in stick rule in")
		cond(r.Pos, r.Cond)
	}
	for _, r := range p.ServerRules {
		cond(r.Pos, r.Cond)
	}
	for _, r := range p.PersistRules {
		cond(r.Pos, r.Cond)
	}
	for _, r := range p.MonitorFail {
		cond(r.Pos, r.Cond)
	}
	for _, r := range p.IgnoredConds {
		cond(r.Pos, r.Cond)
	}
	if p.Stats != nil {
		for _, a := range p.Stats.Admin {
			cond(a.Pos, a.Cond)
		}
	}
	for _, u := range p.UseBackends {
		if strings.Contains(u.Backend, "%[") {
			for _, e := range formatSamples(u.Backend) {
				sample(u.Pos, e, "in use_backend expression in")
			}
		}
		cond(u.Pos, u.Cond)
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].pos, errs[j].pos
		return a.File == b.File && a.Line < b.Line
	})
	switch len(errs) {
	case 0:
	case 1:
		alert("%s", errs[0].msg)
	default:
		d := parser.Diagnostic{Severity: parser.Alert, Fatal: true, Msg: "multiple argument resolution errors:"}
		for _, e := range errs {
			d.Detail = append(d.Detail, "        "+e.msg)
		}
		diags = append(diags, d)
	}
	return diags
}

// argACL is the place of the sample arguments of rules parsed while a
// proxy's argument context is still HAProxy's initial one, ARGC_ACL:
// they are reported as ACL keywords.
const argACL = "ACL"

// argPlaces says where HAProxy reports an unresolved argument of each
// TCP and HTTP rule's sample expression: the argument context of the
// proxy when the line is read, which only some actions set
// (set-header, set-var, capture, track-sc, redirect...), the others
// keeping that of the lines before (src/http_act.c, vars.c,
// tcp_rules.c).
func argPlaces(p *parser.Proxy) map[any]string {
	type line struct {
		pos  parser.Pos
		rule any
		set  string // the context the line sets, "" for none
		// after: the line sets it once its expression is read.
		after bool
	}
	var lines []line
	for _, r := range p.TCPRequests {
		if r.Stage == "" || r.Section == "defaults" && p.Cap&parser.CapDef == 0 {
			continue
		}
		l := line{pos: r.Pos, rule: r}
		switch {
		case r.Action == "track-sc":
			l.set = "in tracking rule in"
		case r.Action == "capture":
			l.set = "in capture rule in"
		case strings.HasPrefix(r.Action, "set-var") || r.Action == "unset-var":
			l.set = "in tcp-request " + r.Stage + " expression in"
			if r.Response {
				l.set = "in tcp-response content expression in"
			}
		}
		lines = append(lines, l)
	}
	for _, rules := range [][]*parser.HTTPRule{p.HTTPRequestRules, p.HTTPResponseRules, p.HTTPAfterRules} {
		for _, r := range rules {
			l := line{pos: r.Pos, rule: r}
			dir := "in http-request expression in"
			if r.Keyword != "http-request" && r.Keyword != "redirect" {
				dir = "in http-response response in"
			}
			switch r.Action {
			case "redirect":
				l.set = "in redirect format string in"
			case "capture":
				l.set, l.after = "in capture rule in", true
			case "set-method", "set-path", "set-pathq", "set-query", "set-uri",
				"replace-uri", "replace-path", "replace-pathq":
				l.set = "in http-request expression in"
			case "deny", "tarpit", "return", "set-header", "add-header", "early-hint", "replace-header",
				"replace-value", "del-header", "set-map", "add-acl", "del-acl", "del-map",
				"set-var", "set-var-fmt", "unset-var":
				l.set = dir
			}
			if r.Keyword == "redirect" {
				l.set = "in redirect format string in"
			}
			lines = append(lines, l)
		}
	}
	for _, r := range p.StickRules {
		lines = append(lines, line{pos: r.Pos, set: "in stick rule in"})
	}
	// Parsing an ACL expression leaves the context at ARGC_ACL: the acl
	// lines, and the conditions with an anonymous or predefined ACL.
	for _, a := range p.ACLs {
		lines = append(lines, line{pos: a.Pos, set: argACL, after: true})
	}
	user := map[string]bool{}
	for _, a := range p.ACLs {
		user[a.Name] = true
	}
	conds := map[parser.Pos][]string{}
	for _, r := range p.TCPRequests {
		conds[r.Pos] = r.Cond
	}
	for _, rules := range [][]*parser.HTTPRule{p.HTTPRequestRules, p.HTTPResponseRules, p.HTTPAfterRules} {
		for _, r := range rules {
			conds[r.Pos] = r.Cond
		}
	}
	for _, r := range p.StickRules {
		conds[r.Pos] = r.Cond
	}
	for _, r := range p.UseBackends {
		conds[r.Pos] = r.Cond
	}
	for _, r := range p.ServerRules {
		conds[r.Pos] = r.Cond
	}
	for _, rs := range [][]parser.CondLine{p.PersistRules, p.MonitorFail, p.IgnoredConds} {
		for _, r := range rs {
			conds[r.Pos] = r.Cond
		}
	}
	if p.Stats != nil {
		for _, a := range p.Stats.Admin {
			conds[a.Pos] = a.Cond
		}
	}
	for pos, c := range conds {
		if condParsesACL(c, user) {
			lines = append(lines, line{pos: pos, set: argACL, after: true})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i].pos, lines[j].pos
		return a.File == b.File && a.Line < b.Line
	})
	out := make(map[any]string, len(lines))
	cur := argACL
	for _, l := range lines {
		if l.set != "" && !l.after {
			cur = l.set
		}
		if l.rule != nil {
			out[l.rule] = cur
		}
		if l.after {
			cur = l.set
		}
	}
	return out
}

// condParsesACL reports whether HAProxy parses an ACL expression for a
// condition: an anonymous ACL, or a predefined one (TRUE, HTTP...) the
// proxy does not define.
func condParsesACL(words []string, user map[string]bool) bool {
	for _, w := range words {
		w = strings.TrimLeft(w, "!")
		if w == "{" || strings.HasPrefix(w, "{") {
			return true
		}
		if w != "" && w != "if" && w != "unless" && w != "||" && !user[w] && w == strings.ToUpper(w) &&
			strings.IndexFunc(w, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 && w != "OR" {
			return true
		}
	}
	return false
}

// proxyContext is what a proxy's expressions compile with: the graph's
// tables and maps, the proxy's own table for empty table arguments.
func (g *Graph) proxyContext(p *parser.Proxy) *acl.Context {
	if g == nil {
		return &acl.Context{Proxy: p.Name}
	}
	return &acl.Context{Tables: g.tables, Maps: g.maps, Proxy: p.Name, File: p.Pos.File, Line: p.Pos.Line, ProcVars: &g.procVars, VarLimits: g.varLimits, ServerRef: g.refServer, Userlists: g.userlists,
		Needs: &g.needs}
}

// compileTables builds the graph's tables; the check stage has reported
// the lines that do not parse.
func compileTables(cfg *parser.Config, g *Graph, fail func(parser.Pos, string, ...any)) {
	g.tables, _ = buildTables(cfg)
	g.maps = acl.NewMaps()
}

// stickAct is a compiled stick-table action.
type stickAct struct {
	sc, idx int
	// tb is track-sc's table.
	tb *stick.Table
	// val is sc-set-gpt's value when the rule has no expression.
	val int64
}

// compileStickAct resolves a stick-table action's table.
func compileStickAct(sa *parser.StickAction, act string, ctx *acl.Context) (stickAct, error) {
	a := stickAct{sc: sa.SC, idx: sa.Idx, val: sa.Value}
	if act != "track-sc" {
		return a, nil
	}
	name := sa.Table
	if name == "" {
		name = ctx.Proxy
	}
	if ctx.Tables != nil {
		a.tb = ctx.Tables.Table(name)
	}
	if a.tb == nil {
		return a, fmt.Errorf("unable to find table '%s' referenced by track-sc%d", name, sa.SC)
	}
	return a, nil
}

// Where a stick-table action runs.
const (
	stkHTTPReq = iota
	stkHTTPRes
	stkTCPContent
	stkTCPSession // tcp-request connection and session rules
)

// stickAction runs a track-sc, sc-inc-gpc or sc-set-gpt action
// (http_action_track_sc, tcp_trk_action, action_inc_gpc, action_set_gpt).
func (s *session) stickAction(act string, a *stickAct, expr *acl.Sample, from int) {
	t := &s.txn
	switch act {
	case "track-sc":
		if from == stkTCPSession {
			if s.stk.sess[a.sc].Entry != nil {
				return
			}
		} else if t.Tracked(a.sc) != nil {
			return
		}
		k, ok := expr.Key(t, a.tb)
		if !ok {
			return
		}
		e := a.tb.Track(&k)
		if e == nil {
			return
		}
		if from == stkTCPSession {
			s.stk.sess.Set(a.sc, a.tb, e)
			t.SessTrack = &s.stk.sess
			e.IncSess()
			return
		}
		if !t.TrackSC(a.sc, a.tb, e) {
			e.StopCounters()
			e.Release()
			return
		}
		switch from {
		case stkHTTPReq:
			e.IncHTTPReq()
		case stkHTTPRes:
			e.IncHTTPReq()
			if st := s.rsp.Status; st >= 400 && st < 500 {
				e.IncHTTPErr()
			} else if st >= 500 && st != 501 && st != 505 {
				e.IncHTTPFail()
			}
		}
		return
	}
	te := t.Tracked(a.sc)
	if te == nil {
		return
	}
	switch act {
	case "sc-inc-gpc0":
		te.Entry.IncGPC0()
	case "sc-inc-gpc1":
		te.Entry.IncGPC1()
	case "sc-inc-gpc":
		te.Entry.IncGPC(a.idx)
	case "sc-set-gpt0", "sc-set-gpt":
		v := a.val
		if expr != nil {
			b, ok := expr.Append(s.stk.scratch[:0], t)
			s.stk.scratch = b
			if !ok {
				return
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
			if err != nil {
				return
			}
			v = n
		}
		if act == "sc-set-gpt0" {
			te.Entry.SetGPT0(v)
		} else {
			te.Entry.SetGPT(a.idx, v)
		}
	}
}

// stickSession is a session's stick-table state: the counters tracked by
// tcp-request connection and session rules, which live as long as the
// connection, and the stream's pending stores.
type stickSession struct {
	sess acl.TrackSet
	// counted says the stream's status was counted on its entries.
	counted bool
	// in and out are the client byte counts when the stream started.
	in, out int64
	stores  []pendingStore
	scratch []byte
}

// pendingStore is a key a stick store rule took, stored with the server
// once the response comes (process_store_rules).
type pendingStore struct {
	tb  *stick.Table
	key stick.Key
}

// tracking reports whether the stream or its session tracks an entry.
func (s *session) tracking() bool {
	t := &s.txn
	return t.SessTrack != nil || t.Track[0].Entry != nil || t.Track[1].Entry != nil || t.Track[2].Entry != nil
}

// stickStreamStart counts an HTTP request on the session's tracked
// entries (stream_inc_http_req_ctr) and notes the byte counts.
func (s *session) stickStreamStart() {
	s.stk.counted = false
	s.stk.in, s.stk.out = 0, 0
	if s.txn.SessTrack != nil {
		s.txn.IncHTTPReq()
	}
}

// stickEarly counts a request the H1 layer refused before any stream,
// or a connection closed before its first request, on the session's
// entries: a request, and an error unless the status is 408, 500 or 501
// (h1_handle_parsing_error and its kin).
func (s *session) stickEarly(status int) {
	if s.txn.SessTrack == nil {
		return
	}
	s.txn.IncHTTPReq()
	if status != 408 && status != 500 && status != 501 {
		s.txn.IncHTTPErr()
	}
}

// stickStatus counts a final status on the tracked entries: 4xx as an
// HTTP error, 5xx other than 501 and 505 as a failure (http_wait_for_response).
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) stickStatus(status int) {
	if s.stk.counted || !s.tracking() {
		return
	}
	s.stk.counted = true
	switch {
	case status >= 400 && status < 500:
		s.txn.IncHTTPErr()
	case status >= 500 && status != 501 && status != 505:
		s.txn.IncHTTPFail()
	}
}

// stickStreamEnd counts what the stream did on its tracked entries and
// ends the stream's tracking.
func (s *session) stickStreamEnd(status int) {
	s.stk.stores = s.stk.stores[:0]
	if !s.tracking() {
		return
	}
	// An answer of the proxy's own counts as HAProxy's analysers count
	// it: 4xx as an error, 502 and 504 (the server failed) as a failure;
	// a 503 for want of a server or a 500 is neither.
	if status > 0 && (status < 500 || status == 502 || status == 504) {
		s.stickStatus(status)
	}
	s.stickBytes()
	s.txn.ReleaseTracked()
}

// stickBytes adds the stream's bytes since the last count, as its
// statistics count them (streamBytes).
func (s *session) stickBytes() {
	in, out := s.streamBytes()
	if n := in - s.stk.in; n > 0 {
		s.txn.AddBytesIn(uint64(n))
	}
	if n := out - s.stk.out; n > 0 {
		s.txn.AddBytesOut(uint64(n))
	}
	s.stk.in, s.stk.out = in, out
}

// stickHandOff gives the stream's and the session's tracked entries to
// the tunnel the connections become, which releases them when it ends.
func (s *session) stickHandOff() *[2]acl.TrackSet {
	if !s.tracking() {
		return nil
	}
	s.stickBytes()
	both := &[2]acl.TrackSet{s.txn.Track, s.stk.sess}
	s.txn.Track, s.stk.sess, s.txn.SessTrack = acl.TrackSet{}, acl.TrackSet{}, nil
	return both
}

// releaseTracks ends a tunnel's tracking.
// trackBytes counts a tunnel's bytes on the entries its stream tracked,
// the stream's or else the session's.
func trackBytes(t *[2]acl.TrackSet, in, out int64) {
	for i := range t[0] {
		e := t[0][i].Entry
		if e == nil {
			e = t[1][i].Entry
		}
		if e == nil {
			continue
		}
		if in > 0 {
			e.AddBytesIn(uint64(in))
		}
		if out > 0 {
			e.AddBytesOut(uint64(out))
		}
	}
}

func releaseTracks(t *[2]acl.TrackSet) {
	t[0].Release()
	t[1].Release()
}

// releaseSessTrack ends the session's tracking at the connection's end.
func (s *session) releaseSessTrack() {
	if s.txn.SessTrack != nil {
		// An HTTP/2 stream's are its connection's (connScope).
		if s.txn.SessTrack == &s.stk.sess {
			s.stk.sess.Release()
		}
		s.txn.SessTrack = nil
	}
}

// stickRule is a compiled stick on/match/store rule.
type stickRule struct {
	match, store bool
	tb           *stick.Table
	expr         *acl.Sample
	cond         *acl.Cond
}

// stickRules are a backend's request and response stick rules.
type stickRules struct {
	req, rsp []stickRule
}

// compileStickRules compiles a backend's stick rules.
func compileStickRules(p *parser.Proxy, set *acl.Set, fail func(parser.Pos, string, ...any)) *stickRules {
	if len(p.StickRules) == 0 {
		return nil
	}
	ctx := set.Context()
	out := &stickRules{}
	for _, r := range p.StickRules {
		sr := stickRule{match: r.Match, store: r.Store}
		name := stickTableName(r.Table, p)
		if ctx != nil && ctx.Tables != nil {
			sr.tb = ctx.Tables.Table(name)
		}
		if sr.tb == nil {
			fail(r.Pos, "'stick': unable to find stick-table '%s'.", name)
			continue
		}
		var err error
		if sr.expr, err = acl.CompileSampleWith(r.Expr, ctx); err != nil {
			fail(r.Pos, "'stick': %v", err)
			continue
		}
		if sr.cond, err = set.ParseCondAt(r.Cond, r.Where); err != nil {
			fail(r.Pos, "'stick': condition: %v", err)
			continue
		}
		if r.Response {
			out.rsp = append(out.rsp, sr)
		} else {
			out.req = append(out.req, sr)
		}
	}
	return out
}

// stickMatch runs the request stick rules (process_sticking_rules): the
// first match rule whose key is in its table names the server, when that
// server is not stopped; store rules keep their key for stickStore, the
// first one of each table only.
func (s *session) stickMatch(be *Backend, assigned bool) *backend.Server {
	var target *backend.Server
	t := &s.txn
	for i := range be.stick.req {
		r := &be.stick.req[i]
		if r.store && s.stk.hasStore(r.tb, 0) {
			continue
		}
		if r.cond != nil && !r.cond.Eval(t) {
			continue
		}
		k, ok := r.expr.Key(t, r.tb)
		if !ok {
			continue
		}
		if r.match {
			if e := r.tb.Lookup(&k); e != nil {
				if !assigned && target == nil {
					if srv := stickTarget(be, r.tb, e); srv != nil && s.persistOn(be, srv) {
						target = srv
					}
				}
				e.Touch()
				e.Release()
			}
		}
		if r.store {
			s.stk.addStore(r.tb, k)
		}
	}
	return target
}

// stickTarget finds the server an entry names, by server_key, else by
// server_id (sticking_rule_find_target); the caller checks it may go
// there.
func stickTarget(be *Backend, tb *stick.Table, e *stick.Entry) *backend.Server {
	var srv *backend.Server
	if key, _ := e.ServerKey(); key != "" {
		byAddr := tb.Config().SrvKey == stick.SrvKeyAddr
		for _, x := range be.LB.ServerList() {
			if !byAddr && x.Name == key || byAddr && x.Address() == key {
				srv = x
				break
			}
		}
	}
	if srv == nil {
		id, ok := e.ServerID()
		if !ok {
			return nil
		}
		for _, x := range be.LB.ServerList() {
			if int32(x.ID) == id {
				srv = x
				break
			}
		}
	}
	return srv
}

func (st *stickSession) hasStore(tb *stick.Table, from int) bool {
	for _, p := range st.stores[from:] {
		if p.tb == tb {
			return true
		}
	}
	return false
}

// addStore keeps a key until the response; string and binary keys are
// copied, as they refer to the request.
func (st *stickSession) addStore(tb *stick.Table, k stick.Key) {
	if len(st.stores) >= 8 {
		// HAProxy's s->store[] holds 8.
		return
	}
	if tb.Type() == stick.KeyString || tb.Type() == stick.KeyBinary {
		k = stick.BytesKey(bytes.Clone(k.Bytes()))
	}
	st.stores = append(st.stores, pendingStore{tb: tb, key: k})
}

// stickStore runs the response stick rules, then stores every pending
// key with the server the stream used (process_store_rules).
func (s *session) stickStore(be *Backend, srv *backend.Server) {
	st := &s.stk
	if be.stick == nil || srv == nil || srv.NonStick {
		// A non-stick server's stores are dropped, entries not made.
		st.stores = st.stores[:0]
		return
	}
	nreq := len(st.stores)
	t := &s.txn
	if len(be.stick.rsp) > 0 {
		dir := t.Dir
		t.Dir = acl.DirRes
		for i := range be.stick.rsp {
			r := &be.stick.rsp[i]
			if st.hasStore(r.tb, nreq) {
				continue
			}
			if r.cond != nil && !r.cond.Eval(t) {
				continue
			}
			if k, ok := r.expr.Key(t, r.tb); ok {
				st.addStore(r.tb, k)
			}
		}
		t.Dir = dir
	}
	for i := range st.stores {
		p := &st.stores[i]
		e := p.tb.Get(&p.key)
		if e == nil {
			continue
		}
		key := srv.Name
		if p.tb.Config().SrvKey == stick.SrvKeyAddr {
			key = srv.Address()
		}
		e.SetServer(int32(srv.ID), key)
		e.Release()
	}
	st.stores = st.stores[:0]
}

// purgeTables removes expired entries when they expire, until done is
// closed (HAProxy's per-table expiry task). Lookups already skip expired
// entries: the purge frees memory and keeps "used" true.
func purgeTables(tables []*stick.Table, done <-chan struct{}) {
	const idle = time.Second
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
		}
		wait := idle
		for _, tb := range tables {
			tb.Purge()
			if date, ok := tb.NextExpiry(); ok {
				d := time.Duration(int32(date-tb.Now())) * time.Millisecond
				wait = min(wait, max(d, time.Millisecond))
			}
		}
		timer.Reset(wait)
	}
}

// refServer records a server a fetch argument names.
func (g *Graph) refServer(backend, server string) {
	if g.srvRefs == nil {
		g.srvRefs = map[[2]string]bool{}
	}
	g.srvRefs[[2]string{backend, server}] = true
}

// formatSamples are the %[...] sample expressions of a log-format string.
func formatSamples(f string) []string {
	var out []string
	for {
		i := strings.Index(f, "%[")
		if i < 0 {
			return out
		}
		f = f[i+2:]
		n, err := logfmt.ScanExpr(f)
		if err != nil || n == 0 {
			return out
		}
		out = append(out, f[:n])
		f = f[n:]
	}
}

// cfgServers resolves server arguments against the configuration.
type cfgServers struct{ cfg *parser.Config }

func (c cfgServers) HasBackend(name string) bool {
	for _, p := range c.cfg.Proxies {
		if p.Name == name && p.Cap&parser.CapBE != 0 && p.Cap&parser.CapDef == 0 {
			return true
		}
	}
	return false
}

// HasFrontend is proxy_fe_by_name: a frontend or listen section.
func (c cfgServers) HasFrontend(name string) bool {
	for _, p := range c.cfg.Proxies {
		if p.Name == name && p.Cap&parser.CapFE != 0 && p.Cap&parser.CapDef == 0 {
			return true
		}
	}
	return false
}

func (c cfgServers) HasServer(proxy, server string) bool {
	for _, p := range c.cfg.Proxies {
		if p.Name != proxy || p.Cap&parser.CapDef != 0 {
			continue
		}
		// A frontend's name finds a backend of the same name first.
		for _, s := range p.Servers {
			if s.Name == server {
				return true
			}
		}
	}
	return false
}
