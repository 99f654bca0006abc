package runtime_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPersistDifferential: "option persist" keeps a request on the server
// its cookie, a use-server rule or a stick table names while that server
// is in maintenance; without it the request goes elsewhere. Side by side
// with HAProxy: the server each request reaches and the cookie flags of
// its log line (%CC %CS %tsc).
func TestPersistDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	for _, persist := range []string{"option persist", "no option persist"} {
		for _, redisp := range []string{"", "option redispatch"} {
			persist, redisp := persist, redisp
			t.Run(persist+"/"+redisp, func(t *testing.T) {
				t.Parallel()
				sideBySide(t, func(start func(cfg, fe string)) string { return persistRun(t, persist, redisp, start) })
			})
		}
	}
}

var activeCount = regexp.MustCompile(`\d+ sessions active`)

// logLine is a syslog line without its header; the count of sessions
// still active when a server goes down is the race of the previous
// stream's end, not the option's.
func logLine(l string) string {
	if j := strings.Index(l, "]: "); j >= 0 {
		l = l[j+3:]
	}
	return activeCount.ReplaceAllString(strings.TrimSpace(l), "N sessions active")
}

func persistRun(t *testing.T, persist, redisp string, start func(cfg, fe string)) string {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	sock := filepath.Join(t.TempDir(), "s.sock")
	logs := newLogSink(t)
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
%s    log %s local0
    log-format "%%s %%tsc"
    option dontlognull
frontend f
    bind %s
    default_backend b
backend b
    %s
    %s
    balance roundrobin
    cookie SRV insert indirect nocache
    stick-table type string len 32 size 10 expire 1m
    stick on req.hdr(x-k)
    use-server s1 if { path /use }
    server s1 %s cookie a
    server s2 %s cookie b
`, sock, diffDefaults, logs.addr(), fe, persist, redisp, s1.Addr(), s2.Addr()), fe)
	var got []string
	// The table learns that k goes to s1 while it is up.
	_, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=a\r\nx-k: k\r\nConnection: close\r\n\r\n")
	got = append(got, "learn:"+srv)
	// The first stream is logged before the server goes down, so that
	// the lines come in one order.
	var lines []string
	if l, ok := logs.next(2 * time.Second); ok {
		lines = append(lines, logLine(l))
	}

	next := func() {
		// One line at a time: a stream logs when it ends, which may be
		// after its client has the answer.
		l, ok := logs.next(2 * time.Second)
		if !ok {
			l = "no log"
		}
		lines = append(lines, logLine(l))
	}
	cliSend(t, "unix", sock, "set server b/s1 state maint\n")
	next()
	for _, req := range []struct{ name, head string }{
		{"cookie", "GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=a\r\n"},
		{"use-server", "GET /use HTTP/1.1\r\nHost: x\r\n"},
		{"stick", "GET / HTTP/1.1\r\nHost: x\r\nx-k: k\r\n"},
		{"none", "GET / HTTP/1.1\r\nHost: x\r\n"},
	} {
		_, srv, _ := get(t, fe, req.head+"Connection: close\r\n\r\n")
		got = append(got, req.name+":"+srv)
		next()
	}
	return strings.Join(got, ",") + " | " + strings.Join(lines, ", ")
}
