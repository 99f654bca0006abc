package h1diff

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sortedKeys is the set of requests the upstream parsed, as the fuzzer
// compares it.
func sortedKeys(evs []upEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Req != nil {
			out = append(out, e.fuzzKey())
		}
	}
	sort.Strings(out)
	return out
}

// firstStatus is the first line the client received when it is a status
// line, "none" when nothing came before the client stopped waiting.
func firstStatus(o *outcome) string {
	s := string(o.Received)
	if s == "" {
		return "none"
	}
	line, _, _ := strings.Cut(s, "\r\n")
	if !strings.HasPrefix(line, "HTTP/") {
		return "not a status line: " + strconv.Quote(clip(line, 40))
	}
	return line
}

// FuzzH1Diff sends each input, alone on a new connection, through gohap
// and through HAProxy to the same kind of strict upstream. The two must
// agree on the requests the upstream parsed (method, target and body, as
// a set) and on the first status line the client received. The client
// stops reading after a quiet period far shorter than the timeouts, so a
// proxy still waiting for more bytes reads as "none" on both sides. A
// difference must repeat on a second run to count.
//
// Both proxies start once per process. Seeds are the table cases on which
// gohap agrees with HAProxy (written by TestH1Diff -write-seeds); without
// -fuzz they run in parallel as a regular test. With H1DIFF_FINDINGS set
// to a file name, differences are appended there and fuzzing goes on.
func FuzzH1Diff(f *testing.F) {
	bin := haproxyBin(f)
	fuzzing := false
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		fuzzing = true
	}
	slots := 6
	if fuzzing {
		slots = 1
	}
	// H1DIFF_FINDINGS names a file that collects differences instead of
	// failing on the first one, for long exploratory runs.
	logFile := os.Getenv("H1DIFF_FINDINGS")
	p := startPair(f, bin, "", suiteTimeouts, slots)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 32<<10 {
			t.Skip("input larger than the proxies' buffers")
		}
		if !fuzzing {
			t.Parallel()
		}
		c := &h1case{name: "fuzz", parts: []string{string(raw)}, noSecond: true}
		// A difference is confirmed by a second run: one that does not
		// repeat depends on timing (how a proxy's reads split the input)
		// and is logged as unstable rather than failed.
		var first string
		for attempt := 0; attempt < 2; attempt++ {
			ha, gh, err := p.runBoth(c)
			if err != nil {
				t.Fatal(err)
			}
			hs, gs := firstStatus(&ha), firstStatus(&gh)
			hk, gk := sortedKeys(ha.Events), sortedKeys(gh.Events)
			if hs == gs && strings.Join(hk, "\n") == strings.Join(gk, "\n") || stricter(hs, gs, hk, gk) || earlier(raw, hs, gs, hk, gk) {
				if first != "" {
					t.Logf("unstable: %s", first)
					if logFile != "" {
						appendFinding(t, logFile, "unstable: "+first)
					}
				}
				return
			}
			if first == "" {
				first = fmt.Sprintf("gohap differs from HAProxy on input %s\nhaproxy: %s, upstream %q\ngohap:   %s, upstream %q\n%s",
					strconv.Quote(string(raw)), hs, hk, gs, gk, detail(&ha, &gh))
			}
		}
		if logFile != "" {
			appendFinding(t, logFile, first)
			return
		}
		t.Error(first)
	})
}

func appendFinding(t *testing.T, path, msg string) {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fmt.Fprintf(fh, "%s\n----\n", msg); err != nil {
		t.Fatal(err)
	}
}

// stricter tells gohap refusing (400) a request of which nothing reached
// the server, where HAProxy forwarded bytes the strict server could not
// parse, so that it answered 502 (its four-bytes-at-a-time target scan
// lets some through): the README lists this on purpose.
func stricter(hs, gs string, hk, gk []string) bool {
	return strings.Contains(gs, " 400 ") && strings.Contains(hs, " 502 ") && len(hk) == 0 && len(gk) == 0
}

// earlier tells gohap refusing (400) at its bad byte a request line that
// never ended, where HAProxy, which checks the line once it ends, still
// waits: the README lists this on purpose (the answer at the line's end
// is the same).
func earlier(raw []byte, hs, gs string, hk, gk []string) bool {
	return hs == "none" && strings.Contains(gs, " 400 ") && len(hk) == 0 && len(gk) == 0 && !bytes.ContainsAny(raw, "\r\n")
}
