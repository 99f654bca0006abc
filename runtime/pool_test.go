package runtime_test

import (
	"testing"
	"time"
)

// http-reuse decides whether a server connection a client left behind
// serves another client's request: never; safe, for later requests of a
// client only; aggressive, also for first requests on connections that
// carried two requests; always, for any request. Four clients in turn on
// a roundrobin backend of two servers, HAProxy alongside: each server
// must see as many connections through gohap as through HAProxy.
func TestHTTPReuseModes(t *testing.T) {
	// A: one request (s1). B: two requests (s2, s1). C: one request (s2).
	// D: one request (s1).
	want := map[string][2]int64{"never": {3, 2}, "safe": {2, 2}, "aggressive": {1, 2}, "always": {1, 1}}
	for _, mode := range []string{"never", "safe", "aggressive", "always"} {
		t.Run(mode, func(t *testing.T) {
			run := func(start func(cfg, fe string)) [2]int64 {
				s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
				fe := freePort(t)
				start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse %s\n server s1 %s\n server s2 %s\n",
					fe, mode, s1.Addr(), s2.Addr()), fe)
				for _, n := range []int{1, 2, 1, 1} {
					c := dial(t, fe)
					for i := 0; i < n; i++ {
						c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
						if resp, _ := c.read("GET"); resp.StatusCode != 200 {
							t.Fatalf("status %d", resp.StatusCode)
						}
					}
					c.c.Close()
					// The proxy sees the close before the next client.
					time.Sleep(100 * time.Millisecond)
				}
				return [2]int64{s1.Conns.Load(), s2.Conns.Load()}
			}
			got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
			if got != want[mode] {
				t.Errorf("gohap: server connections s1, s2 = %v, want %v", got, want[mode])
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			if ref != got {
				t.Errorf("server connections s1, s2: gohap %v, haproxy %v", got, ref)
			}
		})
	}
}
