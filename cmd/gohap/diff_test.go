package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// haproxyBin returns the HAProxy binary used as the oracle, or "".
func haproxyBin() string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	b, _ := exec.LookPath("haproxy")
	return b
}

var pidRe = regexp.MustCompile(`(\[[A-Z]+\] +)\(\d+\)`)

// alertLines keeps the ALERT and WARNING lines with the pid normalised.
func alertLines(out string) []string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[ALERT]") || strings.HasPrefix(l, "[WARNING]") {
			keep = append(keep, pidRe.ReplaceAllString(l, "${1}(PID)"))
		}
	}
	return keep
}

type verdict struct {
	code  int
	lines []string
}

func runHAProxy(t *testing.T, bin, dir, file string) verdict {
	t.Helper()
	cmd := exec.Command(bin, "-c", "-f", file)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("haproxy -c %s did not finish", file)
	}
	return verdict{cmd.ProcessState.ExitCode(), alertLines(out.String())}
}

func runGohap(dir, file string) verdict {
	var out bytes.Buffer
	wd, _ := os.Getwd()
	_ = os.Chdir(dir)
	code := run([]string{"-c", "--haproxy-compat", "-f", file}, &out, &out)
	_ = os.Chdir(wd)
	return verdict{code, alertLines(out.String())}
}

// TestDifferentialCheck runs haproxy -c and gohap check --haproxy-compat on
// the shared corpus and on our own cases, comparing exit codes and every
// ALERT/WARNING line.
func TestDifferentialCheck(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	t.Setenv("FOO", "a b")                 // used by testdata/diff/directives.cfg
	t.Setenv("GOHAP_BADADDR", "999.1.1.1") // testdata/diff/env-in-addresses.cfg
	sets := []struct {
		name string
		glob string
		min  float64
	}{
		{"testdata", "testdata/diff/*.cfg", 1.0},
		{"corpus", "../../../shared/corpus/configs/*.cfg", 0.95},
	}
	for _, set := range sets {
		files, _ := filepath.Glob(set.glob)
		sort.Strings(files)
		if len(files) == 0 {
			t.Logf("%s: no files at %s", set.name, set.glob)
			continue
		}
		agree := 0
		for _, f := range files {
			abs, _ := filepath.Abs(f)
			dir := t.TempDir()
			h := runHAProxy(t, bin, dir, abs)
			g := runGohap(dir, abs)
			if h.code == g.code && strings.Join(h.lines, "\n") == strings.Join(g.lines, "\n") {
				agree++
				continue
			}
			t.Logf("%s: disagreement on %s: exit %d (haproxy) vs %d (gohap)\nhaproxy:\n%s\ngohap:\n%s",
				set.name, filepath.Base(f), h.code, g.code, strings.Join(h.lines, "\n"), strings.Join(g.lines, "\n"))
		}
		rate := float64(agree) / float64(len(files))
		fmt.Printf("differential check %s: %d/%d agree (%.1f%%)\n", set.name, agree, len(files), 100*rate)
		if rate < set.min {
			t.Errorf("%s: agreement %.1f%% below threshold %.1f%%", set.name, 100*rate, 100*set.min)
		}
	}
}

// TestDifferentialTokenizer feeds words through ".notice", which echoes its
// argument once HAProxy has tokenized it, and compares every message line.
func TestDifferentialTokenizer(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	t.Setenv("GOHAP_TV", "x y")
	frags := []string{
		`abc`, `abc#def`, `"a b"`, `'a b'`, `a\ b`, `\#x`, `\x41\x42`, `\xZ1`, `"\x41"`, `'\x41'`,
		`"${GOHAP_TV}"`, `"$GOHAP_TV"`, `$GOHAP_TV`, `'${GOHAP_TV}'`, `"${GOHAP_NOPE-dflt}"`, `"${GOHAP_NOPE}"`,
		`"${GOHAP_TV[*]}"`, `"${GOHAP_TV"`, `"$1"`, `"${.LINE}"`, `"a"b'c'd`, `"q\"q"`, `'it'\''s'`,
		`a\tb`, `"\$x"`, `\\`, `"unterminated`, `'unterminated`, `a b`, `"#not a comment"`, `\q`, `"${GOHAP_TV[x]}"`,
	}
	dir := t.TempDir()
	for i, fr := range frags {
		f := filepath.Join(dir, fmt.Sprintf("tok%02d.cfg", i))
		if err := os.WriteFile(f, []byte("global\n.notice "+fr+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		lines := func(out string) string {
			var keep []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, " : config : ") || strings.HasPrefix(l, "  ") {
					keep = append(keep, pidRe.ReplaceAllString(l, "${1}(PID)"))
				}
			}
			return strings.Join(keep, "\n")
		}
		cmd := exec.Command(bin, "-c", "-f", f)
		cmd.Dir = dir
		hout, _ := cmd.CombinedOutput()
		var gout bytes.Buffer
		run([]string{"-c", "--haproxy-compat", "-f", f}, &gout, &gout)
		if h, g := lines(string(hout)), lines(gout.String()); h != g {
			t.Errorf(".notice %s\nhaproxy:\n%s\ngohap:\n%s", fr, h, g)
		}
	}
}

// TestDifferentialMutants compares haproxy -c and gohap on damaged copies
// of the corpus files: one line per copy loses its last argument, or keeps
// only its keyword, which exercises the argument checks of many keywords.
func TestDifferentialMutants(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	files, _ := filepath.Glob("../../../shared/corpus/configs/*.cfg")
	if len(files) == 0 {
		t.Skip("no shared corpus")
	}
	sort.Strings(files)
	rng := rand.New(rand.NewSource(7))
	dir := t.TempDir()
	total, agree := 0, 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		lines := strings.Split(string(data), "\n")
		var idx []int
		for i, l := range lines {
			if tl := strings.TrimSpace(l); tl != "" && !strings.HasPrefix(tl, "#") && len(strings.Fields(l)) >= 2 {
				idx = append(idx, i)
			}
		}
		for k := 0; k < 4 && len(idx) > 0; k++ {
			i := idx[rng.Intn(len(idx))]
			mut := append([]string(nil), lines...)
			w := strings.Fields(mut[i])
			if k%2 == 0 {
				w = w[:len(w)-1]
			} else {
				w = w[:1]
			}
			mut[i] = mut[i][:len(mut[i])-len(strings.TrimLeft(mut[i], " \t"))] + strings.Join(w, " ")
			p := filepath.Join(dir, fmt.Sprintf("m%03d.cfg", total))
			if err := os.WriteFile(p, []byte(strings.Join(mut, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			total++
			h := runHAProxy(t, bin, dir, p)
			g := runGohap(dir, p)
			if h.code == g.code && strings.Join(h.lines, "\n") == strings.Join(g.lines, "\n") {
				agree++
				continue
			}
			t.Logf("mutant of %s line %d %q: exit %d vs %d\nhaproxy:\n%s\ngohap:\n%s", filepath.Base(f), i+1, mut[i],
				h.code, g.code, strings.Join(h.lines, "\n"), strings.Join(g.lines, "\n"))
		}
	}
	rate := float64(agree) / float64(total)
	fmt.Printf("differential check mutants: %d/%d agree (%.1f%%)\n", agree, total, 100*rate)
	if rate < 0.93 {
		t.Errorf("mutant agreement %.1f%% below 93%%", 100*rate)
	}
}
