package h2

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// waiter blocks a Read or Write until it is woken or its deadline passes.
// The deadline can move while a caller waits, as net.Conn requires.
type waiter struct {
	mu    sync.Mutex
	dl    time.Time
	timer *time.Timer
	wake  chan struct{}
	// rel, without a deadline, bounds each wait: it runs from when the
	// wait starts (an inactivity timeout set once instead of a deadline
	// armed and cleared around every call).
	rel atomic.Int64
}

func (w *waiter) init() {
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
}

// signal wakes the waiting caller, if any, without blocking.
func (w *waiter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *waiter) setDeadline(t time.Time) {
	w.mu.Lock()
	w.dl = t
	w.mu.Unlock()
	w.signal()
}

// expired reports whether the deadline has passed.
func (w *waiter) expired() bool {
	w.mu.Lock()
	dl := w.dl
	w.mu.Unlock()
	return !dl.IsZero() && !time.Now().Before(dl)
}

// wait blocks until signal or the deadline; it returns
// os.ErrDeadlineExceeded on the latter. Callers re-check their state
// after it returns nil, as wake-ups may be spurious.
func (w *waiter) wait() error {
	w.mu.Lock()
	dl := w.dl
	w.mu.Unlock()
	relOnly := false
	if rel := w.rel.Load(); dl.IsZero() && rel > 0 {
		dl, relOnly = time.Now().Add(time.Duration(rel)), true
	}
	if dl.IsZero() {
		<-w.wake
		return nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.wake:
		w.timer.Stop()
		return nil
	case <-w.timer.C:
		// The deadline may have been moved meanwhile.
		if w.expired() {
			return os.ErrDeadlineExceeded
		}
		if relOnly {
			w.mu.Lock()
			set := !w.dl.IsZero()
			w.mu.Unlock()
			if !set {
				return os.ErrDeadlineExceeded
			}
		}
		return nil
	}
}

// reset clears the deadline and any pending wake-up for reuse.
func (w *waiter) reset() {
	w.mu.Lock()
	w.dl = time.Time{}
	w.mu.Unlock()
	w.rel.Store(0)
	select {
	case <-w.wake:
	default:
	}
}
