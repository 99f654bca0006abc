//go:build !race

// The race detector shuffles the run queue on purpose, so the order
// checked here only holds without it.

package runtime

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"testing"
	"time"
)

// Sessions queue in the order the poller ran them, last-ready first; the
// dispatcher must run them first-ready first, the reverse.
func TestReadyOrderRunsFirstReadyFirst(t *testing.T) {
	var want []int
	for i := 15; i >= 0; i-- {
		want = append(want, i)
	}
	checkOrder(t, func(int) int { return 0 }, want)
}

// checkOrder fails when the sessions resume in another order than want,
// three times out of three: a goroutine of the process that the poller
// or a timer readies meanwhile (an earlier test's connection closing)
// can take the place the scheduler gives the next session.
func checkOrder(t *testing.T, nice func(int) int, want []int) {
	t.Helper()
	var got []int
	for range 3 {
		if got = resumeOrder(t, nice); fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
	}
	t.Fatalf("resumed in order %v, want %v", got, want)
}

// Within a batch, a stream of a lower nice (set-nice) runs first; equals
// keep their ready order.
func TestReadyOrderRunsLowerNiceFirst(t *testing.T) {
	nice := func(i int) int { return []int{0, -10, 5}[i%3] }
	var want []int
	for _, n := range []int{-10, 0, 5} {
		for i := 15; i >= 0; i-- {
			if nice(i) == n {
				want = append(want, i)
			}
		}
	}
	checkOrder(t, nice, want)
}

// resumeOrder queues 16 sessions one by one with the given nice values,
// runs the dispatcher and returns the order they resumed in.
func resumeOrder(t *testing.T, nice func(int) int) []int {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	o := newReadyOrder(niceGraph)
	if o == nil {
		t.Fatal("ready order is off with one P")
	}
	const n = 16
	var mu sync.Mutex
	var resumed []int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		s := &session{turn: make(chan struct{}, 1)}
		s.setNice(nice(i))
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
	return resumed
}

// niceGraph is a configuration with a set-nice rule.
var niceGraph = &Graph{Frontends: []*Frontend{{reqRules: []httpRule{{act: "set-nice"}}}}}

// Without any nice to honour, sessions are not re-queued.
func TestReadyOrderOnlyWithNice(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	if newReadyOrder(&Graph{}) != nil {
		t.Fatal("ready order is on without set-nice")
	}
	for _, g := range []*Graph{
		niceGraph,
		{Backends: []*Backend{{tcp: tcpRules{content: []tcpRule{{act: "set-nice"}}}}}},
		{Frontends: []*Frontend{{Binds: []Listen{{Nice: 5}}}}},
	} {
		if newReadyOrder(g) == nil {
			t.Fatal("ready order is off with a nice in use")
		}
	}
}

func TestReadyOrderOffWithSeveralPs(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	if newReadyOrder(niceGraph) != nil {
		t.Fatal("ready order is on with two Ps")
	}
}

// A stopped dispatcher releases its waiters and lets new ones through.
func TestReadyOrderReleasesOnStop(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	o := newReadyOrder(niceGraph)
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
