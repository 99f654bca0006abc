package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gohap/gohap/parser"
)

// procOpts are the command-line settings of the serving process.
type procOpts struct {
	pidfile string
	daemon  bool
	debug   bool // -d and other -d* HAProxy reads as debug mode
	// foreground is -db (and -Ws): like -d, it overrides the
	// configuration's "daemon".
	foreground bool
	quiet      bool
	verbose    bool
	oldPids    []int
	oldSig     syscall.Signal
	maxconn    int // -n: overrides the global maxconn
	maxpconn   int // -N: maxconn of proxies that set none
	memMax     int // -m, in MiB
	localPeer  string
	// argv and startDir start a -D daemon again as it was started.
	argv     []string
	startDir string
	// Master-worker options, not run yet.
	mworker, systemd bool
	masterCLI        []string
	oldSocket        string
	// noReusePort is -dR: listening sockets without SO_REUSEPORT.
	noReusePort bool
}

// reusePortOff tells whether -dR or "noreuseport" turns SO_REUSEPORT off.
func (o *procOpts) reusePortOff(cfg *parser.Config) bool {
	return o.noReusePort || cfg.Global.Process.NoReusePort
}

// haArgs is HAProxy's command line as src/haproxy.c init_args() reads it.
type haArgs struct {
	procOpts
	files     []string
	check     bool
	checkCond bool
	cond      *string // -cc's expression, nil when missing
	diag      bool
	zeroWarn  bool
	noResolve bool
	// noSplice is -dS: no kernel splicing.
	noSplice bool
	chdir    string
	dumpKwd  string
	dumpLibs bool
	// long holds gohap's own --options, which HAProxy does not have.
	long []string
}

// kwdClasses are the keyword classes -dK dumps (besides help).
var kwdClasses = map[string]bool{"all": true, "acl": true, "cfg": true, "cli": true, "cnv": true, "flt": true, "smp": true, "svc": true}

// kwdHelp is what -dKhelp prints.
const kwdHelp = `# List of supported keyword classes:
all: list all keywords
acl: ACL keywords
cfg: configuration keywords
cli: CLI keywords
cnv: sample converter keywords
flt: filter names
smp: sample fetch functions
svc: service names
`

// longWithValue lists gohap's long options that take the next word.
var longWithValue = map[string]bool{"--format": true, "--map": true, "--file": true}

// progName is the name usage() prints, as HAProxy prints argv[0]'s base.
func progName() string { return filepath.Base(os.Args[0]) }

// usage prints HAProxy's usage text under gohap's name and returns 1.
func usage(stdout, stderr io.Writer) int {
	printVersion(stdout, false)
	fmt.Fprintf(stderr, usageText, progName())
	return 1
}

const usageText = `Usage : %s [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dL dumps loaded object files after config checks
        -dK{class[,...]} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI

`

// msgs prints HAProxy's "[LABEL]    (PID) : " lines, preceded once by the
// version notices HAProxy prints before its first message.
type msgs struct {
	w       io.Writer
	started bool
	// diagOn shows the [DIAG] lines (-dD).
	diagOn bool
}

func (m *msgs) header() {
	if m.started {
		return
	}
	m.started = true
	exe, _ := os.Executable()
	io.WriteString(m.w, haLine("NOTICE", fmt.Sprintf("haproxy version is %s (gohap %s)", parser.HAProxyVersion, Version)))
	io.WriteString(m.w, haLine("NOTICE", "path to executable is "+exe))
}

func (m *msgs) alert(format string, a ...any) {
	m.header()
	io.WriteString(m.w, haLine("ALERT", fmt.Sprintf(format, a...)))
}

func (m *msgs) warning(format string, a ...any) {
	m.header()
	io.WriteString(m.w, haLine("WARNING", fmt.Sprintf(format, a...)))
}

// parseArgs reads HAProxy's command line. When it returns done, the
// command is over (version, usage, an error) with exit code code.
func parseArgs(args []string, stdout, stderr io.Writer) (a *haArgs, code int, done bool) {
	a = &haArgs{}
	a.oldSig = syscall.SIGUSR1
	a.argv = args
	m := &msgs{w: stderr}
	if !copyableArgs(args) {
		m.alert("failed to copy argv.")
		return nil, 1, true
	}
	pool := newPoolDebug()
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			return nil, usage(stdout, stderr), true
		}
		flag := arg[1:]
		at := func(n int) byte {
			if n < len(flag) {
				return flag[n]
			}
			return 0
		}
		f0, f1 := at(0), at(1)
		switch {
		case f0 == 'v':
			printVersion(stdout, f1 == 'v')
			return nil, 0, true
		case f0 == 'd' && f1 == 'R':
			a.noReusePort = true
		case f0 == 'd' && f1 == 'S':
			a.noSplice = true
		case f0 == 'd' && (f1 == 'e' || f1 == 'p' || f1 == 'G' || f1 == 'V'):
			// epoll, poll, getaddrinfo and server-side SSL
			// verification: gohap uses none of them, so each is off.
		case f0 == 'V':
			a.verbose = true
		case f0 == 'd' && f1 == 'b':
			a.foreground = true
		case f0 == 'd' && f1 == 'D':
			a.diag = true
		case f0 == 'd' && f1 == 'W':
			a.zeroWarn = true
		case f0 == 'd' && f1 == 'M':
			msg, c := pool.parse(flag[2:])
			switch {
			case c == -1:
				fmt.Fprintln(stdout, msg)
				return nil, 0, true
			case c < -1:
				m.alert("-dM: %s", msg)
				return nil, 1, true
			}
		case f0 == 'd' && f1 == 'r':
			a.noResolve = true
		case f0 == 'd' && f1 == 'L':
			a.dumpLibs = true
		case f0 == 'd' && f1 == 'K':
			a.dumpKwd = flag[2:]
			for _, c := range strings.Split(a.dumpKwd, ",") {
				if kwdClasses[c] {
					m.alert("-dK%s: dumping registered keywords is not supported by gohap yet.", c)
					return nil, 1, true
				}
			}
		case f0 == 'd':
			a.debug = true
		case f0 == 'c' && f1 == 'c':
			a.checkCond = true
			a.cond = nil
			if i+1 < len(args) {
				i++
				a.cond = &args[i]
			}
		case f0 == 'c':
			a.check = true
		case f0 == 'D':
			a.daemon = true
		case f0 == 'W' && f1 == 's':
			a.mworker, a.systemd, a.foreground = true, true, true
		case f0 == 'W':
			a.mworker = true
		case f0 == 'q':
			a.quiet = true
		case f0 == 'x':
			if i+1 >= len(args) {
				m.alert("Unix socket path expected with the -x flag\n")
				return nil, usage(stdout, stderr), true
			}
			if a.oldSocket != "" {
				m.warning("-x option already set, overwriting the value")
			}
			i++
			a.oldSocket = args[i]
		case f0 == 'S':
			if i+1 >= len(args) {
				m.alert("Socket and optional bind parameters expected with the -S flag")
				return nil, usage(stdout, stderr), true
			}
			i++
			a.masterCLI = append(a.masterCLI, args[i])
		case f0 == 's' && (f1 == 'f' || f1 == 't'):
			a.oldSig = syscall.SIGUSR1
			if f1 == 't' {
				a.oldSig = syscall.SIGTERM
			}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				p, msg := parsePid(args[i])
				if msg != "" {
					m.alert("-%-2s option: %s", flag, msg)
					return nil, 1, true
				}
				if p <= 0 {
					return nil, usage(stdout, stderr), true
				}
				a.oldPids = append(a.oldPids, p)
			}
		case flag == "-":
			a.files = append(a.files, args[i+1:]...)
			i = len(args)
		case f0 == '-':
			// gohap's own long options
			a.long = append(a.long, arg)
			if longWithValue[arg] && i+1 < len(args) {
				i++
				a.long = append(a.long, args[i])
			}
		default:
			if i+1 >= len(args) {
				return nil, usage(stdout, stderr), true
			}
			i++
			v := args[i]
			switch f0 {
			case 'C':
				a.chdir = v
			case 'n':
				a.maxconn = parser.Atol(v)
			case 'm':
				a.memMax = parser.Atol(v)
			case 'N':
				a.maxpconn = parser.Atol(v)
			case 'L':
				a.localPeer = v
			case 'f':
				a.files = append(a.files, v)
			case 'p':
				a.pidfile = v
			default:
				return nil, usage(stdout, stderr), true
			}
		}
	}
	return a, 0, false
}

// copyableArgs is HAProxy's copy_argv() check, made before the real
// parse: a flag that takes a value may not be the last word.
func copyableArgs(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if a == "--" {
			return true
		}
		flag := a[1:] + "\x00\x00"
		switch flag[0] {
		case 's':
			i++
			if flag[1] == 'f' || flag[1] == 't' {
				for i < len(args) && !strings.HasPrefix(args[i], "-") {
					i++
				}
			}
			i--
		case 'x':
			i++
		case 'C', 'n', 'm', 'N', 'L', 'f', 'p', 'S':
			if i+1 >= len(args) {
				return false
			}
			i++
		}
	}
	return true
}

// parsePid reads a pid as strtol does for -sf/-st, with HAProxy's errors.
func parsePid(s string) (int, string) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	j := 0
	if j < len(t) && (t[j] == '+' || t[j] == '-') {
		j++
	}
	k := j
	for k < len(t) && t[k] >= '0' && t[k] <= '9' {
		k++
	}
	if k == j {
		// no digits: strtol consumes nothing
		if t != "" {
			return 0, fmt.Sprintf("some bytes unconsumed in PID list {%s}", t)
		}
		return 0, ""
	}
	n, err := strconv.ParseInt(t[:k], 10, 64)
	if err != nil {
		return 0, fmt.Sprintf("failed to parse {%s}: Numerical result out of range", s)
	}
	if rest := strings.TrimLeft(t[k:], " \t\n\v\f\r"); rest != "" {
		return 0, fmt.Sprintf("some bytes unconsumed in PID list {%s}", t[k:])
	}
	return int(int32(n)), ""
}

// poolDebug follows -dM's syntax (src/pool.c pool_parse_debugging). Go's
// allocator has no pools to poison or tag, so the settings change nothing.
type poolDebug struct{ set map[string]bool }

// poolOptions are -dM's keywords: set, clear, description.
var poolOptions = [][3]string{
	{"fail", "no-fail", "randomly fail allocations"},
	{"no-merge", "merge", "disable merging of similar pools"},
	{"cold-first", "hot-first", "pick cold objects first"},
	{"integrity", "no-integrity", "enable cache integrity checks"},
	{"no-global", "global", "disable global shared cache"},
	{"no-cache", "cache", "disable thread-local cache"},
	{"caller", "no-caller", "save caller information in cache"},
	{"tag", "no-tag", "add tag at end of allocated objects"},
	{"poison", "no-poison", "poison newly allocated objects"},
}

// newPoolDebug starts from the defaults of Debian's haproxy build.
func newPoolDebug() *poolDebug {
	return &poolDebug{set: map[string]bool{"no-global": true, "tag": true}}
}

// parse returns HAProxy's codes: 1 ok, -1 help (msg for stdout), -2 error.
func (p *poolDebug) parse(s string) (string, int) {
	num, rest, _ := strings.Cut(s, ",")
	if v, err := strconv.ParseInt(num, 0, 64); err == nil || num == "" {
		p.set["poison"] = num == "" || v >= 0
		s = rest
	}
	next := map[string]bool{}
	for k, v := range p.set {
		next[k] = v
	}
	for _, feat := range strings.Split(s, ",") {
		if feat == "" {
			continue
		}
		if feat == "help" {
			return p.help(), -1
		}
		found := false
		for _, o := range poolOptions {
			if feat == o[0] || feat == o[1] {
				next[o[0]] = feat == o[0]
				found = true
				break
			}
		}
		if !found {
			return fmt.Sprintf("unknown pool debugging feature <%s>", feat), -2
		}
	}
	p.set = next
	return "", 1
}

func (p *poolDebug) help() string {
	var b strings.Builder
	b.WriteString("-dM alone enables memory poisonning with byte 0x50 on allocation. A numeric\n" +
		"value may be appended immediately after -dM to use another value (0 supported).\n" +
		"Then an optional list of comma-delimited keywords may be appended to set or\n" +
		"clear some debugging options ('*' marks the current setting):\n\n" +
		"    set               clear            description\n" +
		"  -----------------+-----------------+-----------------------------------------\n")
	for _, o := range poolOptions {
		on, off := ' ', '*'
		if p.set[o[0]] {
			on, off = '*', ' '
		}
		fmt.Fprintf(&b, "  %c %-15s|%c %-15s| %s\n", on, o[0], off, o[1], o[2])
	}
	return b.String()
}
