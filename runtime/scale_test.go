package runtime_test

import (
	"fmt"
	"net/netip"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// scaleConfig is bench/scale.sh's configuration: n backends, each with a
// cookie and two servers, and one host rule per backend.
func scaleConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("global\n    maxconn 4000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n")
	b.WriteString("frontend fe\n    bind 127.0.0.1:18080\n    default_backend b0\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    use_backend b%d if { hdr(host) -i h%d }\n", i, i)
	}
	for i := 0; i < n; i++ {
		p := 20000 + i%40000
		fmt.Fprintf(&b, "backend b%d\n    cookie SRV insert indirect nocache\n    server s1 127.0.0.1:%d cookie a\n    server s2 127.0.0.2:%d cookie b\n", i, p, p)
	}
	return []byte(b.String())
}

func checkAndCompile(tb testing.TB, data []byte) {
	cfg, ds := parser.Parse([]parser.Input{{Name: "scale.cfg", Data: data}}, parser.Options{})
	if ds.HasErrors() {
		tb.Fatal(ds)
	}
	if r := runtime.Check(cfg, runtime.CheckOptions{}); r.Diags.HasErrors() {
		tb.Fatal(r.Diags)
	}
	local := func(string) (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil }
	if _, errs := runtime.Compile(cfg, runtime.Options{Resolve: local}); len(errs) > 0 {
		tb.Fatal(errs)
	}
}

func BenchmarkCheckCompile10k(b *testing.B) {
	data := scaleConfig(10000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		checkAndCompile(b, data)
	}
}

// Checking and compiling grow linearly with the number of backends: 4
// times the backends may cost at most 5 times the allocations (a
// quadratic pass, re-reading every proxy's lines for each proxy, would
// be about 16). Allocations, not time: they do not depend on the load of
// the machine. bench/scale.sh measures the CPU time against HAProxy.
func TestCheckCompileIsLinear(t *testing.T) {
	measure := func(n int) uint64 {
		data := scaleConfig(n)
		var a, b goruntime.MemStats
		goruntime.ReadMemStats(&a)
		checkAndCompile(t, data)
		goruntime.ReadMemStats(&b)
		return b.Mallocs - a.Mallocs
	}
	small, large := measure(1000), measure(4000)
	if ratio := float64(large) / float64(small); ratio > 5 {
		t.Errorf("1000 backends %d allocations, 4000 backends %d: x%.1f", small, large, ratio)
	} else {
		t.Logf("1000 backends %d allocations, 4000 backends %d: x%.2f", small, large, ratio)
	}
}
