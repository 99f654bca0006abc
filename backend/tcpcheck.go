package backend

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strconv"
	"time"
)

// TCPStep is one "tcp-check" rule.
type TCPStep struct {
	// Connect opens a new connection (to Port, when set, on the
	// server's check address); a leading one replaces the implicit one.
	Connect bool
	Port    string
	// Linger closes the connection cleanly, not with a reset.
	Linger bool
	// Send is written as it is when not nil.
	Send []byte
	// An expect step waits until the received data matches (or Neg and
	// it does not), or the check times out.
	Expect  []byte
	ExpectR *regexp.Regexp
	Neg     bool
	// Binary marks an expect binary rule; Comment is the rule's comment.
	Binary  bool
	Comment string
	// Step is the rule's number in reports (its position among the
	// rules); 0 numbers the steps in order.
	Step int
}

// runTCP plays tcp-check rules on conn, a connection to addr (or to the
// port of a leading connect rule); the messages are HAProxy's.
func runTCP(ctx context.Context, conn net.Conn, addr string, steps []TCPStep, deadline time.Time) (string, bool) {
	conn.SetDeadline(deadline)
	var got []byte
	buf := make([]byte, 4096)
	for i, st := range steps {
		step := strconv.Itoa(i + 1)
		if st.Step > 0 {
			step = strconv.Itoa(st.Step)
		}
		switch {
		case st.Connect && i == 0:
			continue
		case st.Connect:
			a := addr
			if st.Port != "" {
				a = withPort(addr, st.Port)
			}
			d := net.Dialer{Deadline: deadline, KeepAlive: -1}
			c, err := Dial(ctx, &d, a)
			if err != nil {
				what := "connect"
				if st.Port != "" {
					what += " port " + st.Port
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return `Layer4 timeout, info: " at step ` + step + ` of tcp-check (` + what + `)"`, false
				}
				return `Layer4 connection problem, info: "Connection refused at step ` + step + ` of tcp-check (` + what + `)"`, false
			}
			defer closeCheckConn(c, st.Linger)
			conn, got = c, got[:0]
			if !st.Linger {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
			conn.SetDeadline(deadline)
			continue
		case st.Send != nil:
			if _, err := conn.Write(st.Send); err != nil {
				return `Layer4 connection problem, info: "Connection reset by peer at step ` + step + ` of tcp-check (send)"`, false
			}
			got = got[:0]
			continue
		}
		for {
			if len(got) > 0 {
				m := st.matches(got)
				if st.Neg && m {
					return `Layer7 invalid response, info: "TCPCHK matched unwanted content` + st.describe() + ` at step ` + step + st.comment() + `"`, false
				}
				if st.Neg || m {
					break
				}
			}
			if len(got) >= 16384 {
				return `Layer7 invalid response, info: "TCPCHK did not match content` + st.describe() + ` at step ` + step + st.comment() + `"`, false
			}
			n, err := conn.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				if len(got) > 0 && st.matches(got) != st.Neg {
					break
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return `Layer7 timeout, info: " at step ` + step + ` of tcp-check (expect` + st.describe() + `)"`, false
				}
				return `Layer7 invalid response, info: "TCPCHK did not match content` + st.describe() + ` at step ` + step + st.comment() + `"`, false
			}
		}
	}
	return `Layer7 check passed, code: 0, info: "(tcp-check)"`, true
}

// describe is how HAProxy names an expect rule's pattern in reports.
func (st *TCPStep) describe() string {
	switch {
	case st.ExpectR != nil:
		return " (regex)"
	case st.Binary:
		return " (binary)"
	}
	return " '" + string(st.Expect) + "'"
}

func (st *TCPStep) comment() string {
	if st.Comment == "" {
		return ""
	}
	return " comment: " + st.Comment
}

func (st *TCPStep) matches(got []byte) bool {
	if st.ExpectR != nil {
		return st.ExpectR.Match(got)
	}
	return bytes.Contains(got, st.Expect)
}
