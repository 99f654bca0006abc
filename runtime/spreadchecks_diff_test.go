package runtime_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkTimes records when each of n listeners is connected to (a check
// each time, which expects "pong": checkWait).
type checkTimes struct {
	mu    sync.Mutex
	at    [][]time.Time
	addrs []string
}

// checkWait makes a proxy's checks wait for the listener's answer.
const checkWait = " option tcp-check\n tcp-check expect string pong\n"

func listenChecks(t *testing.T, n int) *checkTimes {
	ct := &checkTimes{at: make([][]time.Time, n)}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		ct.addrs = append(ct.addrs, ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				ct.mu.Lock()
				ct.at[i] = append(ct.at[i], time.Now())
				ct.mu.Unlock()
				// The check waits for this answer: a connection the
				// checker closed at once might never be accepted.
				c.Write([]byte("pong\n"))
				c.Close()
			}
		}()
	}
	return ct
}

// TestMaxSpreadChecksDifferential: the first checks of a backend's
// servers start spread over the shortest interval (four servers checked
// every 4 s: one a second), or over max-spread-checks when it is
// shorter, in HAProxy and in gohap.
func TestMaxSpreadChecksDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// Each run has listeners of its own: the proxies of earlier runs
	// go on checking theirs.
	var ct *checkTimes
	cfg := func(global, fe string) string {
		var b strings.Builder
		b.WriteString(global + "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n")
		fmt.Fprintf(&b, "listen l\n bind %s\n"+checkWait, fe)
		for i, a := range ct.addrs {
			fmt.Fprintf(&b, " server s%d %s check inter 4s\n", i, a)
		}
		return b.String()
	}
	// lastFirst is how long after the start the last server's first
	// check came.
	lastFirst := func(start func(text, addr string), global string) time.Duration {
		ct = listenChecks(t, 4)
		fe := freePort(t)
		t0 := time.Now()
		start(cfg(global, fe), fe)
		var last time.Duration
		waitFor(t, func() bool {
			ct.mu.Lock()
			defer ct.mu.Unlock()
			for _, at := range ct.at {
				if len(at) == 0 {
					return false
				}
				last = max(last, at[0].Sub(t0))
			}
			return true
		})
		return last
	}
	capped := "global\n max-spread-checks 200ms\n"
	g := lastFirst(func(text, _ string) { startGohap(t, text, nil) }, capped)
	h := lastFirst(func(text, addr string) { startHAProxy(t, text, addr) }, capped)
	if g > time.Second || h > time.Second {
		t.Errorf("max-spread-checks 200ms: last first check after %v (gohap), %v (HAProxy); want both within a second", g, h)
	}
	g = lastFirst(func(text, _ string) { startGohap(t, text, nil) }, "")
	if g < 2500*time.Millisecond {
		t.Errorf("without max-spread-checks the last first check came after %v; want about 3 s", g)
	}
}

// TestSpreadChecksDifferential: spread-checks 50 varies each interval
// between checks at random by up to half of it either way; without it
// they keep to the interval. Measured alike on HAProxy and gohap.
func TestSpreadChecksDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// gaps are n intervals between checks after the first ones.
	gaps := func(start func(text, addr string), global string, n int) []time.Duration {
		ct := listenChecks(t, 1)
		fe := freePort(t)
		start(fmtCfg(global+"defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"listen l\n bind %s\n"+checkWait+" server s %s check inter 100ms\n", fe, ct.addrs[0]), fe)
		var out []time.Duration
		waitFor(t, func() bool {
			ct.mu.Lock()
			defer ct.mu.Unlock()
			// The first two are left out: HAProxy's start is awaited
			// with a connection through the proxy.
			at := ct.at[0]
			if len(at) < n+3 {
				return false
			}
			out = out[:0]
			for i := 3; i < n+3; i++ {
				out = append(out, at[i].Sub(at[i-1]))
			}
			return true
		})
		return out
	}
	// spread counts the gaps off the interval by more than 20%.
	spread := func(gs []time.Duration) int {
		n := 0
		for _, g := range gs {
			if g < 80*time.Millisecond || g > 120*time.Millisecond {
				n++
			}
		}
		return n
	}
	on := "global\n spread-checks 50\n"
	g := gaps(func(text, _ string) { startGohap(t, text, nil) }, on, 20)
	h := gaps(func(text, addr string) { startHAProxy(t, text, addr) }, on, 20)
	// Uniform over 50..150 ms, a gap is 20% off with a probability of
	// 0.6: four or fewer of twenty is one chance in 3,000.
	if spread(g) < 5 || spread(h) < 5 {
		t.Errorf("spread-checks 50: gaps off by 20%%: gohap %d of %v, HAProxy %d of %v", spread(g), g, spread(h), h)
	}
	// A late accept makes one gap longer and the next shorter.
	if g = gaps(func(text, _ string) { startGohap(t, text, nil) }, "", 6); spread(g) > 2 {
		t.Errorf("without spread-checks: %d gaps of %v off the interval by 20%%", spread(g), g)
	}
}
