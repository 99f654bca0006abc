package runtime_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
)

// fixedUpstream answers every request with the same small response and
// allocates nothing per request, so that allocation figures of the
// benchmarks are the proxy's own.
func fixedUpstream(b testing.TB) string {
	ln, err := echo.StartFixed("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func benchProxy(b *testing.B, extra string) string {
	up := fixedUpstream(b)
	fe := freePort(b)
	startGohap(b, fmtCfg(baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", fe, extra, up), nil)
	return fe
}

// roundTrip sends req and reads a response of the length learnt on the
// first exchange.
func roundTrips(b *testing.B, addr string, req []byte, n int) {
	roundTripsUntil(b, addr, req, n, "\r\n\r\nok")
}

// roundTripsUntil is roundTrips for responses ending with end.
func roundTripsUntil(b *testing.B, addr string, req []byte, n int, end string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4096)
	c.Write(req)
	size := 0
	for {
		k, err := c.Read(buf[size:])
		if err != nil {
			b.Fatal(err)
		}
		size += k
		if bytes.HasSuffix(buf[:size], []byte(end)) {
			break
		}
	}
	for i := 0; i < n; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:size]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyKeepAlive is the request path: a keep-alive client, the
// proxy parsing, routing, rewriting and forwarding, a kept server
// connection.
func BenchmarkProxyKeepAlive(b *testing.B) {
	fe := benchProxy(b, " option forwardfor\n acl api path_beg /api\n use_backend be if api\n")
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	roundTrips(b, fe, req, b.N)
}

func BenchmarkProxyKeepAliveParallel(b *testing.B) {
	fe := benchProxy(b, "")
	req := []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", fe)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		size := 0
		for pb.Next() {
			c.Write(req)
			if size == 0 {
				for !bytes.HasSuffix(buf[:size], []byte("\r\n\r\nok")) {
					k, err := c.Read(buf[size:])
					if err != nil {
						b.Error(err)
						return
					}
					size += k
				}
				continue
			}
			if _, err := io.ReadFull(c, buf[:size]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProxyKeepAliveLogged is BenchmarkProxyKeepAlive with an
// httplog line per request sent to a UDP sink: logging must not add an
// allocation to the request path.
func BenchmarkProxyKeepAliveLogged(b *testing.B) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	fe := benchProxy(b, fmtCfg(" log %s local0\n option httplog\n capture request header Host len 20\n acl api path_beg /api\n use_backend be if api\n", sink.LocalAddr()))
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	roundTrips(b, fe, req, b.N)
}

// BenchmarkProxyCompressed is the request path with a gzip-compressed
// response: the encoders come from a pool, the output buffer from the
// session's.
func BenchmarkProxyCompressed(b *testing.B) {
	fe := benchProxy(b, " compression algo gzip\n")
	req := []byte("GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	roundTripsUntil(b, fe, req, b.N, "\r\n0\r\n\r\n")
}

// BenchmarkProxyRules is the request path through the rules that the
// rules benchmark of bench/run.sh runs: 10 set-header rules, two
// ACL-guarded redirects that do not match and a map lookup.
func BenchmarkProxyRules(b *testing.B) {
	fe := benchProxy(b, rulesBenchConfig(b))
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	roundTrips(b, fe, req, b.N)
}

// rulesBenchConfig is the frontend part of the rules benchmark, with its
// map file in a temporary directory.
func rulesBenchConfig(b *testing.B) string {
	mp := filepath.Join(b.TempDir(), "hosts.map")
	if err := os.WriteFile(mp, []byte("example.com shop\nexample.org blog\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, " http-request set-header x-rule-%d value-%d\n", i, i)
	}
	sb.WriteString(" http-request redirect location /login code 302 if { path_beg /admin }\n")
	sb.WriteString(" http-request redirect scheme https if { hdr(x-forwarded-proto) http }\n")
	fmt.Fprintf(&sb, " http-request set-header x-site %%[req.hdr(host),lower,map(%s,none)]\n", mp)
	return sb.String()
}

// BenchmarkTCPTunnel is a mode tcp relay: each op sends 1 KiB through
// the tunnel to a server that sends it back, and reads it. The client
// and the server allocate nothing, so allocs/op is the relay's.
func BenchmarkTCPTunnel(b *testing.B) {
	c := tunnelBenchConn(b)
	msg, buf := bytes.Repeat([]byte("x"), 1024), make([]byte, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tunnelRoundTrip(b, c, msg, buf)
	}
}

// TestTCPTunnelAllocs: a relayed chunk allocates nothing, either way
// (a wake-up of the tunnel's poller is served by a waiting worker).
func TestTCPTunnelAllocs(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector allocates on its own")
	}
	c := tunnelBenchConn(t)
	msg, buf := bytes.Repeat([]byte("x"), 1024), make([]byte, 1024)
	for i := 0; i < 20; i++ {
		tunnelRoundTrip(t, c, msg, buf)
	}
	allocs := testing.AllocsPerRun(200, func() { tunnelRoundTrip(t, c, msg, buf) })
	t.Logf("%.2f allocations per round trip", allocs)
	if allocs > 0.5 {
		t.Fatalf("%.2f allocations per round trip, want 0", allocs)
	}
}

// tunnelBenchConn is a client connection through a mode tcp proxy to an
// echo server.
func tunnelBenchConn(tb testing.TB) net.Conn {
	up := serveRaw(tb, func(c net.Conn) {
		defer c.Close()
		io.Copy(c, c)
	})
	fe := freePort(tb)
	startGohap(tb, fmtCfg("defaults\n mode tcp\n timeout connect 5s\n timeout client 60s\n timeout server 60s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, up), nil)
	c, err := net.Dial("tcp", fe)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

func tunnelRoundTrip(tb testing.TB, c net.Conn, msg, buf []byte) {
	if _, err := c.Write(msg); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		tb.Fatal(err)
	}
}
