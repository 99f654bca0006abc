package runtime_test

import (
	"fmt"
	"net"
	"testing"
)

// freeRange finds n consecutive free loopback ports.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for base := 20000 + n; base < 60000; base += 97 {
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// A bind's port range listens on every port of it, as HAProxy does.
func TestBindPortRange(t *testing.T) {
	up := startEcho(t, "s1")
	base := freeRange(t, 3)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind 127.0.0.1:%d-%d\n default_backend be\nbackend be\n server s1 %s\n", base, base+2, up.Addr()), nil)
	for p := base; p <= base+2; p++ {
		st, srv, _ := get(t, fmt.Sprintf("127.0.0.1:%d", p), "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if st != 200 || srv != "s1" {
			t.Errorf("port %d: %d from %q", p, st, srv)
		}
	}
}
