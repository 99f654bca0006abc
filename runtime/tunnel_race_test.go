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

// A side whose read timeout expires while a wake-up relays what it read
// (its socket already drained) is not ended under that wake-up: what it
// read still reaches the other side, and the side ends once it is idle.
func TestTunnelTimeoutSparesWakeUp(t *testing.T) {
	c1, c2, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	s1, s2, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ended := make(chan struct{})
	tn := newTunnel(c1, s1, tunnelCfg{client: time.Millisecond, server: time.Minute}, func() { close(ended) })
	tn.start(nil, nil)
	defer tn.abort()
	// A wake-up of the client's side at work, as between its read and
	// its write to the server.
	pp := tn.pipes[0]
	pp.work.Lock()
	time.Sleep(30 * time.Millisecond)
	over := pp.over.Load()
	pp.work.Unlock()
	if over {
		t.Fatal("the client's read timeout ended its side under a wake-up")
	}
	// Idle now, the side ends: the server reads its FIN.
	s2.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := s2.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Fatalf("server read %d bytes, %v; want the end of the client's side", n, err)
	}
}
