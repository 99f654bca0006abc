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
	act parser.LegacyAction
	// be is reqsetbe's backend name.
	be   string
	re   *regexp.Regexp
	repl string // Go template syntax
	line string // the header line reqadd/rspadd appends
	cond *acl.Cond
}

type legacyRules struct {
	req, rsp []legacyRule
}

func compileLegacy(p *parser.Proxy, cfg *parser.Config, set *acl.Set, fail func(parser.Pos, string, ...any)) *legacyRules {
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
		if r.Action == parser.LegacySetBE {
			if p.Cap&parser.CapFE == 0 {
				fail(r.Pos, "'%s' is only allowed in a frontend or listen section.", r.Keyword)
				continue
			}
			found := false
			for _, q := range cfg.Proxies {
				found = found || q.Cap&parser.CapBE != 0 && q.Name == r.Backend
			}
			if !found {
				fail(r.Pos, "'%s': unable to find backend '%s'.", r.Keyword, r.Backend)
				continue
			}
			rule.be = r.Backend
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

// legacyResult is what reqsetbe and reqtarpit decided: the backend
// (the first match's) and whether to tarpit.
type legacyResult struct {
	be     string
	tarpit bool
}

// apply runs rules over the lines; it returns errDenied when a deny or
// block rule fires.
func applyLegacy(rules []legacyRule, t *acl.Txn, first string, hs []string, res *legacyResult) (string, []string, error) {
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
		case parser.LegacySetBE, parser.LegacyTarpit:
			if !matchesAny(r.re, first, hs) {
				continue
			}
			if r.act == parser.LegacyTarpit {
				res.tarpit = true
			} else if res.be == "" {
				res.be = r.be
			}
		case parser.LegacyDeny, parser.LegacyAllow, parser.LegacyPass:
			if !matchesAny(r.re, first, hs) {
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

// matchesAny says re matches the first line or a header line.
func matchesAny(re *regexp.Regexp, first string, hs []string) bool {
	if re.MatchString(first) {
		return true
	}
	for _, l := range hs {
		if re.MatchString(l) {
			return true
		}
	}
	return false
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
func rewriteHead(rules []legacyRule, t *acl.Txn, m *h1.Msg, head []byte, request bool, dst []byte, res *legacyResult) ([]byte, error) {
	first, hs := headLines(m, head, request)
	first, hs, err := applyLegacy(rules, t, first, hs, res)
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
