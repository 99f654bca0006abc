package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func writeCfg(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeedChecksWithOneWarningPerLegacyConstruct(t *testing.T) {
	code, out, errOut := runCLI("check", "-f", "../../examples/seed/haproxy.cfg")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, errOut)
	}
	if out != "Warnings were found.\nConfiguration file is valid\n" {
		t.Errorf("stdout = %q", out)
	}
	var warns []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "[WARNING]") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "haproxy.cfg:3] : 'nbproc'") ||
		!strings.Contains(warns[1], "haproxy.cfg:6]") || !strings.Contains(warns[1], "'bind 0.0.0.0:80'") {
		t.Errorf("want the nbproc and frontend-address warnings, got:\n%s", strings.Join(warns, "\n"))
	}
}

func TestSeedCompatModeRejectsLikeHAProxy(t *testing.T) {
	code, out, errOut := runCLI("-c", "--haproxy-compat", "-f", "../../examples/seed/haproxy.cfg")
	if code != 1 || out != "" {
		t.Fatalf("exit %d stdout %q, want 1 and nothing", code, out)
	}
	for _, want := range []string{
		"haproxy.cfg:3] : nbproc is not supported any more since HAProxy 2.5.",
		"haproxy.cfg:6] : please use the 'bind' keyword for listening addresses.",
		"haproxy.cfg:11] : 'listen' or 'defaults' expected.",
		"config : Fatal errors found in configuration.",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in\n%s", want, errOut)
		}
	}
}

func TestExamplesPassCheck(t *testing.T) {
	var files []string
	_ = filepath.Walk("../../examples", func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".cfg") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no example configurations found")
	}
	for _, f := range files {
		if code, _, errOut := runCLI("check", "-f", f); code != 0 {
			t.Errorf("%s: exit %d\n%s", f, code, errOut)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	code, out, _ := runCLI("check", "--format", "json", "-f", "../../examples/seed/haproxy.cfg")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var diags []jsonDiag
	if err := json.Unmarshal([]byte(out), &diags); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	found := false
	for _, d := range diags {
		if d.Line == 3 && d.Severity == "warning" && strings.HasSuffix(d.File, "haproxy.cfg") && d.Col == 1 && d.Hint != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for line 3 with a hint in %s", out)
	}
}

func TestExitCodesAndQuiet(t *testing.T) {
	dir := t.TempDir()
	noListener := writeCfg(t, dir, "nl.cfg", "defaults\n mode http\n timeout connect 1s\n timeout server 1s\nbackend b\n server s 127.0.0.1:1\n")
	bad := writeCfg(t, dir, "bad.cfg", "frontend fe\n bind 127.0.0.1:18080\n nonsense here\n")
	warn := writeCfg(t, dir, "warn.cfg", "frontend fe\n bind 127.0.0.1:18080\n")

	if code, out, _ := runCLI("-c", "-f", noListener); code != 2 || !strings.Contains(out, "no listener) => exit(2)") {
		t.Errorf("no listener: exit %d stdout %q", code, out)
	}
	if code, out, errOut := runCLI("-c", "-q", "-f", bad); code != 1 || out != "" || errOut != "" {
		t.Errorf("quiet bad config: exit %d stdout %q stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("-c", "-f", bad); code != 1 || !strings.Contains(errOut, "bad.cfg:3] : unknown keyword 'nonsense' in 'frontend' section") {
		t.Errorf("bad config: exit %d\n%s", code, errOut)
	}
	if code, _, _ := runCLI("-c", "-f", warn); code != 0 {
		t.Errorf("warnings only: exit %d, want 0", code)
	}
	if code, _, errOut := runCLI("-c", "-dW", "-f", warn); code != 1 || !strings.Contains(errOut, "'zero-warning' is set. Aborting.") {
		t.Errorf("-dW: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI("-c", "-f", filepath.Join(dir, "missing.cfg")); code != 1 || !strings.Contains(errOut, "missing.cfg") {
		t.Errorf("missing file: exit %d\n%s", code, errOut)
	}
}

func TestDirectoryInputOrder(t *testing.T) {
	dir := t.TempDir()
	// b.cfg must come after a.cfg: it uses the backend a.cfg declares.
	writeCfg(t, dir, "b.cfg", "frontend fe\n bind 127.0.0.1:18080\n timeout client 1s\n default_backend be\n")
	writeCfg(t, dir, "a.cfg", "backend be\n timeout connect 1s\n timeout server 1s\n server s 127.0.0.1:1\n")
	writeCfg(t, dir, ".hidden.cfg", "this would fail\n")
	writeCfg(t, dir, "x.conf", "this would fail too\n")
	code, out, errOut := runCLI("-c", "-f", dir)
	if code != 0 || out != "Configuration file is valid\n" {
		t.Errorf("exit %d stdout %q\n%s", code, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-v"}, {"-vv"}} {
		code, out, _ := runCLI(args...)
		if code != 0 || !strings.HasPrefix(out, "gohap version ") || !strings.Contains(out, "HAProxy 2.6") {
			t.Errorf("%v: exit %d %q", args, code, out)
		}
	}
	if _, out, _ := runCLI("-vv"); !strings.Contains(out, "Build options") {
		t.Errorf("-vv lacks build options: %q", out)
	}
}

func TestMissingFinalLF(t *testing.T) {
	dir := t.TempDir()
	f := writeCfg(t, dir, "nolf.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend fe\n bind 127.0.0.1:18080\n default_backend be\nbackend be\n server s 127.0.0.1:1")
	code, _, errOut := runCLI("check", "-f", f)
	if code != 0 || !strings.Contains(errOut, "[WARNING]  (") || !strings.Contains(errOut, "nolf.cfg:10]: Missing LF on last line, file might have been truncated at position 22.") {
		t.Errorf("default mode: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI("check", "--haproxy-compat", "-f", f)
	if code != 1 || !strings.Contains(errOut, "[ALERT]    (") || !strings.Contains(errOut, "Missing LF on last line") {
		t.Errorf("compat mode: exit %d\n%s", code, errOut)
	}
}

// TestNbthreadSetsGOMAXPROCS: "nbthread N" runs the process on N
// threads.
func TestNbthreadSetsGOMAXPROCS(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(0))
	for _, n := range []int{1, 3} {
		cfg, diags := parser.Parse([]parser.Input{{Name: "t.cfg", Data: []byte(fmt.Sprintf("global\n    nbthread %d\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:18081\n", n))}}, parser.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		g, errs := runtime.Compile(cfg, runtime.Options{})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		applyThreads(g)
		if got := goruntime.GOMAXPROCS(0); got != n {
			t.Errorf("nbthread %d: GOMAXPROCS %d", n, got)
		}
	}
}

// TestCheckRefusesWhatRunRefuses: -c and check answer whether this
// binary runs the configuration, with run's own alerts; --haproxy-verdict
// answers as haproxy -c.
func TestCheckRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	f := writeCfg(t, dir, "refused.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"+
		"frontend fe\n bind 127.0.0.1:18080\n default_backend be\nbackend be\n cookie SRV insert dynamic\n server s 127.0.0.1:1 ssl verify none allow-0rtt\n")
	alerts := func(s string) string {
		var out []string
		for _, l := range strings.Split(noPid(s), "\n") {
			if strings.HasPrefix(l, "[ALERT]") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	runCode, _, runErr := runCLI("-f", f)
	if runCode != 1 || !strings.Contains(runErr, "'server be/s' : 'allow-0rtt' : allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data") {
		t.Fatalf("run: exit %d\n%s", runCode, runErr)
	}
	for _, args := range [][]string{{"-c", "-f", f}, {"check", f}, {"check", "-f", f}} {
		code, out, errOut := runCLI(args...)
		if code != 1 || out != "" || alerts(errOut) != alerts(runErr) {
			t.Errorf("%v: exit %d %q\n%s\nrun printed:\n%s", args, code, out, errOut, runErr)
		}
		if strings.Contains(errOut, "will refuse") {
			t.Errorf("%v: the notice comes with the alert:\n%s", args, errOut)
		}
	}
	for _, args := range [][]string{{"-c", "--haproxy-verdict", "-f", f}, {"check", "--haproxy-verdict", f}} {
		code, out, errOut := runCLI(args...)
		if code != 0 || out != "Configuration file is valid\n" || !strings.Contains(errOut, "[NOTICE]") ||
			!strings.Contains(errOut, "'gohap run' will refuse this configuration.") || strings.Contains(errOut, "[ALERT]") {
			t.Errorf("%v: exit %d %q\n%s", args, code, out, errOut)
		}
	}
	if code, out, _ := runCLI("check", "--format", "json", f); code != 1 || !strings.Contains(out, `"message": "[`+f+`:11] : 'server be/s' : 'allow-0rtt' : allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
}
