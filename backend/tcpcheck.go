package backend

import (
	"bytes"
	"net"
	"regexp"
	"strconv"
	"time"
)

// TCPStep is one "tcp-check" rule after the initial connect.
type TCPStep struct {
	// Send is written as it is when not nil.
	Send []byte
	// An expect step waits until the received data matches (or Neg and
	// it does not), or the check times out.
	Expect  []byte
	ExpectR *regexp.Regexp
	Neg     bool
}

// runTCP plays tcp-check send/expect steps on an open connection; the
// messages follow HAProxy's check reports.
func runTCP(conn net.Conn, steps []TCPStep, deadline time.Time) (string, bool) {
	conn.SetDeadline(deadline)
	var got []byte
	buf := make([]byte, 4096)
	for i, st := range steps {
		step := strconv.Itoa(i + 2) // the connect is step 1
		if st.Send != nil {
			if _, err := conn.Write(st.Send); err != nil {
				return `Layer4 connection problem, info: "Connection reset by peer", at step ` + step + ` of tcp-check (send)`, false
			}
			got = got[:0]
			continue
		}
		for {
			if len(got) > 0 {
				m := st.matches(got)
				if st.Neg && m {
					return "TCPCHK matched unwanted content at step " + step, false
				}
				if st.Neg || m {
					break
				}
			}
			if len(got) >= 16384 {
				return "TCPCHK did not match content at step " + step, false
			}
			n, err := conn.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				if len(got) > 0 && st.matches(got) != st.Neg {
					break
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return "Layer7 timeout, at step " + step + " of tcp-check (expect)", false
				}
				return "TCPCHK did not match content at step " + step, false
			}
		}
	}
	return "Layer7 check passed", true
}

func (st *TCPStep) matches(got []byte) bool {
	if st.ExpectR != nil {
		return st.ExpectR.Match(got)
	}
	return bytes.Contains(got, st.Expect)
}
