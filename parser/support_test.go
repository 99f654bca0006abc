package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
	text := corpus.String()
	// A line starts at a newline (real or escaped) or a quote.
	const start, end = "(?:^|\\n|\\\\n|\"|`)[ \\t]*(?:no |default )?", "(?:[ \\t]|\\\\n|\\n|\"|`|$)"
	var missing []string
	for _, k := range Keywords() {
		if k.Support != Supported {
			continue
		}
		kw := regexp.QuoteMeta(k.Name)
		var re string
		switch k.Section {
		case "option":
			re = start + "option[ \\t]+" + kw + end
		case "server":
			re = start + "(?:server|default-server|server-template)(?:[ \\t][^\\n\"`]*)?[ \\t]" + kw + end
		default:
			re = start + kw + end
		}
		if !regexp.MustCompile("(?m)" + re).MatchString(text) {
			missing = append(missing, k.Section+" "+k.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("Supported keywords that no test uses: %s", strings.Join(missing, ", "))
	}
}
