package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser/smpuse"
)

// StickTable is a "stick-table" line (configuration.txt 4.2). Its words
// are kept whole: the runtime reads and checks them with acl/stick, which
// knows the data types.
type StickTable struct {
	Pos   Pos
	Words []string
}

// StickRule is a "stick on|match|store-request|store-response" line
// (configuration.txt 4.2): Match looks the key up to pick a server,
// Store records the server the stream used; Response stores from the
// response (store-response).
type StickRule struct {
	Pos                    Pos
	Match, Store, Response bool
	// Expr is the key's sample expression; Table names the table, "" for
	// the proxy's own.
	Expr, Table string
	// Cond is the words of the if/unless condition, nil when none.
	Cond []string
	// Where is the check place of the rule (stickPlaces).
	Where smpuse.Val
}

// StickAction is what the track-sc0/1/2, sc-inc-gpc0/1, sc-inc-gpc,
// sc-set-gpt0 and sc-set-gpt actions name (configuration.txt 4.3 and
// 4.2 "http-request"): the tracking counter, the array index of the
// gpc/gpt forms, track-sc's table and sc-set-gpt's integer value (used
// when the rule's Expr is empty).
type StickAction struct {
	SC    int
	Idx   int
	Table string
	Value int64
}

// stickActionName returns the action a rule's first word names when it is
// one of the stick-table actions: track-sc, sc-inc-gpc0, sc-inc-gpc1,
// sc-inc-gpc, sc-set-gpt0 or sc-set-gpt.
func stickActionName(w string) string {
	switch {
	case strings.HasPrefix(w, "track-sc"):
		return "track-sc"
	case strings.HasPrefix(w, "sc-inc-gpc0"):
		return "sc-inc-gpc0"
	case strings.HasPrefix(w, "sc-inc-gpc1"):
		return "sc-inc-gpc1"
	case strings.HasPrefix(w, "sc-inc-gpc"):
		return "sc-inc-gpc"
	case strings.HasPrefix(w, "sc-set-gpt0"):
		return "sc-set-gpt0"
	case strings.HasPrefix(w, "sc-set-gpt"):
		return "sc-set-gpt"
	}
	return ""
}

// parseStickAction reads a stick-table action: a[0] is the action word,
// args the words before if/unless. It returns the action, the sample
// expression (track-sc's key, sc-set-gpt's value when not an integer) and
// HAProxy's message for a bad form (parse_http_track_sc, parse_inc_gpc,
// parse_set_gpt, cfg_parse_track_sc_num); tcp is set for tcp-request
// rules, whose track-sc messages differ. extra is the index of the first
// word the action did not take, or -1.
func parseStickAction(w string, args []string, tcp bool) (sa *StickAction, expr string, extra int, msg string) {
	sa = &StickAction{Idx: -1}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	used := 0
	switch stickActionName(w) {
	case "track-sc":
		num := w[len("track-sc"):]
		n, err := strconv.ParseUint(num, 10, 64)
		switch {
		case err != nil && !isDigits(num):
			return nil, "", -1, "Wrong track-sc number '" + num + "'"
		case err != nil || n > 2:
			return nil, "", -1, strconv.FormatUint(n, 10) + " track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value"
		}
		sa.SC = int(n)
		if arg(0) == "" {
			return nil, "", -1, "missing fetch method"
		}
		expr, used = arg(0), 1
		if arg(1) == "table" {
			if arg(2) == "" {
				return nil, "", -1, "missing table name"
			}
			sa.Table, used = arg(2), 3
		}
	case "sc-inc-gpc0", "sc-inc-gpc1":
		sc, ok := scSuffix(w[len("sc-inc-gpc0"):])
		if !ok {
			return nil, "", -1, "invalid stick table track ID. Expects " + w + "(<Track ID>)"
		}
		if sc > 2 {
			return nil, "", -1, "invalid stick table track ID. The max allowed ID is 2"
		}
		sa.SC = sc
	case "sc-inc-gpc", "sc-set-gpt":
		kind, what := "gpc", "sc-inc-gpc"
		if strings.HasPrefix(w, "sc-set-gpt") {
			kind, what = "gpt", "sc-set-gpt"
		}
		rest, ok := strings.CutPrefix(w[len(what):], "(")
		if !ok {
			return nil, "", -1, "invalid " + kind + " ID '" + w + "'. Expects " + what + "(<" + strings.ToUpper(kind) + " ID>,<Track ID>)"
		}
		idx, n := leadingUint(rest)
		if n == len(rest) || rest[n] != ',' {
			return nil, "", -1, "Missing " + kind + " ID '" + w + "'. Expects " + what + "(<" + strings.ToUpper(kind) + " ID>,<Track ID>)"
		}
		sc, ok := scSuffix("(" + rest[n+1:])
		if !ok {
			return nil, "", -1, "invalid stick table track ID '" + w + "'. Expects " + what + "(<" + strings.ToUpper(kind) + " ID>,<Track ID>)"
		}
		if sc > 2 {
			return nil, "", -1, "invalid stick table track ID '" + w + "'. The max allowed ID is 2"
		}
		sa.Idx, sa.SC = idx, sc
	case "sc-set-gpt0":
		sc, ok := scSuffix(w[len("sc-set-gpt0"):])
		if !ok {
			return nil, "", -1, "invalid stick table track ID '" + w + "'. Expects sc-set-gpt0(<Track ID>)"
		}
		if sc > 2 {
			return nil, "", -1, "invalid stick table track ID '" + w + "'. The max allowed ID is 2"
		}
		sa.SC = sc
	}
	if strings.HasPrefix(w, "sc-set-gpt") {
		// An integer (strtol takes an empty word as 0) or an expression.
		v := arg(0)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil || v == "" {
			sa.Value = n
		} else {
			expr = v
		}
		used = 1
		if v == "" {
			used = 0
		}
	}
	if used < len(args) {
		return sa, expr, used, ""
	}
	return sa, expr, -1, ""
}

// scSuffix reads "(<n>)" after an action name; an empty suffix is 0.
func scSuffix(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	if len(s) < 2 || s[0] != '(' {
		return 0, false
	}
	n, used := leadingInt(s[1:])
	if used+1 >= len(s) || s[used+1] != ')' {
		return 0, false
	}
	return n, true
}

// leadingInt is strtol: an optional sign and the digits at the start
// of s, with the number of bytes read.
func leadingInt(s string) (int, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	v, n := leadingUint(s[i:])
	if n == 0 {
		return 0, 0
	}
	if neg {
		v = -v
	}
	return v, i + n
}

func leadingUint(s string) (int, int) {
	v, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v < 1<<30 {
			v = v*10 + int(s[i]-'0')
		}
		i++
	}
	return v, i
}

func isDigits(s string) bool {
	_, n := leadingUint(s)
	return n == len(s) && s != ""
}

// checkStickWords reports a bad stick-table action of an http-request or
// http-response rule as HAProxy does, which then stops reading the file.
func checkStickWords(c *pctx) bool {
	if stickActionName(c.arg(1)) == "" {
		return true
	}
	words := cutCond(c.args[2:])
	_, expr, extra, msg := parseStickAction(c.args[1], words, false)
	if msg == "" && expr != "" {
		// The expression is parsed before the words after it.
		msg = fetchDiag(expr)
	}
	if msg == "missing fetch method" {
		// HAProxy reads the expression from the next word, whatever it
		// is ("if" included).
		msg = fetchDiag(c.arg(2))
	}
	p := c.cp.proxy
	switch {
	case msg != "":
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s.", ProxyTypeStr(p), p.Name, c.args[0], c.args[1], msg)
	case extra >= 0:
		c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", c.args[0], c.args[1], words[extra])})
	default:
		return true
	}
	c.cp.cfg.AbortAfterFile = true
	c.cp.abort = true
	return false
}

// checkTCPStick reports a bad stick-table action of a tcp-request rule
// (args start with the stage) as tcp_parse_request_rule does.
func checkTCPStick(c *pctx, args []string) bool {
	if len(args) < 2 || stickActionName(args[1]) == "" {
		return true
	}
	words := cutCond(args[2:])
	_, _, extra, msg := parseStickAction(args[1], words, true)
	p := c.cp.proxy
	switch {
	case msg != "" && strings.HasPrefix(args[1], "track-sc"):
		c.alert("'%s %s %s' : %s", c.args[0], args[0], args[1], msg)
	case msg != "":
		c.alert("%s", msg)
	case extra >= 0:
		c.alert("'%s %s %s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", c.args[0], args[0], args[1], ProxyTypeStr(p), p.Name, words[extra])
	default:
		return true
	}
	return false
}

// cutCond returns the words before the first if/unless.
func cutCond(words []string) []string {
	for i, w := range words {
		if w == "if" || w == "unless" {
			return words[:i]
		}
	}
	return words
}

// kwStickTable keeps a proxy's stick-table line for the runtime.
func kwStickTable(c *pctx) {
	p := c.cp.proxy
	if p.Cap&CapDef != 0 {
		c.alert("'stick-table' is not supported in 'defaults' section.")
		return
	}
	// A second line names the same table: the runtime reports the
	// conflict once it knows which lines are valid.
	p.StickTables = append(p.StickTables, &StickTable{Pos: c.pos, Words: append([]string(nil), c.args...)})
}

// kwStick reads "stick on|match|store-request|store-response <pattern>
// [table <t>] [if|unless <cond>]" (cfgparse-listen.c).
func kwStick(c *pctx) {
	r := &StickRule{Pos: c.pos}
	switch c.arg(1) {
	case "store", "store-request":
		r.Store = true
	case "store-response":
		r.Store, r.Response = true, true
	case "match":
		r.Match = true
	case "on":
		r.Match, r.Store = true, true
	default:
		c.alert("'%s' expects 'on', 'match', or 'store'.", c.args[0])
		return
	}
	if c.arg(2) == "" {
		c.alert("'%s' expects a fetch method.", c.args[0])
		return
	}
	r.Expr = c.arg(2)
	r.Where = stickPlaces(r.Response)
	if !c.checkStickExpr(r) {
		return
	}
	i := 3
	if c.arg(i) == "table" {
		r.Table = c.arg(i + 1)
		i += 2
	}
	if w := c.arg(i); w == "if" || w == "unless" {
		r.Cond = c.rest(i)
		if !c.cp.checkCondACLs(c, r.Cond, "sticking condition") {
			return
		}
		c.warnCondConflict(r.Cond, r.Where)
	} else if w != "" {
		c.alert("'%s': unknown keyword '%s'.", c.args[0], w)
		return
	}
	p := c.cp.proxy
	p.StickRules = append(p.StickRules, r)
}
