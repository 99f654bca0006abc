package runtime_test

import (
	"testing"
	"time"

	"github.com/gohap/gohap/runtime"
)

// The engine hands its free memory back once traffic stops, not while
// it flows, and not after a trickle that allocated little.
func TestQuietCollectAfterTraffic(t *testing.T) {
	runtime.SetQuietMinAlloc(t, 0)
	fe := freePort(t)
	up := fixedUpstream(t)
	var e *runtime.Engine
	calls := make(chan *runtime.Engine, 16)
	runtime.OnQuietCollect(t, func(x *runtime.Engine) {
		select {
		case calls <- x:
		default:
		}
	})
	e = startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, up), nil)
	ours := func(d time.Duration) bool {
		deadline := time.After(d)
		for {
			select {
			case x := <-calls:
				if x == e {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	// Traffic for three ticks of the watch: no collection meanwhile.
	end := time.Now().Add(1600 * time.Millisecond)
	for time.Now().Before(end) {
		if code, _, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); code != 200 {
			t.Fatalf("status %d", code)
		}
		if ours(50 * time.Millisecond) {
			t.Fatal("collected while requests were coming")
		}
	}
	if !ours(3 * time.Second) {
		t.Fatal("no collection once the traffic stopped")
	}
	// Once per quiet period.
	if ours(1200 * time.Millisecond) {
		t.Fatal("collected again without traffic")
	}
	// A request that allocates less than the minimum: no collection.
	runtime.SetQuietMinAlloc(t, 1<<40)
	if code, _, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); code != 200 {
		t.Fatalf("status %d", code)
	}
	if ours(1500 * time.Millisecond) {
		t.Fatal("collected after a trickle")
	}
}
