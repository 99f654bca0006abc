package parser

import (
	"fmt"
	"strings"

	"github.com/gohap/gohap/parser/smpuse"
)

// checkRuleMsg checks the arguments of an http-check or tcp-check rule as
// HAProxy's tcpcheck parsers read them, which both keywords share. It
// returns their message, which the caller wraps as "'<kw> <action>' : %s.",
// or "" when the rule reads.
func (c *pctx) checkRuleMsg(http bool) string {
	a := c.args[1:]
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	switch act := w(0); {
	case act == "connect":
		return checkConnectMsg(a, http)
	case act == "send" && http:
		return checkSendHTTPMsg(a)
	case !http && (act == "send" || act == "send-binary" || act == "send-lf" || act == "send-binary-lf"):
		return checkSendTCPMsg(a)
	case act == "expect":
		return checkExpectMsg(a, http)
	case act == "comment":
		if w(1) == "" {
			return "expects a string as argument"
		}
	default:
		for _, name := range []string{"set-var-fmt", "set-var", "unset-var"} {
			if strings.HasPrefix(act, name) {
				if _, msg := c.tcpActionWords(name, a); msg != "" {
					return fmt.Sprintf("'%s' : %s", name, msg)
				}
				break
			}
		}
	}
	return ""
}

func checkConnectMsg(a []string, http bool) string {
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	for i := 1; w(i) != ""; i++ {
		switch k := w(i); k {
		case "default", "send-proxy", "via-socks4", "linger", "ssl":
		case "addr":
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects <ipv4|ipv6> as argument.", k)
			}
			i++
		case "port":
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects a port number or a sample expression as argument.", k)
			}
			i++
			v := w(i)
			if n, ok := readUintAll(v); ok {
				if n < 1 || n > 65535 {
					return fmt.Sprintf("expects a valid TCP port (from range 1 to 65535) or a sample expression, got %s.", v)
				}
			} else if msg := fetchDiag(v); msg != "" {
				return "error detected while parsing port expression : " + msg
			}
		case "proto":
			v := w(i + 1)
			if v == "" {
				return fmt.Sprintf("'%s' expects a MUX protocol as argument.", k)
			}
			httpMux := false
			switch v {
			case "h1", "h2", "fcgi":
				httpMux = true
			case "none":
			default:
				return fmt.Sprintf("'%s' : unknown MUX protocol '%s'.", k, v)
			}
			if !http && httpMux {
				return fmt.Sprintf("'%s' : invalid MUX protocol '%s' for tcp-check", k, v)
			}
			if http && !httpMux {
				return fmt.Sprintf("'%s' : invalid MUX protocol '%s' for http-check", k, v)
			}
			i++
		case "comment", "sni":
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects a string as argument.", k)
			}
			i++
		case "alpn":
			if msg := alpnMsg(w(i + 1)); msg != "" {
				return fmt.Sprintf("'%s' : %s", k, msg)
			}
			i++
		default:
			return fmt.Sprintf("expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '%s' as argument.", k)
		}
	}
	return ""
}

// alpnMsg is ssl_sock_parse_alpn's message for a bad protocol list.
func alpnMsg(v string) string {
	if v == "" {
		return "missing the comma-delimited ALPN protocol suite"
	}
	for _, p := range strings.Split(v, ",") {
		if len(p) > 255 {
			return fmt.Sprintf("ALPN protocol name too long : '%s'", p)
		}
	}
	return ""
}

// readUintAll reads decimal digits as read_uint does and reports whether
// they were all of s.
func readUintAll(s string) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
		if n > 1<<32 {
			n = 1 << 32
		}
	}
	return n, i == len(s)
}

func checkSendHTTPMsg(a []string) string {
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	host := ""
	hasHost := false
	for i := 1; w(i) != ""; i++ {
		switch k := w(i); k {
		case "meth", "uri", "uri-lf", "ver", "body", "body-lf", "comment":
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects a string as argument.", k)
			}
			i++
		case "hdr":
			if w(i+1) == "" || w(i+2) == "" {
				return fmt.Sprintf("'%s' expects <name> and <value> as arguments", k)
			}
			if strings.EqualFold(w(i+1), "host") {
				if hasHost {
					return fmt.Sprintf("'%s' header already defined (previous value is '%s')", w(i+1), host)
				}
				host, hasHost = w(i+2), true
			}
			i += 2
		default:
			return fmt.Sprintf("expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '%s' as argument.", k)
		}
	}
	// The formats are parsed after the words: the request's URI, the
	// headers' values, the body.
	uri, uriLF, body, bodyLF := "", false, "", false
	var hdrs []string
	for i := 1; w(i) != ""; i++ {
		switch k := w(i); k {
		case "uri", "uri-lf":
			uri, uriLF = w(i+1), k == "uri-lf"
		case "body", "body-lf":
			body, bodyLF = w(i+1), k == "body-lf"
		case "hdr":
			hdrs = append(hdrs, w(i+2))
			i++
		}
		i++
	}
	if m := checkFormatMsg(uri, uriLF); m != "" {
		return m
	}
	for _, v := range hdrs {
		if m, _ := formatSampleCheck(v, smpuse.ValBE_CHK_RUL, false); m != "" {
			return m
		}
	}
	return checkFormatMsg(body, bodyLF)
}

// checkFormatMsg is the error of a check rule's log-format argument, as
// the tcpcheck parsers wrap it (their message ends with a line of its
// own); "" when lf is false or the format reads.
func checkFormatMsg(text string, lf bool) string {
	if !lf {
		return ""
	}
	if m, _ := formatSampleCheck(text, smpuse.ValBE_CHK_RUL, false); m != "" {
		return fmt.Sprintf("'%s' invalid log-format string (%s).\n", text, m)
	}
	return ""
}

func checkSendTCPMsg(a []string) string {
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	if w(1) == "" {
		kind := "string"
		if w(0) == "send-binary" {
			kind = "binary string"
		}
		return fmt.Sprintf("'%s' expects a %s as argument", kind, w(0))
	}
	if w(0) == "send-lf" || w(0) == "send-binary-lf" {
		if m := checkFormatMsg(w(1), true); m != "" {
			return m
		}
	}
	if w(0) == "send-binary" {
		if why := binaryMsg(w(1)); why != "" {
			// HAProxy's message ends with a line of its own.
			return fmt.Sprintf("'%s' invalid binary string (%s).\n", w(1), why)
		}
	}
	for i := 2; w(i) != ""; i++ {
		if w(i) != "comment" {
			return fmt.Sprintf("expects 'comment' but got '%s' as argument.", w(i))
		}
		if w(i+1) == "" {
			return fmt.Sprintf("'%s' expects a string as argument.", w(i))
		}
		i++
	}
	return ""
}

var hdrMatchMethods = map[string]bool{"str": true, "beg": true, "end": true, "sub": true, "reg": true}

func checkExpectMsg(args []string, http bool) string {
	// The words are copied: a negation is stripped from them in place.
	a := append([]string(nil), args...)
	w := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	if w(1) == "" {
		return "expects at least a matching pattern as arguments"
	}
	badHTTP := func(k string) string {
		return fmt.Sprintf("'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '%s' as argument.", k)
	}
	badTCP := func(k string) string {
		return fmt.Sprintf("'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '%s' as argument.", k)
	}
	typ, pattern, onSuccess, onError := "", "", "", ""
	// An expect hdr rule's name and value patterns and how they match.
	var namePat, valPat string
	var nameFmt, nameReg, valFmt, valReg, hasVal bool
	for i := 1; w(i) != ""; i++ {
		inPattern := false
	rescan:
		k := w(i)
		needPattern := func() string {
			if typ != "" {
				return "only on pattern expected"
			}
			typ = k
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects a <pattern> as argument", k)
			}
			i++
			pattern = w(i)
			return ""
		}
		noNeg := func() string {
			if inPattern {
				return fmt.Sprintf("[!] not supported with '%s'", k)
			}
			return ""
		}
		// value reads the word after k, which cannot be negated.
		value := func(what string) string {
			if m := noNeg(); m != "" {
				return m
			}
			if w(i+1) == "" {
				return fmt.Sprintf("'%s' expects %s as argument", k, what)
			}
			i++
			return ""
		}
		switch {
		case k == "min-recv":
			if m := value("a integer"); m != "" {
				return m
			}
			if n := Atol(w(i)); n < -1 || n > 1<<31-1 {
				return fmt.Sprintf("'%s' expects -1 or an integer from 0 to INT_MAX", k)
			}
		case strings.HasPrefix(k, "!"):
			inPattern = true
			a[i] = strings.TrimLeft(k, "!")
			if a[i] == "" {
				i++
			}
			goto rescan
		case k == "string" || k == "rstring":
			if m := needPattern(); m != "" {
				return m
			}
		case k == "binary" || k == "rbinary":
			if http {
				return badHTTP(k)
			}
			if m := needPattern(); m != "" {
				return m
			}
		case k == "string-lf" || k == "binary-lf":
			if http && k == "binary-lf" {
				return badHTTP(k)
			}
			if m := needPattern(); m != "" {
				return m
			}
		case k == "status" || k == "rstatus":
			if !http {
				return badTCP(k)
			}
			if m := needPattern(); m != "" {
				return m
			}
		case k == "custom":
			if m := noNeg(); m != "" {
				return m
			}
			if typ != "" {
				return "only on pattern expected"
			}
			typ = k
		case k == "hdr" || k == "fhdr":
			if !http {
				return badTCP(k)
			}
			if typ != "" {
				return "only on pattern expected"
			}
			typ = k
			if w(i+1) == "" || w(i+2) == "" || (w(i+1) != "name" && w(i+1) != "name-lf") {
				return fmt.Sprintf("'%s' expects at the name keyword as first argument followed by a pattern", k)
			}
			nameFmt = w(i+1) == "name-lf"
			i += 2
			nameReg = false
			if w(i) == "-m" {
				if msg := hdrMatchMethodErr(k, w(i+1), nameFmt); msg != "" {
					return msg
				}
				nameReg = w(i+1) == "reg"
				i += 2
			}
			namePat = w(i)
			if w(i+1) == "" || (w(i+1) != "value" && w(i+1) != "value-lf") {
				continue
			}
			valFmt = w(i+1) == "value-lf"
			if w(i+2) == "-m" {
				i += 2
				if msg := hdrMatchMethodErr(k, w(i+1), valFmt); msg != "" {
					return msg
				}
				valReg = w(i+1) == "reg"
			}
			if w(i+2) == "" {
				return fmt.Sprintf("'%s' expect a pattern with the value keyword", k)
			}
			i += 2
			valPat, hasVal = w(i), true
		case k == "comment" || k == "on-success" || k == "on-error":
			if m := value("a string"); m != "" {
				return m
			}
			if k == "on-success" {
				onSuccess = w(i)
			} else if k == "on-error" {
				onError = w(i)
			}
		case k == "ok-status" || k == "error-status" || k == "tout-status":
			if m := value("a string"); m != "" {
				return m
			}
			v := strings.ToUpper(w(i))
			switch k {
			case "ok-status":
				if v != "L7OK" && v != "L7OKC" && v != "L6OK" && v != "L4OK" {
					return fmt.Sprintf("'%s' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '%s').", k, w(i))
				}
			case "error-status":
				if v != "L7RSP" && v != "L7STS" && v != "L7OKC" && v != "L6RSP" && v != "L4CON" {
					return fmt.Sprintf("'%s' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '%s').", k, w(i))
				}
			default:
				if v != "L7TOUT" && v != "L6TOUT" && v != "L4TOUT" {
					return fmt.Sprintf("'%s' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '%s').", k, w(i))
				}
			}
		case k == "status-code":
			if m := value("an expression"); m != "" {
				return m
			}
			if msg := fetchDiag(w(i)); msg != "" {
				return "error detected while parsing status-code expression : " + msg
			}
		default:
			if http {
				return badHTTP(k)
			}
			return badTCP(k)
		}
	}
	if typ == "" {
		return "pattern not found"
	}
	// The messages' formats are parsed before the pattern.
	if m := checkFormatMsg(onSuccess, onSuccess != ""); m != "" {
		return m
	}
	if m := checkFormatMsg(onError, onError != ""); m != "" {
		return m
	}
	switch typ {
	case "status":
		return statusCodesMsg(pattern)
	case "binary":
		if why := binaryMsg(pattern); why != "" {
			return "invalid binary string (" + why + ")"
		}
	case "string-lf", "binary-lf":
		return checkFormatMsg(pattern, true)
	case "rstring", "rbinary", "rstatus":
		return PCREError(pattern, true)
	case "hdr", "fhdr":
		// The name's regex is compiled caseless, which does not change
		// what PCRE2 refuses.
		if nameReg {
			if m := PCREError(namePat, true); m != "" {
				return m
			}
		} else if m := checkFormatMsg(namePat, nameFmt); m != "" {
			return m
		}
		if !hasVal {
			return ""
		}
		if valReg {
			return PCREError(valPat, true)
		}
		if valFmt {
			// HAProxy names the header's name in this message.
			if m, _ := formatSampleCheck(valPat, smpuse.ValBE_CHK_RUL, false); m != "" {
				return fmt.Sprintf("'%s' invalid log-format string (%s).\n", namePat, m)
			}
		}
	}
	return ""
}

// binaryMsg is parse_binary's reason to refuse a hex string, or "".
func binaryMsg(s string) string {
	if len(s)%2 != 0 {
		return "an even number of hex digit is expected"
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return fmt.Sprintf("an hex digit is expected (found '%c')", s[i])
		}
	}
	return ""
}

// statusCodesMsg checks the list of status codes or ranges of an
// "expect status" as HAProxy reads it.
func statusCodesMsg(pattern string) string {
	p := pattern
	num := func() int64 {
		var n int64
		for len(p) > 0 && p[0] >= '0' && p[0] <= '9' {
			n = n*10 + int64(p[0]-'0')
			if n > 1<<32 {
				n = 1 << 32
			}
			p = p[1:]
		}
		return n
	}
	for {
		c1 := num()
		c2 := c1
		if len(p) > 0 && p[0] == '-' {
			p = p[1:]
			c2 = num()
		}
		if c1 > c2 {
			return fmt.Sprintf("invalid range of status codes '%s'", pattern)
		}
		if p == "" {
			return ""
		}
		if p[0] != ',' {
			return fmt.Sprintf("invalid character '%c' in the list of status codes", p[0])
		}
		p = p[1:]
	}
}

// hdrMatchMethodErr is HAProxy's message for the method after a header
// name's or value's "-m" in an expect hdr/fhdr rule, "" when it is good;
// lf says the name or value is a log-format string.
func hdrMatchMethodErr(k, method string, lf bool) string {
	switch {
	case method == "":
		return fmt.Sprintf("'%s' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')", k)
	case !hdrMatchMethods[method]:
		return fmt.Sprintf("'%s' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '%s')", k, method)
	case method == "reg" && lf:
		return fmt.Sprintf("'%s': log-format string is not supported with a regex matching method", k)
	}
	return ""
}
