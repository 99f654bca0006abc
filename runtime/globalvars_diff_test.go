package runtime_test

import (
	"strings"
	"testing"
	"time"
)

// Global set-var lines run in order at configuration time; the values
// are there for the first request, through gohap as through haproxy
// (reg-tests/sample_fetches/cond_set_var.vtc).
func TestGlobalSetVar(t *testing.T) {
	cfg := func(fe string) string {
		return fmtCfg("global\n set-var proc.int12 int(12)\n set-var proc.int5 var(proc.str60,60),div(proc.int12)\n"+
			" set-var proc.s str(abc),upper\n set-var proc.str1 str(\"this is\")\n set-var-fmt proc.f \"%%[var(proc.str1)] a %%[var(proc.int5)]\"\n"+baseDefaults+"frontend fe\n bind %s\n"+
			" http-request set-var(proc.n,ifexists) int(7) if { path /set }\n"+
			" http-request return status 200 hdr x-vars \"%%[var(proc.int12)] %%[var(proc.int5)] %%[var(proc.s)] %%[var(proc.n)] %%[var(proc.str60)]\" hdr x-fmt \"%%[var(proc.f)]\"\n", fe)
	}
	run := func(fe string) string {
		var out []string
		for _, p := range []string{"/", "/set", "/"} {
			got, _ := exchange(t, fe, "GET "+p+" HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 3*time.Second)
			out = append(out, got)
		}
		return strings.Join(out, "\n")
	}
	fe := freePort(t)
	startGohap(t, cfg(fe), nil)
	got := run(fe)
	// proc.n is declared by the set-var rule, so ifexists sets it.
	if strings.Count(got, "x-vars: 12 5 ABC  ") != 1 || strings.Count(got, "x-vars: 12 5 ABC 7 ") != 2 ||
		strings.Count(got, "x-fmt: this is a 5\r\n") != 3 {
		t.Errorf("gohap: %q", got)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	ref := freePort(t)
	startHAProxy(t, cfg(ref), ref)
	if want := run(ref); got != want {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
	}
}
