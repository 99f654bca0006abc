package runtime_test

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// statsAdminCfg has a checked server with an agent, a plain one and a
// tracker, behind a stats page that takes admin actions. The checks and
// agent run once an hour: only the actions change the servers.
const statsAdminCfg = `global
    stats socket %[1]s level admin
` + baseDefaults + `frontend st
    bind %[2]s
    stats enable
    stats uri /st
    stats admin if TRUE
backend be
    server chk %[3]s check inter 1h agent-check agent-port %[4]s agent-inter 1h
    server plain %[3]s
    server trk %[3]s track chk
`

// TestStatsAdminActionsDifferential posts every action of the stats
// page's admin form (and the older disable, enable, stop and start) to
// HAProxy and gohap, and compares the answer (DONE or NONE), the servers'
// state after each and the lines the changes log.
func TestStatsAdminActionsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	echo := startEcho(t, "a").Addr()
	_, agent, _ := net.SplitHostPort(freePort(t))
	hsock, gsock := filepath.Join(t.TempDir(), "h.sock"), filepath.Join(t.TempDir(), "g.sock")
	hst, gst := freePort(t), freePort(t)
	hout := startHAProxyOut(t, fmt.Sprintf(statsAdminCfg, hsock, hst, echo, agent), hst)
	glog := startGohapOut(t, fmt.Sprintf(statsAdminCfg, gsock, gst, echo, agent))
	// Both run chk's first check at once (the first server's turn in
	// the spread of checks comes at start); the actions wait for it, so
	// that it cannot land between an action and its state under load.
	for _, sock := range []string{hsock, gsock} {
		waitFirstCheck(t, sock, "chk")
	}
	mask := func(s string) string { return pausedHealth(sinceChange.ReplaceAllString(s, "$1 T ")) }
	loc := regexp.MustCompile(`Location: (\S+)`)
	steps := []string{
		"dhlth chk", "dhlth plain", "ehlth chk", "dhlth chk",
		"dagent chk", "dagent plain", "eagent chk", "dagent chk",
		"hdown chk", "hnolb chk", "hrunn chk", "hdown trk", "hdown chk", "hrunn chk",
		"eagent chk", "adown chk", "arunn chk", "adown plain", "arunn chk",
		"stop plain", "stop plain", "start plain", "start plain",
		"disable plain", "disable plain", "enable plain", "enable plain",
		"drain plain", "ready plain", "maint chk", "ready chk", "shutdown plain",
	}
	agree := 0
	for _, st := range steps {
		act, srv, _ := strings.Cut(st, " ")
		body := "s=" + srv + "&action=" + act + "&b=be"
		var got [2]string
		for i, side := range []struct{ st, sock string }{{hst, hsock}, {gst, gsock}} {
			r := rawRequest(t, side.st, "POST", "/st", "", body)
			m := loc.FindStringSubmatch(r)
			if m == nil {
				got[i] = "no Location: " + r
				continue
			}
			got[i] = m[1] + "\n" + mask(cliSend(t, "unix", side.sock, "show servers state be\n"))
		}
		if got[0] != got[1] {
			t.Errorf("%s:\nhaproxy: %s\ngohap:   %s", st, got[0], got[1])
			continue
		}
		agree++
	}
	var hl, gl []string
	for _, m := range haproxyEvent.FindAllStringSubmatch(hout.String(), -1) {
		hl = append(hl, m[1])
	}
	for _, m := range strings.Split(glog(), "\n") {
		if strings.HasPrefix(m, "Server ") || strings.HasPrefix(m, "backend ") {
			gl = append(gl, m)
		}
	}
	if h, g := strings.Join(hl, "\n"), strings.Join(gl, "\n"); h != g {
		t.Errorf("logged:\nhaproxy:\n%s\ngohap:\n%s", h, g)
	}
	t.Logf("stats page admin actions agreeing with HAProxy: %d/%d (%d lines logged)", agree, len(steps), len(hl))
}

// waitFirstCheck waits, for up to five seconds, until the server srv of
// backend be has a check result: its srv_check_status in "show servers
// state" is no longer HCHK_STATUS_INI (1).
func waitFirstCheck(t *testing.T, sock, srv string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		last = cliSend(t, "unix", sock, "show servers state be\n")
		for _, l := range strings.Split(last, "\n") {
			if f := strings.Fields(l); len(f) > 10 && f[3] == srv && f[10] != "1" {
				return
			}
		}
	}
	t.Fatalf("%s: no check result for %s after 5s:\n%s", sock, srv, last)
}
