package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes through the lexer, the grammar and the
// keyword checks: no input may panic or hang, and every diagnostic must
// point inside the file.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../examples/*/*.cfg", "../cmd/gohap/testdata/diff/*.cfg"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		done := make(chan Diagnostics, 1)
		go func() {
			_, ds := Parse([]Input{{Name: "fuzz.cfg", Data: data}}, Options{LookupEnv: testEnv().base})
			done <- ds
		}()
		var ds Diagnostics
		select {
		case ds = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("parse did not finish")
		}
		for _, d := range ds {
			// A section's end-of-file check sits after the last line,
			// where it prints no position.
			last := lines
			if d.Style == StyleNone {
				last++
			}
			if d.Pos.Line < 0 || d.Pos.Line > last || (d.Pos.Line > 0 && d.Pos.File != "fuzz.cfg") {
				t.Fatalf("diagnostic outside the file: %+v", d)
			}
		}
	})
}

// FuzzMigrate: migrating arbitrary input never panics, and a file without
// changes comes out byte for byte.
func FuzzMigrate(f *testing.F) {
	files, _ := filepath.Glob("testdata/migrate/*.cfg")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("frontend a 1.2.3.4:80\n reqrep ^([^\\ ]*)\\ /a(.*) \\1\\ /b\\2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, changes := Migrate(Input{Name: "fuzz.cfg", Data: data}, MigrateOptions{Resolve: func(string) bool { return true }})
		if len(changes) == 0 && string(out) != string(data) {
			t.Fatalf("unchanged input rewritten:\n%q\n%q", data, out)
		}
	})
}
