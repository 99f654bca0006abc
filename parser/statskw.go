package parser

import (
	"fmt"
	"strings"
	"time"
)

// DefaultStatsURI is the stats page's URI prefix when "stats uri" is not
// given (uri_auth.h STATS_DEFAULT_URI).
const DefaultStatsURI = "/haproxy?stats"

// ProxyStats is what a proxy's "stats" lines set: HAProxy's uri_auth.
// Any "stats" line enables the page. A proxy inherits the object of its
// defaults section until its first own "stats" line, which starts a new
// one, as cfgparse-listen.c detaches from the defaults.
type ProxyStats struct {
	Pos Pos
	// URI is the prefix the request path must start with.
	URI string
	// Realm is "stats realm"; "" leaves HAProxy's default.
	Realm string
	// Auth lists the "user:password" accounts, in order.
	Auth []string
	// Refresh is "stats refresh", 0 when not set.
	Refresh time.Duration
	// Scope lists the proxy names the page is limited to ("." is the
	// proxy serving the page); none shows all.
	Scope []string
	// HideVersion, ShowLegends, ShowNode and ShowDesc are the flags of
	// the same name; Node and Desc override the global node and
	// description.
	HideVersion, ShowLegends, ShowModules bool
	ShowNode, ShowDesc                    bool
	Node, Desc                            string
	// Admin are the "stats admin" rules: the condition words from
	// "if"/"unless" on, compiled by the runtime.
	Admin []StatsAdmin
	// HTTPRules are the "stats http-request" rules, run on the page's
	// requests before it answers.
	HTTPRules []*HTTPRule

	owner *Proxy
}

// StatsAdmin is one "stats admin if|unless <cond>" line.
type StatsAdmin struct {
	Pos  Pos
	Cond []string
}

const statsExpects = "expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."

// statsRuntime are the forms the runtime serves.
var statsRuntime = map[string]bool{"enable": true, "uri": true, "realm": true, "auth": true, "scope": true,
	"refresh": true, "hide-version": true, "show-legends": true, "show-node": true, "show-desc": true, "admin": true}

// kwStats reads a proxy "stats" line as cfgparse-listen.c does.
func kwStats(c *pctx) {
	p := c.cp.proxy
	sub := c.arg(1)
	tight := func(format string, a ...any) {
		c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight, Msg: fmt.Sprintf(format, a...)})
	}
	switch sub {
	case "":
		tight("missing keyword in 'stats', %s", statsExpects)
		return
	case "admin", "http-request":
		if p.Cap&CapDef != 0 {
			if sub == "admin" {
				tight("'%s %s' not allowed in 'defaults' section.", c.args[0], sub)
			} else {
				tight("'%s' not allowed in 'defaults' section.", c.args[0])
			}
			return
		}
	case "uri", "realm", "auth", "scope":
		if c.arg(2) == "" {
			c.alert("%s", statsNeeds[sub])
			return
		}
	case "refresh", "enable", "hide-version", "show-legends", "show-modules", "show-node", "show-desc":
	default:
		tight("unknown stats parameter '%s', %s", sub, statsExpects)
		return
	}
	st := statsOf(p, c.pos)
	switch sub {
	case "admin":
		if c.arg(2) != "if" && c.arg(2) != "unless" {
			c.alert("'%s %s' requires either 'if' or 'unless' followed by a condition.", c.args[0], sub)
			return
		}
		if !c.cp.checkCondACLs(c, c.rest(2), "a 'stats admin' rule") {
			return
		}
		c.warnCondConflict(c.rest(2), p.HTTPPlaces("http-request"))
		st.Admin = append(st.Admin, StatsAdmin{Pos: c.pos, Cond: c.rest(2)})
	case "http-request":
		if n := len(st.HTTPRules); n > 0 && len(st.HTTPRules[n-1].Cond) == 0 {
			c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("previous '%s' action has no condition attached, further entries are NOOP.", c.args[0])})
		}
		if !c.knownRuleAction("http-request", c.arg(2)) {
			return
		}
		// The rule is read as an http-request rule (parse_http_req_cond),
		// and an error ends the parsing (ERR_ABORT).
		if !c.statsRuleOK() {
			c.cp.cfg.AbortAfterFile = true
			c.cp.abort = true
			return
		}
		r := parseHTTPRule(c.pos, "http-request", c.args[2:])
		r.Where = p.HTTPPlaces("http-request")
		st.HTTPRules = append(st.HTTPRules, r)
		if r.Refused == "" {
			c.runtimeForm()
		}
	case "uri":
		st.URI = c.arg(2)
	case "realm":
		st.Realm = c.arg(2)
	case "auth":
		st.Auth = append(st.Auth, c.arg(2))
	case "scope":
		st.Scope = append(st.Scope, c.arg(2))
	case "refresh":
		d, r, bad, warn := parseSeconds(c.arg(2))
		timerTrailWarning(c, warn, c.arg(2))
		switch r {
		case timeOverflow:
			tight("timer overflow in argument <%s> to stats refresh interval, maximum value is 2147483647 s (~68 years).", c.arg(2))
			return
		case timeUnderflow:
			tight("timer underflow in argument <%s> to stats refresh interval, minimum non-null value is 1 s.", c.arg(2))
			return
		case timeBadChar:
			if bad == 0 {
				// HAProxy prints the NUL it stopped at, which ends its message.
				c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight, Msg: "unexpected character '", Truncated: true})
			} else {
				tight("unexpected character '%c' in argument to stats refresh interval.", bad)
			}
			return
		}
		st.Refresh = d
	case "hide-version":
		st.HideVersion = true
	case "show-legends":
		st.ShowLegends = true
	case "show-modules":
		st.ShowModules = true
	case "show-node":
		if n := c.arg(2); n != "" {
			if !validNodeName(n) {
				tight("'%s %s' invalid node name - should be a stringwith digits(0-9), letters(A-Z, a-z), hyphen(-) or underscode(_).", c.args[0], sub)
				return
			}
			st.Node = n
		}
		st.ShowNode = true
	case "show-desc":
		if c.arg(2) == "" && !globalSet(c.cp.cfg, "description") {
			c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("'%s' requires a parameter or 'desc' to be set in the global section.", sub)})
			return
		}
		st.ShowDesc = true
		if c.arg(2) != "" {
			st.Desc = strings.Join(c.rest(2), " ")
		}
	}
	if statsRuntime[sub] {
		c.runtimeForm()
	}
}

var statsNeeds = map[string]string{"uri": "'uri' needs an URI prefix.", "realm": "'realm' needs an realm name.",
	"auth": "'auth' needs a user:password account.", "scope": "'scope' needs a proxy name."}

// statsOf returns the stats settings a "stats" line of p changes: a
// proxy's first own line leaves those it shares with its defaults, which
// a defaults section changes in place.
func statsOf(p *Proxy, pos Pos) *ProxyStats {
	if p.Stats == nil || (p.Cap&CapDef == 0 && p.Stats.owner != p) {
		p.Stats = &ProxyStats{Pos: pos, URI: DefaultStatsURI, owner: p}
	}
	return p.Stats
}

// validNodeName is the character set "stats show-node" accepts.
func validNodeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return s != ""
}

// globalSet reports whether a global line set the keyword so far.
func globalSet(cfg *Config, kw string) bool {
	for _, d := range cfg.Directives {
		if d.Section == "global" && d.Keyword == kw && len(d.Args) > 0 {
			return true
		}
	}
	return false
}

// timerTrailWarning is parse_time_err's warning for a character after a
// timer's unit (warn, 0 for none): printed without a position.
func timerTrailWarning(c *pctx, warn byte, arg string) {
	if warn != 0 {
		c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleNone, Msg: timerTrailText(warn, arg)})
	}
}

// parseSeconds is parse_time_err with TIME_UNIT_S: a bare number is in
// seconds, the result is rounded up, and a character after a known unit
// is only warned about (warn is the character, 0 for none).
func parseSeconds(s string) (d time.Duration, r timeResult, bad, warn byte) {
	i := 0
	var v uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + uint64(s[i]-'0')
		i++
	}
	if i == 0 {
		if s == "" {
			return 0, timeBadChar, 0, 0
		}
		return 0, timeBadChar, s[0], 0
	}
	var imult, idiv uint64 = 1, 1
	rest := s[i:]
	if rest != "" {
		n := 1
		switch {
		case strings.HasPrefix(rest, "us"):
			idiv, n = 1000000, 2
		case strings.HasPrefix(rest, "ms"):
			idiv, n = 1000, 2
		case rest[0] == 's':
		case rest[0] == 'm':
			imult = 60
		case rest[0] == 'h':
			imult = 3600
		case rest[0] == 'd':
			imult = 86400
		default:
			return 0, timeBadChar, rest[0], 0
		}
		if len(rest) > n {
			warn = rest[n]
		}
	}
	res := (v*imult + idiv - 1) / idiv
	if res >= 0x80000000 {
		return 0, timeOverflow, 0, warn
	}
	if res == 0 && v != 0 {
		return 0, timeUnderflow, 0, warn
	}
	return time.Duration(res) * time.Second, timeOK, 0, warn
}

// timerTrailText is parse_time_err's warning for the character warn
// after the unit of arg.
func timerTrailText(warn byte, arg string) string {
	return fmt.Sprintf("unexpected character '%c' after the timer value '%s', only "+
		"(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."+
		" This will be reported as an error in next versions.", warn, arg)
}

// statsRuleOK checks a "stats http-request" rule's action, arguments,
// samples and condition with the messages of an http-request line;
// false after an alert.
func (c *pctx) statsRuleOK() bool {
	r := *c
	r.args = c.args[1:]
	p := c.cp.proxy
	msg, extra := checkRuleArity(r.args), ""
	if msg == "" {
		msg, extra = checkRuleArgs(p, r.args)
	}
	if msg == "" && extra == "" {
		var warns []string
		msg, extra, warns = replyArgs(r.args, &c.cp.cfg.Global)
		for _, w := range warns {
			c.warn("%s", w)
		}
	}
	switch {
	case extra != "":
		c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.args[0], r.args[1], extra)})
		return false
	case msg != "":
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s", ProxyTypeStr(p), p.Name, r.args[0], r.args[1], msg)
		return false
	case !r.checkHTTPRuleSamples() || !r.checkHTTPRuleExpr():
		return false
	}
	what := fmt.Sprintf("an '%s %s' condition", r.args[0], r.args[1])
	if r.args[1] == "redirect" {
		what = "http redirect"
	}
	return c.cp.checkCondACLs(&r, r.args[1:], what)
}
