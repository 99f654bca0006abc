package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// daemonEnv names the readiness fd of a daemon child (-D): Go cannot
// fork, so the daemon is the same command started again, detached.
const daemonEnv = "GOHAP_DAEMON_READY_FD"

// applyLimits applies -n and -N to a parsed configuration: -n replaces
// the global maxconn, -N is the maxconn of every frontend that sets none
// (HAProxy presets it in each defaults section).
func (o *procOpts) applyLimits(cfg *parser.Config) {
	if o.maxconn > 0 {
		cfg.Global.Maxconn = o.maxconn
	}
	cfg.Global.MemMax = o.memMax
	if o.maxpconn <= 0 {
		return
	}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFE != 0 && p.Maxconn == 0 {
			p.Maxconn = o.maxpconn
		}
	}
}

// limitMemory applies -m. HAProxy sets RLIMIT_AS, which a Go process
// cannot live under (its runtime reserves more address space than it
// uses), so the limit is the Go runtime's memory limit: the collector
// works to keep the process under it, but going over it fails nothing.
func (o *procOpts) limitMemory() {
	if o.memMax > 0 {
		debug.SetMemoryLimit(int64(o.memMax) << 20)
	}
}

// tellOld sends sig to the -sf/-st pids and returns how many got it.
func (o *procOpts) tellOld(sig syscall.Signal) int {
	n := 0
	for _, p := range o.oldPids {
		if syscall.Kill(p, sig) == nil {
			n++
		}
	}
	return n
}

// start binds the listeners. While an address is in use and there are
// old pids, it asks them to pause (SIGTTOU) and tries again every 10 ms
// for 2 s, then tells them to resume (SIGTTIN) if it failed, as HAProxy.
func (o *procOpts) start(eng *runtime.Engine) error {
	err := eng.Bind()
	paused := false
	for retry := 200; err != nil && retry > 0 && len(o.oldPids) > 0 && addrInUse(err); retry-- {
		if o.tellOld(syscall.SIGTTOU) == 0 {
			break
		}
		paused = true
		time.Sleep(10 * time.Millisecond)
		err = eng.Bind()
	}
	if err != nil && paused {
		o.tellOld(syscall.SIGTTIN)
	}
	return err
}

func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "Address already in use")
}

// daemonize runs -D: it starts this command again in a new session with
// stdio on /dev/null, relays what it prints until its listeners are up,
// writes its pid to the pidfile and returns 0. It returns the child's
// exit code when the child fails to start.
func (o *procOpts) daemonize(stderr io.Writer) int {
	m := &msgs{w: stderr}
	var pidf *os.File
	if o.pidfile != "" {
		os.Remove(o.pidfile)
		f, err := os.OpenFile(o.pidfile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			m.alert("[gohap.main()] Cannot create pidfile %s", o.pidfile)
			return 1
		}
		pidf = f
		defer pidf.Close()
	}
	fail := func(format string, a ...any) int {
		m.alert(format, a...)
		if pidf != nil {
			os.Remove(o.pidfile)
		}
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("[gohap.main()] Cannot fork: %v.", err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fail("[gohap.main()] Cannot fork: %v.", err)
	}
	defer devnull.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fail("[gohap.main()] Cannot fork: %v.", err)
	}
	defer readyR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return fail("[gohap.main()] Cannot fork: %v.", err)
	}
	defer errR.Close()
	cmd := exec.Command(exe, o.argv...)
	cmd.Dir = o.startDir
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, errW
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	errW.Close()
	if err != nil {
		return fail("[gohap.main()] Cannot fork: %v.", err)
	}
	relayed := make(chan struct{})
	go func() {
		io.Copy(stderr, errR)
		close(relayed)
	}()
	var b [1]byte
	if n, _ := readyR.Read(b[:]); n == 1 {
		select {
		case <-relayed:
		case <-time.After(time.Second):
		}
		if pidf != nil {
			fmt.Fprintf(pidf, "%d\n", cmd.Process.Pid)
		}
		cmd.Process.Release()
		return 0
	}
	err = cmd.Wait()
	<-relayed
	if pidf != nil {
		os.Remove(o.pidfile)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	return 1
}

// daemonReady tells a -D parent that the listeners are up, then detaches
// stdio as a daemon does. It does nothing outside a daemon child.
func daemonReady() {
	fd, err := strconv.Atoi(os.Getenv(daemonEnv))
	if err != nil {
		return
	}
	os.Unsetenv(daemonEnv)
	f := os.NewFile(uintptr(fd), "ready")
	f.Write([]byte{'R'})
	f.Close()
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		unix.Dup2(int(null.Fd()), 1)
		unix.Dup2(int(null.Fd()), 2)
		null.Close()
	}
}

// dumpLibs prints -dL's list: the executable and the shared objects
// mapped into the process.
func dumpLibs(w io.Writer) {
	fmt.Fprintln(w, "List of loaded object files:")
	exe, _ := os.Executable()
	fmt.Fprintln(w, exe)
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	seen := map[string]bool{exe: true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		p := fields[5]
		if strings.HasPrefix(p, "/") && strings.Contains(p, ".so") && !seen[p] {
			seen[p] = true
			fmt.Fprintln(w, p)
		}
	}
}

// switchWriter is an io.Writer whose target can change: -q silences the
// log once the listeners are up, as HAProxy detaches from the terminal.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

// applyCPUMap binds the process to the CPUs cpu-map gives its threads.
// HAProxy binds each of its threads to its own map (a thread map within
// the process map, the process map applying only in a daemon or a
// master's worker); gohap's goroutines move between threads, so every
// thread gets the union of those sets, and a thread left unbound leaves
// the process as it is.
func applyCPUMap(m *parser.CPUMap, threads int, withProc bool) error {
	if !m.Set {
		return nil
	}
	u, ok := cpuMapUnion(m, threads, withProc)
	if !ok {
		return nil
	}
	var set unix.CPUSet
	set.Zero()
	for n := range parser.CPUSetSize {
		if u.Has(n) {
			set.Set(n)
		}
	}
	return setAffinity(&set)
}

// setAffinity binds every thread of the process to set.
func setAffinity(set *unix.CPUSet) error {
	// Threads the runtime starts meanwhile copy their parent's set: a
	// second pass catches those started during the first.
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				if err := unix.SchedSetaffinity(tid, set); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cpuMapUnion is the union of the CPU sets of threads 1 to threads
// (HAProxy binds at most 64); false when one of them stays unbound and
// may run anywhere.
func cpuMapUnion(m *parser.CPUMap, threads int, withProc bool) (parser.CPUSet, bool) {
	var u parser.CPUSet
	hasProc := m.Proc.Count() > 0
	if threads > len(m.Thread) {
		return u, false
	}
	for i := range threads {
		t := m.Thread[i]
		if hasProc {
			t.And(&m.Proc)
		}
		if t.Count() == 0 {
			if !withProc || !hasProc {
				return u, false
			}
			t = m.Proc
		}
		u.Or(&t)
	}
	return u, true
}
