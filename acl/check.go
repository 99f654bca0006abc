package acl

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser"
)

func init() {
	parser.SetACLExprCheck(exprMessage)
	parser.SetSampleExprCheck(sampleMessage)
}

// sampleMessage returns sample_parse_expr()'s message for a sample
// expression that does not compile, "" when it does or when it is judged
// later (arguments resolved after parsing, keywords this engine lacks).
func sampleMessage(expr string) string {
	_, err := CompileSampleWith(expr, &Context{Unresolved: func(*ResolveError) {}})
	var re *ResolveError
	if err == nil || errors.As(err, &re) || errors.Is(err, ErrNotImplemented) {
		return ""
	}
	return err.Error()
}

// exprMessage returns parse_acl_expr()'s message (src/acl.c) for an ACL
// expression that does not compile, and whether it warns that the ACL
// will never match for want of a pattern. Table, userlist and server
// arguments resolve once every section is read, and keywords this engine
// lacks are refused when the configuration is compiled: neither is an
// error here, and such expressions are left unchecked.
func exprMessage(fetch string, args []string) parser.ACLExprResult {
	// Arguments naming tables, servers or userlists are resolved later:
	// the rest of the expression is checked past them, and an expression
	// with such arguments is judged then.
	unresolved := false
	e, err := CompileWith(fetch, args, &Context{Unresolved: func(*ResolveError) { unresolved = true }})
	var re *ResolveError
	if errors.As(err, &re) || errors.Is(err, ErrNotImplemented) {
		return parser.ACLExprResult{UniqueID: -1}
	}
	if err != nil {
		msg := err.Error()
		// parse_acl_expr ends its converter messages for ACL keywords
		// with a period of their own.
		if strings.HasPrefix(msg, "ACL keyword '") && strings.Contains(msg, " converter '") && !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		return parser.ACLExprResult{Checked: true, Err: msg, UniqueID: -1}
	}
	if unresolved {
		return parser.ACLExprResult{UniqueID: -1}
	}
	return parser.ACLExprResult{Checked: true, NoPattern: len(args) == 0 && e.needsPattern(), UniqueID: uniqueID(args)}
}

// uniqueID returns the pattern reference id of an ACL's "-u" flag, -1
// without one.
func uniqueID(args []string) int {
	for i := 0; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		switch args[i] {
		case "--":
			return -1
		case "-u":
			if i+1 < len(args) {
				if id, err := strconv.Atoi(args[i+1]); err == nil {
					return id
				}
			}
			return -1
		case "-m", "-f":
			i++
		}
	}
	return -1
}

// needsPattern reports whether the expression matches against patterns:
// an ACL keyword without converters always does, another fetch when its
// output is an integer, an address or a string (not a boolean).
func (e *Expr) needsPattern() bool {
	if e.x.out == TypeBool {
		return false
	}
	n := 0
	for n < len(e.source) && isIDChar(e.source[n]) {
		n++
	}
	if _, ok := aclKeywords[e.source[:n]]; ok && len(e.x.convs) == 0 {
		return true
	}
	switch e.x.out {
	case TypeInt, TypeAddr, TypeIPv4, TypeIPv6, TypeStr:
		return true
	}
	return false
}
