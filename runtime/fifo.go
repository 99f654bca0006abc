package runtime

import (
	"cmp"
	goruntime "runtime"
	"slices"
	"sync"
)

// readyOrder puts sessions woken by the same poll back in the order their
// clients became ready. Go's poller hands a poll's goroutines over
// last-ready first; under load the earliest client then waits for the
// whole batch, which widens the latency spread. HAProxy serves its poll
// in order. With one P, a session woken by its client queues here and a
// dispatcher, run once the batch has queued, wakes them first-ready
// first, streams of a lower nice (set-nice) before the others. With more
// Ps the batches are spread over them and this is off. It is also off
// when no stream can have a nice: the re-queueing costs each request a
// park and a wake, some 2% of its CPU, and measured under 64 and 256
// keep-alive clients it did not lower the p99 latency.
type readyOrder struct {
	mu      sync.Mutex
	stack   []*session // run order, which is the reverse of ready order
	kicked  bool
	closed  bool
	kick    chan struct{}
	pending []*session
}

func newReadyOrder(g *Graph) *readyOrder {
	if goruntime.GOMAXPROCS(0) != 1 || !g.usesNice() {
		return nil
	}
	return &readyOrder{kick: make(chan struct{}, 1)}
}

// wait queues s until the dispatcher gives it its turn.
func (o *readyOrder) wait(s *session) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.stack = append(o.stack, s)
	kick := !o.kicked
	o.kicked = true
	o.mu.Unlock()
	if kick {
		o.kick <- struct{}{}
	}
	<-s.turn
}

// run dispatches until done is closed, then releases any waiter.
func (o *readyOrder) run(done <-chan struct{}) {
	for {
		select {
		case <-o.kick:
		case <-done:
			o.mu.Lock()
			o.closed = true
			o.pending = append(o.pending[:0], o.stack...)
			o.stack = o.stack[:0]
			o.mu.Unlock()
			for _, s := range o.pending {
				s.turn <- struct{}{}
			}
			return
		}
		// The rest of the poll's batch runs and queues first: the
		// scheduler may run this before the batch is over, so it
		// yields until a whole round added nobody.
		for n := -1; ; {
			goruntime.Gosched()
			o.mu.Lock()
			m := len(o.stack)
			o.mu.Unlock()
			if m == n {
				break
			}
			n = m
		}
		o.mu.Lock()
		o.pending = append(o.pending[:0], o.stack...)
		o.stack = o.stack[:0]
		o.kicked = false
		o.mu.Unlock()
		n := len(o.pending)
		if n == 0 {
			continue
		}
		o.byNice()
		// A woken goroutine runs next and pushes the previous one to
		// the back of the run queue: waking the second-ready to the
		// last-ready, then the first-ready, runs them in ready order.
		for i := n - 2; i >= 0; i-- {
			o.pending[i].turn <- struct{}{}
		}
		o.pending[n-1].turn <- struct{}{}
		clear(o.pending)
	}
}

// byNice makes the batch's streams of lower nice run first, in ready
// order among equals, as HAProxy's run queue runs a niced task later.
// pending is in queue order, the reverse of the run order.
func (o *readyOrder) byNice() {
	for _, s := range o.pending {
		if s.strm.nice.Load() != 0 {
			slices.SortStableFunc(o.pending, func(a, b *session) int {
				return cmp.Compare(b.strm.nice.Load(), a.strm.nice.Load())
			})
			return
		}
	}
}

// usesNice reports whether a stream can get a nice other than 0: a bind
// "nice" or a set-nice rule.
func (g *Graph) usesNice() bool {
	http := func(rs ...[]httpRule) bool {
		for _, r := range rs {
			for i := range r {
				if r[i].act == "set-nice" {
					return true
				}
			}
		}
		return false
	}
	tcp := func(t *tcpRules) bool {
		for _, r := range [][]tcpRule{t.conn, t.sess, t.content, t.response} {
			for i := range r {
				if r[i].act == "set-nice" {
					return true
				}
			}
		}
		return false
	}
	for _, fe := range g.Frontends {
		for _, b := range fe.Binds {
			if b.Nice != 0 {
				return true
			}
		}
		if http(fe.reqRules, fe.rspRules, fe.afterRules) || tcp(&fe.tcp) {
			return true
		}
	}
	for _, be := range g.Backends {
		if http(be.reqRules, be.rspRules, be.afterRules) || tcp(&be.tcp) {
			return true
		}
	}
	return false
}
