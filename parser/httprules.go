package parser

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
)

// HTTPRule is an http-request or http-response rule, or a "redirect"
// line, read once for the runtime.
type HTTPRule struct {
	Pos Pos
	// Keyword is http-request, http-response or redirect; Action the
	// action ("redirect" for the redirect keyword).
	Keyword, Action string
	// Text is the words after the keyword, for messages.
	Text string
	// Name is a header name; Fmt a log-format value (header value, path,
	// URI, method, redirect target); Regex a pattern to replace with Fmt.
	Name, Fmt, Regex string
	// Match is del-header's "-m" method ("" for the exact name).
	Match string
	// Resolvers and Family are do-resolve's section and "ipv4"/"ipv6"
	// (Var the variable, Expr the name to resolve).
	Resolvers, Family string
	// Status is the answer's status (deny, return, redirect code,
	// set-status), 0 for the action's default, or set-mark's and
	// set-tos's value; Reason set-status's.
	Status int
	Reason string
	// ContentType, Body and BodyFmt are the answer's payload (return,
	// deny): Body literal or from a file, BodyFmt a log-format string.
	ContentType, Body, BodyFmt string
	// DefaultErrorfiles answers with the error page of Status;
	// Errorfile with a whole HTTP message from a file; Errorfiles with
	// the page of Status from that http-errors section (Config.ReplyPage).
	DefaultErrorfiles bool
	Errorfile         []byte
	Errorfiles        string
	// Hdrs are the answer's "hdr <name> <fmt>" headers.
	Hdrs [][2]string
	// Redirect: location, prefix or scheme, and its options.
	RedirType              string
	DropQuery, AppendSlash bool
	// IgnoreEmpty skips the redirect when its target renders empty.
	IgnoreEmpty            bool
	SetCookie, ClearCookie string
	// Expr is a sample expression (set-src, set-dst and their ports,
	// set-var).
	Expr string
	// Var is the "scope.name" of set-var, set-var-fmt and unset-var.
	Var string
	// Realm is auth's realm, "" for the proxy's name.
	Realm string
	// Cache is the cache section of cache-use and cache-store.
	Cache string
	// Cond is the words of the if/unless condition, nil when none.
	Cond []string
	// Stick is the operand of the stick-table actions (track-sc,
	// sc-inc-gpc*, sc-set-gpt*), nil for the others.
	Stick *StickAction
	// MapValue is set-map's value format (Name is the reference, Fmt
	// the key, for add-acl, del-acl, set-map and del-map).
	MapValue string
	// AtLeast is wait-for-body's byte count (0: the whole body).
	AtLeast int64
	// LogLevel is set-log-level's level (LevelSilent for silent).
	LogLevel int
	// Nice is set-nice's value, within -1024..1024.
	Nice int
	// Timeout is set-timeout's fixed value, Expr its sample otherwise;
	// Name says which timeout (server or tunnel).
	Timeout time.Duration
	// CaptureLen is the length of the slot a capture rule declares,
	// CaptureID the slot it fills.
	CaptureLen, CaptureID int
	// Refused is the runtime's message for a form it does not run.
	Refused string
	// Where are the check places the rule runs at (Proxy.HTTPPlaces).
	Where smpuse.Val
}

// httpRuleForms lists the actions the runtime runs, by keyword.
var httpRuleForms = map[string]map[string]bool{
	"http-request": {"do-resolve": true, "set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "set-path": true, "set-pathq": true, "set-query": true, "set-uri": true,
		"set-method": true, "replace-path": true, "replace-pathq": true, "replace-uri": true, "deny": true,
		"allow": true, "return": true, "redirect": true, "set-src": true, "set-dst": true, "set-src-port": true,
		"set-dst-port": true, "reject": true, "tarpit": true, "auth": true, "silent-drop": true, "disable-l7-retry": true,
		"capture": true, "set-log-level": true, "set-timeout": true,
		"add-acl": true, "del-acl": true, "set-map": true, "del-map": true,
		"early-hint": true, "wait-for-body": true, "set-mark": true, "set-tos": true, "wait-for-handshake": true,
		"normalize-uri": true, "strict-mode": true, "use-service": true,
		"set-priority-class": true, "set-priority-offset": true, "set-nice": true},
	"http-after-response": {"set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "set-status": true, "allow": true},
	"http-response": {"set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "deny": true, "allow": true, "return": true, "redirect": true, "set-status": true,
		"capture": true, "set-log-level": true, "set-nice": true,
		"add-acl": true, "del-acl": true, "set-map": true, "del-map": true, "set-mark": true, "set-tos": true,
		"strict-mode": true, "wait-for-body": true},
}

// rawRuleWords is how many of its words w an HTTP action's parser takes
// whatever they are, "if" and "unless" included, before the rule's
// condition: the header and request-line actions' (ruleArity), the key
// and value of the map and ACL actions, a status and its reason, a
// service's name, a SPOE engine and group, a nice or mark value.
func rawRuleWords(action string, w []string) int {
	if a, ok := ruleArity[action]; ok && a.raw {
		if action == "del-header" && len(w) > 1 && w[1] == "-m" {
			return 3
		}
		return a.min
	}
	switch action {
	case "add-acl", "del-acl", "del-map", "use-service", "set-nice", "set-mark", "set-tos", "strict-mode":
		return 1
	case "set-map", "send-spoe-group", "set-timeout":
		return 2
	case "set-status":
		if len(w) > 1 && w[1] == "reason" {
			return 3
		}
		return 1
	}
	return 0
}

// parseHTTPRule reads the words of a rule line (after the keyword).
func parseHTTPRule(pos Pos, kw string, a []string) *HTTPRule {
	r := &HTTPRule{Pos: pos, Keyword: kw, Text: strings.Join(a, " ")}
	if kw == "redirect" {
		r.Action = "redirect"
		a = append([]string{"redirect"}, a...)
	} else if len(a) > 0 {
		r.Action = a[0]
		// set-var(scope.name) and its kin carry the variable.
		for _, v := range []string{"set-var", "set-var-fmt", "unset-var"} {
			if strings.HasPrefix(a[0], v+"(") && strings.HasSuffix(a[0], ")") {
				r.Action, r.Var = v, a[0][len(v)+1:len(a[0])-1]
			}
		}
		if v, res, fam, ok := parseDoResolve(a[0]); ok {
			r.Action, r.Var, r.Resolvers, r.Family = "do-resolve", v, res, fam
		}
		// add-acl(<ref>) and its kin carry the pattern reference.
		for _, v := range []string{"add-acl", "del-acl", "set-map", "del-map"} {
			if strings.HasPrefix(a[0], v+"(") && strings.HasSuffix(a[0], ")") {
				r.Action, r.Name = v, a[0][len(v)+1:len(a[0])-1]
			}
		}
	}
	refuse := func() {
		if r.Refused == "" {
			r.Refused = "'" + kw + " " + r.Text + "' is not supported by the gohap runtime yet."
		}
	}
	if name := stickActionName(r.Action); name != "" && (kw == "http-request" || kw == "http-response") {
		r.Action = name
		args := a[1:]
		for i, w := range args {
			if w == "if" || w == "unless" {
				r.Cond, args = args[i:], args[:i]
				break
			}
		}
		var msg string
		if r.Stick, r.Expr, _, msg = parseStickAction(a[0], args, false); msg != "" {
			refuse()
		}
		return r
	}
	if !httpRuleForms[kw][r.Action] && kw != "redirect" {
		refuse()
		return r
	}
	// The condition starts at the first if/unless after the words the
	// action takes whatever they are.
	args := a[1:]
	for i := min(rawRuleWords(r.Action, args), len(args)); i < len(args); i++ {
		if w := args[i]; w == "if" || w == "unless" {
			r.Cond, args = args[i:], args[:i]
			break
		}
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch r.Action {
	case "set-header", "add-header":
		r.Name, r.Fmt = arg(0), arg(1)
	case "replace-header", "replace-value":
		r.Name, r.Regex, r.Fmt = arg(0), arg(1), arg(2)
	case "del-header":
		r.Name = arg(0)
		if arg(1) == "-m" {
			r.Match = arg(2)
			switch r.Match {
			case "str", "beg", "end", "sub", "reg":
			default:
				refuse()
			}
		} else if len(args) > 1 {
			refuse()
		}
	case "set-path", "set-pathq", "set-query", "set-uri", "set-method":
		r.Fmt = arg(0)
	case "set-src", "set-dst", "set-src-port", "set-dst-port", "set-var", "do-resolve", "set-priority-class", "set-priority-offset":
		r.Expr = arg(0)
		if len(args) != 1 {
			refuse()
		}
	case "capture":
		// capture <sample> len <n> | id <n> (id only in responses): the
		// length as atoi reads it, the id as strtol to the word's end.
		r.Expr = arg(0)
		switch {
		case arg(1) == "len" && kw == "http-request" && atoi(arg(2)) > 0:
			r.CaptureLen = atoi(arg(2))
		case arg(1) == "id":
			// HAProxy keeps strtol's long in an int; a negative slot
			// passes its check and is refused here.
			n, _ := strtol10(arg(2))
			if r.CaptureID = int(int32(n)); r.CaptureID < 0 {
				refuse()
			}
		default:
			refuse()
		}
	case "normalize-uri":
		// The normalizer and its option, read by the runtime.
		r.Name = strings.Join(args, " ")
		if _, msg := normalizerWords(args); msg != "" {
			refuse()
		}
	case "set-mark", "set-tos":
		// A number as strtoul reads it (0x for hex, 0 for octal).
		n, err := strconv.ParseUint(arg(0), 0, 32)
		if len(args) != 1 || err != nil {
			refuse()
		}
		r.Status = int(n)
	case "strict-mode":
		// Status carries on (1) or off (0).
		switch {
		case len(args) == 1 && args[0] == "on":
			r.Status = 1
		case len(args) == 1 && args[0] == "off":
		default:
			refuse()
		}
	case "wait-for-handshake":
		if len(args) != 0 {
			refuse()
		}
	case "use-service":
		// The Prometheus exporter is the one service gohap has.
		r.Name = arg(0)
		if r.Name != "prometheus-exporter" || len(args) != 1 {
			refuse()
		}
	case "early-hint":
		r.Name, r.Fmt = arg(0), arg(1)
		if len(args) != 2 {
			refuse()
		}
	case "wait-for-body":
		// wait-for-body time <time> [at-least <size>]
		d, res := parseTime(arg(1))
		ok := arg(0) == "time" && res == timeOK && (len(args) == 2 || len(args) == 4 && arg(2) == "at-least")
		if len(args) == 4 {
			n, good := parseSize(arg(3))
			ok = ok && good
			r.AtLeast = n
		}
		r.Timeout = d
		if !ok {
			refuse()
		}
	case "add-acl", "del-acl", "del-map":
		r.Fmt = arg(0)
		if len(args) != 1 {
			refuse()
		}
	case "set-map":
		r.Fmt, r.MapValue = arg(0), arg(1)
		if len(args) != 2 {
			refuse()
		}
	case "set-log-level":
		var ok bool
		if r.LogLevel, ok = parseLogLevel(args); !ok {
			refuse()
		}
	case "set-nice":
		if len(args) != 1 {
			refuse()
		}
		r.Nice = ParseNice(arg(0))
	case "set-timeout":
		// set-timeout server|tunnel <time>|<expr>
		r.Name = arg(0)
		if len(args) != 2 || r.Name != "server" && r.Name != "tunnel" {
			refuse()
		} else if d, res := parseTime(arg(1)); res == timeOK {
			r.Timeout = d
		} else {
			r.Expr = arg(1)
		}
	case "set-var-fmt":
		r.Fmt = arg(0)
	case "unset-var":
		if len(args) != 0 {
			refuse()
		}
	case "replace-path", "replace-pathq", "replace-uri":
		r.Regex, r.Fmt = arg(0), arg(1)
	case "allow", "reject", "silent-drop", "disable-l7-retry":
		if len(args) > 0 {
			refuse()
		}
	case "tarpit":
		parseReturn(r, args, refuse)
	case "auth":
		switch {
		case len(args) == 0:
		case len(args) == 2 && args[0] == "realm":
			r.Realm = args[1]
		default:
			refuse()
		}
	case "set-status":
		r.Status, _ = strconv.Atoi(arg(0))
		if arg(1) == "reason" {
			r.Reason = arg(2)
		} else if len(args) > 1 {
			refuse()
		}
	case "cache-use", "cache-store":
		r.Cache = arg(0)
		if len(args) != 1 {
			refuse()
		}
	case "deny", "return":
		parseReturn(r, args, refuse)
	case "redirect":
		parseRedirect(r, args, refuse)
	}
	return r
}

// parseReturn reads the answer of deny and return: status, content
// type, payload and headers (http_parse_http_reply).
func parseReturn(r *HTTPRule, a []string, refuse func()) {
	for i := 0; i < len(a); i++ {
		next := func() string {
			i++
			if i < len(a) {
				return a[i]
			}
			return ""
		}
		switch a[i] {
		case "status", "deny_status":
			r.Status, _ = strconv.Atoi(next())
		case "content-type":
			r.ContentType = next()
		case "string":
			r.Body = next()
		case "lf-string":
			r.BodyFmt = next()
		case "file":
			b, err := os.ReadFile(next())
			if err != nil {
				refuse()
			}
			r.Body = string(b)
		case "lf-file":
			b, err := os.ReadFile(next())
			if err != nil {
				refuse()
			}
			r.BodyFmt = string(b)
		case "default-errorfiles":
			r.DefaultErrorfiles = true
		case "errorfile":
			b, err := os.ReadFile(next())
			if err != nil {
				refuse()
			}
			// An empty file closes without an answer.
			r.Errorfile = append([]byte{}, b...)
		case "errorfiles":
			r.Errorfiles = next()
		case "hdr":
			n := next()
			r.Hdrs = append(r.Hdrs, [2]string{n, next()})
		default:
			refuse()
			return
		}
	}
}

// normalizerWords checks the words of a normalize-uri rule before its
// condition (parse_http_normalize_uri): how many it uses, or HAProxy's
// message.
func normalizerWords(a []string) (int, string) {
	if len(a) == 0 {
		return 0, "missing argument <normalizer>"
	}
	opt := map[string]string{"path-strip-dotdot": "full", "percent-to-uppercase": "strict", "percent-decode-unreserved": "strict"}
	switch a[0] {
	case "path-merge-slashes", "path-strip-dot", "query-sort-by-name", "fragment-strip", "fragment-encode":
		return 1, ""
	}
	o, ok := opt[a[0]]
	if !ok {
		return 0, fmt.Sprintf("unknown normalizer '%s'", a[0])
	}
	if len(a) > 1 && a[1] == o {
		return 2, ""
	}
	if len(a) > 1 {
		return 0, fmt.Sprintf("unknown argument '%s' for '%s' normalizer", a[1], a[0])
	}
	return 1, ""
}

// parseSize reads a byte count with an optional k, m or g unit
// (parse_size_err).
func parseSize(v string) (int64, bool) {
	u, i, ok := leadingDigits(v)
	if !ok {
		return 0, false
	}
	n := int64(u)
	switch strings.ToLower(v[i:]) {
	case "":
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	default:
		return 0, false
	}
	return n, true
}

// parseLogLevel reads set-log-level's one argument.
func parseLogLevel(args []string) (int, bool) {
	if len(args) != 1 {
		return 0, false
	}
	if args[0] == "silent" {
		return LevelSilent, true
	}
	l := logfmt.ParseLevel(args[0])
	return int(l), l >= 0
}

// ReplyPage is the page a deny, return or tarpit rule answers with when
// it names an errorfile or an http-errors section, nil otherwise.
func (cfg *Config) ReplyPage(r *HTTPRule, status int) []byte {
	if r.Errorfile != nil {
		return r.Errorfile
	}
	if r.Errorfiles == "" {
		return nil
	}
	for _, s := range cfg.HTTPErrors {
		if s.Name == r.Errorfiles {
			if p := s.Pages[status]; p != nil {
				return p
			}
			// HAProxy then answers the bare status line.
			return []byte("HTTP/1.1 " + strconv.Itoa(status) + " " + ReasonPhrase(status) + "\r\ncontent-length: 0\r\n\r\n")
		}
	}
	return nil
}

// parseRedirect reads "location|prefix|scheme <fmt> [code N] [option]..."
// (http_parse_redirect_rule).
func parseRedirect(r *HTTPRule, a []string, refuse func()) {
	if len(a) < 2 {
		refuse()
		return
	}
	// The options come in any order, the target among them.
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "location", "prefix", "scheme":
			if i+1 >= len(a) {
				refuse()
				return
			}
			r.RedirType, r.Fmt = a[i], a[i+1]
			i++
		case "ignore-empty":
			r.IgnoreEmpty = true
		case "code":
			if i+1 < len(a) {
				i++
				r.Status, _ = strconv.Atoi(a[i])
			}
		case "drop-query":
			r.DropQuery = true
		case "append-slash":
			r.AppendSlash = true
		case "set-cookie", "clear-cookie":
			if i+1 < len(a) {
				i++
				if a[i-1] == "set-cookie" {
					r.SetCookie = a[i]
				} else {
					r.ClearCookie = a[i]
				}
			}
		default:
			refuse()
			return
		}
	}
	if r.RedirType == "" {
		refuse()
	}
}

// ParseNice reads set-nice's value as HAProxy does: atoi's leading
// number (0 when there is none), clamped to -1024..1024.
func ParseNice(w string) int { return max(-1024, min(1024, Atol(w))) }
