package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// serve checks, compiles and runs a configuration until a signal stops it.
// It returns the process exit code.
func serve(f *checkFlags, maps []string, o *procOpts, stdout, stderr io.Writer) int {
	m := &msgs{w: stderr}
	w := readWorkerEnv()
	child := os.Getenv(daemonEnv) != ""
	// As HAProxy: -d, -db and -Ws inhibit the configuration's "daemon";
	// -D inhibits -d.
	if o.daemon {
		o.debug = false
	}
	if w == nil && !child {
		// "daemon" and "pidfile" in the configuration act as -D and -p.
		if g := peekGlobal(f); g != nil {
			o.daemon = o.daemon || g.Daemon && !o.debug && !o.foreground
			if o.daemon && o.pidfile == "" {
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
	if w == nil && (o.verbose || o.debug) {
		verboseStart(cfg, g, stdout, stderr)
	}
	// -x, as HAProxy: not in a worker (its master holds the sockets), and
	// fatal only outside master-worker mode. /dev/null means none.
	if w == nil && o.oldSocket != "" && o.oldSocket != "/dev/null" {
		files, err := fetchSockets(o.oldSocket)
		if err != nil {
			m.warning("%v", err)
			m.alert("Failed to get the sockets from the old process!")
			if !o.mworker && !cfg.Global.Process.MasterWorker {
				return 1
			}
		}
		inheritOld(g, files)
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
		if !applyFDLimit(g.FD(), m) {
			return 1
		}
	}
	id, err := resolveIdentity(cfg.Global)
	if err != nil {
		m.alert("%v", err)
		return 1
	}
	o.limitMemory()
	applyThreads(g)
	// As HAProxy, a binding that fails (CPUs absent here) is left out.
	_ = applyCPUMap(&cfg.Global.CPUMap, goruntime.GOMAXPROCS(0), o.daemon || child || w != nil)
	logOut := &switchWriter{w: stderr}
	if quietRun(o, cfg) {
		// HAProxy prints nothing at all in quiet mode.
		logOut.set(io.Discard)
	}
	log := newLogger(logOut)
	ev := &msgs{w: logOut, diagOn: f.diag}
	defer log.Sync()
	eng := runtime.NewEngine(g, log)
	w.markMasterSocket(eng)
	if o.reusePortOff(cfg) {
		eng.NoReusePort()
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTTOU, syscall.SIGTTIN)
	defer signal.Stop(sigs)
	if err := o.start(eng); err != nil {
		m.alert("%v", err)
		m.alert("[gohap.main()] Some protocols failed to start their listeners! Exiting.")
		return 1
	}
	if w == nil && !checkPrivileges(cfg, id.uid, o, m) {
		return 1
	}
	// Bound as the starting user, serving only as the configured one.
	if id.apply(m) != nil {
		if w == nil {
			o.tellOld(syscall.SIGTTIN)
		}
		return 1
	}
	if !applyDumpable(&cfg.Global, m) {
		return 1
	}
	if w == nil && !checkFDLimit(g.FD(), g.Maxconn, m) {
		return 1
	}
	// Serving reads only the global section: the parsed configuration
	// goes, with what parsing and checking left behind (below).
	global := cfg.Global
	cfg = nil
	eng.Serve()
	switch {
	case w != nil:
		w.ready()
	case child:
		daemonReady()
	}
	if w == nil {
		o.tellOld(o.oldSig)
	}
	// The memory of the parsing and checks goes back to the system now,
	// not at the pace of the runtime's scavenger: for a large
	// configuration, tens of megabytes.
	debug.FreeOSMemory()
	es := newEngineSet(eng)
	// paused is between SIGTTOU and SIGTTIN, whose messages HAProxy
	// prints when the listeners change state.
	paused := false
	var reloads <-chan struct{}
	if w != nil {
		reloads = w.reloads
	}
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				es.cur.Handover()
				es.each((*runtime.Engine).SoftStop)
				// Every HAProxy 2.6 process has an internal HTTP client
				// proxy, stopped last; gohap's has nothing to count.
				log.Warn("Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).")
				if d := global.HardStopAfter; d > 0 {
					time.AfterFunc(d, func() {
						log.Warn("soft-stop running for too long, performing a hard-stop.")
						es.each((*runtime.Engine).HardStop)
					})
				}
			case syscall.SIGHUP:
				dumpStates(es.cur.States(), w.masterServers(), log)
			case syscall.SIGTTOU:
				es.cur.Pause()
				if !paused {
					for _, p := range es.cur.ListenerProxies() {
						log.Warn("Paused " + p + ".")
					}
				}
				paused = true
			case syscall.SIGTTIN:
				es.cur.Resume()
				if paused {
					for _, p := range es.cur.ListenerProxies() {
						log.Warn("Resumed " + p + ".")
					}
				}
				paused = false
			case syscall.SIGTERM, syscall.SIGINT:
				// HAProxy 2.6 dies by the signal (it handles neither outside
				// its master): the parent sees it, not a code, and it says
				// nothing.
				logOut.set(io.Discard)
				es.each((*runtime.Engine).Stop)
				waitBounded(es.allDone())
				log.Sync()
				signal.Reset(sig)
				syscall.Kill(os.Getpid(), sig.(syscall.Signal))
				select {}
			default:
				logOut.set(io.Discard)
				es.each((*runtime.Engine).Stop)
				waitBounded(es.allDone())
				return 0
			}
		case <-reloads:
			if next, ncfg, ng := reloadInProcess(f, maps, o, w, es.cur, log, ev); next != nil {
				if d := global.HardStopAfter; d > 0 {
					// As a former worker would be: its configuration's
					// hard-stop-after bounds the retired graph's sessions,
					// with that worker's warning.
					old := es.cur
					time.AfterFunc(d, func() {
						if old.Sessions() > 0 {
							log.Warn("soft-stop running for too long, performing a hard-stop.")
							old.HardStop()
							return
						}
						old.Stop()
					})
				}
				es.swap(next)
				global, g = ncfg.Global, ng
				if p := global.Process; p.HasMaxReloads && p.MaxReloads != -1 {
					es.stopOlderThan(p.MaxReloads, ev)
				}
				w.reply(true)
			} else {
				w.reply(false)
			}
		case e := <-es.ended:
			if es.remove(e) {
				return 0
			}
			es.released()
		}
	}
}

// reloadInProcess reads the configuration again in a worker and serves it
// with a new engine on the same listening sockets; the old engine keeps
// its sessions until they end. The master already checked the files and
// printed what they warn about. It returns nil when the new engine cannot
// start; the master then starts a new worker. Only -dD tells how it went:
// HAProxy has no in-process reload, nor messages for it.
func reloadInProcess(f *checkFlags, maps []string, o *procOpts, w *workerEnv, cur *runtime.Engine, log *zap.Logger, ev *msgs) (*runtime.Engine, *parser.Config, *runtime.Graph) {
	f.msgs = &msgs{w: io.Discard}
	cfg, g, ok := loadConfig(f, maps, o, w, io.Discard, io.Discard)
	if !ok {
		ev.diag("in-process reload: the configuration does not load here")
		return nil, nil, nil
	}
	applyEnv(cfg.Global.Process.Env)
	next := runtime.NewEngine(g, log)
	w.markMasterSocket(next)
	next.TakeOver(cur)
	if err := next.Start(); err != nil {
		ev.diag("in-process reload failed: %v", err)
		return nil, nil, nil
	}
	cur.Retire()
	ev.diag("reloaded in process: new connections use the new configuration, %d sessions on the former one", cur.Sessions())
	return next, cfg, g
}

// engineSet is a process's engines: the current one, which accepts, and
// the ones retired by in-process reloads, which finish their sessions.
type engineSet struct {
	cur     *runtime.Engine
	curDone bool
	// old maps the retired engines to the reload that retired them.
	old     map[*runtime.Engine]int
	reloads int
	ended   chan *runtime.Engine
	// freeing returns freed memory to the system (released).
	freeing *time.Timer
}

func newEngineSet(e *runtime.Engine) *engineSet {
	es := &engineSet{cur: e, old: map[*runtime.Engine]int{}, ended: make(chan *runtime.Engine, 4)}
	es.watch(e)
	return es
}

func (es *engineSet) watch(e *runtime.Engine) {
	go func() { e.Wait(); es.ended <- e }()
}

// swap makes next current; the former one must be retired.
func (es *engineSet) swap(next *runtime.Engine) {
	es.reloads++
	es.old[es.cur] = es.reloads
	es.cur = next
	es.watch(next)
}

// stopOlderThan closes the sessions of the retired engines that outlived
// max reloads (the one that retired them counts): mworker-max-reloads
// for the old configurations a worker keeps in process.
func (es *engineSet) stopOlderThan(max int, ev *msgs) {
	for e, at := range es.old {
		if es.reloads-at+1 > max {
			ev.diag("mworker-max-reloads: closing the %d sessions of a former configuration", e.Sessions())
			e.Stop()
		}
	}
}

// remove forgets an engine that ended; true when none is left serving.
func (es *engineSet) remove(e *runtime.Engine) bool {
	if e == es.cur {
		es.curDone = true
	}
	delete(es.old, e)
	return es.curDone && len(es.old) == 0
}

// releaseDelay gathers the retired graphs that end together (their
// clients leaving at once) into one return of memory to the system.
const releaseDelay = time.Second

// released runs once a retired graph ended: its memory goes back to the
// system soon, rather than whenever the runtime's scavenger gets to it.
func (es *engineSet) released() {
	if es.freeing == nil {
		es.freeing = time.AfterFunc(releaseDelay, debug.FreeOSMemory)
	} else {
		es.freeing.Reset(releaseDelay)
	}
}

func (es *engineSet) each(f func(*runtime.Engine)) {
	f(es.cur)
	for e := range es.old {
		f(e)
	}
}

// allDone is closed once every engine's sessions are over.
func (es *engineSet) allDone() <-chan struct{} {
	list := []*runtime.Engine{es.cur}
	for e := range es.old {
		list = append(list, e)
	}
	done := make(chan struct{})
	go func() {
		for _, e := range list {
			e.Wait()
		}
		close(done)
	}()
	return done
}

// loadConfig checks and compiles the configuration, printing as HAProxy does;
// a worker adopts its inherited sockets first.
func loadConfig(f *checkFlags, maps []string, o *procOpts, w *workerEnv, stdout, stderr io.Writer) (*parser.Config, *runtime.Graph, bool) {
	m := f.msgs
	code := check(f, io.Discard, stderr)
	if cfg := f.parsed; cfg != nil && cfg.DefaultPathReturn != "" {
		// default-path: the runtime loads the configuration's files from
		// there; then, as in HAProxy, relative paths (sockets, pidfile)
		// are the starting directory's again.
		defer os.Chdir(cfg.DefaultPathReturn)
	}
	if code == 1 {
		return nil, nil, false
	}
	dumps(f, stdout)
	// The caller holds the configuration for as long as it needs it.
	cfg := f.parsed
	f.parsed = nil
	o.applyLimits(cfg)
	applyNUMA(cfg, sysfsRoot)
	if w != nil {
		w.adopt(cfg)
	}
	opts := runtime.Options{Map: map[string]string{}, NoResolve: f.noResolve, NoSplice: f.noSplice}
	for _, mp := range maps {
		from, to, ok := strings.Cut(mp, "=")
		if !ok || from == "" || to == "" {
			m.alert("--map expects FROM=TO, got '%s'.", mp)
			return nil, nil, false
		}
		opts.Map[from] = to
	}
	if o.mworker || cfg.Global.Process.MasterWorker || w != nil {
		// As HAProxy's master: the new worker's socket pair, and the
		// master CLI's listeners and their 10 connections.
		opts.ExtraFDs = 1
		if len(o.masterCLI) > 0 {
			opts.ExtraFDs += len(o.masterCLI) + 10
		}
	}
	g, errs := runtime.Compile(cfg, opts)
	if len(errs) > 0 {
		for _, e := range errs {
			m.alert("config : %v", e)
		}
		m.alert("config : Fatal errors found in configuration.")
		return nil, nil, false
	}
	if g.MemErr != "" {
		m.alert("config : %s", g.MemErr)
		return nil, nil, false
	}
	// The runtime CLI's sockets are listeners too, as in HAProxy: a
	// configuration of backends and a stats socket runs their checks.
	nb := len(cfg.Global.Stats.Sockets)
	for _, fe := range g.Frontends {
		nb += len(fe.Binds)
	}
	if nb == 0 && w == nil && !o.mworker && !cfg.Global.Process.MasterWorker {
		m.alert("[gohap.main()] No enabled listener found (check for 'bind' directives) ! Exiting.")
		return nil, nil, false
	}
	return cfg, g, true
}

// dumpStates logs every proxy's state on SIGHUP, in HAProxy's words
// (src/haproxy.c sig_dump_state): each proxy's servers, then the proxy.
// A worker then has the master's MASTER proxy, whose servers, one per
// worker, it never uses. The last proxy is the internal HTTP client
// every HAProxy 2.6 process has, with two servers always up and never
// used. gohap has neither, so they have nothing to count.
func dumpStates(proxies []runtime.ProxyState, master []string, log *zap.Logger) {
	log.Warn("SIGHUP received, dumping servers states.")
	if len(master) > 0 {
		proxies = append(proxies, inertProxy("MASTER", master...))
	}
	proxies = append(proxies, inertProxy("<HTTPCLIENT>", "<HTTPCLIENT>", "<HTTPSCLIENT>"))
	for _, p := range proxies {
		for _, s := range p.Servers {
			state := "DOWN"
			if s.Up {
				state = "UP"
			}
			log.Warn(fmt.Sprintf("SIGHUP: Server %s/%s is %s. Conn: %d act, %d pend, %d tot.", p.Name, s.Name, state, s.Cur, s.Queue, s.Total))
		}
		log.Warn(proxyStateLine(p))
	}
}

// inertProxy is an internal proxy of HAProxy's that gohap does not
// have: its servers are up, with no weight, and nothing ever used them.
func inertProxy(name string, servers ...string) runtime.ProxyState {
	p := runtime.ProxyState{Name: name}
	for _, s := range servers {
		p.Servers = append(p.Servers, runtime.ServerState{Name: s, Up: true})
	}
	return p
}

// proxyStateLine is a proxy's line of the SIGHUP dump.
func proxyStateLine(p runtime.ProxyState) string {
	conns := fmt.Sprintf("Conn: act(FE+BE): %d+%d, %d pend (%d unass), tot(FE+BE): %d+%d.",
		p.FeConn, p.BeConn, p.Pend, p.Unassigned, p.FeTotal, p.BeTotal)
	switch {
	case len(p.Servers) == 0:
		return fmt.Sprintf("SIGHUP: Proxy %s has no servers. %s", p.Name, conns)
	case p.Act == 0 && p.Bck > 0:
		return fmt.Sprintf("SIGHUP: Proxy %s is running on backup servers ! %s", p.Name, conns)
	case p.Act == 0:
		return fmt.Sprintf("SIGHUP: Proxy %s has no server available ! %s", p.Name, conns)
	}
	return fmt.Sprintf("SIGHUP: Proxy %s has %d active servers and %d backup servers available. %s", p.Name, p.Act, p.Bck, conns)
}

// verboseStart prints what HAProxy's -V and -d print once the
// configuration is read: the maxconn it computed (src/haproxy.c init)
// and the poller, which for Go's network poller on Linux is epoll. Its
// lists of pollers and filters, which describe HAProxy's build, are not.
func verboseStart(cfg *parser.Config, g *runtime.Graph, stdout, stderr io.Writer) {
	if cfg.Global.Maxconn == 0 {
		fmt.Fprintf(stderr, "Note: setting global.maxconn to %d.\n", g.Maxconn)
	}
	fmt.Fprintln(stdout, "Using epoll() as the polling mechanism.")
}

// quietRun tells -q or "quiet" without -V: HAProxy then closes its
// standard error once started, and says nothing before.
func quietRun(o *procOpts, cfg *parser.Config) bool {
	return (o.quiet || cfg.Global.Quiet) && !o.verbose
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

// applyThreads runs the process on nbthread threads, as HAProxy does:
// Go's scheduler uses GOMAXPROCS of them for Go code. It must run before
// the engine is made, which picks its dispatch mode from it.
func applyThreads(g *runtime.Graph) {
	if g.Threads > 0 {
		goruntime.GOMAXPROCS(g.Threads)
	}
}
