package parser

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
)

// FCGIApp is an "fcgi-app" section (configuration.txt section 10.1.1;
// HAProxy's cfg_parse_fcgi_app in src/fcgi-app.c).
type FCGIApp struct {
	Pos  Pos
	Name string
	// Docroot is "docroot", required; Index is "index", "" for none.
	Docroot string
	Index   string
	// PathInfo is the "path-info" regex as written, "" for none.
	PathInfo string
	// KeepConn, GetValues and MpxsConns are the "option keep-conn"
	// (on by default), "option get-values" and "option mpxs-conns".
	KeepConn, GetValues, MpxsConns bool
	// MaxReqs is "option max-reqs" (1 by default; forced to 1 without
	// mpxs-conns nor get-values once the section is checked).
	MaxReqs int
	// ACLs are the section's own "acl" lines; rule conditions see only
	// these and the predefined ones.
	ACLs     []*ACL
	aclNames map[string]bool
	// Rules are the set-param and pass-header lines in order, after the
	// implicit ones HAProxy adds to every application (REMOTE_USER and
	// AUTH_TYPE parameters; hop-by-hop headers hidden).
	Rules []*FCGIRule
	// Logs are the "log-stderr" targets; LogGlobal is "log-stderr
	// global", the global targets.
	Logs []Log
}

// FCGIRule is a set-param or pass-header line, or an implicit rule.
type FCGIRule struct {
	Pos Pos
	// Kind is FCGISetParam, FCGIPassHeader or FCGIHideHeader.
	Kind FCGIRuleKind
	// Name is the parameter's name as HAProxy keys it (lower case, each
	// non-alphanumeric byte turned into '_'), or the header's name in
	// lower case.
	Name string
	// Value is set-param's log-format string.
	Value string
	// Cond holds the "if|unless ..." words, nil for none.
	Cond []string
}

// FCGIRuleKind tells what an FCGIRule does.
type FCGIRuleKind uint8

// The kinds of FCGIRule.
const (
	FCGISetParam FCGIRuleKind = iota
	FCGIPassHeader
	FCGIHideHeader
)

// FCGIHiddenHeaders are the request headers an application never sees
// unless a pass-header rule lets them through.
var FCGIHiddenHeaders = []string{"connection", "keep-alive", "authorization", "proxy", "proxy-authorization",
	"proxy-authenticate", "te", "trailers", "transfer-encoding", "upgrade"}

func init() {
	// use-fcgi-app checks the proxy's capability itself: HAProxy
	// refuses it out of backends instead of ignoring it.
	proxyKeywords["use-fcgi-app"] = keyword{support: Supported, handle: kwUseFCGIApp}
}

// fcgiKeywords is the keyword table of fcgi-app sections.
var fcgiKeywords = map[string]func(c *pctx, a *FCGIApp){
	"docroot":     kwFCGIDocroot,
	"index":       kwFCGIIndex,
	"path-info":   kwFCGIPathInfo,
	"acl":         kwFCGIACL,
	"set-param":   kwFCGISetParam,
	"pass-header": kwFCGIPassHeader,
	"option":      kwFCGIOption,
	"log-stderr":  kwFCGILogStderr,
}

// FCGIParamName is HAProxy's fcgi_param_name without its ":fcgi-"
// prefix: lower case, each non-alphanumeric byte replaced by '_'.
func FCGIParamName(n string) string {
	b := []byte(n)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

func (a *FCGIApp) addRule(pos Pos, kind FCGIRuleKind, name, value string, cond []string) {
	if kind == FCGISetParam {
		name = FCGIParamName(name)
	} else {
		name = strings.ToLower(name)
	}
	a.Rules = append(a.Rules, &FCGIRule{Pos: pos, Kind: kind, Name: name, Value: value, Cond: cond})
}

// openFCGIApp starts an fcgi-app section; it reports whether its lines
// are read into a new application.
func (cp *cfgParser) openFCGIApp(args []string, pos Pos) bool {
	cp.fcgi = nil
	if len(args) < 2 || args[1] == "" {
		d := alertf(pos, "'%s' expects <name> as argument.", args[0])
		d.Style = StyleParsingTight
		cp.add(d)
		return false
	}
	if len(args) > 2 && args[2] != "" {
		cp.add(alertf(pos, "'%s' cannot handle unexpected argument '%s'.", args[0], args[2]))
		return false
	}
	name := args[1]
	if i := invalidChar(name); i >= 0 {
		d := alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", name[i], args[0], name)
		d.Style = StyleParsingTight
		cp.add(d)
		return false
	}
	for _, a := range cp.cfg.FCGIApps {
		if a.Name == name {
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleNone,
				Msg: fmt.Sprintf("Parsing [%s:%d]: fcgi-app section '%s' has the same name as another one declared at %s:%d.",
					pos.File, pos.Line, name, a.Pos.File, a.Pos.Line)})
		}
	}
	a := &FCGIApp{Pos: pos, Name: name, KeepConn: true, MaxReqs: 1}
	a.addRule(pos, FCGISetParam, "REMOTE_USER", "%[http_auth_user]", nil)
	a.addRule(pos, FCGISetParam, "AUTH_TYPE", "%[http_auth_type]", nil)
	for _, h := range FCGIHiddenHeaders {
		a.addRule(pos, FCGIHideHeader, h, "", nil)
	}
	cp.cfg.FCGIApps = append(cp.cfg.FCGIApps, a)
	cp.fcgi = a
	return true
}

// fcgiLine reads a line of an fcgi-app section.
func (cp *cfgParser) fcgiLine(c *pctx) {
	kw, ok := fcgiKeywords[c.args[0]]
	if !ok {
		d := alertf(c.pos, "unknown keyword '%s' in '%s' section", c.args[0], "fcgi-app")
		d.Style = StyleParsingTight
		cp.add(d)
		return
	}
	cp.directive(c.pos, c.args[0], c.args[1:], Supported, false)
	if cp.fcgi != nil {
		kw(c, cp.fcgi)
	}
}

// tooManyIdx is HAProxy's alertif_too_many_args_idx: the keyword's
// first idx+1 words name it, at most max more may follow.
func (c *pctx) tooManyIdx(max, idx int) bool {
	if c.arg(idx+max+1) == "" {
		return false
	}
	c.alert("'%s' cannot handle unexpected argument '%s'.", strings.Join(c.args[:idx+1], " "), c.arg(idx+max+1))
	return true
}

func kwFCGIDocroot(c *pctx, a *FCGIApp) { fcgiWord(c, "<path>", &a.Docroot) }
func kwFCGIIndex(c *pctx, a *FCGIApp)   { fcgiWord(c, "<filename>", &a.Index) }

// fcgiWord reads a keyword taking one word.
func fcgiWord(c *pctx, what string, dst *string) {
	if c.arg(1) == "" {
		c.alert("'%s' expects %s as argument.", c.args[0], what)
		return
	}
	if c.tooManyIdx(0, 1) {
		return
	}
	*dst = c.arg(1)
}

func kwFCGIPathInfo(c *pctx, a *FCGIApp) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <regex> as argument.", c.args[0])
		return
	}
	if c.tooManyIdx(0, 1) {
		return
	}
	// HAProxy compiles it with captures; a pattern PCRE2 takes and Go's
	// engine does not is refused by run.
	if m := PCREError(c.arg(1), false); m != "" {
		c.alert("'%s' : %s.", c.arg(1), m)
		return
	}
	a.PathInfo = c.arg(1)
}

func kwFCGIACL(c *pctx, a *FCGIApp) {
	name := c.arg(1)
	if i := invalidChar(name); i >= 0 {
		if name == "" {
			c.cp.add(nulTruncated(c.pos))
			return
		}
		c.alert("character '%c' is not permitted in acl name '%s'.", name[i], name)
		return
	}
	if strings.EqualFold(name, "or") {
		c.alert("acl name '%s' will never match. 'or' is used to express a logical disjunction within a condition.", name)
		return
	}
	if _, ok := c.aclFetch(name, c.arg(2)); !ok {
		return
	}
	r := c.cp.aclExpr(c.arg(2), c.rest(3))
	if r.Err != "" {
		c.alert("error detected while parsing ACL '%s' : %s.", name, r.Err)
		return
	}
	if r.NoPattern {
		c.cp.add(noPatternWarning(c.pos, c.arg(2)))
	}
	if d := parenPatternWarning(c.pos, name, c.arg(2), c.rest(3)); d != nil {
		c.cp.add(*d)
	}
	a.ACLs = append(a.ACLs, &ACL{Pos: c.pos, Name: name, Fetch: c.arg(2), Args: c.rest(3)})
	if a.aclNames == nil {
		a.aclNames = map[string]bool{}
	}
	a.aclNames[name] = true
}

// aclFetch returns the fetch of an ACL expression, after HAProxy's
// alert when it has none or an unknown one (acl lines of proxies and of
// fcgi-app sections).
func (c *pctx) aclFetch(name, expr string) (string, bool) {
	if expr == "" {
		c.alert("error detected while parsing ACL '%s' : missing fetch method in ACL expression ''.", name)
		return "", false
	}
	fetch := expr
	if i := strings.IndexAny(fetch, "(,"); i >= 0 {
		fetch = fetch[:i]
	}
	if !fetchNames[fetch] {
		c.alert("error detected while parsing ACL '%s' : unknown fetch method '%s' in ACL expression '%s'.", name, fetch, expr)
		return "", false
	}
	return fetch, true
}

// fcgiCond reads the optional condition of a rule from words; it
// reports false after an alert.
func fcgiCond(c *pctx, a *FCGIApp, name string, words []string) ([]string, bool) {
	if len(words) == 0 || words[0] == "" {
		return nil, true
	}
	if words[0] != "if" && words[0] != "unless" {
		// build_acl_cond refuses it without a message.
		c.alert("'%s' : (null).", name)
		return nil, false
	}
	saved := c.cp.proxy
	c.cp.proxy = &Proxy{aclNames: a.aclNames}
	bad := c.cp.condError(c.pos, words)
	c.cp.proxy = saved
	if bad != "" {
		c.alert("'%s' : %s.", name, bad)
		return nil, false
	}
	return append([]string(nil), words...), true
}

func kwFCGISetParam(c *pctx, a *FCGIApp) {
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alert("'%s' expects <name> and <value> as arguments.", c.args[0])
		return
	}
	cond, ok := fcgiCond(c, a, c.arg(1), c.rest(3))
	if !ok {
		// HAProxy still adds the rule, without its condition; the
		// configuration is refused anyway.
		return
	}
	a.addRule(c.pos, FCGISetParam, c.arg(1), c.arg(2), cond)
}

func kwFCGIPassHeader(c *pctx, a *FCGIApp) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <name> as arguments.", c.args[0])
		return
	}
	cond, ok := fcgiCond(c, a, c.arg(1), c.rest(2))
	if !ok {
		return
	}
	a.addRule(c.pos, FCGIPassHeader, c.arg(1), "", cond)
}

func kwFCGIOption(c *pctx, a *FCGIApp) {
	tight := func(format string, args ...any) {
		d := alertf(c.pos, format, args...)
		d.Style = StyleParsingTight
		c.cp.add(d)
	}
	on := c.mod == ""
	var flag *bool
	switch c.arg(1) {
	case "":
		tight("'%s' expects an option name.", c.args[0])
		return
	case "keep-conn":
		flag = &a.KeepConn
	case "get-values":
		flag = &a.GetValues
	case "mpxs-conns":
		flag = &a.MpxsConns
	case "max-reqs":
		if c.mod != "" {
			tight("negation/default is not supported for option '%s'.", c.arg(1))
			return
		}
		if c.arg(2) == "" {
			tight("option '%s' expects an integer argument.", c.arg(1))
			return
		}
		if c.tooManyIdx(1, 1) {
			return
		}
		n := int(Atol(c.arg(2)))
		if n == 0 {
			tight("option '%s' expects a strictly positive integer argument.", c.arg(1))
			return
		}
		a.MaxReqs = n
		return
	default:
		c.alert("unknown option '%s'.", c.arg(1))
		return
	}
	if c.tooManyIdx(0, 1) {
		return
	}
	if c.mod != "default" {
		*flag = on
	}
}

func kwFCGILogStderr(c *pctx, a *FCGIApp) {
	switch {
	case c.mod == "no":
		a.Logs = nil
		return
	case c.arg(1) == "global" && c.arg(2) == "":
		a.Logs = append(a.Logs, c.cp.cfg.Global.Logs...)
		return
	case c.arg(2) == "":
		c.alert("%s : expects <address> and <facility> or global as arguments", c.args[0])
		return
	}
	t, err := logfmt.ParseTarget(c.args)
	if err != nil {
		c.alert("%s : %s", c.args[0], err.Error())
		return
	}
	if msg := unresolvedLogHost(t, c.arg(1), c.arg(1)); msg != "" {
		c.alert("%s : %s", c.args[0], msg)
		return
	}
	a.Logs = append(a.Logs, Log{Pos: c.pos, Address: c.arg(1), Facility: t.Raw, Target: t})
}

// kwUseFCGIApp reads "use-fcgi-app <name>" (proxy_parse_use_fcgi_app).
func kwUseFCGIApp(c *pctx) {
	p := c.cp.proxy
	if p.Cap&CapBE == 0 || p.Cap&CapDef != 0 {
		c.alert("'%s' only available in backend or listen section", c.args[0])
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects <name> as argument", c.args[0])
		return
	}
	if p.FCGIApp != "" {
		if p.FCGIApp != c.arg(1) {
			c.alert("'%s' : only one fcgi-app supported per backend", c.args[0])
		}
		return
	}
	p.FCGIApp = c.arg(1)
}

// FindFCGIApp returns the fcgi-app section of that name, nil when none.
func FindFCGIApp(cfg *Config, name string) *FCGIApp {
	for _, a := range cfg.FCGIApps {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// FCGIFilterDiags is HAProxy's fcgi_flt_check for a proxy using an
// application: the application must exist and its set-param formats
// must parse in the proxy.
func FCGIFilterDiags(cfg *Config, p *Proxy) Diagnostics {
	if p.FCGIApp == "" {
		return nil
	}
	a := FindFCGIApp(cfg, p.FCGIApp)
	if a == nil {
		return Diagnostics{{Severity: Alert, Fatal: true, Msg: fmt.Sprintf("proxy '%s' : fcgi-app '%s' not found.", p.Name, p.FCGIApp)}}
	}
	for _, r := range a.Rules {
		if r.Kind != FCGISetParam {
			continue
		}
		if _, err := ParseFCGIValue(r.Value, p.Mode == "http"); err != nil {
			return Diagnostics{{Severity: Alert, Fatal: true, Msg: fmt.Sprintf("proxy '%s' : %v.", p.Name, err)}}
		}
	}
	return nil
}

// ParseFCGIValue parses a set-param value as HAProxy does: a log-format
// string with HTTP encoding of its samples, whose fetches must be usable
// on a backend's request headers.
func ParseFCGIValue(text string, http bool) ([]logfmt.Node, error) {
	hook := sampleHook(smpuse.ValBE_HRQ_HDR, true, nil)
	return logfmt.ParseWith(text, logfmt.Options{HTTP: http, Flags: logfmt.OptHTTP, Sample: hook})
}

// FCGIPostDiags is HAProxy's cfg_fcgi_apps_postparser: it stops at the
// first error, and its warning alone makes HAProxy 2.6 refuse the
// configuration.
func FCGIPostDiags(cfg *Config) Diagnostics {
	one := func(sev Severity, format string, a ...any) Diagnostics {
		return Diagnostics{{Severity: sev, Fatal: true, Msg: fmt.Sprintf(format, a...)}}
	}
	for _, p := range cfg.Proxies {
		if p.Cap&CapDef != 0 {
			continue
		}
		if p.Mode == "tcp" && p.FCGIApp != "" {
			return one(Alert, "proxy '%s': FCGI application cannot be used in non-HTTP mode.", p.Name)
		}
		n := 0
		for _, s := range p.Servers {
			if s.Settings.Proto == "fcgi" {
				n++
				if p.FCGIApp == "" {
					return one(Alert, "proxy '%s': FCGI server '%s' has no FCGI app configured.", p.Name, s.Name)
				}
			}
		}
		if p.FCGIApp != "" && n == 0 {
			return one(Alert, "proxy '%s': FCGI app configured but no FCGI server found.", p.Name)
		}
	}
	var out Diagnostics
	for _, a := range cfg.FCGIApps {
		if a.Docroot == "" {
			return append(out, one(Alert, "fcgi-app '%s': no docroot configured.", a.Name)...)
		}
		if !a.MpxsConns && !a.GetValues {
			if a.MaxReqs > 1 {
				out = append(out, one(Warning, "fcgi-app '%s': multiplexing not supported, ignore the option 'max-reqs'.", a.Name)...)
			}
			a.MaxReqs = 1
		}
		for _, l := range a.Logs {
			if l.Target.Kind == logfmt.Ring && !hasRing(cfg, l.Target.Path) {
				out = append(out, one(Alert, "fcgi-app '%s' : log server uses unknown ring named '%s'.", a.Name, l.Target.Path)...)
			}
		}
	}
	return out
}

func hasRing(cfg *Config, name string) bool {
	for _, s := range cfg.Sections {
		if s.Kind == "ring" && s.Name == name {
			return true
		}
	}
	return false
}

// FCGIKeywordNames lists the keywords of an fcgi-app section.
func FCGIKeywordNames() []string {
	out := make([]string, 0, len(fcgiKeywords))
	for n := range fcgiKeywords {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
