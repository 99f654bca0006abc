package backend

import (
	"bytes"
	"encoding/binary"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ProtoCheck is one of HAProxy's protocol checks (option mysql-check,
// pgsql-check, ldap-check, ssl-hello-chk, redis-check, smtpchk): steps,
// each a message sent after the connect (or none) and the reply judged
// as HAProxy's built-in rules do.
type ProtoCheck struct {
	Steps []ProtoStep
	// Timeout is the report when the server does not answer in time.
	Timeout string
	// Linger closes the connection cleanly; HAProxy does for mysql,
	// pgsql and smtp checks, and resets the others.
	Linger bool
	// QuietSuccess says the success info (a MySQL version, LDAP's
	// "Success") shows in the check's report but not in the server's
	// change of state: HAProxy ends such checks with an empty info.
	QuietSuccess bool
}

// ProtoStep is a message and the judge of its reply: the judge sees
// what was received so far, last once no more can come, and asks for
// more data with wait. The last step's reason is the success report.
type ProtoStep struct {
	Send  []byte
	Judge func(got []byte, last bool) (reason string, ok, wait bool)
	// Step is the number of the step's first expect rule in HAProxy's
	// rule set, which an empty response names; WrongStatus reports that
	// response as the rule's error-status L7STS does.
	Step        int
	WrongStatus bool
}

// descLen is HAProxy's HCHK_DESC_LEN: a check's info is cut to it, and at
// the first NUL byte as a C string is.
const descLen = 128

func info(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > descLen-1 {
		b = b[:descLen-1]
	}
	if len(b) == 0 {
		return ""
	}
	return `, info: "` + string(b) + `"`
}

func (p *ProtoCheck) run(conn net.Conn, deadline time.Time) (string, bool) {
	conn.SetDeadline(deadline)
	reason := ""
	for _, st := range p.Steps {
		var ok bool
		if reason, ok = p.exchange(conn, st); !ok {
			return reason, false
		}
	}
	return reason, true
}

// exchange sends req (if any) and reads until judge decides.
func (p *ProtoCheck) exchange(conn net.Conn, st ProtoStep) (string, bool) {
	req, judge := st.Send, st.Judge
	if len(req) > 0 {
		if _, err := conn.Write(req); err != nil {
			return `Layer7 connection problem, info: "Connection reset by peer"`, false
		}
	}
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		last := err != nil || len(got) >= 16384
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return p.Timeout, false
			}
			if errno := readErrno(err); errno != 0 && len(got) == 0 {
				return statusReport(CheckSockErr, 0, strerror(errno)), false
			}
			if len(got) == 0 {
				// tcpcheck_eval_recv: the server closed without a word.
				status, _, _ := strings.Cut(p.Timeout, " ")
				status += " invalid response"
				if st.WrongStatus {
					status = "Layer7 wrong status, code: 0"
				}
				return status + `, info: "TCPCHK got an empty response at step ` + strconv.Itoa(st.Step) + `"`, false
			}
		}
		if reason, ok, wait := judge(got, last); !wait || last {
			return reason, ok
		}
	}
}

// one is a check of a single exchange.
func one(req []byte, step int, judge func([]byte, bool) (string, bool, bool), timeout string) *ProtoCheck {
	return &ProtoCheck{Steps: []ProtoStep{{Send: req, Judge: judge, Step: step}}, Timeout: timeout}
}

// MySQLCheck is "option mysql-check [user NAME [post-41|pre-41]]": without
// a user only the server's greeting is read; with one, a login and a QUIT
// are sent and the server's OK is awaited.
func MySQLCheck(user string, pre41 bool) *ProtoCheck {
	var req []byte
	if user != "" {
		var body []byte
		if pre41 {
			body = append([]byte{0x00, 0x80, 0x00, 0x00, 0x01}, user...)
		} else {
			body = []byte{0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21}
			body = append(body, make([]byte, 23)...)
			body = append(body, user...)
		}
		body = append(body, 0x00, 0x00)
		n := len(body)
		req = append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, body...)
		req = append(req, 0x01, 0x00, 0x00, 0x00, 0x01) // COM_QUIT
	}
	step := 2
	if user != "" {
		step = 3
	}
	c := one(req, step, func(got []byte, last bool) (string, bool, bool) {
		off := 0
		if user != "" {
			if r, ok, wait := mysqlPacket(got, 0, last, false); wait || !ok {
				return r, ok, wait
			}
			off = 4 + (int(got[0]) | int(got[1])<<8 | int(got[2])<<16)
		}
		return mysqlPacket(got, off, last, true)
	}, "Layer7 timeout")
	c.Linger, c.QuietSuccess = true, true
	return c
}

// mysqlPacket is tcpcheck_mysql_expect_packet for the packet at off.
func mysqlPacket(got []byte, off int, last, final bool) (string, bool, bool) {
	if len(got) < off+4 {
		return "Layer7 invalid response", false, !last
	}
	n := int(got[off]) | int(got[off+1])<<8 | int(got[off+2])<<16
	if len(got) < off+n+4 {
		return "Layer7 invalid response", false, !last
	}
	if n > 0 && got[off+4] == 0xff {
		code := 0
		if len(got) >= off+7 {
			code = int(got[off+5]) | int(got[off+6])<<8
		}
		var desc []byte
		if len(got) > off+7 {
			desc = got[off+7:]
		}
		return "Layer7 wrong status, code: " + strconv.Itoa(code) + info(desc), false, false
	}
	if !final {
		return "", true, false
	}
	// The server version of the greeting, a C string at offset 5.
	var version []byte
	if len(got) > 5 {
		version = got[5:]
	}
	return "Layer7 check passed, code: 0" + info(version), true, false
}

// PgSQLCheck is "option pgsql-check user NAME": a startup message, then
// an authentication request is expected, an error message being reported.
func PgSQLCheck(user string) *ProtoCheck {
	body := append([]byte{0, 3, 0, 0}, "user\x00"...)
	body = append(append(body, user...), 0, 0)
	req := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	c := one(append(req, body...), 3, func(got []byte, last bool) (string, bool, bool) {
		if len(got) < 5 && !last {
			return "", false, true
		}
		if len(got) > 0 && got[0] == 'E' {
			var desc []byte
			if len(got) > 6 {
				desc = got[6:]
			}
			return "Layer7 invalid response" + info(desc), false, false
		}
		if len(got) < 9 && !last {
			return "", false, true
		}
		if len(got) >= 9 && got[0] == 'R' && bytes.Equal(got[1:4], []byte{0, 0, 0}) &&
			(got[4] == 8 || got[4] == 0x0a || got[4] == 0x0c) && bytes.Equal(got[5:8], []byte{0, 0, 0}) &&
			got[8] <= 6 && got[8] != 1 {
			return `Layer7 check passed, code: 0, info: "PostgreSQL server is ok"`, true, false
		}
		return `Layer7 wrong status, code: 0, info: "PostgreSQL unknown error"`, false, false
	}, "Layer7 timeout")
	c.Linger = true
	return c
}

// LDAPCheck is "option ldap-check": an anonymous LDAPv3 bind whose
// response code must be 0 (tcpcheck_ldap_expect_bindrsp, after 14 bytes).
func LDAPCheck() *ProtoCheck {
	const notLDAP = `Layer7 invalid response, info: "Not LDAPv3 protocol"`
	bind := []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}
	c := one(bind, 2, func(got []byte, last bool) (string, bool, bool) {
		if len(got) < 14 && !last {
			return "", false, true
		}
		short := func() (string, bool, bool) {
			if !last {
				return "", false, true
			}
			return "Layer7 invalid response", false, false
		}
		// A first rule wants a BER SEQUENCE (expect rbinary ^30).
		if len(got) == 0 || got[0] != 0x30 {
			return notLDAP, false, false
		}
		if len(got) < 2 {
			return short()
		}
		// The LDAPMessage length, in BER short form or on 2 or 4 bytes.
		n, msgLen := 0, int(got[1])
		if got[1]&0x80 != 0 {
			n = int(got[1] & 0x7f)
			if len(got) < 2+n {
				return short()
			}
			switch n {
			case 4:
				msgLen = int(binary.BigEndian.Uint32(got[2:6]))
			case 2:
				msgLen = int(binary.BigEndian.Uint16(got[2:4]))
			default:
				return notLDAP, false, false
			}
		}
		if len(got) < 2+n+msgLen {
			return short()
		}
		p := 2 + n
		// messageID 1, bindResponse.
		if len(got) < p+5 || !bytes.Equal(got[p:p+4], []byte{0x02, 0x01, 0x01, 0x61}) {
			return notLDAP, false, false
		}
		p += 4
		if got[p]&0x80 != 0 {
			p += int(got[p] & 0x7f)
		}
		p++
		if len(got) < p+3 || !bytes.Equal(got[p:p+2], []byte{0x0a, 0x01}) {
			return notLDAP, false, false
		}
		if code := got[p+2]; code != 0 {
			return "Layer7 wrong status, code: " + strconv.Itoa(int(code)) +
				`, info: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"`, false, false
		}
		return `Layer7 check passed, code: 0, info: "Success"`, true, false
	}, "Layer7 timeout")
	c.QuietSuccess = true
	return c
}

// SSLHelloCheck is "option ssl-hello-chk": an SSLv3 client hello, to
// which any TLS server answers with a handshake or an alert record.
func SSLHelloCheck() *ProtoCheck {
	hello := []byte{0x03, 0x00}
	hello = binary.BigEndian.AppendUint32(hello, uint32(time.Now().Unix()))
	hello = append(hello, "HAPROXYSSLCHK\nHAPROXYSSLCHK\n"...)
	hello = append(hello, 0x00, 0x00, 0x34)
	for c := 1; c <= 26; c++ {
		hello = append(hello, 0x00, byte(c))
	}
	hello = append(hello, 0x01, 0x00)
	hs := append([]byte{0x01, 0x00, byte(len(hello) >> 8), byte(len(hello))}, hello...)
	rec := append([]byte{0x16, 0x03, 0x00, byte(len(hs) >> 8), byte(len(hs))}, hs...)
	return one(rec, 2, func(got []byte, last bool) (string, bool, bool) {
		if len(got) < 5 && !last {
			return "", false, true
		}
		if len(got) > 0 && (got[0] == 0x15 || got[0] == 0x16) {
			return "Layer6 check passed", true, false
		}
		return "Layer6 invalid response", false, false
	}, "Layer6 timeout")
}

// cutCRLF is HAProxy's cut_crlf converter: up to the first CR or LF.
func cutCRLF(b []byte) []byte {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

// RedisCheck is "option redis-check": a PING whose answer must hold
// +PONG; the server's error line is reported otherwise.
func RedisCheck() *ProtoCheck {
	c := one([]byte("*1\r\n$4\r\nPING\r\n"), 2, func(got []byte, last bool) (string, bool, bool) {
		if bytes.Contains(got, []byte("+PONG\r\n")) {
			return `Layer7 check passed, code: 0, info: "Redis server is ok"`, true, false
		}
		return "Layer7 wrong status, code: 0" + info(cutCRLF(got)), false, !last && len(got) < 16384
	}, "Layer7 timeout")
	c.Steps[0].WrongStatus = true
	return c
}

var (
	smtpAny   = regexp.MustCompile(`^[0-9]{3}[ \r]`)
	smtpOK    = regexp.MustCompile(`^2[0-9]{2}[ \r]`)
	smtpHello = regexp.MustCompile(`^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]`)
	smtpQuit  = regexp.MustCompile(`^221[ \r]`)
)

// smtpText is what HAProxy reports of an SMTP reply: the text after the
// code, without leading spaces, up to the end of the line.
func smtpText(got []byte) []byte {
	if len(got) <= 4 {
		return nil
	}
	return cutCRLF(bytes.TrimLeft(got[4:], " "))
}

func smtpCode(got []byte) string {
	n := 0
	for _, c := range got[:min(3, len(got))] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return strconv.Itoa(n)
}

// SMTPCheck is "option smtpchk [HELO|EHLO domain]": a 2xx greeting, the
// hello command answered 2xx, then QUIT answered 221.
func SMTPCheck(hello string) *ProtoCheck {
	// A reply judged once 4 bytes are in (min-recv 4); the hello reply
	// has no such bound and waits for its last line.
	reply := func(re *regexp.Regexp) func([]byte, bool) (string, bool, bool) {
		return func(got []byte, last bool) (string, bool, bool) {
			if len(got) < 4 && !last {
				return "", false, true
			}
			if !re.Match(got) {
				if re == smtpHello && !last {
					return "", false, true
				}
				return "Layer7 wrong status, code: " + smtpCode(got) + info(smtpText(got)), false, false
			}
			return "Layer7 check passed, code: " + smtpCode(got) + info(smtpText(got)), true, false
		}
	}
	greeting := func(got []byte, last bool) (string, bool, bool) {
		if len(got) < 4 && !last {
			return "", false, true
		}
		if !smtpAny.Match(got) {
			return "Layer7 invalid response" + info(cutCRLF(got)), false, false
		}
		return reply(smtpOK)(got, last)
	}
	return &ProtoCheck{Timeout: "Layer7 timeout", Linger: true, Steps: []ProtoStep{
		{Judge: greeting, Step: 2},
		{Send: []byte(hello + "\r\n"), Judge: reply(smtpHello), Step: 5, WrongStatus: true},
		{Send: []byte("QUIT\r\n"), Judge: reply(smtpQuit), Step: 7, WrongStatus: true},
	}}
}
