package runtime

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/runtime/cache"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"

	"golang.org/x/sys/unix"
)

// httpRule is a compiled http-request or http-response rule.
type httpRule struct {
	act  string
	cond *acl.Cond
	// name is a header name, match how del-header compares it.
	name      []byte
	match     nameMatch
	nameRe    *regexp.Regexp
	value     *logging.Format
	re        *regexp.Regexp
	status    int
	reason    string
	ctype     string
	body      []byte
	bodyFmt   *logging.Format
	hdrs      []ruleHdr
	errorPage bool
	// pages holds the page of an errorfile or errorfiles answer.
	pages *errorSet
	// expr is the sample of set-src, set-dst and their ports, and of
	// set-var; varScope and varName name the variable.
	expr     *acl.Sample
	varScope uint8
	varName  string
	varConds acl.VarConds
	// redirect
	redir                  string
	literal                string
	dropQuery, appendSlash bool
	ignoreEmpty            bool
	setCookie, clearCookie string
	// realm is auth's realm; tarpit the time tarpit holds the client.
	realm  string
	tarpit time.Duration
	// cache is the cache of cache-use and cache-store (cache.go).
	cacheName string
	cache     *cache.Cache
	// stk is the operand of the stick-table actions.
	stk stickAct
	// capID is the capture slot a capture rule fills.
	capID int
	// norm is normalize-uri's normalizer.
	norm acl.URINormalizer
	// edit is the head-editing action, edNone for the others; constVal
	// is the value of a format without samples, rendered once.
	edit     editOp
	constVal []byte
	// condReads and valReads are what the condition and the value read
	// of the message, changes what the edit changes: header edits are
	// written to the message only once something reads what they change.
	condReads, valReads, changes acl.Reads
	// logLevel is set-log-level's, nice set-nice's; timeout
	// set-timeout's fixed value.
	logLevel, nice int
	timeout        time.Duration
	// atLeast is wait-for-body's byte count.
	atLeast int64
	// pos places the rule for last_rule_file and last_rule_line.
	pos parser.Pos
	// maps and refName find the pattern reference of add-acl, del-acl,
	// set-map and del-map when they run (the conditions that load it may
	// come later); mapVal is set-map's value, the key being value.
	maps    *acl.Maps
	refName string
	// family is do-resolve's "ipv4" or "ipv6" (refName its resolvers).
	family string
	mapVal *logging.Format
}

// nameMatch is how a header rule compares names ("str", "beg", ...).
type nameMatch uint8

const (
	matchStr nameMatch = iota
	matchBeg
	matchEnd
	matchSub
	matchReg
)

var matchKinds = map[string]nameMatch{"": matchStr, "str": matchStr, "beg": matchBeg, "end": matchEnd, "sub": matchSub, "reg": matchReg}

// editOp is a head-editing action, so that rules switch on a number and
// not on the action's name for every request.
type editOp uint8

const (
	edNone editOp = iota
	edSetHeader
	edAddHeader
	edDelHeader
	edReplaceHeader
	edReplaceValue
	edNormalizeURI
	edSetMethod
	edSetURI
	edReplaceURI
	edPath
	edSetStatus
)

var editOps = map[string]editOp{
	"set-header": edSetHeader, "add-header": edAddHeader, "del-header": edDelHeader,
	"replace-header": edReplaceHeader, "replace-value": edReplaceValue, "normalize-uri": edNormalizeURI,
	"set-method": edSetMethod, "set-uri": edSetURI, "replace-uri": edReplaceURI,
	"set-path": edPath, "set-pathq": edPath, "set-query": edPath, "replace-path": edPath, "replace-pathq": edPath,
	"set-status": edSetStatus,
}

type ruleHdr struct {
	name  string
	value *logging.Format
}

// ownRules gives rules what comes from the proxy that declares them: the
// realm auth defaults to and timeout tarpit (timeout connect when unset).
func ownRules(rules []httpRule, p *parser.Proxy) []httpRule {
	for i := range rules {
		r := &rules[i]
		if r.realm == "" {
			r.realm = p.Name
		}
		if r.tarpit = p.Timeouts["tarpit"]; r.tarpit == 0 {
			r.tarpit = p.Timeouts["connect"]
		}
	}
	return rules
}

// compileHTTPRules compiles a proxy's rules of one direction.
func compileHTTPRules(cfg *parser.Config, rules []*parser.HTTPRule, set *acl.Set, fail func(parser.Pos, string, ...any)) []httpRule {
	var out []httpRule
	ctx := set.Context()
	for _, r := range rules {
		if r.Refused != "" {
			// Refused as a line already (Config.Refusals).
			continue
		}
		hr := httpRule{act: r.Action, name: []byte(strings.ToLower(r.Name)), match: matchKinds[r.Match],
			status: r.Status, reason: r.Reason, ctype: r.ContentType, errorPage: r.DefaultErrorfiles,
			redir: r.RedirType, dropQuery: r.DropQuery, appendSlash: r.AppendSlash, ignoreEmpty: r.IgnoreEmpty,
			setCookie: r.SetCookie, clearCookie: r.ClearCookie, realm: r.Realm, capID: r.CaptureID,
			logLevel: r.LogLevel, nice: r.Nice, timeout: r.Timeout, atLeast: r.AtLeast, pos: r.Pos}
		bad := func(format string, a ...any) {
			fail(r.Pos, "'%s %s': %s", r.Keyword, r.Text, fmt.Sprintf(format, a...))
		}
		var err error
		if len(r.Cond) > 0 {
			if hr.cond, err = set.ParseCondAt(r.Cond, r.Where); err != nil {
				bad("condition: %v", err)
				continue
			}
		}
		if r.Regex != "" {
			if hr.re, err = regexp.Compile(r.Regex); err != nil {
				bad("regex: %v", err)
				continue
			}
		}
		if hr.match == matchReg {
			if hr.nameRe, err = regexp.Compile(r.Name); err != nil {
				bad("regex: %v", err)
				continue
			}
		}
		if r.Var != "" {
			if hr.varScope, hr.varName, hr.varConds, err = parseVarSpec(r.Var); err != nil {
				bad("%v", err)
				continue
			}
			ctx.DeclareVar(hr.varScope, hr.varName)
		}
		if r.Stick != nil {
			if hr.stk, err = compileStickAct(r.Stick, r.Action, ctx); err != nil {
				bad("%v", err)
				continue
			}
		}
		if r.Expr != "" {
			if hr.expr, err = acl.CompileSampleWith(r.Expr, ctx); err != nil {
				bad("'%s' is not supported by the gohap runtime yet", r.Expr)
				continue
			}
		}
		if r.Keyword == "redirect" && !strings.Contains(r.Fmt, "%") {
			// The redirect keyword with a literal target (HAProxy's
			// "old" rule): a prefix of "/" adds nothing.
			hr.literal = r.Fmt
		} else if r.Fmt != "" || r.Action == "set-header" || r.Action == "add-header" || r.Action == "replace-header" ||
			r.Action == "replace-value" || r.Action == "set-query" {
			if hr.value, err = ruleFormat(r.Fmt, ctx); err != nil {
				bad("%v", err)
				continue
			}
		}
		switch r.Action {
		case "do-resolve":
			hr.refName, hr.family = r.Resolvers, r.Family
		case "normalize-uri":
			if hr.norm, _, err = acl.ParseURINormalizer(strings.Fields(r.Name)); err != nil {
				bad("%v", err)
				continue
			}
		case "add-acl", "del-acl", "set-map", "del-map":
			hr.name, hr.maps, hr.refName = nil, ctx.Maps, r.Name
			if r.Action == "set-map" {
				if hr.mapVal, err = ruleFormat(r.MapValue, ctx); err != nil {
					bad("%v", err)
					continue
				}
			}
		}
		if r.BodyFmt != "" {
			if hr.bodyFmt, err = ruleFormat(r.BodyFmt, ctx); err != nil {
				bad("%v", err)
				continue
			}
		} else if r.Body != "" {
			hr.body = []byte(r.Body)
		}
		if page := cfg.ReplyPage(r, ruleStatus(r.Action, r.Status, r.Keyword != "http-response")); page != nil {
			hr.pages = newErrorSet(map[int][]byte{ruleStatus(r.Action, r.Status, r.Keyword != "http-response"): page})
		}
		for _, h := range r.Hdrs {
			f, err := ruleFormat(h[1], ctx)
			if err != nil {
				bad("%v", err)
				continue
			}
			hr.hdrs = append(hr.hdrs, ruleHdr{name: strings.ToLower(h[0]), value: f})
		}
		if hr.edit = editOps[hr.act]; hr.edit != edNone && hr.value != nil && hr.value.IsConst() {
			hr.constVal = hr.value.Append([]byte{}, &logging.Record{})
		}
		hr.condReads, hr.changes = hr.cond.Reads(), hr.editChanges()
		if hr.value != nil && hr.constVal == nil {
			hr.valReads = formatReads(r.Fmt, ctx)
		}
		hr.cacheName = r.Cache
		out = append(out, hr)
	}
	return out
}

// formatReads is what a rule's log-format argument reads of the message:
// its samples' fetches; any other variable counts as reading all of it.
func formatReads(text string, ctx *acl.Context) acl.Reads {
	var r acl.Reads
	nodes, err := logfmt.ParseWith(text, logfmt.Options{HTTP: true, Flags: logfmt.OptHTTP})
	if err != nil {
		return acl.Reads{Other: true}
	}
	for _, n := range nodes {
		switch n.Kind {
		case logfmt.Text, logfmt.Separator:
		case logfmt.Expr:
			smp, err := acl.CompileSampleWith(n.Expr, ctx)
			if err != nil {
				return acl.Reads{Other: true}
			}
			r.Add(smp.Reads())
		default:
			r.Other = true
		}
	}
	return r
}

// editChanges is what the rule's edit changes of the message.
func (r *httpRule) editChanges() acl.Reads {
	switch r.edit {
	case edNone:
		return acl.Reads{}
	case edSetHeader, edAddHeader, edDelHeader, edReplaceHeader, edReplaceValue:
		if r.match == matchStr {
			return acl.Reads{Hdrs: []string{string(r.name)}}
		}
	case edPath, edSetMethod, edNormalizeURI:
		return acl.Reads{Line: true}
	}
	// A new target may name the authority (uriToHost), a status
	// drop the length headers.
	return acl.Reads{Other: true}
}

// ruleFormat compiles a log-format argument of a rule.
func ruleFormat(text string, ctx *acl.Context) (*logging.Format, error) {
	nodes, err := logfmt.ParseWith(text, logfmt.Options{HTTP: true, Flags: logfmt.OptHTTP})
	if err != nil {
		return nil, err
	}
	f, err := logging.Compile(nodes, logSampler(ctx))
	if err != nil {
		return nil, err
	}
	f.MaxLen = 1 << 16
	return f, nil
}

// msgEdit is a head being edited by rules: its start line's three parts
// and its headers, rebuilt and parsed again after each change so that the
// next rule's condition sees it.
type msgEdit struct {
	first [3][]byte
	hdrs  [][2][]byte
	// names has the bit nameBit(n) of each name n in hdrs set (and of
	// some that went): a set-header whose name's bit is clear has no
	// occurrence to look for.
	names uint64
	// loaded says first and hdrs hold the head; dirty that they were
	// edited since it was written; emptied that a set-status to a
	// bodiless status dropped the length headers.
	loaded, dirty, emptied bool
}

func (m *msgEdit) load(head []byte, msg *h1.Msg, request bool) {
	m.loaded = true
	if request {
		m.first = [3][]byte{msg.Method.Of(head), msg.URI.Of(head), msg.Version.Of(head)}
	} else {
		m.first = [3][]byte{msg.Version.Of(head), msg.Code.Of(head), msg.Reason.Of(head)}
	}
	m.hdrs, m.names = m.hdrs[:0], 0
	for _, h := range msg.Headers {
		n := h.Name.Of(head)
		m.hdrs = append(m.hdrs, [2][]byte{n, h.Out(head)})
		m.names |= nameBit(n)
	}
}

// nameBit is a header name's bit in msgEdit.names, from its length and
// its last byte, case folded: names that differ there, as rules' names
// often do, fall on different bits.
func nameBit(n []byte) uint64 {
	if len(n) == 0 {
		return 1
	}
	return 1 << ((uint(len(n))*7 + uint(n[len(n)-1]|0x20)) & 63)
}

// cost is htxCost of the edited head.
func (m *msgEdit) cost(request bool) int {
	n := 8 + 20 + 8 + 8
	if request {
		n += len(m.first[0]) + len(m.first[1])
	} else {
		n += 3 + len(m.first[2])
	}
	for _, h := range m.hdrs {
		n += 8 + len(h[0]) + len(h[1])
	}
	return n
}

// rewriteRoom is what HAProxy's buffer holds of the message's body when
// its rules run (bodyHTX, taken when the head was read), and the size
// that head and body may take after rewrites.
func (s *session) rewriteRoom(request bool) (body, room int) {
	body = s.rspBodyHTX
	if request {
		body = s.reqBodyHTX
	}
	return body, s.fe.bufSize - 49
}

// bodyHTX is the body data HAProxy holds with a head just read: what came
// with it, up to the size at which it stops reading (tune.bufsize less
// tune.maxrewrite), in one data block.
func (s *session) bodyHTX(msg *h1.Msg, request bool, avail int) int {
	if msg.Body == h1.BodyNone || avail <= 0 {
		return 0
	}
	if lim := s.fe.htxLimit - htxCost(msg, request) - 8; avail > lim {
		avail = max(lim, 0)
	}
	return 8 + avail
}

// build writes the edited head into dst.
func (m *msgEdit) build(dst []byte) []byte {
	out := append(dst[:0], m.first[0]...)
	out = append(out, ' ')
	out = append(out, m.first[1]...)
	if len(m.first[2]) > 0 || !bytes.HasPrefix(m.first[0], []byte("HTTP/")) {
		out = append(out, ' ')
		out = append(out, m.first[2]...)
	}
	out = append(out, "\r\n"...)
	for _, h := range m.hdrs {
		out = append(out, h[0]...)
		out = append(out, ": "...)
		out = append(out, h[1]...)
		out = append(out, "\r\n"...)
	}
	return append(out, "\r\n"...)
}

func (r *httpRule) nameMatches(n []byte) bool {
	switch r.match {
	case matchStr:
		return len(n) == len(r.name) && foldedEq(n, r.name)
	case matchBeg:
		return len(n) >= len(r.name) && foldedEq(n[:len(r.name)], r.name)
	case matchEnd:
		return len(n) >= len(r.name) && foldedEq(n[len(n)-len(r.name):], r.name)
	case matchSub:
		return bytes.Contains(bytes.ToLower(n), r.name)
	case matchReg:
		return r.nameRe.Match(n)
	}
	return false
}

// foldedEq compares n, of lower's length, with the lowercase lower,
// ignoring the case of ASCII letters in n (header names are tokens).
func foldedEq(n, lower []byte) bool {
	for i, c := range n {
		if l := lower[i]; c != l && (c|0x20 != l || l < 'a' || l > 'z') {
			return false
		}
	}
	return true
}

// ruleResult is what a rule set decided.
type ruleResult int

const (
	ruleContinue ruleResult = iota
	ruleAllow
	ruleAnswered
	ruleBad
	// ruleErr is a rewrite that did not fit in strict mode: 500.
	ruleErr
	// ruleTimeout is a response body that did not come in time: 504.
	ruleTimeout
)

// requestRules runs the http-request rules of a proxy on the request
// head, which it may replace. done says the rules answered the request
// (or refused it), keep then whether the connection goes on. fe says
// the rules are the frontend's, whose own answers (return, redirect,
// auth) count as intercepted requests, as HAProxy counts them when the
// stream's backend is still the frontend.
func (s *session) requestRules(rules []httpRule, head *[]byte, fe bool) (done, keep bool) {
	if len(rules) == 0 {
		return false, false
	}
	nh, res, keep := s.runRules(rules, *head, true, &s.req)
	s.noteLastRule(res)
	if res == ruleAnswered && fe && s.curRule != nil {
		switch s.curRule.act {
		case "return", "redirect", "auth":
			s.e.g.feCounters(s.fe).addIntercepted()
		}
	}
	switch res {
	case ruleAnswered:
		return true, keep
	case ruleBad:
		// HAProxy closes after a rule's bad request.
		return true, s.errorReply(400, false)
	case ruleErr:
		// HAProxy keeps a connection whose request had no body.
		return true, s.errorReply(500, s.req.Body == h1.BodyNone)
	}
	*head = nh
	return false, false
}

func (s *session) runRules(rules []httpRule, head []byte, request bool, msg *h1.Msg) ([]byte, ruleResult, bool) {
	if len(rules) == 0 {
		return head, ruleContinue, false
	}
	s.prepareRecord()
	s.used |= scratchEd
	ed := &s.ed
	ed.loaded, ed.dirty, ed.emptied = false, false, false
	s.edVals = s.edVals[:0]
	// Rewrites must fit in HAProxy's buffer: the head and the body data
	// it holds, at most tune.bufsize less its own header. Each rule set
	// starts in strict mode, where a rewrite that does not fit is an
	// error; strict-mode off cancels it instead.
	strict := true
	body, room := s.rewriteRoom(request)
	cost := htxCost(msg, request) + body
	// hdr() and its kin read the response in response rules.
	s.txn.Dir = acl.DirReq
	from := stkHTTPReq
	if !request {
		s.txn.Dir, from = acl.DirRes, stkHTTPRes
	}
	s.curRule = nil
	// pend is what the edits not yet written change. Request rules see
	// only the request, which is all they edit; response rules may read
	// either, and write their edits before any read.
	pend := &s.edPend
	pend.Reset()
	for i := range rules {
		r := &rules[i]
		// Consecutive header edits are applied to the head once, before
		// anything reads what they changed: a condition, a sample, an
		// answer or the end of the rules.
		if ed.dirty && r.cond != nil && (!request || r.condReads.Sees(*pend)) {
			if !s.flushEdit(ed, &head, request, msg) {
				return head, ruleBad, false
			}
		}
		if r.cond != nil && !r.cond.Eval(&s.txn) {
			continue
		}
		if ed.dirty && (r.edit == edNone || r.value != nil && r.constVal == nil && (!request || r.valReads.Sees(*pend))) {
			if !s.flushEdit(ed, &head, request, msg) {
				return head, ruleBad, false
			}
		}
		// A rule that ends the set is the stream's last rule
		// (noteLastRule); allow, deny and tarpit are already for their
		// own answer, the others' answers are made before, as in HAProxy.
		s.curRule = r
		if r.edit == edNone {
			switch r.act {
			case "allow":
				s.noteLastRule(ruleAllow)
				return head, ruleAllow, false
			case "deny", "return":
				if r.act == "deny" {
					s.noteLastRule(ruleAnswered)
					s.countDenied(!request)
				}
				keep := s.ruleAnswer(r, request)
				return head, ruleAnswered, keep
			case "tarpit":
				s.noteLastRule(ruleAnswered)
				s.countDenied(false)
				return head, ruleAnswered, s.tarpit(r)
			case "use-service":
				return head, ruleAnswered, s.promexAnswer(head)
			case "auth":
				return head, ruleAnswered, s.authReply(r.realm)
			case "reject", "silent-drop":
				s.dropClient(r.act == "silent-drop")
				return head, ruleAnswered, false
			case "disable-l7-retry":
				s.noL7Retry = true
				continue
			case "redirect":
				answered, keep := s.redirect(r, head, request)
				if !answered {
					continue
				}
				return head, ruleAnswered, keep
			case "set-src", "set-dst", "set-src-port", "set-dst-port":
				s.setAddr(r)
				continue
			case "set-priority-class", "set-priority-offset":
				s.setPriority(r.act, r.expr)
				continue
			case "set-var", "set-var-fmt", "unset-var":
				s.setVar(r)
				continue
			case "do-resolve":
				s.doResolve(r)
				continue
			case "capture":
				s.captureSample(r, request)
				continue
			case "set-log-level":
				s.setLogLevel(r.logLevel)
				continue
			case "set-nice":
				s.setNice(r.nice)
				continue
			case "strict-mode":
				strict = r.status != 0
				continue
			case "add-acl", "del-acl", "set-map", "del-map":
				s.updatePatterns(r)
				continue
			case "set-mark", "set-tos":
				s.setClientSockopt(r.act == "set-mark", r.status)
				continue
			case "wait-for-handshake":
				// A TLS handshake always completes before gohap reads a
				// request (it accepts no early data): nothing to wait for.
				continue
			case "early-hint":
				if s.earlyHint(r) != nil {
					return head, ruleAnswered, false
				}
				continue
			case "wait-for-body":
				wait := r.timeout
				if wait == 0 {
					// No time of its own: the client timeout still holds.
					wait = s.fe.Client
				}
				if !request {
					if !s.waitResponseBody(wait, r.atLeast) {
						// The body did not come in time: 504.
						return head, ruleTimeout, false
					}
					continue
				}
				if done, keep := s.waitBody(wait, r.atLeast); done {
					return head, ruleAnswered, keep
				}
				continue
			case "set-timeout":
				s.setTimeout(r)
				continue
			case "track-sc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-inc-gpc", "sc-set-gpt0", "sc-set-gpt":
				s.stickAction(r.act, &r.stk, r.expr, from)
				continue
			case "cache-use", "cache-store":
				head = s.cacheRule(r, head, msg)
				continue
			}
		}
		if !ed.loaded {
			ed.load(head, msg, request)
		}
		val := r.constVal
		if val == nil && r.value != nil {
			start := len(s.edVals)
			s.edVals = r.value.Append(s.edVals, &s.rec)
			val = s.edVals[start:len(s.edVals):len(s.edVals)]
		}
		// found says set-header has occurrences to drop (del-header
		// always looks).
		found := r.edit == edDelHeader && (r.match != matchStr || ed.names&nameBit(r.name) != 0)
		if r.edit == edSetHeader || r.edit == edAddHeader {
			delta := 8 + len(r.name) + len(val)
			if r.edit == edSetHeader && (r.match != matchStr || ed.names&nameBit(r.name) != 0) {
				for i := range ed.hdrs {
					h := &ed.hdrs[i]
					if (r.match != matchStr || len(h[0]) == len(r.name)) && r.nameMatches(h[0]) {
						delta -= 8 + len(h[0]) + len(h[1])
						found = true
					}
				}
			}
			if cost+delta > room {
				if strict {
					return head, ruleErr, false
				}
				continue
			}
			cost += delta
		}
		switch r.edit {
		case edSetHeader, edDelHeader:
			if found {
				kept := ed.hdrs[:0]
				for _, h := range ed.hdrs {
					if !r.nameMatches(h[0]) {
						kept = append(kept, h)
					}
				}
				ed.hdrs = kept
			}
			if r.edit == edSetHeader {
				ed.hdrs = append(ed.hdrs, [2][]byte{r.name, val})
				ed.names |= nameBit(r.name)
				if request && string(r.name) == "host" && !s.hostToAuthority(ed, val) && strict {
					return head, ruleErr, false
				}
			}
		case edAddHeader:
			ed.hdrs = append(ed.hdrs, [2][]byte{r.name, val})
			ed.names |= nameBit(r.name)
			if request && string(r.name) == "host" && !s.hostToAuthority(ed, val) && strict {
				return head, ruleErr, false
			}
		case edReplaceHeader, edReplaceValue:
			host := request && string(r.name) == "host"
			for j, h := range ed.hdrs {
				if !bytes.EqualFold(h[0], r.name) {
					continue
				}
				if r.edit == edReplaceHeader {
					ed.hdrs[j][1] = replaceAll(r.re, h[1], val)
					if host && !s.hostToAuthority(ed, ed.hdrs[j][1]) && strict {
						return head, ruleErr, false
					}
					continue
				}
				// Each value of the list, without its leading blanks,
				// joined again with bare commas, as HAProxy does.
				var nv []byte
				for k, item := range bytes.Split(h[1], []byte(",")) {
					if k > 0 {
						nv = append(nv, ',')
					}
					nv = append(nv, replaceAll(r.re, bytes.TrimLeft(item, " \t"), val)...)
				}
				ed.hdrs[j][1] = nv
				if host && !s.hostToAuthority(ed, nv) && strict {
					return head, ruleErr, false
				}
			}
		case edNormalizeURI:
			start := len(s.edVals)
			out, ok, err := acl.NormalizeURI(s.edVals, ed.first[1], r.norm)
			switch {
			case err == acl.ErrURIInvalid:
				// A strict normalizer's refusal: 400.
				return head, ruleBad, false
			case err != nil:
				return head, ruleAnswered, s.errorReply(500, true)
			case !ok:
				// No path to normalize: the target stays.
				continue
			}
			s.edVals = out
			ed.first[1] = out[start:len(out):len(out)]
		case edSetMethod:
			ed.first[0] = val
		case edSetURI, edReplaceURI:
			uri := ed.first[1]
			if abs, ok := acl.AbsTarget(nil, s.txn.Origin, uri); ok {
				// HAProxy holds an HTTP/2 request's target in
				// absolute form: that is what these rules see.
				uri = abs
			}
			res := val
			if r.edit == edReplaceURI {
				if !r.re.Match(uri) {
					// No match, no change: the target stays as it was.
					continue
				}
				res = editURI(r, uri, val)
			}
			// The target as set is the target: an HTTP/2 request's
			// origin goes with the old one.
			s.txn.Origin = ""
			ed.first[1] = res
			if absoluteHTTP(res) && string(ed.first[0]) != "CONNECT" {
				// http_update_host adds the scheme's flag, never
				// takes it away.
				s.txn.SchemeHTTP = true
			}
			if !uriToHost(ed, res) && strict {
				return head, ruleErr, false
			}
		case edPath:
			ed.first[1] = s.editPath(r, ed.first[1], val)
		case edSetStatus:
			ed.first[1] = []byte(strconv.Itoa(r.status))
			reason := r.reason
			if reason == "" {
				reason = parser.ReasonPhrase(r.status)
			}
			ed.first[2] = []byte(reason)
			if r.status < 200 || r.status == 204 {
				// These have no body: HAProxy's HTTP/1 output drops
				// the length headers.
				kept := ed.hdrs[:0]
				for _, h := range ed.hdrs {
					if !bytes.EqualFold(h[0], []byte("content-length")) && !bytes.EqualFold(h[0], []byte("transfer-encoding")) {
						kept = append(kept, h)
					}
				}
				ed.hdrs = kept
				ed.emptied = true
			}
		}
		ed.dirty = true
		pend.Add(r.changes)
		if r.edit != edSetHeader && r.edit != edAddHeader {
			if cost = ed.cost(request) + body; cost > room && strict {
				return head, ruleErr, false
			}
		}
	}
	if ed.dirty && !s.flushEdit(ed, &head, request, msg) {
		return head, ruleBad, false
	}
	return head, ruleContinue, false
}

// hostToAuthority gives a target that names an authority (absolute or
// CONNECT form, an HTTP/2 request's origin) the Host a rule set, as
// HAProxy's http_update_authority does; the userinfo stays. false means
// the target's authority is empty: HAProxy's rewrite fails.
func (s *session) hostToAuthority(ed *msgEdit, host []byte) bool {
	if o := s.txn.Origin; o != "" {
		nu, ok := withAuthority([]byte(o), host)
		if ok {
			s.txn.Origin = string(nu)
		}
		return ok
	}
	uri := ed.first[1]
	if string(ed.first[0]) != "CONNECT" && (len(uri) == 0 || uri[0] == '/' || uri[0] == '*') {
		return true
	}
	nu, ok := withAuthority(uri, host)
	if ok {
		ed.first[1] = nu
	}
	return ok
}

// withAuthority is target with host in place of its authority
// (authoritySpan); false when that authority is empty.
func withAuthority(target, host []byte) ([]byte, bool) {
	start, end := authoritySpan(target)
	if end == start {
		return nil, false
	}
	if bytes.Equal(target[start:end], host) {
		return target, true
	}
	nu := make([]byte, 0, len(target)-(end-start)+len(host))
	return append(append(append(nu, target[:start]...), host...), target[end:]...), true
}

// flushEdit writes the edited head and parses it again, so that what
// follows reads the new message. A rule may not change the framing,
// but a status without a body drops an empty one's length. false means
// the edited head is not a valid message.
func (s *session) flushEdit(ed *msgEdit, head *[]byte, request bool, msg *h1.Msg) bool {
	ed.dirty, ed.loaded = false, false
	s.edPend.Reset()
	// The edit reads the current head: it is written to the other of
	// the direction's two buffers.
	bufp := &s.rw
	if !request {
		bufp = &s.rwr
	}
	if cur := *bufp; cap(cur) > 0 && len(*head) > 0 && &cur[:1][0] == &(*head)[0] {
		bufp = &s.rwAlt
	}
	out := ed.build(s.rwBuf(bufp))
	var perr error
	body, length, teCL := msg.Body, msg.Length, msg.HasTE && msg.HasCL
	if request {
		perr = h1.ParseOwnRequest(out, msg, math.MaxInt)
	} else {
		perr = h1.ParseOwnResponse(out, msg, math.MaxInt)
	}
	if teCL && msg.HasTE {
		// The Content-Length went at the first parse; the close it
		// forces stays.
		msg.HasCL = true
		if request {
			msg.Conn |= h1.ConnClose
		}
	}
	emptied := ed.emptied && msg.Body == h1.BodyNone && (body == h1.BodyNone || body == h1.BodyLength && length == 0)
	ed.emptied = false
	if perr == nil && !request && body == h1.BodyNone && (msg.Body == h1.BodyUntilClose || msg.Body == h1.BodyLength && msg.Length == 0) {
		// An answer that had no body (a 204, say, whose status a rule
		// changed) still has none: HAProxy holds its end already.
		msg.Body, msg.Length = h1.BodyNone, 0
	}
	if perr == nil && !request && msg.Body == h1.BodyUntilClose && !msg.HasCL && !msg.HasTE &&
		(body == h1.BodyLength || body == h1.BodyChunked && msg.Minor != 0) {
		// A rule removed the answer's length: HAProxy keeps the
		// framing it read, and its HTTP/1 side chunks the body.
		msg.Body, msg.Length = body, length
		s.rspRechunk = true
	}
	if perr == nil && request && msg.Body == h1.BodyNone && !msg.HasCL && !msg.HasTE &&
		(body == h1.BodyLength || body == h1.BodyChunked && msg.Minor != 0) {
		// A rule removed the request's length: HAProxy keeps the
		// framing it read; its HTTP/1 side chunks an HTTP/1.1 body
		// and sends an HTTP/1.0 one as it is.
		msg.Body, msg.Length = body, length
		s.reqRechunk = msg.Minor != 0 && (body == h1.BodyChunked || length > 0)
	}
	if perr == nil && !request && msg.Body == h1.BodyNone && (msg.Status < 200 || msg.Status == 204 || msg.Status == 304) &&
		(body == h1.BodyChunked || body == h1.BodyLength && length > 0) {
		// A status a rule set, which has no body: HAProxy reads the
		// server's and drops it.
		msg.Body, msg.Length = body, length
		s.rspDropBody = true
	}
	if perr != nil || (msg.Body != body || msg.Length != length) && !emptied {
		return false
	}
	*bufp = out
	*head = out
	if request {
		s.txn.Buf = out
	} else {
		s.txn.RspBuf = out
	}
	return true
}

// replaceAll replaces what re matches in v with the expansion of repl,
// where \1..\9 name the groups, as HAProxy's exp_replace.
func replaceAll(re *regexp.Regexp, v, repl []byte) []byte {
	m := re.FindSubmatchIndex(v)
	if m == nil {
		return v
	}
	var out []byte
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c == '\\' && i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
			g := int(repl[i+1] - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				out = append(out, v[m[2*g]:m[2*g+1]]...)
			}
			i++
			continue
		}
		out = append(out, c)
	}
	// The whole value is replaced by the expansion, as HAProxy does.
	return out
}

// uriToHost gives the Host fields the authority of a target a rule set,
// as HAProxy's http_update_host: an absolute target's (without its
// userinfo), a CONNECT's whole target; an origin or asterisk form
// leaves Host. false means that authority is empty: HAProxy's rewrite
// fails.
func uriToHost(ed *msgEdit, uri []byte) bool {
	if len(uri) == 0 || uri[0] == '/' || uri[0] == '*' {
		return true
	}
	auth := uri
	if string(ed.first[0]) != "CONNECT" {
		start, end := authoritySpan(uri)
		auth = uri[start:end]
	}
	if len(auth) == 0 {
		return false
	}
	for k := range ed.hdrs {
		if bytes.EqualFold(ed.hdrs[k][0], []byte("host")) {
			ed.hdrs[k][1] = auth
		}
	}
	return true
}

// authoritySpan is where the authority of a target that does not start
// with '/' or '*' lies, as http_parse_authority finds it without the
// userinfo: after "scheme://" when there is one, up to the first '/',
// after the last '@'.
func authoritySpan(uri []byte) (start, end int) {
	start = schemeEnd(uri)
	end = start
	for end < len(uri) && uri[end] != '/' {
		if uri[end] == '@' {
			start = end + 1
		}
		end++
	}
	return start, end
}

// schemeEnd is where a target's "scheme://" ends, or 0 when it has none
// (http_parse_scheme: a letter, then letters, digits, '+', '-', '.').
func schemeEnd(uri []byte) int {
	if len(uri) == 0 || uri[0]|0x20 < 'a' || uri[0]|0x20 > 'z' {
		return 0
	}
	i := 1
	for i < len(uri) {
		c := uri[i]
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			break
		}
		i++
	}
	if len(uri) < i+3 || string(uri[i:i+3]) != "://" {
		return 0
	}
	return i + 3
}

// editPath applies a path or query action to the request target,
// which HAProxy holds in absolute form when the session keeps its origin
// apart: the origin stays apart while the target keeps it.
func (s *session) editPath(r *httpRule, uri, val []byte) []byte {
	o := s.txn.Origin
	abs, ok := acl.AbsTarget(nil, o, uri)
	if !ok {
		return editURI(r, uri, val)
	}
	res := editURI(r, abs, val)
	if rest, ok := bytes.CutPrefix(res, []byte(o)); ok && (len(rest) == 0 || rest[0] == '/' || rest[0] == '?') {
		if len(rest) > 0 && rest[0] == '/' {
			return rest
		}
		// Still no path (acl.AbsTarget).
		return append([]byte{'*'}, rest...)
	}
	// The whole target was replaced: the path is the target.
	s.txn.Origin = ""
	return res
}

// editURI applies the path and query actions to a request target as
// HAProxy's http_replace_req_path and http_replace_req_query do: the
// path of an absolute target starts after its authority, and a target
// without a path (an asterisk, an authority, an absolute one that stops
// at its authority) is replaced whole by a new path, left alone by
// replace-path and replace-pathq; the query starts at the target's
// first '?', which an empty set-query keeps.
func editURI(r *httpRule, uri, val []byte) []byte {
	if r.act == "replace-uri" {
		return replaceAll(r.re, uri, val)
	}
	if r.act == "set-query" {
		if q := bytes.IndexByte(uri, '?'); q >= 0 {
			return append(append([]byte(nil), uri[:q+1]...), val...)
		}
		if len(val) == 0 {
			return uri
		}
		return append(append(append([]byte(nil), uri...), '?'), val...)
	}
	start, hasPath := acl.URIPathStart(uri)
	p := uri[start:]
	withQS := r.act == "set-pathq" || r.act == "replace-pathq"
	switch r.act {
	case "replace-path", "replace-pathq":
		subject := p
		if !withQS {
			if q := bytes.IndexByte(p, '?'); q >= 0 {
				subject = p[:q]
			}
		}
		if !hasPath || len(subject) == 0 || !r.re.Match(subject) {
			return uri
		}
		val = replaceAll(r.re, subject, val)
	}
	plen := len(p)
	if !withQS {
		if q := bytes.IndexByte(p, '?'); q >= 0 {
			plen = q
		}
	}
	out := append([]byte(nil), uri[:start]...)
	out = append(out, val...)
	return append(out, p[plen:]...)
}

// prepareRecord fills what rule formats may print of the stream.
func (s *session) prepareRecord() {
	s.used |= scratchRec
	r := &s.rec
	s.logAddrs(r)
	r.FrontendName = s.fe.Name
	r.BackendName = s.fe.Name
	if s.be != nil {
		r.BackendName = s.be.Name
	}
	r.Ctx = &s.txn
}

// render evaluates a rule's format; nil renders as empty.
func (s *session) render(f *logging.Format) []byte {
	if f == nil {
		return nil
	}
	// A fresh slice: the value lives in the edited head.
	return f.Append(make([]byte, 0, 64), &s.rec)
}

// ruleAnswer sends the answer of deny or return.
// ruleStatus is the status a deny or return answers with.
func ruleStatus(act string, status int, request bool) int {
	if status != 0 {
		return status
	}
	if act != "deny" {
		return 200
	}
	if request {
		return 403
	}
	return 502
}

func (s *session) ruleAnswer(r *httpRule, request bool) bool {
	status := ruleStatus(r.act, r.status, request)
	if r.pages != nil {
		return s.pageReply(r.pages, status, true)
	}
	if r.act == "deny" && r.body == nil && r.bodyFmt == nil && r.ctype == "" && len(r.hdrs) == 0 || r.errorPage {
		return s.errorReply(status, true)
	}
	out, body := s.buildReply(r, status)
	return s.sendAnswer(status, out, body)
}

// buildReply renders a return rule's answer: its head without the final
// CRLF, and its body.
func (s *session) buildReply(r *httpRule, status int) (head, body []byte) {
	body = r.body
	if r.bodyFmt != nil {
		body = s.render(r.bodyFmt)
	}
	reason := parser.ReasonPhrase(status)
	var out []byte
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	out = append(out, reason...)
	out = append(out, "\r\n"...)
	for _, h := range r.hdrs {
		// A header whose value renders empty is left out.
		v := s.render(h.value)
		if len(v) == 0 {
			continue
		}
		out = append(out, h.name...)
		out = append(out, ": "...)
		out = append(out, v...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "content-length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n"...)
	if len(body) > 0 && r.ctype != "" {
		out = append(out, "content-type: "...)
		out = append(out, r.ctype...)
		out = append(out, "\r\n"...)
	}
	return out, body
}

// sendAnswer ends and sends an answer the proxy makes: the connection
// closes when the request body is not all read.
func (s *session) sendAnswer(status int, head, body []byte) bool {
	s.txStatus, s.txFlags = status, logging.SFErrLocal|logging.SFFinstR
	keep := !s.forceClose && s.clientKeepAlive() && s.fe.ConnMode != modeClose && s.skipBufferedBody() && !s.e.stopping.Load()
	s.forceClose = false
	head = append(head, "\r\n"...)
	page := s.afterAnswer(append(head, body...))
	if !keep {
		// Added on the way out, after http-after-response rules.
		page = insertHeader(page, "connection: close")
	}
	page = s.fe.caseCli.adjusted(page)
	s.setReply(page)
	s.cl.send(s.headOnly(page))
	return keep
}

// headOnly cuts an answer the proxy makes to a HEAD request to its head:
// HAProxy's HTTP/1 and HTTP/2 sides send no body to a HEAD, whatever
// made the answer.
func (s *session) headOnly(page []byte) []byte {
	if !s.clientHEAD {
		return page
	}
	if i := bytes.Index(page, []byte("\r\n\r\n")); i >= 0 {
		return page[:i+4]
	}
	return page
}

// redirect answers with a redirection (http_apply_redirect_rule).
// answered is false when ignore-empty skipped it.
func (s *session) redirect(r *httpRule, head []byte, request bool) (answered, keep bool) {
	req := &s.req
	var loc []byte
	path := func() []byte {
		uri := req.URI.Of(head)
		p := uri
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			p = nil
			if j := bytes.IndexByte(uri[i+3:], '/'); j >= 0 {
				p = uri[i+3+j:]
			}
		}
		if len(p) == 0 {
			p = []byte("/")
		}
		if r.dropQuery {
			if q := bytes.IndexByte(p, '?'); q >= 0 {
				p = p[:q]
			}
		}
		return p
	}
	target := []byte(r.literal)
	if r.value != nil {
		target = s.render(r.value)
		if len(target) == 0 && r.ignoreEmpty {
			return false, false
		}
	}
	switch r.redir {
	case "scheme":
		loc = append(loc, target...)
		loc = append(loc, "://"...)
		loc = append(loc, req.Host.Of(head)...)
		loc = append(loc, path()...)
	case "prefix":
		if r.value != nil || r.literal != "/" {
			loc = append(loc, target...)
		}
		loc = append(loc, path()...)
	default:
		loc = target
	}
	if r.redir != "location" && r.appendSlash && len(loc) > 0 && loc[len(loc)-1] != '/' {
		loc = append(loc, '/')
	}
	code := r.status
	reason := map[int]string{301: "Moved Permanently", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect"}[code]
	if reason == "" {
		code, reason = 302, "Found"
	}
	var out []byte
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, ' ')
	out = append(out, reason...)
	out = append(out, "\r\ncontent-length: 0\r\nlocation: "...)
	out = append(out, loc...)
	out = append(out, "\r\n"...)
	if code == 302 || code == 303 || code == 307 {
		out = append(out, "cache-control: no-cache\r\n"...)
	}
	if r.setCookie != "" {
		out = append(out, "set-cookie: "+r.setCookie+"\r\n"...)
	}
	if r.clearCookie != "" {
		out = append(out, "set-cookie: "+r.clearCookie+"; Max-Age=0; Expires=Thu, 01-Jan-1970 00:00:01 GMT\r\n"...)
	}
	// A redirect keeps the connection only when the request has no body
	// (a Content-Length of 0 is none) or its end was forwarded (HAProxy's
	// HTTP_MSG_DONE), which is never so while its own rules run, even
	// with the body waited for.
	bodyless := s.req.Body == h1.BodyNone || s.req.Body == h1.BodyLength && s.req.Length == 0
	if !bodyless && (request || !s.bodyDone) {
		s.forceClose = true
	}
	return true, s.sendAnswer(code, out, nil)
}

// setAddr runs set-src, set-dst and their port forms: the connection's
// addresses as the rules, forwardfor, originalto and the log see them.
// An address keeps its port; a value that does not parse changes nothing.
func (s *session) setAddr(r *httpRule) { s.setAddrExpr(r.act, r.expr, false) }

// setAddrExpr sets the source or destination (or its port) to a sample's
// value; conn says a tcp-request connection rule changes the
// connection's own addresses, which fc_src and its kin then show too.
func (s *session) setAddrExpr(act string, expr *acl.Sample, conn bool) {
	v, ok := expr.Append(nil, &s.txn)
	if !ok {
		return
	}
	if !s.txn.ConnSrc.IsValid() {
		// From here the connection's addresses are kept apart.
		s.txn.ConnSrc, s.txn.ConnDst = s.txn.Src, s.txn.Dst
	}
	dst := act == "set-dst" || act == "set-dst-port"
	aps := [2]*netip.AddrPort{&s.txn.Src, &s.txn.ConnSrc}
	if dst {
		aps = [2]*netip.AddrPort{&s.txn.Dst, &s.txn.ConnDst}
	}
	n := 1
	if conn {
		// A connection rule changes the connection's too (a PROXY
		// header read later changes the stream's only).
		n = 2
	}
	for _, ap := range aps[:n] {
		switch act {
		case "set-src", "set-dst":
			if ip, err := netip.ParseAddr(strings.TrimSpace(string(v))); err == nil {
				*ap = netip.AddrPortFrom(ip, ap.Port())
			}
		default:
			if p, err := strconv.ParseUint(strings.TrimSpace(string(v)), 10, 16); err == nil {
				*ap = netip.AddrPortFrom(ap.Addr(), uint16(p))
			}
		}
	}
}

// setPriority runs set-priority-class and set-priority-offset: the
// stream's place in the queues, bounded as HAProxy's queue_limit_class
// and queue_limit_offset bound it; a value that is no integer changes
// nothing.
func (s *session) setPriority(act string, expr *acl.Sample) {
	n, ok := expr.Int(&s.txn)
	if !ok {
		return
	}
	if act == "set-priority-class" {
		s.txn.PrioClass = int(min(max(n, -0x7ff), 0x7ff))
	} else {
		s.txn.PrioOffset = int(min(max(n, -0x7ffff), 0x7ffff))
	}
}

// applyAfter runs the http-after-response rules, the backend's then the
// frontend's, on an answer's head held in msg; it returns the head to
// send. They see every answer, the proxy's own included.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) applyAfter(head []byte, msg *h1.Msg) []byte {
	var sets [2][]httpRule
	if be := s.be; be != nil {
		sets[0] = be.afterRules
		if be == s.fe.own {
			sets[1] = nil
		} else {
			sets[1] = s.fe.afterRules
		}
	} else {
		sets[1] = s.fe.afterRules
	}
	if len(sets[0]) == 0 && len(sets[1]) == 0 {
		return head
	}
	buf, rsp := s.txn.RspBuf, s.txn.Rsp
	s.txn.RspBuf, s.txn.Rsp = head, msg
	// After-response rules may run inside another set's answer.
	outer := s.curRule
	for _, rules := range sets {
		nh, res, _ := s.runRules(rules, head, false, msg)
		s.noteLastRule(res)
		if res == ruleBad {
			break
		}
		head = nh
	}
	s.curRule = outer
	s.txn.RspBuf, s.txn.Rsp = buf, rsp
	return head
}

// afterAnswer applies http-after-response rules to an answer the proxy
// makes itself, head and body in one page.
func (s *session) afterAnswer(page []byte) []byte {
	if !s.hasAfterRules() {
		return page
	}
	hl := h1.HeadEnd(page, 0)
	s.used |= scratchAmsg
	if hl == 0 || h1.ParseResponse(page[:hl], &s.amsg, s.fe.maxHdr) != nil {
		return page
	}
	nh := s.applyAfter(page[:hl], &s.amsg)
	return append(append([]byte(nil), nh...), page[hl:]...)
}

// setVar runs set-var, set-var-fmt and unset-var. A sample that yields
// nothing leaves the variable as it was, as in HAProxy.
func (s *session) setVar(r *httpRule) {
	s.runVar(r.act, r.varScope, r.varName, r.varConds, r.expr, r.value)
}

// runVar runs set-var (typed, from expr), set-var-fmt (a string, from
// format) or unset-var on the stream's or the process's variables.
func (s *session) runVar(act string, scope uint8, name string, conds acl.VarConds, expr *acl.Sample, format *logging.Format) {
	switch act {
	case "set-var":
		expr.SetVar(&s.txn, scope, name, conds)
		return
	case "set-var-fmt":
		v := acl.Value{Type: acl.TypeStr, B: s.render(format)}
		s.txn.SetVar(scope, name, &v, conds)
	case "unset-var":
		s.txn.UnsetVar(scope, name)
	}
}

// parseVarSpec reads "scope.name[,cond...]" of set-var and its kin.
func parseVarSpec(spec string) (scope uint8, name string, conds acl.VarConds, err error) {
	words := strings.Split(spec, ",")
	scope, name, ok := acl.ParseVarName(strings.TrimSpace(words[0]))
	if !ok {
		return 0, "", 0, fmt.Errorf("invalid variable name '%s'", words[0])
	}
	for i := range words[1:] {
		words[i+1] = strings.TrimSpace(words[i+1])
	}
	conds, err = acl.ParseVarConds(words[1:])
	return scope, name, conds, err
}

// tarpit holds the client for the rule's tarpit time, or until it
// leaves, then answers as deny does, 500 by default.
func (s *session) tarpit(r *httpRule) bool {
	t := time.NewTimer(r.tarpit)
	defer t.Stop()
	ctx, stop := s.watchClientClose(nil)
	select {
	case <-t.C:
		stop()
	case <-ctx.Done():
		stop()
		s.txStatus, s.txFlags = -1, logging.SFErrCliCl|logging.SFFinstT
		return false
	}
	d := *r
	d.act = "deny"
	if d.status == 0 {
		d.status = 500
	}
	keep := s.ruleAnswer(&d, true)
	s.txFlags = logging.SFErrPrxCond | logging.SFFinstT
	return keep
}

// legacyTarpit is reqtarpit's tarpit, HAProxy 1.x's 500 after the
// proxy's timeout tarpit. Not inlined: the rule it builds would take
// room in its caller's frame, on the stack of every stream.
//
//go:noinline
func (s *session) legacyTarpit(d time.Duration) bool {
	return s.tarpit(&httpRule{act: "tarpit", tarpit: d})
}

// authReply answers 401 with the page for 401 and a Basic challenge for
// realm, as HAProxy's http_reply_40x_unauthorized.
func (s *session) authReply(realm string) bool {
	// A proxied request under http-use-proxy-header asks for proxy
	// credentials.
	code, hdr := 401, "www-authenticate"
	if s.txn.ProxyAuth {
		code, hdr = 407, "proxy-authenticate"
	}
	page := s.errors().stream(code, false)
	hl := h1.HeadEnd(page, 0)
	if hl < 2 {
		return s.errorReply(code, true)
	}
	head := append(append([]byte(nil), page[:hl-2]...), hdr+": Basic realm=\""+realm+"\"\r\n"...)
	return s.sendAnswer(code, head, page[hl:])
}

// insertHeader adds a header line at the end of a response head.
func insertHeader(resp []byte, line string) []byte {
	hl := h1.HeadEnd(resp, 0)
	if hl < 2 {
		return resp
	}
	out := append(append([]byte(nil), resp[:hl-2]...), line+"\r\n\r\n"...)
	return append(out, resp[hl:]...)
}

// dropClient closes the client connection without an answer: reject
// resets it; silent-drop first sets its TTL to 1 so that, beyond the
// first hop, the client never learns it was closed.
func (s *session) dropClient(silent bool) {
	s.txStatus, s.txFlags = -1, logging.SFErrPrxCond|logging.SFFinstR
	if silent {
		if rc, err := s.cl.c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) {
				unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, 1)
				unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 1)
			})
		}
	}
	setLinger0(s.cl.c)
	s.linger = false
}

// setClientSockopt sets the netfilter mark (set-mark) or the IP TOS
// field (set-tos) of the packets sent to the client.
func (s *session) setClientSockopt(mark bool, v int) {
	rc, err := s.cl.c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if mark {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, v)
			return
		}
		if unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TOS, v) != nil {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_TCLASS, v)
		}
	})
}

// captureSample fills a capture slot with a sample, cut to the slot's
// length; a slot the frontend does not have is left alone.
func (s *session) captureSample(r *httpRule, request bool) { s.capture(r.expr, r.capID, request) }

// capture keeps the value of expr, cut to its slot's length, in the
// request or response capture slot id (a tcp-request content or an
// http-request/http-response capture).
func (s *session) capture(expr *acl.Sample, id int, request bool) {
	s.used |= scratchRec
	caps, slots, buf := s.rec.ReqCaps, s.fe.reqCaps, &s.capBuf
	if !request {
		caps, slots, buf = s.rec.ResCaps, s.fe.rspCaps, &s.capRspBuf
	}
	if request && len(caps) < len(slots) {
		// No head was captured: a tcp-request content capture in mode
		// tcp, the stream's first.
		if len(caps) == 0 {
			*buf = (*buf)[:0]
		}
		for len(caps) < len(slots) {
			caps = append(caps, nil)
		}
		s.rec.ReqCaps = caps
	}
	if id >= len(caps) || id >= len(slots) {
		return
	}
	start := len(*buf)
	v, ok := expr.Append(*buf, &s.txn)
	if !ok {
		return
	}
	if len(v)-start > slots[id].len {
		v = v[:start+slots[id].len]
	}
	*buf = v
	caps[id] = v[start:len(v):len(v)]
}

// setLogLevel overrides the level the stream is logged at.
func (s *session) setLogLevel(level int) {
	if level == parser.LevelSilent {
		s.logLevel = -1
	} else {
		s.logLevel = level + 1
	}
}

// setTimeout runs set-timeout: a sample gives milliseconds, and a value
// that is not a positive integer changes nothing.
func (s *session) setTimeout(r *httpRule) {
	d := r.timeout
	if r.expr != nil {
		var b [24]byte
		v, ok := r.expr.Append(b[:0], &s.txn)
		n, err := strconv.ParseInt(string(v), 10, 64)
		if !ok || err != nil || n <= 0 {
			return
		}
		d = time.Duration(n) * time.Millisecond
	}
	if string(r.name) == "tunnel" {
		s.toTunnel = d
	} else {
		s.toServer = d
	}
}

// updatePatterns runs add-acl, del-acl, set-map and del-map on the
// pattern reference that the configuration loaded under that name.
func (s *session) updatePatterns(r *httpRule) {
	if r.maps == nil {
		return
	}
	ref := r.maps.Lookup(r.refName)
	if ref == nil {
		return
	}
	key := string(s.render(r.value))
	switch r.act {
	case "add-acl":
		// Only when the key is not there yet.
		if found, _ := ref.Set(key, ""); !found {
			ref.Add(key, "")
		}
	case "set-map":
		val := string(s.render(r.mapVal))
		if found, _ := ref.Set(key, val); !found {
			ref.Add(key, val)
		}
	default:
		ref.Del(key)
	}
}

// earlyHint sends a 103 Early Hints answer with rule r's header, one per
// rule as HAProxy 2.6 sends them; HTTP/1.0 clients get none.
func (s *session) earlyHint(r *httpRule) error {
	if s.req.Minor != 1 {
		return nil
	}
	s.hints = append(s.hints[:0], "HTTP/1.1 103 Early Hints\r\n"...)
	s.hints = append(s.hints, r.name...)
	s.hints = append(s.hints, ": "...)
	s.hints = append(s.hints, s.render(r.value)...)
	s.hints = append(s.hints, "\r\n\r\n"...)
	return s.cl.send(s.fe.caseCli.adjusted(s.hints))
}

// restrictMode is option http-restrict-req-hdr-names.
type restrictMode uint8

const (
	restrictPreserve restrictMode = iota
	restrictDelete
	restrictReject
)

func restrictOption(p *parser.Proxy) restrictMode {
	if !p.Options["http-restrict-req-hdr-names"] {
		return restrictPreserve
	}
	switch a := p.OptionArgs["http-restrict-req-hdr-names"]; {
	case len(a) > 0 && a[0] == "delete":
		return restrictDelete
	case len(a) > 0 && a[0] == "reject":
		return restrictReject
	}
	return restrictPreserve
}

// restrictHeaderNames applies option http-restrict-req-hdr-names to the
// request head: names with a character other than a letter, a digit or
// '-' are removed, or the request is denied (false).
func (s *session) restrictHeaderNames(mode restrictMode, head *[]byte) bool {
	if mode == restrictPreserve {
		return true
	}
	bad := func(n []byte) bool {
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return true
			}
		}
		return false
	}
	found := false
	for _, h := range s.req.Headers {
		if bad(h.Name.Of(*head)) {
			found = true
			break
		}
	}
	if !found {
		return true
	}
	if mode == restrictReject {
		return false
	}
	s.used |= scratchEd
	ed := &s.ed
	ed.load(*head, &s.req, true)
	kept := ed.hdrs[:0]
	for _, h := range ed.hdrs {
		if !bad(h[0]) {
			kept = append(kept, h)
		}
	}
	ed.hdrs = kept
	return s.flushEdit(ed, head, true, &s.req)
}

// noteLastRule records the rule runRules stopped at when it ended the
// set (last_rule_file, last_rule_line).
func (s *session) noteLastRule(res ruleResult) {
	if res != ruleContinue && s.curRule != nil {
		s.txn.LastRuleFile, s.txn.LastRuleLine = s.curRule.pos.File, s.curRule.pos.Line
	}
}

// hasAfterRules tells whether http-after-response rules apply.
func (s *session) hasAfterRules() bool {
	return len(s.fe.afterRules) > 0 || s.be != nil && len(s.be.afterRules) > 0
}
