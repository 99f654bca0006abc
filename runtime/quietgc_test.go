package runtime

import "testing"

func TestQuietWatch(t *testing.T) {
	var w quietWatch
	for i, c := range []struct {
		n    uint64
		stop bool
	}{
		{0, false}, {0, false}, // idle from the start: nothing to free
		{5, false}, {9, false}, // traffic
		{9, true},              // the first quiet tick
		{9, false}, {9, false}, // still quiet: once only
		{10, false}, {10, true}, // a short burst
	} {
		if got := w.tick(c.n); got != c.stop {
			t.Fatalf("tick %d (count %d): stopped %v, want %v", i, c.n, got, c.stop)
		}
	}
}

// A frontend without counters (a graph built without stats, a proxy
// that does not start) counts its connections only.
func TestActivityWithoutCounters(t *testing.T) {
	fe := &Frontend{}
	fe.accepted.Add(3)
	e := &Engine{g: &Graph{}, listeners: []*listener{{fe: fe}}}
	if n := e.activity(); n != 3 {
		t.Fatalf("activity %d, want 3", n)
	}
}
