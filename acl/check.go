package acl

import (
	"errors"
	"strings"

	"github.com/gohap/gohap/parser"
)

func init() { parser.SetACLExprCheck(exprMessage) }

// exprMessage returns parse_acl_expr()'s message (src/acl.c) for an ACL
// expression that does not compile, and whether it warns that the ACL
// will never match for want of a pattern. Table, userlist and server
// arguments resolve once every section is read, and keywords this engine
// lacks are refused when the configuration is compiled: neither is an
// error here, and such expressions are left unchecked.
func exprMessage(fetch string, args []string) parser.ACLExprResult {
	e, err := CompileWith(fetch, args, nil)
	var re *ResolveError
	if errors.As(err, &re) || errors.Is(err, ErrNotImplemented) {
		return parser.ACLExprResult{}
	}
	if err != nil {
		msg := err.Error()
		// parse_acl_expr ends its converter messages for ACL keywords
		// with a period of their own.
		if strings.HasPrefix(msg, "ACL keyword '") && strings.Contains(msg, " converter '") && !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		return parser.ACLExprResult{Checked: true, Err: msg}
	}
	return parser.ACLExprResult{Checked: true, NoPattern: len(args) == 0 && e.needsPattern()}
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
