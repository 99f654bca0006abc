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
	// Port, when set, is the port a "http-check connect port" dials.
	Port string
	// Linger closes the step's connection cleanly, not with a reset.
	Linger  bool
	Request []byte
	Expects []HTTPExpect
}

// HTTPResponse is what an expect rule looks at.
type HTTPResponse struct {
	Status  int
	Reason  string
	Headers [][2]string // names in lower case
	Body    []byte
}

// Expect kinds, which decide how a failure is reported.
const (
	ExpectStatus = iota
	ExpectHeader
	ExpectBody
)

// HTTPExpect is one "http-check expect" rule.
type HTTPExpect struct {
	Kind    int
	Neg     bool
	Match   func(r *HTTPResponse) bool
	Comment string
}

// firstAddr is where the first step connects: addr, or its host on the
// port of a leading "http-check connect port".
func (h *HTTPCheck) firstAddr(addr string) string {
	if len(h.Steps) == 0 || h.Steps[0].Port == "" {
		return addr
	}
	host, _, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, h.Steps[0].Port)
}

// run plays the steps; conn is the check's first connection, to addr.
func (h *HTTPCheck) run(ctx context.Context, conn net.Conn, addr string, deadline time.Time) (string, checkResult) {
	report := ""
	for i, st := range h.Steps {
		if i > 0 {
			a := addr
			if st.Port != "" {
				host, _, _ := net.SplitHostPort(addr)
				a = net.JoinHostPort(host, st.Port)
			}
			d := net.Dialer{Deadline: deadline}
			c, err := Dial(ctx, &d, a)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return "Layer4 timeout", checkFailed
				}
				return `Layer4 connection problem, info: "Connection refused"`, checkFailed
			}
			defer closeCheckConn(c, st.Linger)
			conn = c
			if !st.Linger {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
		}
		var res checkResult
		if report, res = st.run(conn, deadline, h.DisableOn404); res != checkPassed {
			return report, res
		}
	}
	return report, checkPassed
}

func (st *HTTPStep) run(conn net.Conn, deadline time.Time, disable404 bool) (string, checkResult) {
	conn.SetDeadline(deadline)
	if _, err := conn.Write(st.Request); err != nil {
		return `Layer7 connection problem, info: "Connection reset by peer"`, checkFailed
	}
	needBody := false
	for _, e := range st.Expects {
		needBody = needBody || e.Kind == ExpectBody
	}
	buf := make([]byte, 16384)
	n, headEnd, want := 0, -1, -1
	for n < len(buf) {
		k, err := conn.Read(buf[n:])
		n += k
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
	if n == 0 {
		return "Layer7 timeout", checkFailed
	}
	r, ok := parseCheckResponse(b, headEnd)
	if !ok {
		return `Layer7 invalid response, info: "non-HTTP response"`, checkFailed
	}
	detail := `code: ` + itoa(r.Status) + `, info: "` + r.Reason
	if disable404 && r.Status == 404 {
		return "Layer7 check conditionally passed, " + detail + `"`, checkCondPassed
	}
	for _, e := range st.Expects {
		if e.Match(r) != e.Neg {
			continue
		}
		comment := ""
		if e.Comment != "" {
			comment = " comment: " + e.Comment
		}
		if e.Kind == ExpectBody {
			what := "HTTP content check did not match"
			if e.Neg {
				what = "HTTP check matched unwanted content"
			}
			return `Layer7 invalid response, info: "` + what + comment + `"`, checkFailed
		}
		return "Layer7 wrong status, " + detail + comment + `"`, checkFailed
	}
	// HAProxy's UP report gives the status code only.
	return "Layer7 check passed, code: " + itoa(r.Status), checkPassed
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
	if headEnd >= 0 {
		head = string(b[:headEnd])
		r.Body = b[headEnd:]
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
