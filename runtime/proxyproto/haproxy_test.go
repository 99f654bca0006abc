package proxyproto

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/freeport"
)

// haproxyBin is the reference HAProxy 2.6 the differential tests run.
func haproxyBin(t testing.TB) string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	t.Skip("no HAProxy (set HAPROXY_BIN or install /usr/sbin/haproxy): nothing to compare with")
	return ""
}

// outBuf collects haproxy's stdout, where the tests send its logs.
type outBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// lines returns the complete lines written so far.
func (o *outBuf) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ls []string
	for _, l := range bytes.SplitAfter(o.b.Bytes(), []byte("\n")) {
		if len(l) > 0 && l[len(l)-1] == '\n' {
			ls = append(ls, string(l[:len(l)-1]))
		}
	}
	return ls
}

// waitLines waits until haproxy has written at least n lines.
func (o *outBuf) waitLines(n int, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		ls := o.lines()
		if len(ls) >= n || time.Now().After(deadline) {
			return ls
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port nobody listens on.
func freePort(t testing.TB) string {
	// freeport's ports are handed once across the test binaries: haproxy
	// binds with SO_REUSEPORT.
	a, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startHAProxy runs haproxy -db on cfg and waits until addr accepts.
func startHAProxy(t testing.TB, cfg, addr string) *outBuf {
	t.Helper()
	bin := haproxyBin(t)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	out := &outBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy did not start: %s", out.b.String())
	return nil
}
