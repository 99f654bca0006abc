package runtime_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// compileErr parses and compiles a configuration and returns the
// compile errors, joined.
func compileErr(t *testing.T, text string) string {
	t.Helper()
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		return diags.Error()
	}
	_, errs := runtime.Compile(cfg, runtime.Options{})
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

// cliSend sends one request to a CLI socket as vtest does (write, then
// half-close) and reads the answer until the CLI closes.
func cliSend(t *testing.T, network, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: %v", req, err)
	}
	return string(b)
}

// cliCfg has every server form whose state gohap reports, with proxy
// ids that HAProxy shifts: a forced id, then the GLOBAL proxy of the
// stats socket declared between two proxies.
const cliCfg = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    default_backend be1
backend be1
    id 10
    server srv1 127.0.0.1:18081 weight 0
    server srv2 127.0.0.1:18082 weight 5 disabled id 3
    server srv3 nosuchhost.invalid:80 init-addr none
    server srv4 [::1]:18087 port 9999 addr 127.0.0.2
    server srv5 127.0.0.1:18088 backup
    server srv6 localhost:18089 rise 5
    server srv7 127.0.0.1:18090 check disabled
global
    stats socket %s level admin mode 600
backend be2
    balance leastconn
    server s1 127.0.0.1:18083
    server s2 127.0.0.1:18084 id 7
frontend fe2
    bind %s
    default_backend be2
listen li
    bind %s
    server x 127.0.0.1:18086
`

// sinceChange masks srv_time_since_last_change, the only field of "show
// servers state" that depends on when the answer is asked.
var sinceChange = regexp.MustCompile(`(?m)^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ `)

// TestCLIDifferential: on the same configuration, gohap's CLI answers
// every command it implements as HAProxy 2.6 does, byte for byte (the
// seconds since the last state change aside), and its help lists
// HAProxy's own help lines.
func TestCLIDifferential(t *testing.T) {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		t.Skip("HAPROXY_BIN is not set: no HAProxy to compare the CLI with")
	}
	cfgFor := func(sock string) (string, string) {
		fe := freePort(t)
		return fmt.Sprintf(cliCfg, fe, sock, freePort(t), freePort(t)), fe
	}
	hsock := filepath.Join(t.TempDir(), "h.sock")
	text, fe := cfgFor(hsock)
	startHAProxy(t, text, fe)
	gsock := filepath.Join(t.TempDir(), "g.sock")
	text, _ = cfgFor(gsock)
	e := startGohap(t, text, nil)
	if a := e.CLIAddrs(); len(a) != 1 || a[0].String() != gsock {
		t.Fatalf("CLI addresses %v", a)
	}
	for _, req := range []string{
		"show servers state\n",
		"show servers state be1\n",
		"show servers state   li\n",
		"show servers state #10\n",
		"show servers state #4\n",
		"show servers state fe\n",
		"show servers state nope\n",
		"show servers state #abc\n",
		"show backend\n",
		"show cli level\n",
		"user;show cli level;operator\n",
		"operator\nshow cli level\n",
		"prompt\nshow cli level\n",
		"show backend;quit;show cli level\n",
		"show cli level\r\n",
		"sh\\ow backend\n",
		"show servers state",
	} {
		want := sinceChange.ReplaceAllString(cliSend(t, "unix", hsock, req), "$1 T ")
		got := sinceChange.ReplaceAllString(cliSend(t, "unix", gsock, req), "$1 T ")
		if got != want {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", req, got, want)
		}
	}
	help := cliSend(t, "unix", hsock, "help\n")
	ghelp := cliSend(t, "unix", gsock, "help\n")
	for _, l := range strings.Split(ghelp, "\n") {
		if !strings.Contains(help, l+"\n") {
			t.Errorf("help line %q is not HAProxy's", l)
		}
	}
	// An unknown command gets HAProxy's heading and the help lines.
	for req, head := range map[string]string{
		"\n":           "Unknown command. Please enter one of the following commands only:\n",
		"foo\n":        "Unknown command, but maybe one of the following ones is a better match:\n",
		"show nope\n":  "Unknown command, but maybe one of the following ones is a better match:\n",
		"help show\n":  "The following commands are valid at this level:\n",
		"help nope\n":  "The following commands are valid at this level:\n",
		"show servers": "",
	} {
		want, got := cliSend(t, "unix", hsock, req), cliSend(t, "unix", gsock, req)
		if !strings.HasPrefix(want, head) || !strings.HasPrefix(got, head) || !strings.HasSuffix(got, "  quit                                    : disconnect\n\n") && head != "" {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", req, got, want)
		}
	}
}

// TestCLIRefusedForms: a stats socket form or option the CLI does not
// serve is refused by run, never accepted and ignored.
func TestCLIRefusedForms(t *testing.T) {
	for _, line := range []string{
		"stats socket /tmp/x.sock level admin accept-proxy",
	} {
		err := compileErr(t, "global\n    "+line+"\nlisten li\n    bind 127.0.0.1:8999\n    server x 127.0.0.1:1\n")
		if !strings.Contains(err, "'stats' is not supported by the gohap runtime yet.") {
			t.Errorf("%s: %q", line, err)
		}
	}
}

// TestCLIStatsHarnessForm: the built binary serves the CLI on the
// sockets the reg-test harness adds to every configuration, a unix
// socket with a mode and an inherited listening descriptor ("fd@N" from
// the environment), and stops on SIGINT.
func TestCLIStatsHarnessForm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gohap")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gohap").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sock := filepath.Join(dir, "stats.sock")
	cfg := fmt.Sprintf(`global
    stats socket "%s" level admin mode 600
    stats socket "fd@${cli}" level admin
global
    nbthread 1
defaults
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe1
    bind "%s"
    default_backend be1
backend be1
    server srv1 127.0.0.1:1
`, sock, freePort(t))
	path := filepath.Join(dir, "cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	cmd := exec.Command(bin, "-d", "-f", path)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(os.Environ(), "cli=3")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer cmd.Process.Kill()
	// As under vtest, nothing tells when the binary is ready: the
	// connection waits in the inherited socket's backlog.
	got := cliSend(t, "tcp", addr, "show servers state\n")
	want := "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n" +
		"3 be1 1 srv1 127.0.0.1 2 0 1 1 T 1 0 2 0 0 0 0 - 1 - 0 0 - - 0\n\n"
	if got = sinceChange.ReplaceAllString(got, "$1 T "); got != want {
		t.Fatalf("fd@ socket:\n%s\nwant:\n%s\noutput:\n%s", got, want, out)
	}
	if got := cliSend(t, "unix", sock, "show cli level\n"); got != "admin\n\n" {
		t.Fatalf("unix socket: %q", got)
	}
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", st, err)
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		// HAProxy dies by SIGINT.
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
			t.Fatalf("exit after SIGINT: %v\n%s", err, out)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("still running 2s after SIGINT\n%s", out)
	}
}

// TestCLIStatsSocketFD: an "fd@" stats socket is checked as HAProxy's
// str2sa_range checks it: a number, and an open socket.
func TestCLIStatsSocketFD(t *testing.T) {
	for addr, want := range map[string]string{
		"fd@abc": "'stats socket' : file descriptor 'abc' is not a valid integer in 'fd@abc'",
		"fd@-1":  "'stats socket' : file descriptor '-1' is not a valid integer in 'fd@-1'",
		"fd@":    "'stats socket' : file descriptor '' is not a valid integer in 'fd@'",
		"fd@999": "'stats socket' : cannot use file descriptor '999' : Bad file descriptor.",
	} {
		err := compileErr(t, "global\n    stats socket "+addr+" level admin\nlisten li\n    bind 127.0.0.1:8999\n    server x 127.0.0.1:1\n")
		if !strings.Contains(err, want) {
			t.Errorf("%s: %q", addr, err)
		}
	}
}
