// Package backend holds the servers of a backend, the load-balancing
// algorithms, per-server connection limits with their queue, and health
// checks.
package backend

import (
	"context"
	"errors"
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
)

func (s State) String() string {
	switch s {
	case Up:
		return "UP"
	case Down:
		return "DOWN"
	}
	return "MAINT"
}

// Server is one server line.
type Server struct {
	Name    string
	Addr    string // host:port, resolved at start
	Weight  int
	Maxconn int
	// Minconn, with the backend's Fullconn, lowers the connection limit
	// while the backend is lightly loaded.
	Minconn int
	// Slowstart ramps the weight up after the server comes back up.
	Slowstart time.Duration
	upSince   atomic.Int64
	Backend   *Backend

	Check Check

	// Backup servers take traffic only when no active server can.
	Backup bool

	state atomic.Int32
	cur   int // sessions in use; guarded by Backend.mu
	total atomic.Int64
	// Balancing state, guarded by Backend.mu.
	eweight, npos, lpos, rweight, wscore, uw int
	key                                      uint32
	seq, lcSeq                               uint64
	tree                                     *fwrrTree
}

// State returns the server's current state.
func (s *Server) State() State { return State(s.state.Load()) }

// Sessions is the number of sessions currently using the server.
func (s *Server) Sessions() int {
	s.Backend.mu.Lock()
	defer s.Backend.mu.Unlock()
	return s.cur
}

// Total is the number of sessions ever given to the server.
func (s *Server) Total() int64 { return s.total.Load() }

// Backend is a set of servers with a balancing algorithm and a queue.
type Backend struct {
	Name    string
	Servers []*Server
	// OnState is called (outside locks) when a check changes a server's
	// state; up is the number of usable servers left.
	OnState func(s *Server, from, to State, reason string, up int)

	// Algo is the balance algorithm; AllBackups uses every backup server
	// at once instead of the first one (option allbackups).
	Algo       Algo
	AllBackups bool
	// Fullconn is the backend load at which servers reach their maxconn.
	Fullconn int
	// Draws is the number of servers "balance random" compares.
	Draws int
	// MaxQueue bounds the queue (the servers' maxqueue added up; 0 for
	// no bound): beyond it a request is refused at once.
	MaxQueue int

	mu    sync.Mutex
	queue []*waiter
	// Balancing state, guarded by mu.
	act, groupKey []*Server
	fwrr          fwrrGroup
	smap          serverMap
	dirty         bool
	ramping       bool
	lcCounter     uint64
}

type waiter struct {
	ch  chan *Server
	off bool // set when the waiter gave up
}

// ErrNoServer means no server is usable; the caller answers 503.
var ErrNoServer = errors.New("no server available")

// ErrQueueFull means the queue holds maxqueue requests already.
var ErrQueueFull = errors.New("queue full")

// ErrQueueTimeout means a request waited in the queue for too long.
var ErrQueueTimeout = errors.New("queue timeout")

// New builds a backend around its servers.
func New(name string, servers []*Server) *Backend {
	b := &Backend{Name: name, Servers: servers, dirty: true}
	for _, s := range servers {
		s.Backend = b
	}
	return b
}

// usable reports whether s can take traffic (up with a non-zero weight).
func (s *Server) usable() bool { return s.State() == Up && s.Weight > 0 }

// Acquire picks a server for a new session and takes one of its
// connection slots, waiting in the backend queue up to queueTimeout when
// every usable server is full. Release must be called when done.
func (b *Backend) Acquire(ctx context.Context, queueTimeout time.Duration) (*Server, error) {
	return b.AcquireKey(ctx, queueTimeout, Key{})
}

// AcquireServer takes a slot on s, the server a persistence cookie points
// at, when it is up and has one; otherwise it balances as Acquire does.
func (b *Backend) AcquireServer(ctx context.Context, queueTimeout time.Duration, s *Server, k Key) (*Server, error) {
	b.mu.Lock()
	if s.usable() && s.hasSlot() {
		return b.takeUnlock(s), nil
	}
	b.mu.Unlock()
	return b.AcquireKey(ctx, queueTimeout, k)
}

// takeUnlock gives a slot of s to the caller and releases b.mu.
func (b *Backend) takeUnlock(s *Server) *Server {
	s.cur++
	b.lcCounter++
	s.lcSeq = b.lcCounter
	b.mu.Unlock()
	s.total.Add(1)
	return s
}

// AcquireKey is Acquire for the hash algorithms: k carries the request's
// hash.
func (b *Backend) AcquireKey(ctx context.Context, queueTimeout time.Duration, k Key) (*Server, error) {
	b.mu.Lock()
	s, anyUsable := b.pickLocked(k)
	if s != nil {
		return b.takeUnlock(s), nil
	}
	if !anyUsable {
		b.mu.Unlock()
		return nil, ErrNoServer
	}
	if b.MaxQueue > 0 && b.queueLenLocked() >= b.MaxQueue {
		b.mu.Unlock()
		return nil, ErrQueueFull
	}
	w := &waiter{ch: make(chan *Server, 1)}
	b.queue = append(b.queue, w)
	b.mu.Unlock()
	var timer <-chan time.Time
	if queueTimeout > 0 {
		t := time.NewTimer(queueTimeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case s := <-w.ch:
		s.total.Add(1)
		return s, nil
	case <-timer:
	case <-ctx.Done():
	}
	b.mu.Lock()
	w.off = true
	b.mu.Unlock()
	// A slot may have been handed over just before giving up.
	select {
	case s := <-w.ch:
		b.Release(s)
	default:
	}
	return nil, ErrQueueTimeout
}

// Release returns a connection slot; the first queued request, if any,
// inherits it.
func (b *Backend) Release(s *Server) {
	b.mu.Lock()
	for len(b.queue) > 0 {
		w := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		if w.off {
			continue
		}
		if s.usable() {
			w.ch <- s
			b.mu.Unlock()
			return
		}
		// The server went away: give the waiter another one if possible.
		if n, _ := b.pickLocked(Key{}); n != nil {
			s.cur--
			n.cur++
			w.ch <- n
			b.mu.Unlock()
			return
		}
		b.queue = append([]*waiter{w}, b.queue...)
		break
	}
	s.cur--
	b.lcCounter++
	s.lcSeq = b.lcCounter
	b.mu.Unlock()
}

// QueueLen is the number of requests waiting for a server.
func (b *Backend) QueueLen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queueLenLocked()
}

func (b *Backend) queueLenLocked() int {
	n := 0
	for _, w := range b.queue {
		if !w.off {
			n++
		}
	}
	return n
}

// UpCount is the number of servers able to take traffic.
func (b *Backend) UpCount() int {
	n := 0
	for _, s := range b.Servers {
		if s.State() == Up {
			n++
		}
	}
	return n
}

// setState changes a server's state and reports it.
func (s *Server) setState(to State, reason string) {
	from := State(s.state.Swap(int32(to)))
	if from == to {
		return
	}
	b := s.Backend
	if to == Up && s.Slowstart > 0 {
		s.upSince.Store(time.Now().UnixNano())
	}
	if to == Up {
		// Queued requests may now be served by this server.
		b.mu.Lock()
		for len(b.queue) > 0 && s.hasSlot() {
			w := b.queue[0]
			b.queue = b.queue[1:]
			if w.off {
				continue
			}
			s.cur++
			w.ch <- s
		}
		b.mu.Unlock()
	}
	if b.OnState != nil {
		b.OnState(s, from, to, reason, b.UpCount())
	}
}

// SetState forces a server state (used when DNS fails at start).
func (s *Server) SetState(to State) { s.state.Store(int32(to)) }

// ServerStatus is a read-only view of one server for operators.
type ServerStatus struct {
	Name string
	// State is UP, DOWN, MAINT or DRAIN (up with weight 0).
	State    string
	Backup   bool
	Weight   int
	Sessions int
	Total    int64
}

// Status is a read-only view of a backend.
type Status struct {
	Name    string
	Queue   int
	Servers []ServerStatus
}

// Snapshot returns the current state of the backend and its servers.
func (b *Backend) Snapshot() Status {
	st := Status{Name: b.Name, Queue: b.QueueLen()}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.Servers {
		state := s.State().String()
		if state == "UP" && s.Weight == 0 {
			state = "DRAIN"
		}
		st.Servers = append(st.Servers, ServerStatus{Name: s.Name, State: state, Backup: s.Backup,
			Weight: s.Weight, Sessions: s.cur, Total: s.total.Load()})
	}
	return st
}
