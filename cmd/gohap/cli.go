package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"

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
	// parsed is the configuration check read, which run then compiles
	// rather than reading it again.
	parsed *parser.Config
	files  []string
	compat bool
	// verdict answers as haproxy -c does ("--haproxy-verdict"): what the
	// runtime refuses is only noticed. Otherwise a check also compiles
	// the graph and fails as run would. --haproxy-compat implies it.
	verdict bool
	// serving is set when run checks before it compiles for real, so the
	// graph is compiled once and its refusals printed once.
	serving   bool
	quiet     bool
	verbose   bool
	format    string
	noResolve bool
	noSplice  bool
	// mapped lists host names that --map points elsewhere.
	mapped   map[string]bool
	zeroWarn bool
	// diag prints .diag messages (-dD); dumpLibs and dumpKwd are -dL and -dK.
	diag     bool
	dumpLibs bool
	dumpKwd  string
	// lookup reads the environment, with HAProxy's own variables.
	lookup func(string) (string, bool)
	// mworker is -W or -Ws.
	mworker bool
	// msgs, when set, is the process's message writer, so that the
	// version notices come once.
	msgs *msgs
}

// checkFlags starts a check or run from the HAProxy flags.
func (a *haArgs) checkFlags() *checkFlags {
	return &checkFlags{diag: a.diag, dumpLibs: a.dumpLibs, dumpKwd: a.dumpKwd, lookup: a.lookupEnv, mworker: a.mworker}
}

// lookupEnv reads the environment as a configuration sees it: HAProxy sets
// HAPROXY_LOCALPEER to -L's name, or to the host name.
func (o *procOpts) lookupEnv(name string) (string, bool) {
	if name == "HAPROXY_LOCALPEER" {
		if o.localPeer != "" {
			return o.localPeer, true
		}
		h, err := os.Hostname()
		return h, err == nil
	}
	return os.LookupEnv(name)
}

// subcommands are gohap's own commands; any other first word is read as
// HAProxy reads it.
var subcommands = map[string]bool{"check": true, "run": true, "migrate": true, "version": true, "help": true, "completion": true}

// run dispatches gohap's subcommands (check, run, migrate, version) and
// HAProxy's own command line.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && subcommands[args[0]] {
		return execute(args, nil, stdout, stderr)
	}
	a, code, done := parseArgs(args, stdout, stderr)
	if done {
		return code
	}
	return a.run(stdout, stderr)
}

// run carries out a parsed HAProxy command line.
func (a *haArgs) run(stdout, stderr io.Writer) int {
	a.startDir, _ = os.Getwd()
	if a.chdir != "" {
		if err := os.Chdir(a.chdir); err != nil {
			(&msgs{w: stderr}).alert("Could not change to directory %s : %s", a.chdir, strerror(err))
			return 1
		}
	}
	if a.checkCond {
		if a.cond == nil {
			return usage(stdout, stderr)
		}
		return evalCondition(*a.cond, a.lookupEnv, stderr)
	}
	if len(a.files) == 0 {
		return usage(stdout, stderr)
	}
	argv := []string{"run"}
	if a.check {
		argv[0] = "check"
	}
	for _, f := range a.files {
		argv = append(argv, "--file="+f)
	}
	for _, o := range []struct {
		on   bool
		flag string
	}{{a.quiet, "-q"}, {a.verbose, "-V"}, {a.zeroWarn, "--zero-warning"}, {a.noResolve, "--no-resolve"}, {a.noSplice, "--no-splice"}} {
		if o.on {
			argv = append(argv, o.flag)
		}
	}
	return execute(append(argv, a.long...), a, stdout, stderr)
}

// strerror gives a system error as C's strerror() words it.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// execute runs a subcommand; p holds HAProxy's command line, nil for
// gohap's own subcommands.
func execute(args []string, p *haArgs, stdout, stderr io.Writer) int {
	if p == nil {
		p = &haArgs{}
	}
	root := newRoot(stdout, stderr, p)
	root.SetArgs(args)
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

func newRoot(stdout, stderr io.Writer, p *haArgs) *cobra.Command {
	root := &cobra.Command{
		Use:           "gohap",
		Short:         "A drop-in replacement for HAProxy",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCheck(stdout, stderr, p), newRun(stdout, stderr, p), newMigrate(stdout, stderr), newVersion(stdout))
	return root
}

func addCheckFlags(c *cobra.Command, f *checkFlags) {
	c.Flags().StringArrayVarP(&f.files, "file", "f", nil, "configuration file or directory (repeatable)")
	c.Flags().BoolVar(&f.compat, "haproxy-compat", false, "reject legacy 1.x syntax with HAProxy 2.6's messages (implies --haproxy-verdict)")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing, report through the exit code")
	c.Flags().BoolVarP(&f.verbose, "verbose", "V", false, "print messages even when 'quiet' is set")
	c.Flags().BoolVar(&f.noResolve, "no-resolve", false, "unresolvable server addresses only disable the server (haproxy -dr)")
	c.Flags().BoolVar(&f.noSplice, "no-splice", false, "never splice bodies through kernel pipes (haproxy -dS)")
	c.Flags().BoolVar(&f.zeroWarn, "zero-warning", false, "make warnings fatal (haproxy -dW)")
}

func newCheck(stdout, stderr io.Writer, p *haArgs) *cobra.Command {
	f := p.checkFlags()
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
	c.Flags().BoolVar(&f.verdict, "haproxy-verdict", false, "answer as haproxy -c: what gohap's runtime refuses only gets a notice")
	return c
}

func newRun(stdout, stderr io.Writer, p *haArgs) *cobra.Command {
	f := p.checkFlags()
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
			if p.argv == nil {
				// "gohap run" itself runs in the foreground, as -db: the
				// configuration's "daemon" applies to the HAProxy command
				// line only, which can start itself again.
				p.foreground = true
			}
			if code := serve(f, maps, &p.procOpts, stdout, stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	addCheckFlags(c, f)
	f.serving = true
	c.Flags().StringArrayVar(&maps, "map", nil, "use address TO where the configuration says FROM (FROM=TO; host:port or host), for binds and servers")
	return c
}

func newVersion(stdout io.Writer) *cobra.Command {
	var build bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		RunE: func(cmd *cobra.Command, args []string) error {
			printVersion(stdout, build)
			return nil
		},
	}
	c.Flags().BoolVar(&build, "build", false, "also print build options (haproxy -vv)")
	return c
}

// printVersion prints what -v prints, and -vv's build options when build.
func printVersion(w io.Writer, build bool) {
	fmt.Fprintf(w, "gohap version %s (HAProxy %s compatible) - https://github.com/gohap/gohap\n", Version, parser.HAProxyVersion)
	if build {
		fmt.Fprintf(w, "Build options :\n  Go implementation: TLS by Go's crypto/tls (feature OPENSSL: what it runs, not the library), no Lua, no QUIC.\n\nFeature list : %s\n", featureList())
	}
}

func pid() string { return fmt.Sprint(os.Getpid()) }

// dumps prints what -dL and -dKhelp ask for once the configuration is
// checked.
func dumps(f *checkFlags, stdout io.Writer) {
	if f.dumpLibs {
		dumpLibs(stdout)
	}
	if strings.Contains(","+f.dumpKwd+",", ",help,") {
		fmt.Fprint(stdout, kwdHelp)
	}
}

// isDiag tells a .diag message, which HAProxy prints only under -dD.
func isDiag(d parser.Diagnostic) bool { return d.Severity == parser.Notice && d.Hint == "diag" }

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

// runtimeRefusals compiles the graph as run does, without binding or
// resolving names, and returns what the runtime refuses, in run's order.
func runtimeRefusals(cfg *parser.Config) []error {
	any := func(string) (netip.Addr, error) { return netip.IPv4Unspecified(), nil }
	_, errs := runtime.Compile(cfg, runtime.Options{Resolve: any})
	return errs
}

// check runs parsing and checks and prints as haproxy -c; it returns the
// exit code. Unless f.verdict, it also fails on what run would refuse.
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
	cfg, diags := parser.Parse(inputs, parser.Options{Compat: f.compat, LookupEnv: f.lookup, Chdir: parser.Chdir})
	if d := cfg.DefaultPathReturn; d != "" && !f.serving {
		// default-path: the runtime's checks below load files from
		// there too; run goes back once it has compiled (loadConfig).
		defer os.Chdir(d)
	}
	diags = runtime.ParseChecks(cfg, diags)
	f.parsed = cfg
	type block struct {
		d     parser.Diagnostic
		plain bool // no "config :" label
	}
	verdict := f.verdict || f.compat
	var out []block
	add := func(d parser.Diagnostic) {
		// .diag lines print only in diagnostic mode (-dD); the notices of
		// what the runtime refuses give way to run's own alerts.
		if (isDiag(d) && !f.diag) || (!verdict && d.Hint == "unsupported") {
			return
		}
		out = append(out, block{d: d})
	}
	for _, d := range diags {
		add(d)
	}
	code := 0
	trailer := func(msg string) { out = append(out, block{d: parser.Diagnostic{Severity: parser.Alert, Msg: msg}}) }
	fatal := diags.HasErrors()
	var res runtime.Result
	switch {
	case cfg.Aborted:
		// HAProxy takes the parser's -1 for a file it could not read
		// (errno still 0).
		trailer("Could not open configuration file " + cfg.AbortedIn + " : Success")
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
		// Without verdict, the runtime's refusals are not notices: the
		// graph compiled below (or by run) says them.
		copts := runtime.CheckOptions{Compat: f.compat, NoResolve: f.noResolve, MasterWorker: f.mworker, NoRefusals: !verdict}
		if len(f.mapped) > 0 {
			copts.Resolve = func(h string) bool {
				if f.mapped[h] {
					return true
				}
				a, err := runtime.LookupHost(h)
				return err == nil && len(a) > 0
			}
		}
		res = runtime.Check(cfg, copts)
		for _, d := range res.Diags {
			add(d)
		}
		var refused []error
		if !verdict && !f.serving && !res.Diags.HasErrors() {
			refused = runtimeRefusals(cfg)
		}
		for _, e := range refused {
			out = append(out, block{d: parser.Diagnostic{Severity: parser.Alert, Fatal: true, Msg: e.Error()}})
		}
		if len(refused) > 0 {
			trailer("Fatal errors found in configuration.")
			code = 1
		} else if res.Diags.HasErrors() {
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
	if quiet && !f.quiet && !f.verbose {
		// The configuration's "quiet" silences HAProxy once its line is
		// read: what the lines before it caused is printed, and so is
		// what its own line caused first ("no quiet" is refused, then
		// read as "quiet").
		out = slices.DeleteFunc(out, func(b block) bool { return !upToLine(b.d.Pos, cfg.Global.QuietPos, inputs) })
		quiet = len(out) == 0
	}
	if quiet {
		return code
	}
	p := pid()
	warned := false
	m := f.msgs
	if m == nil {
		m = &msgs{w: stderr}
	}
	for _, b := range out {
		d := b.d
		if d.Severity == parser.Warning {
			warned = true
		}
		lbl := "[DIAG]    "
		if !isDiag(d) {
			lbl = label(d.Severity)
			// HAProxy's version notices come before its first non-diag line
			m.header()
		}
		fmt.Fprintf(stderr, "%s (%s) : config : %s", lbl, p, d.Text())
		if !d.Truncated {
			fmt.Fprintln(stderr)
		}
		for _, l := range d.Detail {
			fmt.Fprintln(stderr, l)
		}
	}
	if code == 0 || code == 2 {
		dumps(f, stdout)
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

// upToLine says p comes before q's line or on it in the reading order of
// inputs; a position without line comes after every line.
func upToLine(p, q parser.Pos, inputs []parser.Input) bool {
	if p.Line == 0 {
		return false
	}
	if p.File == q.File {
		return p.Line <= q.Line
	}
	for _, in := range inputs {
		switch in.Name {
		case p.File:
			return true
		case q.File:
			return false
		}
	}
	return false
}
