package backend

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func servers(weights ...int) []*Server {
	var out []*Server
	for i, w := range weights {
		out = append(out, &Server{Name: string(rune('a' + i)), Weight: w})
	}
	return out
}

func TestWeightedRoundRobin(t *testing.T) {
	b := New("be", servers(5, 3, 2, 0))
	counts := map[string]int{}
	run := 0
	prev := ""
	for i := 0; i < 1000; i++ {
		s, err := b.Acquire(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		counts[s.Name]++
		if s.Name == prev {
			run++
		}
		prev = s.Name
		b.Release(s)
	}
	if counts["a"] != 500 || counts["b"] != 300 || counts["c"] != 200 || counts["d"] != 0 {
		t.Fatalf("distribution %v", counts)
	}
	// Smooth order: the heaviest server never takes more than half in a row.
	if run > 500 {
		t.Fatalf("%d back-to-back picks", run)
	}
}

func TestNoServer(t *testing.T) {
	b := New("be", servers(1))
	b.Servers[0].SetState(Down)
	if _, err := b.Acquire(context.Background(), 0); !errors.Is(err, ErrNoServer) {
		t.Fatalf("err %v", err)
	}
}

func TestQueue(t *testing.T) {
	srv := servers(1)
	srv[0].Maxconn = 1
	b := New("be", srv)
	s, err := b.Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second request waits, then times out.
	start := time.Now()
	if _, err := b.Acquire(context.Background(), 50*time.Millisecond); !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("queue timeout fired early")
	}
	// Queued requests get the slot in order when it is released.
	var wg sync.WaitGroup
	got := make(chan int, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s2, err := b.Acquire(context.Background(), 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			got <- i
			b.Release(s2)
		}(i)
		deadline := time.Now().Add(5 * time.Second)
		for b.QueueLen() != i+1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	b.Release(s)
	wg.Wait()
	close(got)
	want := 0
	for i := range got {
		if i != want {
			t.Fatalf("queue order: got %d want %d", i, want)
		}
		want++
	}
	if srv[0].Sessions() != 0 {
		t.Fatalf("sessions left: %d", srv[0].Sessions())
	}
}

func TestHealthCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	srv := servers(1)
	srv[0].Addr = addr
	srv[0].Check = Check{Enabled: true, Inter: 20 * time.Millisecond, Rise: 2, Fall: 3}
	b := New("be", srv)
	type change struct {
		to     State
		reason string
	}
	changes := make(chan change, 4)
	b.OnState = func(ch StateChange) { changes <- change{ch.To, ch.Reason} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.RunChecks(ctx)
	ln.Close()
	select {
	case c := <-changes:
		if c.to != Down || c.reason[:len(`Layer4 connection problem`)] != "Layer4 connection problem" {
			t.Fatalf("change %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server never marked DOWN")
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port reuse: %v", err)
	}
	defer ln2.Close()
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	select {
	case c := <-changes:
		if c.to != Up {
			t.Fatalf("change %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server never back UP")
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	be := New("be", servers(3, 2, 1, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := be.Acquire(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		be.Release(s)
	}
}

// TestPersistKeepsQueue: with redispatch, the requests queued on a server
// that goes into maintenance go elsewhere, unless option persist keeps
// them on it (pendconn_redistribute).
func TestPersistKeepsQueue(t *testing.T) {
	for _, persist := range []bool{false, true} {
		srv := servers(1, 1)
		srv[0].Maxconn = 1
		b := New("be", srv)
		b.Redispatch, b.Persist = true, persist
		first, err := b.AcquirePersist(context.Background(), 0, srv[0], Key{}, false)
		if err != nil || first != srv[0] {
			t.Fatalf("first: %v %v", first, err)
		}
		got := make(chan *Server, 1)
		go func() {
			s, _ := b.AcquirePersist(context.Background(), 5*time.Second, srv[0], Key{}, false)
			got <- s
		}()
		deadline := time.Now().Add(5 * time.Second)
		for srv[0].QueueLen() != 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		srv[0].Disable()
		var s *Server
		if persist {
			select {
			case s = <-got:
				t.Fatalf("persist: the queued request left for %s", s.Name)
			case <-time.After(50 * time.Millisecond):
			}
			b.Release(first)
		}
		select {
		case s = <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("persist %v: the queued request got no server", persist)
		}
		if want := map[bool]string{false: "b", true: "a"}[persist]; s == nil || s.Name != want {
			t.Errorf("persist %v: got %v, want %s", persist, s, want)
		}
	}
}
