package runtime_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// persistCfg has a cookie-persistent backend whose force-persist and
// ignore-persist rules hang on request headers; the log line gives the
// cookie flags of the termination state and the server.
const persistCfg = `
global
    log %[1]s local0
    stats socket %[2]s level admin
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind %[3]s
    log-format "req %%ST %%tsc %%s"
    default_backend be
backend be
    balance roundrobin
    cookie SRV insert indirect nocache
    force-persist if { hdr(x-force) 1 }
    ignore-persist if { hdr(x-ignore) 1 }
    server s1 %[4]s cookie s1
    server s2 %[5]s cookie s2
frontend ready
    bind %[6]s
    no log
    http-request return status 200
`

// TestPersistRulesDifferential: force-persist sends a request whose
// cookie names a server in maintenance there all the same, and
// ignore-persist balances a request as if it had no cookie and inserts
// none, with HAProxy's answers and log flags.
func TestPersistRulesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	s1, s2 := startEcho(t, "s1").Addr(), startEcho(t, "s2").Addr()
	dir := t.TempDir()
	var socks [2]string
	n := 0
	sides := startLogPair(t, 2, func(sink string, p []string) string {
		socks[n] = filepath.Join(dir, fmt.Sprintf("%d.sock", n))
		n++
		return fmtCfg(persistCfg, sink, socks[n-1], p[0], s1, s2, p[1])
	})
	steps := []struct{ cli, hdrs string }{
		{"", "Cookie: SRV=s1\r\n"},
		{"disable server be/s1\n", "Cookie: SRV=s1\r\n"},
		{"", "Cookie: SRV=s1\r\nx-force: 1\r\n"},
		{"", "x-force: 1\r\n"},
		{"", "Cookie: SRV=zz\r\nx-force: 1\r\n"},
		{"enable server be/s1\n", "Cookie: SRV=s2\r\nx-ignore: 1\r\n"},
		{"", "Cookie: SRV=s2\r\nx-ignore: 1\r\n"},
		{"", "x-ignore: 1\r\n"},
		{"", "Cookie: SRV=zz\r\nx-ignore: 1\r\n"},
		{"", "Cookie: SRV=s1\r\nx-ignore: 1\r\nx-force: 1\r\n"},
		{"", "Cookie: SRV=s2\r\n"},
	}
	agreed := 0
	for i, st := range steps {
		var got [2]string
		for j := range sides {
			if st.cli != "" {
				cliSend(t, "unix", socks[j], st.cli)
			}
			resp, body := roundTrip(t, sides[j].ports[0], "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+st.hdrs+"\r\n")
			// The server events go to the same log.
			line, _ := sides[j].sink.next(3 * time.Second)
			for strings.Contains(line, ": Server ") {
				line, _ = sides[j].sink.next(3 * time.Second)
			}
			got[j] = fmt.Sprintf("%d %s set-cookie=%q %s | %s", resp.StatusCode, resp.Header.Get("x-server"),
				resp.Header.Get("Set-Cookie"), serverSawCookie(body), line[strings.LastIndex(line, ": ")+2:])
		}
		if got[0] != got[1] {
			t.Errorf("step %d (%q):\nhaproxy: %s\ngohap:   %s", i, st.hdrs, got[0], got[1])
			continue
		}
		agreed++
	}
	t.Logf("force-persist and ignore-persist steps agreeing with HAProxy: %d/%d", agreed, len(steps))
}

// serverSawCookie says whether the echo server got a Cookie header.
func serverSawCookie(body string) string {
	for _, l := range strings.Split(body, "\r\n") {
		if strings.HasPrefix(strings.ToLower(l), "cookie: ") {
			return "server-cookie=" + l[8:]
		}
	}
	return "server-cookie=none"
}
