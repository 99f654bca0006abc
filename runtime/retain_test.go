package runtime_test

import (
	goruntime "runtime"
	"testing"
	"time"
	"weak"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// compileWeak compiles text and returns the graph with weak pointers to
// the parsed configuration and to one of its rules.
//
//go:noinline
func compileWeak(t *testing.T, text string) (*runtime.Graph, weak.Pointer[parser.Config], weak.Pointer[parser.HTTPRule]) {
	in, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(in, parser.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, errs := runtime.Compile(cfg, runtime.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var rule weak.Pointer[parser.HTTPRule]
	for _, p := range cfg.Proxies {
		if len(p.HTTPRequestRules) > 0 {
			rule = weak.Make(p.HTTPRequestRules[0])
		}
	}
	return g, weak.Make(cfg), rule
}

// The compiled graph keeps nothing of the parsed configuration, whose
// lines and rules take tens of megabytes in a large one: the backends
// keep only what compiling a server added by the CLI reads.
func TestGraphDropsParsedConfig(t *testing.T) {
	g, cfg, rule := compileWeak(t, `
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend f
    bind 127.0.0.1:18999
    http-request set-header x-a %[req.hdr(host),lower] if { path_beg /a }
    default_backend b
backend b
    http-request deny if { src 10.0.0.0/8 }
    server s1 127.0.0.1:1 check
`)
	if rule.Value() == nil {
		t.Fatal("no rule was parsed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for cfg.Value() != nil || rule.Value() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the graph keeps the parsed configuration (config %v, rule %v)", cfg.Value() != nil, rule.Value() != nil)
		}
		goruntime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	goruntime.KeepAlive(g)
}
