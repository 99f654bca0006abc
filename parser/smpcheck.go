package parser

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
)

// Where each rule's samples and conditions are evaluated, and HAProxy's
// checks of the fetches they use against it (warnif_cond_conflicts,
// add_sample_to_logformat_list).

// Places returns the check places of a rule of p: fe where p is a
// frontend, be where it is a backend (both for listen and defaults).
func (p *Proxy) Places(fe, be smpuse.Val) smpuse.Val {
	var v smpuse.Val
	if p.Cap&CapFE != 0 {
		v |= fe
	}
	if p.Cap&CapBE != 0 {
		v |= be
	}
	return v
}

// HTTPPlaces returns where the rules of an http-request, http-response or
// http-after-response keyword ("redirect" included) run in p.
func (p *Proxy) HTTPPlaces(kw string) smpuse.Val {
	if kw == "http-response" || kw == "http-after-response" {
		return p.Places(smpuse.ValFE_HRS_HDR, smpuse.ValBE_HRS_HDR)
	}
	return p.Places(smpuse.ValFE_HRQ_HDR, smpuse.ValBE_HRQ_HDR)
}

// TCPPlaces returns where tcp-request (stage connection, session or
// content) or tcp-response content rules run in p.
func (p *Proxy) TCPPlaces(stage string, response bool) smpuse.Val {
	switch {
	case response:
		return p.Places(smpuse.ValFE_RES_CNT, smpuse.ValBE_RES_CNT)
	case stage == "connection":
		return smpuse.ValFE_CON_ACC
	case stage == "session":
		return smpuse.ValFE_SES_ACC
	}
	return p.Places(smpuse.ValFE_REQ_CNT, smpuse.ValBE_REQ_CNT)
}

// predefinedACLFetch is the keyword of each built-in ACL (default_acl_list
// in src/acl.c).
var predefinedACLFetch = map[string]string{
	"TRUE": "always_true", "FALSE": "always_false", "HTTP": "req.proto_http",
	"HTTP_1.0": "req.ver", "HTTP_1.1": "req.ver", "HTTP_2.0": "req.ver",
	"METH_CONNECT": "method", "METH_DELETE": "method", "METH_GET": "method", "METH_HEAD": "method",
	"METH_OPTIONS": "method", "METH_POST": "method", "METH_PUT": "method", "METH_TRACE": "method",
	"HTTP_URL_ABS": "url_reg", "HTTP_URL_SLASH": "url_beg", "HTTP_URL_STAR": "url",
	"HTTP_CONTENT": "req.hdr_val", "RDP_COOKIE": "req.rdp_cookie_cnt", "REQ_CONTENT": "req.len",
	"WAIT_END": "wait_end", "LOCALHOST": "src",
}

// condACL is an ACL a condition names or declares between braces, with the
// keyword and places of each of its expressions.
type condACL struct {
	name string // "" when anonymous
	kws  []string
	vals []smpuse.Val
}

func (a *condACL) add(word string) {
	kw, _, val, ok := smpuse.ACLExpr(word)
	if !ok {
		// Unknown keywords are reported elsewhere.
		val = ^smpuse.Val(0)
	}
	a.kws = append(a.kws, kw)
	a.vals = append(a.vals, val)
}

func (a *condACL) val() smpuse.Val {
	var v smpuse.Val
	for _, x := range a.vals {
		v |= x
	}
	return v
}

// condTermACLs lists the ACLs of condition words (after "if" or "unless") in
// order, as build_acl_cond() reads them; named ones with the lines
// declared so far in p.
func condTermACLs(p *Proxy, words []string) []condACL {
	var out []condACL
	for i := 0; i < len(words); i++ {
		w := strings.TrimLeft(words[i], "!")
		switch {
		case w == "" || strings.EqualFold(w, "or") || w == "||":
			continue
		case w == "{":
			if i+1 < len(words) && words[i+1] != "}" {
				a := condACL{}
				a.add(words[i+1])
				out = append(out, a)
			}
			for i < len(words) && words[i] != "}" {
				i++
			}
			continue
		}
		a := condACL{name: w}
		for _, d := range p.ACLs {
			if d.Name == w {
				a.add(d.Fetch)
			}
		}
		if len(a.kws) == 0 {
			if f, ok := predefinedACLFetch[w]; ok {
				a.add(f)
			}
		}
		if len(a.kws) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// condWord returns the first "if" or "unless" of words.
func condWord(words []string) string {
	for _, w := range words {
		if w == "if" || w == "unless" {
			return w
		}
	}
	return ""
}

// condWords returns the words after the first "if" or "unless".
func condWords(words []string) []string {
	for i, w := range words {
		if w == "if" || w == "unless" {
			return words[i+1:]
		}
	}
	return nil
}

// condConflict returns HAProxy's warning for condition words used at
// where, "" when every keyword may be used there. rule is the
// "tcp-request content" of tcp rules, whose wording differs, or "".
func condConflict(p *Proxy, words []string, where smpuse.Val, rule string) string {
	acls := condTermACLs(p, words)
	in := ""
	if rule != "" {
		in = " in '" + rule + "'"
	}
	for _, a := range acls {
		if a.val()&where != 0 {
			continue
		}
		if a.name != "" {
			return fmt.Sprintf("acl '%s' will never match%s because it only involves keywords that are incompatible with '%s'", a.name, in, where)
		}
		return fmt.Sprintf("anonymous acl will never match%s because it uses keyword '%s' which is incompatible with '%s'", in, a.kws[0], where)
	}
	kwWord := "keywords"
	if rule != "" {
		kwWord = "keyword"
	}
	for _, a := range acls {
		for i, v := range a.vals {
			if v&where != 0 {
				continue
			}
			if a.name != "" {
				return fmt.Sprintf("acl '%s' involves %s '%s' which is incompatible with '%s'", a.name, kwWord, a.kws[i], where)
			}
			return fmt.Sprintf("anonymous acl involves keyword '%s' which is incompatible with '%s'", a.kws[i], where)
		}
	}
	return ""
}

// warnCondConflict reports a condition whose keywords cannot be used at
// where, as warnif_cond_conflicts() does.
func (c *pctx) warnCondConflict(words []string, where smpuse.Val) {
	if msg := condConflict(c.cp.proxy, condWords(words), where, ""); msg != "" {
		c.warn("%s", msg)
	}
}

// formatSampleCheck parses a log-format string used at where and returns
// HAProxy's error for its first sample expression whose fetch is unknown
// or may not be used there, "" otherwise, with the warnings for L6
// fetches in HTTP formats met before it. Other format errors are left to
// the format's compiler.
func formatSampleCheck(text string, where smpuse.Val, http bool) (msg string, warns []string) {
	mine := false
	hook := func(s string) (int, error) {
		n, err := logfmt.ScanExpr(s)
		if kw, _, _, _ := smpuse.SampleExpr(s); err != nil || kw == "" {
			return n, err
		}
		l6, err := sampleFault(s, n, where)
		if err != nil {
			mine = true
			return 0, err
		}
		if http && l6 {
			warns = append(warns, fmt.Sprintf("L6 sample fetch <%s> ignored in HTTP log-format string.", s))
		}
		return n, nil
	}
	flags := logfmt.Opt(0)
	if http {
		flags = logfmt.OptHTTP
	}
	_, err := logfmt.ParseWith(text, logfmt.Options{HTTP: true, Flags: flags, Sample: hook})
	if err != nil && mine {
		return err.Error(), warns
	}
	return "", warns
}

// httpRuleFormats returns the log-format arguments of an http-request,
// http-response or http-after-response rule (words after the keyword), in
// the order HAProxy parses them.
func httpRuleFormats(words []string) []string {
	if len(words) == 0 {
		return nil
	}
	args := words[1:]
	for i, w := range args {
		if w == "if" || w == "unless" {
			args = args[:i]
			break
		}
	}
	at := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			if i < len(args) {
				out = append(out, args[i])
			}
		}
		return out
	}
	act := words[0]
	if i := strings.IndexByte(act, '('); i > 0 {
		act = act[:i]
	}
	switch act {
	case "set-header", "add-header", "early-hint":
		return at(1)
	case "replace-header", "replace-value":
		return at(2)
	case "set-path", "set-pathq", "set-query", "set-uri", "set-method", "set-var-fmt":
		return at(0)
	case "replace-path", "replace-pathq", "replace-uri":
		return at(1)
	case "add-acl", "del-acl", "del-map":
		return at(0)
	case "set-map":
		return at(0, 1)
	case "return", "deny", "tarpit":
		return replyFormats(args)
	case "redirect":
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "location", "scheme":
				return at(i + 1)
			case "prefix":
				if args[i+1] == "/" {
					return nil
				}
				return at(i + 1)
			}
		}
	}
	return nil
}

// checkHTTPRuleSamples checks the sample fetches of an HTTP rule's formats
// against where the rule runs; false after an alert.
func (c *pctx) checkHTTPRuleSamples() bool {
	p := c.cp.proxy
	where := p.HTTPPlaces(c.args[0])
	for _, f := range httpRuleFormats(c.args[1:]) {
		msg, warns := formatSampleCheck(f, where, true)
		for _, w := range warns {
			c.warn("%s", w)
		}
		if msg != "" {
			c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s.", ProxyTypeStr(p), p.Name, c.args[0], c.args[1], msg)
			return false
		}
	}
	if setsLFSLine(c.args[1:]) {
		p.lfsPos = c.pos
	}
	return true
}

// setsLFSLine reports whether HAProxy records the line of a rule (words
// from its action) as the proxy's log-format line: the actions whose
// parser does (set-header, set-map, set-var-fmt, return with formats...).
func setsLFSLine(words []string) bool {
	if len(words) == 0 {
		return false
	}
	act := words[0]
	if i := strings.IndexByte(act, '('); i > 0 {
		act = act[:i]
	}
	switch act {
	case "set-header", "add-header", "replace-header", "replace-value",
		"set-map", "add-acl", "del-acl", "del-map", "set-var-fmt":
		return true
	case "redirect":
		return len(httpRuleFormats(words)) > 0
	case "return", "deny", "tarpit":
		for _, w := range words[1:] {
			switch w {
			case "hdr", "lf-string", "lf-file":
				return true
			case "if", "unless":
				return false
			}
		}
	}
	return false
}

// warnTCPCondConflict reports the condition of a tcp-request or
// tcp-response rule that HAProxy accepted (no message since diags
// messages) whose keywords cannot be used where it runs, with
// tcp_rules.c's wording.
func (c *pctx) warnTCPCondConflict(diags int, response bool) {
	p, stage := c.cp.proxy, c.arg(1)
	if len(c.cp.lineDiags) != diags || c.cp.abort {
		return
	}
	switch {
	case stage == "content":
	case !response && (stage == "connection" || stage == "session") && p.Cap&CapFE != 0:
	default:
		return
	}
	msg := condConflict(p, condWords(c.args[2:]), p.TCPPlaces(stage, response), c.args[0]+" "+stage)
	if msg != "" {
		c.warn("%s", msg)
	}
}

// switchPlaces is where use_backend conditions run.
const switchPlaces = smpuse.ValFE_SET_BCK

// ruleSample returns the sample expression of an action's words (action
// first, condition excluded or not) and the name HAProxy's messages give
// its fetch: the action for set-var, the expression for the others.
func ruleSample(words []string) (expr, name string) {
	if len(words) < 2 {
		return "", ""
	}
	act := words[0]
	base := act
	if i := strings.IndexByte(act, '('); i > 0 {
		base = act[:i]
	}
	if strings.HasPrefix(base, "sc-set-gpt") {
		// parse_set_gpt0 reads its value from the next word, whatever it
		// is: not an integer, it is an expression.
		if _, err := strconv.ParseInt(words[1], 10, 64); err == nil {
			return "", ""
		}
		return words[1], words[1]
	}
	if words[1] == "if" || words[1] == "unless" {
		return "", ""
	}
	switch {
	case base == "set-var", base == "set-priority-class", base == "set-priority-offset":
		return words[1], act
	case base == "capture", strings.HasPrefix(base, "track-sc"),
		base == "set-src", base == "set-dst", base == "set-src-port", base == "set-dst-port":
		return words[1], words[1]
	}
	return "", ""
}

// formatExprMsg is the message for the expression s[:n] of a log-format
// string, "" when it compiles: HAProxy parses it within the whole rest
// s, so the text an "expected ')' before '...'" quotes runs to the end
// of s.
func formatExprMsg(s string, n int) string {
	msg := sampleExprMsg(s[:n])
	if i := strings.LastIndex(msg, " before '"); i >= 0 && strings.HasSuffix(msg, "'") {
		q := msg[i+len(" before '") : len(msg)-1]
		if strings.HasSuffix(s[:n], q) {
			msg = msg[:len(msg)-1] + s[n:] + "'"
		}
	}
	return msg
}

// sampleExprCheck returns HAProxy's error for a sample expression whose
// fetch is unknown (when unknown is set) or not available at where, ""
// otherwise. Other expression errors are left to the sample compiler.
func sampleExprCheck(expr, name string, where smpuse.Val, unknown bool) string {
	if unknown {
		if msg := fetchDiag(expr); msg != "" {
			return msg
		}
	}
	if kw, use, val, ok := smpuse.SampleExpr(expr); kw != "" && ok && val&where == 0 {
		return fmt.Sprintf("fetch method '%s' extracts information from '%s', none of which is available here", name, use)
	}
	return ""
}

// BalanceHashDiag is check_config_validity's alert for the expression of
// "balance hash", "" when it compiles and can be fetched where a server
// is chosen.
func BalanceHashDiag(p *Proxy) string {
	if len(p.Balance) < 2 || p.Balance[0] != "hash" {
		return ""
	}
	expr := p.Balance[1]
	head := fmt.Sprintf("%s '%s' [%s:%d]: ", ProxyTypeStr(p), p.Name, p.Pos.File, p.Pos.Line)
	if msg := fetchDiag(expr); msg != "" {
		return head + fmt.Sprintf("failed to parse 'balance hash' expression '%s' in : %s.", expr, msg)
	}
	if _, use, val, _ := smpuse.SampleExpr(expr); val&smpuse.ValBE_SET_SRV == 0 {
		return head + fmt.Sprintf("error detected while parsing 'balance hash' expression '%s' which requires information from %s, which is not available here.", expr, use)
	}
	return ""
}

// httpExprAction says whether an HTTP action reads a sample expression
// after its name.
func httpExprAction(act string) bool {
	base, _, _ := strings.Cut(act, "(")
	switch base {
	case "set-src", "set-dst", "set-src-port", "set-dst-port", "set-priority-class", "set-priority-offset", "set-var":
		return true
	}
	return strings.HasPrefix(base, "track-sc")
}

// checkHTTPRuleExpr checks the sample expression of an HTTP rule's action
// against where the rule runs; false after an alert.
func (c *pctx) checkHTTPRuleExpr() bool {
	if c.args[0] == "redirect" {
		return true
	}
	p := c.cp.proxy
	expr, name := ruleSample(c.args[1:])
	if expr == "" {
		if !httpExprAction(c.args[1]) {
			return true
		}
		// The action reads its expression from the next word, whatever
		// it is ("if" included).
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s.", ProxyTypeStr(p), p.Name, c.args[0], c.args[1], fetchDiag(c.arg(2)))
		return false
	}
	if msg := sampleExprCheck(expr, name, p.HTTPPlaces(c.args[0]), true); msg != "" {
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s.", ProxyTypeStr(p), p.Name, c.args[0], c.args[1], msg)
		return false
	}
	return true
}

// checkTCPRuleExpr checks the sample expression of a tcp-request or
// tcp-response rule (set-var, capture, track-sc) or the format of its
// set-var-fmt against where it runs,
// with tcp_rules.c's and vars.c's wording; false after an alert.
func (c *pctx) checkTCPRuleExpr(response bool) bool {
	stage := c.arg(1)
	if stage != "connection" && stage != "session" && stage != "content" || len(c.args) < 3 {
		return true
	}
	p := c.cp.proxy
	if (stage == "connection" || stage == "session") && (response || p.Cap&CapFE == 0) {
		return true
	}
	act := c.args[2]
	if msg := c.cp.condError(c.pos, c.args[3:]); msg != "" {
		kw := condWord(c.args[3:])
		c.alert("'%s %s %s' : error detected in %s '%s' while parsing '%s' condition : %s", c.args[0], stage, act, ProxyTypeStr(p), p.Name, kw, msg)
		return false
	}
	if strings.HasPrefix(act, "set-var-fmt(") && len(c.args) > 3 {
		if msg, _ := formatSampleCheck(c.args[3], p.TCPPlaces(stage, response), false); msg != "" {
			c.alert("%s", msg)
			return false
		}
		p.lfsPos = c.pos
		return true
	}
	expr, name := ruleSample(c.args[2:])
	if expr == "" || strings.HasPrefix(act, "set-src") || strings.HasPrefix(act, "set-dst") {
		return true
	}
	if strings.HasPrefix(act, "set-priority-") {
		// queue.c names args[0], the rule's keyword here.
		name = c.args[0]
	}
	msg := sampleExprCheck(expr, name, p.TCPPlaces(stage, response), false)
	if msg == "" {
		return true
	}
	if act == "capture" || strings.HasPrefix(act, "track-sc") {
		msg = fmt.Sprintf("'%s %s %s' : %s", c.args[0], stage, act, msg)
	}
	c.alert("%s", msg)
	return false
}

// sampleHook checks the samples of a log-format string as HAProxy's
// parse_logformat_string does: known fetch, usable where the string is
// evaluated; l6 is told of layer-6 fetches in an HTTP-encoded string.
func sampleHook(where smpuse.Val, http bool, l6 func(s string)) func(string) (int, error) {
	return func(s string) (int, error) {
		n, err := logfmt.ScanExpr(s)
		if err != nil {
			return n, err
		}
		isL6, err := sampleFault(s, n, where)
		if err != nil {
			return 0, err
		}
		if http && isL6 && l6 != nil {
			l6(s)
		}
		return n, nil
	}
}

// sampleFault is parse_logformat_string's error for the sample
// expression s[:n] of a log-format string evaluated at where: an unknown
// fetch, an expression that does not compile, a fetch not available
// there; l6 tells a layer-6 fetch.
func sampleFault(s string, n int, where smpuse.Val) (l6 bool, err error) {
	kw, use, val, ok := smpuse.SampleExpr(s)
	if !ok {
		return false, fmt.Errorf("unknown fetch method '%s'", kw)
	}
	if bad := formatExprMsg(s, n); bad != "" {
		return false, errors.New(bad)
	}
	if val&where == 0 {
		return false, logfmt.Verbatim(fmt.Sprintf("sample fetch <%s> may not be reliably used here because it needs '%s' which is not available here", s, use))
	}
	return use&(smpuse.UseL6REQ|smpuse.UseL6RES) != 0, nil
}

// LogFormatDiags reads the proxy's log-format, log-format-sd and
// unique-id-format once the whole configuration is known, as
// check_config_validity() does, and returns HAProxy's messages for them:
// the formats' errors, sample fetches unknown or not available where the
// format is rendered (logs at the end of the stream, unique-id with the
// request headers), and the warning for L6 fetches in HTTP formats.
func (p *Proxy) LogFormatDiags() Diagnostics {
	var out Diagnostics
	check := func(text string, pos Pos, what string, flags logfmt.Opt, where smpuse.Val) {
		if text == "" {
			return
		}
		hook := sampleHook(where, flags&logfmt.OptHTTP != 0, func(s string) {
			out = append(out, warnf(pos, "L6 sample fetch <%s> ignored in HTTP log-format string.", s))
		})
		_, err := logfmt.ParseWith(text, logfmt.Options{HTTP: p.Mode == "http", Flags: flags, Sample: hook})
		if err != nil {
			out = append(out, Diagnostic{Severity: Alert, Fatal: true, Style: StyleNone,
				Msg: fmt.Sprintf("Parsing [%s:%d]: failed to parse %s : %v.", pos.File, pos.Line, what, err)})
		}
	}
	lfs := p.LogFormatLine()
	if p.Cap&CapFE != 0 {
		text := p.Log.FormatText
		if p.Mode != "http" && (text == logfmt.HTTPLog || text == logfmt.HTTPLogCLF) {
			text = logfmt.TCPLog
		}
		check(text, lfs, "log-format", logfmt.LogFormatFlags, smpuse.ValFE_LOG_END)
		// HAProxy names the log-format's line for log-format-sd errors.
		check(p.Log.SDText, lfs, "log-format-sd", logfmt.LogFormatFlags, smpuse.ValFE_LOG_END)
	}
	check(p.UniqueIDFormat, p.UniqueIDPos, "unique-id", logfmt.UniqueIDFlags, p.Places(smpuse.ValFE_HRQ_HDR, smpuse.ValBE_HRQ_HDR))
	// Read in any proxy, at its own line.
	check(p.Log.ErrText, p.Log.ErrPos, "error-log-format", logfmt.LogFormatFlags, smpuse.ValFE_LOG_END)
	return out
}

// LogFormatsKept reports whether the proxy's log-format or log-format-sd
// leaves anything in HAProxy's lists, which a parse error stops part way
// (the warning about a proxy without log address depends on it).
func (p *Proxy) LogFormatsKept() bool {
	kept := func(text string) bool {
		if text == "" {
			return false
		}
		hook := sampleHook(smpuse.ValFE_LOG_END, true, nil)
		nodes, _ := logfmt.ParseWith(text, logfmt.Options{HTTP: p.Mode == "http", Flags: logfmt.LogFormatFlags, Sample: hook, Partial: true})
		return len(nodes) > 0
	}
	text := p.Log.FormatText
	if p.Mode != "http" && (text == logfmt.HTTPLog || text == logfmt.HTTPLogCLF) {
		text = logfmt.TCPLog
	}
	return kept(text) || kept(p.Log.SDText)
}

// LogFormatLine is the line HAProxy names for the log-format and
// log-format-sd strings of the proxy: the last one that parsed a log
// format (with the rule formats), else the log-format's own.
func (p *Proxy) LogFormatLine() Pos {
	if p.lfsPos.Line == 0 {
		return p.Log.FormatPos
	}
	return p.lfsPos
}

// stickPlaces returns where a stick rule's pattern and condition are
// evaluated: at server selection, or on the response for store-response.
func stickPlaces(response bool) smpuse.Val {
	if response {
		return smpuse.ValBE_STO_RUL
	}
	return smpuse.ValBE_SET_SRV
}

// checkStickExpr checks the pattern of a stick rule against where it is
// fetched; false after an alert.
func (c *pctx) checkStickExpr(r *StickRule) bool {
	kw, use, val, ok := smpuse.SampleExpr(r.Expr)
	if !ok && kw != "" {
		c.alert("'%s': unknown fetch method '%s'", c.args[0], kw)
		return false
	}
	if msg := sampleExprMsg(r.Expr); msg != "" {
		c.alert("'%s': %s", c.args[0], msg)
		return false
	}
	if !ok || val&r.Where != 0 {
		return true
	}
	when := "during request"
	if r.Response {
		when = "for 'store-response'"
	}
	c.alert("'%s': fetch method '%s' extracts information from '%s', none of which is available %s.", c.args[0], kw, use, when)
	return false
}

// kwServerRule checks "use-server <srv> if|unless <cond>" and
// "force-persist|ignore-persist if|unless <cond>" as HAProxy reads them,
// with the warnings for keywords unusable where they run (server
// selection, and the backend's first request stage for persistence).
func kwServerRule(c *pctx) {
	cond, where, what := c.args[1:], smpuse.ValBE_REQ_CNT, fmt.Sprintf("a '%s' rule", c.args[0])
	if c.args[0] == "use-server" {
		if c.arg(1) == "" {
			c.alert("'%s' expects a server name.", c.args[0])
			return
		}
		cond, where, what = c.args[2:], smpuse.ValBE_SET_SRV, "switching rule"
	}
	if len(cond) == 0 || cond[0] != "if" && cond[0] != "unless" {
		c.alert("'%s' requires either 'if' or 'unless' followed by a condition.", c.args[0])
		return
	}
	if c.cp.checkCondACLs(c, cond, what) {
		c.warnCondConflict(cond, where)
	}
	if c.args[0] == "use-server" {
		// A frontend keeps it too: HAProxy then finds no such server.
		c.cp.proxy.ServerRules = append(c.cp.proxy.ServerRules, &ServerRule{Pos: c.pos, Server: c.args[1], Cond: cond, Where: where})
		c.ruleAdded(listUseServer)
	} else if c.args[0] != "use-server" {
		l := CondLine{Pos: c.pos, Keyword: c.args[0], Cond: cond}
		if c.noCap {
			c.cp.proxy.IgnoredConds = append(c.cp.proxy.IgnoredConds, l)
		} else {
			c.cp.proxy.PersistRules = append(c.cp.proxy.PersistRules, l)
		}
		c.runtimeForm()
	}
}

// replyFormats returns the formats of an HTTP reply's arguments in the
// order http_parse_http_reply() reads them: each "hdr <name> <fmt>" but
// the ignored ones, then an lf-string body when it has a content type.
func replyFormats(args []string) []string {
	var out []string
	body, ctype := "", false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "hdr":
			if i+2 < len(args) {
				switch strings.ToLower(args[i+1]) {
				case "content-length", "transfer-encoding", "content-type":
				default:
					out = append(out, args[i+2])
				}
			}
			i += 2
		case "lf-string":
			if i+1 < len(args) {
				body = args[i+1]
			}
			i++
		case "content-type":
			ctype = true
			i++
		case "status", "deny_status", "string", "file", "lf-file", "errorfile", "errorfiles":
			i++
		}
	}
	if body != "" && ctype {
		out = append(out, body)
	}
	return out
}

// condUses returns the sources of the keywords of condition words (after
// if/unless) in p, as acl_cond's use.
func condUses(p *Proxy, words []string) smpuse.Use {
	var use smpuse.Use
	for _, a := range condTermACLs(p, condWords(words)) {
		for _, kw := range a.kws {
			if f, ok := smpuse.ACLFetch(kw); ok {
				kw = f
			}
			u, _, _ := smpuse.Fetch(kw)
			use |= u
		}
	}
	return use
}

// L6CondDiags returns HAProxy's warnings for the conditions of an HTTP
// proxy's rules that use buffer (L6) fetches, in the order
// check_config_validity() meets them: use_backend, use-server, stick, tcp rules by
// stage, then HTTP rules.
func (p *Proxy) L6CondDiags() Diagnostics {
	if p.Mode != "http" || p.Cap&CapDef != 0 {
		return nil
	}
	var out Diagnostics
	check := func(pos Pos, cond []string) {
		if len(cond) > 0 && condUses(p, cond)&(smpuse.UseL6REQ|smpuse.UseL6RES) != 0 {
			out = append(out, Diagnostic{Severity: Warning, Msg: fmt.Sprintf("Proxy '%s': L6 sample fetches ignored on HTTP proxies (declared at %s:%d).", p.Name, pos.File, pos.Line)})
		}
	}
	for _, r := range p.UseBackends {
		check(r.Pos, r.Cond)
	}
	for _, r := range p.ServerRules {
		check(r.Pos, r.Cond)
	}
	for _, r := range p.StickRules {
		if !r.Response {
			// store-response rules are not looked at.
			check(r.Pos, r.Cond)
		}
	}
	for _, stage := range []string{"connection", "session", "content", "response"} {
		for _, r := range p.TCPRequests {
			if r.Section != "defaults" && (r.Response && stage == "response" || !r.Response && r.Stage == stage) {
				check(r.Pos, r.Cond)
			}
		}
	}
	for _, rules := range [][]*HTTPRule{p.HTTPRequestRules, p.HTTPResponseRules, p.HTTPAfterRules} {
		for _, r := range rules {
			if r.Keyword != "redirect" {
				// check_config_validity() leaves redirect rules out.
				check(r.Pos, r.Cond)
			}
		}
	}
	return out
}

// UseBackendFormatError returns HAProxy's alert for the backend name of a
// use_backend rule read as a log-format (with the request headers), ""
// when it is valid.
func UseBackendFormatError(r *SwitchRule) string {
	msg, _ := formatSampleCheck(r.Backend, smpuse.ValFE_HRQ_HDR, false)
	if msg == "" {
		return ""
	}
	return fmt.Sprintf("Parsing [%s:%d]: failed to parse use_backend rule '%s' : %s.", r.Pos.File, r.Pos.Line, r.Backend, msg)
}
