package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gohap/gohap/parser"
)

// condMark is the .notice a true condition reaches.
const condMark = "gohap-cc-true"

// evalCondition runs -cc: the expression is read as the words of one line
// and evaluated by the parser's own .if, so -cc and .if always agree. It
// returns HAProxy's exit codes: 0 true, 1 false, 2 unusable expression.
func evalCondition(expr string, lookup func(string) (string, bool), stderr io.Writer) int {
	// HAProxy reads -cc as one line: it ends at the first line break.
	if i := strings.IndexAny(expr, "\r\n"); i >= 0 {
		expr = expr[:i]
	}
	if expr == "" {
		return 1
	}
	line := ".if " + literalSharps(expr) + "\n"
	data := line + ".notice \"" + condMark + "\"\n.endif\n"
	_, diags := parser.Parse([]parser.Input{{Name: "-cc", Data: []byte(data)}}, parser.Options{LookupEnv: lookup})
	m := &msgs{w: stderr}
	for _, d := range diags {
		if d.Pos.Line != 1 || d.Severity == parser.Notice {
			continue
		}
		m.alert("config : %s", condError(d.Msg))
		return 2
	}
	for _, d := range diags {
		if d.Pos.Line == 2 && strings.Contains(d.Msg, condMark) {
			return 0
		}
	}
	return 1
}

// condError turns the parser's message about a .if line into -cc's.
func condError(msg string) string {
	if err, _, ok := strings.Cut(msg, " in '.if' at position "); ok {
		return "Failed to evaluate condition: " + err
	}
	switch {
	case strings.HasPrefix(msg, "unmatched quote"):
		return "Syntax Error in condition: Unmatched quote."
	case strings.HasPrefix(msg, "truncated or invalid hexadecimal"):
		return "Syntax Error in condition: Truncated or invalid hexadecimal sequence."
	case strings.HasPrefix(msg, "line too long"):
		return "Error in condition: Line too long."
	case strings.HasPrefix(msg, "too many words"):
		return "Error in condition: Too many words."
	}
	return "Unhandled error in condition, please report this to the developers."
}

// literalSharps escapes the '#' outside quotes: a comment in a
// configuration line, an ordinary character in -cc.
func literalSharps(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quote != '\'' && i+1 < len(s):
			b.WriteByte(c)
			i++
			c = s[i]
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && c == '#':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// featureNames are the names HAProxy 2.6's feature list shows.
var featureNames = []string{"51DEGREES", "ACCEPT4", "BACKTRACE", "CLOSEFROM", "CPU_AFFINITY", "CRYPT_H",
	"DEVICEATLAS", "DL", "ENGINE", "EPOLL", "EVPORTS", "GETADDRINFO", "KQUEUE", "LIBCRYPT", "LINUX_SPLICE",
	"LINUX_TPROXY", "LUA", "MEMORY_PROFILING", "NETFILTER", "NS", "OBSOLETE_LINKER", "OPENSSL", "OT", "PCRE",
	"PCRE2", "PCRE2_JIT", "PCRE_JIT", "POLL", "PRCTL", "PROCCTL", "PROMEX", "QUIC", "RT", "SLZ", "STATIC_PCRE",
	"STATIC_PCRE2", "SYSTEMD", "TFO", "THREAD", "THREAD_DUMP", "TPROXY", "WURFL", "ZLIB"}

// featureList is the "Feature list" of -vv, as feature() answers it.
func featureList() string {
	var b strings.Builder
	for i, n := range featureNames {
		fmt.Fprintf(&b, ".if feature(%s)\n.notice \"%d\"\n.endif\n", n, i)
	}
	_, diags := parser.Parse([]parser.Input{{Name: "-vv", Data: []byte(b.String())}}, parser.Options{})
	on := map[string]bool{}
	for _, d := range diags {
		on[strings.Trim(d.Msg, "'.")] = true
	}
	words := make([]string, len(featureNames))
	for i, n := range featureNames {
		sign := "-"
		if on[fmt.Sprint(i)] {
			sign = "+"
		}
		words[i] = sign + n
	}
	return strings.Join(words, " ")
}
