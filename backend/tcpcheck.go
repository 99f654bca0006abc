package backend

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TCPStep is one "tcp-check" rule.
type TCPStep struct {
	// Connect opens a new connection (to Port, when set, on the
	// server's check address); a leading one replaces the implicit one.
	Connect bool
	Port    string
	// Linger closes the connection cleanly, not with a reset; Default
	// takes the server's check settings (check-send-proxy, check-ssl);
	// SendProxy sends a PROXY header; ViaSocks4 connects through the
	// server's SOCKS4 proxy.
	Linger, Default, SendProxy, ViaSocks4 bool
	// SSL speaks TLS on the connection (tcp-check connect ssl), with SNI
	// and ALPN when set.
	SSL  bool
	SNI  string
	ALPN []string
	// Send is written as it is when not nil; SendLF, when set, builds
	// what is written (send-lf).
	Send   []byte
	SendLF func(*CheckCtx) []byte
	// Action, when set, is a set-var or unset-var rule.
	Action func(*CheckCtx)
	// An expect step waits until the received data matches (or Neg and
	// it does not), or the check times out. ExpectLF builds the pattern
	// at each run (string-lf).
	Expect   []byte
	ExpectR  *regexp.Regexp
	ExpectLF func(*CheckCtx) []byte
	Neg      bool
	// MinRecv, with Bounded, is the data needed before matching; a
	// mismatch is then conclusive (min-recv).
	MinRecv int
	Bounded bool
	// Binary marks an expect binary rule (with ExpectR rbinary, matched
	// against the hexadecimal dump of the data; with ExpectLF binary-lf);
	// Comment is the rule's comment.
	Binary  bool
	Comment string
	ExpectReport
	// Step is the rule's number in reports (its position among the
	// rules); 0 numbers the steps in order.
	Step int
}

// checkBufSize is the check buffer (tune.bufsize): a full one is a last
// read.
const checkBufSize = 16384

// firstConnect is the index of the leading connect rule of steps, which
// replaces the implicit connect (set-var rules may come before it), or
// -1 when there is none.
func firstConnect(steps []TCPStep) int {
	for i, st := range steps {
		if st.Action != nil {
			continue
		}
		if st.Connect {
			return i
		}
		break
	}
	return -1
}

// runTCP plays tcp-check rules on conn, a connection to addr (or to the
// port of a leading connect rule); the messages are HAProxy's.
func runTCP(ctx context.Context, conn net.Conn, addr string, steps []TCPStep, deadline time.Time, c *CheckCtx) (string, bool) {
	conn.SetDeadline(deadline)
	var got []byte
	// mustRead says the next expect reads first (after a send, or a
	// connect); eof that the server closed or failed.
	mustRead, eof := true, false
	buf := make([]byte, 4096)
	first := firstConnect(steps)
	// last is the last rule run, which words the success.
	var last *TCPStep
	for i := range steps {
		st := &steps[i]
		if st.Action == nil {
			last = st
		}
		step := strconv.Itoa(i + 1)
		if st.Step > 0 {
			step = strconv.Itoa(st.Step)
		}
		switch {
		case st.Action != nil:
			c.Data = got
			st.Action(c)
			continue
		case st.Connect && i == first:
			continue
		case st.Connect:
			d := net.Dialer{Deadline: deadline, KeepAlive: -1}
			nc, err := c.Server.dialCheck(ctx, &d, stepAddr(addr, "", st.Port), st.Default, st.ViaSocks4)
			if err != nil {
				what := "connect"
				if st.Port != "" {
					what += " port " + st.Port
				}
				if r, ok := socks4Report(err, " at step "+step+" of tcp-check ("+what+")"); ok {
					return r, false
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return `Layer4 timeout, info: " at step ` + step + ` of tcp-check (` + what + `)"`, false
				}
				return `Layer4 connection problem, info: "Connection refused at step ` + step + ` of tcp-check (` + what + `)"`, false
			}
			defer closeCheckConn(nc, st.Linger)
			if !st.Linger {
				if tc, ok := nc.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
			sc, reason := c.Server.setupConn(ctx, nc, st.Default, st.SendProxy, time.Until(deadline))
			if reason == "" && st.SSL && !st.Default {
				sc, reason = c.Server.stepTLS(ctx, sc, st, time.Until(deadline), " at step "+step+" of tcp-check (connect)")
			}
			if reason != "" {
				return reason, false
			}
			if sc != nc {
				defer sc.Close()
			}
			conn, got, mustRead, eof = sc, got[:0], true, false
			conn.SetDeadline(deadline)
			continue
		case st.Send != nil || st.SendLF != nil:
			data := st.Send
			if st.SendLF != nil {
				c.Data = got
				if data = st.SendLF(c); len(data) == 0 {
					continue
				}
			}
			if _, err := conn.Write(data); err != nil {
				return `Layer4 connection problem, info: "Connection reset by peer at step ` + step + ` of tcp-check (send)"`, false
			}
			got, mustRead = got[:0], true
			continue
		}
		var pattern []byte
		if st.ExpectLF != nil {
			c.Data = got
			if pattern = st.ExpectLF(c); len(pattern) == 0 {
				return statusReport(CheckL7Rsp, 0, "log-format string evaluated to an empty string"+st.comment()), false
			}
			if st.Binary {
				b, err := hex.DecodeString(string(pattern))
				if err != nil {
					return statusReport(CheckL7Rsp, 0, "Failed to parse hexastring resulting of eval of a log-format string"+st.comment()), false
				}
				pattern = b
			}
		}
		// tcpcheck_eval_expect: wait for data while a match may still
		// come, then judge.
		for {
			if (mustRead || len(got) == 0) && !eof {
				n, err := conn.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					where := " at step " + step + " of tcp-check (expect" + st.describeWait() + ")" + st.quotedComment()
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						return statusReport(st.or(st.ToutStatus, CheckL7Tout), 0, where), false
					}
					if errno := readErrno(err); errno != 0 && len(got) == 0 {
						// chk_report_conn_err: an error with nothing read.
						return statusReport(CheckSockErr, 0, strerror(errno)+where), false
					}
					eof = true
				}
				if n == 0 && !eof {
					continue
				}
				mustRead = false
			}
			final := eof || len(got) >= checkBufSize
			if len(got) == 0 && final {
				c.Data = got
				return statusReport(st.or(st.ErrStatus, CheckL7Rsp), st.code(c, 0), "TCPCHK got an empty response at step "+step+st.quotedComment()), false
			}
			if !final {
				lit := st.ExpectR == nil
				if lit && len(got) < len(st.want(pattern)) || st.Bounded && st.MinRecv > 0 && len(got) < st.MinRecv {
					mustRead = true
					continue
				}
			}
			m := st.matches(got, pattern)
			if !m && !final && !st.Bounded {
				mustRead = true
				continue
			}
			if m != st.Neg {
				break
			}
			c.Data = got
			what := "TCPCHK did not match content"
			if st.Neg {
				what = "TCPCHK matched unwanted content"
			}
			return st.failure(c, CheckL7Rsp, 0, what+st.describe(pattern)+" at step "+step, st.Comment), false
		}
	}
	// tcpcheck_main's end: the last rule run words the success.
	c.Data = got
	switch {
	case last == nil:
		return "Layer4 check passed", true
	case last.Connect:
		if _, ok := conn.(*tls.Conn); ok {
			return `Layer6 check passed, info: "(tcp-check)"`, true
		}
		return `Layer4 check passed, info: "(tcp-check)"`, true
	case last.Send != nil || last.SendLF != nil:
		return statusReport(CheckL7OKD, 0, "(tcp-check)"), true
	}
	return last.success(c, 0, "(tcp-check)"), true
}

// describe is how HAProxy names an expect rule's pattern in reports.
func (st *TCPStep) describe(pattern []byte) string {
	switch {
	case st.ExpectR != nil && st.Binary:
		return " (binary regex)"
	case st.ExpectR != nil:
		return " (regex)"
	case st.ExpectLF != nil && st.Binary:
		return " (log-format binary)"
	case st.Binary:
		return " (binary)"
	case st.ExpectLF != nil:
		return " (log-format string)"
	}
	return " '" + string(st.want(pattern)) + "'"
}

// describeWait names the expect rule a check timed out on
// (chk_report_conn_err).
func (st *TCPStep) describeWait() string {
	switch {
	case st.ExpectR != nil && st.Binary:
		return " binary regex"
	case st.ExpectR != nil:
		return " regex"
	case st.ExpectLF != nil && st.Binary:
		return " log-format binary"
	case st.Binary:
		return " binary '" + string(st.Expect) + "'"
	case st.ExpectLF != nil:
		return " log-format string"
	}
	return " string '" + string(st.Expect) + "'"
}

func (st *TCPStep) want(pattern []byte) []byte {
	if st.ExpectLF != nil {
		return pattern
	}
	return st.Expect
}

func (st *TCPStep) comment() string {
	if st.Comment == "" {
		return ""
	}
	return " comment: " + st.Comment
}

func (st *TCPStep) quotedComment() string {
	if st.Comment == "" {
		return ""
	}
	return " comment: '" + st.Comment + "'"
}

func (st *TCPStep) matches(got, pattern []byte) bool {
	if st.ExpectR != nil && st.Binary {
		return st.ExpectR.MatchString(strings.ToUpper(hex.EncodeToString(got)))
	}
	if st.ExpectR != nil {
		return st.ExpectR.Match(got)
	}
	return bytes.Contains(got, st.want(pattern))
}
