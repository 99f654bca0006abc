package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const migrateSep = "----- migrated -----\n"
const changesSep = "----- changes -----\n"

// TestMigrateGolden migrates testdata/migrate/*.cfg and compares the output
// and the list of changes with the .golden file beside each input.
func TestMigrateGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/migrate/*.cfg")
	if len(files) == 0 {
		t.Fatal("no inputs")
	}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, changes := Migrate(Input{Name: filepath.Base(f), Data: in}, MigrateOptions{Resolve: func(string) bool { return false }, InitAddrNone: true})
		var b strings.Builder
		b.WriteString(migrateSep)
		b.Write(out)
		b.WriteString(changesSep)
		for _, c := range changes {
			fmt.Fprintf(&b, "%d %s: %q -> %q %s\n", c.Pos.Line, c.Rule, c.Before, c.After, c.Note)
		}
		golden := strings.TrimSuffix(f, ".cfg") + ".golden"
		if *update {
			if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, _ := os.ReadFile(golden)
		if b.String() != string(want) {
			t.Errorf("%s: migration differs from %s\n--- got\n%s", f, golden, b.String())
		}
		// The result must load without legacy warnings in compat mode.
		_, ds := Parse([]Input{{Name: "out.cfg", Data: out}}, Options{Compat: true})
		if ds.HasErrors() {
			t.Errorf("%s: migrated output has errors:\n%v", f, ds)
		}
	}
}

func TestMigrateIdempotent(t *testing.T) {
	files, _ := filepath.Glob("testdata/migrate/*.cfg")
	for _, f := range files {
		in, _ := os.ReadFile(f)
		out, _ := Migrate(Input{Name: f, Data: in}, MigrateOptions{Resolve: func(string) bool { return true }})
		again, changes := Migrate(Input{Name: f, Data: out}, MigrateOptions{Resolve: func(string) bool { return true }})
		if string(again) != string(out) || len(changes) != 0 {
			t.Errorf("%s: migrating twice changes the file again: %+v", f, changes)
		}
	}
}

// TestMigrateRules holds one golden file per rewrite rule in
// testdata/migrate/rules: the input, then the migrated text, then the
// changes and notes. -update rewrites the expected parts.
func TestMigrateRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/migrate/rules/*.txt")
	if len(files) < 20 {
		t.Fatalf("only %d rule files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, _, ok := strings.Cut(string(b), migrateSep)
		if !ok {
			t.Fatalf("%s: no %q separator", f, migrateSep)
		}
		out, changes := Migrate(Input{Name: filepath.Base(f), Data: []byte(in)}, MigrateOptions{Resolve: func(string) bool { return true }})
		var got strings.Builder
		got.WriteString(in + migrateSep)
		got.Write(out)
		got.WriteString(changesSep)
		for _, c := range changes {
			fmt.Fprintf(&got, "%d %s: %q -> %q %s\n", c.Pos.Line, c.Rule, c.Before, c.After, c.Note)
		}
		if *update {
			if err := os.WriteFile(f, []byte(got.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got.String() != string(b) {
			t.Errorf("%s differs\n--- got\n%s", f, got.String())
		}
		if _, ds := Parse([]Input{{Name: "out.cfg", Data: out}}, Options{Compat: true}); ds.HasErrors() {
			t.Errorf("%s: migrated output rejected in compat mode:\n%v", f, ds)
		}
		if strings.HasSuffix(f, "modern.txt") && (string(out) != in || len(changes) != 0) {
			t.Errorf("modern configuration changed:\n%s", out)
		}
	}
}
