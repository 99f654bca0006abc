// Package backend holds the servers of a backend, the load-balancing
// algorithms, per-server connection limits with their queue, and health
// checks.
package backend

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// State of a server as seen by the balancer.
type State int32

// Server states.
const (
	Up State = iota
	Down
	Maint
	// Stopping is HAProxy's NOLB: up, but given only the requests that
	// persist to it (http-check disable-on-404 and a 404 answer).
	Stopping
)

func (s State) String() string {
	switch s {
	case Up:
		return "UP"
	case Down:
		return "DOWN"
	case Stopping:
		return "NOLB"
	}
	return "MAINT"
}

// Server is one server line.
type Server struct {
	Name string
	// Addr is the address at start, host:port, "" for none; DNS
	// resolution may change it later: read Address.
	Addr string
	// dyn is the address set at run time, nil until one is.
	dyn atomic.Pointer[srvAddr]
	// parsed is the last address DialAddr gave, parsed (ParseDialAddr).
	parsed atomic.Pointer[parsedAddr]
	// Transparent says the address is the client's destination
	// (option transparent).
	Transparent bool
	// MapPorts says the port follows the client's destination port,
	// plus PortOffset (a server address without a port, or "+N"/"-N");
	// Host is then the address to dial.
	MapPorts   bool
	PortOffset int
	Host       string
	// Socks4 is the address of the SOCKS4 proxy connections to the
	// server go through ("socks4"), as Dial takes it; "" for none.
	Socks4 string
	// Redir is the server's "redir" prefix: GET and HEAD requests are
	// redirected there instead of sent to it.
	Redir string
	// NonStick is "non-stick": stick stores do not record the server.
	NonStick bool
	// Source is the server's "source", or its backend's: what its
	// connections, health checks included, are bound to; nil for none.
	Source *SourceBind
	// SockOpts are set on every socket to the server, its checks'
	// included, before the connect (tcp_connect_server).
	SockOpts SockOpts
	// Weight is the weight at start (HAProxy's iweight); CurWeight is the
	// one in force.
	Weight    int
	curWeight atomic.Int32
	Maxconn   int
	// Minconn, with the backend's Fullconn, lowers the connection limit
	// while the backend is lightly loaded.
	Minconn int
	// Observe, OnError and ErrorLimit are "observe", "on-error" and
	// "error-limit" (10 when 0): see HealthAdjust.
	Observe    Observe
	OnError    OnError
	ErrorLimit int
	// Slowstart ramps the weight up after the server comes back up.
	Slowstart time.Duration
	upSince   atomic.Int64
	Backend   *Backend

	Check Check
	Agent Agent

	// Backup servers take traffic only when no active server can.
	Backup bool
	// ShutdownOnDown kills the server's sessions when it goes down
	// (on-marked-down shutdown-sessions); ShutdownBackupsOnUp kills the
	// backup servers' sessions when it comes up (on-marked-up
	// shutdown-backup-sessions).
	ShutdownOnDown, ShutdownBackupsOnUp bool
	// Tracked is the server whose state this one follows ("track");
	// trackers are the servers following this one.
	Tracked *Server
	// NetNS is the network namespace of the connections to the server
	// and of its checks ("namespace"), nil for the process's own.
	// NetNSFromPP is "namespace *": connections go in the client
	// connection's namespace; checks in the process's own.
	NetNSFromPP bool
	NetNS       *NetNS
	trackers    []*Server
	// ID is the server's id, which keys its consistent hashing nodes.
	ID int
	// MaxQueue bounds the server's own queue (0 for no bound).
	MaxQueue int
	queue    []*waiter // guarded by Backend.mu

	// mu orders the changes of admin state, check results and state,
	// as HAProxy's server lock does; the fields it guards are atomics,
	// read without it. It is taken before a tracker's, and before
	// Backend.mu.
	mu    sync.Mutex
	state atomic.Int32
	// admCause is the cause the next admin change reports (under mu).
	admCause string
	// admin holds the Admin flags; health, chkStatus and chkResult the
	// health check's health, status and result; lastChange the Unix
	// second of the last change of state.
	admin                        atomic.Uint32
	health, chkStatus, chkResult atomic.Int32
	// chkCode is the code the last check reported (an HTTP status, an
	// external command's exit status).
	chkCode  atomic.Int32
	chkFails atomic.Uint64
	// chkDesc is the info of the last check's report (last_chk).
	chkDesc            atomic.Pointer[string]
	inProgress, paused atomic.Bool
	// hana is the health analysis of real traffic ("observe").
	hana       hana
	lastChange atomic.Int64
	cur        int // sessions in use; guarded by Backend.mu
	total      atomic.Int64
	// maxCur and maxQueue are the most sessions and queued requests at
	// once (smax, qmax), guarded by Backend.mu; lbTotal counts the
	// times balancing chose the server (lbtot).
	maxCur, maxQueue int
	lbTotal          atomic.Int64
	// downs counts the server's transitions from running to stopped
	// (down_trans: a check, an agent, the CLI, maintenance).
	downs atomic.Int64
	// Balancing state, guarded by Backend.mu.
	eweight, npos, lpos, rweight, wscore, uw int
	key                                      uint32
	seq, lcSeq                               uint64
	tree                                     *fwrrTree
	rt                                       dynState
}

// State returns the server's current state.
func (s *Server) State() State { return State(s.state.Load()) }

// QueueLen is the number of streams waiting for this server.
func (s *Server) QueueLen() int {
	s.Backend.mu.Lock()
	defer s.Backend.mu.Unlock()
	return len(s.queue)
}

// Sessions is the number of sessions currently using the server.
func (s *Server) Sessions() int {
	s.Backend.mu.Lock()
	defer s.Backend.mu.Unlock()
	return s.cur
}

// checkSessions counts the health and agent checks run, each of which
// is a session in HAProxy (tcpcheck_main's session_new): they count in
// its CumConns. External checks are processes and do not.
var checkSessions atomic.Int64

// CheckSessions is the number of checks run by the process.
func CheckSessions() int64 { return checkSessions.Load() }

// Downs is the number of the server's transitions from running to
// stopped (chkdown).
func (s *Server) Downs() int64 { return s.downs.Load() }

// CountDown counts the backend losing its last server; Downs reads the
// count (a backend's chkdown).
func (b *Backend) CountDown()   { b.downs.Add(1) }
func (b *Backend) Downs() int64 { return b.downs.Load() }

// Total is the number of sessions ever given to the server.
func (s *Server) Total() int64 { return s.total.Load() }

// CountAttempt counts a retried connection to the server whose slot the
// caller keeps: HAProxy counts a session per connection attempt.
func (s *Server) CountAttempt() { s.total.Add(1) }

// Backend is a set of servers with a balancing algorithm and a queue.
type Backend struct {
	Name    string
	Servers []*Server
	// OnState is called (outside locks) when a check changes a server's
	// state.
	OnState func(StateChange)
	// OnCheck, with LogHealthChecks (option log-health-checks), receives
	// HAProxy's report of every check that changes a server's health.
	OnCheck         func(s *Server, report string)
	LogHealthChecks bool
	// OnAdmin is called with the changes of administrative state an
	// agent check asks for.
	OnAdmin func(AdminChange)

	// Algo is the balance algorithm; AllBackups uses every backup server
	// at once instead of the first one (option allbackups).
	Algo       Algo
	AllBackups bool
	// Fullconn is the backend load at which servers reach their maxconn.
	Fullconn int
	// Draws is the number of servers "balance random" compares.
	Draws int
	// Redispatch lets requests leave a server that is down or whose
	// queue is full (option redispatch).
	Redispatch bool
	// Persist keeps persistence (a cookie, use-server, a stick table) on
	// a server that is down or in maintenance (option persist), and its
	// queue with it when it goes down.
	Persist bool
	// Consistent selects HAProxy's consistent hashing tree instead of the
	// map for the hash algorithms; BalanceFactor bounds the load of a
	// server in it (hash-balance-factor, in percent; 0 for none).
	Consistent    bool
	BalanceFactor int
	// Target, when set, takes every session no server is chosen for
	// by persistence: the dispatch address or, transparent, the
	// client's destination of a backend without a balance algorithm.
	// It is none of Servers.
	Target *Server

	mu    sync.Mutex
	queue []*waiter
	// maxQueue is the most requests in queue at once (qmax), guarded by
	// mu; lbTotal counts the servers balancing chose (lbtot).
	maxQueue int
	lbTotal  atomic.Int64
	// downs counts the times the backend lost its last server
	// (set_backend_down's down_trans).
	downs atomic.Int64
	// Balancing state, guarded by mu.
	act, groupKey []*Server
	fwrrAct       fwrrGroup
	fwrrBck       fwrrGroup
	fwrrInit      bool
	wasRamping    bool
	smap          serverMap
	chash         chashTree
	seq           uint64
	dirty         bool
	ramping       bool
	rampSec       int64
	lcCounter     uint64
	// list is Servers as last published by AddServer and RemoveServer.
	list atomic.Pointer[[]*Server]
}

type waiter struct {
	// ch receives the server whose slot the waiter inherits, or nil when
	// the server it waited for went down and it must be dispatched again.
	ch chan *Server
	// on is the server whose queue holds the waiter, nil for the
	// backend's queue.
	on  *Server
	seq uint64
	// class and due order the queue (HAProxy's queue key): the class,
	// then the queue time plus the priority offset, in milliseconds.
	class int
	due   int64
}

// before is HAProxy's queue order: a lower priority class first, then
// the earlier due time, then the earlier arrival.
func (w *waiter) before(o *waiter) bool {
	if w.class != o.class {
		return w.class < o.class
	}
	if w.due != o.due {
		return w.due < o.due
	}
	return w.seq < o.seq
}

// enqueue inserts w in q by queue order.
func enqueue(q []*waiter, w *waiter) []*waiter {
	i := len(q)
	for i > 0 && w.before(q[i-1]) {
		i--
	}
	q = append(q, nil)
	copy(q[i+1:], q[i:])
	q[i] = w
	return q
}

// ErrNoServer means no server is usable; the caller answers 503.
var ErrNoServer = errors.New("no server available")

// ErrQueueFull means the server's queue holds maxqueue requests already.
var ErrQueueFull = errors.New("queue full")

// ErrQueueTimeout means a request waited in the queue for too long.
var ErrQueueTimeout = errors.New("queue timeout")

// NewTarget makes the Target of a backend: a server named as HAProxy's
// logs name a session without one, "<NOSRV>", at addr or, when
// transparent, at the client's destination.
func (b *Backend) NewTarget(addr string, transparent bool) *Server {
	t := &Server{Name: "<NOSRV>", Addr: addr, Transparent: transparent, Backend: b}
	t.curWeight.Store(1)
	t.state.Store(int32(Up))
	b.Target = t
	return t
}

// New builds a backend around its servers. Servers without an ID get
// the first free one from their rank on, as HAProxy numbers them.
func New(name string, servers []*Server) *Backend {
	b := &Backend{Name: name, Servers: servers, dirty: true}
	used := map[int]bool{}
	now := time.Now().Unix()
	for _, s := range servers {
		s.Backend = b
		s.curWeight.Store(int32(s.Weight))
		used[s.ID] = true
		s.lastChange.Store(now)
		s.hana.kick = make(chan time.Duration, 1)
		s.chkStatus.Store(int32(CheckIni))
		if s.State() != Maint {
			s.health.Store(int32(s.Check.Rise))
		}
	}
	next := 1
	for _, s := range servers {
		if s.ID == 0 {
			for used[next] {
				next++
			}
			s.ID = next
			used[next] = true
		}
		next++
	}
	return b
}

// weight is the weight in force.
func (s *Server) weight() int { return int(s.curWeight.Load()) }

// CurWeight is the weight in force (HAProxy's uweight): Weight until the
// DNS changes it.
func (s *Server) CurWeight() int { return s.weight() }

// ErrStaticWeight is HAProxy's refusal of a weight change that a static
// balance algorithm cannot apply.
var ErrStaticWeight = errors.New("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.")

// SetWeight changes the weight in force, as HAProxy's
// server_parse_weight_change_request does: with a static algorithm only
// 0 and the initial weight are accepted.
func (s *Server) SetWeight(w int) error {
	b := s.Backend
	if !b.dynamicWeights() && w != 0 && w != s.Weight {
		return ErrStaticWeight
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if int(s.curWeight.Swap(int32(w))) != w {
		// Round robin starts over with the new weights.
		b.fwrrInit = false
		b.dirty = true
	}
	return nil
}

// usable reports whether s can take traffic (up with a non-zero weight).
// Stopped is HAProxy's SRV_ST_STOPPED: down or in maintenance.
func (s *Server) Stopped() bool { st := s.State(); return st == Down || st == Maint }

func (s *Server) usable() bool { return s.State() == Up && s.weight() > 0 && !s.Drained() }

// KeepLast is assign_server's test for a session's last server:
// usable, and with "max-keep-alive-queue" (maxKAQueue is its value plus
// one, 0 when unset) either room for the stream or a queue short enough,
// unless always (a private connection's session).
func (s *Server) KeepLast(maxKAQueue int32, always bool) bool {
	if !s.usable() {
		return false
	}
	if always || maxKAQueue == 0 {
		return true
	}
	s.Backend.mu.Lock()
	defer s.Backend.mu.Unlock()
	return s.Maxconn == 0 || s.cur < s.dynMaxconn() || len(s.queue)+1 < int(maxKAQueue)
}

// Hashed says whether the algorithm hashes the request (BE_LB_KIND_HI).
func (a Algo) Hashed() bool {
	switch a {
	case Source, URI, Hdr, URLParam, RDPCookie:
		return true
	}
	return false
}

// Acquire picks a server for a new session and takes one of its
// connection slots, waiting in a queue up to queueTimeout when every
// usable server is full. Release must be called when done.
func (b *Backend) Acquire(ctx context.Context, queueTimeout time.Duration) (*Server, error) {
	return b.acquire(ctx, queueTimeout, nil, Key{}, nil, false)
}

// AcquireServer takes a slot on s, the server a persistence cookie points
// at, when it is up, waiting in its queue when it is full; otherwise it
// balances as AcquireKey does.
func (b *Backend) AcquireServer(ctx context.Context, queueTimeout time.Duration, s *Server, k Key) (*Server, error) {
	return b.acquire(ctx, queueTimeout, s, k, nil, false)
}

// AcquirePersist is AcquireServer for a server that persistence chose:
// with Persist, or force (a force-persist rule), it is taken even when it
// is down or in maintenance.
func (b *Backend) AcquirePersist(ctx context.Context, queueTimeout time.Duration, s *Server, k Key, force bool) (*Server, error) {
	return b.acquire(ctx, queueTimeout, s, k, nil, b.Persist || force)
}

// AcquireKey is Acquire for the hash algorithms: k carries the request's
// hash.
func (b *Backend) AcquireKey(ctx context.Context, queueTimeout time.Duration, k Key) (*Server, error) {
	return b.acquire(ctx, queueTimeout, nil, k, nil, false)
}

// AcquireAvoid is AcquireKey for a request whose connection to avoid
// failed: the balancers pass over avoid when they can, as HAProxy's do
// (a map-based hash cannot and picks the same server again).
func (b *Backend) AcquireAvoid(ctx context.Context, queueTimeout time.Duration, k Key, avoid *Server) (*Server, error) {
	return b.acquire(ctx, queueTimeout, nil, k, avoid, false)
}

// acquire is HAProxy's assign_server_and_queue: a server chosen by a
// hash or a cookie is waited for in its own queue, bounded by its
// maxqueue; when the balancer finds every server full, the request waits
// in the backend's queue for whichever frees a slot first.
func (b *Backend) acquire(ctx context.Context, queueTimeout time.Duration, direct *Server, k Key, avoid *Server, force bool) (*Server, error) {
	// The queue timer is made only for a request that waits: the path
	// of a request served at once allocates nothing.
	var timer <-chan time.Time
	for {
		b.mu.Lock()
		s, assigned, anyUsable := direct, true, true
		if s == nil || !force && !s.usable() && !(s.State() == Stopping && s.weight() > 0) {
			if b.Target != nil {
				// No balancing: what persistence does not send to a
				// server goes to the target, which has no limit.
				return b.takeUnlock(b.Target), nil
			}
			s, assigned, anyUsable = b.pickLocked(k, avoid)
			if s != nil && s != avoid {
				// assign_server's cum_lbconn: balancing chose it,
				// neither persistence nor a queue.
				b.lbTotal.Add(1)
				s.lbTotal.Add(1)
			}
		}
		var q *Server
		switch {
		case s == nil && !anyUsable:
			b.mu.Unlock()
			return nil, ErrNoServer
		case s == nil:
		case !assigned || s.Maxconn == 0 || len(s.queue) == 0 && s.cur < s.dynMaxconn():
			return b.takeUnlock(s), nil
		case s.MaxQueue > 0 && len(s.queue) >= s.MaxQueue:
			b.mu.Unlock()
			if direct != nil && b.Redispatch {
				// A full persistent server lets the request go elsewhere.
				direct = nil
				continue
			}
			return nil, ErrQueueFull
		default:
			q = s
		}
		b.seq++
		w := &waiter{ch: make(chan *Server, 1), on: q, seq: b.seq, class: k.PrioClass, due: time.Now().UnixMilli() + int64(k.PrioOffset)}
		if q != nil {
			q.queue = enqueue(q.queue, w)
			q.maxQueue = max(q.maxQueue, len(q.queue))
		} else {
			b.queue = enqueue(b.queue, w)
			b.maxQueue = max(b.maxQueue, len(b.queue))
		}
		b.mu.Unlock()
		if timer == nil && queueTimeout > 0 {
			t := time.NewTimer(queueTimeout)
			defer t.Stop()
			timer = t.C
		}
		if k.Waiter != nil {
			k.Waiter.IOWait()
		}
		var got *Server
		woken := false
		select {
		case got = <-w.ch:
			woken = true
		case <-timer:
		case <-ctx.Done():
		}
		if k.Waiter != nil {
			k.Waiter.IOReady()
		}
		if woken {
			if got != nil {
				got.total.Add(1)
				return got, nil
			}
			direct = nil
			continue
		}
		b.mu.Lock()
		b.unqueueLocked(w)
		b.mu.Unlock()
		// A slot may have been handed over just before giving up.
		select {
		case s := <-w.ch:
			if s != nil {
				b.Release(s)
			}
		default:
		}
		return nil, ErrQueueTimeout
	}
}

// takeUnlock gives a slot of s to the caller and releases b.mu.
func (b *Backend) takeUnlock(s *Server) *Server {
	s.cur++
	s.maxCur = max(s.maxCur, s.cur)
	b.lcCounter++
	s.lcSeq = b.lcCounter
	b.mu.Unlock()
	s.total.Add(1)
	return s
}

func removeWaiter(q []*waiter, w *waiter) []*waiter {
	for i, x := range q {
		if x == w {
			copy(q[i:], q[i+1:])
			q[len(q)-1] = nil
			return q[:len(q)-1]
		}
	}
	return q
}

func (b *Backend) unqueueLocked(w *waiter) {
	if w.on != nil {
		w.on.queue = removeWaiter(w.on.queue, w)
	} else {
		b.queue = removeWaiter(b.queue, w)
	}
}

// Release returns a connection slot; queued requests inherit it.
func (b *Backend) Release(s *Server) {
	b.mu.Lock()
	s.cur--
	b.lcCounter++
	s.lcSeq = b.lcCounter
	b.serveQueuesLocked(s)
	b.mu.Unlock()
}

// serveQueuesLocked is process_srv_queue: while s has free slots, the
// oldest request of its own queue and of the backend's queue gets one.
// The backend's queue is served only by servers taking traffic now.
func (b *Backend) serveQueuesLocked(s *Server) {
	pxOK := -1
	for s.Maxconn == 0 || s.cur < s.dynMaxconn() {
		var w *waiter
		if len(b.queue) > 0 && pxOK < 0 {
			pxOK = 0
			for _, x := range b.groupLocked() {
				if x == s {
					pxOK = 1
				}
			}
		}
		fromPx := pxOK == 1 && len(b.queue) > 0 && (len(s.queue) == 0 || b.queue[0].before(s.queue[0]))
		switch {
		case fromPx:
			w = b.queue[0]
			b.queue = removeWaiter(b.queue, w)
		case len(s.queue) > 0:
			w = s.queue[0]
			s.queue = removeWaiter(s.queue, w)
		default:
			return
		}
		s.cur++
		s.maxCur = max(s.maxCur, s.cur)
		b.lcCounter++
		s.lcSeq = b.lcCounter
		w.on = nil
		w.ch <- s
	}
}

// QueueLen is the number of requests waiting for a server, in the
// backend's queue and the servers' queues.
func (b *Backend) QueueLen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queueLenLocked()
}

func (b *Backend) queueLenLocked() int {
	n := len(b.queue)
	for _, s := range b.Servers {
		n += len(s.queue)
	}
	return n
}

// ActiveCount is the number of usable active (non-backup) servers.
func (b *Backend) ActiveCount() int {
	n := 0
	for _, s := range b.ServerList() {
		if s.usable() && !s.Backup {
			n++
		}
	}
	return n
}

// UpCount is the number of servers able to take traffic.
func (b *Backend) UpCount() int {
	n := 0
	for _, s := range b.ServerList() {
		if s.State() == Up {
			n++
		}
	}
	return n
}

// StateChange is a server's change of state with what HAProxy reports
// with it.
type StateChange struct {
	Server   *Server
	From, To State
	// Reason is the check's report, empty when it is not to be shown;
	// Via names the tracked server a tracking one follows; Desc is the
	// reason an operator's change gives instead ("changed from CLI").
	Reason, Via, Desc string
	// Active and Backup count the usable servers after the change.
	Active, Backup int
	// Requeued counts the queued requests moved by the change; Queue is
	// what is left in the server's queue; Sessions its sessions.
	Requeued, Queue, Sessions int
}

// setState changes a server's state and reports it.
func (s *Server) setState(to State, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStateLocked(to, reason)
}

// setStateLocked is setState with s.mu held. A server in maintenance
// keeps its state, as HAProxy's srv_set_running and srv_set_stopped
// leave it.
func (s *Server) setStateLocked(to State, reason string) { s.changeStateLocked(to, reason, "") }

// ForceState is the CLI's "set server <b>/<s> health up|stopping|down"
// (HAProxy's srv_set_running, srv_set_stopping and srv_set_stopped with
// a reason): the check's health is set to match, and the change is
// reported with desc ("changed from CLI") as a check's would be.
func (s *Server) ForceState(to State, desc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.Check.Rise + s.Check.Fall - 1
	if to == Down {
		h = 0
	}
	s.health.Store(int32(h))
	s.changeStateLocked(to, "", desc)
}

// changeStateLocked is setStateLocked with the text that replaces the
// check's reason in the report.
func (s *Server) changeStateLocked(to State, reason, desc string) {
	if s.inMaint() {
		return
	}
	from := State(s.state.Swap(int32(to)))
	if from == to {
		return
	}
	s.lastChange.Store(time.Now().Unix())
	ch := s.moveLocked(from, to)
	ch.Reason = reason
	b := s.Backend
	if b.LogHealthChecks {
		ch.Reason = ""
	}
	if s.Tracked != nil {
		ch.Reason = ""
		ch.Via = s.Tracked.Backend.Name + "/" + s.Tracked.Name
	}
	ch.Desc = desc
	if b.OnState != nil {
		b.OnState(ch)
	}
	// HAProxy lists the trackers last registered first.
	for i := len(s.trackers) - 1; i >= 0; i-- {
		s.trackers[i].setState(to, "")
	}
}

// moveLocked applies the change of s, whose state is already to, to the
// balancer and the queues, and returns what HAProxy reports with it.
func (s *Server) moveLocked(from, to State) StateChange {
	b := s.Backend
	if to == Up && s.Slowstart > 0 {
		s.upSince.Store(time.Now().Unix())
	}
	b.mu.Lock()
	b.fwrrChangeLocked(s, from == Up && s.weight() > 0, s.usable())
	moved := 0
	switch {
	case to == Up:
		// Requests queued on the backend may now be served here.
		before := len(b.queue)
		b.serveQueuesLocked(s)
		moved = before - len(b.queue)
	case b.Redispatch && !b.Persist:
		// pendconn_redistribute: with redispatch, the requests waiting
		// for this server are dispatched again.
		for _, w := range s.queue {
			w.on = nil
			w.ch <- nil
		}
		moved = len(s.queue)
		s.queue = s.queue[:0]
	}
	ch := StateChange{Server: s, From: from, To: to, Requeued: moved, Queue: len(s.queue), Sessions: s.cur}
	for _, x := range b.Servers {
		if x.usable() {
			if x.Backup {
				ch.Backup++
			} else {
				ch.Active++
			}
		}
	}
	b.mu.Unlock()
	if (to == Down || to == Maint) && (from == Up || from == Stopping) {
		s.downs.Add(1)
	}
	return ch
}

// setQuiet changes a server's state without a report; trackers follow.
func (s *Server) setQuiet(to State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setQuietLocked(to)
}

func (s *Server) setQuietLocked(to State) {
	if s.inMaint() {
		return
	}
	b := s.Backend
	b.mu.Lock()
	was := s.usable()
	if State(s.state.Swap(int32(to))) != to {
		s.lastChange.Store(time.Now().Unix())
	}
	b.fwrrChangeLocked(s, was, s.usable())
	b.mu.Unlock()
	for i := len(s.trackers) - 1; i >= 0; i-- {
		s.trackers[i].setQuiet(to)
	}
}

// TrackServer makes s follow t's state instead of running checks. A
// server tracking one in maintenance inherits it, as HAProxy's
// srv_compute_all_admin_states makes it at start.
func (s *Server) TrackServer(t *Server) {
	s.Tracked = t
	s.Check.Enabled = false
	t.trackers = append(t.trackers, s)
	t.rt.pinned.Store(true)
	if t.Admin()&(adminMaint|AdminConfigMaint) != 0 {
		s.inheritMaint()
	}
}

// inheritMaint puts s and its trackers in inherited maintenance at
// start, quietly.
func (s *Server) inheritMaint() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Admin()&AdminInheritedMaint != 0 {
		return
	}
	s.admin.Store(uint32(s.Admin() | AdminInheritedMaint))
	s.state.Store(int32(Maint))
	s.health.Store(0)
	for _, t := range s.trackers {
		t.inheritMaint()
	}
}

// SetState forces a server state at start: Maint is the configuration's
// "disabled", or maintenance for want of an address when the server has
// none (HAProxy's SRV_ADMF_CMAINT and SRV_ADMF_RMAINT).
func (s *Server) SetState(to State) {
	s.state.Store(int32(to))
	if to == Maint {
		s.health.Store(0)
		if s.Addr == "" {
			s.admin.Store(uint32(s.Admin() | AdminResolveMaint))
		} else {
			s.SetConfigMaint()
		}
	}
}

// ServerStatus is a read-only view of one server for operators.
type ServerStatus struct {
	Name string
	// State is UP, DOWN, MAINT or DRAIN (up with weight 0).
	State    string
	Backup   bool
	Weight   int
	Sessions int
	// Queue is the number of requests waiting for this server.
	Queue int
	Total int64
	// MaxSessions and MaxQueue are the most at once; LBTotal the times
	// balancing chose the server.
	MaxSessions, MaxQueue int
	LBTotal               int64
}

// Status is a read-only view of a backend.
type Status struct {
	Name string
	// Queue counts every waiting request, the backend's and the servers'.
	Queue int
	// OwnQueue is the backend's own queue, MaxQueue the most it held at
	// once; LBTotal counts the servers balancing chose.
	OwnQueue, MaxQueue int
	LBTotal            int64
	Servers            []ServerStatus
}

// Snapshot returns the current state of the backend and its servers.
func (b *Backend) Snapshot() Status {
	st := Status{Name: b.Name, Queue: b.QueueLen(), LBTotal: b.lbTotal.Load()}
	b.mu.Lock()
	defer b.mu.Unlock()
	st.OwnQueue, st.MaxQueue = len(b.queue), b.maxQueue
	for _, s := range b.Servers {
		state := s.State().String()
		if state == "UP" && (s.weight() == 0 || s.Drained()) {
			state = "DRAIN"
		}
		st.Servers = append(st.Servers, ServerStatus{Name: s.Name, State: state, Backup: s.Backup,
			Weight: s.weight(), Sessions: s.cur, Queue: len(s.queue), Total: s.total.Load(),
			MaxSessions: s.maxCur, MaxQueue: s.maxQueue, LBTotal: s.lbTotal.Load()})
	}
	return st
}

// srvAddr is an address set at run time; it is never modified once
// stored, so readers need no lock.
type srvAddr struct {
	hostport string // "" when the server has no address
	host     string // the dial host of a server with MapPorts
	// fixed drops the port map of a server with MapPorts ("set server
	// ... addr ... port").
	fixed bool
}

// Address is the server's current address, host:port, "" when it has
// none (a DNS name that did not resolve).
func (s *Server) Address() string {
	if a := s.dyn.Load(); a != nil {
		return a.hostport
	}
	return s.Addr
}

// SetAddress changes the address connections and checks use from now on:
// ip on port (the port offset of a server with MapPorts); an invalid ip
// leaves the server without an address.
func (s *Server) SetAddress(ip netip.Addr, port int) {
	a := &srvAddr{}
	if ip.IsValid() {
		a.host = ip.Unmap().String()
		a.hostport = net.JoinHostPort(a.host, strconv.Itoa(port))
	}
	s.dyn.Store(a)
}

// parsedAddr is an address string and its parse.
type parsedAddr struct {
	s   string
	ap  netip.AddrPort
	err error
}

// ParseDialAddr is netip.ParseAddrPort of an address DialAddr gave,
// parsed once while the server's address stays the same rather than for
// every connection. The address of a transparent server, or one with
// mapped ports, follows the client's: it is parsed each time.
func (s *Server) ParseDialAddr(addr string) (netip.AddrPort, error) {
	if s.Transparent || s.MapPorts {
		return netip.ParseAddrPort(addr)
	}
	if p := s.parsed.Load(); p != nil && p.s == addr {
		return p.ap, p.err
	}
	ap, err := netip.ParseAddrPort(addr)
	s.parsed.Store(&parsedAddr{addr, ap, err})
	return ap, err
}

// DialAddr is the address to connect to for a client that connected to
// dst.
func (s *Server) DialAddr(dst netip.AddrPort) string {
	if s.Transparent {
		if !dst.IsValid() {
			return "" // not an IP client: nothing to connect to
		}
		return netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port()).String()
	}
	a := s.dyn.Load()
	if !s.MapPorts || a != nil && a.fixed {
		if a != nil {
			return a.hostport
		}
		return s.Addr
	}
	host := s.Host
	if a != nil {
		host = a.host
	}
	port := (int(dst.Port()) + s.PortOffset) & 0xffff
	return net.JoinHostPort(host, strconv.Itoa(port))
}
