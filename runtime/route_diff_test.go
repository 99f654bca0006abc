package runtime_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gohap/gohap/runtime"
)

// gohap, whose exact-match rules run as tables, routes every request of
// a mixed rule list where HAProxy, which walks its rules, does.
func TestTableRoutesMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	args := []any{""}
	for i := 1; i <= 6; i++ {
		args = append(args, startEcho(t, fmt.Sprintf("b%d", i)).Addr())
	}
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		args[0] = fe
		start(fmt.Sprintf(runtime.RouteCfg, args...), fe)
		var out []string
		for _, req := range runtime.RouteRequests() {
			st, srv, _ := get(t, fe, req)
			out = append(out, fmt.Sprintf("%q: %d %s", strings.TrimSpace(req), st, srv))
		}
		return out
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("gohap %s, haproxy %s", got[i], want[i])
		}
	}
}
