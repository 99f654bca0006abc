package parser

import (
	"encoding/hex"
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
	// Port and Linger are a connect rule's options.
	Port   string
	Linger bool
	// Send is an http-check send rule's request parts.
	Send CheckSend
	// Data is what a tcp-check send or send-binary rule writes.
	Data []byte
	// Expect is an expect rule.
	Expect CheckExpect
	// Refused is the runtime's message for a form it does not run; the
	// rest of the rule is then not filled.
	Refused string
}

// CheckSend is the request of "option httpchk" or "http-check send".
type CheckSend struct {
	Meth, URI, Ver, Body string
	Hdrs                 [][2]string
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
}

// setCheckOption reads the arguments of a check option.
func (p *Proxy) setCheckOption(name string, args []string) {
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
	switch a[0] {
	case "comment":
		if len(a) > 1 {
			r.Comment = a[1]
		}
	case "connect":
		for i := 1; i < len(a); i++ {
			switch a[i] {
			case "default":
			case "linger":
				r.Linger = true
			case "port", "comment":
				if i+1 < len(a) {
					if a[i] == "port" {
						r.Port = a[i+1]
					} else {
						r.Comment = a[i+1]
					}
					i++
				}
			default:
				unsupported("connect " + a[i])
			}
		}
	case "disable-on-404":
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
	case "send-binary":
		if kw != "tcp-check" {
			unsupported(a[0])
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
		if kw == "tcp-check" {
			r.Refused = "'tcp-check send-lf' is only supported with one literal string by the gohap runtime yet."
			break
		}
		unsupported(a[0])
	default:
		unsupported(a[0])
	}
	return r
}

// parseCheckSend reads "http-check send" arguments; log-format values
// are not run.
func parseCheckSend(s *CheckSend, a []string) bool {
	for i := 0; i < len(a); i++ {
		if i+1 >= len(a) {
			return false
		}
		v := a[i+1]
		if strings.Contains(v, "%") {
			return false
		}
		switch a[i] {
		case "meth":
			s.Meth = v
		case "uri":
			s.URI = v
		case "ver":
			s.Ver = v
		case "body":
			s.Body = v
		case "hdr":
			if i+2 >= len(a) || strings.Contains(a[i+2], "%") {
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
	var match []string
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "comment":
			if i+1 >= len(a) {
				return false
			}
			*comment = a[i+1]
			i++
		case "!":
			e.Neg = true
		case "status", "rstatus", "string", "rstring":
			if i+1 >= len(a) || match != nil {
				return false
			}
			match = a[i : i+2]
			i++
		case "hdr", "fhdr":
			// hdr name [-m meth] <name> [value [-m meth] <value>] [full]
			j := i + 1
			for j < len(a) && a[j] != "comment" && a[j] != "!" {
				j++
			}
			if match != nil {
				return false
			}
			match = a[i:j]
			i = j - 1
		default:
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
	readPat := func(kw string, meth, pat *string) bool {
		if len(a) < 2 || a[0] != kw {
			return false
		}
		a = a[1:]
		if len(a) >= 2 && a[0] == "-m" {
			*meth, a = a[1], a[2:]
		}
		if len(a) == 0 || strings.Contains(a[0], "%") {
			return false
		}
		*pat, a = a[0], a[1:]
		return true
	}
	if !readPat("name", &e.HdrNameMeth, &e.HdrName) {
		return false
	}
	if len(a) > 0 && a[0] == "value" {
		if !readPat("value", &e.HdrValueMeth, &e.HdrValue) {
			return false
		}
		e.HasValue = true
	}
	if len(a) > 0 && a[0] == "full" {
		e.Full, a = true, a[1:]
	}
	return len(a) == 0
}

// parseTCPExpect reads "tcp-check expect [!] string|rstring|binary <p>"
// with an optional comment.
func parseTCPExpect(r *CheckRule, a []string) {
	var e []string
	for i := 0; i < len(a); i++ {
		if a[i] == "comment" && i+1 < len(a) {
			r.Comment = a[i+1]
			i++
			continue
		}
		e = append(e, a[i])
	}
	if len(e) > 0 && e[0] == "!" {
		r.Expect.Neg, e = true, e[1:]
	}
	if len(e) != 2 {
		r.Refused = "'tcp-check expect " + strings.Join(a, " ") + "' is not supported by the gohap runtime yet."
		return
	}
	r.Expect.Match, r.Expect.Pattern = e[0], e[1]
	switch e[0] {
	case "string", "rstring":
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
