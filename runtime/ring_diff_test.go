package runtime_test

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tcpSyslog is a TCP syslog receiver: it accepts connections and
// passes on the messages, newline-terminated or octet-counted.
type tcpSyslog struct {
	ln net.Listener
	*logSink
}

func newTCPSyslog(t *testing.T, octetCount bool) *tcpSyslog {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &tcpSyslog{ln: ln, logSink: &logSink{lines: make(chan string, 1024)}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go pumpSyslog(bufio.NewReader(c), octetCount, s.lines)
		}
	}()
	return s
}

// readSyslogMsg reads a message, octet-counted or newline-terminated,
// prefixed "OC " or "LF " as it came. A bad frame length is reported in
// the message, with an error.
func readSyslogMsg(r *bufio.Reader, octetCount bool) (string, error) {
	if !octetCount {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		return "LF " + strings.TrimSuffix(l, "\n"), nil
	}
	n, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil {
		return "bad frame length " + n, err
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return "OC " + string(b), nil
}

// pumpSyslog passes on the messages of r until it ends.
func pumpSyslog(r *bufio.Reader, octetCount bool, out chan<- string) {
	for {
		msg, err := readSyslogMsg(r, octetCount)
		if msg != "" {
			out <- msg
		}
		if err != nil {
			return
		}
	}
}

var (
	ringCfgPath = regexp.MustCompile(`'/[^']*/haproxy.cfg'`)
	isoDate     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d `)
	shortPid    = regexp.MustCompile(`haproxy\[\d+\]`)
)

// maskRingLine is maskLog for an event of a ring: a prefix ("LF ", "OC ")
// kept, ISO dates and pids hidden as well.
func maskRingLine(l string) string {
	pfx := ""
	if len(l) > 3 && (l[:3] == "LF " || l[:3] == "OC ") {
		pfx, l = l[:3], l[3:]
	}
	// The request of a line cut at maxlen ends where the unmasked
	// fields' widths put it (a timer's digits vary): the cut is told by
	// the line's length instead.
	if i := strings.Index(l, "?a-long-query"); i >= 0 && !strings.Contains(l[i:], "-the-ring ") {
		l = l[:i] + "?(cut at " + strconv.Itoa(len(l)) + " bytes)"
	}
	l = maskLog(l)
	l = isoDate.ReplaceAllString(l, "ISODATE ")
	return pfx + shortPid.ReplaceAllString(l, "haproxy[PID]")
}

const ringCfg = `global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 option httplog
 option dontlognull
 log ring@r1 local0
 log ring@r2 len 120 local1 notice
 log tcp@%s format short local3
 default_backend be
frontend fe2
 bind %s
 option httplog
 log ring@r3 local2
 default_backend be
backend be
 server s1 %s
ring r1
 description "events to syslog"
 format rfc3164
 maxlen 200
 size 32768
 timeout connect 1s
 timeout server 2s
 server syslog %s log-proto %s
ring r2
 format iso
 maxlen 90
ring r3
 format rfc5424
 maxlen 100
`

// The events of a ring reach a TCP syslog server as HAProxy sends them
// (legacy and octet-count framing), and "show events" answers as
// HAProxy's: the list of sinks, and each ring's events once dates, pids,
// ports and timers are masked. A ring that overflows keeps as many of
// the newest events as HAProxy's.
func TestRingDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the ring events with")
	}
	up := startEcho(t, "s1")
	reqs := []string{
		"GET /size/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /status/404 HTTP/1.1\r\nHost: a-rather-long-host-name\r\nConnection: close\r\n\r\n",
		"GET /status/503?a-long-query-string-to-reach-the-maxlen-of-the-ring HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET /size/20 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	}
	for _, proto := range []string{"legacy", "octet-count"} {
		t.Run(proto, func(t *testing.T) {
			run := func(start func(cfg, fe string)) []string {
				sys := newTCPSyslog(t, proto == "octet-count")
				// A tcp@ target, which goes through an implicit ring.
				stream := newTCPSyslog(t, false)
				sock := filepath.Join(t.TempDir(), "s.sock")
				fe, fe2 := freePort(t), freePort(t)
				start(fmtCfg(ringCfg, sock, fe, stream.ln.Addr(), fe2, up.Addr(), sys.ln.Addr(), proto), fe)
				var out []string
				for _, raw := range reqs {
					exchange(t, fe, raw, []string{"GET"}, 3*time.Second)
					l, ok := sys.next(3 * time.Second)
					// The connection is gone before the next one: the
					// connection counts of the lines are then exact.
					time.Sleep(50 * time.Millisecond)
					if !ok {
						l = "(no line)"
					}
					out = append(out, "syslog: "+maskRingLine(l))
					if l, ok = stream.next(3 * time.Second); !ok {
						l = "(no line)"
					}
					out = append(out, "tcp@: "+maskRingLine(l))
				}
				if l, ok := sys.next(200 * time.Millisecond); ok {
					out = append(out, "syslog, more: "+maskRingLine(l))
				}
				// r3 overflows: its events have the same length (maxlen),
				// so it keeps as many as HAProxy's ring of the same size.
				for range 170 {
					exchange(t, fe2, "GET /size/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
				}
				r3 := strings.Split(cliSend(t, "unix", sock, "show events r3\n"), "\n")
				if len(r3) < 100 || len(r3) > 170 {
					t.Errorf("r3 kept %d events of 170, want the newest that fit", len(r3)-2)
				}
				out = append(out, "show events r3: "+strconv.Itoa(len(r3))+" lines, first: "+maskRingLine(r3[0])[:20])
				for _, cmd := range []string{"show events", "show events r1", "show events r2", "show events ring#1",
					"show events r1 -n", "show events stderr", "show events nope", "show events r1 -z"} {
					ans := cliSend(t, "unix", sock, cmd+"\n")
					for _, l := range strings.Split(ans, "\n") {
						l = ringCfgPath.ReplaceAllString(l, "'CFG'")
						out = append(out, cmd+": "+maskRingLine(l))
					}
				}
				return out
			}
			ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if len(ref) != len(got) {
				t.Errorf("%d lines from haproxy, %d from gohap", len(ref), len(got))
			}
			agree := sameLines(t, ref, got)
			t.Logf("%s: %d of %d lines agree", proto, agree, len(ref))
		})
	}
}

// Requests are never held up by a ring: not when its server is absent,
// not when the server stops reading, not when a "show events -w" reader
// stops reading and the ring, full, drops the events (and counts them).
func TestRingNeverBlocks(t *testing.T) {
	up := startEcho(t, "s1")
	// A server that accepts and never reads.
	stuck, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	go func() {
		for {
			c, err := stuck.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	absent := freePort(t)
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	startGohap(t, fmtCfg(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 option httplog
 log ring@gone local0
 log ring@stuck local0
 log ring@watched len 8000 local0
 default_backend be
backend be
 server s1 %s
ring gone
 timeout connect 200ms
 timeout server 200ms
 server s %s
ring stuck
 timeout connect 200ms
 timeout server 200ms
 server s %s
ring watched
`, sock, fe, up.Addr(), absent, stuck.Addr()), nil)
	// A watcher that never reads what it is sent holds its place in
	// the ring.
	w, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	io.WriteString(w, "show events watched -w\n")
	big := strings.Repeat("q", 3000)
	for i := range 300 {
		out, _ := exchange(t, fe, "GET /size/1?"+big+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 200") {
			t.Fatalf("request %d: %q", i, out)
		}
	}
	list := cliSend(t, "unix", sock, "show events\n")
	m := regexp.MustCompile(`watched +: type=buffer, (\d+) dropped`).FindStringSubmatch(list)
	if m == nil || m[1] == "0" {
		t.Errorf("no event dropped behind the stuck watcher:\n%s", list)
	}
	// The ring whose server is absent keeps the newest events.
	gone := cliSend(t, "unix", sock, "show events gone\n")
	if n := strings.Count(gone, "\n"); n < 2 || !strings.Contains(gone, "GET /size/1?") {
		t.Errorf("ring of the absent server: %d lines", n)
	}
}

// What "run" refuses: a log ring@ naming no ring or a descriptor sink
// (HAProxy's start-up alerts), ring server options the forwarder does
// not run, and TLS settings HAProxy refuses as well.
func TestRingRefusals(t *testing.T) {
	got := compileErr(t, `global
 log ring@stdout local0
frontend fe
 bind 127.0.0.1:18080
 mode http
 log ring@nope local0
 log ring@r local0
ring r
 server s1 127.0.0.1:6514 send-proxy check
 server s2 127.0.0.1:6514 ssl verify none check-ssl
 server s3 127.0.0.1:6514 log-proto octet-count send-proxy-v2 ssl verify none
 server s4 127.0.0.1:6514 ssl
 server s5 127.0.0.1:6514 ssl verify none sni nope_fetch
`)
	for _, want := range []string{
		"global log server declared in file '",
		"' at line 2 uses incompatible ring 'stdout'.",
		"log server declared in proxy section 'fe' in file '",
		"' at line 6 uses unknown ring named 'nope'.",
		":9] : server option 'check' is not supported by the gohap runtime yet.",
		":10] : server option 'check-ssl' is not supported by the gohap runtime yet.",
		":12] : 'server r/s4' : verify is enabled by default but no CA file specified.",
		":13] : 'server r/s5' : error detected while parsing sni expression : unknown fetch method 'nope_fetch'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, ":11]") || strings.Contains(got, "ring@r ") {
		t.Errorf("refused a supported line:\n%s", got)
	}
}

// "show events <ring> -w" prints the ring's events, then each new one as
// it comes, until the client sends something; "-n" skips the old ones.
// Both as HAProxy's.
func TestShowEventsWaitDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare show events -w with")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		start(fmtCfg(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 option httplog
 option dontlognull
 log ring@r local0
 default_backend be
backend be
 server s1 %s
ring r
 format short
`, sock, fe, up.Addr()), fe)
		get := func(path string) {
			exchange(t, fe, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
		}
		get("/size/1")
		var out []string
		for _, cmd := range []string{"show events r -w", "show events r -nw"} {
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, cmd+"\n")
			r := bufio.NewReader(c)
			if cmd == "show events r -w" {
				l, _ := r.ReadString('\n')
				out = append(out, cmd+" old: "+maskRingLine(l))
			} else {
				// -nw answers nothing until an event: the command must be
				// read before the event comes, which a loaded machine
				// may delay.
				time.Sleep(300 * time.Millisecond)
			}
			get("/size/2")
			l, _ := r.ReadString('\n')
			out = append(out, cmd+" new: "+maskRingLine(l))
			// A key ends the command at the next event.
			io.WriteString(c, "x\n")
			// HAProxy reads the key when it comes, and sees it at the
			// next event.
			time.Sleep(200 * time.Millisecond)
			get("/size/3")
			rest, err := io.ReadAll(r)
			out = append(out, cmd+" end: "+maskRingLine(string(rest))+" "+strconv.FormatBool(err == nil))
			c.Close()
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := sameLines(t, ref, got)
	t.Logf("show events -w: %d of %d lines agree", agree, len(ref))
}
