package parser

import (
	"fmt"
	"strings"
	"testing"
)

// GenerateBackends returns a valid configuration with n backends, each
// with two servers, all reachable from one frontend through use_backend
// rules.
func GenerateBackends(n int) []byte {
	var b strings.Builder
	b.WriteString("global\n    maxconn 100000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n")
	b.WriteString("frontend fe\n    bind 127.0.0.1:18080\n    default_backend be0\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    acl host%d hdr(host) -i h%d.example.com\n    use_backend be%d if host%d\n", i, i, i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "backend be%d\n    balance roundrobin\n    option forwardfor\n    server s1 127.0.0.1:%d weight 1 maxconn 100 check\n    server s2 127.0.0.2:%d weight 2 check inter 2s rise 2 fall 3\n", i, 20000+i%40000, 20000+i%40000)
	}
	return []byte(b.String())
}

func BenchmarkParse10kBackends(b *testing.B) {
	data := GenerateBackends(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cfg, ds := Parse([]Input{{Name: "gen.cfg", Data: data}}, Options{})
		if ds.HasErrors() || len(cfg.Proxies) != 10001 {
			b.Fatalf("bad parse: %d proxies %v", len(cfg.Proxies), ds)
		}
	}
}

func BenchmarkSplitLine(b *testing.B) {
	line := []byte(`    server apiserver 127.0.0.1:8080 weight 1 maxconn 1024 check "${HOME}" # comment`)
	e := newEnv(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := splitLine(line, e, 1); err != nil {
			b.Fatal(err.msg)
		}
	}
}
