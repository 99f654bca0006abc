package h2

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// admissionLoad makes n requests at once, over connections of at most
// 50 streams, to a server whose streams each wait in hold until all n
// are in it, and reports whether they all got there. hold is given a
// stream and the barrier.
func admissionLoad(t *testing.T, n int, hold func(st *Stream, all <-chan struct{})) bool {
	var mu sync.Mutex
	in := 0
	all := make(chan struct{})
	addr := startServer(t, nil, func(st *Stream) {
		mu.Lock()
		if in++; in == n {
			close(all)
		}
		mu.Unlock()
		hold(st, all)
		echoServe(st)
	})
	var wg sync.WaitGroup
	for c := 0; c < n; c += 50 {
		cl := h2cClient()
		for i := c; i < min(c+50, n); i++ {
			wg.Add(1)
			go func(cl *http.Client, i int) {
				defer wg.Done()
				getDiscard(t, cl, addr, i)
			}(cl, i)
		}
	}
	wg.Wait()
	select {
	case <-all:
		return true
	default:
		return false
	}
}

// Streams that wait for their server (IOWait) long hold no admission:
// with the CPU said to be busy, more than runLimit of them wait at once,
// without the limit having to give way as it does for streams stuck at
// work. Were long waits counted, this load (which finishes only once all
// are in) would need that.
func TestAdmissionWaitingStreams(t *testing.T) {
	defer setSaturated(setSaturated(func() bool { return true }))
	// A check period that a loaded machine's scheduling gaps (other
	// test binaries on the same cores) do not fill: a stall here would
	// be one of those, not a waiting stream counted.
	defer setPatience(setPatience(20 * time.Millisecond))
	before := stallCount()
	ok := admissionLoad(t, 4*runLimit, func(st *Stream, all <-chan struct{}) {
		st.IOWait()
		defer st.IOReady()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	})
	if !ok {
		t.Fatal("not every stream was admitted")
	}
	if n := stallCount() - before; n != 0 {
		t.Fatalf("the limit gave way %d times to streams that were waiting", n)
	}
}

// Streams that hold their admission without saying they wait (a tunnel,
// a server that never answers through IOWait) do not keep the others
// out: with nothing finishing, the limit gives way after runPatience.
func TestAdmissionPatience(t *testing.T) {
	defer setSaturated(setSaturated(func() bool { return true }))
	before := stallCount()
	ok := admissionLoad(t, runLimit+runLimit/2, func(st *Stream, all <-chan struct{}) {
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	})
	if !ok {
		t.Fatal("not every stream was admitted")
	}
	if stallCount() == before {
		t.Fatal("the limit never gave way")
	}
}

// Past runLimit streams at work, a new stream waits until one finishes.
func TestAdmissionLimit(t *testing.T) {
	defer setSaturated(setSaturated(func() bool { return true }))
	defer setPatience(setPatience(time.Hour))
	release := make(chan struct{}, runLimit)
	// Closed on the way out, so that a failure lets every stream end.
	done := make(chan struct{})
	defer close(done)
	var started sync.WaitGroup
	started.Add(runLimit)
	last := make(chan struct{})
	var mu sync.Mutex
	n := 0
	addr := startServer(t, nil, func(st *Stream) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		if i <= runLimit {
			started.Done()
			select {
			case <-release:
			case <-done:
			}
		} else {
			close(last)
		}
		echoServe(st)
	})
	var wg sync.WaitGroup
	cl := h2cClient()
	for i := 0; i <= runLimit; i++ {
		if i == runLimit {
			// All the others are at work.
			started.Wait()
		}
		wg.Add(1)
		go func(i int) { defer wg.Done(); getDiscard(t, cl, addr, i) }(i)
	}
	select {
	case <-last:
		t.Fatal("a stream started past the limit")
	case <-time.After(200 * time.Millisecond):
	}
	release <- struct{}{}
	select {
	case <-last:
	case <-time.After(5 * time.Second):
		t.Fatal("the pending stream did not start when one finished")
	}
	for i := 1; i < runLimit; i++ {
		release <- struct{}{}
	}
	wg.Wait()
}

// setPatience sets runPatience, with no check armed, and returns the
// value it had.
func setPatience(d time.Duration) time.Duration {
	idleMu.Lock()
	defer idleMu.Unlock()
	if armed {
		patience.Stop()
		armed = false
	}
	old := runPatience
	runPatience = d
	return old
}

// setSaturated sets saturated and returns the function it had.
func setSaturated(f func() bool) func() bool {
	idleMu.Lock()
	defer idleMu.Unlock()
	old := saturated
	saturated = f
	return old
}

// With CPU to spare, streams start at once, however many are at work.
func TestAdmissionIdleCPU(t *testing.T) {
	defer setSaturated(setSaturated(func() bool { return false }))
	defer setPatience(setPatience(time.Hour))
	before := stallCount()
	ok := admissionLoad(t, 2*runLimit, func(st *Stream, all <-chan struct{}) {
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	})
	if !ok || stallCount() != before {
		t.Fatalf("streams held back with CPU to spare (all in: %v, stalls %d)", ok, stallCount()-before)
	}
}
