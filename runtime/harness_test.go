package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/http2"

	"github.com/gohap/gohap/examples/echo"
	"github.com/gohap/gohap/examples/freeport"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// startEcho starts an echo upstream on a loopback port.
func startEcho(t testing.TB, name string) *echo.Server {
	t.Helper()
	s, err := echo.Start(name, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func writeCfg(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startGohap compiles and runs a configuration in-process; it returns
// the engine, stopped at the end of the test.
func startGohap(t testing.TB, text string, maps map[string]string) *runtime.Engine {
	t.Helper()
	return startGohapLog(t, text, maps, nil)
}

func startGohapLog(t testing.TB, text string, maps map[string]string, log *zap.Logger) *runtime.Engine {
	t.Helper()
	e := newGohap(t, text, maps, log)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Stop()
		e.Wait()
	})
	return e
}

// newGohap compiles text into an engine that is not started.
func newGohap(t testing.TB, text string, maps map[string]string, log *zap.Logger) *runtime.Engine {
	t.Helper()
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		t.Fatalf("config errors: %v", diags)
	}
	g, errs := runtime.Compile(cfg, runtime.Options{Map: maps})
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return runtime.NewEngine(g, log)
}

func haproxyBin() string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	if b, err := exec.LookPath("haproxy"); err == nil {
		return b
	}
	return ""
}

// startHAProxy runs the reference HAProxy on a configuration and waits
// until addr accepts connections.
func startHAProxy(t testing.TB, text, addr string) {
	t.Helper()
	startHAProxyOut(t, text, addr)
}

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startHAProxyOut starts haproxy -db and returns what it prints.
func startHAProxyOut(t testing.TB, text, addr string) *lockedBuffer {
	t.Helper()
	bin := haproxyBin()
	if bin == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	return startProcess(t, bin, text, addr)
}

// startProcess runs bin -db on a configuration and returns what it
// prints once addr accepts connections.
func startProcess(t testing.TB, bin, text, addr string) *lockedBuffer {
	t.Helper()
	cmd := exec.Command(bin, "-db", "-f", writeCfg(t, text))
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s's output:\n%s", filepath.Base(bin), stderr.String())
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return stderr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not start: %s", bin, stderr.String())
	return nil
}

// exchange sends raw bytes on a new connection and reads n responses
// (or until the connection closes). It returns the raw bytes received
// and whether the connection was closed after them.
func exchange(t testing.TB, addr string, raw string, methods []string, wait time.Duration) (string, bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	c.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(io.TeeReader(c, &got))
	closed := false
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			closed = err == io.EOF || err == io.ErrUnexpectedEOF || isReset(err)
			return got.String(), closed
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			resp, err = http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				return got.String(), true
			}
			io.Copy(io.Discard, resp.Body)
		}
	}
	c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	_, err = br.ReadByte()
	closed = err != nil && !isTimeoutErr(err)
	return got.String(), closed
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed"))
}

func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// get sends one request and returns the status, the x-server header and
// the body.
func get(t testing.TB, addr, raw string) (int, string, string) {
	t.Helper()
	resp, body := roundTrip(t, addr, raw)
	return resp.StatusCode, resp.Header.Get("x-server"), body
}

// roundTrip sends one request and returns the response with its body.
func roundTrip(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func fmtCfg(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func startEchoAt(name, addr string) (*echo.Server, error) { return echo.Start(name, addr) }

// serveRaw runs handle on every connection accepted on a loopback port
// until the test ends; it returns the address.
func serveRaw(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// waitEngine waits, up to within, for e's sessions to end after a stop.
func waitEngine(t *testing.T, e *runtime.Engine, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { e.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("the engine still runs %v after its stop", within)
	}
}

// sideBySide runs one case against gohap, then HAProxy, and fails when
// what run reports of them differs.
func sideBySide(t *testing.T, run func(start func(cfg, fe string)) string) {
	t.Helper()
	g := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	h := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	t.Logf("%s", h)
	if g != h {
		t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
	}
}

// sideBySideTries is sideBySide for counts that a loaded machine can move
// in either proxy (a client's connection closed late, a rate's second
// boundary): both run again, up to tries times in all, until one round
// agrees. A gohap that always differs still fails.
func sideBySideTries(t *testing.T, tries int, run func(start func(cfg, fe string)) string) {
	t.Helper()
	var g, h string
	for i := 0; i < tries; i++ {
		g = run(func(cfg, fe string) { startGohap(t, cfg, nil) })
		h = run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		if g == h {
			t.Logf("%s", h)
			return
		}
		t.Logf("round %d differs:\ngohap:   %s\nhaproxy: %s", i+1, g, h)
	}
	t.Errorf("%d rounds, none agrees; the last:\ngohap:   %s\nhaproxy: %s", tries, g, h)
}

// dialRaw connects to addr with every later read and write bounded by
// a deadline; the connection closes with the test.
func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// diffDefaults is the defaults section of the side-by-side tests' HTTP
// configurations, with room for more lines after it.
const diffDefaults = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"

// recordingUpstream is a keep-alive upstream that numbers its connections
// in accept order (from 1) and appends, under mu, what note says of each
// request to log. answer may write its own answer and report it did;
// otherwise the answer is a 200 "ok".
func recordingUpstream(t testing.TB, mu *sync.Mutex, log *[]string, note func(conn int, r *http.Request) string, answer func(c net.Conn, r *http.Request) bool) string {
	t.Helper()
	conns := 0
	ids := map[net.Conn]int{}
	return serveRequests(t, func(c net.Conn, req *http.Request) {
		mu.Lock()
		id, ok := ids[c]
		if !ok {
			conns++
			id, ids[c] = conns, conns
		}
		*log = append(*log, note(id, req))
		mu.Unlock()
		if answer != nil && answer(c, req) {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
}

// serveRequests is a keep-alive upstream that calls answer for each
// request it reads, once its body is read; every read is bounded.
func serveRequests(t testing.TB, answer func(c net.Conn, r *http.Request)) string {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			answer(c, req)
		}
	})
}

// acceptClose accepts and closes connections on ln until it is closed:
// a server that is up at layer 4 and answers nothing.
func acceptClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// waitUnixSocket waits, for up to five seconds, until the stats socket at
// path accepts a connection: HAProxy may bind it after the listener its
// start waited for, and its file may be there before it listens (it
// binds a temporary name and renames it).
func waitUnixSocket(path string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return
		}
	}
}

// h2cClient speaks HTTP/2 with prior knowledge over plain TCP (h2c).
func h2cClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http2.Transport{AllowHTTP: true,
		DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) { return net.Dial(network, addr) }}}
}
