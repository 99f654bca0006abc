package runtime_test

import (
	"fmt"
	"net"
	"testing"

	"go.uber.org/zap"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
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

// -dr (Options.NoResolve): a server whose name does not resolve starts
// in maintenance, and its backend answers 503, instead of refusing the
// configuration, as HAProxy -dr does.
func TestNoResolveStartsServerInMaintenance(t *testing.T) {
	text := baseDefaults + "frontend fe\n bind 127.0.0.1:0\n default_backend be\nbackend be\n server s1 no-such-host.invalid:80\n"
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := parser.Parse(inputs, parser.Options{})
	if _, errs := runtime.Compile(cfg, runtime.Options{}); len(errs) == 0 {
		t.Fatal("an unresolvable server was accepted without -dr")
	}
	g, errs := runtime.Compile(cfg, runtime.Options{NoResolve: true})
	if len(errs) != 0 {
		t.Fatalf("with -dr: %v", errs)
	}
	e := runtime.NewEngine(g, zap.NewNop())
	found := false
	for _, be := range e.Snapshot() {
		for _, st := range be.Servers {
			if st.Name == "s1" {
				found = true
				if st.State != "MAINT" {
					t.Errorf("s1 is %s, want MAINT", st.State)
				}
			}
		}
	}
	if !found {
		t.Error("no server s1")
	}
}
