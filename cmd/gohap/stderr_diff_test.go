package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gohap/gohap/examples/echo"
)

// The stderr scenarios run HAProxy and gohap in turn on the same
// configuration, drive them the same way over real sockets and signals,
// and compare what each process prints on its standard error. Processes
// are told apart by role (the started one, then its workers in the order
// the master forks them), since lines from different processes interleave
// as the scheduler pleases; within a process the order must match.

// stderrRig is one binary's run of a scenario.
type stderrRig struct {
	t    *testing.T
	p    *proc
	addr string
	// addr2 and addr3 are the addresses of {ADDR2} and {ADDR3}.
	addr2, addr3 string
	cfg          string
	up           string
	// sock is {SOCK}: the master CLI's socket, or a stats socket.
	sock string
}

// stderrScenario drives a run: cfg is a configuration template with
// {ADDR} (the proxy's bind), {UP} (the server's address, where nothing
// listens unless the scenario starts something there), {ADDR2} to
// {ADDR4} (more free addresses), {DIR} (a directory of the run's own)
// and {SOCK} (a unix socket path in it).
type stderrScenario struct {
	name string
	args []string
	cfg  string
	run  func(r *stderrRig)
	// keep, when set, keeps only the lines it accepts on both sides.
	keep func(line string) bool
}

const stderrDefaults = "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"

const checkedCfg = stderrDefaults + "frontend fe\n bind {ADDR}\n default_backend be\n" +
	"backend be\n server s1 {UP} check inter 100 fall 1 rise 1\n"

func TestStderrAsHAProxy(t *testing.T) {
	ref := refHAProxy(t)
	gh, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range stderrScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			want := stderrRun(t, ref, sc)
			got := stderrRun(t, gh, sc)
			if len(want) == 0 && !strings.HasPrefix(sc.name, "quiet") {
				t.Fatalf("haproxy printed nothing: the scenario tests nothing")
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(flatRoles(got), "\n"), strings.Join(flatRoles(want), "\n"))
			}
		})
	}
}

func stderrScenarios() []stderrScenario {
	return []stderrScenario{
		{name: "checks-and-soft-stop", cfg: checkedCfg, run: func(r *stderrRig) {
			r.waitLine("backend 'be' has no server available!", 1)
			up, err := echo.Start("s1", r.up)
			if err != nil {
				r.t.Fatal(err)
			}
			defer up.Close()
			r.waitLine("Server be/s1 is UP", 1)
			waitServing(r.t, r.addr, "s1", r.p)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "checks-rise-fall", cfg: strings.Replace(checkedCfg, "fall 1 rise 1", "fall 2 rise 2", 1), run: func(r *stderrRig) {
			r.waitLine("backend 'be' has no server available!", 1)
			up, err := echo.Start("s1", r.up)
			if err != nil {
				r.t.Fatal(err)
			}
			defer up.Close()
			r.waitLine("Server be/s1 is UP", 1)
			r.stop(syscall.SIGTERM)
		}},
		{name: "sigterm", cfg: checkedCfg, run: func(r *stderrRig) {
			r.waitLine("has no server available!", 1)
			r.stop(syscall.SIGTERM)
		}},
		{name: "sigint-debug", args: []string{"-d"}, cfg: checkedCfg, run: func(r *stderrRig) {
			r.waitLine("has no server available!", 1)
			r.stop(syscall.SIGINT)
		}, keep: func(l string) bool {
			// -d's lists of pollers and filters are not compared: they
			// describe HAProxy's build.
			return stderrLineRe.MatchString(l) || strings.HasPrefix(l, "Note: ") || strings.HasPrefix(l, "Using ")
		}},
		{name: "quiet", args: []string{"-q"}, cfg: checkedCfg, run: func(r *stderrRig) {
			r.ready()
			// The check fails at once; give it time to be printed.
			time.Sleep(500 * time.Millisecond)
			r.signal(syscall.SIGHUP)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "quiet-keyword", cfg: "global\n quiet\n" + checkedCfg, run: func(r *stderrRig) {
			r.ready()
			time.Sleep(500 * time.Millisecond)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "pause-resume", cfg: checkedCfg, run: func(r *stderrRig) {
			r.waitLine("has no server available!", 1)
			r.pauseResume()
			r.stop(syscall.SIGUSR1)
		}},
		{name: "pause-resume-order", cfg: stderrDefaults + "frontend f1\n bind {DIR}/u1.sock\n default_backend be\n" +
			"frontend f2\n bind {ADDR}\n default_backend be\n" +
			"listen l3\n bind {DIR}/u3.sock\n bind {ADDR2}\n server s1 {UP}\n" +
			"frontend f4\n bind {ADDR3}\n default_backend be\n" +
			"backend be\n server s1 {UP}\n", run: func(r *stderrRig) {
			r.serving()
			r.pauseResume()
			r.stop(syscall.SIGTERM)
		}},
		{name: "peers-pause", args: []string{"-L", "LOCAL"}, cfg: stderrDefaults + "frontend f1\n bind {ADDR}\n default_backend be\n" +
			"peers mypeers\n peer LOCAL {ADDR2}\n peer other {ADDR4}\n" +
			"backend be\n stick-table type ip size 10 peers mypeers\n server s1 {UP}\n" +
			"listen l3\n bind {ADDR3}\n server s1 {UP}\n", run: func(r *stderrRig) {
			r.serving()
			r.peerHello("200\n")
			// The local peer's listener pauses with the proxies: a peer
			// is refused, then served again.
			r.signal(syscall.SIGTTOU)
			r.peerHello("refused")
			r.signal(syscall.SIGTTIN)
			r.peerHello("200\n")
			r.stop(syscall.SIGUSR1)
		}},
		{name: "sighup", cfg: checkedCfg, run: func(r *stderrRig) {
			r.waitLine("has no server available!", 1)
			r.signal(syscall.SIGHUP)
			r.waitLine("SIGHUP: Server be/s1 is DOWN", 1)
			r.stop(syscall.SIGTERM)
		}},
		{name: "checkcache", cfg: stderrDefaults + "frontend fe\n bind {ADDR}\n default_backend be\n" +
			"backend be\n option checkcache\n server s1 {UP}\n", run: func(r *stderrRig) {
			cacheableCookieServer(r.t, r.up)
			r.ready()
			get(r.addr)
			r.waitLine("Blocking cacheable cookie", 1)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "sighup-counts", cfg: "global\n stats socket {SOCK}\n" + stderrDefaults +
			"frontend fe\n bind {ADDR}\n default_backend be\n" +
			"listen l2\n bind {ADDR2}\n server s2 {UP}\n" +
			"backend be\n server s1 {UP}\n server s3 {UP} backup\n" +
			"backend bk\n server d1 {ADDR4} check inter 100 fall 1 rise 1\n server d2 {UP} backup\n" +
			"backend empty\n" +
			// Disabled proxies are dumped as configured, never stopped.
			"frontend f0\n disabled\n bind {ADDR3}\n default_backend be\n" +
			"backend off\n disabled\n server o1 {UP} check\n server o2 {UP} disabled\n server o3 {UP} backup\n", run: func(r *stderrRig) {
			up, err := echo.Start("s1", r.up)
			if err != nil {
				r.t.Fatal(err)
			}
			defer up.Close()
			r.waitLine("Server bk/d1 is DOWN", 1)
			r.ready()
			for _, a := range []string{r.addr, r.addr, r.addr2} {
				r.exchange(a, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 ")
			}
			masterCmd(r.t, r.sock, "show info")
			// The client saw the end of each exchange; the proxy may
			// still be closing its side (a lingering close), which
			// counts the connection as active until it is done.
			time.Sleep(100 * time.Millisecond)
			r.signal(syscall.SIGHUP)
			r.waitLine("SIGHUP: Proxy <HTTPCLIENT>", 1)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "stats-sockets-pause-stop", cfg: stderrDefaults + "backend b0\n server s0 {UP}\n" +
			"frontend f1\n bind {DIR}/u1.sock\n default_backend be\n" +
			"global\n stats socket ipv4@{ADDR3}\n stats socket {SOCK}\n" +
			"frontend f2\n bind {ADDR}\n default_backend be\n" +
			"backend be\n server s1 {UP}\n" +
			"listen l3\n bind {ADDR2}\n bind {DIR}/u3.sock\n server s1 {UP}\n", run: func(r *stderrRig) {
			r.ready()
			masterCmd(r.t, r.sock, "show info")
			r.signal(syscall.SIGTTOU)
			// A paused TCP stats socket no longer listens.
			if c, err := net.DialTimeout("tcp", r.addr3, time.Second); err == nil {
				c.Close()
				r.t.Errorf("the paused stats socket %s accepts", r.addr3)
			}
			r.signal(syscall.SIGTTIN)
			r.exchange(r.addr3, "show info\n", "Name: HAProxy\n")
			r.ready()
			r.stop(syscall.SIGUSR1)
		}},
		// Each "add server" past the backend's lookup leaves a line:
		// the refusal as an alert, the registration as a notice.
		{name: "add-server", cfg: "global\n nbthread 1\n stats socket {SOCK} level admin\n" + stderrDefaults +
			"frontend fe\n bind {ADDR}\n default_backend be\n" +
			"backend be\n server s0 {UP}\n", run: func(r *stderrRig) {
			r.ready()
			for _, c := range []string{"be/s1 {UP} cookie x", "be/s2 {UP}", "be/s3", "nob/s4 {UP}", "be/s0 {UP}",
				"be/s5 {UP} track be/nosuch", "be/s6 {UP} id 1", "be/s7 {UP} agent-check", "be/s8 {UP} check track be/s0"} {
				masterCmd(r.t, r.sock, "experimental-mode on; add server "+strings.ReplaceAll(c, "{UP}", r.up))
			}
			r.waitLine("'server be/s8'", 1)
			masterCmd(r.t, r.sock, "experimental-mode on; del server be/s2")
			r.waitLine("Server deleted.", 1)
			r.stop(syscall.SIGUSR1)
		},
			// HAProxy's thread then keeps "CLI : " before the messages
			// it prints later (usermsgs_clr's prefix is never reset):
			// the stop messages, which depend on the thread, are left out.
			keep: func(l string) bool { return strings.Contains(l, "'server") || strings.Contains(l, "Server deleted") }},
		{name: "stats-without-socket", cfg: "global\n stats timeout 10s\n" + checkedCfg, run: func(r *stderrRig) {
			r.waitLine("has no server available!", 1)
			r.signal(syscall.SIGHUP)
			r.waitLine("SIGHUP: Proxy be", 1)
			r.pauseResume()
			r.stop(syscall.SIGUSR1)
		}},
		// Each frontend with connections left is named, with their count.
		{name: "hard-stop-after", cfg: "global\n hard-stop-after 300ms\n stats socket {SOCK}\n" + stderrDefaults +
			"frontend f0\n bind {ADDR2}\n default_backend be\n" +
			"listen l1\n bind {ADDR}\n server s1 {UP}\n" +
			"frontend f2\n bind {ADDR3}\n default_backend be\n" +
			"backend be\n server s1 {UP}\n", run: func(r *stderrRig) {
			r.pending(r.addr, r.addr, r.addr3)
			r.stop(syscall.SIGUSR1)
		}},
		{name: "master-worker", args: []string{"-W", "-S", "{SOCK}"}, cfg: "global\n nbthread 1\n" + checkedCfg, run: func(r *stderrRig) {
			r.masterReady()
			r.waitLine("has no server available!", 1)
			// Another nbthread takes a new worker in gohap too.
			r.rewrite("nbthread 1", "nbthread 2")
			r.signal(syscall.SIGUSR2)
			r.waitLine("Loading success.", 2)
			r.waitLine("has no server available!", 2)
			r.waitLine("Former worker", 1)
			r.masterReady()
			r.stopMaster(syscall.SIGUSR1)
		}},
		{name: "master-worker-invalid-reload", args: []string{"-W", "-S", "{SOCK}"}, cfg: checkedCfg, run: func(r *stderrRig) {
			r.masterReady()
			r.waitLine("has no server available!", 1)
			r.rewrite("default_backend be", "default_backend be\n nosuchkeyword")
			r.signal(syscall.SIGUSR2)
			r.waitLine("Loading failure!", 1)
			r.masterReady()
			r.stopMaster(syscall.SIGUSR1)
		}},
		// A worker's GLOBAL holds its end of the master CLI: paused with
		// the other listeners, never stopped.
		{name: "master-worker-pause", args: []string{"-W", "-S", "{SOCK}"}, cfg: "global\n stats socket {DIR}/s.sock\n" + checkedCfg, run: func(r *stderrRig) {
			r.masterReady()
			r.waitLine("has no server available!", 1)
			r.signal(syscall.SIGTTOU)
			r.signal(syscall.SIGTTIN)
			r.stopMaster(syscall.SIGUSR1)
		}},
		// A worker's SIGHUP dump has the master's MASTER proxy too.
		{name: "master-worker-sighup", args: []string{"-W", "-S", "{SOCK}"}, cfg: checkedCfg, run: func(r *stderrRig) {
			r.masterReady()
			r.waitLine("has no server available!", 1)
			if err := syscall.Kill(r.workerPid(), syscall.SIGHUP); err != nil {
				r.t.Fatal(err)
			}
			r.waitLine("SIGHUP: Proxy <HTTPCLIENT>", 1)
			r.stopMaster(syscall.SIGUSR1)
		}},
		// A former worker still serving is an "old-PID" server of the
		// new worker's MASTER proxy.
		{name: "master-worker-sighup-old", args: []string{"-W", "-S", "{SOCK}"}, cfg: "global\n nbthread 1\n" + stderrDefaults +
			"frontend fe\n bind {ADDR}\n default_backend be\n" + "backend be\n server s1 {UP}\n", run: func(r *stderrRig) {
			r.masterReady()
			r.pending(r.addr)
			// Another nbthread takes a new worker in gohap too.
			r.rewrite("nbthread 1", "nbthread 2")
			r.signal(syscall.SIGUSR2)
			r.waitLine("Loading success.", 2)
			r.masterReady()
			if err := syscall.Kill(r.workerPid(), syscall.SIGHUP); err != nil {
				r.t.Fatal(err)
			}
			r.waitLine("SIGHUP: Proxy <HTTPCLIENT>", 1)
			r.stopMaster(syscall.SIGTERM)
		}, keep: func(l string) bool {
			// Both workers die at once: the master reports them in the
			// order it reaps them.
			return !strings.Contains(l, "exited with code")
		}},
		{name: "master-worker-sigterm", args: []string{"-W", "-S", "{SOCK}"}, cfg: checkedCfg, run: func(r *stderrRig) {
			r.masterReady()
			r.waitLine("has no server available!", 1)
			r.stopMaster(syscall.SIGTERM)
		}},
	}
}

// stderrRun runs one binary through a scenario and returns its lines by
// role.
func stderrRun(t *testing.T, bin string, sc stderrScenario) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	r := &stderrRig{t: t, addr: freeAddr(t), addr2: freeAddr(t), addr3: freeAddr(t), up: freeAddr(t),
		cfg: filepath.Join(dir, "p.cfg"), sock: filepath.Join(dir, "m.sock")}
	body := strings.NewReplacer("{ADDR}", r.addr, "{UP}", r.up, "{DIR}", dir, "{SOCK}", r.sock,
		"{ADDR2}", r.addr2, "{ADDR3}", r.addr3, "{ADDR4}", freeAddr(t)).Replace(sc.cfg)
	if err := os.WriteFile(r.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{}
	for _, a := range sc.args {
		args = append(args, strings.ReplaceAll(a, "{SOCK}", r.sock))
	}
	r.p = startBin(t, bin, append(args, "-f", r.cfg)...)
	sc.run(r)
	// Alerts name the configuration, in a directory of each run's own.
	return byRole(r.p.cmd.Process.Pid, strings.ReplaceAll(r.p.stderr.String(), r.cfg, "CFG"), sc.keep)
}

func (r *stderrRig) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.p.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("%v: %v\n%s", sig, err, r.p.stderr)
	}
	// HAProxy handles one signal per loop turn: let each be seen alone.
	time.Sleep(100 * time.Millisecond)
}

// ready waits until the proxy accepts connections.
func (r *stderrRig) ready() {
	r.t.Helper()
	dialRetry(r.t, "tcp", r.addr, 10*time.Second).Close()
}

// pauseResume pauses the listeners (SIGTTOU), resumes them (SIGTTIN)
// and waits until they accept again.
func (r *stderrRig) pauseResume() {
	r.t.Helper()
	r.signal(syscall.SIGTTOU)
	r.signal(syscall.SIGTTIN)
	r.ready()
}

// peerHello opens a peers session at {ADDR2} as peer "other" of local
// peer "LOCAL", and wants the handshake's status line, or "refused"
// when the connection is.
func (r *stderrRig) peerHello(want string) {
	r.t.Helper()
	got := "refused"
	if c, err := net.DialTimeout("tcp", r.addr2, time.Second); err == nil {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "HAProxyS 2.1\nLOCAL\nother 1 1\n")
		got, _ = bufio.NewReader(c).ReadString('\n')
		c.Close()
	}
	if got != want {
		r.t.Errorf("peer handshake at %s: %q, want %q\n%s", r.addr2, got, want, r.p.stderr)
	}
}

// serving waits until the proxy answers a request: HAProxy handles
// SIGTTOU and SIGTTIN only once its listeners are bound, and a signal
// it does not handle yet stops it.
func (r *stderrRig) serving() {
	r.t.Helper()
	r.ready()
	r.exchange(r.addr, "NOT HTTP\r\n\r\n", "HTTP/1.1 400 ")
}

// exchange sends req to addr and reads until the proxy closes the
// connection, which it does once the stream is over and counted out;
// the answer must start with want.
func (r *stderrRig) exchange(addr, req, want string) {
	r.t.Helper()
	c := dialRetry(r.t, "tcp", addr, 5*time.Second)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	b, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(b), want) {
		r.t.Fatalf("%q to %s: %q %v\n%s", req, addr, b, err, r.p.stderr)
	}
}

// pending sends a request to each address, which the server, at {UP},
// accepts and never answers, and returns once they all reached it. The
// connections stay open until the test ends.
func (r *stderrRig) pending(addrs ...string) {
	r.t.Helper()
	accepted := silentServer(r.t, r.up, len(addrs))
	r.ready()
	for _, a := range addrs {
		c := dialRetry(r.t, "tcp", a, 5*time.Second)
		r.t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		r.t.Fatalf("the requests did not reach the server\n%s", r.p.stderr)
	}
}

// masterReady waits until the master serves its CLI: it then handles
// its signals (HAProxy's master dies by those that come earlier).
func (r *stderrRig) masterReady() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for out := ""; !strings.Contains(out, "worker"); out = masterCmd(r.t, r.sock, "show proc") {
		if time.Now().After(deadline) {
			r.t.Fatalf("show proc: %q\n%s", out, r.p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// workerPid is the pid of the current worker, as the master CLI's
// "show proc" lists it.
func (r *stderrRig) workerPid() int {
	r.t.Helper()
	out := masterCmd(r.t, r.sock, "show proc")
	_, workers, _ := strings.Cut(out, "# workers\n")
	if f := strings.Fields(workers); len(f) > 0 {
		if pid, err := strconv.Atoi(f[0]); err == nil {
			return pid
		}
	}
	r.t.Fatalf("no worker in %q", out)
	return 0
}

// waitLine waits until n lines contain s.
func (r *stderrRig) waitLine(s string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(r.p.stderr.String(), s) < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("no %d× %q\n%s", n, s, r.p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends sig and waits until the process is over.
func (r *stderrRig) stop(sig syscall.Signal) {
	r.t.Helper()
	r.signal(sig)
	r.exit()
}

// stopMaster sends sig to the master and waits until it and its
// workers are over.
func (r *stderrRig) stopMaster(sig syscall.Signal) {
	r.t.Helper()
	r.signal(sig)
	r.waitLine("All workers exited.", 1)
	r.exit()
}

// exit waits until the process is over.
func (r *stderrRig) exit() {
	r.t.Helper()
	select {
	case <-r.p.done:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("still running\n%s", r.p.stderr)
	}
}

func (r *stderrRig) rewrite(from, to string) {
	r.t.Helper()
	b, err := os.ReadFile(r.cfg)
	if err == nil {
		err = os.WriteFile(r.cfg, []byte(strings.Replace(string(b), from, to, 1)), 0o644)
	}
	if err != nil {
		r.t.Fatal(err)
	}
}

// cacheableCookieServer answers every request with a cacheable response
// that sets a cookie, which "option checkcache" blocks.
func cacheableCookieServer(t *testing.T, addr string) {
	t.Helper()
	serveEach(t, addr, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=b\r\nCache-Control: max-age=60\r\nConnection: close\r\n\r\nok")
	})
}

// serveEach listens on addr and runs handle on each connection in a
// goroutine of its own, closing the connection after; it returns the
// address listened on.
func serveEach(t *testing.T, addr string, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// silentServer accepts connections and never answers; accepted is
// closed at the nth one.
func silentServer(t *testing.T, addr string, n int) (accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			if held = append(held, c); len(held) == n {
				close(done)
			}
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return done
}

var (
	stderrLineRe = regexp.MustCompile(`^(\[[A-Z]+\] +)\((\d+)\) : (.*)$`)
	namedPidRe   = regexp.MustCompile(`(worker|Worker) \((\d+)\)`)
	oldWorkerRe  = regexp.MustCompile(`MASTER/old-(\d+)`)
	durationRe   = regexp.MustCompile(`duration: \d+ms`)
)

// byRole files the lines under their process's role, pids and durations
// masked; the version header names each binary and its path, so only
// its presence is compared.
func byRole(main int, out string, keep func(string) bool) map[string][]string {
	roles := map[string]string{strconv.Itoa(main): "main"}
	role := func(pid string) string {
		if r, ok := roles[pid]; ok {
			return r
		}
		roles[pid] = fmt.Sprintf("worker%d", len(roles))
		return roles[pid]
	}
	got := map[string][]string{}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" || keep != nil && !keep(l) {
			continue
		}
		m := stderrLineRe.FindStringSubmatch(l)
		if m == nil {
			got["?"] = append(got["?"], l)
			continue
		}
		text := namedPidRe.ReplaceAllStringFunc(m[3], func(s string) string {
			sm := namedPidRe.FindStringSubmatch(s)
			return sm[1] + " (" + role(sm[2]) + ")"
		})
		text = oldWorkerRe.ReplaceAllStringFunc(text, func(s string) string {
			return "MASTER/old-" + role(oldWorkerRe.FindStringSubmatch(s)[1])
		})
		text = durationRe.ReplaceAllString(text, "duration: Nms")
		if strings.HasPrefix(text, "haproxy version is ") || strings.HasPrefix(text, "path to executable is ") {
			text, _, _ = strings.Cut(text, " is ")
		}
		r := role(m[2])
		got[r] = append(got[r], m[1]+text)
	}
	return got
}

func flatRoles(m map[string][]string) []string {
	var out []string
	for _, r := range []string{"main", "worker1", "worker2", "worker3", "?"} {
		for _, l := range m[r] {
			out = append(out, r+": "+l)
		}
	}
	return out
}

// TestStderrCore checks the rendering of each level without HAProxy at
// hand: warnings and errors as its [WARNING] and [ALERT] lines, the
// rest not at all.
func TestStderrCore(t *testing.T) {
	var b strings.Builder
	log := newLogger(&b)
	log.Info("listening")
	log.Debug("detail")
	log.Warn("Server be/s1 is DOWN.")
	log.Error("backend 'be' has no server available!")
	log.With(zap.String("frontend", "fe")).Warn("cannot bind again", zap.Int("n", 2))
	p := pid()
	want := "[WARNING]  (" + p + ") : Server be/s1 is DOWN.\n" +
		"[ALERT]    (" + p + ") : backend 'be' has no server available!\n" +
		"[WARNING]  (" + p + ") : cannot bind again (frontend: fe, n: 2)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
