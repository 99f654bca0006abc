package runtime_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// FuzzCheck runs 'gohap check's whole-configuration stage (cross
// references, then the compilation that reports what 'run' would
// refuse) on every input the parser accepts: it must finish without a
// panic, and compile errors carry a line of the file.
func FuzzCheck(f *testing.F) {
	for _, glob := range []string{"../examples/*/*.cfg", "../cmd/gohap/testdata/diff/*.cfg", "../bench/*.cfg"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, ds := parser.Parse([]parser.Input{{Name: "fuzz.cfg", Data: data}}, parser.Options{LookupEnv: func(string) (string, bool) { return "", false }})
		if ds.HasErrors() {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.Check(cfg, runtime.CheckOptions{Resolve: func(string) bool { return true }})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("check did not finish")
		}
	})
}
