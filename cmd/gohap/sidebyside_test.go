package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gohap/gohap/examples/echo"
)

// The side-by-side benchmarks run HAProxy 2.6 and gohap as processes on
// the same configuration, alternating repetitions, and report the CPU
// time each process spent per request (utime+stime from /proc) and the
// resident memory each holds per idle WebSocket tunnel. They ignore b.N:
// set GOHAP_BENCH_REQS to change the request count.

const sideCfg = `
global
    maxconn %d
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
frontend fe
    bind %s
    option forwardfor
    acl api path_beg /api
    use_backend be if api
    default_backend be
backend be
    server s1 %s
`

// sideMaxconn fits the proxies' maxconn to the descriptor limit: HAProxy
// refuses to start when 2*maxconn descriptors are out of reach.
func sideMaxconn() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 400
	}
	return int(max(100, min(9000, (int64(rl.Max)-200)/2)))
}

type proxyProc struct {
	name string
	cmd  *exec.Cmd
	addr string
}

func startProxy(b *testing.B, name, upstream string) *proxyProc {
	b.Helper()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(b.TempDir(), name+".cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(sideCfg, sideMaxconn(), addr, upstream)), 0o644)
	var cmd *exec.Cmd
	if name == "haproxy" {
		bin := os.Getenv("HAPROXY_BIN")
		if bin == "" {
			bin, _ = exec.LookPath("haproxy")
		}
		if bin == "" {
			b.Skip("haproxy not installed")
		}
		cmd = exec.Command(bin, "-db", "-f", cfg)
	} else {
		bin, err := gohapBinary()
		if err != nil {
			b.Fatal(err)
		}
		cmd = exec.Command(bin, "run", "-f", cfg)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &proxyProc{name: name, cmd: cmd, addr: addr}
	b.Cleanup(p.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s did not start", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proxyProc) stop() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// cpuTime is the process's user+system time.
func (p *proxyProc) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

func (p *proxyProc) rssKiB() int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return 0
}

func fixedServer(b *testing.B) string {
	ln, err := echo.StartFixed("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// load sends reqs requests over conns keep-alive connections.
func load(b *testing.B, addr string, conns, reqs int) {
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Minute))
			buf := make([]byte, 4096)
			size := 0
			for j := 0; j < reqs/conns; j++ {
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
		}()
	}
	wg.Wait()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func BenchmarkSideBySideKeepAliveCPU(b *testing.B) {
	reqs := 20000
	if v, err := strconv.Atoi(os.Getenv("GOHAP_BENCH_REQS")); err == nil && v > 0 {
		reqs = v
	}
	up := fixedServer(b)
	ha := startProxy(b, "haproxy", up)
	gh := startProxy(b, "gohap", up)
	const conns = 16
	var haCPU, ghCPU, ratios []float64
	for rep := 0; rep < 5; rep++ {
		for _, p := range []*proxyProc{ha, gh} {
			before := p.cpuTime()
			load(b, p.addr, conns, reqs)
			us := float64(p.cpuTime()-before) / float64(time.Microsecond) / float64(reqs)
			if p == ha {
				haCPU = append(haCPU, us)
			} else {
				ghCPU = append(ghCPU, us)
			}
		}
		if haCPU[rep] > 0 {
			ratios = append(ratios, ghCPU[rep]/haCPU[rep])
		}
	}
	b.ReportMetric(median(haCPU), "haproxy-cpu-us/req")
	b.ReportMetric(median(ghCPU), "gohap-cpu-us/req")
	if len(ratios) > 0 {
		b.ReportMetric(median(ratios), "gohap/haproxy")
	}
}

func BenchmarkSideBySideIdleWebSocketRSS(b *testing.B) {
	// The test process holds two descriptors per tunnel (client and
	// upstream side), the proxies two as well.
	n := min(2000, sideMaxconn()/2)
	if v, err := strconv.Atoi(os.Getenv("GOHAP_BENCH_TUNNELS")); err == nil && v > 0 {
		n = v
	}
	up, err := echo.Start("ws", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(up.Close)
	var res []float64
	for _, name := range []string{"haproxy", "gohap"} {
		p := startProxy(b, name, up.Addr())
		// Warm up one tunnel so that one-time allocations are not counted.
		warm, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/", nil)
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		before := p.rssKiB()
		conns := make([]*websocket.Conn, 0, n)
		for i := 0; i < n; i++ {
			c, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/", nil)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		time.Sleep(500 * time.Millisecond)
		kib := float64(p.rssKiB()-before) / float64(n)
		res = append(res, kib)
		b.ReportMetric(kib, name+"-KiB/tunnel")
		for _, c := range conns {
			c.Close()
		}
		warm.Close()
		p.stop()
	}
	if res[0] > 0 {
		b.ReportMetric(res[1]/res[0], "gohap/haproxy")
	}
}
