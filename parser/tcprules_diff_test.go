package parser

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tcpRuleSections are the sections the tcp rule forms are tried in: the
// proxy kinds, and a named and an anonymous defaults section.
var tcpRuleSections = []struct{ name, head string }{
	{"frontend", "frontend fe\n  bind 127.0.0.1:8080\n"},
	{"backend", "backend be\n"},
	{"listen", "listen li\n  bind 127.0.0.1:8081\n"},
	{"named defaults", "defaults dn\n"},
	{"anonymous defaults", "defaults\n"},
}

// tcpRuleActionForms are the words after the stage of a tcp-request or
// tcp-response rule: each action missing its argument, with a bad value,
// with a word where the condition should start, and well formed.
var tcpRuleActionForms = strings.Split(`
accept
accept x
accept if TRUE
accept unless
reject x
reject if
close
close x
capture
capture req.len
capture req.len len
capture req.len len 0
capture req.len len 10
capture req.len len 10 x
capture nosuchfetch len 10
capture req.len foo 10
capture res.len len 10
track-sc0
track-sc0 src
track-sc0 src x
track-sc0 src table
track-sc3 src
track-sc src
track-sc1 nosuchfetch
track-sc2 res.len
expect-proxy
expect-proxy layer5
expect-proxy layer4
expect-proxy layer4 x
expect-netscaler-cip
expect-netscaler-cip layer4
expect-netscaler-cip layer4 x
sc-inc-gpc0
sc-inc-gpc0(0)
sc-inc-gpc0(0) x
sc-inc-gpc0(5)
sc-inc-gpc1(x)
sc-inc-gpc(0)
sc-inc-gpc(1,0)
sc-inc-gpc(1,0) x
sc-set-gpt0(0)
sc-set-gpt0(0) 1
sc-set-gpt0(0) 1 x
sc-set-gpt0(0) nosuchfetch
sc-set-gpt0 1
sc-set-gpt(0,0) 1
sc-set-gpt(0) 1
set-var(txn.x)
set-var(txn.x) int(1)
set-var(txn.x) int(1) x
set-var(x) int(1)
set-var() int(1)
set-var
set-var(txn.x) nosuchfetch
set-var-fmt(txn.x)
set-var-fmt(txn.x) abc
set-var-fmt(txn.x) abc x
unset-var(txn.x)
unset-var(txn.x) x
unset-var
set-log-level
set-log-level foo
set-log-level info
set-log-level info x
set-log-level silent if TRUE
set-nice
set-nice x
set-nice 3
set-nice 3 x
set-nice 5000
set-nice -5 if TRUE
set-mark
set-mark x
set-mark 1
set-mark 1 x
set-tos
set-tos 0xZ
set-tos 0x10
set-src
set-src src
set-src src x
set-src nosuchfetch
set-dst-port
set-dst-port int(80)
set-src-port
set-dst
silent-drop
silent-drop x
switch-mode
switch-mode tcp
switch-mode http
switch-mode http x
switch-mode http proto
switch-mode http proto h3
switch-mode http proto h2
use-service
use-service foo
use-service prometheus-exporter
set-priority-class
set-priority-class int(1)
set-priority-class int(1) x
set-priority-offset
set-priority-offset nosuchfetch
do-resolve
do-resolve(txn.x)
do-resolve(txn.x,res)
do-resolve(txn.x,res,ipv5) src
send-spoe-group
send-spoe-group a
ot-group
attach-srv
bogus
acept
set-vars(txn.x) int(1)
set-var(txn.x,ifexists) int(1)
set-var(txn.x,bogus) int(1)
set-var(txn.x) int(1) if TRUE
set-var(proc.a-b) int(1)
lua.foo
capture req.len,lower len 10
track-sc0 src table t1 x
sc-inc-gpc0(0) if TRUE
use-service lua.x
switch-mode http proto fcgi
set-priority-class int(1) if TRUE
set-src-port int(1) unless TRUE
reject if TRUE x
accept if nosuchacl
set-nice 3 if
set-mark if TRUE
sc-set-gpt0(0) if TRUE
sc-set-gpt0(0) nosuchfetch x
do-resolve(txn.x,r) nosuchfetch
do-resolve(txn.x,r) if TRUE
ot-group a b c
send-spoe-group a b c
track-sc0 src table if TRUE
set-src res.len
set-dst-port req.len`, "\n")[1:]

// tcpRuleLines returns every tcp-request and tcp-response line the
// differential test tries.
func tcpRuleLines() []string {
	lines := []string{"tcp-request", "tcp-request bogus", "tcp-response", "tcp-response bogus",
		"tcp-request connection", "tcp-request session", "tcp-request content", "tcp-response content",
		"tcp-request inspect-delay", "tcp-request inspect-delay x", "tcp-request inspect-delay 10s",
		"tcp-request inspect-delay 10s x", "tcp-request inspect-delay 99999999999", "tcp-request inspect-delay 10us",
		"tcp-response inspect-delay", "tcp-response inspect-delay 2x", "tcp-response inspect-delay 10s",
		"tcp-response inspect-delay 10s x"}
	for _, stage := range []string{"tcp-request connection", "tcp-request session", "tcp-request content", "tcp-response content"} {
		for _, f := range tcpRuleActionForms {
			lines = append(lines, stage+" "+f)
		}
	}
	return lines
}

// tcpRuleMultiCases are rule lines whose message depends on the lines
// before them: head ends with those lines.
var tcpRuleMultiCases = []struct{ head, line string }{
	{"frontend fe\n  bind 127.0.0.1:8080\n  tcp-request inspect-delay 1s\n", "tcp-request inspect-delay 2s"},
	{"frontend fe\n  bind 127.0.0.1:8080\n  tcp-request inspect-delay 1s\n", "tcp-request inspect-delay 0"},
	{"frontend fe\n  bind 127.0.0.1:8080\n  tcp-request inspect-delay 0\n", "tcp-request inspect-delay 2s"},
	{"backend be\n  tcp-response inspect-delay 1s\n", "tcp-response inspect-delay 2s"},
	{"backend be\n  tcp-response inspect-delay 1s\n", "tcp-request inspect-delay 2s"},
	{"defaults dn\n  tcp-request inspect-delay 1s\nfrontend fe from dn\n  bind 127.0.0.1:8080\n", "tcp-request inspect-delay 2s"},
	{"defaults dn\n  tcp-request inspect-delay 1s\nfrontend fe\n  bind 127.0.0.1:8080\n", "tcp-request inspect-delay 2s"},
	{"frontend fe\n  bind 127.0.0.1:8080\n", "tcp-request connection set-dst-port res.len"},
	{"frontend fe\n  bind 127.0.0.1:8080\n", "tcp-request connection set-src req.len"},
	{"backend be\n", "tcp-request content set-dst res.len"},
}

var tcpDiffPID = regexp.MustCompile(`^(\[[A-Z]+\] +)\(\d+\)`)

// tcpRuleConfig is a configuration whose last line is the rule line.
func tcpRuleConfig(head, line string) (string, int) {
	cfg := "global\n  log stdout local0\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		head + "  " + line + "\n"
	return cfg, strings.Count(cfg, "\n")
}

// lineMessages keeps the messages of an haproxy -c output (pid masked)
// about line n of file name, with their continuation lines.
func lineMessages(out, name string, n int) []string {
	var keep []string
	in := false
	tag := fmt.Sprintf("[%s:%d]", name, n)
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "["):
			in = strings.Contains(l, tag)
		case strings.HasPrefix(l, "Configuration file") || strings.HasPrefix(l, "Warnings were found"):
			in = false
		}
		if in {
			keep = append(keep, tcpDiffPID.ReplaceAllString(l, "${1}(PID)"))
		}
	}
	for len(keep) > 0 && keep[len(keep)-1] == "" {
		keep = keep[:len(keep)-1]
	}
	return keep
}

// renderLine renders the parser's diagnostics about line n as haproxy -c
// prints them.
func renderLine(ds Diagnostics, n int) []string {
	var out []string
	for _, d := range ds {
		if d.Pos.Line != n {
			continue
		}
		lbl := "[ALERT]   "
		if d.Severity == Warning {
			lbl = "[WARNING] "
		}
		out = append(out, lbl+" (PID) : config : "+d.Text())
		out = append(out, d.Detail...)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// TestTCPRuleMessagesMatchHAProxy runs haproxy -c on malformed and well
// formed tcp-request and tcp-response lines in every kind of section and
// compares the messages about the line with the parser's, severity
// included, byte for byte.
func TestTCPRuleMessagesMatchHAProxy(t *testing.T) {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		t.Skip("HAPROXY_BIN not set: no reference to compare the messages with")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.cfg")
	type tcpCase struct{ name, head, line string }
	var cases []tcpCase
	for _, sec := range tcpRuleSections {
		for _, line := range tcpRuleLines() {
			cases = append(cases, tcpCase{sec.name, sec.head, line})
		}
	}
	for _, m := range tcpRuleMultiCases {
		cases = append(cases, tcpCase{"after " + strings.ReplaceAll(m.head, "\n", "; "), m.head, m.line})
	}
	total, same := 0, 0
	for _, tc := range cases {
		cfg, n := tcpRuleConfig(tc.head, tc.line)
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", "-f", "c.cfg")
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		want := lineMessages(string(out), "c.cfg", n)
		_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
		got := renderLine(ds, n)
		total++
		if strings.Join(want, "\n") == strings.Join(got, "\n") {
			same++
			continue
		}
		t.Errorf("%s: %s\n haproxy: %q\n gohap:   %q", tc.name, tc.line, want, got)
	}
	t.Logf("tcp rule forms with HAProxy's messages: %d/%d", same, total)
}

// The messages of the tcp rule lines HAProxy 2.6.12 refuses, as it prints
// them, for the cases the differential test covers when HAProxy is there.
func TestTCPRuleMessages(t *testing.T) {
	lua := filepath.Join(t.TempDir(), "s.lua")
	if err := os.WriteFile(lua, []byte("-- empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ global, section, line, want string }{
		{"", "frontend fe", "tcp-request content set-log-level", "expects exactly 1 argument (log level name or 'silent')"},
		{"", "frontend fe", "tcp-request content set-log-level info x", "'tcp-request content set-log-level' only accepts 'if' or 'unless', in frontend 'fe' (got 'x')"},
		{"", "frontend fe", "tcp-request connection set-log-level info", "'tcp-request connection' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', " + tcpConnActionList + " in frontend 'fe' (got 'set-log-level')."},
		{"", "frontend fe", "tcp-response content set-log-level", "tcp-response content is only allowed in 'backend' sections or 'defaults' section with a name"},
		{"", "frontend fe", "tcp-request content set-nice", "expects exactly 1 argument (integer value)"},
		{"", "frontend fe", "tcp-request content set-nice 3 if TRUE", ""},
		{"", "backend be", "tcp-response content set-nice 3", ""},
		{"", "backend be", "tcp-response content acept", "'tcp-response content' expects 'accept', 'close', 'reject', " + tcpResActionList + " in backend 'be' (got 'acept'). Did you mean 'accept' maybe ?"},
		{"", "backend be", "tcp-request connection accept", "tcp-request connection is not allowed because backend be is not a frontend"},
		{"", "defaults", "tcp-request bogus", "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in defaults section (got 'bogus')"},
		{"", "listen li", "tcp-request content set-tos 0xZ", "invalid character starting at 'xZ' (integer/hex value expected)"},
		{"", "listen li", "tcp-request content set-var(proc.a-b) int(1)", "invalid syntax at char '-b)'"},
		{"", "listen li", "tcp-request inspect-delay 10us", ""},
		{"", "frontend fe", "tcp-request content use-service lua.svc", "'content' unknown service name."},
		{"global\n lua-load " + lua + "\n", "frontend fe", "tcp-request content use-service lua.svc", ""},
	} {
		cfg := c.global + "defaults\n mode http\n" + c.section + "\n " + c.line + "\n"
		_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
		got := ""
		for _, d := range ds {
			if d.Severity == Alert && d.Pos.Line == strings.Count(cfg, "\n") {
				got = d.Msg
				break
			}
		}
		if got != c.want {
			t.Errorf("%s: %s\n got  %q\n want %q", c.section, c.line, got, c.want)
		}
	}
}
