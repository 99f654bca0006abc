package runtime

import (
	"sync"
	"time"
)

// rateLimiter bounds events per second as HAProxy's frequency counters
// do (maxconnrate, maxsessrate, rate-limit sessions): the count of the
// current second plus the previous second's, weighted by the part of it
// still inside the sliding one-second window.
type rateLimiter struct {
	limit int
	mu    sync.Mutex
	start time.Time // start of the current period
	curr  int
	prev  int
}

func newRateLimiter(limit int) *rateLimiter {
	if limit <= 0 {
		return nil
	}
	return &rateLimiter{limit: limit}
}

// take counts one event when the rate allows it and returns 0, or
// returns how long to wait before trying again.
func (r *rateLimiter) take(now time.Time) time.Duration { return r.check(now, true) }

// check is take without counting the event when count is false: the
// listeners wait for room before accepting and count what they accept.
func (r *rateLimiter) check(now time.Time, count bool) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rotate(now)
	left := time.Second - now.Sub(r.start)
	// The previous second's events still inside the window.
	past := int((int64(r.prev)*int64(left) + int64(time.Second) - 1) / int64(time.Second))
	if r.curr+past < r.limit {
		if count {
			r.curr++
		}
		return 0
	}
	if r.curr >= r.limit || r.prev == 0 {
		// Not before the next period.
		return left
	}
	// Until enough of the previous second has left the window.
	need := r.curr + r.prev - r.limit + 1
	wait := time.Duration(int64(need)*int64(time.Second)/int64(r.prev)) - (time.Second - left)
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return wait
}

// rotate starts a new period when now is past the current one.
func (r *rateLimiter) rotate(now time.Time) {
	if r.start.IsZero() {
		r.start = now
	}
	if d := now.Sub(r.start); d >= time.Second {
		if d >= 2*time.Second {
			r.prev = 0
		} else {
			r.prev = r.curr
		}
		r.curr = 0
		r.start = r.start.Add(d.Truncate(time.Second))
	}
}

// limiters are the rates a listener's connections fall under: the
// process's, its frontend's, and maxsslrate on a TLS bind.
func (e *Engine) limiters(l *listener) [4]*rateLimiter {
	rs := [4]*rateLimiter{e.connRate, e.sessRate, l.fe.rateLimit}
	if l.bind != nil && l.bind.TLS != nil {
		rs[3] = e.sslRate
	}
	return rs
}

// waitRate waits until the process and the frontend rates allow one
// more connection; it returns false when the engine stops meanwhile.
func (e *Engine) waitRate(l *listener) bool {
	for _, r := range e.limiters(l) {
		if r == nil {
			continue
		}
		for {
			d := r.check(time.Now(), false)
			if d == 0 {
				break
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-e.done:
				t.Stop()
				return false
			}
		}
	}
	return true
}

// countRate counts an accepted connection in the rates it falls under.
func (e *Engine) countRate(l *listener) (now time.Time) {
	now = time.Now()
	for _, r := range e.limiters(l) {
		if r != nil {
			r.count(now)
		}
	}
	return now
}

// count counts one event whatever the rate.
func (r *rateLimiter) count(now time.Time) {
	r.check(now, false)
	r.mu.Lock()
	r.curr++
	r.mu.Unlock()
}
