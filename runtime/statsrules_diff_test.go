package runtime_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// statsRulesCfg has stats pages behind "stats http-request" rules: an
// allow that skips the authentication, a deny, an auth with its realm
// and without, a return and a deny with its own status.
const statsRulesCfg = `
global
    log %[1]s local0
userlist L
    user admin insecure-password pw
defaults
    mode http
    log global
    log-format "%%ST %%tsc %%b/%%s"
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen st
    bind %[2]s
    stats enable
    stats uri /st
    stats http-request allow if { hdr(x-allow) 1 }
    stats http-request deny if { hdr(x-deny) 1 }
    stats http-request auth realm Foo unless { http_auth(L) }
listen st2
    bind %[3]s
    stats enable
    stats uri /st
    stats http-request return status 202 content-type text/plain string hi if { hdr(x-ret) 1 }
    stats http-request deny deny_status 429 if { hdr(x-d) 1 }
    stats http-request auth unless { http_auth(L) }
frontend ready
    bind %[4]s
    no log
    http-request return status 200
`

// TestStatsHTTPRequestRulesDifferential: a stats page's "stats
// http-request" rules answer for it (deny, auth with the page's default
// realm, return) or let it answer (allow, an authenticated request), as
// HAProxy's do, with the same log lines.
func TestStatsHTTPRequestRulesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	sides := startLogPair(t, 3, func(sink string, p []string) string {
		return fmtCfg(statsRulesCfg, sink, p[0], p[1], p[2])
	})
	cases := []struct {
		fe   int
		auth string
		hdrs string
	}{
		{0, "", ""},
		{0, "", "x-allow: 1\r\n"},
		{0, "", "x-deny: 1\r\n"},
		{0, "admin:pw", ""},
		{0, "admin:bad", ""},
		{0, "admin:pw", "x-deny: 1\r\n"},
		{1, "", ""},
		{1, "", "x-ret: 1\r\n"},
		{1, "", "x-d: 1\r\n"},
		{1, "admin:pw", ""},
	}
	agreed := 0
	for i, c := range cases {
		var got [2]string
		for j := range sides {
			hdrs := c.hdrs
			if c.auth != "" {
				hdrs += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(c.auth)) + "\r\n"
			}
			resp, body := roundTrip(t, sides[j].ports[c.fe], "GET /st;csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+hdrs+"\r\n")
			line, _ := sides[j].sink.next(3 * time.Second)
			kind := "page"
			if !strings.HasPrefix(body, "# pxname") {
				kind = fmt.Sprintf("%q", body)
			}
			got[j] = fmt.Sprintf("%d %q %s | %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), kind, line[strings.LastIndex(line, ": ")+2:])
		}
		if got[0] != got[1] {
			t.Errorf("case %d (%q %q):\nhaproxy: %s\ngohap:   %s", i, c.auth, c.hdrs, got[0], got[1])
			continue
		}
		agreed++
	}
	t.Logf("stats http-request cases agreeing with HAProxy: %d/%d", agreed, len(cases))
}
