package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
)

// hostDependent tells whether an ALERT is about this machine (files, DNS,
// accounts, build options) rather than about the configuration's syntax.
func hostDependent(alert string) bool {
	for _, s := range []string{"could not resolve address", "unable to stat SSL certificate", "cannot find user id",
		"cannot find group id", "error in Lua file", "failed to open pattern file", "error opening file",
		"QUIC is not compiled in", "invalid address:", "Failed to initialize server(s) addr", "unable to load file",
		"Error(s) found in configuration file", "Fatal errors found in configuration", "no such ACL"} {
		if strings.Contains(alert, s) {
			return true
		}
	}
	return false
}

func preexisting(alerts []string) bool {
	for _, a := range alerts {
		if !strings.Contains(a, "unable to find required default_backend") && !strings.Contains(a, "unable to find required use_backend") &&
			!strings.Contains(a, "multiple argument resolution errors") {
			return false
		}
	}
	return true
}

// TestMigrateCorpus migrates every legacy configuration of the shared
// corpus and checks the result with the real haproxy -c.
func TestMigrateCorpus(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	idx, err := os.Open("../../../shared/corpus/index.tsv")
	if err != nil {
		t.Skip("no shared corpus")
	}
	defer idx.Close()
	var legacy []string
	sc := bufio.NewScanner(idx)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) > 4 && f[4] == "legacy-1.x" {
			legacy = append(legacy, f[0])
		}
	}
	dir := t.TempDir()
	pass, host, broken := 0, 0, 0
	for _, name := range legacy {
		data, err := os.ReadFile(filepath.Join("../../../shared/corpus/configs", name))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := parser.Migrate(parser.Input{Name: name, Data: data}, parser.MigrateOptions{})
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-dr", "-c", "-f", p) // -dr: unresolvable servers only disable themselves
		cmd.Dir = dir
		var res bytes.Buffer
		cmd.Stdout, cmd.Stderr = &res, &res
		_ = cmd.Run()
		if cmd.ProcessState.ExitCode() == 0 {
			pass++
			continue
		}
		var syntax []string
		for _, l := range alertLines(res.String()) {
			if strings.HasPrefix(l, "[ALERT]") && !hostDependent(l) {
				syntax = append(syntax, l)
			}
		}
		if len(syntax) == 0 {
			host++
			continue
		}
		if preexisting(syntax) {
			// References to sections that do not exist were errors in 1.x
			// too: such a file never loaded in any version.
			broken++
			t.Logf("%s: error independent of the HAProxy version:\n%s", name, strings.Join(syntax, "\n"))
			continue
		}
		t.Logf("%s: migrated file rejected:\n%s", name, strings.Join(syntax, "\n"))
	}
	counted := len(legacy) - host - broken
	rate := float64(pass) / float64(counted)
	t.Logf("migrate corpus: %d legacy configs, %d accepted by haproxy -c, %d host-dependent failures, %d broken in every version, %.1f%% of the rest accepted", len(legacy), pass, host, broken, 100*rate)
	if rate < 0.95 {
		t.Errorf("migration pass rate %.1f%% below 95%%", 100*rate)
	}
}

// TestMigrateKeepsModernConfigs: a configuration without legacy syntax comes
// out byte for byte.
func TestMigrateKeepsModernConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/diff/valid.cfg")
	more, _ := filepath.Glob("../../../shared/corpus/configs/0[0-4][0-9].cfg")
	files = append(files, more...)
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		out, changes := parser.Migrate(parser.Input{Name: f, Data: data}, parser.MigrateOptions{})
		if len(changes) == 0 {
			n++
			if !bytes.Equal(out, data) {
				t.Errorf("%s: no change reported but output differs", f)
			}
		}
	}
	if n == 0 {
		t.Fatal("no modern configuration was tested")
	}
}

func TestMigrateSeed(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "seed.cfg")
	code, _, errOut := runCLI("migrate", "-f", "../../examples/seed/haproxy.cfg", "-o", outFile, "--init-addr-none")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	out, _ := os.ReadFile(outFile)
	for _, want := range []string{"frontend all\nbind 0.0.0.0:80\n", "targetserver:7777 weight 1 maxconn 1024 check init-addr last,libc,none\n", "consider 'timeout tunnel 1h'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "nbproc") {
		t.Errorf("nbproc kept")
	}
	if code, _, errOut := runCLI("check", "--haproxy-compat", "-f", outFile); code != 0 {
		t.Errorf("migrated seed rejected: %d\n%s", code, errOut)
	}
	if bin := haproxyBin(); bin != "" {
		cmd := exec.Command(bin, "-c", "-f", outFile)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("haproxy -c rejects the migrated seed: %v\n%s", err, b)
		}
	}
	code, diff, _ := runCLI("migrate", "--diff", "-f", "../../examples/seed/haproxy.cfg")
	if code != 0 || !strings.Contains(diff, "-nbproc 1\n") || !strings.Contains(diff, "+bind 0.0.0.0:80\n") {
		t.Errorf("diff: %d\n%s", code, diff)
	}
}

// TestMigrateRulesAcceptedByHAProxy: the output of every per-rule input is
// accepted by the real haproxy -c (server names need not resolve).
func TestMigrateRulesAcceptedByHAProxy(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	files, _ := filepath.Glob("../../parser/testdata/migrate/*.cfg")
	dir := t.TempDir()
	rules, _ := filepath.Glob("../../parser/testdata/migrate/rules/*.txt")
	for _, r := range rules {
		b, _ := os.ReadFile(r)
		in, _, _ := strings.Cut(string(b), "----- migrated -----\n")
		files = append(files, writeCfg(t, dir, "rule-"+strings.TrimSuffix(filepath.Base(r), ".txt")+".cfg", in))
	}
	if len(files) < 20 {
		t.Fatal("missing inputs")
	}
	for _, f := range files {
		out := filepath.Join(dir, "migrated-"+filepath.Base(f))
		if code, _, errOut := runCLI("migrate", "-f", f, "-o", out); code != 0 {
			t.Fatalf("%s: exit %d\n%s", f, code, errOut)
		}
		cmd := exec.Command(bin, "-dr", "-c", "-f", out)
		cmd.Dir = dir
		// Exit 2 is "valid but no listener": some rule inputs have none.
		if b, _ := cmd.CombinedOutput(); cmd.ProcessState.ExitCode() == 1 {
			t.Errorf("%s: haproxy -c rejects the migrated file:\n%s", f, b)
		}
	}
}

func TestMigrateJSON(t *testing.T) {
	code, out, _ := runCLI("migrate", "--format", "json", "-f", "../../examples/seed/haproxy.cfg")
	if code != 0 || !strings.Contains(out, `"rule": "nbproc"`) || !strings.Contains(out, `"line": 6`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestMigrateBodyOnlyErrorfile: a 1.x errorfile holding only a body is
// served with http-error, which HAProxy 2.6 accepts.
func TestMigrateBodyOnlyErrorfile(t *testing.T) {
	dir := t.TempDir()
	body := writeCfg(t, dir, "503.html", "<html><body>busy</body></html>\n")
	full := writeCfg(t, dir, "504.http", "HTTP/1.0 504 Gateway Time-out\r\nContent-Type: text/html\r\n\r\nslow\n")
	cfg := writeCfg(t, dir, "old.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n errorfile 503 "+body+"\n errorfile 504 "+full+"\nfrontend fe\n bind 127.0.0.1:18080\n")
	if code, _, errOut := runCLI("check", "--haproxy-compat", "-f", cfg); code != 1 || !strings.Contains(errOut, "unable to parse headers (error offset: 0)") {
		t.Fatalf("body-only errorfile must be rejected in compat mode: %d\n%s", code, errOut)
	}
	out := filepath.Join(dir, "new.cfg")
	if code, _, errOut := runCLI("migrate", "-f", cfg, "-o", out); code != 0 {
		t.Fatalf("migrate: %d\n%s", code, errOut)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "http-error status 503 content-type text/html file "+body+"\n") || !strings.Contains(string(b), "errorfile 504 "+full+"\n") {
		t.Errorf("migrated:\n%s", b)
	}
	if bin := haproxyBin(); bin != "" {
		if res, err := exec.Command(bin, "-c", "-f", out).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c rejects the result: %v\n%s", err, res)
		}
	}
}
