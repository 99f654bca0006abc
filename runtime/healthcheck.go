package runtime

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/h2"
	"github.com/gohap/gohap/runtime/logging"
)

// checkRun is a check run's sample context: its check-scope variables
// and the response of its current step.
type checkRun struct {
	txn  acl.Txn
	vars acl.Vars
	rsp  h1.Msg
	head []byte
}

// checkTxn is the transaction the samples of a check run read.
func checkTxn(c *backend.CheckCtx) *acl.Txn {
	r, _ := c.State.(*checkRun)
	if r == nil {
		r = &checkRun{}
		r.txn.Vars = &r.vars
		r.txn.BeName, r.txn.SrvName, r.txn.SrvID = c.Server.Backend.Name, c.Server.Name, c.Server.ID
		r.txn.Final = true
		c.State = r
	}
	if c.Resp != nil && (len(r.head) != len(c.Resp.Head) || len(r.head) > 0 && &r.head[0] != &c.Resp.Head[0]) {
		r.head = c.Resp.Head
		r.txn.RspBuf, r.txn.Rsp = nil, nil
		if h1.ParseResponse(r.head, &r.rsp, 101) == nil {
			r.txn.RspBuf, r.txn.Rsp = r.head, &r.rsp
		}
		r.txn.Dir = acl.DirRes
	}
	r.txn.ResPayload = c.Data
	return &r.txn
}

// checkFormat compiles a log-format string of a check rule into its
// renderer.
func checkFormat(text string, ctx *acl.Context) (func(*backend.CheckCtx) []byte, error) {
	f, err := ruleFormat(text, ctx)
	if err != nil {
		return nil, err
	}
	return func(c *backend.CheckCtx) []byte {
		return f.Append(nil, &logging.Record{Ctx: checkTxn(c)})
	}, nil
}

// checkVarAction compiles a set-var, set-var-fmt or unset-var check rule.
func checkVarAction(r *parser.CheckRule, ctx *acl.Context) (func(*backend.CheckCtx), error) {
	scope, name, conds, err := parseVarSpec(r.Var)
	if err != nil {
		return nil, err
	}
	ctx.DeclareVar(scope, name)
	// The check's variables count against tune.vars.check-max-size.
	lim := ctx.VarLimits
	txn := func(c *backend.CheckCtx) *acl.Txn {
		t := checkTxn(c)
		t.VarLimits = lim
		return t
	}
	switch r.Action {
	case "set-var":
		expr, err := acl.CompileSampleWith(r.Expr, ctx)
		if err != nil {
			return nil, err
		}
		return func(c *backend.CheckCtx) { expr.SetVar(txn(c), scope, name, conds) }, nil
	case "set-var-fmt":
		f, err := checkFormat(r.Expr, ctx)
		if err != nil {
			return nil, err
		}
		return func(c *backend.CheckCtx) {
			v := acl.Value{Type: acl.TypeStr, B: f(c)}
			txn(c).SetVar(scope, name, &v, conds)
		}, nil
	}
	return func(c *backend.CheckCtx) { txn(c).UnsetVar(scope, name) }, nil
}

// h2CheckConn is an HTTP/2 connection carrying one check exchange.
type h2CheckConn struct {
	net.Conn
	cc *h2.ClientConn
}

func (c *h2CheckConn) Close() error {
	c.Conn.Close()
	return c.cc.Close()
}

// checkMux gives the multiplexer of "proto h2": the check's request and
// response travel on one HTTP/2 stream.
func checkMux(proto string) func(net.Conn) (net.Conn, error) {
	if proto != "h2" {
		return nil
	}
	return func(c net.Conn) (net.Conn, error) {
		cc, err := h2.NewClientConn(c, nil)
		if err != nil {
			return nil, err
		}
		st, err := cc.OpenStream()
		if err != nil {
			cc.Close()
			return nil, err
		}
		return &h2CheckConn{Conn: st, cc: cc}, nil
	}
}

// compileHTTPCheck builds the steps of "option httpchk" and its
// "http-check" rules (the backend's own, else those of defaults).
func compileHTTPCheck(p *parser.Proxy, cfg *parser.Config, ctx *acl.Context, fail func(parser.Pos, string, ...any)) *backend.HTTPCheck {
	first := parser.CheckSend{Meth: "OPTIONS", URI: "/", Ver: "HTTP/1.0"}
	if s := p.CheckOpts.HTTPChk; s != nil {
		first = *s
	}
	hc := &backend.HTTPCheck{}
	cur := &httpStepSpec{send: first, dflt: true}
	steps := []*httpStepSpec{cur}
	comment := ""
	hc.DisableOn404 = p.CheckOpts.DisableOn404
	sendState := p.CheckOpts.SendState
	for _, r := range p.HTTPChecks {
		if r.Refused != "" {
			fail(r.Pos, "%s", r.Refused)
			continue
		}
		switch r.Action {
		case "comment":
			comment = r.Comment
		case "connect":
			if cur.sent || cur.connected || len(cur.expects) > 0 {
				cur = &httpStepSpec{send: parser.CheckSend{Meth: "OPTIONS", URI: "/", Ver: "HTTP/1.0"}}
				steps = append(steps, cur)
			}
			cur.connected = true
			cur.port, cur.addr, cur.linger, cur.dflt, cur.proto, cur.sendProxy, cur.viaSocks4 = r.Port, r.Addr, r.Linger, r.Default, r.Proto, r.SendProxy, r.ViaSocks4
		case "send":
			if cur.sent {
				fail(r.Pos, "'http-check send' needs an 'http-check connect' before it.")
				continue
			}
			cur.sent = true
			mergeSend(&cur.send, &r.Send)
		case "set-var", "set-var-fmt", "unset-var":
			f, err := checkVarAction(r, ctx)
			if err != nil {
				fail(r.Pos, "'http-check %s': %v.", r.Text, err)
				continue
			}
			// After the request once it is sent or its answer judged.
			if cur.sent || len(cur.expects) > 0 {
				cur.expects = append(cur.expects, backend.HTTPExpect{Action: f})
			} else {
				cur.pre = append(cur.pre, f)
			}
		case "expect":
			e, err := compileHTTPExpect(&r.Expect, ctx)
			if err == nil {
				e.ExpectReport, err = compileExpectReport(&r.Expect, ctx)
			}
			if err != nil {
				fail(r.Pos, "'http-check %s' is not supported by the gohap runtime yet.", r.Text)
				continue
			}
			e.Comment = r.Comment
			if e.Comment == "" {
				e.Comment = comment
			}
			comment = ""
			cur.expects = append(cur.expects, e)
		}
	}
	node := cfg.Global.Node
	if node == "" {
		// HAProxy's node defaults to the host name.
		node, _ = os.Hostname()
	}
	for _, st := range steps {
		hasExpect := false
		for _, e := range st.expects {
			hasExpect = hasExpect || e.Action == nil
		}
		if !hasExpect {
			// HAProxy's implicit rule: a 2xx or 3xx status.
			m, _ := backend.StatusIn("200-399")
			st.expects = append(st.expects, backend.HTTPExpect{Kind: backend.ExpectStatus, Match: backend.OnResponse(m)})
		}
		req, err := checkRequest(&st.send, sendState, node, ctx)
		if err != nil {
			fail(p.Pos, "'http-check send': %v.", err)
			continue
		}
		if st == steps[0] && p.CheckOpts.NoRequest && !st.sent {
			req = nil
		}
		hc.Steps = append(hc.Steps, backend.HTTPStep{Addr: st.addr, Port: st.port, Linger: st.linger, Default: st.dflt, SendProxy: st.sendProxy, ViaSocks4: st.viaSocks4,
			Mux: checkMux(st.proto), Pre: st.pre, Request: req, Expects: st.expects})
	}
	return hc
}

// mergeSend lays the parts an "http-check send" names over the request
// of option httpchk.
func mergeSend(dst, s *parser.CheckSend) {
	if s.Meth != "" {
		dst.Meth = s.Meth
	}
	if s.URI != "" {
		dst.URI, dst.URILF = s.URI, s.URILF
	}
	if s.Ver != "" {
		dst.Ver = s.Ver
	}
	if s.Body != "" {
		dst.Body, dst.BodyLF = s.Body, s.BodyLF
	}
	// The send rule's headers replace those the 1.x form of option
	// httpchk hid in its version.
	dst.Hdrs = append([][2]string(nil), s.Hdrs...)
}

type httpStepSpec struct {
	send                  parser.CheckSend
	sent, connected, dflt bool
	port, addr, proto     string
	linger, sendProxy     bool
	viaSocks4             bool
	pre                   []func(*backend.CheckCtx)
	expects               []backend.HTTPExpect
}

// checkRequest builds the request HAProxy sends: header names in lower
// case, header values (and uri-lf, body-lf) rendered as log-format
// strings, an empty one dropping its header, the server's state with
// send-state, a content-length with a body, and "connection: close" in
// HTTP/1.1.
func checkRequest(s *parser.CheckSend, sendState bool, node string, ctx *acl.Context) (func(*backend.CheckCtx) []byte, error) {
	lf := func(text string, isLF bool) (func(*backend.CheckCtx) []byte, error) {
		if !isLF {
			b := []byte(text)
			return func(*backend.CheckCtx) []byte { return b }, nil
		}
		return checkFormat(text, ctx)
	}
	uri, err := lf(s.URI, s.URILF)
	if err != nil {
		return nil, err
	}
	body, err := lf(s.Body, s.BodyLF)
	if err != nil {
		return nil, err
	}
	type hdr struct {
		name  string
		value func(*backend.CheckCtx) []byte
	}
	var hdrs []hdr
	for _, h := range s.Hdrs {
		v, err := lf(h[1], strings.Contains(h[1], "%"))
		if err != nil {
			return nil, err
		}
		hdrs = append(hdrs, hdr{strings.ToLower(h[0]), v})
	}
	meth, ver := s.Meth, s.Ver
	return func(c *backend.CheckCtx) []byte {
		u := uri(c)
		if len(u) == 0 {
			u = []byte("/")
		}
		b := make([]byte, 0, 256)
		b = append(append(append(append(append(b, meth...), ' '), u...), ' '), ver...)
		b = append(b, "\r\n"...)
		for _, h := range hdrs {
			if v := h.value(c); len(v) > 0 {
				b = append(append(append(append(b, h.name...), ": "...), v...), "\r\n"...)
			}
		}
		if sendState {
			b = append(append(append(b, "x-haproxy-server-state: "...), c.Server.StateHeader(node)...), "\r\n"...)
		}
		bd := body(c)
		if len(bd) > 0 {
			b = append(append(append(b, "content-length: "...), strconv.Itoa(len(bd))...), "\r\n"...)
		}
		if ver == "HTTP/1.1" {
			b = append(b, "connection: close\r\n"...)
		}
		return append(append(b, "\r\n"...), bd...)
	}, nil
}

// compileHTTPExpect builds the matcher of an http-check expect rule.
func compileHTTPExpect(x *parser.CheckExpect, ctx *acl.Context) (backend.HTTPExpect, error) {
	e := backend.HTTPExpect{Neg: x.Neg}
	switch x.Match {
	case "status":
		m, ok := backend.StatusIn(x.Pattern)
		if !ok {
			return e, errBadPattern
		}
		e.Kind, e.Match = backend.ExpectStatus, backend.OnResponse(m)
		return e, nil
	case "rstatus":
		re, err := regexp.Compile(x.Pattern)
		e.Kind, e.Match = backend.ExpectStatus, backend.OnResponse(func(r *backend.HTTPResponse) bool { return re.MatchString(strconv.Itoa(r.Status)) })
		return e, err
	case "string":
		s := []byte(x.Pattern)
		e.Kind, e.Match = backend.ExpectBody, backend.OnResponse(func(r *backend.HTTPResponse) bool { return bytes.Contains(r.Body, s) })
		return e, nil
	case "rstring":
		re, err := regexp.Compile(x.Pattern)
		e.Kind, e.Match = backend.ExpectBody, backend.OnResponse(func(r *backend.HTTPResponse) bool { return re.Match(r.Body) })
		return e, err
	case "string-lf":
		f, err := checkFormat(x.Pattern, ctx)
		if err != nil {
			return e, err
		}
		e.Kind = backend.ExpectBody
		e.Match = func(c *backend.CheckCtx) bool { return bytes.Contains(c.Resp.Body, f(c)) }
		e.Fail = func(c *backend.CheckCtx) string {
			if len(f(c)) == 0 {
				return "log-format string evaluated to an empty string"
			}
			return ""
		}
		return e, nil
	}
	// A log-format pattern is rendered, then matched, at each run.
	pattern := func(text, meth string, isLF, fold bool) (func(*backend.CheckCtx) func(string) bool, error) {
		if !isLF {
			m, err := backend.StrMatch(meth, text, fold)
			return func(*backend.CheckCtx) func(string) bool { return m }, err
		}
		f, err := checkFormat(text, ctx)
		if err != nil {
			return nil, err
		}
		return func(c *backend.CheckCtx) func(string) bool {
			m, err := backend.StrMatch(meth, string(f(c)), fold)
			if err != nil {
				return func(string) bool { return false }
			}
			return m
		}, nil
	}
	name, err := pattern(x.HdrName, x.HdrNameMeth, x.NameLF, true)
	if err != nil {
		return e, err
	}
	value := func(*backend.CheckCtx) func(string) bool { return nil }
	if x.HasValue {
		if value, err = pattern(x.HdrValue, x.HdrValueMeth, x.ValueLF, false); err != nil {
			return e, err
		}
	}
	full := x.Full
	e.Kind, e.Match = backend.ExpectHeader, func(c *backend.CheckCtx) bool {
		return backend.HeaderMatch(name(c), value(c), full)(c.Resp)
	}
	return e, nil
}

var errBadPattern = errorString("invalid pattern")

type errorString string

func (e errorString) Error() string { return string(e) }

// compileTCPCheck builds the steps of "option tcp-check" from its
// "tcp-check" rules.
func compileTCPCheck(p *parser.Proxy, ctx *acl.Context, fail func(parser.Pos, string, ...any)) []backend.TCPStep {
	steps := []backend.TCPStep{}
	// A "tcp-check comment" names the rule after it in failure reports.
	comment, rule := "", 0
	add := func(st backend.TCPStep) {
		if st.Comment == "" {
			st.Comment = comment
		}
		// HAProxy numbers steps over every rule, comments included.
		st.Step = rule
		comment = ""
		steps = append(steps, st)
	}
	for _, r := range p.TCPChecks {
		rule++
		if r.Refused != "" {
			fail(r.Pos, "%s", r.Refused)
			continue
		}
		switch r.Action {
		case "comment":
			comment = r.Comment
		case "connect":
			st := backend.TCPStep{Connect: true, Port: r.Port, Linger: r.Linger, Default: r.Default, SendProxy: r.SendProxy,
				ViaSocks4: r.ViaSocks4, SSL: r.SSL, SNI: r.SNI}
			if r.ALPN != "" {
				st.ALPN = strings.Split(r.ALPN, ",")
			}
			add(st)
		case "set-var", "set-var-fmt", "unset-var":
			f, err := checkVarAction(r, ctx)
			if err != nil {
				fail(r.Pos, "'tcp-check %s': %v.", r.Text, err)
				continue
			}
			steps = append(steps, backend.TCPStep{Action: f, Step: rule})
		case "send", "send-binary":
			add(backend.TCPStep{Send: r.Data})
		case "send-lf", "send-binary-lf":
			f, err := checkFormat(string(r.Data), ctx)
			if err != nil {
				fail(r.Pos, "'tcp-check %s': %v.", r.Text, err)
				continue
			}
			if r.Action == "send-binary-lf" {
				text := f
				f = func(c *backend.CheckCtx) []byte {
					b, _ := hex.DecodeString(string(text(c)))
					return b
				}
			}
			add(backend.TCPStep{SendLF: f})
		case "expect":
			st := backend.TCPStep{Comment: r.Comment, Neg: r.Expect.Neg, MinRecv: r.Expect.MinRecv, Bounded: r.Expect.HasMinRecv}
			var err error
			switch m := r.Expect.Match; m {
			case "string":
				st.Expect = []byte(r.Expect.Pattern)
			case "string-lf", "binary-lf":
				st.ExpectLF, err = checkFormat(r.Expect.Pattern, ctx)
				st.Binary = m == "binary-lf"
			case "rstring", "rbinary":
				st.ExpectR, err = regexp.Compile(r.Expect.Pattern)
				st.Binary = m == "rbinary"
			case "binary":
				st.Expect, st.Binary = r.Expect.Binary, true
			}
			if err == nil {
				st.ExpectReport, err = compileExpectReport(&r.Expect, ctx)
			}
			if err != nil {
				fail(r.Pos, "'tcp-check %s': %v.", r.Text, err)
				continue
			}
			add(st)
		}
	}
	return steps
}

// serverCheckMux sets the multiplexer of a server's HTTP checks:
// check-proto, else the server's proto when it is an HTTP one
// (init_srv_check).
func serverCheckMux(s *parser.Server, srv *backend.Server, fail func(parser.Pos, string, ...any)) {
	proto := s.Settings.CheckProto
	if proto == "" && srv.Check.HTTP != nil {
		proto = s.Settings.Proto
	}
	switch proto {
	case "", "h1":
	case "h2":
		if srv.Check.HTTP != nil {
			srv.Check.Mux = checkMux(proto)
		}
	default:
		if s.Settings.CheckProto != "" {
			fail(s.Pos, "'server %s' : 'check-proto %s' is not supported by the gohap runtime yet.", s.Name, proto)
		} else if srv.Check.Enabled {
			// HAProxy's HTTP checks speak the server's FastCGI.
			fail(s.Pos, "'server %s' : HTTP checks over 'proto %s' are not supported by the gohap runtime yet.", s.Name, proto)
		}
	}
}

// serverAgent sets up a server's agent check: on agent-addr (else the
// check address, else the server's) and agent-port (else the check
// port), every agent-inter (else the check's inter).
func serverAgent(s *parser.Server, srv *backend.Server, addr string, fail func(parser.Pos, string, ...any)) {
	st := &s.Settings
	if !st.Agent {
		return
	}
	port := st.AgentPort
	if port == "" {
		port = st.Port
	}
	if port == "" {
		fail(s.Pos, "server %s does not have agent port. Agent check has been disabled.", s.Name)
		return
	}
	host := st.AgentAddr
	if host == "" {
		host = st.Addr
	}
	if host == "" {
		host, _, _ = net.SplitHostPort(addr)
	}
	inter := st.AgentInter
	if inter == 0 {
		inter = st.Inter
	}
	srv.Agent = backend.Agent{Enabled: true, Addr: net.JoinHostPort(host, port), Send: []byte(st.AgentSend),
		Inter: inter, Timeout: srv.Check.Timeout, Rise: 1, Fall: 1, Spread: srv.Check.Spread}
}

// compileExpectReport compiles the report options of an expect rule.
func compileExpectReport(x *parser.CheckExpect, ctx *acl.Context) (backend.ExpectReport, error) {
	var r backend.ExpectReport
	var err error
	if x.OnSuccess != "" {
		if r.OnSuccess, err = checkFormat(x.OnSuccess, ctx); err != nil {
			return r, err
		}
	}
	if x.OnError != "" {
		if r.OnError, err = checkFormat(x.OnError, ctx); err != nil {
			return r, err
		}
	}
	r.OkStatus, _ = backend.ParseStatus(x.OkStatus)
	r.ErrStatus, _ = backend.ParseStatus(x.ErrStatus)
	r.ToutStatus, _ = backend.ParseStatus(x.ToutStatus)
	if x.StatusCode != "" {
		expr, err := acl.CompileSampleWith(x.StatusCode, ctx)
		if err != nil {
			return r, err
		}
		r.StatusCode = func(c *backend.CheckCtx) (int, bool) {
			v, ok := expr.Eval(checkTxn(c))
			if !ok {
				return 0, false
			}
			return sampleInt(&v)
		}
	}
	return r, nil
}

// sampleInt is a sample as the integer status-code takes: fetched as a
// string, then read whole as a number (c_str2int).
func sampleInt(v *acl.Value) (int, bool) {
	switch v.Type {
	case acl.TypeBool, acl.TypeInt:
		return int(v.I), true
	case acl.TypeStr, acl.TypeBin:
		n, err := strconv.Atoi(string(v.B))
		return n, err == nil
	}
	return 0, false
}
