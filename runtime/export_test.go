package runtime

import "sync/atomic"

// ParkedRegistrations is how many sockets the parker holds registered.
func ParkedRegistrations() int {
	p := getParker()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byFD)
}

// OnHeadHanded sets a function called each time a response head goes to
// an HTTP/2 stream already parsed (handHead); nil removes it.
func OnHeadHanded(f func()) {
	if f == nil {
		headHanded.Store(nil)
		return
	}
	headHanded.Store(&f)
}

// PeersResynced reports whether every peers section of e has learned its
// tables since it started.
func (e *Engine) PeersResynced() bool {
	if e.peers == nil {
		return true
	}
	for _, s := range e.peers.secs {
		if !s.Resynced() {
			return false
		}
	}
	return true
}

// OnQuietCollect makes the engines call f with themselves, instead of
// collecting, when traffic stops (quietGC), until the test ends.
func OnQuietCollect(t interface{ Cleanup(func()) }, f func(*Engine)) {
	freeOSMemory.Store(&f)
	t.Cleanup(func() { freeOSMemory.Store(nil) })
}

// SetQuietMinAlloc sets quietMinAlloc until the test ends.
func SetQuietMinAlloc(t interface{ Cleanup(func()) }, n uint64) {
	old := quietMinAlloc.Swap(n)
	t.Cleanup(func() { quietMinAlloc.Store(old) })
}

// Runners counts the engine's session runner goroutines, and IdleRunners
// those of them waiting for a next session.
func Runners(e *Engine) int { return int(e.runners.Load()) }

func IdleRunners(e *Engine) int {
	e.idleMu.Lock()
	defer e.idleMu.Unlock()
	return len(e.idleRun)
}

// AcceptYields is how many times the accept loops of e yielded after
// tune.maxaccept connections in a row.
func (e *Engine) AcceptYields() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, l := range e.listeners {
		n += atomic.LoadInt64(&l.yields)
	}
	return n
}
