package runtime

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// tcpRule is a compiled tcp-request or tcp-response rule.
type tcpRule struct {
	act   string
	cond  *acl.Cond
	expr  *acl.Sample
	fmt   *logging.Format
	scope uint8
	name  string
	conds acl.VarConds
	// pos places the rule for last_rule_file and last_rule_line; proto
	// is switch-mode's.
	pos   parser.Pos
	proto string
	// stk is the operand of the stick-table actions; from says where
	// they run.
	stk  stickAct
	from int
	// logLevel is set-log-level's; mark set-mark's or set-tos's value;
	// nice set-nice's; stage the rule's (connection, session, content).
	logLevel, mark, nice int
	stage                string
	// refName and family are do-resolve's resolvers and "ipv4"/"ipv6".
	refName, family string
	// capID is capture's request capture slot.
	capID int
}

// tcpRules are a proxy's tcp rules by stage, with the inspection delays.
type tcpRules struct {
	conn, sess, content, response []tcpRule
	inspect, resInspect           time.Duration
}

// compileTCPRules compiles the tcp-request and tcp-response rules that p
// declares (those of the section named by want: the defaults' are
// inherited by the parser).
func compileTCPRules(p *parser.Proxy, set *acl.Set, fail func(parser.Pos, string, ...any)) tcpRules {
	var out tcpRules
	ctx := set.Context()
	for _, r := range p.TCPRequests {
		if r.Stage == "" {
			if r.Response {
				out.resInspect = r.InspectDelay
			} else {
				out.inspect = r.InspectDelay
			}
			continue
		}
		kw := "tcp-request"
		if r.Response {
			kw = "tcp-response"
		}
		bad := func(format string, a ...any) {
			fail(r.Pos, "'%s %s': %s", kw, r.Text, fmt.Sprintf(format, a...))
		}
		tr := tcpRule{act: r.Action, logLevel: r.LogLevel, mark: r.Mark, nice: r.Nice, stage: r.Stage, pos: r.Pos, proto: r.Proto,
			refName: r.Resolvers, family: r.Family, capID: r.CaptureID}
		var err error
		if tr.cond, err = set.ParseCondAt(r.Cond, r.Where); err != nil {
			bad("condition: %v", err)
			continue
		}
		if r.Var != "" {
			if tr.scope, tr.name, tr.conds, err = parseVarSpec(r.Var); err != nil {
				bad("%v", err)
				continue
			}
			ctx.DeclareVar(tr.scope, tr.name)
		}
		if r.Stick != nil {
			if tr.stk, err = compileStickAct(r.Stick, r.Action, ctx); err != nil {
				bad("%v", err)
				continue
			}
			tr.from = stkTCPContent
			if r.Stage != "content" {
				tr.from = stkTCPSession
			}
		}
		if r.Expr != "" {
			if tr.expr, err = acl.CompileSampleWith(r.Expr, ctx); err != nil {
				bad("%v", err)
				continue
			}
		}
		if r.Fmt != "" {
			if tr.fmt, err = ruleFormat(r.Fmt, ctx); err != nil {
				bad("%v", err)
				continue
			}
		}
		switch {
		case r.Response:
			out.response = append(out.response, tr)
		case r.Stage == "connection":
			out.conn = append(out.conn, tr)
		case r.Stage == "session":
			out.sess = append(out.sess, tr)
		default:
			out.content = append(out.content, tr)
		}
	}
	return out
}

// tcpVerdict is how a rule list ends.
type tcpVerdict uint8

const (
	tcpContinue tcpVerdict = iota // no rule decided, or accept
	tcpReject
	tcpClose  // tcp-response close
	tcpSwitch // switch-mode http
)

// runTCPRules evaluates rules in order, as HAProxy's tcp_exec_l4_rules,
// tcp_exec_l5_rules and tcp_inspect_request do. more, when not nil, reads
// more data into the payload the conditions see and reports false once
// nothing more can come (the buffer is full, the peer closed or the
// inspection delay expired); a condition that needs data not there yet
// waits for it, then is evaluated once more as final.
func (s *session) runTCPRules(rules []tcpRule, payload func() []byte, response bool, more func() bool) tcpVerdict {
	t := &s.txn
	// set-var-fmt renders with the stream's record.
	s.prepareRecord()
	setPayload := func() {
		if payload == nil {
			return
		}
		if response {
			t.ResPayload = payload()
		} else {
			t.Payload = payload()
		}
	}
	t.Final = more == nil
	defer func() { t.Final, t.Payload, t.ResPayload = false, nil, nil }()
	for i := 0; i < len(rules); {
		r := &rules[i]
		setPayload()
		ok, miss := r.cond.Exec(t)
		if miss {
			if more == nil || !more() {
				t.Final = true
			}
			continue
		}
		if ok && r.expr != nil && (r.act == "track-sc" || r.act == "capture") && more != nil && r.expr.Pending(t) {
			// The key or the captured value may still change: wait for
			// more data, as HAProxy yields until it is settled or the
			// inspection ends.
			if !more() {
				t.Final = true
			}
			continue
		}
		i++
		if !ok {
			continue
		}
		switch r.act {
		case "accept", "reject", "close", "silent-drop", "switch-mode":
			// Content rules that end the set are the stream's last rule.
			if response || r.stage == "content" {
				t.LastRuleFile, t.LastRuleLine = r.pos.File, r.pos.Line
			}
		}
		switch r.act {
		case "accept":
			return tcpContinue
		case "reject":
			if r.stage == "content" {
				s.countDeniedBy(response, response)
			}
			return tcpReject
		case "close":
			return tcpClose
		case "track-sc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-inc-gpc", "sc-set-gpt0", "sc-set-gpt":
			s.stickAction(r.act, &r.stk, r.expr, r.from)
		case "capture":
			s.capture(r.expr, r.capID, true)
		case "expect-proxy":
			s.expectPP = true
		case "expect-netscaler-cip":
			s.expectCIP = true
		case "set-log-level":
			s.setLogLevel(r.logLevel)
		case "set-nice":
			s.setNice(r.nice)
		case "set-src", "set-dst", "set-src-port", "set-dst-port":
			s.setAddrExpr(r.act, r.expr, r.stage == "connection")
		case "set-priority-class", "set-priority-offset":
			s.setPriority(r.act, r.expr)
		case "do-resolve":
			// The answer is waited for until the inspection ends, as
			// HAProxy's action yields until its final call: without
			// inspect-delay only a cached answer is used.
			s.resolveVar(r.refName, r.family, r.expr, r.scope, r.name, r.conds, time.Until(s.inspectEnd))
		case "set-mark", "set-tos":
			s.setClientSockopt(r.act == "set-mark", r.mark)
		case "silent-drop":
			s.dropClient(true)
			return tcpReject
		case "switch-mode":
			// Ends the rules; an HTTP stream already is one.
			if !t.HTX {
				s.switchProto = r.proto
				return tcpSwitch
			}
			return tcpContinue
		default:
			s.runVar(r.act, r.scope, r.name, r.conds, r.expr, r.fmt)
		}
	}
	return tcpContinue
}

// inspectReader returns the function that reads more of c into the side's
// buffer for content inspection until the deadline.
func inspectReader(sd *side, c net.Conn, deadline time.Time) func() bool {
	return func() bool {
		if sd.w == len(sd.buf) || !time.Now().Before(deadline) {
			return false
		}
		c.SetReadDeadline(deadline)
		n, err := c.Read(sd.buf[sd.w:])
		c.SetReadDeadline(time.Time{})
		sd.w += n
		return err == nil || n > 0
	}
}

// inspectContent runs tcp-request content rules on what the client sends
// within the inspection delay (counted from the stream's start); false
// when a rule rejected the connection, which is then logged.
func (s *session) inspectContent(r *tcpRules, start time.Time) bool {
	if len(r.content) == 0 {
		return true
	}
	cl := &s.cl
	var more func() bool
	s.inspectEnd = time.Time{}
	if r.inspect > 0 {
		s.inspectEnd = start.Add(r.inspect)
		more = inspectReader(cl, cl.c, s.inspectEnd)
	}
	payload := func() []byte {
		b := cl.buf[cl.r:cl.w]
		if !s.http {
			s.tcpHTTPHead(b)
		}
		return b
	}
	v := s.runTCPRules(r.content, payload, false, more)
	if s.txn.HeadPending {
		s.txn.Req, s.txn.HeadPending = &s.req, false
	}
	if v == tcpSwitch {
		s.switchHTTP = true
	}
	if v != tcpReject {
		return true
	}
	if s.logging {
		s.logStream(logging.SFErrPrxCond|logging.SFFinstR, 0)
	}
	return false
}

// httpContentRules runs tcp-request content rules in an HTTP proxy: once
// per request, on its parsed head, before the http-request rules (HAProxy
// makes a stream per request). A reject closes the connection unanswered.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) httpContentRules(r *tcpRules) bool {
	if len(r.content) == 0 {
		return true
	}
	if s.runTCPRules(r.content, nil, false, nil) != tcpReject {
		return true
	}
	s.txFlags = logging.SFErrPrxCond | logging.SFFinstR
	return false
}

// httpResponseContentRules runs a backend's tcp-response content rules
// on an HTTP response, once per response, before HAProxy has parsed it as
// HTTP: the response fetches find nothing yet. false means a rule
// rejected or closed it.
func (s *session) httpResponseContentRules(be *Backend) bool {
	buf, rsp, dir := s.txn.RspBuf, s.txn.Rsp, s.txn.Dir
	s.txn.RspBuf, s.txn.Rsp, s.txn.Dir = nil, nil, acl.DirRes
	v := s.runTCPRules(be.tcp.response, nil, true, nil)
	s.txn.RspBuf, s.txn.Rsp, s.txn.Dir = buf, rsp, dir
	if v == tcpContinue {
		return true
	}
	s.txStatus, s.txFlags = -1, logging.SFErrPrxCond|logging.SFFinstH
	return false
}

// inspectResponse sends toServer, then runs the backend's tcp-response
// content rules on what the server answers within its inspection delay;
// it returns the server's bytes read, false when a rule rejected or
// closed the connection.
func (s *session) inspectResponse(c netConn, be *Backend, toServer []byte) ([]byte, bool) {
	if len(toServer) > 0 {
		if _, err := c.Write(toServer); err != nil {
			return nil, false
		}
	}
	// The client's data keeps flowing to the server meanwhile; the copy
	// stops, without losing what it read, when the client's read is
	// interrupted below.
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 16384)
		for {
			n, err := s.cl.c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if err == io.EOF {
					c.CloseWrite()
				}
				return
			}
		}
	}()
	defer func() {
		s.cl.c.SetReadDeadline(time.Now())
		<-copied
		s.cl.c.SetReadDeadline(time.Time{})
	}()
	if s.svBuf == nil {
		s.svBuf = s.fe.pool.get()
	}
	sv := side{buf: *s.svBuf}
	var more func() bool
	if be.tcp.resInspect > 0 {
		more = inspectReader(&sv, c, time.Now().Add(be.tcp.resInspect))
	}
	payload := func() []byte { return sv.buf[:sv.w] }
	if s.runTCPRules(be.tcp.response, payload, true, more) != tcpContinue {
		return nil, false
	}
	return sv.buf[:sv.w], true
}

// tcpHTTPHead gives the HTTP fetches of a TCP stream's rules the request
// its data starts with, once its head is whole, as HAProxy parses a TCP
// stream's buffer for them; until then they find nothing.
func (s *session) tcpHTTPHead(b []byte) {
	switch err := h1.ParseRequest(b, &s.req, s.fe.maxHdr); err {
	case nil:
		s.txn.Buf, s.txn.Req, s.txn.HeadPending = b[:s.req.HeadLen], &s.req, false
	case h1.ErrIncomplete:
		s.txn.Buf, s.txn.Req, s.txn.HeadPending = nil, nil, true
	case h1.ErrPreface:
		// "PRI * HTTP/2.0" reads as an HTTP request line for these
		// fetches, as in HAProxy: switch-mode then finds HTTP/2.
		s.txn.Buf, s.txn.Req, s.txn.HeadPending = b, &s.req, false
	default:
		// Not HTTP: the HTTP fetches find nothing, for good.
		s.txn.Buf, s.txn.Req, s.txn.HeadPending = nil, nil, false
	}
}
