package backend

import (
	"testing"
	"time"
)

// A port goes back in the same step as its socket closes: a connection
// that starts once the close is seen finds the port free, as in HAProxy.
func TestPortRangeCloseRelease(t *testing.T) {
	r := newPortRange(40000, 40000, 0)
	port := r.alloc()
	if port != 40000 || r.alloc() != 0 {
		t.Fatalf("one-port range: got %d, then not empty", port)
	}
	got := make(chan int, 1)
	early := false
	err := r.CloseRelease(port, func() error {
		// The socket is closed: a peer sees it and connects again.
		go func() { got <- r.alloc() }()
		select {
		case p := <-got:
			early = true
			got <- p
		case <-time.After(100 * time.Millisecond):
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if early {
		t.Error("a port went out while the socket was closing")
	}
	select {
	case p := <-got:
		if p != 40000 {
			t.Errorf("connection after the close got port %d, want 40000", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no port handed out after the close")
	}
	if err := r.CloseRelease(0, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
