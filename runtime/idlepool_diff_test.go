package runtime_test

import (
	"fmt"
	"testing"
	"time"
)

// TestIdlePoolSharedDifferential: with two threads, a server connection
// a client left idle is reused by another client's connection on any
// thread; with tune.idle-pool.shared off only on its own, so clients
// spread over both threads end up with one server connection each.
func TestIdlePoolSharedDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	for _, mode := range []string{"on", "off"} {
		t.Run(mode, func(t *testing.T) {
			run := func(start func(cfg, fe string)) int64 {
				up := startEcho(t, "s1")
				fe := freePort(t)
				start(fmt.Sprintf("global\n nbthread 2\n tune.idle-pool.shared %s\n"+baseDefaults+" http-reuse always\n"+
					"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", mode, fe, up.Addr()), fe)
				for range 16 {
					got, _ := exchange(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 3*time.Second)
					if got == "" {
						t.Fatal("no answer")
					}
					time.Sleep(20 * time.Millisecond)
				}
				return up.Conns.Load()
			}
			want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if got != want {
				t.Errorf("server connections: gohap %d, haproxy %d", got, want)
			}
			t.Logf("server connections: %d", want)
		})
	}
}
