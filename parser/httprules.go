package parser

import (
	"os"
	"strconv"
	"strings"
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
	// Status is the answer's status (deny, return, redirect code,
	// set-status), 0 for the action's default; Reason set-status's.
	Status int
	Reason string
	// ContentType, Body and BodyFmt are the answer's payload (return,
	// deny): Body literal or from a file, BodyFmt a log-format string.
	ContentType, Body, BodyFmt string
	// DefaultErrorfiles answers with the error page of Status.
	DefaultErrorfiles bool
	// Hdrs are the answer's "hdr <name> <fmt>" headers.
	Hdrs [][2]string
	// Redirect: location, prefix or scheme, and its options.
	RedirType              string
	DropQuery, AppendSlash bool
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
	// Refused is the runtime's message for a form it does not run.
	Refused string
}

// httpRuleForms lists the actions the runtime runs, by keyword.
var httpRuleForms = map[string]map[string]bool{
	"http-request": {"set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "set-path": true, "set-pathq": true, "set-query": true, "set-uri": true,
		"set-method": true, "replace-path": true, "replace-pathq": true, "replace-uri": true, "deny": true,
		"allow": true, "return": true, "redirect": true, "set-src": true, "set-dst": true, "set-src-port": true,
		"set-dst-port": true, "reject": true, "tarpit": true, "auth": true, "silent-drop": true, "disable-l7-retry": true},
	"http-after-response": {"set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "set-status": true, "allow": true},
	"http-response": {"set-var": true, "set-var-fmt": true, "unset-var": true, "set-header": true, "add-header": true, "del-header": true, "replace-header": true,
		"replace-value": true, "deny": true, "allow": true, "return": true, "redirect": true, "set-status": true},
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
	// The condition starts at the first if/unless.
	args := a[1:]
	for i, w := range args {
		if w == "if" || w == "unless" {
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
	case "set-src", "set-dst", "set-src-port", "set-dst-port", "set-var":
		r.Expr = arg(0)
		if len(args) != 1 {
			refuse()
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
		case "default-errorfiles":
			r.DefaultErrorfiles = true
		case "hdr":
			n := next()
			r.Hdrs = append(r.Hdrs, [2]string{n, next()})
		default:
			// errorfile, errorfiles, lf-file and the rest.
			refuse()
			return
		}
	}
}

// parseRedirect reads "location|prefix|scheme <fmt> [code N] [option]..."
// (http_parse_redirect_rule).
func parseRedirect(r *HTTPRule, a []string, refuse func()) {
	if len(a) < 2 {
		refuse()
		return
	}
	r.RedirType, r.Fmt = a[0], a[1]
	switch r.RedirType {
	case "location", "prefix", "scheme":
	default:
		refuse()
		return
	}
	for i := 2; i < len(a); i++ {
		switch a[i] {
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
}
