package parser

import (
	"strings"
	"testing"
	"time"
)

// TestStatsKeywords reads the proxy "stats" lines, the sharing with the
// defaults section, the supported forms and HAProxy's messages.
func TestStatsKeywords(t *testing.T) {
	cfg, diags := Parse([]Input{{Name: "s.cfg", Data: []byte("defaults\n mode http\n stats auth a:b\n stats refresh 100ms\n" +
		"frontend inherits\n bind :80\nbackend own\n stats uri /st\n stats realm R\n stats show-node n1\n stats show-desc x y\n" +
		" stats admin if TRUE\n stats scope .\n stats hide-version\n stats show-legends\n")}}, Options{})
	if diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	in, own := cfg.Proxies[0].Stats, cfg.Proxies[1].Stats
	if in == nil || in != cfg.Defaults[0].Stats || in.URI != DefaultStatsURI || len(in.Auth) != 1 || in.Refresh != time.Second {
		t.Errorf("inherited: %+v", in)
	}
	// A proxy's own line starts from scratch: no account from defaults.
	if own == nil || own == in || len(own.Auth) != 0 || own.URI != "/st" || own.Realm != "R" || own.Node != "n1" ||
		own.Desc != "x y" || len(own.Admin) != 1 || !own.HideVersion || !own.ShowLegends || own.Scope[0] != "." {
		t.Errorf("own: %+v", own)
	}
	for _, d := range cfg.Directives {
		if d.Keyword == "stats" && d.Support != Supported {
			t.Errorf("%v %v: support %v", d.Pos, d.Args, d.Support)
		}
	}
	for _, c := range []struct{ in, msg string }{
		{"stats", "missing keyword in 'stats', expects 'admin',"},
		{"stats disable", "unknown stats parameter 'disable', expects"},
		{"stats uri", "'uri' needs an URI prefix."},
		{"stats admin TRUE", "'stats admin' requires either 'if' or 'unless' followed by a condition."},
		{"stats admin if nope", "error detected while parsing a 'stats admin' rule : no such ACL : 'nope'."},
		{"stats show-node a/b", "'stats show-node' invalid node name"},
		{"stats refresh 5x", "unexpected character 'x' in argument to stats refresh interval."},
		{"stats refresh 3000000000", "timer overflow in argument <3000000000> to stats refresh interval"},
		{"stats show-desc", "'show-desc' requires a parameter or 'desc' to be set in the global section."},
	} {
		_, diags := Parse([]Input{{Name: "s.cfg", Data: []byte("listen l\n bind :80\n mode http\n " + c.in + "\n")}}, Options{})
		found := false
		for _, d := range diags {
			found = found || strings.Contains(d.Msg, c.msg)
		}
		if !found {
			t.Errorf("%q: no %q in %v", c.in, c.msg, diags)
		}
	}
	cfg, _ = Parse([]Input{{Name: "s.cfg", Data: []byte("listen l\n bind :80\n stats http-request deny\n stats show-modules\n")}}, Options{})
	for _, d := range cfg.Directives {
		if d.Keyword == "stats" && (d.Support != Unsupported) != (d.Args[0] == "http-request") {
			t.Errorf("%v: support %v", d.Args, d.Support)
		}
	}
	if r := cfg.Proxies[0].Stats.HTTPRules; len(r) != 1 || r[0].Action != "deny" {
		t.Errorf("stats http-request rules: %v", r)
	}
}
