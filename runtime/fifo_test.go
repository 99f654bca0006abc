//go:build !race

// The race detector shuffles the run queue on purpose, so the order
// checked here only holds without it.

package runtime

import (
	goruntime "runtime"
	"sync"
	"testing"
	"time"
)

// Sessions queue in the order the poller ran them, last-ready first; the
// dispatcher must run them first-ready first, the reverse.
func TestReadyOrderRunsFirstReadyFirst(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	o := newReadyOrder()
	if o == nil {
		t.Fatal("ready order is off with one P")
	}
	const n = 16
	var mu sync.Mutex
	var resumed []int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		s := &session{turn: make(chan struct{}, 1)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.wait(s)
			mu.Lock()
			resumed = append(resumed, i)
			mu.Unlock()
		}()
		// Queue them one by one, in a known order.
		deadline := time.Now().Add(5 * time.Second)
		for {
			o.mu.Lock()
			k := len(o.stack)
			o.mu.Unlock()
			if k == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session %d never queued", i)
			}
			goruntime.Gosched()
		}
	}
	done := make(chan struct{})
	defer close(done)
	go o.run(done)
	wg.Wait()
	for k, i := range resumed {
		if i != n-1-k {
			t.Fatalf("resumed in order %v, want %d down to 0", resumed, n-1)
		}
	}
}

func TestReadyOrderOffWithSeveralPs(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	if newReadyOrder() != nil {
		t.Fatal("ready order is on with two Ps")
	}
}

// A stopped dispatcher releases its waiters and lets new ones through.
func TestReadyOrderReleasesOnStop(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	o := newReadyOrder()
	done := make(chan struct{})
	close(done)
	o.run(done)
	s := &session{turn: make(chan struct{}, 1)}
	ok := make(chan struct{})
	go func() {
		o.wait(s)
		close(ok)
	}()
	select {
	case <-ok:
	case <-time.After(5 * time.Second):
		t.Fatal("wait blocked after the dispatcher stopped")
	}
}
