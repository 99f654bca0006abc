package runtime_test

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// logSink collects the syslog datagrams sent to a UDP port.
type logSink struct {
	c     *net.UDPConn
	lines chan string
}

func newLogSink(t *testing.T) *logSink {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &logSink{c: c, lines: make(chan string, 256)}
	go func() {
		b := make([]byte, 65536)
		for {
			n, err := c.Read(b)
			if err != nil {
				return
			}
			s.lines <- string(b[:n])
		}
	}()
	return s
}

func (s *logSink) addr() string { return s.c.LocalAddr().String() }

// next waits for the next line, at most d.
func (s *logSink) next(d time.Duration) (string, bool) {
	select {
	case l := <-s.lines:
		return l, true
	case <-time.After(d):
		return "", false
	}
}

// drain drops the lines that come until none came for d (a readiness
// probe's).
func (s *logSink) drain(d time.Duration) {
	for {
		if _, ok := s.next(d); !ok {
			return
		}
	}
}

// message waits, at most d, for the next line and returns its message,
// without the syslog header, or "(no line)".
func (s *logSink) message(d time.Duration) string {
	l, ok := s.next(d)
	if !ok {
		return "(no line)"
	}
	if i := strings.Index(l, "]: "); i >= 0 {
		l = l[i+3:]
	}
	return strings.TrimSpace(l)
}

var (
	logHeader = regexp.MustCompile(`^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ((?:\S+ )?[^ \[]+)\[\d+\]: `)
	logDate   = regexp.MustCompile(`\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]`)
	logPort   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	logConns  = regexp.MustCompile(` \d+/\d+/(\d+)/(\d+)/(\+?\d+) `)
	logTimers = regexp.MustCompile(` -?\d+/-?\d+/\+?-?\d+(?:/-?\d+/\+?-?\d+)? `)
)

// maskLog hides what differs from run to run: the date and pid of the
// header, the accept date, ports, and timer values (a -1, a phase that
// never happened, stays).
func maskLog(l string) string {
	l = logHeader.ReplaceAllString(l, "<$1>DATE $2[PID]: ")
	l = logDate.ReplaceAllString(l, "[DATE]")
	l = logPort.ReplaceAllString(l, "127.0.0.1:PORT")
	// The first run of slash-separated numbers is the timers; the
	// connection counts after them must agree.
	loc := logTimers.FindStringIndex(l)
	if loc == nil {
		return l
	}
	fields := strings.Split(strings.TrimSpace(l[loc[0]:loc[1]]), "/")
	for i, f := range fields {
		if f != "-1" {
			fields[i] = "N"
		}
	}
	l = l[:loc[0]] + " " + strings.Join(fields, "/") + " " + l[loc[1]:]
	// The process and frontend connection counts (%ac/%fc) include the
	// previous connection when its close is still being processed: they
	// depend on the kernel's timing, not on the proxy. The backend,
	// server and retry counts stay compared.
	return logConns.ReplaceAllString(l, " A/F/$1/$2/$3 ")
}

// The access log lines of HAProxy and gohap for the same requests are the
// same once dates, pids, ports and timer values are masked: option
// httplog, a custom log-format with captures, option tcplog, and the
// options that choose which lines go out at which level, over answers
// 200, 404, 503, 504 and 400 and a connection closed without a request.
func TestAccessLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	up := startEcho(t, "s1")
	const format = `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`
	httpReqs := []string{
		"",
		"GET /size/100 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
		"GET /status/404 HTTP/1.1\r\nHost: a-very-long-host-name\r\nConnection: close\r\n\r\n",
		"GET /nosrv HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /sleep/800 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nBad header\r\n\r\n",
		"HEAD /size/10?x=1 HTTP/1.0\r\n\r\n",
	}
	captures := " capture request header Host len 10\n capture response header x-server len 20\n"
	nosrv := " use_backend none if { path /nosrv }\n"
	total, agreed := 0, 0
	for _, c := range []struct {
		name, global, fe string
		mode             string
		reqs             []string
	}{
		{"httplog", "", " option httplog\n" + captures + nosrv, "http", httpReqs},
		{"log-format", "", " log-format \"" + strings.ReplaceAll(format, `"`, `\"`) + " %HM %HP %HV %ST\"\n" + captures + nosrv, "http", httpReqs},
		{"dontlognull dontlog-normal", "", " option httplog\n option dontlognull\n option dontlog-normal\n" + nosrv, "http", httpReqs},
		{"log-separate-errors tag hostname", " log-tag edge\n log-send-hostname gohap-test\n", " option httplog\n option log-separate-errors\n" + nosrv, "http", httpReqs},
		{"set-log-level", "", " option httplog\n http-request set-log-level silent if { path /size/100 }\n http-request set-log-level err if { path /status/404 }\n" +
			" tcp-request content set-log-level notice if { path /nosrv }\n" + nosrv, "http", httpReqs},
		// The request line as HAProxy rebuilds it (one space between
		// parts, cut to tune.http.logurilen), and a client leaving while
		// http-buffer-request waits for its body.
		{"request line", " tune.http.logurilen 40\n", " option httplog\n option http-buffer-request\n" + nosrv, "http", []string{
			"GET  /size/10   HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"GET /size/10?a-query-string-long-enough-to-be-cut HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"GET /size/10?q=0123456789012345 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"POST /abort HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n",
			"POST /abort HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
			"POST /size/10 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\na\r\n0\r\nx-t: 1\r\n\r\n",
		}},
		// capture cookie: the first cookie whose name starts with the
		// captured one, in the request and in the response, cut to its
		// length.
		{"capture cookie", "", " option httplog\n capture cookie SR len 9\n" + nosrv, "http", []string{
			"GET /size/10 HTTP/1.1\r\nHost: a\r\nCookie: a=1; SRV=abcdefghijkl; SR=2\r\nConnection: close\r\n\r\n",
			"GET /setck HTTP/1.1\r\nHost: a\r\nCookie: x=1\r\nCookie:  SRX=1 ;y=2\r\nConnection: close\r\n\r\n",
			"GET /setck HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"GET /nosrv HTTP/1.1\r\nHost: a\r\nCookie: SR=1\r\nConnection: close\r\n\r\n",
		}},
		// A captured value is a C string to HAProxy: a NUL ends it, in
		// the log and in capture.req.hdr.
		{"capture NUL", "", " log-format \"%hr %[capture.req.hdr(0),hex]\"\n capture request header x-a len 10\n" + nosrv, "http", []string{
			"GET /size/10 HTTP/1.1\r\nHost: a\r\nx-a: a\x00b\r\nConnection: close\r\n\r\n",
			"GET /size/10 HTTP/1.1\r\nHost: a\r\nx-a: \x00b\r\nConnection: close\r\n\r\n",
		}},
		// tune.http.cookielen bounds the capture's length below its own.
		{"capture cookie cookielen", " tune.http.cookielen 6\n", " option httplog\n capture cookie SR len 9\n" + nosrv, "http", []string{
			"GET /size/10 HTTP/1.1\r\nHost: a\r\nCookie: a=1; SRV=abcdefghijkl; SR=2\r\nConnection: close\r\n\r\n",
			"GET /setck HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		}},
		// No empty connection in mode tcp: whether the connection to the
		// server is made before the close is seen (CC) is a race.
		{"tcplog", "", " option tcplog\n", "tcp", []string{"GET /size/100 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"}},
		// option logasap: the line goes out once the response head is in
		// (http) or the server connected (tcp), with "+" before the
		// bytes and the times that are not final.
		{"logasap", "", " option httplog\n option logasap\n" + nosrv, "http", httpReqs},
		{"logasap tcplog", "", " option tcplog\n option logasap\n", "tcp", []string{"GET /size/100 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(start func(cfg, fe string)) []string {
				sink := newLogSink(t)
				fe := freePort(t)
				start(fmtCfg(`global
 log %s local0
%sdefaults
 mode %s
 log global
 timeout connect 1s
 timeout client 5s
 timeout server 300ms
frontend fe
 bind %s
%s default_backend be
backend be
 server s1 %s
backend none
`, sink.addr(), c.global, c.mode, fe, c.fe, up.Addr()), fe)
				// Nothing more from the start (HAProxy logs the probe
				// connection of startHAProxy).
				for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
				}
				var got []string
				for _, raw := range c.reqs {
					if raw == "" {
						// A connection closed without a request.
						c, err := net.Dial("tcp", fe)
						if err != nil {
							t.Fatal(err)
						}
						c.Close()
					} else if strings.HasPrefix(raw, "POST /abort") {
						// Sent, then closed before the body is whole.
						exchange(t, fe, raw, nil, 3*time.Second)
					} else {
						exchange(t, fe, raw, []string{"GET"}, 3*time.Second)
					}
					l, ok := sink.next(500 * time.Millisecond)
					// The connection is gone before the next one: the
					// connection counts of the lines are then exact.
					time.Sleep(50 * time.Millisecond)
					if !ok {
						l = "(no line)"
					}
					got = append(got, strings.SplitN(raw+"(empty)", "\r\n", 2)[0]+" => "+maskLog(l))
				}
				return got
			}
			ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			agree := sameLines(t, ref, got)
			total += len(ref)
			agreed += agree
			t.Logf("%s: %d of %d lines agree", c.name, agree, len(ref))
		})
	}
	t.Logf("access log lines: %d of %d agree with haproxy", agreed, total)
}

var checkDuration = regexp.MustCompile(`check duration: \d+ms`)

// Server events go to the backend's log targets at HAProxy's levels: a
// server going DOWN at alert, the backend left without a server at emerg.
func TestServerEventsToSyslog(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the events with")
	}
	dead := freePort(t)
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(`global
 log %s local0
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 log global
 server s1 %s check inter 100ms fall 1 rise 1
`, sink.addr(), fe, dead), fe)
		var got []string
		for len(got) < 2 {
			l, ok := sink.next(3 * time.Second)
			if !ok {
				break
			}
			got = append(got, checkDuration.ReplaceAllString(maskLog(l), "check duration: Nms"))
		}
		return got
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "") != strings.Join(ref, "") || len(ref) != 2 {
		t.Errorf("events:\n haproxy %q\n   gohap %q", ref, got)
	}
}

// sameLines compares what HAProxy and gohap produced, one entry per
// exchange, reports each difference and returns how many agree.
func sameLines(t *testing.T, ref, got []string) int {
	t.Helper()
	agree := 0
	for i := range ref {
		if i < len(got) && got[i] == ref[i] {
			agree++
			continue
		}
		g := "(none)"
		if i < len(got) {
			g = got[i]
		}
		t.Errorf("entry %d:\n haproxy %q\n   gohap %q", i, ref[i], g)
	}
	return agree
}

// A TCP tunnel that ends on a timeout is logged with the side whose
// timeout expired: cD for the client's, sD for the server's.
func TestTunnelTimeoutFlagsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	// The server takes the connection and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Reads what comes, then closes a little later.
				c.Read(make([]byte, 64))
				time.Sleep(200 * time.Millisecond)
				c.Close()
			}()
		}
	}()
	for _, to := range []string{" timeout client 20ms\n timeout server 5s\n", " timeout client 5s\n timeout server 100ms\n"} {
		run := func(start func(cfg, fe string)) string {
			sink := newLogSink(t)
			fe := freePort(t)
			start(fmtCfg("global\n log %s local0\ndefaults\n mode tcp\n log global\n option tcplog\n timeout connect 1s\n%sfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", sink.addr(), to, fe, ln.Addr()), fe)
			for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
			}
			// The client stays until the proxy closes, well after both
			// timeouts.
			c, err := net.Dial("tcp", fe)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "hello")
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			io.Copy(io.Discard, c)
			c.Close()
			l, ok := sink.next(2 * time.Second)
			if !ok {
				return "(no line)"
			}
			return maskLog(l)
		}
		ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
		if got != ref {
			t.Errorf("%q:\n haproxy %q\n   gohap %q", to, ref, got)
		} else {
			t.Logf("%q: both %q", to, ref)
		}
	}
}

// The persistence cookie's two log flags (%tsc's last two characters):
// what the client's cookie did (none, invalid, valid, down) and what
// became of the server's (passed, deleted, rewritten, inserted), for each
// cookie mode.
func TestCookieLogFlagsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nCookie: SRV=one\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nCookie: SRV=bogus\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nCookie: SRV=two\r\nConnection: close\r\n\r\n",
		"GET /setck HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /setck HTTP/1.1\r\nHost: a\r\nCookie: SRV=one\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nCookie: SRV=one~xyz\r\nConnection: close\r\n\r\n",
	}
	for _, mode := range []string{"insert indirect nocache", "insert", "insert preserve", "rewrite", "prefix", "insert indirect maxidle 1h"} {
		run := func(start func(cfg, fe string)) []string {
			sink := newLogSink(t)
			fe := freePort(t)
			start(fmtCfg("global\n log %s local0\ndefaults\n mode http\n log global\n log-format \"%%tsc %%s %%ST\"\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n balance first\n cookie SRV %s\n server s1 %s cookie one\n server s2 %s cookie two disabled\n",
				sink.addr(), fe, mode, s1.Addr(), s2.Addr()), fe)
			for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
			}
			var got []string
			for _, raw := range reqs {
				exchange(t, fe, raw, []string{"GET"}, 3*time.Second)
				l, ok := sink.next(time.Second)
				if !ok {
					l = "(no line)"
				}
				got = append(got, mode+" "+strings.SplitN(raw, "\r\n", 3)[1]+" => "+maskLog(l))
			}
			return got
		}
		ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
		t.Logf("%s: %d of %d lines agree", mode, sameLines(t, ref, got), len(ref))
	}
}
