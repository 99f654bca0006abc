package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// Version is gohap's own version.
const Version = "0.1.0"

// exitError carries an exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

type checkFlags struct {
	files     []string
	compat    bool
	quiet     bool
	verbose   bool
	format    string
	noResolve bool
	// mapped lists host names that --map points elsewhere.
	mapped   map[string]bool
	zeroWarn bool
}

// rewriteArgs turns haproxy-style argv (-f repeated, -c, -q, -V, -dW, -dr,
// -v, -vv, -- files) into gohap subcommands, because cobra takes only
// one-letter flags after a single dash.
func rewriteArgs(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args
	}
	cmd := "run"
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-c":
			cmd = "check"
		case "-v":
			return []string{"version"}
		case "-vv":
			return []string{"version", "--build"}
		case "-dW":
			out = append(out, "--zero-warning")
		case "-dr":
			out = append(out, "--no-resolve")
		case "--":
			for _, f := range args[i+1:] {
				out = append(out, "-f", f)
			}
			i = len(args)
		default:
			out = append(out, a)
		}
	}
	return append([]string{cmd}, out...)
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(rewriteArgs(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		fmt.Fprintln(stderr, "gohap:", err)
		return 1
	}
	return 0
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "gohap",
		Short:         "A drop-in replacement for HAProxy",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCheck(stdout, stderr), newRun(stdout, stderr), newMigrate(stdout, stderr), newVersion(stdout))
	return root
}

func addCheckFlags(c *cobra.Command, f *checkFlags) {
	c.Flags().StringArrayVarP(&f.files, "file", "f", nil, "configuration file or directory (repeatable)")
	c.Flags().BoolVar(&f.compat, "haproxy-compat", false, "reject legacy 1.x syntax with HAProxy 2.6's messages")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing, report through the exit code")
	c.Flags().BoolVarP(&f.verbose, "verbose", "V", false, "print messages even when 'quiet' is set")
	c.Flags().BoolVar(&f.noResolve, "no-resolve", false, "unresolvable server addresses only disable the server (haproxy -dr)")
	c.Flags().BoolVar(&f.zeroWarn, "zero-warning", false, "make warnings fatal (haproxy -dW)")
}

func newCheck(stdout, stderr io.Writer) *cobra.Command {
	f := &checkFlags{}
	c := &cobra.Command{
		Use:   "check -f FILE...",
		Short: "Check configuration files as 'haproxy -c' does",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				f.files = append(f.files, a)
			}
			code := check(f, stdout, stderr)
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	addCheckFlags(c, f)
	c.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	return c
}

func newRun(stdout, stderr io.Writer) *cobra.Command {
	f := &checkFlags{}
	var maps []string
	c := &cobra.Command{
		Use:   "run -f FILE...",
		Short: "Run the proxy in the foreground",
		RunE: func(cmd *cobra.Command, args []string) error {
			f.files = append(f.files, args...)
			f.mapped = map[string]bool{}
			for _, m := range maps {
				from, _, _ := strings.Cut(m, "=")
				if h, _, err := net.SplitHostPort(from); err == nil {
					from = h
				}
				f.mapped[from] = true
			}
			if code := serve(f, maps, stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	addCheckFlags(c, f)
	c.Flags().StringArrayVar(&maps, "map", nil, "use address TO where the configuration says FROM (FROM=TO; host:port or host), for binds and servers")
	return c
}

func newVersion(stdout io.Writer) *cobra.Command {
	var build bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "gohap version %s (HAProxy %s compatible) - https://github.com/gohap/gohap\n", Version, parser.HAProxyVersion)
			if build {
				fmt.Fprintf(stdout, "Build options :\n  Go implementation; no OpenSSL, no Lua, no QUIC.\n\nFeature list : +PCRE2 +THREAD -OPENSSL -LUA -QUIC -ZLIB\n")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&build, "build", false, "also print build options (haproxy -vv)")
	return c
}

func pid() string { return fmt.Sprint(os.Getpid()) }

// label pads a severity label to HAProxy's 10 columns.
func label(s parser.Severity) string {
	switch s {
	case parser.Alert:
		return "[ALERT]   "
	case parser.Warning:
		return "[WARNING] "
	default:
		return "[NOTICE]  "
	}
}

type jsonDiag struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// check runs parsing and checks and prints as haproxy -c; it returns the
// exit code.
func check(f *checkFlags, stdout, stderr io.Writer) int {
	if len(f.files) == 0 {
		fmt.Fprintf(stderr, "[ALERT]    (%s) : No configuration file specified (use -f FILE).\n", pid())
		return 1
	}
	inputs, err := parser.ReadInputs(f.files)
	if err != nil {
		fmt.Fprintf(stderr, "[ALERT]    (%s) : %v.\n", pid(), err)
		return 1
	}
	cfg, diags := parser.Parse(inputs, parser.Options{Compat: f.compat})
	type block struct {
		d     parser.Diagnostic
		plain bool // no "config :" label
	}
	var out []block
	for _, d := range diags {
		out = append(out, block{d: d})
	}
	code := 0
	trailer := func(msg string) { out = append(out, block{d: parser.Diagnostic{Severity: parser.Alert, Msg: msg}}) }
	fatal := diags.HasErrors()
	var res runtime.Result
	switch {
	case cfg.Aborted:
		code = 1
	case fatal || cfg.AbortAfterFile:
		for _, in := range inputs {
			trailer("Error(s) found in configuration file : " + in.Name)
			break
		}
		if !cfg.AbortAfterFile {
			trailer("Fatal errors found in configuration.")
		}
		code = 1
	default:
		copts := runtime.CheckOptions{Compat: f.compat, NoResolve: f.noResolve}
		if len(f.mapped) > 0 {
			copts.Resolve = func(h string) bool {
				if f.mapped[h] {
					return true
				}
				a, err := net.LookupHost(h)
				return err == nil && len(a) > 0
			}
		}
		res = runtime.Check(cfg, copts)
		for _, d := range res.Diags {
			out = append(out, block{d: d})
		}
		if res.Diags.HasErrors() {
			if !res.AddrFailed {
				trailer("Fatal errors found in configuration.")
			}
			code = 1
		} else if (f.zeroWarn || cfg.Global.ZeroWarning) && res.Diags.Count(parser.Warning)+diags.Count(parser.Warning) > 0 {
			trailer("Some warnings were found and 'zero-warning' is set. Aborting.")
			code = 1
		} else if res.NoListener {
			code = 2
		}
	}
	quiet := (f.quiet || cfg.Global.Quiet) && !f.verbose
	if f.format == "json" {
		list := make([]jsonDiag, 0, len(out))
		for _, b := range out {
			d := b.d
			list = append(list, jsonDiag{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col, Severity: d.Severity.String(), Message: d.Msg, Hint: d.Hint})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(list)
		return code
	}
	if quiet {
		return code
	}
	p := pid()
	warned := false
	if len(out) > 0 {
		exe, _ := os.Executable()
		fmt.Fprintf(stderr, "[NOTICE]   (%s) : haproxy version is %s (gohap %s)\n", p, parser.HAProxyVersion, Version)
		fmt.Fprintf(stderr, "[NOTICE]   (%s) : path to executable is %s\n", p, exe)
	}
	for _, b := range out {
		d := b.d
		if d.Severity == parser.Warning {
			warned = true
		}
		fmt.Fprintf(stderr, "%s (%s) : config : %s", label(d.Severity), p, d.Text())
		if !d.Truncated {
			fmt.Fprintln(stderr)
		}
		for _, l := range d.Detail {
			fmt.Fprintln(stderr, l)
		}
	}
	if code == 0 || code == 2 {
		if warned {
			fmt.Fprintln(stdout, "Warnings were found.")
		}
		if code == 2 {
			fmt.Fprintln(stdout, "Configuration file has no error but will not start (no listener) => exit(2).")
		} else {
			fmt.Fprintln(stdout, "Configuration file is valid")
		}
	}
	return code
}
