package runtime

import (
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
)

func check(t *testing.T, cfg string, opts CheckOptions) (Result, string) {
	t.Helper()
	c, ds := parser.Parse([]parser.Input{{Name: "c.cfg", Data: []byte(cfg)}}, parser.Options{Compat: opts.Compat})
	if ds.HasErrors() {
		t.Fatalf("parse errors: %v", ds)
	}
	r := Check(c, opts)
	var b strings.Builder
	for _, d := range r.Diags {
		b.WriteString(d.Severity.String() + ": " + d.Text() + "\n")
	}
	return r, b.String()
}

const base = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"

func TestCrossReferences(t *testing.T) {
	cfg := base + "frontend fe\n bind 127.0.0.1:18080\n use_backend nope if TRUE\n use_backend %[req.hdr(host)]\n default_backend tcpbe\n" +
		"backend tcpbe\n mode tcp\n server s 127.0.0.1:1\n"
	r, out := check(t, cfg, CheckOptions{Compat: true})
	for _, want := range []string{
		"alert: Proxy 'fe': unable to find required use_backend: 'nope'.",
		"alert: http frontend 'fe' (c.cfg:6) tries to use incompatible tcp backend 'tcpbe' (c.cfg:11) as its default backend (see 'mode').",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if !r.Diags.HasErrors() || strings.Contains(out, "req.hdr") {
		t.Errorf("dynamic use_backend must not be checked:\n%s", out)
	}
}

func TestMissingTimeoutsAndListeners(t *testing.T) {
	r, out := check(t, "backend be\n server s 127.0.0.1:1\n", CheckOptions{Compat: true})
	if !strings.Contains(out, "warning: missing timeouts for backend 'be'.") || !r.NoListener || r.Diags.HasErrors() {
		t.Errorf("no listener %v:\n%s", r.NoListener, out)
	}
}

func TestServerResolution(t *testing.T) {
	cfg := base + "frontend fe\n bind 127.0.0.1:18080\n default_backend be\nbackend be\n server a localhost:80\n server b gohap-nonexistent.invalid:80\n server c 127.0.0.1:80\n"
	r, out := check(t, cfg, CheckOptions{Compat: true})
	if !r.AddrFailed || !strings.Contains(out, "alert: [c.cfg:11] : 'server be/b' : could not resolve address 'gohap-nonexistent.invalid'.") ||
		strings.Contains(out, "server be/a") || !strings.Contains(out, "Failed to initialize server(s) addr.") {
		t.Errorf("compat:\n%s", out)
	}
	r, out = check(t, cfg, CheckOptions{NoResolve: true, Compat: true})
	if r.Diags.HasErrors() || !strings.Contains(out, "could not resolve address 'gohap-nonexistent.invalid', disabling server.") {
		t.Errorf("-dr:\n%s", out)
	}
	r, out = check(t, cfg, CheckOptions{})
	if r.Diags.HasErrors() || !strings.Contains(out, "notice: [c.cfg:11]") {
		t.Errorf("default mode:\n%s", out)
	}
}

func TestUnsupportedKeywordsAreReported(t *testing.T) {
	cfg := base + "frontend fe\n bind 127.0.0.1:18080\n bind 127.0.0.1:8002 npn http/1.1\n default_backend be\nbackend be\n server s 127.0.0.1:1\n"
	_, out := check(t, cfg, CheckOptions{})
	if !strings.Contains(out, "notice: parsing [c.cfg:8] : bind option 'npn' is not supported by the gohap runtime yet") {
		t.Errorf("default mode:\n%s", out)
	}
	if _, out := check(t, cfg, CheckOptions{Compat: true}); strings.Contains(out, "not supported by the gohap runtime") {
		t.Errorf("compat mode must print only what HAProxy prints:\n%s", out)
	}
}

func TestLegacyOptionWithoutRuntimeMeaningIsReported(t *testing.T) {
	cfg := base + "frontend fe\n bind 127.0.0.1:18080\n option http_proxy\n option forceclose\n default_backend be\nbackend be\n server s 127.0.0.1:1\n"
	_, out := check(t, cfg, CheckOptions{})
	if !strings.Contains(out, "notice: parsing [c.cfg:8] : 'option http_proxy' is not supported by the gohap runtime yet") {
		t.Errorf("option http_proxy must be reported as unsupported:\n%s", out)
	}
	if strings.Contains(out, "c.cfg:9] : 'option forceclose' is not supported") {
		t.Errorf("option forceclose runs as httpclose and must not be reported:\n%s", out)
	}
}
