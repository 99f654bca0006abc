package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/gorilla/websocket"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// compileText parses and compiles a configuration.
func compileText(t *testing.T, text string) *runtime.Graph {
	t.Helper()
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		t.Fatalf("config errors: %v", diags)
	}
	g, errs := runtime.Compile(cfg, runtime.Options{})
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return g
}

// TestTakeOverAndRetire: a new engine takes the listening and stats
// sockets of a running one under load, with no connection refused; the
// retired one keeps its WebSocket and keep-alive connections on its
// graph, and its Wait returns once they closed.
func TestTakeOverAndRetire(t *testing.T) {
	up1, up2 := startEcho(t, "old"), startEcho(t, "new")
	addr := freePort(t)
	sock := filepath.Join(t.TempDir(), "stats.sock")
	cfg := func(up string) string {
		return fmtCfg("global\n stats socket %s level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n"+
			"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s check inter 100ms\n", sock, addr, up)
	}
	old := runtime.NewEngine(compileText(t, cfg(up1.Addr())), nil)
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Stop(); old.Wait() })
	ws := wsDial(t, addr, "/")
	defer ws.Close()
	ka := dial(t, addr)
	ka.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := ka.read("GET"); resp.Header.Get("X-Server") != "old" {
		t.Fatalf("first answer from %q", resp.Header.Get("X-Server"))
	}

	// Load: new connections all along the swap.
	var refused, answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					refused.Add(1)
					continue
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 200 {
					answered.Add(1)
				} else {
					refused.Add(1)
				}
				c.Close()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	next := runtime.NewEngine(compileText(t, cfg(up2.Addr())), nil)
	next.TakeOver(old)
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.Stop(); next.Wait() })
	old.Retire()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if refused.Load() != 0 || answered.Load() == 0 {
		t.Errorf("during the swap: %d answered, %d failed", answered.Load(), refused.Load())
	}
	for i := 0; i < 20; i++ {
		if code, srv, _ := get(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); code != 200 || srv != "new" {
			t.Fatalf("after the swap: %d from %q", code, srv)
		}
	}
	// The stats socket is the new engine's: it lists the new server.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "show servers state be\n")
	state, _ := io.ReadAll(c)
	c.Close()
	if want := up2.Addr(); !containsHost(string(state), want) {
		t.Errorf("show servers state after the swap:\n%s", state)
	}
	for i := 0; i < 3; i++ {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		msg := fmt.Sprintf("old tunnel %d", i)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("old tunnel: %q %v", got, err)
		}
		ka.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := ka.read("GET"); resp.Header.Get("X-Server") != "old" || resp.Close {
			t.Fatalf("old keep-alive connection answered by %q (close %v)", resp.Header.Get("X-Server"), resp.Close)
		}
	}
	if n := old.Sessions(); n != 2 {
		t.Errorf("the retired engine serves %d sessions, want 2", n)
	}
	ended := make(chan struct{})
	go func() { old.Wait(); close(ended) }()
	select {
	case <-ended:
		t.Fatal("the retired engine ended with open sessions")
	case <-time.After(100 * time.Millisecond):
	}
	ws.Close()
	ka.c.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatalf("the retired engine still serves %d sessions", old.Sessions())
	}
}

// containsHost tells whether a "show servers state" dump names the
// server at hostport.
func containsHost(s, hostport string) bool {
	h, p, _ := net.SplitHostPort(hostport)
	return strings.Contains(s, " "+h+" ") && strings.Contains(s, " "+p+" ")
}

// TestRetiredGraphIsCollected: once its last session ended, nothing
// holds a retired engine's graph: the collector frees it.
func TestRetiredGraphIsCollected(t *testing.T) {
	up := startEcho(t, "gc")
	addr := freePort(t)
	cfg := fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n"+
		"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s check inter 100ms\n", addr, up.Addr())
	var ref weak.Pointer[runtime.Graph]
	cur := func() *runtime.Engine {
		g := compileText(t, cfg)
		ref = weak.Make(g)
		e := runtime.NewEngine(g, nil)
		if err := e.Start(); err != nil {
			t.Fatal(err)
		}
		ws := wsDial(t, addr, "/")
		next := runtime.NewEngine(compileText(t, cfg), nil)
		next.TakeOver(e)
		if err := next.Start(); err != nil {
			t.Fatal(err)
		}
		e.Retire()
		ws.Close()
		e.Wait()
		return next
	}()
	t.Cleanup(func() { cur.Stop(); cur.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ref.Value() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the retired graph is still referenced")
		}
		goruntime.GC()
	}
}
