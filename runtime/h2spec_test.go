package runtime_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// h2specBin is the h2spec conformance tool: H2SPEC_BIN, else on PATH
// (.ci/run installs github.com/summerwind/h2spec/cmd/h2spec).
func h2specBin() string {
	if b := os.Getenv("H2SPEC_BIN"); b != "" {
		return b
	}
	b, _ := exec.LookPath("h2spec")
	return b
}

// h2specRun runs every h2spec case against addr and returns the cases'
// outcomes by name: "pass", "fail" or "skip".
func h2specRun(t *testing.T, bin, addr string, tls bool) map[string]string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	report := filepath.Join(t.TempDir(), "report.xml")
	args := []string{"-h", host, "-p", port, "-o", "3", "-j", report}
	if tls {
		args = append(args, "-t", "-k")
	}
	cmd := exec.Command(bin, args...)
	done := make(chan struct{})
	time.AfterFunc(120*time.Second, func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
		}
	})
	cmd.Run() // it exits 1 when a case fails
	close(done)
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("h2spec %s: no report: %v", addr, err)
	}
	var doc struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Name    string    `xml:"classname,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	out := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			v := "pass"
			switch {
			case c.Failure != nil || c.Error != nil:
				v = "fail"
			case c.Skipped != nil:
				v = "skip"
			}
			out[s.Package+" "+c.Name] = v
		}
	}
	return out
}

// The h2spec conformance suite, over h2c and over TLS: gohap passes
// every case HAProxy passes.
func TestH2SpecConformance(t *testing.T) {
	bin := h2specBin()
	if bin == "" {
		t.Skip("h2spec not found (set H2SPEC_BIN or install github.com/summerwind/h2spec/cmd/h2spec)")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := startEcho(t, "s1")
	cfg := func(plain, tls string) string {
		return fmt.Sprintf(`global
 nbthread 1
defaults
 mode http
 timeout connect 1s
 timeout client 10s
 timeout server 10s
frontend fe
 bind %s proto h2
 bind %s ssl crt %s/site.pem alpn h2
 default_backend be
backend be
 server s1 %s
`, plain, tls, dir, up.Addr())
	}
	gPlain, gTLS := freePort(t), freePort(t)
	startGohap(t, cfg(gPlain, gTLS), nil)
	// HAProxy's outcomes, per transport, when it is there: a case it
	// fails too is not held against gohap.
	var ref [2]map[string]string
	if haproxyBin() != "" {
		hPlain, hTLS := freePort(t), freePort(t)
		startHAProxy(t, cfg(hPlain, hTLS), hPlain)
		ref[0], ref[1] = h2specRun(t, bin, hPlain, false), h2specRun(t, bin, hTLS, true)
	}
	for i, addr := range []string{gPlain, gTLS} {
		tls := i == 1
		got := h2specRun(t, bin, addr, tls)
		counts := map[string]int{}
		var bad []string
		for k, v := range got {
			counts[v]++
			if v == "fail" && ref[i][k] != "fail" {
				bad = append(bad, k)
			}
		}
		sort.Strings(bad)
		t.Logf("h2spec, TLS %v: %d passed, %d skipped, %d failed of %d", tls, counts["pass"], counts["skip"], counts["fail"], len(got))
		fmt.Printf("h2spec (tls=%v): %d/%d passed, %d skipped\n", tls, counts["pass"], len(got), counts["skip"])
		if len(got) < 100 {
			t.Errorf("h2spec ran only %d cases", len(got))
		}
		for _, k := range bad {
			t.Errorf("h2spec case failed (not by HAProxy): %s", k)
		}
	}
}
