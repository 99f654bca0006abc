package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// serve checks, compiles and runs a configuration until a signal stops it.
// It returns the process exit code.
func serve(f *checkFlags, maps []string, o *procOpts, stdout, stderr io.Writer) int {
	m := &msgs{w: stderr}
	if what := o.unsupported(); what != "" {
		m.alert("%s is not supported by the gohap runtime yet.", what)
		return 1
	}
	w := readWorkerEnv()
	child := os.Getenv(daemonEnv) != ""
	if w == nil && !child && !o.daemon {
		// "daemon" and "pidfile" in the configuration act as -D and -p.
		if g := peekGlobal(f); g != nil && g.Daemon {
			o.daemon = true
			if o.pidfile == "" {
				o.pidfile = g.Process.Pidfile
			}
		}
	}
	if o.daemon && !child && w == nil {
		return o.daemonize(stderr)
	}
	if o.debug && o.quiet {
		m.warning("<debug> mode incompatible with <quiet> and <daemon>. Keeping <debug> only.")
		o.quiet = false
	}
	f.msgs = m
	cfg, g, ok := loadConfig(f, maps, o, w, stdout, stderr)
	if !ok {
		return 1
	}
	if w != nil {
		// The master writes the pidfile and tells the old processes.
		o.oldPids, o.pidfile = nil, ""
	} else {
		if o.pidfile == "" {
			o.pidfile = cfg.Global.Process.Pidfile
		}
		if o.mworker || cfg.Global.Process.MasterWorker {
			return runMaster(f, maps, o, cfg, g, child, stdout, stderr)
		}
		if len(o.masterCLI) > 0 {
			m.warning("config : a master CLI socket was defined, but master-worker mode (-W) is not enabled.")
		}
		applyEnv(cfg.Global.Process.Env)
		applyUlimit(cfg.Global.Process.UlimitN, m)
	}
	id, err := resolveIdentity(cfg.Global)
	if err != nil {
		m.alert("%v", err)
		return 1
	}
	o.limitMemory()
	applyThreads(g)
	logOut := &switchWriter{w: stderr}
	log := newLogger(logOut)
	defer log.Sync()
	eng := runtime.NewEngine(g, log)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTTOU, syscall.SIGTTIN)
	defer signal.Stop(sigs)
	if err := o.start(eng); err != nil {
		m.alert("%v", err)
		m.alert("[gohap.main()] Some protocols failed to start their listeners! Exiting.")
		return 1
	}
	log.Info("gohap started", zap.String("version", Version), zap.Int("pid", os.Getpid()))
	if id.apply(m) != nil {
		if w == nil {
			o.tellOld(syscall.SIGTTIN)
		}
		return 1
	}
	switch {
	case w != nil:
		w.ready()
	case child:
		daemonReady()
	}
	if !child && o.quiet && !o.verbose {
		logOut.set(io.Discard)
	}
	if w == nil {
		o.tellOld(o.oldSig)
	}
	done := make(chan struct{})
	go func() { eng.Wait(); close(done) }()
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				log.Info("soft stop: no more connections accepted, finishing the current ones")
				eng.Handover()
				eng.SoftStop()
				if d := cfg.Global.HardStopAfter; d > 0 {
					time.AfterFunc(d, func() {
						log.Warn("soft-stop running for too long, performing a hard-stop.")
						eng.Stop()
					})
				}
			case syscall.SIGHUP:
				dumpStates(eng.Snapshot(), log)
			case syscall.SIGTTOU:
				log.Info("SIGTTOU: pausing listeners")
				eng.Pause()
			case syscall.SIGTTIN:
				log.Info("SIGTTIN: resuming listeners")
				eng.Resume()
			case syscall.SIGTERM, deadlySIGINT(w != nil):
				// HAProxy dies by the signal: the parent sees it, not a code.
				log.Info("stopping", zap.String("signal", sig.String()))
				eng.Stop()
				waitBounded(done)
				log.Sync()
				signal.Reset(sig)
				syscall.Kill(os.Getpid(), sig.(syscall.Signal))
				select {}
			default:
				log.Info("stopping", zap.String("signal", sig.String()))
				eng.Stop()
				waitBounded(done)
				return 0
			}
		case <-done:
			log.Info("all sessions ended, exiting")
			return 0
		}
	}
}

// loadConfig checks and compiles the configuration, printing as HAProxy does;
// a worker adopts its inherited sockets first.
func loadConfig(f *checkFlags, maps []string, o *procOpts, w *workerEnv, stdout, stderr io.Writer) (*parser.Config, *runtime.Graph, bool) {
	m := f.msgs
	if code := check(f, io.Discard, stderr); code == 1 {
		return nil, nil, false
	}
	dumps(f, stdout)
	cfg := f.parsed
	o.applyLimits(cfg)
	if w != nil {
		w.adopt(cfg)
	}
	opts := runtime.Options{Map: map[string]string{}}
	for _, mp := range maps {
		from, to, ok := strings.Cut(mp, "=")
		if !ok || from == "" || to == "" {
			m.alert("--map expects FROM=TO, got '%s'.", mp)
			return nil, nil, false
		}
		opts.Map[from] = to
	}
	g, errs := runtime.Compile(cfg, opts)
	if len(errs) > 0 {
		for _, e := range errs {
			m.alert("config : %v", e)
		}
		m.alert("config : Fatal errors found in configuration.")
		return nil, nil, false
	}
	// The runtime CLI's sockets are listeners too, as in HAProxy: a
	// configuration of backends and a stats socket runs their checks.
	nb := len(cfg.Global.Stats.Sockets)
	for _, fe := range g.Frontends {
		nb += len(fe.Binds)
	}
	if nb == 0 {
		m.alert("[gohap.main()] No enabled listener found (check for 'bind' directives) ! Exiting.")
		return nil, nil, false
	}
	return cfg, g, true
}

// dumpStates logs every server's state on SIGHUP, in HAProxy's words
// (src/haproxy.c sig_dump_state), without its per-proxy totals.
func dumpStates(backends []backend.Status, log *zap.Logger) {
	log.Warn("SIGHUP received, dumping servers states.")
	for _, be := range backends {
		for _, s := range be.Servers {
			state := "DOWN"
			if s.State == "UP" || s.State == "DRAIN" {
				state = "UP"
			}
			log.Warn(fmt.Sprintf("SIGHUP: Server %s/%s is %s. Conn: %d act, %d pend, %d tot.", be.Name, s.Name, state, s.Sessions, s.Queue, s.Total))
		}
	}
}

// hardStopWait bounds how long a hard stop waits for sessions to close:
// the process must be gone well within the 2 s test harnesses allow.
const hardStopWait = 500 * time.Millisecond

func waitBounded(done <-chan struct{}) {
	select {
	case <-done:
	case <-time.After(hardStopWait):
	}
}

func newLogger(w io.Writer) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zap.InfoLevel)
	return zap.New(core)
}

// applyThreads runs the process on nbthread threads, as HAProxy does:
// Go's scheduler uses GOMAXPROCS of them for Go code. It must run before
// the engine is made, which picks its dispatch mode from it.
func applyThreads(g *runtime.Graph) {
	if g.Threads > 0 {
		goruntime.GOMAXPROCS(g.Threads)
	}
}

// deadlySIGINT is SIGINT for a master's worker, which dies by it as by
// SIGTERM (the master then exits 130, "Interrupt"), and otherwise a
// signal never delivered: a standalone process exits 0 on SIGINT.
func deadlySIGINT(worker bool) os.Signal {
	if worker {
		return syscall.SIGINT
	}
	return syscall.Signal(-1)
}
