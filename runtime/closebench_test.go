package runtime_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
)

// closeHelperEnv makes the test binary the client and upstream of
// BenchmarkProxyClose, in a process of its own, so that the benchmark's
// allocation figures are the proxy's alone.
const closeHelperEnv = "GOHAP_CLOSE_BENCH_HELPER"

// TestCloseBenchHelper is the helper process of BenchmarkProxyClose: it
// runs a fixed-response upstream, prints its address, then for each
// "ADDR N" line on stdin makes N requests to ADDR, each on a new
// connection with Connection: close, and answers "ok" or the error.
func TestCloseBenchHelper(t *testing.T) {
	if os.Getenv(closeHelperEnv) != "1" {
		t.Skip("the helper process of BenchmarkProxyClose")
	}
	ln, err := echo.StartFixed("127.0.0.1:0")
	if err != nil {
		fmt.Println("err:", err)
		return
	}
	defer ln.Close()
	fmt.Println(ln.Addr())
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
	in := bufio.NewScanner(os.Stdin)
	buf := make([]byte, 4096)
	for in.Scan() {
		var addr string
		var n, par int
		if _, err := fmt.Sscan(in.Text(), &addr, &n, &par); err != nil {
			fmt.Println("err:", err)
			return
		}
		// par clients at once share the n connections.
		conns := func(n int, buf []byte) error {
			for i := 0; i < n; i++ {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return err
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(req); err != nil {
					c.Close()
					return err
				}
				size := 0
				for {
					k, err := c.Read(buf[size:])
					size += k
					if err == io.EOF {
						break
					}
					if err != nil {
						c.Close()
						return err
					}
				}
				c.Close()
				if !bytes.HasSuffix(buf[:size], []byte("\r\n\r\nok")) {
					return fmt.Errorf("answer %q", buf[:size])
				}
			}
			return nil
		}
		errs := make(chan error, par)
		for k := 0; k < par; k++ {
			go func(k int) { errs <- conns(n/par+btoi(k < n%par), make([]byte, len(buf))) }(k)
		}
		var err error
		for k := 0; k < par; k++ {
			if e := <-errs; e != nil {
				err = e
			}
		}
		if err != nil {
			fmt.Println("err:", err)
			continue
		}
		fmt.Println("ok")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkProxyClose is the new-connection path: each request comes on
// a new client connection with Connection: close and goes to the server
// on a new connection; the proxy accepts, connects, relays and closes
// both. The client and the upstream run in another process, so that
// allocs/op is what the proxy allocates per connection. Here one client
// connection comes after the other.
func BenchmarkProxyClose(b *testing.B) { benchClose(b, 1) }

// BenchmarkProxyCloseConcurrent: 16 clients at once, whose connections
// wait in the listener's backlog, which the accept loop then takes
// without waiting (rawAcceptor). A connection costs the proxy 3 to 5
// allocations: the server's sockConn (its socket a pollFD inside it),
// and the client's, a sockConn when the accept loop took it from the
// backlog, net's five objects when it waited in net's Accept.
func BenchmarkProxyCloseConcurrent(b *testing.B) { benchClose(b, 16) }

func benchClose(b *testing.B, par int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCloseBenchHelper$", "-test.v=false")
	cmd.Env = append(os.Environ(), closeHelperEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	out := bufio.NewReader(stdout)
	line := func() string {
		s, err := out.ReadString('\n')
		if err != nil {
			b.Fatalf("helper: %v", err)
		}
		return strings.TrimSpace(s)
	}
	up := line()
	if strings.HasPrefix(up, "err:") {
		b.Fatal(up)
	}
	fe := freePort(b)
	startGohap(b, fmtCfg(baseDefaults+"frontend fe\n bind %s\n option forwardfor\n default_backend be\nbackend be\n server s1 %s\n", fe, up), nil)
	run := func(n int) {
		fmt.Fprintf(stdin, "%s %d %d\n", fe, n, par)
		if r := line(); r != "ok" {
			b.Fatal(r)
		}
	}
	run(100) // warm-up: pools, goroutine stacks
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
}
