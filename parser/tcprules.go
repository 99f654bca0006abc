package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser/smpuse"
)

// The actions each tcp rule set knows besides those tcp_rules.c parses
// itself, as action_build_list names them in HAProxy 2.6's messages.
const (
	tcpConnActionList = `'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'`
	tcpContActionList = `'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'`
	tcpResActionList  = `'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'`
)

// tcpActionLookup finds act in a list as action_lookup does: a name
// ending in "(*)" matches every word it starts.
func tcpActionLookup(act, list string) string {
	for _, q := range strings.Split(list, ", ") {
		name := strings.Trim(q, "'")
		if base, ok := strings.CutSuffix(name, "(*)"); ok {
			if strings.HasPrefix(act, base) {
				return base
			}
		} else if act == name {
			return name
		}
	}
	return ""
}

// tcpRuleDiag checks a tcp-request or tcp-response line the way
// tcp_parse_tcp_req and tcp_parse_tcp_rep do, up to the end of the
// action's words, and reports the first error with HAProxy's wording.
// It returns false after an alert; the checks of sample expressions
// against where the rule runs and of conditions are made elsewhere.
func (c *pctx) tcpRuleDiag(response bool) bool {
	p := c.cp.proxy
	if p == nil {
		return true
	}
	kw, stage := c.args[0], c.arg(1)
	kind, def := ProxyTypeStr(p), p.Kind == "defaults"
	anon := def && p.Name == ""
	fail := func(format string, a ...any) bool {
		c.alert(format, a...)
		return false
	}
	switch {
	case stage == "" && def && !response:
		return fail("missing argument for '%s' in defaults section", kw)
	case stage == "":
		return fail("missing argument for '%s' in %s '%s'", kw, kind, p.Name)
	case stage == "inspect-delay":
		return c.tcpInspectDelayDiag(response, anon)
	case response && stage != "content":
		return fail("'%s' expects 'inspect-delay' or 'content' in %s '%s' (got '%s')", kw, kind, p.Name, stage)
	case !response && def && stage != "content" && stage != "connection" && stage != "session":
		return fail("'%s' expects 'inspect-delay', 'connection', or 'content' in defaults section (got '%s')", kw, stage)
	case !response && stage != "content" && stage != "connection" && stage != "session":
		return fail("'%s' expects 'inspect-delay', 'connection', or 'content' in %s '%s' (got '%s')", kw, kind, p.Name, stage)
	case !response && stage != "content" && p.Cap&CapFE == 0:
		return fail("%s %s is not allowed because %s %s is not a frontend", kw, stage, kind, p.Name)
	case response && (anon || p.Cap&CapBE == 0):
		return fail("%s %s is only allowed in 'backend' sections or 'defaults' section with a name", kw, stage)
	case !response && anon:
		return fail("%s %s is not allowed in anonymous 'defaults' sections", kw, stage)
	}
	a := c.args[2:]
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	act := w(0)
	rule := kw + " " + stage + " " + act
	n := 1 // words the action takes, itself included
	switch {
	case act == "accept" || act == "reject" || response && act == "close":
	case !response && act == "capture":
		if p.Cap&CapFE == 0 {
			return fail("'%s' : proxy '%s' has no frontend capability", rule, p.Name)
		}
		if stage != "content" {
			return fail("'%s %s' is not allowed in '%s %s' rules in %s '%s'", act, w(1), kw, stage, kind, p.Name)
		}
		if msg := fetchDiag(w(1)); msg != "" {
			return fail("'%s' : %s", rule, msg)
		}
		if msg := sampleExprCheck(w(1), w(1), p.TCPPlaces(stage, response), false); msg != "" {
			return fail("'%s' : %s", rule, msg)
		}
		n = 2
		if w(2) == "len" {
			if atoi(w(3)) <= 0 {
				return fail("'%s' : length must be > 0", rule)
			}
			n = 4
		} else {
			return fail("'%s' : a positive 'len' argument is mandatory", rule)
		}
	case !response && strings.HasPrefix(act, "track-sc"):
		if msg := fetchDiag(w(1)); msg != "" && tcpTrackNum(act) {
			return fail("'%s' : %s", rule, msg)
		}
		return c.tcpTrackDiag(a)
	case !response && (act == "expect-proxy" || act == "expect-netscaler-cip"):
		if w(1) != "layer4" {
			return fail("'%s' only supports 'layer4' in %s '%s' (got '%s')", rule, kind, p.Name, w(1))
		}
		if stage != "connection" {
			return fail("'%s %s' is not allowed in '%s %s' rules in %s '%s'", act, w(1), kw, stage, kind, p.Name)
		}
		n = 2
	default:
		list := tcpContActionList
		switch {
		case response:
			list = tcpResActionList
		case stage != "content":
			list = tcpConnActionList
		}
		name := tcpActionLookup(act, list)
		if name == "" {
			return c.tcpUnknownAction(response, list, act)
		}
		var msg string
		if n, msg = c.tcpActionWords(name, a); msg != "" {
			return fail("%s", msg)
		}
		if n < 0 {
			// The action's own check already reported.
			return false
		}
	}
	if x := w(n); x != "" && x != "if" && x != "unless" {
		return fail("'%s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", rule, kind, p.Name, x)
	}
	return true
}

// tcpInspectDelayDiag checks "tcp-request|tcp-response inspect-delay".
func (c *pctx) tcpInspectDelayDiag(response, anon bool) bool {
	p, kw, stage := c.cp.proxy, c.args[0], c.args[1]
	switch {
	case !response && anon:
		c.alert("%s %s is not allowed in anonymous 'defaults' sections", kw, stage)
		return false
	case response && (anon || p.Cap&CapBE == 0):
		c.alert("%s %s is only allowed in 'backend' sections or 'defaults' section with a name", kw, stage)
		return false
	}
	v := c.arg(2)
	msg := fmt.Sprintf("'%s %s' expects a positive delay in milliseconds, in %s '%s'", kw, stage, ProxyTypeStr(p), p.Name)
	if v == "" {
		c.alert("%s", msg)
		return false
	}
	c.warnTimer(v)
	switch _, res := parseTime(v); res {
	case timeOverflow:
		msg += fmt.Sprintf(" (timer overflow in '%s', maximum value is 2147483647 ms or ~24.8 days)", v)
	case timeBadChar:
		msg += fmt.Sprintf(" (unexpected character '%c')", badTimeChar(v))
	default:
		// The first non-null delay stays, even one inherited.
		for _, r := range p.TCPRequests {
			if r.Stage == "" && r.Response == response && r.InspectDelay > 0 {
				c.runtimeForm()
				c.warn("ignoring %s %s (was already defined) in %s '%s'", kw, stage, ProxyTypeStr(p), p.Name)
				return false
			}
		}
		return true
	}
	c.alert("%s", msg)
	return false
}

// tcpUnknownAction reports an action the stage does not know, with the
// list of those it does.
func (c *pctx) tcpUnknownAction(response bool, list, act string) bool {
	p, kw, stage := c.cp.proxy, c.args[0], c.args[1]
	extra := []string{"accept", "reject", "capture", "track-sc", "expect-proxy", "expect-netscaler-cip"}
	if response {
		extra = []string{"accept", "reject", "close"}
	}
	hint := ""
	if best := tcpActionSuggest(act, list, extra); best != "" {
		hint = " Did you mean '" + best + "' maybe ?"
	}
	if response {
		c.alert("'%s %s' expects 'accept', 'close', 'reject', %s in %s '%s' (got '%s').%s", kw, stage, list, ProxyTypeStr(p), p.Name, act, hint)
		return false
	}
	c.alert("'%s %s' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', %s in %s '%s' (got '%s').%s", kw, stage, list, ProxyTypeStr(p), p.Name, act, hint)
	// The message ends with a newline, printed as an empty line.
	c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
	return false
}

// tcpActionWords checks the words of an action registered for tcp rules
// (a its words, action first): how many it takes, or the message of its
// parser. A negative count means the message was already given.
func (c *pctx) tcpActionWords(name string, a []string) (int, string) {
	p := c.cp.proxy
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	switch name {
	case "set-var", "set-var-fmt", "unset-var":
		inner, ok := strings.CutSuffix(strings.TrimPrefix(a[0], name+"("), ")")
		if !strings.HasPrefix(a[0], name+"(") || !ok {
			return 0, fmt.Sprintf("invalid or incomplete action '%s'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'", a[0])
		}
		if msg := tcpVarSpecDiag(inner, a[0][len(name)+1:]); msg != "" {
			return 0, msg
		}
		switch name {
		case "unset-var":
			return 1, ""
		case "set-var":
			return 2, fetchDiag(w(1))
		}
		return 2, ""
	case "set-log-level":
		if _, ok := parseLogLevel([]string{w(1)}); !ok {
			return 0, "expects exactly 1 argument (log level name or 'silent')"
		}
		return 2, ""
	case "set-nice":
		if w(1) == "" {
			return 0, "expects exactly 1 argument (integer value)"
		}
		return 2, ""
	case "set-mark", "set-tos":
		// The value is the next word, even "if".
		var v []string
		if w(1) != "" {
			v = []string{w(1)}
		}
		return 2, markValueMsg(v)
	case "set-src", "set-dst", "set-src-port", "set-dst-port":
		if msg := fetchDiag(w(1)); msg != "" {
			return 0, msg
		}
		// tcp_parse_set_src_dst checks the fetch against the HTTP
		// request headers, whatever the rule set.
		var where smpuse.Val
		if p.Cap&CapFE != 0 {
			where |= smpuse.ValFE_HRQ_HDR
		}
		if p.Cap&CapBE != 0 {
			where |= smpuse.ValBE_HRQ_HDR
		}
		return 2, sampleExprCheck(w(1), w(1), where, false)
	case "set-priority-class", "set-priority-offset":
		return 2, fetchDiag(w(1))
	case "silent-drop":
		return 1, ""
	case "switch-mode":
		return c.tcpSwitchModeWords(a)
	case "use-service":
		// Reported by kwTCPRequest with stream_parse_use_service's words.
		if w(1) == "" || w(1) == "prometheus-exporter" || !strings.HasPrefix(w(1), "lua.") {
			return 1 << 20, ""
		}
		return 2, ""
	case "do-resolve":
		if _, _, _, ok := parseDoResolve(a[0]); !ok {
			return 0, fmt.Sprintf("Can't parse '%s'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'", a[0])
		}
		if w(1) == "" || fetchDiag(w(1)) != "" {
			return 0, fmt.Sprintf("Can't parse '%s'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'", w(1))
		}
		return 2, ""
	case "send-spoe-group", "ot-group":
		// Two words, whatever they are, then nothing or a condition.
		if w(1) == "" || w(2) == "" || w(3) != "" && w(3) != "if" && w(3) != "unless" {
			if name == "ot-group" {
				return 0, "expects: <filter-id> <group-id> [{ if | unless } ...]"
			}
			return 0, "expects 2 arguments: <engine-id> <group-id>"
		}
		return 3, ""
	case "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0":
		// The counter and value first, the word after them last.
		// The value is the next word, even "if".
		sa := []string{c.args[1], a[0]}
		if strings.HasPrefix(name, "sc-set-gpt") && w(1) != "" {
			sa = append(sa, w(1))
		}
		if !checkTCPStick(c, sa) {
			return -1, ""
		}
		if len(sa) == 3 {
			if _, err := strconv.Atoi(w(1)); err != nil {
				if msg := fetchDiag(w(1)); msg != "" {
					return 0, msg
				}
			}
		}
		return len(sa) - 1, ""
	}
	return 1, ""
}

// tcpSwitchModeWords checks "switch-mode http [proto <mux>]"
// (tcp_parse_switch_mode).
func (c *pctx) tcpSwitchModeWords(a []string) (int, string) {
	p := c.cp.proxy
	mode := ""
	if len(a) > 1 {
		mode = a[1]
	}
	switch {
	case mode == "":
		return 0, "'tcp-request switch-mode' expects a mode as argument."
	case p.Cap&CapFE == 0:
		return 0, fmt.Sprintf("'tcp-request switch-mode' not allowed because %s '%s' has no frontend capability", ProxyTypeStr(p), p.Name)
	case mode != "http":
		return 0, fmt.Sprintf("'tcp-request switch-mode' expects a valid mode (got '%s').", mode)
	case len(a) < 3 || a[2] != "proto":
		return 2, ""
	case len(a) < 4:
		return 0, "'tcp-request switch-mode': 'proto' expects a protocol as argument."
	case a[3] != "h1" && a[3] != "h2" && a[3] != "fcgi" && a[3] != "none":
		return 0, fmt.Sprintf("'tcp-request switch-mode': 'proto' expects a valid MUX protocol, if specified (got '%s')", a[3])
	}
	return 4, ""
}

// tcpTrackNum reports whether a track-sc action names a counter tcp rules
// have (none named is counter 0).
func tcpTrackNum(act string) bool {
	n := act[len("track-sc"):]
	return n == "" || n == "0" || n == "1" || n == "2"
}

// tcpTrackDiag checks "track-sc<n> <expr> [table <t>]", left to the
// shared stick action check but for the forms tcp_parse_request_rule
// takes silently: no counter number (counter 0) and "table" with no name.
func (c *pctx) tcpTrackDiag(a []string) bool {
	words := append([]string(nil), a...)
	if words[0] == "track-sc" {
		words[0] = "track-sc0"
	}
	if len(words) == 3 && words[2] == "table" {
		words = words[:2]
	}
	if len(words) > 3 && words[2] == "table" && (words[3] == "if" || words[3] == "unless") {
		// The table is named "if" or "unless": the condition starts
		// after it.
		if x := cutCond(words[4:]); len(words) > 4 && len(x) > 0 {
			p := c.cp.proxy
			c.alert("'%s %s %s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", c.args[0], c.args[1], a[0], ProxyTypeStr(p), p.Name, words[4])
			return false
		}
		return true
	}
	return checkTCPStick(c, append([]string{c.args[1]}, words...))
}

// fetchDiag is sample_parse_expr's message for a missing or unknown
// fetch or an expression that does not compile, "" otherwise.
func fetchDiag(expr string) string {
	switch kw, _, _, ok := smpuse.SampleExpr(expr); {
	case kw == "":
		return "missing fetch method"
	case !ok:
		return fmt.Sprintf("unknown fetch method '%s'", kw)
	}
	return sampleExprMsg(expr)
}

// tcpVarSpecDiag is parse_store's message for a bad "<name>[,<cond>...]"
// of set-var and its kin; tail is the action word from the name on, which
// a syntax error quotes from the bad character.
func tcpVarSpecDiag(spec, tail string) string {
	name, conds, _ := strings.Cut(spec, ",")
	if msg := tcpVarNameDiag(name, tail); msg != "" {
		return msg
	}
	if conds == "" {
		return ""
	}
	for _, cond := range strings.Split(conds, ",") {
		known := false
		for _, k := range []string{"ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt"} {
			known = known || cond == k
		}
		if !known {
			return fmt.Sprintf("unknown condition \"%s\"", cond)
		}
	}
	return ""
}

// tcpVarNameDiag is vars_hash_name's message for a bad variable name.
func tcpVarNameDiag(s, tail string) string {
	if s == "" {
		return "Empty variable name cannot be accepted"
	}
	sc, rest, _ := strings.Cut(s, ".")
	switch sc {
	case "proc", "sess", "txn", "req", "res", "check":
		if rest == "" {
			break
		}
		for i := 0; i < len(rest); i++ {
			b := rest[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.') {
				return fmt.Sprintf("invalid syntax at char '%s'", tail[len(sc)+1+i:])
			}
		}
		return ""
	}
	return fmt.Sprintf("invalid variable name '%s'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'", s)
}

// atoi is C's atoi: leading blanks, a sign, digits; 0 without any.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<31; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// tcpActionSuggest is action_suggest: the registered action or extra
// word closest to act, with more tolerance for the actions that take a
// suffix; "" when none is close enough.
func tcpActionSuggest(act, list string, extra []string) string {
	if act == "" {
		return ""
	}
	wfp := makeFingerprint(act)
	best, bestDist, tol := "", int(^uint(0)>>1), 2
	try := func(name string, t int) {
		if d := fingerprintDistance(wfp, makeFingerprint(name)); d < bestDist {
			best, bestDist, tol = name, d, t
		}
	}
	for _, q := range strings.Split(list, ", ") {
		name := strings.Trim(q, "'")
		if base, ok := strings.CutSuffix(name, "(*)"); ok {
			try(base, 3)
		} else {
			try(name, 2)
		}
	}
	for _, e := range extra {
		try(e, 2)
	}
	if bestDist > tol*len(act) || bestDist > tol*len(best) {
		return ""
	}
	return best
}

// luaLoaded reports whether a Lua script was loaded before the line,
// which alone registers the "lua." services.
func (cp *cfgParser) luaLoaded() bool {
	for _, d := range cp.cfg.Directives {
		if d.Section == "global" && (d.Keyword == "lua-load" || d.Keyword == "lua-load-per-thread") {
			return true
		}
	}
	return false
}
