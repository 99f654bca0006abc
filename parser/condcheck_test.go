package parser

import (
	"strings"
	"testing"
)

// lineAlert returns the first alert about the last line of cfg.
func lineAlert(cfg string) string {
	_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
	n := strings.Count(cfg, "\n")
	for _, d := range ds {
		if d.Severity == Alert && d.Pos.Line == n {
			return d.Msg
		}
	}
	return ""
}

// Conditions are read as parse_acl_cond() reads them. Anonymous ACLs are
// compiled by the sample engine, which this package does not link: only
// names and braces are judged here (cmd/gohap's differential test covers
// the rest against HAProxy).
func TestConditionMessages(t *testing.T) {
	const fe = "defaults\n mode http\nfrontend fe\n acl a1 path /a\n "
	for _, c := range []struct{ line, want string }{
		{"http-request deny if", ""},
		{"http-request deny unless", ""},
		{"http-request deny if !", ""},
		{"http-request deny if || TRUE ||", ""},
		{"http-request deny if a1 OR !a1", ""},
		{"http-request deny if nosuch", "error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuch'."},
		{"http-request deny if !{ path /x } }", "error detected while parsing an 'http-request deny' condition : no such ACL : '}'."},
		{"http-request deny if { path /x", "error detected while parsing an 'http-request deny' condition : missing closing '}' in condition."},
		{"http-request deny if { }", "error detected while parsing an 'http-request deny' condition : missing fetch method in ACL expression ''."},
		{"http-request redirect location / if x", "error detected in frontend 'fe' while parsing 'http-request redirect' rule : error in condition: no such ACL : 'x'."},
		{"redirect location / if {", "error detected in frontend 'fe' while parsing redirect rule : error in condition: missing closing '}' in condition."},
		{"use_backend b if x", "error detected while parsing switching rule : no such ACL : 'x'."},
		{"tcp-request content reject if x", "'tcp-request content reject' : error detected in frontend 'fe' while parsing 'if' condition : no such ACL : 'x'"},
		{"acl OR path /x", "acl name 'OR' will never match. 'or' is used to express a logical disjunction within a condition."},
		{"monitor fail unless {", "error detected while parsing a 'monitor fail' condition : missing closing '}' in condition."},
	} {
		if got := lineAlert(fe + c.line + "\n"); got != c.want {
			t.Errorf("%s\n got  %q\n want %q", c.line, got, c.want)
		}
	}
}
