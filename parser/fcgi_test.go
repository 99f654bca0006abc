package parser

import (
	"strings"
	"testing"
)

func TestFCGIAppModel(t *testing.T) {
	cfg := `fcgi-app php
  docroot /var/www
  index index.php
  path-info ^(/.+\.php)(/.*)?$
  acl is_post method POST
  set-param MY-Var %[req.hdr(host)] if is_post
  pass-header Authorization
  no option keep-conn
  option get-values
  option mpxs-conns
  option max-reqs 8
backend be
  mode http
  use-fcgi-app php
  server s 127.0.0.1:9000 proto fcgi
`
	c, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	a := FindFCGIApp(c, "php")
	if a == nil || FindFCGIApp(c, "nope") != nil {
		t.Fatalf("apps: %+v", c.FCGIApps)
	}
	if a.Docroot != "/var/www" || a.Index != "index.php" || a.PathInfo == "" || a.KeepConn || !a.GetValues || !a.MpxsConns || a.MaxReqs != 8 {
		t.Errorf("settings: %+v", a)
	}
	// Two implicit parameters, ten hidden headers, then the two lines.
	if len(a.Rules) != 14 {
		t.Fatalf("rules: %d", len(a.Rules))
	}
	if r := a.Rules[0]; r.Kind != FCGISetParam || r.Name != "remote_user" || r.Value != "%[http_auth_user]" {
		t.Errorf("implicit: %+v", r)
	}
	if r := a.Rules[12]; r.Kind != FCGISetParam || r.Name != "my_var" || len(r.Cond) != 2 {
		t.Errorf("set-param: %+v", r)
	}
	if r := a.Rules[13]; r.Kind != FCGIPassHeader || r.Name != "authorization" || r.Cond != nil {
		t.Errorf("pass-header: %+v", r)
	}
	if p := c.Proxies[0]; p.FCGIApp != "php" {
		t.Errorf("use-fcgi-app: %q", p.FCGIApp)
	}
	if d := FCGIFilterDiags(c, c.Proxies[0]); len(d) != 0 {
		t.Errorf("filter check: %v", d)
	}
	if d := FCGIPostDiags(c); len(d) != 0 {
		t.Errorf("post check: %v", d)
	}
}

func TestFCGIAppLines(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"docroot", "'docroot' expects <path> as argument."},
		{"docroot /a /b", "'docroot /a' cannot handle unexpected argument '/b'."},
		{"index", "'index' expects <filename> as argument."},
		{"path-info", "'path-info' expects <regex> as argument."},
		{"path-info (", "'(' : regex '(' is invalid"},
		{"set-param X", "'set-param' expects <name> and <value> as arguments."},
		{"set-param X y if nope", "'X' : no such ACL : 'nope'."},
		{"pass-header", "'pass-header' expects <name> as arguments."},
		{"option", "'option' expects an option name."},
		{"option nope", "unknown option 'nope'."},
		{"option max-reqs", "option 'max-reqs' expects an integer argument."},
		{"option max-reqs 0", "option 'max-reqs' expects a strictly positive integer argument."},
		{"option max-reqs 2 3", "'option max-reqs' cannot handle unexpected argument '3'."},
		{"no option max-reqs 2", "negation/default is not supported for option 'max-reqs'."},
		{"option mpxs-conns x", "'option mpxs-conns' cannot handle unexpected argument 'x'."},
		{"acl a! path /", "character '!' is not permitted in acl name 'a!'."},
		{"acl OR path /", "acl name 'OR' will never match."},
		{"acl a nofetch", "unknown fetch method 'nofetch'"},
		{"log-stderr", "log-stderr : expects <address> and <facility> or global as arguments"},
		{"frob", "unknown keyword 'frob' in 'fcgi-app' section"},
	} {
		cfg := "fcgi-app a\n docroot /x\n " + tc.line + "\n"
		_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
		if !ds.HasErrors() || !strings.Contains(ds.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.line, ds, tc.want)
		}
	}
	for _, ok := range []string{"set-param X y", "set-param X y if TRUE", "pass-header X-Y unless FALSE", "option keep-conn",
		"no option get-values", "option max-reqs 4", "log-stderr global", "log-stderr 127.0.0.1:514 local0", "index index.php"} {
		cfg := "fcgi-app a\n docroot /x\n " + ok + "\n"
		if _, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{}); ds.HasErrors() {
			t.Errorf("%q: %v", ok, ds)
		}
	}
}
