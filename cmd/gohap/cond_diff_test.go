package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// condRuleFamilies are the keywords that take an if/unless condition, each
// with the section it is tried in; %s is the condition.
var condRuleFamilies = []struct{ head, rule string }{
	{condFE, "http-request deny %s"},
	{condFE, "http-request set-header X y %s"},
	{condFE, "http-request return status 200 %s"},
	{condFE, "http-request set-var(txn.x) str(a) %s"},
	{condFE, "http-response set-header X y %s"},
	{condFE, "http-after-response set-header X y %s"},
	{condFE, "tcp-request connection reject %s"},
	{condFE, "tcp-request session reject %s"},
	{condFE, "tcp-request content reject %s"},
	{condFE, "use_backend be %s"},
	{condFE, "redirect location / %s"},
	{condFE, "redirect prefix /p code 301 %s"},
	{condFE, "monitor fail %s"},
	{condBE, "stick on src %s"},
	{condBE, "stick match src %s"},
	{condBE, "stick store-request src %s"},
	{condBE, "use-server s1 %s"},
	{condBE, "force-persist %s"},
	{condBE, "ignore-persist %s"},
	{condBE, "tcp-response content reject %s"},
	{condBE, "stats admin %s"},
	{condBE, "http-request deny %s"},
	{condLI, "http-request deny %s"},
	{condLI, "tcp-request content accept %s"},
	{condLI, "use_backend be %s"},
	{condLI, "monitor fail %s"},
	{condFE, "http-request deny deny_status 403 %s"},
	{condFE, "http-request redirect location / %s"},
	{condFE, "http-request capture req.hdr(host) len 10 %s"},
	{condFE, "http-request track-sc0 src %s"},
	{condFE, "tcp-request content track-sc0 src %s"},
	{condFE, "tcp-request content set-var(txn.x) int(1) %s"},
	{condFE, "http-after-response set-status 500 %s"},
	{condBE, "http-response set-header X y %s"},
	{condBE, "stick store-response src %s"},
	{condDN, "http-request deny %s"},
	{condFCGI, "set-param X y %s"},
	{condFCGI, "pass-header x %s"},
}

const (
	condFE = "frontend fe\n  bind 127.0.0.1:8080\n  acl a1 path /a\n"
	condBE = "backend be2\n  stick-table type ip size 10\n  stats enable\n  server s1 127.0.0.1:8000\n  acl a1 path /a\n"
	condLI = "listen li\n  bind 127.0.0.1:8081\n  acl a1 path /a\n"
	// A named defaults section's rules see its own ACLs.
	condDN   = "defaults dn\n  mode http\n  acl a1 path /a\n"
	condFCGI = "fcgi-app app\n  docroot /tmp\n  acl a1 path /a\n"
)

// condForms are conditions: empty, with lone or misplaced operators,
// unknown names, unbalanced braces, and anonymous ACLs with unknown or
// mistyped fetches, converters, arguments, flags and patterns.
var condForms = strings.Split(`if
unless
if !
if ! !
if !!TRUE
if ! TRUE
if || TRUE
if TRUE ||
if TRUE or
if OR TRUE
if TRUE || || FALSE
if a1
if a1 !a1 || a1
if nosuch
if TRUE nosuch
if !nosuch
unless a1 || nosuch
if }
if {
if { }
if !{ }
if { src
if { src } }
if src }
if {src}
if TRUE { path -m found
if { nosuchfetch }
if { nosuchfetch -m found }
if !{ nosuchfetch }
if { hdr(host),nosuchconv -m found }
if { req.hdr(host),nosuchconv -m found }
if { hdr(host,x) -m found }
if { req.hdr(host,1,2) -m found }
if { path(x) -m found }
if { path,field(x) -m found }
if { path,field() -m found }
if { path,lower(1) -m found }
if { path,lower x -m found }
if { path,,lower -m found }
if { path,lower)( -m found }
if { path,base64,nosuch -m found }
if { path,url_dec(x) -m found }
if { path,ipmask(24) -m found }
if { src,lower -m found }
if { src,ipmask(x) -m found }
if { req.len,lower -m found }
if { int(1),ipmask(24) -m found }
if { str(a),ipmask(24) -m found }
if { int(x) -m found }
if { str -m found }
if { var() -m found }
if { var(x) -m found }
if { var(txn.x) -m found }
if { path -m foo x }
if { path -m }
if { path -x }
if { path -m reg ( }
if { path -m beg / } || nosuch
unless { path -m beg / } nosuch
if { path -m beg / } !{ src 1.2.3.4 }
if { src 1.2.3.x }
if { req.len gt x }
if { req.len x }
if { path -f /nonexistent/gohap }
if { path,map(/nonexistent/gohap) -m found }
if { hdr_beg(host) }
if { hdr_beg(host),lower -m found }
if { hdr_beg(host),nosuch -m found }
if { hdr_beg(host,x) www }
if { method FOO }
if { req.ver 1.x }
if { path -m found -i }
if { path -i -m sub x }
if { path -m beg -f /nonexistent/gohap }
if TRUE Or FALSE
if TRUE oR
if !!
if { path -m found } { src }
if {path -m found }
if { path -m found}
if a1 {
unless !a1
if { req.hdr(host) -m found } a1 !a1
if { path_beg /x }
if { path_beg }
if { res.hdr(x) -m found }
if { hdr(host),lower }
if { src,ipmask(24) }
if { int(1),bool }
if { always_true }
if { str(x),length }
if { hdr_cnt }
if { path,json -m found }
if { var(proc.x) -m found }
if { path -m len 3 }
if { path -m int 3 }
if { path -m ip 1.2.3.4 }
if { src -m beg 1 }
if { src -m found x }
if { path -m bin zz }
if { path -m bin 0a }
if { req.len -m int x }
if { req.len ge 1:2 }
if { req.len eq x }
if { req.ver gt 1.x }
if { req.ver gt 99999 }
if { hdr_ip(x) 1.2.3.4/40 }
if { src 1.2.3.4/33 }
if { src ::1/129 }
if { path -m dom x }
if { path -m reg -i a(b }
if { path -u x a }
if { path -u 3 a } { path -u 3 b }
if or
if { path -m found } or`, "\n")

// TestDifferentialConditions runs haproxy -c and gohap check on every
// condition form in every rule family that takes one, and compares exit
// codes and every ALERT and WARNING line.
func TestDifferentialConditions(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	// Every form in every family takes minutes of haproxy -c runs; by
	// default every form goes through the first four families and each
	// other family takes every eighth form, a different eighth each, so
	// that every form and every family is still tried. GOHAP_FULL_DIFF=1
	// runs the whole matrix.
	full := os.Getenv("GOHAP_FULL_DIFF") == "1"
	var lines []struct{ head, line string }
	for j, f := range condRuleFamilies {
		for i, c := range condForms {
			if full || j < 4 || (i+j)%8 == 0 {
				lines = append(lines, struct{ head, line string }{f.head, fmt.Sprintf(f.rule, c)})
			}
		}
	}
	// The anonymous ACLs' expressions as "acl" lines.
	for _, c := range condForms {
		i, j := strings.Index(c, "{ "), strings.LastIndex(c, " }")
		if i >= 0 && j >= i+2 {
			lines = append(lines, struct{ head, line string }{condFE, "acl x " + c[i+2:j]},
				struct{ head, line string }{condFCGI, "acl x " + c[i+2:j]})
		}
	}
	agree := diffLines(t, bin, lines)
	t.Logf("condition forms with HAProxy's messages and exit code: %d/%d agree", agree, len(lines))
	fmt.Printf("differential conditions: %d/%d agree\n", agree, len(lines))
}

// diffLines checks each line as the last line of a configuration whose
// section starts with head, with haproxy -c and gohap check, and returns
// how many give the same exit code and messages; it logs the others.
func diffLines(t *testing.T, bin string, lines []struct{ head, line string }) int {
	t.Helper()
	cfgs := make([]struct{ name, cfg string }, 0, len(lines))
	for _, l := range lines {
		cfgs = append(cfgs, struct{ name, cfg string }{l.line,
			"global\n  log stdout local0\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
				"backend be\n  server s 127.0.0.1:8000\n" + l.head + "  " + l.line + "\n"})
	}
	return diffConfigs(t, bin, cfgs)
}

// diffConfigs runs haproxy -c and gohap check on each configuration and
// returns how many give the same exit code and messages; it reports the
// others under their name.
func diffConfigs(t *testing.T, bin string, cfgs []struct{ name, cfg string }) int {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "c.cfg")
	agree := 0
	for _, c := range cfgs {
		if err := os.WriteFile(f, []byte(c.cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		h := runHAProxy(t, bin, dir, f)
		g := runGohap(dir, f)
		if h.code == g.code && strings.Join(h.lines, "\n") == strings.Join(g.lines, "\n") {
			agree++
			continue
		}
		t.Errorf("%s: exit %d (haproxy) vs %d (gohap)\nhaproxy:\n%s\ngohap:\n%s", c.name, h.code, g.code,
			strings.Join(h.lines, "\n"), strings.Join(g.lines, "\n"))
	}
	return agree
}
