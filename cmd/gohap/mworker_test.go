package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
)

// serveEcho runs gohap with args on a configuration proxying a new
// address to an echo upstream called name, and waits until it serves.
func serveEcho(t *testing.T, name string, args ...string) (*proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := startGohap(t, append(args, "-f", proxyCfg(t, t.TempDir(), addr, name))...)
	waitServing(t, addr, name, p)
	return p, addr
}

// loadStats counts what the keep-alive load saw. A request is lost when
// it was written and its connection ended without an answer and without
// an earlier "Connection: close" answer announcing that the rest would
// not be served (a client resends those: declined).
type loadStats struct {
	answered, lost, declined, refused atomic.Int64
}

// keepAliveLoad runs conns connections, each sending depth pipelined
// requests at a time, until stop closes.
func keepAliveLoad(addr string, conns, depth int, stop <-chan struct{}, st *loadStats) *sync.WaitGroup {
	var wg sync.WaitGroup
	batch := strings.Repeat("GET /load HTTP/1.1\r\nHost: load\r\n\r\n", depth)
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped() {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					st.refused.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				br := bufio.NewReader(c)
			conn:
				for !stopped() {
					c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := io.WriteString(c, batch); err != nil {
						break
					}
					for j := 0; j < depth; j++ {
						resp, err := http.ReadResponse(br, nil)
						if err == nil {
							_, err = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						if err != nil {
							st.lost.Add(int64(depth - j))
							if os.Getenv("GOHAP_LOAD_DEBUG") != "" {
								fmt.Fprintf(os.Stderr, "%s lost %d: %v\n", time.Now().Format("15:04:05.000"), depth-j, err)
							}
							break conn
						}
						st.answered.Add(1)
						if resp.Close {
							st.declined.Add(int64(depth - j - 1))
							break conn
						}
					}
				}
				c.Close()
			}
		}()
	}
	return &wg
}

// lbCfg is the configuration the reload test rewrites between reloads.
func lbCfg(addr, upstream string) string {
	return fmt.Sprintf("global\n maxconn 500\ndefaults\n mode http\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n"+
		"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", addr, upstream)
}

// servedBy polls addr until the echo upstream name answers, every 2 ms.
func servedBy(addr, name string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if code, srv, err := get(addr); err == nil && code == 200 && srv == name {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// readPid waits for a pidfile and returns its pid.
func readPid(t *testing.T, path string, p *proc) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
				return n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s\n%s", path, p.stderr)
	return 0
}

type reloadResult struct {
	st      *loadStats
	reloads []time.Duration
}

// reloadUnderLoad starts bin -W -f cfg -p pidfile, puts keep-alive load
// on it, reloads it three times with SIGUSR2 (each on a configuration
// naming another upstream) and hands it over to a separate process
// started with -sf. For the reference (ref), whose figures are only
// logged, a reload not served in time skips the run rather than failing
// it: on a loaded machine HAProxy's master can take longer than the wait.
func reloadUnderLoad(t *testing.T, bin, label string, ref bool) reloadResult {
	fail, errorf := t.Fatalf, t.Errorf
	if ref {
		fail, errorf = t.Skipf, t.Logf
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	var ups []*echo.Server
	for i := 0; i < 5; i++ {
		up, err := echo.Start(fmt.Sprintf("%s-%d", label, i), "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(up.Close)
		ups = append(ups, up)
	}
	cfg := filepath.Join(dir, "lb.cfg")
	write := func(path string, up *echo.Server) {
		if err := os.WriteFile(path, []byte(lbCfg(addr, up.Addr())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, ups[0])
	pidfile := filepath.Join(dir, "lb.pid")
	p := startBin(t, bin, "-W", "-f", cfg, "-p", pidfile)
	master := readPid(t, pidfile, p)
	if master != p.cmd.Process.Pid {
		t.Errorf("%s: pidfile holds %d, the master is %d", label, master, p.cmd.Process.Pid)
	}
	waitServing(t, addr, ups[0].Name, p)
	st := &loadStats{}
	stop := make(chan struct{})
	wg := keepAliveLoad(addr, 24, 3, stop, st)
	res := reloadResult{st: st}
	time.Sleep(300 * time.Millisecond)
	for i := 1; i <= 3; i++ {
		write(cfg, ups[i])
		t0 := time.Now()
		if os.Getenv("GOHAP_LOAD_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "%s reload %d\n", time.Now().Format("15:04:05.000"), i)
		}
		syscall.Kill(master, syscall.SIGUSR2)
		if !servedBy(addr, ups[i].Name, 15*time.Second) {
			close(stop)
			fail("%s: reload %d not served\n%s", label, i, p.stderr)
		}
		res.reloads = append(res.reloads, time.Since(t0))
		time.Sleep(400 * time.Millisecond)
	}
	cfg2 := filepath.Join(dir, "next.cfg")
	write(cfg2, ups[4])
	if os.Getenv("GOHAP_LOAD_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "%s handover\n", time.Now().Format("15:04:05.000"))
	}
	next := startBin(t, bin, "-db", "-f", cfg2, "-sf", strconv.Itoa(master))
	if !servedBy(addr, ups[4].Name, 15*time.Second) {
		close(stop)
		fail("%s: -sf hand-over not served\n%s\n%s", label, next.stderr, p.stderr)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		errorf("%s: the master is still running after -sf\n%s", label, p.stderr)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	return res
}

// TestReloadUnderLoad: a master-worker gohap under keep-alive pipelined
// load reloads three times (SIGUSR2) and hands over to a separate process
// (-sf) without losing a request or refusing a connection. HAProxy runs
// the same scenario as reference; its figures are logged.
func TestReloadUnderLoad(t *testing.T) {
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	g := reloadUnderLoad(t, bin, "gohap", false)
	t.Logf("gohap: answered %d, lost %d, declined %d, refused %d, reloads %v",
		g.st.answered.Load(), g.st.lost.Load(), g.st.declined.Load(), g.st.refused.Load(), g.reloads)
	if g.st.lost.Load() != 0 || g.st.refused.Load() != 0 {
		t.Errorf("gohap lost %d requests and saw %d refused connects", g.st.lost.Load(), g.st.refused.Load())
	}
	if g.st.answered.Load() < 1000 {
		t.Errorf("gohap answered only %d requests", g.st.answered.Load())
	}
	ref := haproxyBin()
	if ref == "" {
		t.Log("haproxy is not installed: no reference run")
		return
	}
	t.Run("haproxy", func(t *testing.T) {
		h := reloadUnderLoad(t, ref, "haproxy", true)
		t.Logf("haproxy: answered %d, lost %d, declined %d, refused %d, reloads %v",
			h.st.answered.Load(), h.st.lost.Load(), h.st.declined.Load(), h.st.refused.Load(), h.reloads)
	})
}

// notifyListener is a unixgram socket standing for systemd's.
func notifyListener(t *testing.T, path string) <-chan string {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch := make(chan string, 32)
	go func() {
		b := make([]byte, 4096)
		for {
			n, _, err := c.ReadFromUnix(b)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(b[:n])
		}
	}()
	return ch
}

// expectNotify waits for a datagram containing want.
func expectNotify(t *testing.T, ch <-chan string, want string, p *proc) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-ch:
			if strings.Contains(m, want) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %q notification\n%s", want, p.stderr)
		}
	}
}

// TestSystemdUnit runs Debian's haproxy.service command lines: the check
// (ExecStartPre), the start with -Ws, -p and -S, a reload by SIGUSR2 to
// MAINPID (ExecReload), then the stop (SIGTERM), with NOTIFY_SOCKET on a
// socket of the test; the same with HAProxy when installed.
func TestSystemdUnit(t *testing.T) {
	bins := map[string]string{}
	var err error
	if bins["gohap"], err = gohapBinary(); err != nil {
		t.Fatal(err)
	}
	if ref := haproxyBin(); ref != "" {
		bins["haproxy"] = ref
	} else {
		t.Log("haproxy is not installed: gohap only")
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) { systemdUnit(t, bin, name == "haproxy") })
	}
}

// systemdUnit runs the unit's commands. The reference stops once its
// first reload serves: after a failed reload, HAProxy 2.6's master, run
// again in wait mode, often sends no STOPPING=1 when stopped.
func systemdUnit(t *testing.T, bin string, ref bool) {
	dir := t.TempDir()
	addr := freeAddr(t)
	up1, _ := echo.Start("unit-1", "127.0.0.1:0")
	up2, _ := echo.Start("unit-2", "127.0.0.1:0")
	defer up1.Close()
	defer up2.Close()
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(lbCfg(addr, up1.Addr())), 0o644)
	if out, err := exec.Command(bin, "-Ws", "-f", cfg, "-c", "-q").CombinedOutput(); err != nil {
		t.Fatalf("ExecStartPre: %v\n%s", err, out)
	}
	notes := notifyListener(t, filepath.Join(dir, "notify"))
	pidfile := filepath.Join(dir, "haproxy.pid")
	sock := filepath.Join(dir, "master.sock")
	cmd := exec.Command(bin, "-Ws", "-f", cfg, "-p", pidfile, "-S", sock)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+filepath.Join(dir, "notify"))
	p := &proc{cmd: cmd, stderr: &syncBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	defer func() { cmd.Process.Kill(); <-p.done }()
	ready := expectNotify(t, notes, "READY=1", p)
	mainPid := cmd.Process.Pid
	if !strings.Contains(ready, fmt.Sprintf("MAINPID=%d", mainPid)) {
		t.Errorf("READY without MAINPID=%d: %q", mainPid, ready)
	}
	if got := readPid(t, pidfile, p); got != mainPid {
		t.Errorf("pidfile %d, main pid %d", got, mainPid)
	}
	waitServing(t, addr, "unit-1", p)
	show := masterCmd(t, sock, "show proc")
	if !strings.Contains(show, fmt.Sprintf("%-15d %-15s 0 [failed: 0]", mainPid, "master")) || !strings.Contains(show, "# workers\n") {
		t.Errorf("show proc:\n%s", show)
	}
	os.WriteFile(cfg, []byte(lbCfg(addr, up2.Addr())), 0o644)
	syscall.Kill(mainPid, syscall.SIGUSR2)
	expectNotify(t, notes, "RELOADING=1", p)
	expectNotify(t, notes, "READY=1", p)
	waitServing(t, addr, "unit-2", p)
	if show := masterCmd(t, sock, "show proc"); !strings.Contains(show, "1 [failed: 0]") {
		t.Errorf("show proc after reload:\n%s", show)
	}
	if ref {
		syscall.Kill(mainPid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		return
	}
	// A broken configuration keeps the worker.
	os.WriteFile(cfg, []byte(lbCfg(addr, up1.Addr())+"bogus-keyword\n"), 0o644)
	syscall.Kill(mainPid, syscall.SIGUSR2)
	// The failure is reported once the new configuration was read, which
	// may come after a notification of the previous reload.
	failed := false
	for deadline := time.Now().Add(10 * time.Second); !failed && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		failed = strings.Contains(p.stderr.String(), "Loading failure!")
	}
	if !failed {
		t.Errorf("no 'Loading failure!' after a broken reload:\n%s", p.stderr)
	}
	waitServing(t, addr, "unit-2", p)
	syscall.Kill(mainPid, syscall.SIGTERM)
	expectNotify(t, notes, "STOPPING=1", p)
	select {
	case <-p.done:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit %d after SIGTERM\n%s", code, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running after SIGTERM\n%s", p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "All workers exited. Exiting... (0)") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}

// dialRetry connects to addr, trying again every 20 ms for d.
func dialRetry(t *testing.T, network, addr string, d time.Duration) net.Conn {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial(network, addr)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// masterCmd sends one command to a master CLI socket.
func masterCmd(t *testing.T, sock, cmd string) string {
	t.Helper()
	c := dialRetry(t, "unix", sock, 4*time.Second)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, cmd+"\n")
	// As socat does: the end of the input ends the session.
	c.(*net.UnixConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestMasterCLI: help, show proc, @1 and @!pid forwarding to the
// worker's runtime CLI, and reload through the CLI.
func TestMasterCLI(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	sock := filepath.Join(dir, "m.sock")
	p := startGohap(t, "-W", "-S", sock+",mode,600", "-f", proxyCfg(t, dir, addr, "mcli"))
	waitServing(t, addr, "mcli", p)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("master socket: %v %v", fi, err)
	}
	help := masterCmd(t, sock, "help")
	for _, want := range []string{"The following commands are valid at this level:\n", "  show proc                               : show processes status\n", "  reload                                  : reload haproxy\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	show := masterCmd(t, sock, "show proc")
	lines := strings.Split(show, "\n")
	if len(lines) < 4 || lines[0] != "#<PID>          <type>          <reloads>       <uptime>        <version>      " ||
		!strings.HasPrefix(lines[1], fmt.Sprintf("%-15d master          0 [failed: 0]", p.cmd.Process.Pid)) || lines[2] != "# workers" {
		t.Fatalf("show proc:\n%s", show)
	}
	wpid, _ := strconv.Atoi(strings.Fields(lines[3])[0])
	if wpid == 0 || !strings.Contains(lines[3], " worker ") {
		t.Fatalf("no worker in:\n%s", show)
	}
	// The worker's runtime CLI answers: its level command proves it.
	for _, pfx := range []string{"@1", "@!" + strconv.Itoa(wpid)} {
		if out := masterCmd(t, sock, pfx+" show cli level"); out != "admin\n\n" {
			t.Errorf("%s show cli level: %q", pfx, out)
		}
	}
	if out := masterCmd(t, sock, "@!1 show cli level"); out != "Can't find the target PID matching the prefix '@!1'\n" {
		t.Errorf("@!1: %q", out)
	}
	masterCmd(t, sock, "reload")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(masterCmd(t, sock, "show proc"), "1 [failed: 0]") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after the reload command\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitServing(t, addr, "mcli", p)
}

// TestSoftStopAnswersIdleRequest: a soft stop keeps an idle keep-alive
// connection open for a moment, so that a request the client writes on
// it is answered with "Connection: close" rather than meeting a close.
func TestSoftStopAnswersIdleRequest(t *testing.T) {
	p, addr := serveEcho(t, "soft", "-db")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(c, req)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.Close {
		t.Fatal("first answer closes the connection")
	}
	p.cmd.Process.Signal(syscall.SIGUSR1)
	// The soft stop has begun once the proxies are reported stopped.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.stderr.String(), "Proxy fe stopped") {
		if time.Now().After(deadline) {
			t.Fatalf("no soft stop after SIGUSR1\n%s", p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	io.WriteString(c, req)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("request on the idle connection: %v\n%s", err, p.stderr)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("answer %d, close %v", resp.StatusCode, resp.Close)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestPauseResume: SIGTTOU stops listening (connects are refused) and
// keeps the socket; SIGTTIN listens again.
func TestPauseResume(t *testing.T) {
	p, addr := serveEcho(t, "pause", "-db")
	p.cmd.Process.Signal(syscall.SIGTTOU)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			// A connect caught in the backlog as it stops is reset.
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("paused: %v", err)
			}
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("still listening after SIGTTOU\n%s", p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTTIN)
	waitServing(t, addr, "pause", p)
}

// procStatus reads a field of /proc/<pid>/status.
func procStatus(pid int, field string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// childPids lists a process's children.
func childPids(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestPrivileges runs as root: "user nobody" and "chroot" take effect in
// the serving process once it listens, which still serves; in
// master-worker mode ("master-worker", uid, gid) the master keeps root
// and the worker drops it, with the configuration's environment.
func TestPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dropping privileges needs root")
	}
	nobody := procStatusUID(t)
	dir := t.TempDir()
	jail := t.TempDir()
	os.Chmod(jail, 0o755)
	addr := freeAddr(t)
	up, _ := echo.Start("priv", "127.0.0.1:0")
	defer up.Close()
	body := lbCfg(addr, up.Addr())
	cfg := writeCfg(t, dir, "user.cfg", strings.Replace(body, "global\n", "global\n user nobody\n chroot "+jail+"\n", 1))
	p := startGohap(t, "-db", "-f", cfg)
	waitServing(t, addr, "priv", p)
	pid := p.cmd.Process.Pid
	if uid := procStatus(pid, "Uid"); uid != strings.Repeat(nobody+" ", 3)+nobody {
		t.Errorf("Uid: %q, want nobody's %s", uid, nobody)
	}
	if root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid)); err != nil || root != jail {
		t.Errorf("root %q %v, want %s", root, err, jail)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	p.wait(t, 5*time.Second)

	addr = freeAddr(t)
	body = lbCfg(addr, up.Addr())
	cfg = writeCfg(t, dir, "mw.cfg", strings.Replace(body, "global\n", "global\n master-worker\n uid 65534\n gid 65534\n resetenv PATH\n setenv GOHAP_TEST_VAR set-by-config\n", 1))
	p = startGohap(t, "-f", cfg)
	waitServing(t, addr, "priv", p)
	kids := childPids(p.cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("children %v", kids)
	}
	if uid := procStatus(p.cmd.Process.Pid, "Uid"); !strings.HasPrefix(uid, "0 ") {
		t.Errorf("master Uid %q", uid)
	}
	if uid, gid := procStatus(kids[0], "Uid"), procStatus(kids[0], "Gid"); uid != "65534 65534 65534 65534" || gid != "65534 65534 65534 65534" {
		t.Errorf("worker Uid %q Gid %q", uid, gid)
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", kids[0]))
	vars := strings.Split(string(env), "\x00")
	if !contains(vars, "GOHAP_TEST_VAR=set-by-config") || contains(vars, "HOME="+os.Getenv("HOME")) {
		t.Errorf("worker environment: %q", vars)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func procStatusUID(t *testing.T) string {
	out, err := exec.Command("id", "-u", "nobody").Output()
	if err != nil {
		t.Skip("no user nobody")
	}
	return strings.TrimSpace(string(out))
}

// TestPrivilegeErrors: an unknown user or a chroot that fails refuses
// to start, with HAProxy's alerts.
func TestPrivilegeErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	for _, c := range []struct{ global, want string }{
		{" user no-such-user-here\n", "cannot find user id for 'no-such-user-here' (0:Success)"},
		{" chroot " + filepath.Join(dir, "missing") + "\n", ".main()] Cannot chroot(" + filepath.Join(dir, "missing") + ")."},
	} {
		cfg := writeCfg(t, dir, "e.cfg", strings.Replace(lbCfg(addr, "127.0.0.1:9"), "global\n", "global\n"+c.global, 1))
		p := startGohap(t, "-db", "-f", cfg)
		if code := p.wait(t, 10*time.Second); code != 1 || !strings.Contains(p.stderr.String(), c.want) {
			t.Errorf("%q: exit %d\n%s", c.global, code, p.stderr)
		}
		if ref := haproxyBin(); ref != "" {
			_, _, stderr := haproxyOut(t, ref, "-db", "-f", cfg)
			if !strings.Contains(stderr, c.want) {
				t.Errorf("haproxy does not say %q:\n%s", c.want, stderr)
			}
		}
	}
}

// TestDaemonKeywords: "daemon" and "pidfile" in the global section act
// as -D and -p.
func TestDaemonKeywords(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	up, _ := echo.Start("dkw", "127.0.0.1:0")
	defer up.Close()
	pidfile := filepath.Join(dir, "d.pid")
	cfg := writeCfg(t, dir, "d.cfg", strings.Replace(lbCfg(addr, up.Addr()), "global\n", "global\n daemon\n pidfile "+pidfile+"\n", 1))
	p := startGohap(t, "-f", cfg)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	pid := readPid(t, pidfile, p)
	defer syscall.Kill(pid, syscall.SIGKILL)
	if pid == p.cmd.Process.Pid {
		t.Errorf("pidfile holds the parent's pid")
	}
	waitServing(t, addr, "dkw", nil)
	syscall.Kill(pid, syscall.SIGINT)
	if !gone(pid, 5*time.Second) {
		t.Errorf("daemon %d still running after SIGINT", pid)
	}
}

// TestDaemonKeywordForeground: -db, -d and -Ws override the
// configuration's "daemon" (the command itself serves), -D with -db goes
// daemon, as HAProxy decides.
func TestDaemonKeywordForeground(t *testing.T) {
	up, _ := echo.Start("dfg", "127.0.0.1:0")
	defer up.Close()
	bins := map[string]string{"gohap": ""}
	if hb := os.Getenv("HAPROXY_BIN"); hb != "" {
		bins["haproxy"] = hb
	}
	for name, bin := range bins {
		for _, flags := range [][]string{{"-db"}, {"-d"}, {"-D", "-db"}} {
			dir := t.TempDir()
			addr := freeAddr(t)
			pidfile := filepath.Join(dir, "d.pid")
			cfg := writeCfg(t, dir, "d.cfg", strings.Replace(lbCfg(addr, up.Addr()), "global\n", "global\n daemon\n pidfile "+pidfile+"\n", 1))
			args := append(append([]string{}, flags...), "-f", cfg)
			var p *proc
			if bin == "" {
				p = startGohap(t, args...)
			} else {
				p = startBin(t, bin, args...)
			}
			if flags[0] == "-D" {
				if code := p.wait(t, 10*time.Second); code != 0 {
					t.Fatalf("%s %v: exit %d\n%s", name, flags, code, p.stderr)
				}
				pid := readPid(t, pidfile, p)
				waitServing(t, addr, "dfg", nil)
				syscall.Kill(pid, syscall.SIGINT)
				if !gone(pid, 5*time.Second) {
					t.Errorf("%s %v: daemon %d still running after SIGINT", name, flags, pid)
				}
				continue
			}
			waitServing(t, addr, "dfg", p)
			p.cmd.Process.Signal(syscall.SIGINT)
			if p.wait(t, 5*time.Second); !p.diedBy(syscall.SIGINT) {
				t.Errorf("%s %v: foreground run: %v on SIGINT\n%s", name, flags, p.cmd.ProcessState, p.stderr)
			}
		}
	}
}
