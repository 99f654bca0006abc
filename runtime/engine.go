package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/ssl"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime/h2"
)

// Engine runs a compiled graph: one accept loop per listener, one
// goroutine per client connection.
type Engine struct {
	// cliMsgs is set once an add server ran: HAProxy's CLI thread keeps
	// the "CLI" context it set then, and names it in the messages it
	// prints afterwards (usermsgs_clr's prefix is never reset).
	cliMsgs atomic.Bool
	g       *Graph
	log     *zap.Logger
	global  chan struct{} // global maxconn slots, nil when unlimited

	// h2cfg is the HTTP/2 settings of the clients' connections.
	h2cfg *h2.Config

	mu        sync.Mutex
	listeners []*listener
	sessions  sessionSet
	tunnels   map[*tunnel]tunnelStream
	// h2conns are the clients' HTTP/2 connections, which a stop shuts
	// down (GOAWAY).
	h2conns map[*h2.ServerConn]*h2Park
	// strmSeq numbers the streams, strmEpoch is HAProxy's stream_epoch
	// (streams.go).
	strmSeq   atomic.Uint64
	strmEpoch atomic.Uint32
	stopping  atomic.Bool
	// splicedOut counts every byte sent from a kernel pipe (show info's
	// TotalSplicdedBytesOut), in any mode.
	splicedOut atomic.Uint64
	// hard is set by Stop: nothing more is written to clients.
	hard   atomic.Bool
	done   chan struct{}
	wg     sync.WaitGroup
	cancel context.CancelFunc
	order  *readyOrder // nil when off
	// connRate and sessRate are maxconnrate and maxsessrate, nil when
	// unlimited.
	connRate, sessRate *rateLimiter
	// sslRate is maxsslrate, over the TLS binds' connections.
	sslRate *rateLimiter
	// loggers send the frontends' log lines; uniq numbers the streams
	// (%rt); conns counts the connections being served (%ac).
	// procVars are the proc.* variables, under procMu.
	procVars  acl.Vars
	varLimits *acl.VarLimits
	// spreadEnd is when close-spread-time's window ends (Unix
	// nanoseconds), set as the soft stop starts.
	spreadEnd  atomic.Int64
	procMu     sync.Mutex
	loggers    []*logging.Logger
	logsClosed sync.Once
	uniq       atomic.Uint32
	conns      atomic.Int64
	// acceptRate counts the connections the proxies' listeners accept
	// (show info's ConnRate and SessRate: HAProxy's global conn_per_sec
	// and sess_per_sec, counted at accept; the stats sockets' are not).
	acceptRate rateCounter
	// dns runs the resolvers sections, nil before Start.
	dns *dnsRun
	// donor is the engine of the same process this one takes its
	// listening sockets from (an in-process reload), nil when none.
	donor *Engine
	// retired is set once a newer engine took over the sockets.
	retired atomic.Bool
	// noReuse binds without SO_REUSEPORT (NoReusePort).
	noReuse bool
	// masterSock is the stats socket of the master CLI (MasterSocket),
	// "" when none.
	masterSock string
	// peers runs the peers sections (peers.go), nil when none.
	peers *peersRun
	// idleRun holds the runner goroutines waiting for a next session,
	// the last to have gone idle on top (see runSession).
	idleMu  sync.Mutex
	idleRun []*runnerSlot
	// runnersDone: the engine stopped, a runner ends rather than idles.
	runnersDone bool
	// runners counts the engine's runner goroutines (the tests').
	runners atomic.Int32
}

// maxIdleRunners bounds the goroutines kept waiting for a next session.
const maxIdleRunners = 256

func (e *Engine) actconn() int64 { return e.conns.Load() }

type listener struct {
	fe *Frontend
	// h2cfg is the HTTP/2 settings of its clients' connections, with
	// the frontend's idle timeouts.
	h2cfg *h2.Config
	// bind is the bind line's settings (TLS, HTTP/2).
	bind *Listen
	// adopted is set for an inherited socket (fd@N).
	adopted bool
	// unix says the socket is a unix one: its clients have no address.
	unix bool
	// released is set, under the engine's mu, while Pause has closed an
	// abstract socket for another process to bind its name.
	released bool
	ln       sockListener
	// acc is the accept loop's own wait on the socket (rawAcceptor),
	// closed with it (closeLn).
	acc   *acceptWait
	slots chan struct{} // frontend maxconn slots, nil when unlimited
	// yields counts the accept loop's yields after tune.maxaccept
	// connections in a row (atomic).
	yields int64
}

// openListener opens a bind's socket: a duplicate of the donor's, an
// inherited one, or a new one. The error is HAProxy's start-up alert.
func (e *Engine) openListener(fe *Frontend, b *Listen) (sockListener, error) {
	var ln net.Listener
	var err error
	if e.donor != nil {
		// Taking over: a socket of its own would share the address
		// with the copy the master keeps, which nobody serves.
		ln, err = e.donor.dupListener(b.Addr)
	} else if n, ok := strings.CutPrefix(b.Addr, "fd@"); ok {
		ln, err = adoptListener(n)
	} else if b.Unix != nil {
		ln, err = listenUnixBind(b)
	} else {
		lc := net.ListenConfig{KeepAliveConfig: fe.tcpKA.config()}
		if !fe.tcpKA.on {
			lc.KeepAlive = -1
		}
		ln, err = listenBind(lc, b, e.noReuse, func(msg string) { e.log.Warn(bindWarning(fe.Name, b, msg)) })
	}
	if err != nil {
		return nil, listenAlert(fe.Name, b, err)
	}
	sl, ok := ln.(sockListener)
	if !ok {
		ln.Close()
		return nil, fmt.Errorf("Starting frontend %s: %s is not a stream socket", fe.Name, b.Addr)
	}
	return sl, nil
}

// NewEngine prepares an engine; Start opens the listeners.
func NewEngine(g *Graph, log *zap.Logger) *Engine {
	if log == nil {
		log = zap.NewNop()
	}
	e := &Engine{g: g, log: log, tunnels: map[*tunnel]tunnelStream{}, done: make(chan struct{}), h2cfg: g.h2}
	if g.Maxconn > 0 {
		e.global = make(chan struct{}, g.Maxconn)
	}
	e.order = newReadyOrder(g)
	e.procVars = g.procVars.Clone()
	e.varLimits = g.varLimits
	e.connRate, e.sessRate = newRateLimiter(g.ConnRate), newRateLimiter(g.SessRate)
	e.sslRate = newRateLimiter(g.SSLRate)
	return e
}

// Start binds every listener, starts health checks and accept loops. It
// fails as HAProxy does when an address cannot be bound.
func (e *Engine) Start() error {
	if err := e.Bind(); err != nil {
		return err
	}
	e.Serve()
	return nil
}

// Bind opens the log targets, stats sockets, resolvers and listening
// sockets without accepting on them, so that a process can drop its
// privileges between binding and serving, as HAProxy does. A failed
// Bind leaves nothing open and may be retried.
func (e *Engine) Bind() error {
	setPipeLimits(e.g.maxPipes, e.g.pipeSize)
	// The donor is needed for binding only: keeping it would keep its
	// graph alive.
	defer func() { e.donor = nil }()
	if err := e.startLogs(); err != nil {
		return err
	}
	if err := e.startCLI(); err != nil {
		e.closeLogs()
		return err
	}
	if err := e.startDNS(); err != nil {
		e.stopCLI()
		e.closeLogs()
		return err
	}
	var lns []*listener
	for _, fe := range e.g.Frontends {
		for i := range fe.Binds {
			b := &fe.Binds[i]
			ln, err := e.openListener(fe, b)
			if err != nil {
				for _, l := range lns {
					l.closeLn()
				}
				e.dns.close()
				e.stopCLI()
				e.closeLogs()
				return err
			}
			if b.Backlog > 0 && (b.Unix == nil || b.Unix.pair < 0) {
				// listen() again only changes the queue's length.
				if rc, err := ln.SyscallConn(); err == nil {
					rc.Control(func(fd uintptr) { unix.Listen(int(fd), b.Backlog) })
				}
			}
			if _, tcp := ln.(*net.TCPListener); tcp {
				setFastOpen(ln, b)
				setQuickAck(ln, fe, b)
			}
			l := &listener{fe: fe, bind: b, ln: ln, acc: new(acceptWait), adopted: strings.HasPrefix(b.Addr, "fd@"), unix: b.Unix != nil || isUnixAddr(ln.Addr())}
			l.h2cfg = h2ConfigFor(e.h2cfg, fe)
			if n := listenerMaxconn(fe, b); n > 0 {
				l.slots = make(chan struct{}, n)
			}
			lns = append(lns, l)
		}
	}
	if err := e.startPeers(); err != nil {
		for _, l := range lns {
			l.closeLn()
		}
		e.dns.close()
		e.stopCLI()
		e.closeLogs()
		return err
	}
	e.listeners = lns
	return nil
}

// Serve starts the stats sockets' and listeners' accept loops and the
// health checks of a bound engine.
func (e *Engine) Serve() {
	e.g.traceInit()
	// Before any handshake of this engine's.
	ssl.UseTLS13Order(e.g.TLS13Order())
	e.serveCLI()
	lns := e.listeners
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.sampleOut(ctx)
	go e.sampleFDs(ctx)
	var all []*backend.Server
	for _, be := range e.g.Backends {
		all = append(all, be.LB.Servers...)
	}
	backend.SpreadChecks(all, e.g.maxSpreadChecks)
	for _, be := range e.g.Backends {
		be.LB.OnState = e.serverState
		be.LB.OnAdmin = e.adminChange
		e.reportSourceFailures(be)
		be.LB.OnCheck = func(_ *backend.Server, report string) {
			e.log.Warn(report + ".")
			be.event(logging.LevelNotice, report+".")
		}
		for _, srv := range be.LB.Servers {
			if x := srv.Check.Ext; x != nil {
				x.Warn, x.Alert = func(m string) { e.log.Warn(m) }, func(m string) { e.log.Error(m) }
			}
		}
	}
	// Checks start once every backend has its hooks: a tracked server's
	// change reaches its trackers' backends.
	for _, be := range e.g.Backends {
		be.LB.RunChecks(ctx)
	}
	if e.order != nil {
		go e.order.run(e.done)
	}
	if ts := e.g.tables.All(); len(ts) > 0 {
		go purgeTables(ts, e.done)
	}
	go e.quietGC()
	for _, l := range lns {
		e.log.Info("listening", zap.String("frontend", l.fe.Name), zap.String("address", l.ln.Addr().String()))
		e.wg.Add(1)
		go e.acceptLoop(l)
	}
}

// Addrs returns the bound addresses of a frontend, in bind order.
func (e *Engine) Addrs(frontend string) []string {
	var out []string
	for _, l := range e.listeners {
		if l.fe.Name == frontend {
			out = append(out, l.ln.Addr().String())
		}
	}
	return out
}

// serverState logs a server's change of state in HAProxy's words.
func (e *Engine) serverState(ch backend.StateChange) {
	s, b := ch.Server, ch.Server.Backend
	var m strings.Builder
	if s.Backup {
		m.WriteString("Backup ")
	}
	word := ch.To.String()
	if ch.To == backend.Stopping {
		word = "stopping"
	}
	m.WriteString("Server " + b.Name + "/" + s.Name + " is " + word)
	if ch.Reason != "" {
		m.WriteString(", reason: " + strings.TrimSuffix(ch.Reason, "."))
	} else if ch.Desc != "" {
		m.WriteString(", " + ch.Desc)
	} else if ch.Via != "" {
		m.WriteString(" via " + ch.Via)
	}
	onBackup := ""
	if ch.Backup > 0 && ch.Active == 0 {
		onBackup = " Running on backup."
	}
	if ch.To != backend.Down {
		fmt.Fprintf(&m, ". %d active and %d backup servers online.%s %d sessions requeued, %d total in queue.",
			ch.Active, ch.Backup, onBackup, ch.Requeued, ch.Queue)
	} else {
		fmt.Fprintf(&m, ". %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
			ch.Active, ch.Backup, onBackup, ch.Sessions, ch.Requeued, ch.Queue)
	}
	e.log.Warn(m.String())
	be := e.g.byName[b.Name]
	// Stopping, and going down from it, are notices (srv_update_status).
	level := logging.LevelAlert
	if ch.To != backend.Down || ch.From == backend.Stopping {
		level = logging.LevelNotice
	}
	be.event(level, m.String())
	if ch.To != backend.Up && ch.Active+ch.Backup == 0 {
		b.CountDown()
		e.log.Error(fmt.Sprintf("backend '%s' has no server available!", b.Name))
		// The syslog line names the backend without quotes.
		be.event(logging.LevelEmerg, "backend "+b.Name+" has no server available!")
	}
	switch {
	case ch.To == backend.Down && s.ShutdownOnDown:
		e.shutdownSessions(s)
	case ch.To == backend.Up && s.ShutdownBackupsOnUp && !s.Backup:
		for _, x := range b.ServerList() {
			if x.Backup {
				e.shutdownSessions(x)
			}
		}
	}
}

// shutdownSessions kills the sessions and tunnels using srv, as
// on-marked-down shutdown-sessions does.
func (e *Engine) shutdownSessions(srv *backend.Server) { e.killWhere(srv) }

func (e *Engine) acceptLoop(l *listener) {
	defer e.wg.Done()
	var raw *rawAcceptor
	var wait *pollFD
	if b := l.bind; !l.unix {
		raw = newRawAcceptor(l.ln, b != nil && b.Transparent)
		if raw != nil {
			if wait = l.acc.open(raw.rc); wait == nil {
				if l.acc.isClosed() {
					return
				}
				raw = nil
			}
		}
	}
	// burst counts the connections taken in a row without waiting (a bind
	// accepted through net alone, a unix one or one whose socket could
	// not be registered, cannot tell a wait: it counts every connection):
	// at tune.maxaccept the loop yields, so
	// that the sessions it started run before it takes more, as
	// HAProxy's listener goes back to its other tasks.
	burst, maxAccept := 0, e.g.MaxAccept
	for {
		// Stop accepting while the frontend or the process is full. A
		// free slot is taken without a select on e.done as well (a
		// select locks every channel it waits on).
		if l.slots != nil && !trySend(l.slots) {
			select {
			case l.slots <- struct{}{}:
			case <-e.done:
				return
			}
		}
		if e.global != nil && !trySend(e.global) {
			select {
			case e.global <- struct{}{}:
			case <-e.done:
				if l.slots != nil {
					<-l.slots
				}
				return
			}
		}
		if !e.waitRate(l) {
			e.release(l)
			return
		}
		var nc net.Conn
		var err error
		if raw != nil {
			// Taken with accept4, waiting on the socket's own poller
			// registration when none is pending.
			sc, waited, rerr := raw.take(wait, l.fe.tcpKA)
			if waited {
				burst = 0
			}
			if rerr != nil {
				err = rerr
			} else {
				nc = sc
			}
		} else {
			nc, err = l.ln.Accept()
		}
		if err != nil {
			e.release(l)
			if e.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and retry.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		// One clock reading serves the rates and the session's start.
		now := e.countRate(l)
		l.fe.accepted.Add(1)
		e.g.feCounters(l.fe).addConn(now)
		e.acceptRate.add(now)
		if l.bind != nil {
			l.bind.stats.accept()
			if l.unix && (l.bind.RcvBuf != 0 || l.bind.SndBuf != 0) {
				// A unix socket does not inherit the listener's sizes.
				setSockBufs(nc, l.bind.RcvBuf, l.bind.SndBuf)
			}
		}
		c := nc.(netConn)
		if tc, ok := c.(*net.TCPConn); ok && l.adopted {
			// Go's default keep-alive is not HAProxy's: as on the
			// sockets gohap binds, only tcpka turns it on.
			if l.fe.tcpKA.on {
				tc.SetKeepAliveConfig(l.fe.tcpKA.config())
			} else {
				tc.SetKeepAlive(false)
			}
		}
		if b := l.bind; b != nil && (b.TLS != nil || b.H2) {
			e.wg.Add(1)
			go e.front(l, c, b)
			acceptBurst(l, &burst, maxAccept)
			continue
		}
		if !e.startSession(newSession(e, l, c), true, now) {
			c.Close()
			e.connEnd(l)
		}
		acceptBurst(l, &burst, maxAccept)
	}
}

// acceptBurst counts a connection taken and yields after maxAccept in a
// row (0: no limit).
func acceptBurst(l *listener, burst *int, maxAccept int) {
	if maxAccept <= 0 {
		return
	}
	if *burst++; *burst >= maxAccept {
		*burst = 0
		atomic.AddInt64(&l.yields, 1)
		goruntime.Gosched()
	}
}

// setSockBufs sets tune.rcvbuf.client and tune.sndbuf.client on an
// accepted connection, as HAProxy sets them on every socket it accepts.
func setSockBufs(nc net.Conn, rcv, snd int) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if rcv != 0 {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcv)
			}
			if snd != 0 {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, snd)
			}
		})
	}
}

// trySend takes a slot of sem if one is free.
func trySend(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// startSession runs s in its own goroutine, unless the engine is
// stopping; slot says the session holds a connection slot of its
// listener, released when its bookkeeping ends.
func (e *Engine) startSession(s *session, slot bool, now time.Time) bool {
	if !e.addSession(s, now) {
		return false
	}
	s.slot = slot
	e.runSession(s)
	return true
}

// addSession counts s, starting at now, among the engine's sessions,
// unless it stops. The clock is read outside the lock every connection
// takes.
func (e *Engine) addSession(s *session, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping.Load() {
		return false
	}
	e.sessions.add(s)
	e.markStream(s, now)
	e.wg.Add(1)
	return true
}

// runSession runs s on a goroutine that already served a session, when
// one is idle, else on a new one. A new goroutine's stack starts small
// and a session grows it, copying it each time it doubles; kept
// goroutines have grown theirs already (the collector shrinks what
// stays unused). The last to have gone idle serves next: its stack is
// still in the CPU's caches, where taking turns oldest first would cycle
// through every idle runner's stack (bench/cachesim.sh).
func (e *Engine) runSession(s *session) {
	e.idleMu.Lock()
	if n := len(e.idleRun); n > 0 {
		r := e.idleRun[n-1]
		e.idleRun[n-1] = nil
		e.idleRun = e.idleRun[:n-1]
		e.idleMu.Unlock()
		r.next <- s
		return
	}
	e.idleMu.Unlock()
	e.runners.Add(1)
	go e.runner(s)
}

// runnerSlot is an idle runner's: runSession sends it its next session.
type runnerSlot struct{ next chan *session }

// finish ends the session's bookkeeping (a session handed over to a
// tunnel leaves it to the tunnel). A method, not a closure: nothing to
// allocate per connection.
func (s *session) finish() {
	e := s.e
	s.releaseVars()
	e.mu.Lock()
	e.sessions.remove(s)
	e.mu.Unlock()
	if s.slot {
		e.connEnd(s.l)
	}
	e.wg.Done()
	if s.waitEnd {
		s.ended.Done()
	}
}

// runner serves s, then the sessions runSession hands it, until
// maxIdleRunners others wait or the engine stops.
func (e *Engine) runner(s *session) {
	defer e.runners.Add(-1)
	r := &runnerSlot{next: make(chan *session, 1)}
	for {
		if !s.run() {
			s.finish()
			s.recycle()
		}
		e.idleMu.Lock()
		if e.runnersDone || len(e.idleRun) >= maxIdleRunners {
			e.idleMu.Unlock()
			return
		}
		e.idleRun = append(e.idleRun, r)
		e.idleMu.Unlock()
		// One channel, not a select with e.done: stopRunners sends nil.
		if s = <-r.next; s == nil {
			return
		}
	}
}

// stopRunners ends the idle runners once e.done is closed.
func (e *Engine) stopRunners() {
	e.idleMu.Lock()
	defer e.idleMu.Unlock()
	e.runnersDone = true
	for _, r := range e.idleRun {
		r.next <- nil
	}
	e.idleRun = nil
}

func (e *Engine) release(l *listener) {
	if l.slots != nil {
		<-l.slots
	}
	if e.global != nil {
		<-e.global
	}
}

// TakeOver makes Start use, for every bind whose address old listens
// on, a duplicate of old's socket rather than a new one: an in-process
// reload, with no connection refused in between. Call it before Start,
// then Retire old once Start succeeded.
func (e *Engine) TakeOver(old *Engine) { e.donor = old }

// dupListener duplicates the listening socket e serves addr on.
func (e *Engine) dupListener(addr string) (net.Listener, error) {
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	for _, l := range lns {
		if l.bind == nil || l.bind.Addr != addr {
			continue
		}
		f, err := l.ln.File()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return listenerFromFile(f, l.bind.Unix, l.ln)
	}
	return nil, fmt.Errorf("no socket for %s to take over", addr)
}

// Retire ends an engine whose sockets a newer one took over (TakeOver):
// it stops accepting, its health checks, resolvers and stats sockets,
// and drops its idle server connections, but its sessions and tunnels,
// keep-alive ones included, go on with its graph until they end. Wait
// returns after the last one; the graph is garbage then.
func (e *Engine) Retire() {
	if e.retired.Swap(true) {
		return
	}
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	for _, l := range lns {
		l.closeLn()
	}
	e.stopCLI()
	if e.cancel != nil {
		e.cancel()
	}
	e.dns.close()
	e.peers.stopSoft(e.hard.Load())
	for _, be := range e.g.Backends {
		be.idle.drop(nil, true)
	}
	go func() {
		e.wg.Wait()
		e.mu.Lock()
		if !e.stopping.Swap(true) {
			close(e.done)
		}
		e.mu.Unlock()
		e.stopRunners()
	}()
}

// addH2 counts sc among the clients' HTTP/2 connections; one that comes
// once the engine stops is shut down at once.
func (e *Engine) addH2(sc *h2.ServerConn, hp *h2Park) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h2conns == nil {
		e.h2conns = map[*h2.ServerConn]*h2Park{}
	}
	e.h2conns[sc] = hp
	if e.stopping.Load() {
		e.goawayH2(sc, hp)
	}
}

func (e *Engine) dropH2(sc *h2.ServerConn) {
	e.mu.Lock()
	delete(e.h2conns, sc)
	e.mu.Unlock()
}

// shutdownH2Locked starts the graceful close of every HTTP/2 connection,
// each in its own goroutine: its GOAWAY may wait for a full socket. A
// parked connection is woken to end.
func (e *Engine) shutdownH2Locked() {
	for sc, hp := range e.h2conns {
		e.goawayH2(sc, hp)
	}
}

// goawayH2 shuts sc down as a soft stop asks: at once, at a random time
// of close-spread-time's window, or, "infinite", never (its timeouts
// end it).
func (e *Engine) goawayH2(sc *h2.ServerConn, hp *h2Park) {
	switch d, ok := e.stopSpread(); {
	case !ok:
	case d > 0:
		time.AfterFunc(d, func() { shutdownH2(sc, hp) })
	default:
		go shutdownH2(sc, hp)
	}
}

// stopSpread is when a soft stop closes an idle connection, from now: at
// once (0) without close-spread-time, at a random time of what is left
// of its window with one; ok is false for "infinite", which leaves it to
// its timeouts (the spreading of h1_refresh_timeout and h2c_update_timeout).
func (e *Engine) stopSpread() (d time.Duration, ok bool) {
	switch {
	case e.g.closeSpread > 0:
		if rem := e.spreadLeft(); rem > 0 {
			return time.Duration(rand.Int64N(int64(rem))), true
		}
		return 0, true
	case e.g.closeSpreadInf:
		return 0, false
	}
	return 0, true
}

// spreadLeft is what is left of close-spread-time's window.
func (e *Engine) spreadLeft() time.Duration { return time.Until(time.Unix(0, e.spreadEnd.Load())) }

// stopClose is whether a response during a soft stop closes its
// keep-alive client connection: always without close-spread-time, never
// with "infinite", and with a window, the likelier the further along it
// (h1_set_cli_conn_mode's want_clo), always once it is over.
func (e *Engine) stopClose() bool {
	if !e.stopping.Load() {
		return false
	}
	switch {
	case e.g.closeSpread > 0:
		rem := e.spreadLeft()
		return rem <= 0 || rem <= time.Duration(rand.Int64N(int64(e.g.closeSpread)))
	case e.g.closeSpreadInf:
		return false
	}
	return true
}

// stopIdleDeadline is the read deadline of an idle client connection
// during a soft stop, t its own (zero for none).
func (e *Engine) stopIdleDeadline(t time.Time) time.Time {
	switch {
	case e.g.closeSpread > 0:
		if !t.IsZero() && time.Until(t) < e.spreadLeft() {
			return t
		}
		d, _ := e.stopSpread()
		return time.Now().Add(d)
	case e.g.closeSpreadInf:
		return t
	}
	return stopDeadline(t)
}

// shutdownH2 sends sc's GOAWAY, then wakes it if it parked: the wake
// comes after the shutdown, which a connection about to park sees.
func shutdownH2(sc *h2.ServerConn, hp *h2Park) {
	sc.Shutdown()
	if hp != nil {
		hp.wake()
	}
}

// Sessions returns how many client connections and tunnels e serves.
func (e *Engine) Sessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions.n + len(e.tunnels)
}

// SoftStop stops accepting and lets in-flight requests and tunnels end;
// idle keep-alive connections are closed at once. Wait returns when all
// sessions are over.
func (e *Engine) SoftStop() {
	e.mu.Lock()
	if e.stopping.Load() {
		e.mu.Unlock()
		return
	}
	e.spreadEnd.Store(time.Now().Add(e.g.closeSpread).UnixNano())
	e.stopping.Store(true)
	close(e.done)
	e.shutdownH2Locked()
	e.mu.Unlock()
	e.stopRunners()
	for _, l := range e.listeners {
		l.closeLn()
	}
	e.peers.stopSoft(e.hard.Load())
	e.logStopped()
	e.stopCLIListeners()
	e.mu.Lock()
	for s := range e.sessions.all {
		s.wakeIfIdle()
	}
	e.mu.Unlock()
	// Pooled server connections serve no one any more.
	for _, be := range e.g.Backends {
		be.idle.drop(nil, true)
	}
	if e.cancel != nil {
		e.cancel()
	}
	e.dns.close()
}

// Stop closes listeners and every connection at once.
func (e *Engine) Stop() {
	// Set first: a session a kill has not reached yet answers no one.
	e.hard.Store(true)
	e.SoftStop()
	e.stopCLI()
	e.killAll()
}

func (e *Engine) killAll() { e.killWhere(nil) }

// killWhere kills the sessions and tunnels using srv, all of them when
// srv is nil.
func (e *Engine) killWhere(srv *backend.Server) {
	for _, be := range e.g.Backends {
		be.idle.drop(srv, false)
	}
	// Killing a tunnel ends its session, which takes e.mu.
	e.mu.Lock()
	list := make([]*session, 0, e.sessions.n)
	for s := range e.sessions.all {
		if srv == nil || s.onServer.Load() == srv {
			s.pins.Add(1)
			list = append(list, s)
		}
	}
	tuns := make([]*tunnel, 0, len(e.tunnels))
	for t := range e.tunnels {
		if srv == nil || t.srv == srv {
			tuns = append(tuns, t)
		}
	}
	e.mu.Unlock()
	for _, s := range list {
		s.kill()
		s.pins.Add(-1)
	}
	for _, t := range tuns {
		t.abort()
	}
}

func (e *Engine) handOff(s *session, t *tunnel) {
	e.mu.Lock()
	e.sessions.remove(s)
	e.tunnels[t] = s.tunnelStream()
	e.mu.Unlock()
}

// tunnelEnd is what remains of a session once it became a tunnel.
type tunnelEnd struct {
	e   *Engine
	l   *listener
	t   *tunnel
	be  *Backend
	srv *backend.Server
	// rec is the log record of a mode tcp stream, nil when the frontend
	// does not log; start is when the stream began.
	rec   *logging.Record
	start time.Time
	// track holds the stream's and the session's tracked entries, nil
	// when none.
	track *[2]acl.TrackSet
	// slot: the session held its listener's connection slot, now the
	// tunnel's; ended, when set, is told the tunnel ended (serveConn).
	slot  bool
	ended *sync.WaitGroup
	// counted: the session counted the connection (countConn).
	counted bool
	// vars hold the stream's variables until the tunnel ends, when
	// tune.vars limits account them; nil otherwise.
	vars *acl.Txn
	// pre is what the HTTP stream that became the tunnel counted of the
	// bytes the tunnel sends first (read with its request).
	pre int64
	// What the log line needs beyond rec: http for an HTTP stream's
	// tunnel, whose bytes so far are in0 and out0; the stream's
	// set-log-level and retries.
	http              bool
	in0, out0         int64
	logLevel, retries int
	// cont counts the bytes while the tunnel runs (option contstats).
	cont *tunnelCont
}

// tunnelCont is option contstats for a tunnel: every contEvery, the
// bytes it carried since are counted, as HAProxy's stream, woken at
// least every 5 s with the option, counts them (process_stream).
type tunnelCont struct {
	mu    sync.Mutex
	done  [2]int64
	ended bool
}

const contEvery = time.Second

// startCont counts the tunnel's bytes as they move.
func (te *tunnelEnd) startCont() {
	te.cont = &tunnelCont{}
	time.AfterFunc(contEvery, te.contTick)
}

func (te *tunnelEnd) contTick() {
	c := te.cont
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	in, out := te.t.up.Load()-te.pre, te.t.down.Load()
	din, dout := max(in-c.done[0], 0), max(out-c.done[1], 0)
	c.done[0], c.done[1] = c.done[0]+din, c.done[1]+dout
	te.addBytes(din, dout)
	time.AfterFunc(contEvery, te.contTick)
}

// addBytes counts bytes the tunnel carried on its tracked entries and
// statistics.
func (te *tunnelEnd) addBytes(in, out int64) {
	if te.track != nil {
		trackBytes(te.track, in, out)
	}
	te.e.g.addStreamBytes(te.l.fe, te.l, te.be, te.srv, in, out)
}

// addStreamBytes counts bytes a stream carried on its frontend's,
// listener's, backend's and server's statistics (l and srv may be nil).
func (g *Graph) addStreamBytes(fe *Frontend, l *listener, be *Backend, srv *backend.Server, in, out int64) {
	if g.stats == nil {
		return
	}
	g.feCounters(fe).addBytes(in, out)
	if l != nil && l.bind != nil && l.bind.stats != nil {
		l.bind.stats.bytesIn.Add(uint64(max(in, 0)))
		l.bind.stats.bytesOut.Add(uint64(max(out, 0)))
	}
	g.beCounters(be).addBytes(in, out)
	g.srvCounters(srv).addBytes(in, out)
}

// countEnd adds the tunnel's bytes to the statistics, as HAProxy's
// stream counts what its channels carried, and how it ended: a side's
// timeout or error as its abort, a server's error as a failed response
// (process_stream).
func (te *tunnelEnd) countEnd() {
	g := te.e.g
	in, out := te.t.up.Load()-te.pre, te.t.down.Load()
	if c := te.cont; c != nil {
		c.mu.Lock()
		c.ended = true
		in, out = max(in-c.done[0], 0), max(out-c.done[1], 0)
		c.mu.Unlock()
	}
	te.addBytes(in, out)
	if g.stats == nil {
		return
	}
	bc, sc := g.beCounters(te.be), g.srvCounters(te.srv)
	side, failed := te.t.timedOut.Load(), false
	if side == 0 {
		side, failed = te.t.failed.Load(), true
	}
	switch side {
	case 1:
		bc.addAbort(false)
		sc.addAbort(false)
	case 2:
		bc.addAbort(true)
		sc.addAbort(true)
		if failed {
			bc.addError(errResponse)
			sc.addError(errResponse)
		}
	}
}

func (te *tunnelEnd) run() {
	te.countEnd()
	// The stream leaves its backend before its line is made.
	te.be.conns.Add(-1)
	if te.track != nil {
		releaseTracks(te.track)
	}
	if te.srv != nil {
		te.be.LB.Release(te.srv)
	}
	if te.rec != nil {
		te.logTCP()
	}
	if te.vars != nil {
		te.vars.ClearVars(acl.ScopeSess, acl.ScopeTxn, acl.ScopeReq, acl.ScopeRes)
	}
	if te.counted {
		te.e.uncountConn(te.l.fe)
	}
	e := te.e
	e.mu.Lock()
	delete(e.tunnels, te.t)
	e.mu.Unlock()
	if te.slot {
		e.connEnd(te.l)
	}
	e.wg.Done()
	if te.ended != nil {
		te.ended.Done()
	}
}

// Wait blocks until every accept loop and session has ended.
// Wait returns once every session ended; the log lines still queued are
// then sent.
func (e *Engine) Wait() {
	// Without frontends nothing holds the group: the stop does.
	<-e.done
	e.wg.Wait()
	e.logsClosed.Do(func() {
		e.g.traceDeinit()
		e.closeLogs()
	})
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(strings.TrimSpace(a.String()))
	return ap
}

// Snapshot returns the state of every backend and server, in
// configuration order.
func (e *Engine) Snapshot() []backend.Status {
	out := make([]backend.Status, 0, len(e.g.Backends))
	for _, be := range e.g.Backends {
		out = append(out, be.LB.Snapshot())
	}
	return out
}

// adoptListener takes over an already listening socket inherited as
// descriptor n, as HAProxy's "fd@n" addresses do.
func adoptListener(n string) (net.Listener, error) {
	fd, err := strconv.Atoi(n)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "fd@"+n)
	if f == nil {
		return nil, errors.New("bad file descriptor")
	}
	// FileListener works on a duplicate; the inherited one goes.
	defer f.Close()
	return net.FileListener(f)
}

// setFastOpen applies "tfo" as HAProxy does: TCP Fast Open with a queue as
// long as the listen backlog, or, without it, TFO turned off on a socket
// that had it (an inherited one).
func setFastOpen(ln net.Listener, b *Listen) {
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if b.TFO {
			qlen := b.Backlog
			if qlen <= 0 {
				qlen = 1024
			}
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN, qlen)
		} else if q, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN); err == nil && q > 0 {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN, 0)
		}
	})
}

// setQuickAck applies option tcp-smart-accept as HAProxy does
// (LI_O_NOQUICKACK): on by default for HTTP frontends and TLS binds, it
// clears TCP_QUICKACK on the listening socket, which its connections
// inherit, so that the request is acknowledged with the response rather
// than by a packet of its own. Without it the flag is set.
func setQuickAck(ln net.Listener, fe *Frontend, b *Listen) {
	smart := fe.smartAccept
	if !fe.smartAcceptSet {
		smart = fe.HTTP || b.TLS != nil
	}
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		return
	}
	v := 1
	if smart {
		v = 0
	}
	rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, v) })
}

// sessionSet is the engine's sessions, oldest first, linked through the
// sessions themselves: adding and removing one, per connection and per
// HTTP/2 stream, hashes nothing and allocates nothing. e.mu guards it.
type sessionSet struct {
	head, tail *session
	n          int
}

// setLink is a session's place in the engine's sessionSet.
type setLink struct {
	prev, next *session
}

// has says whether s is in the set.
func (ss *sessionSet) has(s *session) bool { return s.link.prev != nil || ss.head == s }

func (ss *sessionSet) add(s *session) {
	if ss.has(s) {
		return
	}
	s.link = setLink{prev: ss.tail}
	if ss.tail != nil {
		ss.tail.link.next = s
	} else {
		ss.head = s
	}
	ss.tail = s
	ss.n++
}

func (ss *sessionSet) remove(s *session) {
	if !ss.has(s) {
		return
	}
	l := &s.link
	if l.prev != nil {
		l.prev.link.next = l.next
	} else {
		ss.head = l.next
	}
	if l.next != nil {
		l.next.link.prev = l.prev
	} else {
		ss.tail = l.prev
	}
	*l = setLink{}
	ss.n--
}

// all yields the sessions, oldest first; yield must not remove any.
func (ss *sessionSet) all(yield func(*session) bool) {
	for s := ss.head; s != nil; s = s.link.next {
		if !yield(s) {
			return
		}
	}
}

// sampleOut samples the bytes written once a second, for BytesOutRate.
func (e *Engine) sampleOut(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	e.g.outRate.tick(time.Now(), e.g.bytesOut.Load())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.g.outRate.tick(now, e.g.bytesOut.Load())
		}
	}
}

// fdSampleEvery is how often the descriptors in use are counted. HAProxy
// knows its count at every moment; a connection kept idle or not is
// decided on the last count.
const fdSampleEvery = 20 * time.Millisecond

// sampleFDs counts the process's open descriptors (/proc/self/fd) for the
// idle pools' tune.pool-*-fd-ratio limits.
func (e *Engine) sampleFDs(ctx context.Context) {
	fd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	buf := make([]byte, 16<<10)
	// What HAProxy counts at start: its listening sockets and a wake-up
	// pipe per thread; gohap's count then includes the standard streams
	// and the Go poller's, which HAProxy's leaves out.
	base := countDirents(fd, buf)
	if base < 0 {
		return
	}
	e.mu.Lock()
	start := len(e.listeners) + threadsOf(e.g.Threads)
	e.mu.Unlock()
	if c := e.g.cli; c != nil {
		c.mu.Lock()
		if c.cli != nil {
			start += len(c.cli.Addrs())
		}
		c.mu.Unlock()
	}
	// Far from the pools' marks (thousands of descriptors away), a count
	// a second is enough.
	low := e.g.poolLow
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for {
		wait := time.Second
		if n := countDirents(fd, buf); n >= 0 {
			used := int64(max(n-base+start, 0))
			e.g.fdsUsed.Store(used)
			if low < 1000 || 2*used >= low {
				wait = fdSampleEvery
			}
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// countDirents counts the entries of the open directory fd, read from
// its start; -1 on error.
func countDirents(fd int, buf []byte) int {
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return -1
	}
	total := 0
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return -1
		}
		if n == 0 {
			return total
		}
		for off := 0; off < n; {
			reclen := int(buf[off+16]) | int(buf[off+17])<<8
			if reclen == 0 {
				break
			}
			total++
			off += reclen
		}
	}
}
