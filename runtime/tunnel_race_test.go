package runtime

import (
	"testing"
	"time"
)

// A tunnel ended from another goroutine ("shutdown session" on the CLI)
// while it is still starting leaves no pipe behind in its poller and
// races with nothing.
func TestTunnelAbortWhileStarting(t *testing.T) {
	p, err := getPoller()
	if err != nil {
		t.Fatal(err)
	}
	before := pollerLen(p)
	for i := 0; i < 50; i++ {
		c1, c2, err := socketPair()
		if err != nil {
			t.Fatal(err)
		}
		s1, s2, err := socketPair()
		if err != nil {
			t.Fatal(err)
		}
		ended := make(chan struct{})
		tn := newTunnel(c1, s1, tunnelCfg{client: time.Minute, server: time.Minute}, func() { close(ended) })
		go tn.abort()
		tn.start(nil, nil)
		select {
		case <-ended:
		case <-time.After(3 * time.Second):
			t.Fatal("the tunnel did not end")
		}
		c2.Close()
		s2.Close()
	}
	if n := pollerLen(p); n > before {
		t.Errorf("%d pipes left in the poller", n-before)
	}
}

func pollerLen(p *poller) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
