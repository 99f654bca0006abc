package parser

import (
	"fmt"
	"strings"
)

// ACLExprResult is what the check of one ACL expression (the fetch word,
// then its flags and patterns) finds. The zero value says it was not
// checked.
type ACLExprResult struct {
	// Checked is false when the expression could not be checked while
	// the configuration is read (it names a table, a userlist or a server,
	// or a keyword the engine lacks); the compile step judges it.
	Checked bool
	// Err is parse_acl_expr()'s message for an expression that does not
	// compile, without the caller's prefix; empty when it compiles.
	Err string
	// NoPattern is set when HAProxy warns that the ACL will never match
	// for want of a pattern.
	NoPattern bool
	// UniqueID is the pattern reference id set with "-u", -1 without.
	UniqueID int
}

// aclExprCheck checks an ACL expression as parse_acl_expr() compiles it.
// The sample engine sits above this package and installs it with
// SetACLExprCheck; while it is nil only ACL names and braces are checked.
var aclExprCheck func(fetch string, args []string) ACLExprResult

// SetACLExprCheck installs the check of ACL expressions that "acl" lines
// and the anonymous ACLs of conditions get while the configuration is
// read, as HAProxy compiles them there. Package acl calls it from its
// init function; nil removes the check.
func SetACLExprCheck(f func(fetch string, args []string) ACLExprResult) { aclExprCheck = f }

// sampleCheck compiles a sample expression (fetch, arguments and
// converters) as sample_parse_expr() does and returns its message, ""
// when it compiles or cannot be judged while the file is read (arguments
// resolved later, keywords the engine lacks). Package acl installs it.
var sampleCheck func(expr string) string

// SetSampleExprCheck installs the check of the sample expressions of rules
// and log formats; nil removes it.
func SetSampleExprCheck(f func(expr string) string) { sampleCheck = f }

// sampleExprMsg is sampleCheck's message, "" without a check.
func sampleExprMsg(expr string) string {
	if sampleCheck == nil {
		return ""
	}
	return sampleCheck(expr)
}

// checkACLExpr is aclExprCheck's result, unchecked without a check.
func checkACLExpr(fetch string, args []string) ACLExprResult {
	if aclExprCheck == nil {
		return ACLExprResult{}
	}
	return aclExprCheck(fetch, args)
}

// aclExpr checks an ACL expression and records its "-u" id: an id set
// before makes the expression an error, as pat_ref_lookupid() finds it.
func (cp *cfgParser) aclExpr(fetch string, args []string) ACLExprResult {
	r := checkACLExpr(fetch, args)
	if !r.Checked || r.Err != "" || r.UniqueID < 0 {
		return r
	}
	if cp.patRefIDs[r.UniqueID] {
		r.Err = "the id is already used"
		return r
	}
	if cp.patRefIDs == nil {
		cp.patRefIDs = map[int]bool{}
	}
	cp.patRefIDs[r.UniqueID] = true
	return r
}

// noPatternWarning is parse_acl_expr()'s warning for an ACL expression
// without pattern whose fetch word is kw.
func noPatternWarning(pos Pos, kw string) Diagnostic {
	return Diagnostic{Severity: Warning, Pos: pos, Style: StyleNone,
		Msg: fmt.Sprintf("parsing acl keyword '%s' :", kw),
		Detail: []string{
			"  no pattern to match against were provided, so this ACL will never match.",
			"  If this is what you intended, please add '--' to get rid of this warning.",
			"  If you intended to match only for existence, please use '-m found'.",
			"  If you wanted to force an int to match as a bool, please use '-m bool'.",
			""}}
}

// parenPatternWarning is parse_acl()'s warning for a pattern that starts
// with '(' right after a fetch without one (a space before its arguments);
// nil when it does not apply. Anonymous ACLs have an empty name.
func parenPatternWarning(pos Pos, name, fetch string, args []string) *Diagnostic {
	if len(args) == 0 || strings.Contains(fetch, "(") || !strings.HasPrefix(args[0], "(") {
		return nil
	}
	return &Diagnostic{Severity: Warning, Pos: pos, Style: StyleNone,
		Msg: fmt.Sprintf("parsing acl '%s' :", name),
		Detail: []string{
			fmt.Sprintf("  matching '%s' for pattern '%s' is likely a mistake and probably", fetch, args[0]),
			"  not what you want. Maybe you need to remove the extraneous space before '('.",
			"  If you are really sure this is not an error, please insert '--' between the",
			"  match and the pattern to make this warning message disappear."}}
}

// condError returns parse_acl_cond()'s message for the condition of rule
// words (from their first "if" or "unless"), "" when it compiles: every
// named ACL must be declared before or predefined, and every anonymous
// one must close and compile. The warnings of the anonymous ACLs are
// added at pos as HAProxy prints them, before any error.
func (cp *cfgParser) condError(pos Pos, words []string) string {
	start := -1
	for i, w := range words {
		if w == "if" || w == "unless" {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return ""
	}
	words = words[start:]
	for i := 0; i < len(words); i++ {
		w := strings.TrimLeft(words[i], "!")
		switch {
		case w == "" || w == "||" || strings.EqualFold(w, "or"):
			continue
		case w == "{":
			j := i + 1
			for j < len(words) && words[j] != "}" {
				j++
			}
			if j >= len(words) {
				return "missing closing '}' in condition"
			}
			fetch, args := "", []string(nil)
			if j > i+1 {
				fetch, args = words[i+1], words[i+2:j]
			}
			if fetch == "" {
				return "missing fetch method in ACL expression ''"
			}
			r := cp.aclExpr(fetch, args)
			if r.Err != "" {
				return r.Err
			}
			if r.NoPattern {
				cp.add(noPatternWarning(pos, fetch))
			}
			if d := parenPatternWarning(pos, "", fetch, args); d != nil {
				cp.add(*d)
			}
			i = j
		case !predefinedACLs[w] && !cp.proxy.aclNames[w]:
			return fmt.Sprintf("no such ACL : '%s'", w)
		}
	}
	return ""
}
