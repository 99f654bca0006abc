package runtime

import (
	"errors"
	"regexp"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
)

// HAProxy 1.x header filters (reqadd, reqrep, rspdel, block, ...), run
// with their 1.x meaning: each regex is applied to whole lines, "Name:
// value" for headers and the request or status line for the rep kinds,
// in declaration order, frontend rules before the backend is chosen and
// backend rules after, on responses backend rules before frontend ones.

type legacyRule struct {
	act  parser.LegacyAction
	re   *regexp.Regexp
	repl string // Go template syntax
	line string // the header line reqadd/rspadd appends
	cond *acl.Cond
}

type legacyRules struct {
	req, rsp []legacyRule
}

func compileLegacy(p *parser.Proxy, set *acl.Set, fail func(parser.Pos, string, ...any)) *legacyRules {
	var lr legacyRules
	for _, r := range p.LegacyFilters {
		if r.Err != "" {
			fail(r.Pos, "%s", r.Err)
			continue
		}
		rule := legacyRule{act: r.Action, repl: r.Repl, line: r.Line}
		var err error
		if r.Regex != "" {
			expr := r.Regex
			if r.ICase {
				expr = "(?i)" + expr
			}
			if rule.re, err = regexp.Compile(expr); err != nil {
				fail(r.Pos, "'%s': invalid regular expression '%s': %v", r.Keyword, r.Regex, err)
				continue
			}
		}
		if len(r.Cond) > 0 {
			if rule.cond, err = set.ParseCond(r.Cond); err != nil {
				fail(r.Pos, "'%s' condition: %v", r.Keyword, err)
				continue
			}
		}
		if r.Action == parser.LegacyBlock && rule.cond == nil {
			fail(r.Pos, "'block' expects 'if' or 'unless' followed by a condition.")
			continue
		}
		if r.Response {
			if rule.cond != nil {
				fail(r.Pos, "a condition on '%s' is not supported by the gohap runtime yet.", r.Keyword)
				continue
			}
			lr.rsp = append(lr.rsp, rule)
		} else {
			lr.req = append(lr.req, rule)
		}
	}
	if len(lr.req) == 0 && len(lr.rsp) == 0 {
		return nil
	}
	return &lr
}

var (
	errDenied      = errors.New("denied")
	errBadRewrite  = errors.New("rewritten head is invalid")
	errFramingEdit = errors.New("rewrite changed the message framing")
)

// lines splits a parsed head into its first line and "Name: value" lines.
func headLines(m *h1.Msg, head []byte, request bool) (string, []string) {
	var first string
	if request {
		v := "HTTP/1.1"
		if m.Minor == 0 {
			v = "HTTP/1.0"
		}
		first = string(m.Method.Of(head)) + " " + string(m.URI.Of(head)) + " " + v
	} else {
		end := 0
		for end < len(head) && head[end] != '\r' && head[end] != '\n' {
			end++
		}
		first = string(head[:end])
	}
	hs := make([]string, 0, len(m.Headers))
	for _, h := range m.Headers {
		hs = append(hs, string(h.Name.Of(head))+": "+string(h.Value.Of(head)))
	}
	return first, hs
}

// apply runs rules over the lines; it returns errDenied when a deny or
// block rule fires.
func applyLegacy(rules []legacyRule, t *acl.Txn, first string, hs []string) (string, []string, error) {
	for _, r := range rules {
		if r.cond != nil && !r.cond.Eval(t) {
			continue
		}
		switch r.act {
		case parser.LegacyBlock:
			return first, hs, errDenied
		case parser.LegacyAdd:
			hs = append(hs, r.line)
		case parser.LegacyDel:
			out := hs[:0]
			for _, l := range hs {
				if !r.re.MatchString(l) {
					out = append(out, l)
				}
			}
			hs = out
		case parser.LegacyRep:
			first = replaceLine(r, first)
			for i, l := range hs {
				hs[i] = replaceLine(r, l)
			}
		case parser.LegacyDeny, parser.LegacyAllow, parser.LegacyPass:
			hit := r.re.MatchString(first)
			for _, l := range hs {
				hit = hit || r.re.MatchString(l)
			}
			if !hit {
				continue
			}
			if r.act == parser.LegacyDeny {
				return first, hs, errDenied
			}
			// allow and pass end the evaluation of the filters.
			return first, hs, nil
		}
	}
	return first, hs, nil
}

// replaceLine replaces a matching line completely with the expanded
// replacement, as 1.x did.
func replaceLine(r legacyRule, l string) string {
	m := r.re.FindStringSubmatchIndex(l)
	if m == nil {
		return l
	}
	return string(r.re.ExpandString(nil, r.repl, l, m))
}

// rewriteHead applies rules to a head and parses the result into m; the
// message framing must not change.
func rewriteHead(rules []legacyRule, t *acl.Txn, m *h1.Msg, head []byte, request bool, dst []byte) ([]byte, error) {
	first, hs := headLines(m, head, request)
	first, hs, err := applyLegacy(rules, t, first, hs)
	if err != nil {
		return nil, err
	}
	out := append(dst[:0], first...)
	out = append(out, "\r\n"...)
	for _, l := range hs {
		out = append(out, l...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "\r\n"...)
	body, length := m.Body, m.Length
	var perr error
	if request {
		perr = h1.ParseRequest(out, m, maxHdr)
	} else {
		perr = h1.ParseResponse(out, m, maxHdr)
	}
	if perr != nil {
		return nil, errBadRewrite
	}
	if m.Body != body || m.Length != length {
		return nil, errFramingEdit
	}
	return out, nil
}
