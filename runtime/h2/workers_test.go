package h2

import (
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Streams served at once leave their workers waiting for the next ones;
// TrimWorkers retires them, as a quiet engine does.
func TestTrimWorkers(t *testing.T) {
	TrimWorkers(0)
	release := make(chan struct{})
	var started sync.WaitGroup
	addr := startServer(t, nil, func(st *Stream) {
		started.Done()
		<-release
		echoServe(st)
	})
	cl := h2cClient()
	const n = 40
	started.Add(n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			getDiscard(t, cl, addr, i)
		}(i)
	}
	// All n streams are in the engine at once, each on its own worker.
	started.Wait()
	close(release)
	wg.Wait()
	waitFor(t, func() bool { return IdleWorkers() >= n })
	waitFor(t, func() bool { TrimWorkers(0); return IdleWorkers() == 0 })
}

// A stream goes to the worker that finished last, whose stack is still
// in the caches, not to the one that waited longest: requests made one
// after another with many workers waiting run on one or two of them.
func TestWorkersLatestFirst(t *testing.T) {
	TrimWorkers(0)
	release := make(chan struct{})
	var started sync.WaitGroup
	var mu sync.Mutex
	var seen []string
	hold := true
	addr := startServer(t, nil, func(st *Stream) {
		mu.Lock()
		h := hold
		b := make([]byte, 64)
		b = b[:goruntime.Stack(b, false)]
		seen = append(seen, strings.Fields(string(b))[1])
		mu.Unlock()
		if h {
			started.Done()
			<-release
		}
		echoServe(st)
	})
	cl := h2cClient()
	get := func(i int) { getDiscard(t, cl, addr, i) }
	const n = 40
	started.Add(n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); get(i) }(i)
	}
	started.Wait()
	mu.Lock()
	hold = false
	seen = nil
	mu.Unlock()
	close(release)
	wg.Wait()
	waitFor(t, func() bool { return IdleWorkers() >= n })
	for i := 0; i < 20; i++ {
		get(i)
	}
	mu.Lock()
	defer mu.Unlock()
	distinct := map[string]bool{}
	for _, g := range seen {
		distinct[g] = true
	}
	if len(seen) != 20 || len(distinct) > 3 {
		t.Fatalf("20 requests one after another ran on %d workers of %d waiting (%d seen)", len(distinct), n, len(seen))
	}
	TrimWorkers(0)
}

// getDiscard makes request i and reads its answer.
func getDiscard(t *testing.T, cl *http.Client, addr string, i int) {
	resp, err := cl.Get(fmt.Sprintf("http://%s/%d", addr, i))
	if err != nil {
		t.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 5s (idle workers %d)", IdleWorkers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
