package runtime_test

import (
	"net"
	"strings"
	"testing"
	"time"
)

// tcpCaptureCfg captures with tcp-request content rules in mode tcp
// (payload bytes, waited for, and the source) and in mode http, where
// the rule's slot sits between a header capture and an http-request
// capture; the log lines show every slot.
const tcpCaptureCfg = `
global
    log %[1]s local0
defaults
    log global
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend t
    mode tcp
    bind %[2]s
    tcp-request inspect-delay 500ms
    tcp-request content capture req.payload(0,5) len 3
    tcp-request content capture src len 20
    tcp-request content accept if { req.len gt 0 }
    log-format "%%ci [%%ft] cap0=%%[capture.req.hdr(0)] cap1=%%[capture.req.hdr(1)] hr=%%hr"
    default_backend echo
frontend h
    mode http
    bind %[3]s
    capture request header Host len 10
    tcp-request inspect-delay 1s
    tcp-request content capture req.hdr(user-agent) len 4
    http-request capture req.hdr(x-a) len 5
    tcp-request content accept if HTTP
    option httplog
    http-request return status 200
backend echo
    mode tcp
    server s %[4]s
frontend ready
    bind %[5]s
    mode http
    no log
    http-request return status 200
`

// TestTCPCaptureDifferential: "tcp-request content capture" fills a
// request capture slot of its own, in mode tcp and in mode http, waiting
// for the data its sample needs within the inspection delay, and the log
// lines show what HAProxy's show.
func TestTCPCaptureDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	echo := rawEcho(t)
	sides := startLogPair(t, 3, func(sink string, p []string) string {
		return fmtCfg(tcpCaptureCfg, sink, p[0], p[1], echo, p[2])
	})
	cases := []struct {
		name string
		fe   int
		send []string // written in turn, 100ms apart; the client then closes
	}{
		{"tcp, one segment", 0, []string{"hello world"}},
		{"tcp, the payload in two", 0, []string{"he", "llo"}},
		{"tcp, too short", 0, []string{"hi"}},
		{"http", 1, []string{"GET / HTTP/1.1\r\nHost: a-long-host-name\r\nUser-Agent: agentxyz\r\nx-a: abcdefgh\r\n\r\n"}},
		{"http, no user-agent", 1, []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n"}},
		{"http, two requests", 1, []string{"GET /1 HTTP/1.1\r\nHost: a\r\nUser-Agent: one\r\n\r\n",
			"GET /2 HTTP/1.1\r\nHost: b\r\nUser-Agent: twotwo\r\nx-a: b\r\n\r\n"}},
	}
	agreed := 0
	for _, c := range cases {
		var got [2]string
		for i := range sides {
			s := &sides[i]
			conn, err := net.DialTimeout("tcp", s.ports[c.fe], time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range c.send {
				if j > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				conn.Write([]byte(w))
			}
			time.Sleep(100 * time.Millisecond)
			conn.Close()
			// A line per stream (one for mode tcp), then none more.
			want := max(1, strings.Count(strings.Join(c.send, ""), "\r\n\r\n"))
			var lines []string
			for {
				wait := 200 * time.Millisecond
				if len(lines) < want {
					wait = 3 * time.Second
				}
				l, ok := s.sink.next(wait)
				if !ok {
					break
				}
				lines = append(lines, maskLog(l))
			}
			got[i] = strings.Join(lines, "\n")
		}
		if got[0] != got[1] {
			t.Errorf("%s:\nhaproxy: %s\ngohap:   %s", c.name, got[0], got[1])
			continue
		}
		agreed++
	}
	t.Logf("tcp-request content capture cases agreeing with HAProxy: %d/%d", agreed, len(cases))
}
