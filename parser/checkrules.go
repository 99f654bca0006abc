package parser

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// CheckRule is one "http-check" or "tcp-check" line, read once here so
// that the runtime builds the check from fields.
type CheckRule struct {
	Pos Pos
	// Keyword is "http-check" or "tcp-check"; Action the word after it
	// (comment, connect, send, send-lf, send-binary, expect, ...).
	Keyword, Action string
	// Text is the rule's words after the keyword, for messages.
	Text string
	// Comment is the text of a "comment" rule or of a rule's comment
	// option.
	Comment string
	// Port and Linger are a connect rule's options; Addr its address
	// (host, or host:port), Proto its mux protocol, Default that it
	// takes the server's check settings.
	Port      string
	Linger    bool
	Addr      string
	Proto     string
	Default   bool
	SendProxy bool
	// ViaSocks4 connects through the server's SOCKS4 proxy.
	ViaSocks4 bool
	// SSL is a connect rule's "ssl", SNI and ALPN its "sni" and "alpn".
	SSL       bool
	SNI, ALPN string
	// Var names the variable of a set-var or unset-var rule
	// ("check.name[,cond...]"), Expr is set-var's sample expression or
	// set-var-fmt's format.
	Var, Expr string
	// Send is an http-check send rule's request parts.
	Send CheckSend
	// Data is what a tcp-check send or send-binary rule writes; with LF
	// it is the log-format of send-lf or send-binary-lf.
	Data []byte
	LF   bool
	// Expect is an expect rule.
	Expect CheckExpect
	// Refused is the runtime's message for a form it does not run; the
	// rest of the rule is then not filled.
	Refused string
}

// CheckSend is the request of "option httpchk" or "http-check send".
type CheckSend struct {
	Meth, URI, Ver, Body string
	// Header values are log-format strings; URILF and BodyLF say the URI
	// and the body are too (uri-lf, body-lf).
	Hdrs          [][2]string
	URILF, BodyLF bool
}

// CheckExpect is an expect rule: "[!] <match> <pattern>", and for
// http-check's hdr/fhdr the name and value patterns with their methods.
type CheckExpect struct {
	Neg bool
	// Match is status, rstatus, string, rstring, binary, hdr or fhdr.
	Match, Pattern string
	// Binary is the decoded pattern of "binary".
	Binary                 []byte
	HdrNameMeth, HdrName   string
	HdrValueMeth, HdrValue string
	HasValue, Full         bool
	// NameLF and ValueLF make the header patterns log-format strings
	// (name-lf, value-lf).
	NameLF, ValueLF bool
	// MinRecv is min-recv when HasMinRecv.
	MinRecv    int
	HasMinRecv bool
	// OnSuccess and OnError are the log-format infos of the reports;
	// OkStatus, ErrStatus and ToutStatus the statuses given in place of
	// the rule's own (L7OK, L7STS...); StatusCode the sample expression
	// of the reported code.
	OnSuccess, OnError              string
	OkStatus, ErrStatus, ToutStatus string
	StatusCode                      string
}

// expectStatuses are the statuses each expect option accepts, with
// HAProxy's message for another.
var expectStatuses = map[string]struct {
	names []string
	msg   string
}{
	"ok-status":    {[]string{"L7OK", "L7OKC", "L6OK", "L4OK"}, "'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '%s')."},
	"error-status": {[]string{"L7RSP", "L7STS", "L7OKC", "L6RSP", "L4CON"}, "'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '%s')."},
	"tout-status":  {[]string{"L7TOUT", "L6TOUT", "L4TOUT"}, "'tout-status' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '%s')."},
}

// expectOptions takes the options of an expect rule out of its words
// (comment, min-recv, on-success, on-error, the statuses and
// status-code); msg is HAProxy's error for a bad one.
func expectOptions(e *CheckExpect, comment *string, a []string) (rest []string, msg string) {
	for i := 0; i < len(a); i++ {
		kw := a[i]
		switch kw {
		case "comment", "min-recv", "on-success", "on-error", "ok-status", "error-status", "tout-status", "status-code":
		default:
			rest = append(rest, kw)
			continue
		}
		if i+1 >= len(a) {
			return nil, "'" + kw + "' expects an argument."
		}
		v := a[i+1]
		i++
		switch kw {
		case "comment":
			*comment = v
		case "min-recv":
			n, err := strconv.Atoi(v)
			if err != nil || n < -1 {
				return nil, "'min-recv' expects -1 or an integer from 0 to INT_MAX"
			}
			e.MinRecv, e.HasMinRecv = n, n >= 0
		case "on-success":
			e.OnSuccess = v
		case "on-error":
			e.OnError = v
		case "status-code":
			e.StatusCode = v
		default:
			st := expectStatuses[kw]
			found := ""
			for _, n := range st.names {
				if strings.EqualFold(n, v) {
					found = n
				}
			}
			if found == "" {
				return nil, strings.Replace(st.msg, "%s", v, 1)
			}
			switch kw {
			case "ok-status":
				e.OkStatus = found
			case "error-status":
				e.ErrStatus = found
			default:
				e.ToutStatus = found
			}
		}
	}
	return rest, ""
}

// CheckOpts holds the arguments of the check options, read when the
// option is set.
type CheckOpts struct {
	// HTTPChk is the request of "option httpchk", shared by the proxies
	// that inherit it.
	HTTPChk *CheckSend
	// SMTPHello is "HELO|EHLO <domain>" of option smtpchk.
	SMTPHello string
	// MySQLUser and MySQLPre41 are option mysql-check's user and pre-41.
	MySQLUser  string
	MySQLPre41 bool
	// PgSQLUser is option pgsql-check's user.
	PgSQLUser string
	// DisableOn404 and SendState are "http-check disable-on-404" and
	// "http-check send-state": proxy options, not rules, inherited with
	// the others.
	DisableOn404, SendState bool
	// NoRequest is set when the proxy's own http-check rules replace
	// those of an inherited option httpchk: its request is not part of
	// them, and without a send rule HAProxy's first step sends nothing.
	NoRequest bool
}

// setCheckOption reads the arguments of a check option.
func (p *Proxy) setCheckOption(name string, args []string) {
	p.checkType(name)
	switch name {
	case "httpchk":
		s := &CheckSend{Meth: "OPTIONS", URI: "/", Ver: "HTTP/1.0"}
		switch len(args) {
		case 0:
		case 1:
			s.URI = args[0]
		case 2:
			s.Meth, s.URI = args[0], args[1]
		default:
			s.Meth, s.URI, s.Ver = args[0], args[1], args[2]
		}
		// The 1.x trick: headers after the version, separated by CRLF.
		if ver, rest, ok := strings.Cut(s.Ver, "\r\n"); ok {
			s.Ver = ver
			for _, l := range strings.Split(rest, "\r\n") {
				if name, value, ok := strings.Cut(l, ":"); ok {
					s.Hdrs = append(s.Hdrs, [2]string{name, strings.TrimLeft(value, " \t")})
				}
			}
		}
		p.CheckOpts.HTTPChk = s
		p.CheckOpts.NoRequest = false
		p.ownHTTPChk = true
		// A proxy's own option httpchk starts a new rule set: the
		// http-check rules of its defaults are not kept.
		if !p.ownHTTPChecks && p.Kind != "defaults" {
			p.HTTPChecks = nil
		}
	case "smtpchk":
		p.CheckOpts.SMTPHello = "HELO localhost"
		if len(args) >= 2 && (args[0] == "HELO" || args[0] == "EHLO") {
			p.CheckOpts.SMTPHello = args[0] + " " + args[1]
		}
	case "mysql-check":
		p.CheckOpts.MySQLUser, p.CheckOpts.MySQLPre41 = "", false
		if len(args) >= 2 {
			p.CheckOpts.MySQLUser, p.CheckOpts.MySQLPre41 = args[1], len(args) >= 3 && args[2] == "pre-41"
		}
	case "pgsql-check":
		p.CheckOpts.PgSQLUser = ""
		if len(args) >= 2 {
			p.CheckOpts.PgSQLUser = args[1]
		}
	}
}

// parseCheckRule reads the words after "http-check" or "tcp-check".
func parseCheckRule(pos Pos, kw string, a []string) *CheckRule {
	r := &CheckRule{Pos: pos, Keyword: kw, Action: a[0], Text: strings.Join(a, " ")}
	unsupported := func(what string) {
		if r.Refused == "" {
			r.Refused = "'" + kw + " " + what + "' is not supported by the gohap runtime yet."
		}
	}
	// set-var(name) <expr>, set-var-fmt(name) <fmt>, unset-var(name).
	for _, act := range []string{"set-var", "set-var-fmt", "unset-var"} {
		if rest, ok := strings.CutPrefix(a[0], act+"("); ok && strings.HasSuffix(rest, ")") {
			r.Action, r.Var = act, strings.TrimSuffix(rest, ")")
			switch {
			case act == "unset-var" && len(a) != 1:
				r.Refused = "'" + kw + " " + a[0] + "' expects no argument."
			case act != "unset-var" && len(a) < 2:
				r.Refused = "'" + kw + " " + a[0] + "' expects an expression."
			case act != "unset-var":
				r.Expr = strings.Join(a[1:], " ")
			}
			return r
		}
	}
	switch a[0] {
	case "comment":
		if len(a) > 1 {
			r.Comment = a[1]
		}
	case "connect":
		for i := 1; i < len(a); i++ {
			switch a[i] {
			case "default":
				r.Default = true
			case "linger":
				r.Linger = true
			case "send-proxy":
				r.SendProxy = true
			case "via-socks4":
				r.ViaSocks4 = true
			case "ssl":
				// HTTP checks over TLS connect rules are not run.
				if kw != "tcp-check" {
					unsupported("connect ssl")
				} else {
					r.SSL = true
				}
			case "port", "comment", "addr", "proto", "sni", "alpn":
				if i+1 >= len(a) {
					unsupported("connect " + a[i])
					break
				}
				v := a[i+1]
				switch a[i] {
				case "port":
					if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
						unsupported("connect port " + v)
					}
					r.Port = v
				case "addr":
					r.Addr = v
				case "sni", "alpn":
					if kw != "tcp-check" {
						unsupported("connect " + a[i])
					}
					if a[i] == "sni" {
						r.SNI = v
					} else {
						r.ALPN = v
					}
				case "proto":
					if v != "h1" && v != "h2" {
						unsupported("connect proto " + v)
					}
					r.Proto = v
				default:
					r.Comment = v
				}
				i++
			default:
				unsupported("connect " + a[i])
			}
		}
	case "disable-on-404", "send-state":
		if kw != "http-check" {
			unsupported(a[0])
		}
	case "send":
		if kw == "tcp-check" {
			if len(a) != 2 {
				r.Refused = "'tcp-check send' is only supported with one literal string by the gohap runtime yet."
			}
			r.Data = []byte(a[len(a)-1])
			break
		}
		if !parseCheckSend(&r.Send, a[1:]) {
			unsupported(strings.Join(a, " "))
		}
	case "send-binary", "send-binary-lf":
		if kw != "tcp-check" {
			unsupported(a[0])
			break
		}
		if a[0] == "send-binary-lf" {
			if len(a) != 2 {
				unsupported(a[0])
				break
			}
			r.Data, r.LF = []byte(a[1]), true
			break
		}
		b, err := hexArg(a[1:])
		if err != "" {
			r.Refused = "'tcp-check send-binary': " + err
		}
		r.Data = b
	case "expect":
		if kw == "tcp-check" {
			parseTCPExpect(r, a[1:])
		} else if !parseHTTPExpect(&r.Expect, &r.Comment, a[1:]) {
			unsupported(strings.Join(a, " "))
		}
	case "send-lf":
		if kw != "tcp-check" || len(a) != 2 {
			unsupported(a[0])
			break
		}
		r.Data, r.LF = []byte(a[1]), true
	default:
		unsupported(a[0])
	}
	return r
}

// parseCheckSend reads "http-check send" arguments.
func parseCheckSend(s *CheckSend, a []string) bool {
	for i := 0; i < len(a); i++ {
		if i+1 >= len(a) {
			return false
		}
		v := a[i+1]
		switch a[i] {
		case "meth":
			s.Meth = v
		case "uri", "uri-lf":
			s.URI, s.URILF = v, a[i] == "uri-lf"
		case "ver":
			s.Ver = v
		case "body", "body-lf":
			s.Body, s.BodyLF = v, a[i] == "body-lf"
		case "hdr":
			if i+2 >= len(a) {
				return false
			}
			s.Hdrs = append(s.Hdrs, [2]string{v, a[i+2]})
			i++
		default:
			return false
		}
		i++
	}
	return true
}

// parseHTTPExpect reads "http-check expect [!] <match> <pattern>" with
// "comment" anywhere, as HAProxy does.
func parseHTTPExpect(e *CheckExpect, comment *string, a []string) bool {
	a, msg := expectOptions(e, comment, a)
	if msg != "" {
		return false
	}
	var match []string
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "!":
			e.Neg = !e.Neg
		case "status", "rstatus", "string", "rstring", "string-lf":
			if i+1 >= len(a) || match != nil {
				return false
			}
			match = a[i : i+2]
			i++
		case "hdr", "fhdr":
			// hdr name [-m meth] <name> [value [-m meth] <value>] [full]
			j := i + 1
			for j < len(a) && a[j] != "!" {
				j++
			}
			if match != nil {
				return false
			}
			match = a[i:j]
			i = j - 1
		default:
			if w := strings.TrimLeft(a[i], "!"); match == nil && w != a[i] {
				// "!" glued to the match keyword.
				if (len(a[i])-len(w))%2 == 1 {
					e.Neg = !e.Neg
				}
				a[i] = w
				i--
				continue
			}
			return false
		}
	}
	if len(match) < 2 {
		return false
	}
	e.Match = match[0]
	if e.Match != "hdr" && e.Match != "fhdr" {
		e.Pattern = match[1]
		return true
	}
	e.Full = e.Match == "fhdr"
	a = match[1:]
	readPat := func(kw string, meth, pat *string, lf *bool) bool {
		if len(a) < 2 || a[0] != kw && a[0] != kw+"-lf" {
			return false
		}
		*lf, a = a[0] == kw+"-lf", a[1:]
		if len(a) >= 2 && a[0] == "-m" {
			*meth, a = a[1], a[2:]
		}
		if len(a) == 0 || *lf && *meth == "reg" {
			return false
		}
		*pat, a = a[0], a[1:]
		return true
	}
	if !readPat("name", &e.HdrNameMeth, &e.HdrName, &e.NameLF) {
		return false
	}
	if len(a) > 0 && (a[0] == "value" || a[0] == "value-lf") {
		if !readPat("value", &e.HdrValueMeth, &e.HdrValue, &e.ValueLF) {
			return false
		}
		e.HasValue = true
	}
	if len(a) > 0 && a[0] == "full" {
		e.Full, a = true, a[1:]
	}
	return len(a) == 0
}

// parseTCPExpect reads "tcp-check expect [min-recv N] [!] <match>
// <pattern>" with an optional comment.
func parseTCPExpect(r *CheckRule, a []string) {
	a, msg := expectOptions(&r.Expect, &r.Comment, a)
	if msg != "" {
		r.Refused = "'tcp-check expect' : " + msg
		return
	}
	var e []string
	for i := 0; i < len(a); i++ {
		if len(e) == 0 && strings.HasPrefix(a[i], "!") {
			// "!" inverts, alone or glued to the match keyword.
			w := a[i]
			for strings.HasPrefix(w, "!") {
				r.Expect.Neg, w = !r.Expect.Neg, w[1:]
			}
			if w == "" {
				continue
			}
			a[i] = w
		}
		e = append(e, a[i])
	}
	if len(e) != 2 {
		r.Refused = "'tcp-check expect " + strings.Join(a, " ") + "' is not supported by the gohap runtime yet."
		return
	}
	r.Expect.Match, r.Expect.Pattern = e[0], e[1]
	switch e[0] {
	case "string", "rstring", "string-lf", "rbinary", "binary-lf":
	case "binary":
		b, err := hexArg(e[1:])
		if err != "" {
			r.Refused = "'tcp-check expect binary': " + err
		}
		r.Expect.Binary = b
	default:
		r.Refused = "'tcp-check expect " + e[0] + "' is not supported by the gohap runtime yet."
	}
}

// hexArg decodes the one hexadecimal word of send-binary and binary.
func hexArg(args []string) ([]byte, string) {
	if len(args) != 1 || len(args[0])%2 != 0 {
		return nil, "expects one even-length hexadecimal string"
	}
	b, err := hex.DecodeString(args[0])
	if err != nil {
		return nil, "invalid hexadecimal string"
	}
	return b, ""
}

// checkType follows what a check option does to HAProxy's check type and
// rule set flags: an option that builds a rule set forgets the rules
// written before it that were left unused, except option tcp-check on a
// proxy already running tcp-check rules, which changes nothing.
func (p *Proxy) checkType(name string) {
	switch name {
	case "httpchk":
		p.chkOpt, p.chkProto = "tcpchk", "http"
	case "tcp-check":
		if p.chkProto == "tcp" {
			p.chkOpt = "tcpchk"
			return
		}
		p.chkOpt, p.chkProto = "tcpchk", "tcp"
	case "redis-check", "ssl-hello-chk", "smtpchk", "pgsql-check", "mysql-check", "ldap-check", "spop-check":
		p.chkOpt, p.chkProto = "tcpchk", "other"
	case "external-check":
		p.chkOpt = "ext"
		return
	default:
		return
	}
	p.UnusedHTTPChecks, p.UnusedTCPChecks = false, false
}

// checkRuleUse records an http-check or tcp-check rule line: it joins
// the check when the proxy runs that kind of check rules, else it waits
// for an option to take it up.
func (p *Proxy) checkRuleUse(http bool) {
	want := "tcp"
	if http {
		want = "http"
	}
	used := p.chkOpt == "tcpchk" && p.chkProto == want
	if http {
		p.UnusedHTTPChecks = !used
	} else {
		p.UnusedTCPChecks = !used
	}
}
