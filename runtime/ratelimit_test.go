package runtime

import (
	"testing"
	"time"
)

func TestRateLimiterWindow(t *testing.T) {
	r := newRateLimiter(10)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 10; i++ {
		if d := r.take(t0.Add(time.Duration(i) * time.Millisecond)); d != 0 {
			t.Fatalf("event %d refused (%v)", i, d)
		}
	}
	// The eleventh in the same second waits for the next one.
	if d := r.take(t0.Add(100 * time.Millisecond)); d != 900*time.Millisecond {
		t.Fatalf("eleventh: wait %v", d)
	}
	// Early in the next second the previous one still counts almost
	// whole: 10 events weigh 9 at 0.1 s.
	if d := r.take(t0.Add(1100 * time.Millisecond)); d != 0 {
		t.Fatalf("first of the next second refused (%v)", d)
	}
	if d := r.take(t0.Add(1100 * time.Millisecond)); d == 0 {
		t.Fatalf("second of the next second accepted at 0.1 s")
	}
	// After two quiet seconds the window is empty.
	for i := 0; i < 10; i++ {
		if d := r.take(t0.Add(4 * time.Second)); d != 0 {
			t.Fatalf("after a pause, event %d refused (%v)", i, d)
		}
	}
	if newRateLimiter(0) != nil {
		t.Fatal("no limit must be nil")
	}
}
