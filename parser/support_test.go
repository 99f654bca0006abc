package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every keyword the runtime claims to run is used by some test: a test
// file or test data of the module must have it where a configuration
// line would (a server option on a server or default-server line).
func TestSupportedKeywordsAreTested(t *testing.T) {
	var corpus strings.Builder
	root := ".."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		inTestdata := strings.Contains(filepath.ToSlash(p), "/testdata/")
		if !strings.HasSuffix(p, "_test.go") && !(inTestdata && (strings.HasSuffix(p, ".cfg") || strings.HasSuffix(p, ".txt"))) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if filepath.Base(p) == "support_test.go" {
			return nil
		}
		corpus.Write(b)
		corpus.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A line starts at a newline (real or escaped) or a quote, and may
	// begin with "no " or "default ". Each line's leading words, and the
	// words of server lines, are collected once: a regular expression per
	// keyword over the whole corpus took minutes under the race detector.
	maxWords := 1
	for _, k := range Keywords() {
		maxWords = max(maxWords, len(strings.Fields(k.Name))+1)
	}
	starts, serverWords := map[string]bool{}, map[string]bool{}
	text := strings.NewReplacer("\\n", "\n", "\"", "\n", "`", "\n").Replace(corpus.String())
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimLeft(line, " \t")
		for _, l := range []string{line, strings.TrimPrefix(line, "no "), strings.TrimPrefix(line, "default ")} {
			f := strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' })
			for n := 1; n <= min(maxWords, len(f)); n++ {
				starts[strings.Join(f[:n], " ")] = true
			}
			if len(f) > 1 && (f[0] == "server" || f[0] == "default-server" || f[0] == "server-template") {
				for _, w := range f[1:] {
					serverWords[w] = true
				}
			}
		}
	}
	var missing []string
	for _, k := range Keywords() {
		if k.Support != Supported {
			continue
		}
		var used bool
		switch k.Section {
		case "option":
			used = starts["option "+k.Name]
		case "server":
			used = serverWords[k.Name]
		default:
			used = starts[k.Name]
		}
		if !used {
			missing = append(missing, k.Section+" "+k.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("Supported keywords that no test uses: %s", strings.Join(missing, ", "))
	}
}
