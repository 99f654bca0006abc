package backend

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HTTPCheck is "option httpchk" with its "http-check" rules: one or more
// steps, each a request on a connection and the rules its response must
// pass.
type HTTPCheck struct {
	Steps []HTTPStep
	// DisableOn404 turns a 404 answer into a conditional pass, which
	// stops a running server from taking new requests (http-check
	// disable-on-404).
	DisableOn404 bool
}

// HTTPStep is a "http-check send" with the expect rules following it.
// The first step uses the check's connection; a later one opens its own
// ("http-check connect").
type HTTPStep struct {
	// Addr and Port, when set, are where a "http-check connect addr/port"
	// dials: Addr is a host, or host:port.
	Addr, Port string
	// Linger closes the step's connection cleanly, not with a reset.
	Linger bool
	// Default takes the server's check settings (its Mux, PROXY header
	// and TLS): the implicit connect and "connect default". SendProxy
	// sends a PROXY header ("connect send-proxy"), ViaSocks4 connects
	// through the server's SOCKS4 proxy ("connect via-socks4").
	Default, SendProxy, ViaSocks4 bool
	// Mux, when set, turns the step's connection into one carrying a
	// single HTTP/1 exchange over HTTP/2 (proto h2), whose responses have
	// no reason phrase.
	Mux func(net.Conn) (net.Conn, error)
	// Pre are the set-var and unset-var rules before the request.
	Pre []func(*CheckCtx)
	// Request builds the request of a run; nil sends none, as HAProxy's
	// rule set without a send rule does.
	Request func(*CheckCtx) []byte
	Expects []HTTPExpect
}

// HTTPResponse is what an expect rule looks at.
type HTTPResponse struct {
	Status  int
	Reason  string
	Headers [][2]string // names in lower case
	Body    []byte
	// Head is the response head as received, up to its blank line.
	Head []byte
}

// Expect kinds, which decide how a failure is reported.
const (
	ExpectStatus = iota
	ExpectHeader
	ExpectBody
)

// HTTPExpect is one "http-check expect" rule, or, with Action, a
// set-var or unset-var rule among them.
type HTTPExpect struct {
	Kind    int
	Neg     bool
	Match   func(c *CheckCtx) bool
	Action  func(c *CheckCtx)
	Comment string
	// Fail, when Match could not be evaluated (a log-format pattern
	// rendered empty), is the info of the failure.
	Fail func(c *CheckCtx) string
	ExpectReport
}

// OnResponse adapts a matcher of the response to an expect rule's.
func OnResponse(m func(r *HTTPResponse) bool) func(c *CheckCtx) bool {
	return func(c *CheckCtx) bool { return m(c.Resp) }
}

// stepAddr is where a step connects, addr being the check's address.
func stepAddr(addr, stAddr, port string) string {
	if stAddr == "" && port == "" {
		return addr
	}
	host, p, _ := net.SplitHostPort(addr)
	if stAddr != "" {
		if h, sp, err := net.SplitHostPort(stAddr); err == nil {
			host, p = h, sp
		} else {
			host = strings.Trim(stAddr, "[]")
		}
	}
	if port != "" {
		p = port
	}
	return net.JoinHostPort(host, p)
}

// firstAddr is where the first step connects: addr, or the address of a
// leading "http-check connect".
func (h *HTTPCheck) firstAddr(addr string) string {
	if len(h.Steps) == 0 {
		return addr
	}
	return stepAddr(addr, h.Steps[0].Addr, h.Steps[0].Port)
}

// run plays the steps; conn is the check's first connection, to addr.
// A step's connection is closed when the next one opens, as HAProxy
// releases it before its next connect rule.
func (h *HTTPCheck) run(ctx context.Context, conn net.Conn, addr string, deadline time.Time, c *CheckCtx) (string, checkResult) {
	report := ""
	var prev net.Conn
	defer func() {
		if prev != nil {
			prev.Close()
		}
	}()
	for i, st := range h.Steps {
		if i > 0 {
			if prev != nil {
				prev.Close()
				prev = nil
			}
			d := net.Dialer{Deadline: deadline}
			nc, err := c.Server.dialCheck(ctx, &d, stepAddr(addr, st.Addr, st.Port), st.Default, st.ViaSocks4)
			if err != nil {
				if r, ok := socks4Report(err, ""); ok {
					return r, checkFailed
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return "Layer4 timeout", checkFailed
				}
				return `Layer4 connection problem, info: "Connection refused"`, checkFailed
			}
			defer closeCheckConn(nc, st.Linger)
			if !st.Linger {
				if tc, ok := nc.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
			sc, reason := c.Server.setupConn(ctx, nc, st.Default, st.SendProxy, time.Until(deadline))
			if reason != "" {
				return reason, checkFailed
			}
			if sc != nc {
				defer sc.Close()
			}
			conn = sc
		}
		sc, mux := conn, st.Mux
		if mux == nil && st.Default {
			mux = c.Server.Check.Mux
		}
		if mux != nil {
			mc, err := mux(conn)
			if err != nil {
				return `Layer4 connection problem, info: "Connection reset by peer"`, checkFailed
			}
			sc, prev = mc, mc
		}
		var res checkResult
		if report, res = st.run(sc, deadline, h.DisableOn404, mux != nil, c); res != checkPassed {
			return report, res
		}
	}
	return report, checkPassed
}

func (st *HTTPStep) run(conn net.Conn, deadline time.Time, disable404, noReason bool, c *CheckCtx) (string, checkResult) {
	for _, f := range st.Pre {
		f(c)
	}
	conn.SetDeadline(deadline)
	if st.Request != nil {
		if _, err := conn.Write(st.Request(c)); err != nil {
			return `Layer7 connection problem, info: "Connection reset by peer"`, checkFailed
		}
	}
	needBody := false
	for _, e := range st.Expects {
		needBody = needBody || e.Kind == ExpectBody
	}
	buf := make([]byte, 16384)
	n, headEnd, want := 0, -1, -1
	var rerr error
	for n < len(buf) {
		k, err := conn.Read(buf[n:])
		n, rerr = n+k, err
		if headEnd < 0 {
			if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
				headEnd = i + 4
				if cl, ok := contentLength(buf[:headEnd]); ok {
					want = headEnd + cl
				}
				if !needBody {
					break
				}
			}
		}
		if want >= 0 && n >= want || err != nil {
			break
		}
	}
	b := buf[:n]
	var ne net.Error
	timedOut := errors.As(rerr, &ne) && ne.Timeout()
	switch {
	case n == 0 && !timedOut:
		if errno := readErrno(rerr); errno != 0 {
			return statusReport(CheckSockErr, 0, strerror(errno)), checkFailed
		}
		// An empty response is an invalid one, with no info.
		return statusReport(CheckL7Rsp, 0, ""), checkFailed
	case headEnd < 0 && timedOut && (n == 0 || bytes.HasPrefix(b, []byte("HTTP/"[:min(n, 5)]))):
		return "Layer7 timeout", checkFailed
	}
	r, ok := parseCheckResponse(b, headEnd)
	if !ok {
		return statusReport(CheckL7Rsp, 0, ""), checkFailed
	}
	c.Resp = r
	if noReason {
		r.Reason = ""
	}
	// A 404 only stops a server that is not down; the last rule then
	// reports no info.
	if st := c.Server.State(); disable404 && r.Status == 404 && st != Down && st != Maint {
		return statusReport(CheckL7OKCD, r.Status, ""), checkCondPassed
	}
	var last *HTTPExpect
	for i := range st.Expects {
		e := &st.Expects[i]
		if e.Action != nil {
			e.Action(c)
			continue
		}
		last = e
		if e.Kind == ExpectBody && len(r.Body) == 0 {
			return e.failure(c, CheckL7Rsp, r.Status, "HTTP content check could not find a response body", e.Comment), checkFailed
		}
		if e.Fail != nil {
			if msg := e.Fail(c); msg != "" {
				return e.failure(c, CheckL7Rsp, r.Status, msg, e.Comment), checkFailed
			}
		}
		if e.Match(c) != e.Neg {
			continue
		}
		if e.Kind == ExpectBody {
			what := "HTTP content check did not match"
			if e.Neg {
				what = "HTTP check matched unwanted content"
			}
			return e.failure(c, CheckL7Rsp, r.Status, what, e.Comment), checkFailed
		}
		return e.failure(c, CheckL7Sts, r.Status, r.Reason, e.Comment), checkFailed
	}
	// HAProxy's UP report gives the status code, and on-success's info.
	if last == nil {
		return statusReport(CheckL7OKD, r.Status, ""), checkPassed
	}
	return last.success(c, r.Status, ""), checkPassed
}

func contentLength(head []byte) (int, bool) {
	h := strings.ToLower(string(head))
	j := strings.Index(h, "\r\ncontent-length:")
	if j < 0 {
		return 0, false
	}
	rest := h[j+17:]
	v := strings.TrimSpace(rest[:strings.Index(rest, "\r\n")])
	cl, err := strconv.Atoi(v)
	return cl, err == nil
}

func parseCheckResponse(b []byte, headEnd int) (*HTTPResponse, bool) {
	if len(b) < 12 || string(b[:5]) != "HTTP/" {
		return nil, false
	}
	r := &HTTPResponse{}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return nil, false
		}
		r.Status = r.Status*10 + int(c-'0')
	}
	head := string(b)
	r.Head = b
	if headEnd >= 0 {
		head = string(b[:headEnd])
		r.Head, r.Body = b[:headEnd], b[headEnd:]
	}
	lines := strings.Split(head, "\r\n")
	if len(lines[0]) > 13 {
		r.Reason = lines[0][13:]
	}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if ok {
			r.Headers = append(r.Headers, [2]string{strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)})
		}
	}
	return r, true
}

// StatusIn matches the codes and ranges of "http-check expect status"
// ("200,301-302").
func StatusIn(list string) (func(r *HTTPResponse) bool, bool) {
	type rng struct{ lo, hi int }
	var rs []rng
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, false
			}
		}
		rs = append(rs, rng{a, b})
	}
	return func(r *HTTPResponse) bool {
		for _, x := range rs {
			if r.Status >= x.lo && r.Status <= x.hi {
				return true
			}
		}
		return false
	}, true
}

// StrMatch is a "-m" match method of "http-check expect hdr": str, beg,
// end, sub or reg; fold compares case-insensitively (header names).
func StrMatch(method, pattern string, fold bool) (func(string) bool, error) {
	norm := func(s string) string { return s }
	if fold {
		norm = strings.ToLower
		pattern = strings.ToLower(pattern)
	}
	switch method {
	case "", "str":
		return func(s string) bool { return norm(s) == pattern }, nil
	case "beg":
		return func(s string) bool { return strings.HasPrefix(norm(s), pattern) }, nil
	case "end":
		return func(s string) bool { return strings.HasSuffix(norm(s), pattern) }, nil
	case "sub":
		return func(s string) bool { return strings.Contains(norm(s), pattern) }, nil
	case "reg":
		expr := pattern
		if fold {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	}
	return nil, errUnknownMethod
}

var errUnknownMethod = errors.New("unknown match method")

// HeaderMatch is "http-check expect hdr name N [value V] [full]": some
// header whose name matches has a value that matches, each
// comma-separated value on its own unless full.
func HeaderMatch(name, value func(string) bool, full bool) func(r *HTTPResponse) bool {
	return func(r *HTTPResponse) bool {
		for _, h := range r.Headers {
			if !name(h[0]) {
				continue
			}
			if value == nil {
				return true
			}
			if full {
				if value(h[1]) {
					return true
				}
				continue
			}
			for _, v := range strings.Split(h[1], ",") {
				if value(strings.TrimSpace(v)) {
					return true
				}
			}
		}
		return false
	}
}
