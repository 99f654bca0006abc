package runtime_test

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"
)

// A backend without a balance line sends what persistence leaves to its
// dispatch address, or with option transparent to the client's
// destination; with a balance line the dispatch address is not used.
// HAProxy and gohap route and log the same requests the same way.
func TestDispatchTransparentDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the routing with")
	}
	disp, s1 := startEcho(t, "dispatch"), startEcho(t, "s1")
	_, s1port, _ := net.SplitHostPort(s1.Addr())
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe, tcp, tr, bal := freePort(t), freePort(t), freePort(t), freePort(t)
		cfg := fmt.Sprintf(`global
 log %s local0
defaults
 mode http
 log global
 option dontlognull
 log-format "%%ft %%b/%%s %%ST %%{+Q}r"
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend b
backend b
 cookie SRV insert indirect nocache
 dispatch %s
 server s1 %s cookie s1
listen tcpl
 bind %s
 mode tcp
 log-format "%%ft %%b/%%s"
 dispatch %s
listen tr
 bind %s
 option transparent
 http-request set-dst-port int(%s)
listen bal
 bind %s
 balance roundrobin
 dispatch %s
 server s1 %s
`, sink.addr(), fe, disp.Addr(), s1.Addr(), tcp, disp.Addr(), tr, s1port, bal, disp.Addr(), s1.Addr())
		start(cfg, fe)
		var out []string
		for _, c := range []struct{ addr, req string }{
			{fe, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{fe, "GET /b HTTP/1.1\r\nHost: x\r\nCookie: SRV=s1\r\nConnection: close\r\n\r\n"},
			{fe, "GET /c HTTP/1.1\r\nHost: x\r\nCookie: SRV=nope\r\nConnection: close\r\n\r\n"},
			{tcp, "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{tr, "GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{bal, "GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{bal, "GET /g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		} {
			st, srv, _ := get(t, c.addr, c.req)
			out = append(out, fmt.Sprintf("%s -> %d %s", strings.Fields(c.req)[1], st, srv))
		}
		var logs []string
		for range out {
			l, ok := sink.next(5 * time.Second)
			if !ok {
				break
			}
			logs = append(logs, maskLog(l))
		}
		// The tcp log line comes when the connection ends, in any order.
		return append(out, sortedLines(logs)...)
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, want := range []string{"/a -> 200 dispatch", "/b -> 200 s1", "/d -> 200 dispatch", "/e -> 200 s1", "b/<NOSRV> 200"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("no %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func sortedLines(l []string) []string {
	out := append([]string(nil), l...)
	sort.Strings(out)
	return out
}
