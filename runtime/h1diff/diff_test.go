package h1diff

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	updateKnown = flag.Bool("update-known", false, "rewrite testdata/known-diffs.txt from this run")
	writeSeeds  = flag.Bool("write-seeds", false, "write the agreeing default cases to testdata/fuzz/FuzzH1Diff")
	caseFilter  = flag.String("h1case", "", "run only the cases whose name matches this regular expression")
)

const knownFile = "testdata/known-diffs.txt"

// unstablePrefix starts the reason of a listed case whose result depends
// on how gohap's reads split the input: it fails neither when it agrees
// nor when it differs, and -v shows which happened.
const unstablePrefix = "unstable:"

// readKnown reads known-diffs.txt: one case name a line, "# reason"
// after it; blank lines and whole-line comments are skipped.
func readKnown(t *testing.T) map[string]string {
	t.Helper()
	known := map[string]string{}
	f, err := os.Open(knownFile)
	if os.IsNotExist(err) {
		return known
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, "#")
		known[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return known
}

func haproxyBin(tb testing.TB) string {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		tb.Skip("HAPROXY_BIN is not set: the differential HTTP/1 tests need the reference HAProxy 2.6 binary")
	}
	return bin
}

// pair is HAProxy and gohap running the same slot configuration.
type pair struct {
	ha, gh *instance
	slots  chan int
}

func startPair(tb testing.TB, bin, tune string, to timeouts, slots int) *pair {
	tb.Helper()
	// A bind address freed a moment before may be taken by another
	// process before the proxy binds it: each start is tried three times.
	var ha, gh *instance
	var err error
	for try := 0; try < 3 && ha == nil; try++ {
		ha, err = startHAProxy(bin, tb.TempDir(), tune, to, slots)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ha.stop)
	for try := 0; try < 3 && gh == nil; try++ {
		gh, err = startGohap(tb.TempDir(), tune, to, slots)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(gh.stop)
	p := &pair{ha: ha, gh: gh, slots: make(chan int, slots)}
	for i := 0; i < slots; i++ {
		p.slots <- i
	}
	return p
}

// runBoth runs a case on one slot of both proxies at the same time.
func (p *pair) runBoth(c *h1case) (ha, gh outcome, err error) {
	slot := <-p.slots
	defer func() { p.slots <- slot }()
	var wg sync.WaitGroup
	var errHA, errGH error
	wg.Add(2)
	go func() {
		defer wg.Done()
		ha, errHA = run(p.ha.addrs[slot], p.ha.ups[slot], c)
	}()
	go func() {
		defer wg.Done()
		gh, errGH = run(p.gh.addrs[slot], p.gh.ups[slot], c)
	}()
	wg.Wait()
	if errHA != nil {
		return ha, gh, fmt.Errorf("haproxy: %w", errHA)
	}
	if errGH != nil {
		return ha, gh, fmt.Errorf("gohap: %w", errGH)
	}
	return ha, gh, nil
}

func agree(ha, gh *outcome) bool {
	return ha.client() == gh.client() && ha.upstreamLog() == gh.upstreamLog()
}

var statusRE = regexp.MustCompile(`(?m)^head "HTTP/1\.[01] (\d+)`)

// summary is a one-line account of an outcome, for reasons and logs.
func summary(o *outcome) string {
	var st []string
	for _, m := range statusRE.FindAllStringSubmatch(o.client(), -1) {
		st = append(st, m[1])
	}
	if len(st) == 0 {
		st = []string{"none"}
	}
	nreq, nerr := 0, 0
	for _, e := range o.Events {
		if e.Req != nil {
			nreq++
		} else {
			nerr++
		}
	}
	s := fmt.Sprintf("%s %s/%s, upstream %d req", strings.Join(st, ","), o.After1, o.Final, nreq)
	if nerr > 0 {
		s += fmt.Sprintf(" %d err", nerr)
	}
	return s
}

func reason(ha, gh *outcome) string {
	sh, sg := summary(ha), summary(gh)
	what := ""
	switch {
	case sh != sg:
		return "haproxy " + sh + "; gohap " + sg
	case ha.upstreamLog() != gh.upstreamLog():
		what = "upstream saw different requests"
	case ha.client() != gh.client():
		what = "client got different bytes"
	default:
		what = "upstream connection lingered"
	}
	return what + " (" + sh + ")"
}

func detail(ha, gh *outcome) string {
	return fmt.Sprintf("haproxy client:\n%s\nhaproxy upstream:\n%s\ngohap client:\n%s\ngohap upstream:\n%s",
		indent(ha.client()), indent(ha.upstreamLog()), indent(gh.client()), indent(gh.upstreamLog()))
}

func indent(s string) string {
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// hasDate reports a Date header in what a client received: none of the
// responses in these exchanges carries one, so none is normalised.
var dateRE = regexp.MustCompile(`(?i)\r\ndate:`)

// TestH1Diff sends every case through HAProxy and gohap and compares what
// the client received and what the strict upstream parsed.
func TestH1Diff(t *testing.T) {
	bin := haproxyBin(t)
	cases := allCases()
	filtered := *caseFilter != ""
	if filtered {
		re, err := regexp.Compile(*caseFilter)
		if err != nil {
			t.Fatalf("-h1case: %v", err)
		}
		var keep []h1case
		for _, c := range cases {
			if re.MatchString(c.name) {
				keep = append(keep, c)
			}
		}
		cases = keep
	}
	seen := map[string]bool{}
	byVariant := map[string][]*h1case{}
	for i := range cases {
		c := &cases[i]
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		if _, ok := variants[c.variant]; !ok {
			t.Fatalf("%s: unknown variant %q", c.name, c.variant)
		}
		byVariant[c.variant] = append(byVariant[c.variant], c)
	}
	known := readKnown(t)
	for name := range known {
		if !seen[name] && !filtered {
			t.Errorf("%s: listed in %s but no such case", name, knownFile)
		}
	}

	type verdict struct {
		ha, gh outcome
		same   bool
		err    error
		flaky  string // what an attempt against expectation saw
	}
	verdicts := make([]verdict, len(cases))
	index := map[*h1case]int{}
	for i := range cases {
		index[&cases[i]] = i
	}
	var wg sync.WaitGroup
	for v, vcs := range byVariant {
		slots := 1
		if v == "" {
			slots = 10
		}
		p := startPair(t, bin, variants[v], suiteTimeouts, slots)
		for _, c := range vcs {
			wg.Add(1)
			go func(c *h1case) {
				defer wg.Done()
				vd := &verdicts[index[c]]
				// Listed cases are expected to differ, the others to agree.
				_, listed := known[c.name]
				// A result against expectation is tried twice more, so
				// that one slow scheduling or an unlucky read split does
				// not flip a verdict.
				for attempt := 0; attempt < 3; attempt++ {
					ha, gh, err := p.runBoth(c)
					vd.ha, vd.gh, vd.err = ha, gh, err
					vd.same = err == nil && agree(&ha, &gh)
					if err == nil && vd.same != listed {
						break
					}
					if attempt == 0 && err == nil {
						vd.flaky = reason(&ha, &gh)
						if vd.same {
							vd.flaky = "agreed: " + summary(&ha)
						}
					}
					if attempt == 2 {
						vd.flaky = ""
					}
				}
			}(c)
		}
	}
	wg.Wait()

	agreeN, knownN := 0, 0
	newKnown := map[string]string{}
	for i := range cases {
		c, vd := &cases[i], &verdicts[i]
		if vd.err != nil {
			t.Errorf("%s: %v", c.name, vd.err)
			continue
		}
		if dateRE.Match(vd.ha.Received) || dateRE.Match(vd.gh.Received) {
			t.Errorf("%s: a response carries a Date header, which the comparison does not normalise", c.name)
		}
		if vd.flaky != "" {
			t.Logf("%s: an attempt disagreed with the expectation (%s), a later one did not", c.name, vd.flaky)
		}
		reasonText, listed := known[c.name]
		switch {
		case listed && strings.HasPrefix(reasonText, unstablePrefix):
			// Timing decides gohap's answer: neither result fails.
			knownN++
			newKnown[c.name] = reasonText
			if vd.same {
				t.Logf("%s: agrees this time (listed as unstable)", c.name)
			}
		case vd.same && listed:
			t.Errorf("%s: gohap now agrees with HAProxy; remove it from %s", c.name, knownFile)
			agreeN++
		case vd.same:
			agreeN++
		case listed:
			knownN++
			newKnown[c.name] = reasonText
		default:
			newKnown[c.name] = reason(&vd.ha, &vd.gh)
			t.Errorf("%s: gohap differs from HAProxy (not in %s)\n%s", c.name, knownFile, detail(&vd.ha, &vd.gh))
		}
		if testing.Verbose() && !vd.same {
			t.Logf("%s: %s\n%s", c.name, reason(&vd.ha, &vd.gh), detail(&vd.ha, &vd.gh))
		}
	}
	t.Logf("h1 differential: %d cases, %d agree, %d known differences", len(cases), agreeN, knownN)
	if *updateKnown && !filtered {
		writeKnown(t, cases, newKnown)
	}
	if *writeSeeds {
		for i := range cases {
			c := &cases[i]
			// The fuzzer sends an input in one write: only cases
			// written in one part make seeds that mean the same.
			_, listed := known[c.name]
			if c.variant == "" && len(c.parts) == 1 && c.upResp() == nil && verdicts[i].same && !listed {
				writeSeed(t, c.name, strings.Join(c.parts, ""))
			}
		}
	}
}

// writeKnown rewrites known-diffs.txt: the lines of cases that still
// differ stay as they are (with the comment lines), the lines of cases
// that now agree go, and so do groups left empty; new differences are
// appended with a generated reason.
func writeKnown(t *testing.T, cases []h1case, known map[string]string) {
	var b strings.Builder
	kept := map[string]bool{}
	if old, err := os.ReadFile(knownFile); err == nil {
		for _, line := range strings.SplitAfter(string(old), "\n") {
			name, _, _ := strings.Cut(strings.TrimSpace(line), "#")
			name = strings.TrimSpace(name)
			if name != "" {
				if _, ok := known[name]; !ok {
					continue
				}
				kept[name] = true
			}
			b.WriteString(line)
		}
	} else {
		b.WriteString("# Cases of TestH1Diff where gohap differs from HAProxy 2.6 today.\n")
		b.WriteString("# One case a line, then \"# reason\". The test fails on a difference not\n")
		b.WriteString("# listed here and on a listed case that agrees, so this list only shrinks.\n")
	}
	for _, c := range cases {
		if r, ok := known[c.name]; ok && !kept[c.name] {
			fmt.Fprintf(&b, "%s  # %s\n", c.name, r)
		}
	}
	// Drop the groups (blocks after the header) left without a case.
	blocks := strings.Split(b.String(), "\n\n")
	out := blocks[:1]
	for _, blk := range blocks[1:] {
		for _, line := range strings.Split(blk, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				out = append(out, blk)
				break
			}
		}
	}
	text := strings.TrimRight(strings.Join(out, "\n\n"), "\n") + "\n"
	if err := os.WriteFile(knownFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeSeed(t *testing.T, name, raw string) {
	dir := filepath.Join("testdata", "fuzz", "FuzzH1Diff")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
