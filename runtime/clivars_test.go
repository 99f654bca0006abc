package runtime_test

import (
	"fmt"
	"strings"
	"testing"
)

// cliVarsCfg sets a process variable per request and returns another.
const cliVarsCfg = `global
    stats socket %[1]s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %[2]s
    http-request set-var(proc.hits) int(5)
    http-request return status 200 hdr x-int "%%[var(proc.x)]" hdr x-api "%%[var(proc.s)]"
`

// TestCLIVarsDifferential: "get var" and "set var" answer as HAProxy
// 2.6's, and the traffic sees what "set var" stored.
func TestCLIVarsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	sides := startCLISides(t, func(s *cliMapsSide) string {
		return fmt.Sprintf(cliVarsCfg, s.sock, s.fe)
	})
	steps := []struct {
		cmd, path string
	}{
		{cmd: "get var proc.hits\n"},
		{cmd: "get var proc.hits\n", path: "/"},
		{cmd: "get var\n"},
		{cmd: "get var proc.nope\n"},
		{cmd: "get var txn.x\n"},
		{cmd: "get var bad\n"},
		{cmd: "set var proc.x int(1)\n"},
		{cmd: "experimental-mode\n"},
		{cmd: "expert-mode; expert-mode on; expert-mode; expert-mode off; expert-mode\n"},
		{cmd: "expert-mode on; user; expert-mode; operator\n"},
		{cmd: "experimental-mode on; experimental-mode; set var proc.x int(12); get var proc.x\n", path: "/"},
		{cmd: "experimental-mode on; set var proc.s str(a\\tb); get var proc.s\n", path: "/"},
		{cmd: "experimental-mode on; set var proc.s fmt v=%[var(proc.x)]; get var proc.s\n", path: "/"},
		{cmd: "experimental-mode on; set var proc.s expr str(x),upper; get var proc.s\n", path: "/"},
		{cmd: "experimental-mode on; set var proc.s str(updating); set var proc.s fmt %[var(proc.s),regsub(ing,ed)]\n", path: "/"},
		{cmd: "experimental-mode on; set var proc.b bool(1); get var proc.b\n"},
		{cmd: "experimental-mode on; set var proc.m meth(GET); get var proc.m\n"},
		{cmd: "experimental-mode on; set var proc.i ipv4(10.0.0.1); get var proc.i\n"},
		{cmd: "experimental-mode on; set var proc.bi bin(41FF00); get var proc.bi\n"},
		{cmd: "experimental-mode on; set var txn.x int(1)\n"},
		{cmd: "experimental-mode on; set var foo int(1)\n"},
		{cmd: "experimental-mode on; set var proc.a-b int(1)\n"},
		{cmd: "experimental-mode on; set var proc.x nope(1)\n"},
		{cmd: "experimental-mode on; set var proc.x\n"},
		{cmd: "experimental-mode on; set var\n"},
		{cmd: "experimental-mode on; set var proc.x bad int(1)\n"},
		{cmd: "experimental-mode on; operator; experimental-mode\n"},
		{cmd: "experimental-mode on; operator; set var proc.x int(3)\n"},
		{cmd: "operator; get var proc.x\n"},
		{cmd: "user; get var proc.x\n"},
		{cmd: "user; experimental-mode on\n"},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			got[i] = s.send(t, st.cmd)
			if st.path != "" {
				got[i] += "=> " + s.request(t, st.path, "", "")
			}
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", st.cmd, got[1], got[0])
		}
	}
	// "set var" is listed in experimental mode only, with HAProxy's line.
	setVar := "  set var <name> [fmt|expr] {<fmt>|<expr>}: set variable from an expression or a format\n"
	for i, s := range sides {
		off, on := s.send(t, "help set\n"), s.send(t, "experimental-mode on; help set\n")
		if strings.Contains(off, setVar) || !strings.Contains(on, setVar) {
			t.Errorf("%s: help set:\n%s\nin experimental mode:\n%s", sides[i].name, off, on)
		}
	}
}
