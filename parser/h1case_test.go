package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzH1CaseFile reads any h1-case-adjust-file: no panic, and every entry
// taken differs from its key by case alone, with no blank inside.
func FuzzH1CaseFile(f *testing.F) {
	f.Add("# c\n\n  content-type   Content-Type  \nx-a\tX-A\n")
	f.Add("x-b X-B extra\n")
	f.Add("a\r\nA A\n" + strings.Repeat("x", 20000) + "\n")
	f.Fuzz(func(t *testing.T, text string) {
		file := filepath.Join(t.TempDir(), "m")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := &Config{}
		cfg.Global.H1Case.File = file
		H1CasePostDiags(cfg)
		for k, v := range cfg.Global.H1Case.To {
			if !strings.EqualFold(k, v) || k == "" || strings.ContainsAny(k, " \t\r\n") {
				t.Fatalf("entry %q -> %q", k, v)
			}
		}
	})
}
