package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// A worker is this command started again by the master, with these
// variables naming what it inherits.
const (
	// workerIPCEnv is the worker's end of a socketpair with the master:
	// the worker writes one byte once it serves, and leaves when the
	// master's end closes.
	workerIPCEnv = "GOHAP_MWORKER_IPC_FD"
	// workerListenEnv lists the listening sockets: "fd=address;...".
	workerListenEnv = "GOHAP_MWORKER_LISTEN_FDS"
	// workerCLIEnv is a listening unix socket the worker serves its
	// runtime CLI on, for the master CLI's @1 and @!pid.
	workerCLIEnv = "GOHAP_MWORKER_CLI_FD"
	// workerOldEnv lists the pids of the workers that ran when this one
	// was forked, newest first, comma-separated.
	workerOldEnv = "GOHAP_MWORKER_OLD_PIDS"
)

// workerEnv is what a worker inherited; nil outside a worker.
type workerEnv struct {
	ipc       *os.File
	cliFD     int
	listeners map[string]int
	// inherited is set once the engine was given the listeners.
	inherited bool
	// reloads receives the master's requests for an in-process reload.
	reloads chan struct{}
	// old are the pids of workerOldEnv.
	old []string
}

// The bytes of the master-worker socketpair: the worker says it serves,
// the master asks for an in-process reload, the worker answers.
const (
	ipcReady  = 'R'
	ipcReload = 'L'
	ipcFailed = 'F'
)

// readWorkerEnv reads and clears the worker's variables.
func readWorkerEnv() *workerEnv {
	ipc, err := strconv.Atoi(os.Getenv(workerIPCEnv))
	if err != nil {
		return nil
	}
	w := &workerEnv{ipc: os.NewFile(uintptr(ipc), "master"), cliFD: -1, listeners: map[string]int{}, reloads: make(chan struct{}, 1)}
	if n, err := strconv.Atoi(os.Getenv(workerCLIEnv)); err == nil {
		w.cliFD = n
	}
	for _, kv := range strings.Split(os.Getenv(workerListenEnv), ";") {
		fd, addr, ok := strings.Cut(kv, "=")
		if n, err := strconv.Atoi(fd); ok && err == nil {
			w.listeners[addr] = n
		}
	}
	if v := os.Getenv(workerOldEnv); v != "" {
		w.old = strings.Split(v, ",")
	}
	for _, k := range []string{workerIPCEnv, workerListenEnv, workerCLIEnv, workerOldEnv} {
		os.Unsetenv(k)
	}
	return w
}

// adopt makes the engine use the inherited sockets, and adds the
// master's CLI socket to the stats sockets before the graph is compiled.
func (w *workerEnv) adopt(cfg *parser.Config) {
	if !w.inherited {
		// Adopted once: later graphs take the sockets from the engine.
		w.inherited = true
		runtime.InheritListeners(w.listeners)
	}
	if w.cliFD >= 0 {
		cfg.Global.Stats.Sockets = append(cfg.Global.Stats.Sockets, parser.StatsSocket{
			Pos: cfg.Global.Pos, Address: masterSocketAddr(w.cliFD), Level: "admin"})
	}
}

// masterServers names the servers of the MASTER proxy a worker has,
// the master's view of its workers when it forked this one
// (mworker_cli_proxy_create): "cur-1" for this one, then "old-PID" for
// the others, newest first. Outside a worker there is no such proxy.
func (w *workerEnv) masterServers() []string {
	if w == nil {
		return nil
	}
	out := []string{"cur-1"}
	for _, pid := range w.old {
		out = append(out, "old-"+pid)
	}
	return out
}

// markMasterSocket tells the engine which stats socket is the master
// CLI's, outside a worker none.
func (w *workerEnv) markMasterSocket(e *runtime.Engine) {
	if w != nil && w.cliFD >= 0 {
		e.MasterSocket(masterSocketAddr(w.cliFD))
	}
}

// masterSocketAddr is the stats socket address of the master CLI's
// inherited socket.
func masterSocketAddr(fd int) string { return "fd@" + strconv.Itoa(fd) }

// ready tells the master the worker serves, then exits the process when
// the master goes away, as HAProxy's workers do.
func (w *workerEnv) ready() {
	w.ipc.Write([]byte{ipcReady})
	go func() {
		var b [64]byte
		for {
			n, err := w.ipc.Read(b[:])
			if err != nil {
				os.Exit(1)
			}
			for _, c := range b[:n] {
				if c == ipcReload {
					w.reloads <- struct{}{}
				}
			}
		}
	}()
}

// reply tells the master how an in-process reload went.
func (w *workerEnv) reply(ok bool) {
	c := byte(ipcFailed)
	if ok {
		c = ipcReady
	}
	w.ipc.Write([]byte{c})
}

// identity is what the serving process gives up once its sockets are
// bound: the root directory, then its group and user.
type identity struct {
	chroot   string
	uid, gid int
}

// resolveIdentity reads user/uid, group/gid and chroot; names are looked
// up before the chroot hides the system's databases.
func resolveIdentity(p parser.Global) (identity, error) {
	id := identity{chroot: p.Process.Chroot, uid: p.Process.UID, gid: p.Process.GID}
	if p.User != "" {
		u, err := user.Lookup(p.User)
		if err != nil {
			return id, fmt.Errorf("cannot find user id for '%s' (0:Success)", p.User)
		}
		id.uid, _ = strconv.Atoi(u.Uid)
	}
	if p.Group != "" {
		g, err := user.LookupGroup(p.Group)
		if err != nil {
			return id, fmt.Errorf("cannot find group id for '%s' (0:Success)", p.Group)
		}
		id.gid, _ = strconv.Atoi(g.Gid)
	}
	return id, nil
}

// apply chroots and drops privileges as HAProxy's set_identity() does,
// with its messages. In Go, Setgid and Setuid apply to every thread.
func (id identity) apply(m *msgs) error {
	prog := os.Args[0]
	if id.chroot != "" {
		if syscall.Chroot(id.chroot) != nil || os.Chdir("/") != nil {
			m.alert("[%s.main()] Cannot chroot(%s).", prog, id.chroot)
			return syscall.EPERM
		}
	}
	if id.gid != 0 {
		if n, _ := syscall.Getgroups(); len(n) > 0 && syscall.Setgroups(nil) != nil {
			m.warning("[%s.main()] Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.", prog)
		}
		if syscall.Setgid(id.gid) != nil {
			m.alert("[%s.main()] Cannot set gid %d.", prog, id.gid)
			return syscall.EPERM
		}
	}
	if id.uid != 0 && syscall.Setuid(id.uid) != nil {
		m.alert("[%s.main()] Cannot set uid %d.", prog, id.uid)
		return syscall.EPERM
	}
	return nil
}

// applyEnv runs the configuration's setenv, presetenv, unsetenv and
// resetenv on the process environment, which the workers inherit.
func applyEnv(ops [][]string) {
	for _, w := range ops {
		switch {
		case (w[0] == "setenv" || w[0] == "presetenv") && len(w) == 3:
			if _, set := os.LookupEnv(w[1]); w[0] == "setenv" || !set {
				os.Setenv(w[1], w[2])
			}
		case w[0] == "unsetenv":
			for _, n := range w[1:] {
				os.Unsetenv(n)
			}
		case w[0] == "resetenv":
			keep := map[string]string{}
			for _, n := range w[1:] {
				if v, ok := os.LookupEnv(n); ok {
					keep[n] = v
				}
			}
			os.Clearenv()
			for n, v := range keep {
				os.Setenv(n, v)
			}
		}
	}
}

// applyFDLimit asks for the descriptor limit of fd (ulimit-n, else
// maxsock) as HAProxy does: it only raises the limit, up to
// fd-hard-limit; a limit it cannot have is fatal with strict-limits
// (the default), else it takes the most it can, with a warning, and fd
// records what it got. It reports whether the process may go on.
func applyFDLimit(fd *runtime.FDLimits, m *msgs) bool {
	want := fd.Nofile
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	hard := uint64(fd.HardLimit)
	if fd.HardLimit > 0 && want > fd.HardLimit || !raiseFDLimit(uint64(want), lim) {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if hard > 0 && lim.Cur > hard {
			lim.Cur = hard
		}
		if fd.Strict {
			m.alert("[%s.main()] Cannot raise FD limit to %d, limit is %d.", os.Args[0], want, int(lim.Cur))
			return false
		}
		lim.Cur = lim.Max
		if hard > 0 && lim.Cur > hard {
			lim.Cur = hard
		}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
		m.warning("[%s.main()] Cannot raise FD limit to %d, limit is %d.", os.Args[0], want, int(lim.Cur))
		fd.Nofile = int(lim.Cur)
	}
	return true
}

// raiseFDLimit sets the soft descriptor limit to n, and the hard one
// to n if it is lower; a lower limit than the current one is left as it
// is (HAProxy 2.6 only raises it).
func raiseFDLimit(n uint64, cur syscall.Rlimit) bool {
	if n <= cur.Cur {
		return true
	}
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: max(cur.Max, n)}) == nil
}

// checkFDLimit is HAProxy's last check of the limit, once bound: below
// maxsock it alerts, and with strict-limits the process stops.
func checkFDLimit(fd *runtime.FDLimits, maxconn int, m *msgs) bool {
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur >= uint64(fd.Maxsock) {
		return true
	}
	m.alert("[%s.main()] FD limit (%d) too low for maxconn=%d/maxsock=%d. Please raise 'ulimit-n' to %d or more to avoid any trouble.",
		os.Args[0], int(lim.Cur), maxconn, fd.Maxsock, fd.Maxsock)
	return !fd.Strict
}

// peekGlobal reads the global settings without printing anything, to
// learn "daemon" and "pidfile" before the process forks; nil when the
// files cannot be read.
func peekGlobal(f *checkFlags) *parser.Global {
	inputs, err := parser.ReadInputs(f.files)
	if err != nil {
		return nil
	}
	cfg, _ := parser.Parse(inputs, parser.Options{LookupEnv: f.lookup})
	if cfg == nil {
		return nil
	}
	return &cfg.Global
}

// writePidfile writes pid to path as HAProxy does: removed, created
// again, one line.
func writePidfile(path string, pid int) error {
	os.Remove(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.WriteString(f, strconv.Itoa(pid)+"\n")
	return err
}

// applyDumpable is set-dumpable, once the identity changed: no file or
// core size limit (fatal when it cannot be had under strict-limits, a
// warning otherwise), and the dumpable flag a change of user clears.
func applyDumpable(g *parser.Global, m *msgs) bool {
	if !g.SetDumpable {
		return true
	}
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	for _, r := range []struct {
		res  int
		what string
	}{{unix.RLIMIT_FSIZE, "maximum file size"}, {unix.RLIMIT_CORE, "core dump size"}} {
		if unix.Setrlimit(r.res, &inf) != nil {
			if !g.NoStrictLimits {
				m.alert("[%s.main()] Failed to set the raise the %s.", os.Args[0], r.what)
				return false
			}
			m.warning("[%s.main()] Failed to set the raise the %s.", os.Args[0], r.what)
		}
	}
	if unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0) != nil {
		m.warning("[%s.main()] Failed to set the dumpable flag, no core will be dumped.", os.Args[0])
	}
	return true
}
