package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gohap/gohap/examples/echo"
)

func TestRunRefusesUnresolvableServer(t *testing.T) {
	code, _, errOut := runCLI("-f", "../../examples/seed/haproxy.cfg", "--map", "0.0.0.0:80=127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "could not resolve address 'targetserver'.") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

func TestRunRefusesUnsupportedKeyword(t *testing.T) {
	f := writeCfg(t, t.TempDir(), "u.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend fe\n bind 127.0.0.1:18099\n bind 127.0.0.1:8002 npn http/1.1\n default_backend be\nbackend be\n cookie SRV insert dynamic\n server s 127.0.0.1:1 ssl verify none allow-0rtt\n")
	code, _, errOut := runCLI("run", "-f", f)
	for _, want := range []string{
		"u.cfg:8] : bind option 'npn' is not supported by the gohap runtime yet.",
		"u.cfg:12] : 'server be/s' : 'allow-0rtt' : allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data",
		"Fatal errors found in configuration.",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// gohapBinary builds the command once for the tests that need a process.
var gohapBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gohap-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gohap")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out)}
	}
	return bin, nil
})

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuf
	done   chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSeed runs the seed configuration unchanged, its addresses mapped
// to loopback test servers.
func startSeed(t *testing.T) (p *proc, addr string, www, ws *echo.Server) {
	t.Helper()
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	www, err = echo.Start("www", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(www.Close)
	ws, err = echo.Start("socket", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Close)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr = ln.Addr().String()
	ln.Close()
	p = startBin(t, bin, "-f", "../../examples/seed/haproxy.cfg",
		"--map", "0.0.0.0:80="+addr, "--map", "127.0.0.1:8080="+www.Addr(), "--map", "targetserver:7777="+ws.Addr())
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gohap did not start:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p, addr, www, ws
}

func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("gohap did not exit:\n%s", p.stderr)
	}
	return -1
}

// diedBy tells whether the exited process was killed by sig.
func (p *proc) diedBy(sig syscall.Signal) bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func httpGet(t *testing.T, addr, host string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /page HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func wsEcho(t *testing.T, conn *websocket.Conn, msg string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	_, got, err := conn.ReadMessage()
	if err != nil || string(got) != msg {
		t.Fatalf("echo %q: got %q, %v", msg, got, err)
	}
}

// TestSeedConfig runs examples/seed/haproxy.cfg unchanged: plain HTTP goes
// to www_backend with X-Forwarded-For, WebSocket goes to socket_backend
// through either ACL, and SIGUSR1 lets an open tunnel finish.
func TestSeedConfig(t *testing.T) {
	p, addr, www, ws := startSeed(t)
	resp, body := httpGet(t, addr, "example.com")
	if resp.StatusCode != 200 || resp.Header.Get("X-Server") != "www" || !strings.Contains(body, "x-forwarded-for: 127.0.0.1\r\n") {
		t.Fatalf("http: %d %q %q", resp.StatusCode, resp.Header.Get("X-Server"), body)
	}
	// Route 1: the Upgrade header.
	c1, r1, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat", http.Header{"Host": {"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if r1.Header.Get("X-Server") != "socket" {
		t.Fatalf("upgrade route went to %q", r1.Header.Get("X-Server"))
	}
	wsEcho(t, c1, "hello over the upgrade route")
	// Route 2: the Host header starting with "ws", on a plain request too.
	resp, _ = httpGet(t, addr, "ws.example.com")
	if resp.Header.Get("X-Server") != "socket" {
		t.Fatalf("host route went to %q", resp.Header.Get("X-Server"))
	}
	d := websocket.Dialer{NetDial: func(_, _ string) (net.Conn, error) { return net.Dial("tcp", addr) }}
	c2, _, err := d.Dial("ws://ws.example.com/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	wsEcho(t, c2, "hello over the host route")
	c2.Close()
	if www.Requests.Load() != 1 || ws.Requests.Load() != 3 {
		t.Errorf("requests: www %d socket %d", www.Requests.Load(), ws.Requests.Load())
	}
	// Soft stop: the listener closes, the open tunnel keeps working.
	p.cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after SIGUSR1")
		}
		time.Sleep(20 * time.Millisecond)
	}
	wsEcho(t, c1, "still here after the soft stop")
	select {
	case <-p.done:
		t.Fatal("exited with a tunnel open")
	case <-time.After(100 * time.Millisecond):
	}
	c1.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c1.Close()
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after soft stop", code)
	}
	logs := p.stderr.String()
	for _, want := range []string{") : Proxy all stopped (cumulated conns: FE: ", "Proxy www_backend stopped (cumulated conns: FE: 0, BE: 1).", "Proxy socket_backend stopped (cumulated conns: FE: 0, BE: 3)."} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestSIGINTStopsAtOnce(t *testing.T) {
	p, addr, _, _ := startSeed(t)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.cmd.Process.Signal(syscall.SIGINT)
	if p.wait(t, 5*time.Second); !p.diedBy(syscall.SIGINT) {
		t.Errorf("%v on SIGINT, want to die by it as HAProxy", p.cmd.ProcessState)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Error("tunnel still open after SIGINT")
	}
}

func TestSIGTERMKillsLikeHAProxy(t *testing.T) {
	p, _, _, _ := startSeed(t)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t, 5*time.Second)
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("status %v, want terminated by SIGTERM as haproxy", p.cmd.ProcessState)
	}
}
