package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// HAProxyVersion is the HAProxy release whose behaviour gohap follows; the
// .if predicates version_atleast() and version_before() compare against it.
const HAProxyVersion = "2.6.12"

// The OpenSSL release whose behaviour gohap's TLS follows (its error codes
// and texts, cipher names, TLS 1.3 suite order), that of Debian 12's
// HAProxy 2.6: the .if predicates openssl_version_atleast(),
// openssl_version_before() and ssllib_name_startswith() answer as that
// build does. OpenSSLVersionNumber is its OPENSSL_VERSION_NUMBER.
const (
	OpenSSLVersionNumber = 0x30000110
	OpenSSLVersionText   = "OpenSSL 3.0.17 1 Jul 2025"
)

// openSSLVersion reads a version as HAProxy's openssl_version_parser does,
// into the 1.x OPENSSL_VERSION_NUMBER layout (major, minor, fix, patch
// letters, status), 0 when it cannot. HAProxy compares that with an
// OpenSSL 3 number, whose patch sits where 1.x kept its letters: "3.0.17"
// then reads above OpenSSL 3.0.17 itself, and gohap answers the same.
func openSSLVersion(v string) uint32 {
	num := func(s string) (uint32, string, bool) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if i == 0 {
			n, err = 0, nil
		}
		return uint32(n), s[i:], err == nil
	}
	if v == "" {
		return 0
	}
	major, rest, ok := num(v)
	if !ok || rest == "" || rest[0] != '.' || major > 0xf {
		return 0
	}
	minor, rest, ok := num(rest[1:])
	if !ok || rest == "" || rest[0] != '.' || minor > 0xff {
		return 0
	}
	fix, rest, ok := num(rest[1:])
	if !ok || fix > 0xff {
		return 0
	}
	var patch, status uint32
	switch {
	case rest == "":
		status = 0xf
	case rest[0] == '-':
		// only a beta counts; any other suffix is a development version
		if b, ok := strings.CutPrefix(rest[1:], "beta"); ok {
			n, _, ok := num(b)
			if !ok || n > 14 {
				return 0
			}
			status = n
		}
	default:
		patch = 1
		for i := 0; i < len(rest); i++ {
			patch += uint32(rest[i]&^0x20) - 'A'
		}
		status = 0xf
	}
	return major<<28 | minor<<20 | fix<<12 | (patch&0xff)<<4 | status
}

// maxNestedConds is HAProxy's MAXNESTEDCONDS.
const maxNestedConds = 10

// features answers feature() in .if conditions with what this binary
// runs, not how HAProxy was built: OPENSSL for TLS on binds ("ssl crt"),
// SLZ for "compression algo gzip/deflate", THREAD for nbthread, SYSTEMD
// for -Ws's notifications, NETFILTER for set-mark, PROMEX for the
// Prometheus exporter. PCRE2 stays off: Go's regexps refuse PCRE's
// look-arounds and back-references. Any other name is off.
var features = map[string]bool{"OPENSSL": true, "SLZ": true, "THREAD": true, "SYSTEMD": true, "NETFILTER": true, "PROMEX": true, "TFO": true,
	// transparent binds and "source ... usesrc".
	"LINUX_TPROXY": true, "TPROXY": true,
	// option splice-request/splice-response/splice-auto splice bodies.
	"LINUX_SPLICE": true}

// directive handles a line whose first word starts with '.'. It returns false
// when the word is not a directive, so the line is processed as a keyword.
func (st *lexState) directive(words []string, pos Pos) bool {
	tight := func(format string, a ...any) {
		st.diags = append(st.diags, Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight, Msg: fmt.Sprintf(format, a...)})
	}
	// Block structure errors stop HAProxy from reading the file further.
	abort := func(format string, a ...any) {
		tight(format, a...)
		st.abort = true
	}
	switch words[0] {
	case ".if":
		parent := st.active()
		if len(st.conds) >= maxNestedConds {
			abort("too many nested '.if', max is %d.", maxNestedConds)
			return true
		}
		v := false
		if parent {
			var err string
			v, err = evalCond(words[1:], st.env)
			if err != "" {
				st.condErr(".if", words[1:], err, pos)
			}
		}
		st.conds = append(st.conds, condFrame{pos: pos, active: v, done: v, parent: parent})
	case ".elif":
		n := len(st.conds)
		if n == 0 {
			abort("lone '.elif' with no matching '.if'.")
			return true
		}
		c := &st.conds[n-1]
		if c.inElse {
			abort("'.elif' after '.else' is not permitted.")
			return true
		}
		if c.done || !c.parent {
			c.active = false
			return true
		}
		v, err := evalCond(words[1:], st.env)
		if err != "" {
			st.condErr(".elif", words[1:], err, pos)
		}
		c.active, c.done = v, v
	case ".else":
		n := len(st.conds)
		if n == 0 {
			abort("lone '.else' with no matching '.if'.")
			return true
		}
		c := &st.conds[n-1]
		if c.inElse {
			abort("'.else' after '.else' is not permitted.")
			return true
		}
		if len(words) > 1 {
			tight("Unexpected argument '%s' for '%s'.", words[1], words[0])
		}
		c.inElse = true
		c.active = !c.done
		c.done = true
	case ".endif":
		n := len(st.conds)
		if n == 0 {
			abort("lone '.endif' with no matching '.if'.")
			return true
		}
		if len(words) > 1 {
			tight("Unexpected argument '%s' for '%s'.", words[1], words[0])
		}
		st.conds = st.conds[:n-1]
	case ".diag", ".notice", ".warning", ".alert":
		if !st.active() {
			return true
		}
		if len(words) > 2 {
			tight("Unexpected argument '%s' for '%s'. Use quotes if the message should contain spaces.", words[2], words[0])
			return true
		}
		msg := ""
		if len(words) > 1 {
			msg = words[1]
		}
		d := Diagnostic{Pos: pos, Style: StyleParsingTight, Msg: "'" + msg + "'."}
		switch words[0] {
		case ".diag":
			d.Severity = Notice
			d.Hint = "diag"
		case ".notice":
			d.Severity = Notice
		case ".warning":
			d.Severity = Warning
		default:
			d.Severity, d.Fatal = Alert, true
		}
		st.diags = append(st.diags, d)
	default:
		if !st.active() {
			return true
		}
		tight("unknown directive '%s'.", words[0])
	}
	return true
}

func (st *lexState) condErr(dir string, args []string, err string, pos Pos) {
	text := strings.Join(args, " ")
	st.diags = append(st.diags, Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
		Msg:    fmt.Sprintf("%s in '%s' at position %d:", err, dir, 1),
		Detail: []string{"  " + dir + " " + text, "  " + strings.Repeat(" ", len(dir)+1) + "^"}})
}

// evalCond evaluates a .if condition: terms are predicates such as
// defined(NAME), integers or strings, combined with '!', '&&', '||' and
// parentheses.
func evalCond(args []string, e *env) (bool, string) {
	text := strings.Join(args, " ")
	c := &condParser{s: text, env: e}
	v, err := c.expr()
	if err != "" {
		return false, err
	}
	c.skip()
	if c.i < len(c.s) {
		return false, fmt.Sprintf("unexpected character '%c' at the end of conditional expression '%s'", c.s[c.i], c.s[c.i:])
	}
	return v, ""
}

type condParser struct {
	s   string
	i   int
	env *env
}

func (c *condParser) skip() {
	for c.i < len(c.s) && (c.s[c.i] == ' ' || c.s[c.i] == '\t') {
		c.i++
	}
}

func (c *condParser) expr() (bool, string) {
	v, err := c.and()
	for err == "" {
		c.skip()
		if !strings.HasPrefix(c.s[c.i:], "||") {
			break
		}
		c.i += 2
		var w bool
		w, err = c.and()
		v = v || w
	}
	return v, err
}

func (c *condParser) and() (bool, string) {
	v, err := c.term()
	for err == "" {
		c.skip()
		if !strings.HasPrefix(c.s[c.i:], "&&") {
			break
		}
		c.i += 2
		var w bool
		w, err = c.term()
		v = v && w
	}
	return v, err
}

func (c *condParser) term() (bool, string) {
	c.skip()
	if c.i >= len(c.s) {
		return false, fmt.Sprintf("unparsable conditional expression '%s'", c.s[c.i:])
	}
	switch ch := c.s[c.i]; {
	case ch == '!':
		c.i++
		v, err := c.term()
		return !v, err
	case ch == '(':
		c.i++
		v, err := c.expr()
		if err != "" {
			return false, err
		}
		c.skip()
		if c.i >= len(c.s) || c.s[c.i] != ')' {
			return false, fmt.Sprintf("expected ')' after conditional expression '%s'", c.s[c.i:])
		}
		c.i++
		return v, ""
	case ch >= '0' && ch <= '9' || ch == '-':
		j := c.i + 1
		for j < len(c.s) && c.s[j] >= '0' && c.s[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(c.s[c.i:j])
		c.i = j
		return n != 0, ""
	}
	j := c.i
	for j < len(c.s) && (isAlnum(c.s[j]) || c.s[j] == '_') {
		j++
	}
	name := c.s[c.i:j]
	if j >= len(c.s) || c.s[j] != '(' {
		// a bare word is a non-empty string: true
		if name == "" {
			return false, fmt.Sprintf("unparsable conditional sub-expression '%s'", c.s[c.i:])
		}
		c.i = j
		return true, ""
	}
	k := strings.IndexByte(c.s[j:], ')')
	if k < 0 {
		return false, fmt.Sprintf("unparsable conditional sub-expression '%s'", c.s[c.i:])
	}
	var args []string
	if inner := c.s[j+1 : j+k]; inner != "" {
		args = strings.Split(inner, ",")
	}
	c.i = j + k + 1
	arg := func(n int) string {
		if n < len(args) {
			return args[n]
		}
		return ""
	}
	switch name {
	case "defined":
		_, ok := c.env.lookup(arg(0), 0)
		return ok, ""
	case "feature":
		return features[arg(0)], ""
	case "streq":
		return arg(0) == arg(1), ""
	case "strneq":
		return arg(0) != arg(1), ""
	case "version_atleast":
		return compareVersions(HAProxyVersion, arg(0)) >= 0, ""
	case "version_before":
		return compareVersions(HAProxyVersion, arg(0)) < 0, ""
	case "openssl_version_atleast", "openssl_version_before":
		v := openSSLVersion(arg(0))
		if v == 0 {
			return false, fmt.Sprintf("unparsable OpenSSL version '%s'", arg(0))
		}
		if name == "openssl_version_atleast" {
			return v <= OpenSSLVersionNumber, ""
		}
		return v > OpenSSLVersionNumber, ""
	case "ssllib_name_startswith":
		return strings.HasPrefix(OpenSSLVersionText, arg(0)), ""
	}
	return false, fmt.Sprintf("unparsable conditional sub-expression '%s'", name)
}

// compareVersions compares dotted versions numerically, HAProxy-style
// ("2.6" < "2.6.1"; a "-dev" suffix sorts before the release).
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			break
		}
		out = append(out, n)
	}
	return out
}
