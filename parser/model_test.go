package parser

import (
	"slices"
	"strings"
	"testing"
)

// Each proxy takes its settings from the last defaults section before it,
// or from the one "from" names, never from the others; a frontend and a
// backend may share a name and keep their own settings.
func TestInheritanceModel(t *testing.T) {
	cfg := `defaults a
 mode http
 cookie A insert indirect
 hash-type consistent djb2
 fullconn 40
 option httpclose
 option redispatch 2
 option forwardfor header X-A except 10.0.0.0/8
 option httpchk GET /a
 http-check expect status 204
 tcp-check connect
 persist rdp-cookie(x)
frontend web
 bind :80
 default_backend web
defaults b
 mode http
 option http-server-close
 option allbackups
backend web
 no option http-server-close
 no option allbackups
 server s 127.0.0.1:1
backend api from a
 no option httpclose
 no option redispatch
 http-check expect status 200
 server s 127.0.0.1:1
listen both from a
 bind :81
 option http-keep-alive
`
	c, ds := Parse([]Input{{Name: "m.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	fe, be, api, both := c.Proxies[0], c.Proxies[1], c.Proxies[2], c.Proxies[3]
	if fe.Name != be.Name || fe.Cap != CapFE || be.Cap != CapBE {
		t.Fatalf("want frontend and backend 'web': %s/%d %s/%d", fe.Name, fe.Cap, be.Name, be.Cap)
	}
	// The frontend inherits from a: its options, not the backend-only
	// settings.
	if fe.HTTPMode != "httpclose" || fe.ForwardFor == nil || fe.ForwardFor.Header != "x-a" || fe.ForwardFor.Except.String() != "10.0.0.0/8" {
		t.Errorf("frontend web: mode %q ff %+v", fe.HTTPMode, fe.ForwardFor)
	}
	if fe.Cookie != nil || fe.HashType != nil || fe.Fullconn != 0 || len(fe.HTTPChecks) != 0 {
		t.Errorf("frontend web took backend settings: %+v", fe)
	}
	// The backend inherits from b only.
	if be.Cookie != nil || be.HashType != nil || be.Fullconn != 0 || be.ForwardFor != nil || be.RDPPersist != nil ||
		len(be.HTTPChecks) != 0 || len(be.TCPChecks) != 0 || be.Options["httpchk"] {
		t.Errorf("backend web inherited from the wrong defaults: %+v", be)
	}
	// "no option X" ends the mode X only, and turns a flag off.
	if be.HTTPMode != "" || be.Options["http-server-close"] {
		t.Errorf("backend web: mode %q", be.HTTPMode)
	}
	if on, set := be.Options["allbackups"]; !set || on {
		t.Errorf("no option allbackups left %v (set %v)", on, set)
	}
	// "from a" skips b.
	if api.Cookie == nil || api.Cookie.Name != "A" || api.Cookie.Mode != "insert" || !api.Cookie.Indirect {
		t.Errorf("api cookie: %+v", api.Cookie)
	}
	if api.HashType == nil || !api.HashType.Consistent || api.HashType.Func != "djb2" || api.Fullconn != 40 {
		t.Errorf("api hash/fullconn: %+v %d", api.HashType, api.Fullconn)
	}
	if api.HTTPMode != "" || api.Options["redispatch"] || api.RedispatchAfter != 0 {
		t.Errorf("api: mode %q redispatch %v/%d", api.HTTPMode, api.Options["redispatch"], api.RedispatchAfter)
	}
	// Own check rules replace the inherited ones; other kinds stay.
	if len(api.HTTPChecks) != 1 || api.HTTPChecks[0].Expect.Pattern != "200" || len(api.TCPChecks) != 1 {
		t.Errorf("api checks: %v %v", api.HTTPChecks, api.TCPChecks)
	}
	// Its own check rules start a new rule set: HAProxy's default
	// request, not the one option httpchk gave in the defaults.
	if a := api.CheckOpts.HTTPChk; a == nil || a.URI != "/" || a.Meth != "OPTIONS" || api.RDPPersist == nil || api.RDPPersist.Name != "x" {
		t.Errorf("api httpchk %+v persist %+v", a, api.RDPPersist)
	}
	// Appending own rules never writes into the defaults' list.
	if d := c.Defaults[0]; len(d.HTTPChecks) != 1 || d.HTTPChecks[0].Expect.Pattern != "204" {
		t.Errorf("defaults a changed: %v", d.HTTPChecks)
	}
	if both.HTTPMode != "http-keep-alive" || both.RedispatchAfter != 2 || both.Cookie == nil {
		t.Errorf("listen both: mode %q redispatch %d cookie %v", both.HTTPMode, both.RedispatchAfter, both.Cookie)
	}
}

// Options that are not flags take no "no" or "default" prefix, as in
// HAProxy 2.6.
func TestOptionPrefixes(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"no option httplog", "negation/default is not supported for option 'httplog'."},
		{"default option forwardfor", "negation/default is not supported for option 'forwardfor'."},
		{"default option httpclose", "'option httpclose' cannot handle unexpected argument 'httpclose'."},
		{"no option httpclose", ""},
		{"default option redispatch", ""},
		{"no option nolinger", ""},
	} {
		_, ds := Parse([]Input{{Name: "o.cfg", Data: []byte("backend b\n " + c.line + "\n")}}, Options{})
		got := ""
		if len(ds) > 0 {
			got = ds[0].Msg
		}
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
		}
	}
}

// default-server lines add to each other and to those of the defaults
// section, and servers start from them.
func TestServerSettings(t *testing.T) {
	cfg := `defaults
 default-server inter 3s
backend b
 default-server check fall 5
 default-server weight 7 disabled
 server a 127.0.0.1:1 enabled weight 9 observe layer4 cookie x namespace * allow-0rtt
 server c 127.0.0.1:2 no-check init-addr last,none track a
 server-template t 1-2 127.0.0.1:3 maxconn 4 slowstart 2s
`
	c, ds := Parse([]Input{{Name: "s.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	s := c.Proxies[0].Servers
	a, b, t1 := s[0].Settings, s[1].Settings, s[2].Settings
	if !a.Check || a.Fall != 5 || a.Inter.Seconds() != 3 || a.Weight != 9 || a.Disabled || a.Cookie != "x" || a.Observe != "layer4" || a.Unsupported != "" || !slices.Contains(a.TLSWords, "allow-0rtt") || a.Namespace != "*" {
		t.Errorf("a: %+v", a)
	}
	if b.Check || b.InitAddr != "last,none" || b.Track != "a" || b.Weight != 7 || !b.Disabled {
		t.Errorf("c: %+v", b)
	}
	if len(s) != 4 || t1.Maxconn != 4 || t1.Slowstart.Seconds() != 2 || !t1.Check || !s[2].Template {
		t.Errorf("template: %d servers, %+v", len(s), t1)
	}
	_, ds = Parse([]Input{{Name: "s.cfg", Data: []byte("backend b\n default-server check\n default-server inter 3s\n server x 127.0.0.1:80\n server a 127.0.0.1:81 track x\n")}}, Options{})
	if len(ds) != 1 || ds[0].Msg != "'server b/a' : unable to enable checks and tracking at the same time!" {
		t.Errorf("check and track from two default-server lines: %v", ds)
	}
}

// A named defaults section keeps its ACLs for its own rules: a proxy
// inheriting from it does not see them, and the section takes the
// capability of the proxies that inherit its rules. An anonymous one
// refuses ACLs.
func TestDefaultsACLs(t *testing.T) {
	for _, c := range []struct{ cfg, want string }{
		{"defaults d1\n mode http\n acl blocked path /b\n http-request deny if blocked\nfrontend f from d1\n bind :80\n",
			""},
		{"defaults d1\n mode http\n acl blocked path /b\nfrontend f from d1\n bind :80\n http-request deny if blocked\n",
			"error detected while parsing an 'http-request deny' condition : no such ACL : 'blocked'."},
		{"defaults\n acl x path /x\n", "'acl' not allowed in anonymous 'defaults' section."},
	} {
		cfg, ds := Parse([]Input{{Name: "d.cfg", Data: []byte(c.cfg)}}, Options{})
		got := ""
		for _, d := range ds {
			if d.Severity == Alert {
				got = d.Msg
			}
		}
		if got != c.want {
			t.Errorf("%q: alert %q, want %q", c.cfg, got, c.want)
		}
		if c.want != "" {
			continue
		}
		d := cfg.Defaults[0]
		if len(d.ACLs) != 1 || len(cfg.Proxies[0].ACLs) != 0 {
			t.Errorf("ACLs: defaults %d, frontend %d", len(d.ACLs), len(cfg.Proxies[0].ACLs))
		}
		if !d.RulesInherited() || d.ResolveCap() != CapDef|CapFE {
			t.Errorf("defaults d1: inherited %v, cap %d", d.RulesInherited(), d.ResolveCap())
		}
	}
}

// A default-server option a default server refuses (id, no-tlsv1x) is
// reported without failing; the options before it still apply, those
// after it do not, as HAProxy stops reading the line there.
func TestDefaultServerRefusedOptionKeepsEarlierOnes(t *testing.T) {
	cfg := "defaults\n mode http\nbackend b\n default-server inter 3s id 3 rise 7\n server s 127.0.0.1:1\n"
	c, ds := Parse([]Input{{Name: "d.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatalf("a refused default-server option is not fatal: %v", ds)
	}
	if len(ds) == 0 || ds[0].Msg != "'id' option is not accepted in default-server sections" {
		t.Fatalf("want HAProxy's alert, got %v", ds)
	}
	if got := strings.Join(c.Proxies[0].DefaultServer, " "); got != "inter 3s" {
		t.Fatalf("default-server words kept: %q, want %q", got, "inter 3s")
	}
}
