package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// The master of master-worker mode (-W, -Ws, "master-worker") binds the
// listening sockets and keeps them, runs one worker (this command again)
// that serves on them, and on SIGUSR2 reads the configuration again and
// replaces the worker, as HAProxy's master does. Unlike HAProxy's, it
// stays the same process across reloads and keeps the sockets itself
// rather than asking the old worker for them.

// workerStartWait bounds how long a new worker may take to serve.
const workerStartWait = 30 * time.Second

type worker struct {
	// prog names the program section of a program, "" for a worker.
	prog    string
	pid     int
	cmd     *exec.Cmd
	ipc     *os.File // the master's end of the socketpair
	cliAddr string   // the worker's CLI socket (abstract unix address)
	started time.Time
	reloads int
	leaving bool
	// oldSince is the master's reload count when it began leaving.
	oldSince int
	ready    chan bool // true once serving, false if it died first
	// replies are the worker's answers to in-process reloads; closed
	// when it is gone.
	replies chan byte
	// key and addrs are what the worker's configuration fixed: process
	// settings, and the bind addresses it has sockets for.
	key   procKey
	addrs map[string]bool
}

// procKey is what a worker cannot change while it runs: an in-process
// reload needs the same, and no chroot (the worker reads the files
// again, and a chroot would hide them).
type procKey struct {
	user, group      string
	uid, gid         int
	chroot           string
	threads, ulimitN int
	daemon           bool
	// tls13 is the TLS 1.3 suite order, which handshakes read unlocked:
	// a process keeps its own.
	tls13 string
}

func keyOf(cfg *parser.Config, gr *runtime.Graph) procKey {
	g, p := cfg.Global, cfg.Global.Process
	return procKey{user: g.User, group: g.Group, uid: p.UID, gid: p.GID, chroot: p.Chroot,
		threads: g.Nbthread, ulimitN: p.UlimitN, daemon: g.Daemon, tls13: fmt.Sprint(gr.TLS13Order())}
}

// bindAddrs is every bind address of g, fd@ ones included.
func bindAddrs(g *runtime.Graph) map[string]bool {
	out := map[string]bool{}
	for _, fe := range g.Frontends {
		for _, b := range fe.Binds {
			out[b.Addr] = true
		}
	}
	return out
}

type exitEvent struct {
	w      *worker
	status int
}

type master struct {
	f       *checkFlags
	maps    []string
	o       *procOpts
	stderr  io.Writer
	m       *msgs
	started time.Time
	noExit  bool // master-worker no-exit-on-failure

	mu      sync.Mutex
	workers []*worker
	progs   []*worker // the programs, current and leaving
	reloads int
	failed  int
	socks   []runtime.BoundSocket
	nextCLI int

	exits    chan exitEvent
	reloadCh chan struct{}
	exitcode int
}

// runMaster runs master-worker mode; cfg and g are the configuration
// already checked. It returns the master's exit code.
func runMaster(f *checkFlags, maps []string, o *procOpts, cfg *parser.Config, g *runtime.Graph, child bool, stdout, stderr io.Writer) int {
	mr := &master{f: f, maps: maps, o: o, stderr: stderr, m: f.msgs, started: time.Now(),
		noExit: cfg.Global.Process.NoExitOnFailure, exits: make(chan exitEvent, 8), reloadCh: make(chan struct{}, 1), exitcode: -1}
	mr.m.diagOn = f.diag
	if quietRun(o, cfg) {
		// HAProxy's quiet master prints nothing, now or on reloads.
		mr.stderr = io.Discard
		mr.m = &msgs{w: io.Discard}
		f.msgs = mr.m
	}
	applyEnv(cfg.Global.Process.Env)
	if !applyFDLimit(g.FD(), mr.m) {
		return 1
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGTTOU, syscall.SIGTTIN)
	defer signal.Stop(sigs)
	socks, err := runtime.BindListeners(g, nil, o.reusePortOff(cfg))
	if err != nil {
		mr.m.alert("%v", err)
		mr.m.alert("[%s.main()] Some protocols failed to start their listeners! Exiting.", os.Args[0])
		return 1
	}
	mr.socks = socks
	if o.pidfile != "" && !child {
		if writePidfile(o.pidfile, os.Getpid()) != nil {
			mr.m.alert("[%s.main()] Cannot create pidfile %s", os.Args[0], o.pidfile)
			return 1
		}
	}
	if id, _ := resolveIdentity(cfg.Global); !checkPrivileges(cfg, id.uid, o, mr.m) {
		return 1
	}
	if !checkFDLimit(g.FD(), g.Maxconn, mr.m) {
		return 1
	}
	var clis []net.Listener
	for _, spec := range o.masterCLI {
		ln, err := listenMasterCLI(spec)
		if err != nil {
			mr.m.alert("%v", err)
			return 1
		}
		clis = append(clis, ln)
	}
	defer func() {
		for _, ln := range clis {
			ln.Close()
		}
	}()
	mr.startPrograms(cfg, nil)
	w, err := mr.spawn(keyOf(cfg, g), bindAddrs(g))
	if err != nil {
		mr.m.alert("[%s.main()] Cannot fork: %v.", os.Args[0], err)
		return 1
	}
	ready := mr.waitReady(w)
	// As HAProxy's master, which polls its CLI once its children are
	// forked, the CLI answers from here: connections made earlier wait.
	for _, ln := range clis {
		go mr.serveCLI(ln)
	}
	if ready {
		mr.m.notice("New worker (%d) forked", w.pid)
		mr.m.notice("Loading success.")
		if o.systemd {
			sdNotify(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
		}
		if child {
			daemonReady()
		}
		o.tellOld(o.oldSig)
	}
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR2, syscall.SIGHUP:
				mr.reload()
			case syscall.SIGTERM, syscall.SIGINT:
				if o.systemd {
					sdNotify("STOPPING=1")
				}
				mr.m.warning("Exiting Master process...")
				mr.kill(sig.(syscall.Signal))
			case syscall.SIGUSR1:
				// A newer process took over (-sf): the workers hand their
				// sockets' traffic over, the master lets go of its copies.
				mr.m.warning("Exiting Master process...")
				mr.kill(syscall.SIGUSR1)
				mr.closeSockets(nil, nil)
			default:
				mr.kill(sig.(syscall.Signal))
			}
		case <-mr.reloadCh:
			mr.reload()
		case ev := <-mr.exits:
			if code, done := mr.exited(ev); done {
				return code
			}
		}
	}
}

// notice prints a [NOTICE] line. As HAProxy's ha_notice, it does not
// print the version header the first warning or alert does.
func (m *msgs) notice(format string, a ...any) {
	io.WriteString(m.w, haLine("NOTICE", fmt.Sprintf(format, a...)))
}

// diag prints a [DIAG] line in diagnostic mode (-dD) only: what gohap
// does that HAProxy has no message for, such as in-process reloads.
func (m *msgs) diag(format string, a ...any) {
	if m.diagOn {
		io.WriteString(m.w, haLine("DIAG", fmt.Sprintf(format, a...)))
	}
}

// spawn starts a worker on the current sockets.
func (mr *master) spawn(key procKey, addrs map[string]bool) (*worker, error) {
	exe := "/proc/self/exe"
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	mine, theirs := os.NewFile(uintptr(pair[0]), "ipc"), os.NewFile(uintptr(pair[1]), "ipc")
	defer theirs.Close()
	mr.mu.Lock()
	mr.nextCLI++
	cliAddr := fmt.Sprintf("@gohap-master-%d-%d", os.Getpid(), mr.nextCLI)
	socks := mr.socks
	var old []string
	for i := len(mr.workers) - 1; i >= 0; i-- {
		old = append(old, strconv.Itoa(mr.workers[i].pid))
	}
	mr.mu.Unlock()
	cliLn, err := net.ListenUnix("unix", &net.UnixAddr{Name: cliAddr, Net: "unix"})
	if err != nil {
		mine.Close()
		return nil, err
	}
	cliFile, err := runtime.SocketFile(cliLn)
	cliLn.Close()
	if err != nil {
		mine.Close()
		return nil, err
	}
	defer cliFile.Close()
	// The descriptors this process inherited (fd@ and sockpair@
	// addresses name them) keep their numbers in the worker; its own
	// come after them.
	extra := inheritedFiles()
	ipcFD, cliFD := 3+len(extra), 4+len(extra)
	extra = append(extra, theirs, cliFile)
	var fds []string
	for _, s := range socks {
		fds = append(fds, fmt.Sprintf("%d=%s", 3+len(extra), s.Addr))
		extra = append(extra, s.File)
	}
	cmd := exec.Command(exe, mr.o.argv...)
	cmd.Dir = mr.o.startDir
	cmd.Env = workerEnviron(map[string]string{workerIPCEnv: strconv.Itoa(ipcFD), workerCLIEnv: strconv.Itoa(cliFD), workerListenEnv: strings.Join(fds, ";"),
		workerOldEnv: strings.Join(old, ",")})
	cmd.ExtraFiles = extra
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if os.Getenv(daemonEnv) != "" {
		// The -D parent relays stderr only until the master is ready.
		cmd.Stdout, cmd.Stderr = nil, nil
	}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	w := &worker{pid: cmd.Process.Pid, cmd: cmd, ipc: mine, cliAddr: cliAddr, started: time.Now(), ready: make(chan bool, 1),
		replies: make(chan byte, 4), key: key, addrs: addrs}
	mr.mu.Lock()
	mr.workers = append(mr.workers, w)
	mr.mu.Unlock()
	go func() {
		var b [1]byte
		n, _ := mine.Read(b[:])
		w.ready <- n == 1
		for n == 1 {
			if n, _ = mine.Read(b[:]); n == 1 {
				w.replies <- b[0]
			}
		}
		close(w.replies)
	}()
	go func() {
		err := cmd.Wait()
		mr.exits <- exitEvent{w: w, status: exitStatus(cmd.ProcessState, err)}
	}()
	return w, nil
}

// workerEnviron is the environment of a worker: the master's, without
// the variables meant for the master alone, plus set.
func workerEnviron(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		// Only the master talks to systemd (NotifyAccess=main).
		if k == daemonEnv || k == "NOTIFY_SOCKET" {
			continue
		}
		if _, ok := set[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

func exitStatus(ps *os.ProcessState, err error) int {
	if ps == nil {
		return 255
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return ps.ExitCode()
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	case ws.Stopped():
		return 128 + int(ws.StopSignal())
	}
	return 255
}

// waitReady waits until w serves; false if it died or took too long,
// in which case it is killed.
func (mr *master) waitReady(w *worker) bool {
	select {
	case ok := <-w.ready:
		if ok {
			return true
		}
	case <-time.After(workerStartWait):
		w.cmd.Process.Kill()
	}
	return false
}

// reload reads the configuration again and replaces the workers when it
// is valid, with HAProxy's messages; an invalid one keeps them.
func (mr *master) reload() {
	mr.m.notice("Reloading HAProxy")
	if mr.o.systemd {
		sdNotify("RELOADING=1")
	}
	defer func() {
		if mr.o.systemd {
			sdNotify(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
		}
	}()
	mr.mu.Lock()
	mr.reloads++
	for _, w := range mr.workers {
		w.reloads++
	}
	for _, w := range mr.progs {
		w.reloads++
	}
	mr.mu.Unlock()
	// A reloaded HAProxy is a new process: it prints its notices again.
	m := &msgs{w: mr.stderr, diagOn: mr.f.diag}
	mr.m = m
	mr.f.msgs = m
	fail := func() {
		m.warning("Loading failure!")
		// HAProxy's master executes itself again, in wait mode: a new
		// process image, which prints the version header again.
		mr.m = &msgs{w: mr.stderr, diagOn: mr.f.diag}
		mr.mu.Lock()
		mr.failed++
		mr.mu.Unlock()
	}
	cfg, g, ok := loadConfig(mr.f, mr.maps, mr.o, nil, io.Discard, mr.stderr)
	if !ok {
		fail()
		return
	}
	applyEnv(cfg.Global.Process.Env)
	mr.mu.Lock()
	old := mr.socks
	mr.mu.Unlock()
	socks, err := runtime.BindListeners(g, old, mr.o.reusePortOff(cfg))
	if err != nil {
		m.alert("%v", err)
		m.alert("[%s.main()] Some protocols failed to start their listeners! Exiting.", os.Args[0])
		fail()
		return
	}
	if cur := mr.target("@1"); cur != nil {
		if why := inProcessBlocker(cur, cfg, g); why != "" {
			m.diag("Reloading with a new worker: %s.", why)
		} else if mr.reloadWorker(cur) {
			mr.mu.Lock()
			mr.socks = socks
			cur.key, cur.addrs = keyOf(cfg, g), bindAddrs(g)
			mr.mu.Unlock()
			mr.closeSockets(old, socks)
			m.diag("Worker (%d) reloaded in process", cur.pid)
			mr.reloadPrograms(cfg)
			m.notice("Loading success.")
			mr.killMaxReloads(cfg)
			return
		} else {
			m.diag("Worker (%d) could not reload in process; starting a new worker.", cur.pid)
		}
	}
	mr.mu.Lock()
	mr.socks = socks
	prev := append([]*worker(nil), mr.workers...)
	mr.mu.Unlock()
	w, err := mr.spawn(keyOf(cfg, g), bindAddrs(g))
	if err == nil && !mr.waitReady(w) {
		err = fmt.Errorf("worker %d did not start", w.pid)
	}
	if err != nil {
		mr.mu.Lock()
		mr.socks = old
		mr.mu.Unlock()
		mr.closeSockets(socks, old)
		fail()
		return
	}
	mr.closeSockets(old, socks)
	m.notice("New worker (%d) forked", w.pid)
	for _, p := range prev {
		if !p.leaving && p != w {
			p.leaving, p.oldSince = true, mr.reloads
			p.cmd.Process.Signal(syscall.SIGUSR1)
		}
	}
	mr.reloadPrograms(cfg)
	m.notice("Loading success.")
	mr.killMaxReloads(cfg)
}

// killMaxReloads sends SIGTERM to the old workers that outlived
// "mworker-max-reloads" reloads (the one that made them old counts), as
// HAProxy's mworker_kill_max_reloads; -1 means no limit.
func (mr *master) killMaxReloads(cfg *parser.Config) {
	p := cfg.Global.Process
	if !p.HasMaxReloads || p.MaxReloads == -1 {
		return
	}
	mr.mu.Lock()
	defer mr.mu.Unlock()
	for _, w := range mr.workers {
		if w.leaving && mr.reloads-w.oldSince+1 > p.MaxReloads {
			w.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// inProcessBlocker says why the worker cannot serve cfg in process: ""
// when it can (gohap-reload in-process, the default, the same process
// settings, no chroot, and sockets for all of g's bind addresses).
func inProcessBlocker(w *worker, cfg *parser.Config, g *runtime.Graph) string {
	k := keyOf(cfg, g)
	switch {
	case cfg.Global.Process.Reload == "new-worker":
		return "'gohap-reload new-worker'"
	case k != w.key:
		return "user, group, chroot, nbthread, ulimit-n, daemon or the TLS 1.3 suite order changed"
	case k.chroot != "":
		return "the worker is chrooted"
	}
	for a := range bindAddrs(g) {
		if !w.addrs[a] {
			return "the worker has no socket for bind address " + a
		}
	}
	return ""
}

// reloadWorker asks w to serve the new configuration in process, and
// waits for its answer.
func (mr *master) reloadWorker(w *worker) bool {
	for drained := false; !drained; {
		select {
		case _, ok := <-w.replies:
			if !ok {
				return false
			}
		default:
			drained = true
		}
	}
	if _, err := w.ipc.Write([]byte{ipcReload}); err != nil {
		return false
	}
	select {
	case c, ok := <-w.replies:
		return ok && c == ipcReady
	case <-time.After(workerStartWait):
		return false
	}
}

// closeSockets closes the sockets of list that keep does not hold; nil
// keep closes them all.
func (mr *master) closeSockets(list, keep []runtime.BoundSocket) {
	if list == nil {
		mr.mu.Lock()
		list = mr.socks
		mr.socks = nil
		mr.mu.Unlock()
	}
	held := map[*os.File]bool{}
	for _, s := range keep {
		held[s.File] = true
	}
	for _, s := range list {
		if !held[s.File] {
			s.File.Close()
		}
	}
}

// kill sends sig to every worker and program (mworker_kill).
func (mr *master) kill(sig syscall.Signal) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	for _, w := range mr.workers {
		w.cmd.Process.Signal(sig)
	}
	for _, w := range mr.progs {
		w.cmd.Process.Signal(sig)
	}
}

// exited handles a worker's end as HAProxy's mworker_catch_sigchld does;
// done is set when no worker is left, with the master's exit code.
func (mr *master) exited(ev exitEvent) (code int, done bool) {
	w, status := ev.w, ev.status
	if w.ipc != nil {
		w.ipc.Close()
	}
	mr.mu.Lock()
	for i, x := range mr.workers {
		if x == w {
			mr.workers = append(mr.workers[:i], mr.workers[i+1:]...)
			break
		}
	}
	for i, x := range mr.progs {
		if x == w {
			mr.progs = append(mr.progs[:i], mr.progs[i+1:]...)
			break
		}
	}
	left := len(mr.workers) + len(mr.progs)
	mr.mu.Unlock()
	m := mr.m
	switch {
	case w.prog != "":
		mr.programExited(w, status)
	case w.leaving:
		m.warning("Former worker (%d) exited with code %d (%s)", w.pid, status, statusText(status))
	default:
		if status < 128 {
			m.warning("Current worker (%d) exited with code %d (%s)", w.pid, status, "Exit")
		} else {
			m.alert("Current worker (%d) exited with code %d (%s)", w.pid, status, statusText(status))
		}
		mr.judgeExit(status)
	}
	if left > 0 {
		return 0, false
	}
	code = max(mr.exitcode, 0)
	m.warning("All workers exited. Exiting... (%d)", code)
	return code, true
}

// judgeExit is what a current child's end does to the master: any
// failure but SIGINT and SIGTERM kills every process (unless
// no-exit-on-failure), and the first abnormal status is the master's
// exit code.
func (mr *master) judgeExit(status int) {
	if status != 0 && status != 130 && status != 143 && !mr.noExit {
		mr.m.alert("exit-on-failure: killing every processes with SIGTERM")
		mr.kill(syscall.SIGTERM)
	}
	if mr.exitcode < 0 && status != 0 && status != 143 {
		mr.exitcode = status
	}
}

// statusText is "Exit" or the signal's name as strsignal() gives it.
func statusText(status int) string {
	if status < 128 {
		return "Exit"
	}
	s := syscall.Signal(status - 128).String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// showProc is the master CLI's "show proc", in HAProxy's layout.
func (mr *master) showProc() string {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	var b strings.Builder
	uptime := func(t time.Time) string {
		up := int(time.Since(t) / time.Second)
		return fmt.Sprintf("%dd%02dh%02dm%02ds", up/86400, (up%86400)/3600, (up%3600)/60, up%60)
	}
	fmt.Fprintf(&b, "#%-14s %-15s %-15s %-15s %-15s\n", "<PID>", "<type>", "<reloads>", "<uptime>", "<version>")
	fmt.Fprintf(&b, "%-15d %-15s %-15s %-15s %-15s\n", os.Getpid(), "master",
		fmt.Sprintf("%d [failed: %d]", mr.reloads, mr.failed), uptime(mr.started), parser.HAProxyVersion)
	// Newest first, as HAProxy lists them.
	ws := append([]*worker(nil), mr.workers...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].started.After(ws[j].started) })
	b.WriteString("# workers\n")
	old := 0
	for _, w := range ws {
		if w.leaving {
			old++
			continue
		}
		fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, "worker", w.reloads, uptime(w.started), parser.HAProxyVersion)
	}
	if old > 0 {
		b.WriteString("# old workers\n")
		for _, w := range ws {
			if w.leaving {
				fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, "worker", w.reloads, uptime(w.started), parser.HAProxyVersion)
			}
		}
	}
	b.WriteString("# programs\n")
	old = 0
	for _, w := range mr.progs {
		if w.leaving {
			old++
			continue
		}
		fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, w.prog, w.reloads, uptime(w.started), "-")
	}
	if old > 0 {
		b.WriteString("# old programs\n")
		for _, w := range mr.progs {
			if w.leaving {
				fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, w.prog, w.reloads, uptime(w.started), "-")
			}
		}
	}
	return b.String()
}

// target finds the worker of a "@1" or "@!pid" prefix.
func (mr *master) target(prefix string) *worker {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if p, ok := strings.CutPrefix(prefix, "@!"); ok {
		n, err := strconv.Atoi(p)
		for _, w := range mr.workers {
			if err == nil && w.pid == n {
				return w
			}
		}
		return nil
	}
	if prefix == "@1" {
		var cur *worker
		for _, w := range mr.workers {
			if !w.leaving && (cur == nil || w.started.After(cur.started)) {
				cur = w
			}
		}
		return cur
	}
	return nil
}

// inherited holds the descriptors this process received open from its
// parent (no close-on-exec), by number, found once: an *os.File per
// descriptor, kept so that no finalizer closes it.
var inherited struct {
	once  sync.Once
	files []*os.File
}

// inheritedFiles lists, for exec.Cmd's ExtraFiles, descriptors 3 and up
// to the highest one this process inherited: those at their own
// number, nil (closed in the child) for the others.
func inheritedFiles() []*os.File {
	inherited.once.Do(func() {
		ents, _ := os.ReadDir("/proc/self/fd")
		top := 2
		open := map[int]bool{}
		for _, e := range ents {
			fd, err := strconv.Atoi(e.Name())
			if err != nil || fd < 3 {
				continue
			}
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
				open[fd] = true
				top = max(top, fd)
			}
		}
		for fd := 3; fd <= top; fd++ {
			var f *os.File
			if open[fd] {
				f = os.NewFile(uintptr(fd), "inherited")
			}
			inherited.files = append(inherited.files, f)
		}
	})
	return append([]*os.File(nil), inherited.files...)
}
