package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMigrateRulesIdempotent: the output of every per-rule input migrates
// to itself with no change.
func TestMigrateRulesIdempotent(t *testing.T) {
	files, _ := filepath.Glob("testdata/migrate/rules/*.txt")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		in, _, _ := strings.Cut(string(b), migrateSep)
		opts := MigrateOptions{Resolve: func(string) bool { return true }}
		out, _ := Migrate(Input{Name: f, Data: []byte(in)}, opts)
		again, changes := Migrate(Input{Name: f, Data: out}, opts)
		if string(again) != string(out) || len(changes) != 0 {
			t.Errorf("%s: migrating twice changes the file again: %+v", f, changes)
		}
	}
}

// TestQuoteWordRoundTrip: the 2.x tokenizer reads back every word that
// quoteWord writes.
func TestQuoteWordRoundTrip(t *testing.T) {
	for _, w := range []string{"plain", "", "a b", "L'broker", `say "hi"`, `it's "ok"`, `C:\it's $HOME`,
		"#x", `\1 /\2`, "a\tb", "GET / HTTP/1.1\r\nHost: x", "\x01'", "${VAR}", `'"'`} {
		words, _, err := splitLine([]byte("k "+quoteWord(w)), newEnv(nil), 1)
		if err != nil || len(words) != 2 || words[1] != w {
			t.Errorf("quoteWord(%q) = %s, read back as %q (%v)", w, quoteWord(w), words, err)
		}
	}
}

// TestSplitLine15 checks the 1.5 tokenizer on the cases where it differs
// from 2.x.
func TestSplitLine15(t *testing.T) {
	for _, c := range []struct {
		in      string
		words   []string
		comment string
	}{
		{"stats realm L'broker", []string{"stats", "realm", "L'broker"}, ""},
		{`reqadd X-A:\ "b c"`, []string{"reqadd", `X-A: "b`, `c"`}, ""},
		{`a \'b\' \1\#\\ \x41`, []string{"a", `\'b\'`, `\1#\`, "A"}, ""},
		{"  a 'b # c' d", []string{"a", "'b"}, " # c' d"},
		{"a b\t# x\r", []string{"a", "b"}, "\t# x"},
		{`a\ b c\`, []string{"a b", `c\`}, ""},
	} {
		w, _, comment := splitLine15(c.in)
		if !reflect.DeepEqual(w, c.words) || comment != c.comment {
			t.Errorf("splitLine15(%q) = %q, %q; want %q, %q", c.in, w, comment, c.words, c.comment)
		}
	}
}

// TestMigrateModernQuotes: balanced quotes in a file that 2.x reads are
// left alone, since such a file may have been written for 1.6+.
func TestMigrateModernQuotes(t *testing.T) {
	in := "listen l\n    bind :80\n    stats realm 'My realm'\n    http-request set-header X-A \"it's\"\n"
	out, changes := Migrate(Input{Name: "m.cfg", Data: []byte(in)}, MigrateOptions{Resolve: func(string) bool { return true }})
	if string(out) != in || len(changes) != 0 {
		t.Errorf("changed:\n%s%+v", out, changes)
	}
}
