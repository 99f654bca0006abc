package h2

import (
	"fmt"
	"io"
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
			resp, err := cl.Get(fmt.Sprintf("http://%s/%d", addr, i))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}(i)
	}
	// All n streams are in the engine at once, each on its own worker.
	started.Wait()
	close(release)
	wg.Wait()
	waitFor(t, func() bool { return IdleWorkers() >= n })
	waitFor(t, func() bool { TrimWorkers(0); return IdleWorkers() == 0 })
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
