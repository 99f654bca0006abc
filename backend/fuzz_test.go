package backend

import (
	"testing"
)

// FuzzCheckReplies feeds arbitrary server replies to every protocol
// check's judge and to the HTTP check's response reader: a server
// answering anything must give a report, never a panic.
func FuzzCheckReplies(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Ok: a, b\r\n\r\nok"))
	f.Add([]byte("\x4a\x00\x00\x00\x0a5.7.99\x00"))
	f.Add([]byte("R\x00\x00\x00\x08\x00\x00\x00\x00"))
	f.Add([]byte{0x30, 0x84, 0x02, 0x01, 0x01, 0x61, 0x87, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	f.Add([]byte("220 hi\r\n"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		checks := []*ProtoCheck{MySQLCheck("", false), MySQLCheck("u", false), MySQLCheck("u", true),
			PgSQLCheck("u"), LDAPCheck(), SSLHelloCheck(), RedisCheck(), SMTPCheck("HELO x")}
		for _, c := range checks {
			for _, st := range c.Steps {
				for _, last := range []bool{false, true} {
					reason, ok, wait := st.Judge(reply, last)
					if last && wait {
						t.Fatalf("a judge waits after the last read: %q", reply)
					}
					if ok && reason == "" && st.Send == nil && len(c.Steps) == 1 {
						t.Fatalf("a pass without a report: %q", reply)
					}
				}
			}
		}
		headEnd := -1
		for i := 0; i+4 <= len(reply); i++ {
			if string(reply[i:i+4]) == "\r\n\r\n" {
				headEnd = i + 4
				break
			}
		}
		if headEnd > 0 {
			contentLength(reply[:headEnd])
		}
		if r, ok := parseCheckResponse(reply, headEnd); ok {
			name, _ := StrMatch("beg", "x", true)
			value, _ := StrMatch("sub", "a", false)
			HeaderMatch(name, value, false)(r)
		}
	})
}
