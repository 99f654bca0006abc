package parser

import "strings"

// LegacyAction is what a 1.x header filter does.
type LegacyAction uint8

const (
	LegacyAdd LegacyAction = iota
	LegacyDel
	LegacyRep
	LegacyDeny
	LegacyAllow
	LegacyPass
	LegacyBlock
	// LegacySetBE (reqsetbe) picks the backend, LegacyTarpit (reqtarpit)
	// tarpits the request, when the regex matches a line.
	LegacySetBE
	LegacyTarpit
)

// LegacyFilter is a 1.x header filter (reqadd, reqrep, rspdel, block,
// ...), which gohap runs with its 1.x meaning.
type LegacyFilter struct {
	Pos     Pos
	Keyword string
	Action  LegacyAction
	// Response is set for the rsp* kinds, ICase for the *i* ones.
	Response, ICase bool
	// Regex is the pattern as written; Repl the replacement of the rep
	// kinds in Go's template syntax; Line the header reqadd/rspadd add;
	// Backend the backend of reqsetbe.
	Regex, Repl, Line, Backend string
	// Cond is the words of the if/unless condition, if any.
	Cond []string
	// Err is the message of a filter missing one of its arguments.
	Err string
}

var legacyKinds = map[string]struct {
	act        LegacyAction
	rsp, icase bool
}{
	"reqadd": {LegacyAdd, false, false}, "rspadd": {LegacyAdd, true, false},
	"reqdel": {LegacyDel, false, false}, "reqidel": {LegacyDel, false, true},
	"rspdel": {LegacyDel, true, false}, "rspidel": {LegacyDel, true, true},
	"reqrep": {LegacyRep, false, false}, "reqirep": {LegacyRep, false, true}, "cliexp": {LegacyRep, false, false},
	"rsprep": {LegacyRep, true, false}, "rspirep": {LegacyRep, true, true}, "srvexp": {LegacyRep, true, false},
	"reqdeny": {LegacyDeny, false, false}, "reqideny": {LegacyDeny, false, true},
	"rspdeny": {LegacyDeny, true, false}, "rspideny": {LegacyDeny, true, true},
	"reqallow": {LegacyAllow, false, false}, "reqiallow": {LegacyAllow, false, true},
	"reqpass": {LegacyPass, false, false}, "reqipass": {LegacyPass, false, true},
	"block":    {LegacyBlock, false, false},
	"reqsetbe": {LegacySetBE, false, false}, "reqisetbe": {LegacySetBE, false, true},
	"reqtarpit": {LegacyTarpit, false, false}, "reqitarpit": {LegacyTarpit, false, true},
}

// parseLegacyFilter reads a filter line's words.
func parseLegacyFilter(pos Pos, kw string, args []string) *LegacyFilter {
	k := legacyKinds[kw]
	f := &LegacyFilter{Pos: pos, Keyword: kw, Action: k.act, Response: k.rsp, ICase: k.icase}
	switch k.act {
	case LegacyBlock:
	case LegacyAdd:
		if len(args) == 0 {
			f.Err = "'" + kw + "' expects a header line."
			return f
		}
		f.Line, args = args[0], args[1:]
	default:
		if len(args) == 0 {
			f.Err = "'" + kw + "' expects a regular expression."
			return f
		}
		f.Regex, args = args[0], args[1:]
		if k.act == LegacyRep {
			if len(args) == 0 {
				f.Err = "'" + kw + "' expects a replacement string."
				return f
			}
			f.Repl, args = convertRepl(args[0]), args[1:]
		}
		if k.act == LegacySetBE {
			if len(args) == 0 {
				f.Err = "'" + kw + "' expects a backend name."
				return f
			}
			f.Backend, args = args[0], args[1:]
		}
	}
	if len(args) > 0 {
		f.Cond = args
	}
	return f
}

// convertRepl turns a 1.x replacement (\1 back-references, \c escapes)
// into Go's template syntax.
func convertRepl(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + s[i+1:i+2] + "}")
			i++
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
