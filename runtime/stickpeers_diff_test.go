package runtime_test

import (
	"fmt"
	"strings"
	"testing"
)

// A table declared in a peers section and used by stick rules stores the
// server's id and name: a backend sends a client back to its server, and
// another backend sharing the table finds the server of the same name,
// whatever its id. HAProxy and gohap route the same requests alike.
func TestStickPeersTableDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the routing")
	}
	var ups []string
	for i := 1; i <= 4; i++ {
		ups = append(ups, startEcho(t, fmt.Sprintf("u%d", i)).Addr())
	}
	run := func(start func(cfg, fe string)) []string {
		fe, peer := freePort(t), freePort(t)
		start(fmt.Sprintf(`global
 localpeer A
defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
peers mypeers
 bind %s
 server A
 table t type string size 1k
frontend fe
 bind %s
 use_backend be2 if { path_beg /be2 }
 default_backend be1
backend be1
 balance roundrobin
 stick on urlp(client) table mypeers/t
 server srv1 %s
 server srv2 %s
backend be2
 balance roundrobin
 stick on urlp(client) table mypeers/t
 server other %s
 server srv2 %s
 server srv1 %s
`, peer, fe, ups[0], ups[1], ups[2], ups[3], ups[2]), fe)
		var out []string
		for _, p := range []string{"/be1?client=c1", "/be1?client=c1", "/be1?client=c2", "/be1?client=c2", "/be2?client=c1", "/be2?client=c2", "/be2?client=c3", "/be2?client=c3"} {
			st, srv, _ := get(t, fe, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			out = append(out, fmt.Sprintf("%s -> %d %s", p, st, srv))
		}
		return out
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// be2 finds srv1 and srv2 by name: its u3 and u4.
	if got[0] != got[1] || !strings.HasSuffix(got[4], " u3") || !strings.HasSuffix(got[5], " u4") {
		t.Errorf("no stickiness: %q", got)
	}
}
