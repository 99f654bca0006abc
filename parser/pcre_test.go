package parser

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestPCREErrorKnown(t *testing.T) {
	for _, c := range []struct {
		re   string
		noCp bool
		want string
	}{
		{"a(b", true, "missing closing parenthesis, erroffset=3"},
		{"*a", true, "quantifier does not follow a repeatable item, erroffset=0"},
		{"a{2,1}", true, "numbers out of order in {} quantifier, erroffset=5"},
		{"x{99999999}", true, "number too big in {} quantifier, erroffset=7"},
		{"[z-a]", true, "range out of order in character class, erroffset=3"},
		{"(?<n>a)(?<n>b)", true, "two named subpatterns have the same name (PCRE2_DUPNAMES not set), erroffset=12"},
		{`\k`, true, `\k is not followed by a braced, angle-bracketed, or quoted name, erroffset=2`},
		{"(?z)", true, "unrecognized character after (? or (?-, erroffset=2"},
		{"[[:foo:]]", true, "unknown POSIX class name, erroffset=3"},
		{`\p{Foo}`, true, `unknown property after \P or \p, erroffset=7`},
		{`(a)\1`, true, "reference to non-existent subpattern, erroffset=4"},
		{`(a)\1`, false, ""},
		{`(?<=a+)b`, true, "lookbehind assertion is not fixed length, erroffset=0"},
		{`(?<=ab|c)d`, true, ""},
		{`(?=a)(?!b)(?>c)\p{Greek}[[:alpha:]]`, true, ""},
		{"(*FOO)x", true, "(*VERB) not recognized or malformed, erroffset=5"},
		{"(*MARK)x", true, "(*MARK) must have an argument, erroffset=6"},
		{"(*CR)(*LIMIT_MATCH=1x)", true, "(*VERB) not recognized or malformed, erroffset=21"},
		{"(*xyz:a)", true, "(*alpha_assertion) not recognized, erroffset=5"},
		{"(*THEN)*", true, "quantifier does not follow a repeatable item, erroffset=7"},
		{"(*CR)(*ACCEPT:x)+a(*:m)(*SKIP)", true, ""},
		{"(?C256)x", true, "number after (?C is greater than 255, erroffset=6"},
		{`(?C{a)x`, true, "missing terminating delimiter for callout with string argument, erroffset=3"},
		{"(?C1x)", true, "closing parenthesis for (?C expected, erroffset=4"},
		{"(?C-1)", true, "unrecognized string delimiter follows (?C, erroffset=3"},
		{"(?C)a(?C255)b(?C{x}}})c(?C`y`)", true, ""},
		{"(?(1)a|b)", true, "reference to non-existent subpattern, erroffset=2"},
		{"(a)(?(1)a|b|c)", false, "conditional subpattern contains more than two branches, erroffset=3"},
		{"(?(DEFINE)a|b)", true, "DEFINE subpattern contains more than one branch, erroffset=3"},
		{"(?(?i)a)", true, "assertion expected after (?( or (?(?C), erroffset=2"},
		{"(?(1a)b)", true, "missing closing parenthesis for condition, erroffset=4"},
		{"(?<n>a)(?(<n>)b|c)(?(R)d)(?(?C1)(?=e)f)", true, ""},
	} {
		got := PCREError(c.re, c.noCp)
		want := ""
		if c.want != "" {
			want = fmt.Sprintf("regex '%s' is invalid (error=%s)", c.re, c.want)
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", c.re, got, want)
		}
	}
}

// pcreAlphabet favours the characters PCRE2's syntax turns on.
var pcreAlphabet = []string{"a", "b", "1", "2", "0", "9", "(", ")", "[", "]", "{", "}", ",", "*", "+", "?", "|",
	"^", "$", ".", `\`, "-", ":", "=", "!", "<", ">", "&", "P", "p", "k", "g", "x", "o", "c", "d", "w", "N",
	"Q", "E", "R", "L", "u", "i", "n", "J", "_", "#", "(?", "(?<", "(?P", "[:", ":]", "[[:", "{2}", "{1,", `\x{`, `\o{`,
	`\p{`, `\1`, `\g`, `\k<`, "(?<=", "(?<!", "(?=", "(?|", "(?x)", "(?n)", "(?#", "alpha", "L&", "Greek", "sc:", "99999",
	"(*", "MARK", "ACCEPT", "F)", "SKIP:", "(*LIMIT_MATCH=", "(*CR)", "(*:", "pla:",
	"(?C", "(?C)", "255", `"`, "{", "`", "(?(", "(?(1)", "DEFINE", "(?(R", "(?(<n>)", "(?<n>", "(?(?="}

func randPCRE(r *rand.Rand) string {
	n := 1 + r.Intn(7)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(pcreAlphabet[r.Intn(len(pcreAlphabet))])
	}
	return b.String()
}

var pcreAlertRe = regexp.MustCompile(`ret\.cfg:(\d+)\] : .*: (regex '.*' is invalid \(error=.*, erroffset=\d+\))\.?$`)

// TestPCREDifferential compares PCREError with the regex errors of
// HAProxy's PCRE2 on random patterns: as ACL patterns, compiled without
// captures, many per configuration, and in http-request replace-header,
// compiled with captures, one per configuration (the first error ends
// HAProxy's parsing of such rules).
func TestPCREDifferential(t *testing.T) {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		t.Skip("HAPROXY_BIN not set: no reference to compare the messages with")
	}
	seed := int64(1)
	if s := os.Getenv("PCRE_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	rounds := 4
	if testing.Short() {
		rounds = 1
	}
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ret.cfg")
	const head = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend f\n bind 127.0.0.1:1\n"
	headLines := strings.Count(head, "\n")
	seen, bad, mismatches := 0, 0, 0
	compare := func(re, want string, noCap bool) {
		seen++
		if want != "" {
			bad++
		}
		got := PCREError(re, noCap)
		// Constructs PCREError does not follow leave HAProxy to decide.
		if got != want && !(got == "" && pcreSkips(re)) {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("pattern %q (no capture %v): gohap %q, haproxy %q", re, noCap, got, want)
			}
		}
	}
	// HAProxy stops at 50 fatal errors: 40 patterns per configuration.
	for round := 0; round < 12*rounds; round++ {
		var pats []string
		var b strings.Builder
		b.WriteString(head)
		for len(pats) < 40 {
			re := randPCRE(r)
			if strings.Contains(re, "'") {
				continue
			}
			pats = append(pats, re)
			fmt.Fprintf(&b, " acl a%d path_reg -- '%s'\n", len(pats), re)
		}
		if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
		if d := os.Getenv("PCRE_DUMP"); d != "" {
			os.WriteFile(d+".cfg", []byte(b.String()), 0o644)
			os.WriteFile(d+".out", out, 0o644)
		}
		want := map[int]string{}
		for _, l := range strings.Split(string(out), "\n") {
			if m := pcreAlertRe.FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				want[n-headLines-1] = m[2]
			}
		}
		for i, re := range pats {
			compare(re, want[i], true)
		}
	}
	for i := 0; i < 60*rounds; i++ {
		re := randPCRE(r)
		if strings.Contains(re, "'") {
			continue
		}
		c := head + fmt.Sprintf(" http-request replace-header x '%s' y\n", re)
		if err := os.WriteFile(cfg, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
		want := ""
		for _, l := range strings.Split(string(out), "\n") {
			if m := pcreAlertRe.FindStringSubmatch(l); m != nil {
				want = m[2]
			}
		}
		compare(re, want, false)
	}
	t.Logf("%d patterns, %d refused by HAProxy, %d mismatches", seen, bad, mismatches)
	if bad == 0 {
		t.Fatal("no pattern refused: the reference's messages were not read")
	}
}

// pcreSkips tells the constructs PCREError leaves to HAProxy: conditions
// on an assertion or on VERSION, alpha assertions and UTF or UCP mode.
func pcreSkips(re string) bool {
	return strings.Contains(re, "(?(?") || strings.Contains(re, "(?(*") || strings.Contains(re, "(?(VERSION") ||
		strings.Contains(re, "(*UTF") ||
		strings.Contains(re, "(*UCP") || pcreAlphaRe.MatchString(re)
}

var pcreAlphaRe = regexp.MustCompile(`\(\*[a-z]`)

// FuzzPCREError: any pattern gets an answer, without panicking, and a
// refused pattern's offset lies within it.
func FuzzPCREError(f *testing.F) {
	for _, s := range []string{"a(b", `(?<=a|bc)\k<n>`, `[[:alpha:]-z]`, `\x{fff}\o{777}`, `(?|(a)|(b))\2`, `\p{sc:Greek}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, noCap := range []bool{true, false} {
			code, off := pcreCheck(s, noCap)
			if code != 0 && (off < 0 || off > len(s) || pcreErrText(code) == "") {
				t.Fatalf("%q: code %d offset %d", s, code, off)
			}
		}
	})
}
