package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

func parseCLI(args ...string) (a *haArgs, code int, done bool, stdout, stderr string) {
	var o, e bytes.Buffer
	a, code, done = parseArgs(args, &o, &e)
	return a, code, done, o.String(), e.String()
}

func TestParseArgs(t *testing.T) {
	cond := "feature(THREAD)"
	for _, tc := range []struct {
		args []string
		want func(*haArgs)
	}{
		{[]string{"-f", "a.cfg", "-f", "dir", "--", "b.cfg", "-c"}, func(a *haArgs) { a.files = []string{"a.cfg", "dir", "b.cfg", "-c"} }},
		{[]string{"-c", "-q", "-V"}, func(a *haArgs) { a.check, a.quiet, a.verbose = true, true, true }},
		{[]string{"-d"}, func(a *haArgs) { a.debug = true }},
		{[]string{"-dk", "-dv", "-dx"}, func(a *haArgs) { a.debug = true }}, // not compiled on Linux: debug mode, as haproxy
		{[]string{"-db", "-de", "-dp", "-dS", "-dG", "-dR", "-dV"}, func(a *haArgs) { a.noReusePort, a.foreground, a.noSplice = true, true, true }},
		{[]string{"-D", "-p", "/run/x.pid"}, func(a *haArgs) { a.daemon, a.pidfile = true, "/run/x.pid" }},
		{[]string{"-W"}, func(a *haArgs) { a.mworker = true }},
		{[]string{"-Ws"}, func(a *haArgs) { a.mworker, a.systemd, a.foreground = true, true, true }},
		{[]string{"-S", "/run/m.sock,mode,600", "-S", "fd@3"}, func(a *haArgs) { a.masterCLI = []string{"/run/m.sock,mode,600", "fd@3"} }},
		{[]string{"-x", "/run/old.sock"}, func(a *haArgs) { a.oldSocket = "/run/old.sock" }},
		{[]string{"-sf", "12", " 34 ", "-f", "x"}, func(a *haArgs) { a.oldPids, a.files = []int{12, 34}, []string{"x"} }},
		{[]string{"-st", "7", "-sf", "8"}, func(a *haArgs) { a.oldPids, a.oldSig = []int{7, 8}, syscall.SIGUSR1 }},
		{[]string{"-st", "7"}, func(a *haArgs) { a.oldPids, a.oldSig = []int{7}, syscall.SIGTERM }},
		{[]string{"-sf"}, func(a *haArgs) {}},
		{[]string{"-L", "peer1", "-N", "100", "-n", "2000", "-m", "512x", "-C", "/etc"}, func(a *haArgs) {
			a.localPeer, a.maxpconn, a.maxconn, a.memMax, a.chdir = "peer1", 100, 2000, 512, "/etc"
		}},
		{[]string{"-dD", "-dW", "-dr", "-dL", "-dKhelp"}, func(a *haArgs) {
			a.diag, a.zeroWarn, a.noResolve, a.dumpLibs, a.dumpKwd = true, true, true, true, "help"
		}},
		{[]string{"-dM", "-dM0x41,no-cache,poison", "-dM-1"}, func(a *haArgs) {}},
		{[]string{"-cc", cond, "-c"}, func(a *haArgs) { a.checkCond, a.cond, a.check = true, &cond, true }},
		{[]string{"-cc"}, func(a *haArgs) { a.checkCond = true }},
		{[]string{"-fconfig", "x.cfg", "-pid", "p"}, func(a *haArgs) { a.files, a.pidfile = []string{"x.cfg"}, "p" }}, // haproxy reads only the first letter
		{[]string{"--haproxy-compat", "--map", "a=b", "--format=json"}, func(a *haArgs) { a.long = []string{"--haproxy-compat", "--map", "a=b", "--format=json"} }},
	} {
		got, code, done, _, errOut := parseCLI(tc.args...)
		if done {
			t.Errorf("%q: stopped with %d\n%s", tc.args, code, errOut)
			continue
		}
		want := &haArgs{}
		want.oldSig = syscall.SIGUSR1
		want.argv = tc.args
		tc.want(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, want)
		}
	}
}

// TestCommandLineErrors runs command lines that end before any config.
func TestCommandLineErrors(t *testing.T) {
	usageStart := "Usage : " + progName() + " [-f <cfgfile|cfgdir>]*"
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string // substrings; errs "usage" means the usage text
	}{
		{[]string{"-v"}, 0, "gohap version", ""},
		{[]string{"-vv"}, 0, "Feature list :", ""},
		{[]string{"-Z"}, 1, "gohap version", "usage"},
		{[]string{"-f"}, 1, "", ": failed to copy argv.\n"},
		{[]string{"-sf", "1", "-L"}, 1, "", ": failed to copy argv.\n"},
		{[]string{"-sf", "1", "2", "-f", "x", "-cc"}, 1, "", "usage"},
		{[]string{"-"}, 1, "", "usage"},
		{[]string{"-k", "x"}, 1, "", "usage"},
		{[]string{"-s", "x"}, 1, "", "usage"},
		{[]string{"-c", "haproxy.cfg"}, 1, "", "usage"},
		{[]string{"-x"}, 1, "", "Unix socket path expected with the -x flag\n\nUsage"},
		{[]string{"-S"}, 1, "", ": failed to copy argv.\n"}, // copy_argv() fails first
		{[]string{"-cc", "-f"}, 1, "", ": failed to copy argv.\n"},
		{[]string{"-x", "-f"}, 1, "", "usage"},
		{[]string{"-sf", "0"}, 1, "", "usage"},
		{[]string{"-sf", "-3"}, 1, "", "usage"}, // a dash ends the pid list: -3 is then an unknown flag
		{[]string{"-sf", "12abc"}, 1, "", "[ALERT]    (" + pid() + ") : -sf option: some bytes unconsumed in PID list {abc}\n"},
		{[]string{"-st", "x"}, 1, "", ": -st option: some bytes unconsumed in PID list {x}\n"},
		{[]string{"-sf", "99999999999999999999"}, 1, "", ": -sf option: failed to parse {99999999999999999999}: Numerical result out of range\n"},
		{[]string{"-dMfoo"}, 1, "", ": -dM: unknown pool debugging feature <foo>\n"},
		{[]string{"-dM12abc"}, 1, "", ": -dM: unknown pool debugging feature <12abc>\n"},
		{[]string{"-dMno-tag,help"}, 0, "  * tag            |  no-tag         | add tag", ""},
		{[]string{"-dKcfg"}, 1, "", "-dKcfg: dumping registered keywords is not supported by gohap yet."},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s", tc.args, code, tc.code, errOut)
			continue
		}
		if !strings.Contains(out, tc.stdout) {
			t.Errorf("%q: stdout %q lacks %q", tc.args, out, tc.stdout)
		}
		want := strings.Replace(tc.errs, "Usage", usageStart, 1)
		if tc.errs == "usage" {
			want = usageStart
		}
		if !strings.Contains(errOut, want) {
			t.Errorf("%q: stderr lacks %q:\n%s", tc.args, want, errOut)
		}
		if strings.Contains(want, "[ALERT]") && !strings.HasPrefix(errOut, "[NOTICE]   (") {
			t.Errorf("%q: no version notice before the first alert:\n%s", tc.args, errOut)
		}
	}
}

// haproxyOut runs the reference haproxy.
func haproxyOut(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, o.String(), e.String()
}

// refHAProxy is the reference binary named by HAPROXY_BIN.
func refHAProxy(t *testing.T) string {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		t.Skip("HAPROXY_BIN is not set: no reference haproxy to compare with")
	}
	return bin
}

// TestUsageAsHAProxy compares the usage text and the -dM help with the
// reference binary's, program name aside.
func TestUsageAsHAProxy(t *testing.T) {
	bin := refHAProxy(t)
	for _, args := range [][]string{{"-Z"}, {"-c"}, {"-f"}, {"x"}, {"-sf", "0"}, {"-x"}, {"-S"}, {"-cc"}} {
		hcode, hout, herr := haproxyOut(t, bin, args...)
		code, out, errOut := runCLI(args...)
		herr = strings.Replace(herr, "Usage : "+filepath.Base(bin)+" ", "Usage : "+progName()+" ", 1)
		if code != hcode || noPid(errOut) != noPid(herr) {
			t.Errorf("%q: exit %d, haproxy %d; stderr:\n%s\nhaproxy's:\n%s", args, code, hcode, errOut, herr)
		}
		if (out == "") != (hout == "") {
			t.Errorf("%q: stdout %q, haproxy's %q", args, out, hout)
		}
	}
	for _, arg := range []string{"-dMhelp", "-dMno-tag,poison,help", "-dM0,help"} {
		hcode, hout, _ := haproxyOut(t, bin, arg)
		code, out, _ := runCLI(arg)
		if code != hcode || out != hout {
			t.Errorf("%s: exit %d stdout\n%s\nhaproxy: exit %d\n%s", arg, code, out, hcode, hout)
		}
	}
}

// noPid drops the version notices and pids, which differ between binaries.
func noPid(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "[NOTICE]") {
			continue
		}
		if i := strings.Index(l, ") : "); i > 0 && strings.HasPrefix(l, "[") {
			l = l[:strings.Index(l, "(")] + l[i+2:]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestRunStopsOnCommandLine(t *testing.T) {
	dir := t.TempDir()
	cfg := writeCfg(t, dir, "ok.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend fe\n bind 127.0.0.1:18080\n default_backend be\nbackend be\n server s 127.0.0.1:1\n")
	for _, tc := range []struct {
		args []string
		code int
		errs string
	}{
		{[]string{"-x", filepath.Join(dir, "none.sock"), "-f", cfg}, 1, "[WARNING]  (" + pid() + ") : Failed to connect to the old process socket '" + filepath.Join(dir, "none.sock") + "'\n[ALERT]    (" + pid() + ") : Failed to get the sockets from the old process!\n"},
		{[]string{"-C", filepath.Join(dir, "nope"), "-f", cfg}, 1, "Could not change to directory " + filepath.Join(dir, "nope") + " : No such file or directory"},
		// Debian's ExecStartPre: -Ws does not matter to a check.
		{[]string{"-Ws", "-f", cfg, "-c", "-q", "-S", "/run/haproxy-master.sock"}, 0, ""},
		{[]string{"-c", "-dKhelp", "-f", cfg}, 0, ""},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.errs) {
			t.Errorf("%q: exit %d, want %d with %q\n%s", tc.args, code, tc.code, tc.errs, errOut)
		}
	}
	if _, out, _ := runCLI("-c", "-dKhelp", "-f", cfg); !strings.HasPrefix(out, kwdHelp) {
		t.Errorf("-dKhelp: %q", out)
	}
	if _, out, _ := runCLI("-c", "-dL", "-f", cfg); !strings.HasPrefix(out, "List of loaded object files:\n") {
		t.Errorf("-dL: %q", out)
	}
}

// TestChdirBeforeReading runs -C: relative configuration paths are read
// from that directory.
func TestChdirBeforeReading(t *testing.T) {
	dir := t.TempDir()
	writeCfg(t, dir, "rel.cfg", "frontend fe\n bind 127.0.0.1:18080\n timeout client 1s\n")
	t.Chdir(t.TempDir())
	if code, out, errOut := runCLI("-C", dir, "-c", "-f", "rel.cfg"); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("exit %d %q\n%s", code, out, errOut)
	}
}

func TestDiagOnlyWithDD(t *testing.T) {
	f := writeCfg(t, t.TempDir(), "d.cfg", ".diag \"look\"\nfrontend fe\n bind 127.0.0.1:18080\n timeout client 1s\n")
	code, _, errOut := runCLI("-c", "-f", f)
	if code != 0 || errOut != "" {
		t.Errorf("without -dD: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI("-c", "-dD", "-f", f)
	want := "[DIAG]     (" + pid() + ") : config : parsing [" + f + ":1]: 'look'.\n"
	if code != 0 || errOut != want {
		t.Errorf("with -dD: exit %d\n%q\nwant %q", code, errOut, want)
	}
}

func TestLocalPeerEnv(t *testing.T) {
	if code, _, _ := runCLI("-L", "edge1", "-cc", `streq("$HAPROXY_LOCALPEER",edge1)`); code != 0 {
		t.Errorf("-L edge1: exit %d", code)
	}
	host, _ := os.Hostname()
	if code, _, _ := runCLI("-cc", `streq("${HAPROXY_LOCALPEER}",`+host+`)`); code != 0 {
		t.Errorf("default local peer: exit %d, want the host name %q", code, host)
	}
}

// TestLimits applies -n and -N: -N is the maxconn of frontends that set
// none, -n the global one.
func TestLimits(t *testing.T) {
	cfg, _ := parser.Parse([]parser.Input{{Name: "l.cfg", Data: []byte("global\n maxconn 500\ndefaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n" +
		"frontend a\n bind 127.0.0.1:18080\n default_backend be\nfrontend b\n bind 127.0.0.1:18081\n maxconn 7\n default_backend be\nbackend be\n server s 127.0.0.1:1\n")}}, parser.Options{})
	o := &procOpts{maxconn: 40, maxpconn: 30}
	o.applyLimits(cfg)
	g, errs := runtime.Compile(cfg, runtime.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if g.Maxconn != 40 || g.Frontends[0].Maxconn != 30 || g.Frontends[1].Maxconn != 7 {
		t.Errorf("global %d, a %d, b %d; want 40, 30, 7", g.Maxconn, g.Frontends[0].Maxconn, g.Frontends[1].Maxconn)
	}
}

// TestMemoryLimit applies -m as the Go runtime's memory limit.
func TestMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	(&procOpts{memMax: 300}).limitMemory()
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("memory limit %d, want %d", got, 300<<20)
	}
	(&procOpts{}).limitMemory()
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("no -m changed the limit to %d", got)
	}
}
