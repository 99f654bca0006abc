// Package hold opens connections to a proxy, a few at a time, and holds
// them idle until the process is told to stop: the bench scripts measure
// what idle connections cost the proxy.
package hold

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Run opens n connections with open, at most parallel at once, prints
// "ready OPENED FAILED", then waits for SIGINT or SIGTERM and closes them.
func Run(n, parallel int, open func() (io.Closer, error)) {
	conns := make([]io.Closer, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := open()
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	fmt.Printf("ready %d %d\n", n-failed, failed)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
