package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gohap/gohap/parser"
)

type migrateFlags struct {
	file, output string
	check, diff  bool
	format       string
	initAddrNone bool
}

func newMigrate(stdout, stderr io.Writer) *cobra.Command {
	f := &migrateFlags{}
	c := &cobra.Command{
		Use:   "migrate -f OLD.cfg [-o NEW.cfg]",
		Short: "Rewrite a legacy 1.x configuration for HAProxy 2.6",
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.file == "" {
				return errors.New("no configuration file given (use -f FILE)")
			}
			return exitCode(migrate(f, stdout, stderr))
		},
	}
	c.Flags().StringVarP(&f.file, "file", "f", "", "legacy configuration file")
	c.Flags().StringVarP(&f.output, "output", "o", "", "write the result here instead of stdout")
	c.Flags().BoolVar(&f.check, "check", false, "check the result with gohap check --haproxy-compat")
	c.Flags().BoolVar(&f.diff, "diff", false, "print a unified diff instead of the file")
	c.Flags().StringVar(&f.format, "format", "text", "text, or json to list the changes")
	c.Flags().BoolVar(&f.initAddrNone, "init-addr-none", false, "add 'init-addr last,libc,none' to servers whose host does not resolve here")
	return c
}

func exitCode(code int) error {
	if code != 0 {
		return exitError{code}
	}
	return nil
}

type jsonChange struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Rule   string `json:"rule"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Note   string `json:"note,omitempty"`
}

func migrate(f *migrateFlags, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(f.file)
	if err != nil {
		fmt.Fprintf(stderr, "gohap migrate: %v\n", err)
		return 1
	}
	out, changes := parser.Migrate(parser.Input{Name: f.file, Data: data}, parser.MigrateOptions{InitAddrNone: f.initAddrNone})
	for _, c := range changes {
		msg := c.Rule
		switch {
		case c.Note != "" && c.Before == "":
			msg += ": " + c.Note
		case c.After == "":
			msg += ": removed '" + strings.TrimSpace(c.Before) + "'"
		default:
			msg += ": '" + strings.TrimSpace(c.Before) + "' -> '" + c.After + "'"
		}
		if c.Note != "" && c.Before != "" {
			msg += " (" + c.Note + ")"
		}
		if f.format != "json" {
			fmt.Fprintf(stderr, "%s:%d: %s\n", c.Pos.File, c.Pos.Line, msg)
		}
	}
	switch {
	case f.format == "json":
		list := make([]jsonChange, 0, len(changes))
		for _, c := range changes {
			list = append(list, jsonChange{File: c.Pos.File, Line: c.Pos.Line, Rule: c.Rule, Before: c.Before, After: c.After, Note: c.Note})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(list)
	case f.diff:
		fmt.Fprint(stdout, unifiedDiff(f.file, string(data), string(out)))
	case f.output != "":
		if err := os.WriteFile(f.output, out, 0o644); err != nil {
			fmt.Fprintf(stderr, "gohap migrate: %v\n", err)
			return 1
		}
	default:
		_, _ = stdout.Write(out)
	}
	if f.check {
		tmp, err := os.CreateTemp("", "gohap-migrated-*.cfg")
		if err != nil {
			fmt.Fprintf(stderr, "gohap migrate: %v\n", err)
			return 1
		}
		defer os.Remove(tmp.Name())
		_, _ = tmp.Write(out)
		_ = tmp.Close()
		if code := check(&checkFlags{files: []string{tmp.Name()}, compat: true, noResolve: true}, io.Discard, stderr); code == 1 {
			return 1
		}
	}
	return 0
}

// unifiedDiff renders a line diff of two texts in unified format, with the
// whole file as one hunk context-free of limits (configurations are small).
func unifiedDiff(name, a, b string) string {
	al, bl := splitKeep(a), splitKeep(b)
	// Longest common subsequence over lines.
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else if lcs[i+1][j] >= lcs[i][j+1] {
				lcs[i][j] = lcs[i+1][j]
			} else {
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	if lcs[0][0] == n && n == m {
		return ""
	}
	var body strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			body.WriteString(" " + al[i])
			i++
			j++
		case j < m && (i >= n || lcs[i][j+1] >= lcs[i+1][j]):
			body.WriteString("+" + bl[j])
			j++
		default:
			body.WriteString("-" + al[i])
			i++
		}
	}
	return fmt.Sprintf("--- %s\n+++ %s (migrated)\n@@ -1,%d +1,%d @@\n%s", name, name, n, m, body.String())
}

func splitKeep(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s+"\n\\ No newline at end of file\n")
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}
