package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gohap/gohap/examples/echo"
)

// reloadRig is a master-worker gohap on a configuration the test
// rewrites, with upstreams named name-0, name-1...
type reloadRig struct {
	t      *testing.T
	p      *proc
	addr   string
	cfg    string
	sock   string
	master int
	ups    []*echo.Server
}

func newReloadRig(t *testing.T, name string, upstreams int, global string) *reloadRig {
	t.Helper()
	dir := t.TempDir()
	r := &reloadRig{t: t, addr: freeAddr(t), cfg: filepath.Join(dir, "lb.cfg"), sock: filepath.Join(dir, "master.sock")}
	for i := 0; i < upstreams; i++ {
		up, err := echo.Start(fmt.Sprintf("%s-%d", name, i), "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(up.Close)
		r.ups = append(r.ups, up)
	}
	r.write(0, global)
	// -dD: the master says which way each reload went.
	r.p = startGohap(t, "-W", "-dD", "-S", r.sock, "-f", r.cfg)
	r.master = r.p.cmd.Process.Pid
	waitServing(t, r.addr, r.ups[0].Name, r.p)
	// The master reports the start after the worker serves.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(r.p.stderr.String(), "Loading success."); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no 'Loading success.'\n%s", r.p.stderr)
		}
	}
	return r
}

// write points the configuration at upstream i, with global's lines.
func (r *reloadRig) write(i int, global string) {
	body := strings.Replace(lbCfg(r.addr, r.ups[i].Addr()), "global\n", "global\n"+global, 1)
	if err := os.WriteFile(r.cfg, []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// reload sends SIGUSR2 and waits until the master says how it went.
func (r *reloadRig) reload(want string) {
	r.t.Helper()
	before := strings.Count(r.p.stderr.String(), want)
	syscall.Kill(r.master, syscall.SIGUSR2)
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(r.p.stderr.String(), want) == before {
		if time.Now().After(deadline) {
			r.t.Fatalf("no %q after SIGUSR2\n%s", want, r.p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *reloadRig) workers() []int { return childPids(r.master) }

// dialWS opens a WebSocket through the proxy and returns it with the
// upstream that answered.
func dialWS(t *testing.T, addr string) (*websocket.Conn, string) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp.Header.Get("X-Server")
}

// keepAlive is an open HTTP/1.1 connection.
type keepAlive struct {
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAlive {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{c: c, br: bufio.NewReader(c)}
}

// get sends a request on the connection and returns the upstream that
// answered, "" when the connection failed or is to close.
func (k *keepAlive) get() string {
	k.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(k.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return ""
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		return ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		return ""
	}
	return resp.Header.Get("X-Server")
}

// TestInProcessReload: WebSockets and keep-alive connections opened
// through gohap survive ten reloads, each naming another upstream, and
// keep their upstream; new connections see the new one at once; there
// is one worker all along, the same process, and show proc counts the
// reloads.
func TestInProcessReload(t *testing.T) {
	const reloads = 10
	r := newReloadRig(t, "inproc", reloads+1, "")
	worker := r.workers()
	if len(worker) != 1 {
		t.Fatalf("workers %v", worker)
	}
	type held struct {
		ws   *websocket.Conn
		ka   *keepAlive
		name string
	}
	var open []held
	for i := 0; i <= reloads; i++ {
		if i > 0 {
			r.write(i, "")
			t0 := time.Now()
			r.reload("Loading success.")
			if !strings.Contains(r.p.stderr.String(), fmt.Sprintf("Worker (%d) reloaded in process", worker[0])) {
				t.Fatalf("reload %d was not in process\n%s", i, r.p.stderr)
			}
			if code, srv, err := get(r.addr); err != nil || code != 200 || srv != r.ups[i].Name {
				t.Fatalf("reload %d: a new connection got %d from %q (%v), want %s", i, code, srv, err, r.ups[i].Name)
			}
			t.Logf("reload %d served after %v", i, time.Since(t0))
		}
		for j, h := range open {
			wsEcho(t, h.ws, fmt.Sprintf("after reload %d, tunnel %d", i, j))
			if got := h.ka.get(); got != h.name {
				t.Fatalf("after reload %d, keep-alive connection %d answered by %q, want %s", i, j, got, h.name)
			}
		}
		ws, name := dialWS(t, r.addr)
		if name != r.ups[i].Name {
			t.Fatalf("WebSocket %d answered by %q", i, name)
		}
		ka := dialKeepAlive(t, r.addr)
		if got := ka.get(); got != r.ups[i].Name {
			t.Fatalf("keep-alive %d answered by %q", i, got)
		}
		open = append(open, held{ws: ws, ka: ka, name: name})
		if w := r.workers(); len(w) != 1 || w[0] != worker[0] {
			t.Fatalf("after reload %d: workers %v, want [%d]", i, w, worker[0])
		}
	}
	show := masterCmd(t, r.sock, "show proc")
	if !strings.Contains(show, fmt.Sprintf("%-15d %-15s %d [failed: 0]", r.master, "master", reloads)) ||
		!strings.Contains(show, fmt.Sprintf("%-15d %-15s %-15d", worker[0], "worker", reloads)) || strings.Contains(show, "# old workers") {
		t.Errorf("show proc:\n%s", show)
	}
	// The worker's CLI (@1) is the new graph's.
	_, port, _ := net.SplitHostPort(r.ups[reloads].Addr())
	if st := masterCmd(t, r.sock, "@1 show servers state be"); !strings.Contains(st, " "+port+" ") {
		t.Errorf("@1 show servers state, want port %s:\n%s", port, st)
	}
	// The tunnels and connections end; the process stays alone.
	for _, h := range open {
		h.ws.Close()
		h.ka.c.Close()
	}
	if code, srv, err := get(r.addr); err != nil || code != 200 || srv != r.ups[reloads].Name {
		t.Errorf("after the old sessions ended: %d %q %v", code, srv, err)
	}
}

// TestReloadNeedsNewWorker: what a worker cannot change in process
// (nbthread, the TLS 1.3 suite order, a bind address it has no socket for, gohap-reload
// new-worker, and as root a user or a chroot) starts a new worker, which
// serves; tunnels on the old one go on until it ends.
func TestReloadNeedsNewWorker(t *testing.T) {
	cases := []struct {
		name, global, why string
		root              bool
	}{
		{"nbthread", " nbthread 2\n", "user, group, chroot, nbthread, ulimit-n, daemon or the TLS 1.3 suite order changed", false},
		{"new-worker", " gohap-reload new-worker\n", "'gohap-reload new-worker'", false},
		{"user", " uid 65534\n gid 65534\n", "user, group, chroot, nbthread, ulimit-n, daemon or the TLS 1.3 suite order changed", true},
		{"chroot", " chroot " + os.TempDir() + "\n", "user, group, chroot, nbthread, ulimit-n, daemon or the TLS 1.3 suite order changed", true},
		// A TLS bind whose suites come in another order than OpenSSL's.
		{"tls13", fmt.Sprintf(" ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n"+
			"listen tls13\n bind %s ssl crt %s\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n server s 127.0.0.1:1\nglobal\n",
			freeAddr(t), writeSelfSigned(t, t.TempDir())), "user, group, chroot, nbthread, ulimit-n, daemon or the TLS 1.3 suite order changed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("changing the user or the chroot needs root")
			}
			r := newReloadRig(t, "nw-"+c.name, 2, "")
			old := r.workers()
			ws, _ := dialWS(t, r.addr)
			r.write(1, c.global)
			r.reload("Loading success.")
			if !strings.Contains(r.p.stderr.String(), "Reloading with a new worker: "+c.why+".") {
				t.Errorf("no reason given:\n%s", r.p.stderr)
			}
			waitServing(t, r.addr, r.ups[1].Name, r.p)
			now := r.workers()
			if len(now) != 2 || !contains(intStrings(now), fmt.Sprint(old[0])) {
				t.Errorf("workers %v after the reload, the old one was %v", now, old)
			}
			wsEcho(t, ws, "still open on the old worker")
			ws.Close()
			deadline := time.Now().Add(10 * time.Second)
			for len(r.workers()) != 1 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if w := r.workers(); len(w) != 1 || w[0] == old[0] {
				t.Errorf("workers %v once the tunnel closed", w)
			}
		})
	}
	t.Run("new-bind", func(t *testing.T) {
		r := newReloadRig(t, "nw-bind", 2, "")
		extra := freeAddr(t)
		r.write(1, "")
		b, _ := os.ReadFile(r.cfg)
		os.WriteFile(r.cfg, []byte(strings.Replace(string(b), "bind "+r.addr+"\n", "bind "+r.addr+"\n bind "+extra+"\n", 1)), 0o644)
		r.reload("Loading success.")
		if !strings.Contains(r.p.stderr.String(), "Reloading with a new worker: the worker has no socket for bind address "+extra+".") {
			t.Errorf("no reason given:\n%s", r.p.stderr)
		}
		waitServing(t, extra, r.ups[1].Name, r.p)
		waitServing(t, r.addr, r.ups[1].Name, r.p)
		// Next time the new worker has both sockets: in process again.
		r.write(0, "")
		b, _ = os.ReadFile(r.cfg)
		os.WriteFile(r.cfg, []byte(strings.Replace(string(b), "bind "+r.addr+"\n", "bind "+r.addr+"\n bind "+extra+"\n", 1)), 0o644)
		r.reload("reloaded in process")
		waitServing(t, extra, r.ups[0].Name, r.p)
	})
}

func intStrings(list []int) []string {
	var out []string
	for _, n := range list {
		out = append(out, fmt.Sprint(n))
	}
	return out
}

// TestInvalidReloadKeepsServing: a configuration that does not load
// keeps the worker and its graph, tunnels included; the next valid one
// reloads in process.
func TestInvalidReloadKeepsServing(t *testing.T) {
	r := newReloadRig(t, "invalid", 2, "")
	worker := r.workers()
	ws, _ := dialWS(t, r.addr)
	body, _ := os.ReadFile(r.cfg)
	os.WriteFile(r.cfg, append(body, "bogus-keyword\n"...), 0o644)
	r.reload("Loading failure!")
	if code, srv, err := get(r.addr); err != nil || code != 200 || srv != r.ups[0].Name {
		t.Errorf("after a failed reload: %d %q %v", code, srv, err)
	}
	wsEcho(t, ws, "after a failed reload")
	r.write(1, "")
	r.reload("Loading success.")
	waitServing(t, r.addr, r.ups[1].Name, r.p)
	wsEcho(t, ws, "after the next reload")
	if w := r.workers(); len(w) != 1 || w[0] != worker[0] {
		t.Errorf("workers %v, want [%d]", w, worker[0])
	}
	if show := masterCmd(t, r.sock, "show proc"); !strings.Contains(show, "2 [failed: 1]") {
		t.Errorf("show proc:\n%s", show)
	}
}

// wsClosed tells whether the proxy closes the tunnel within 5 s.
func wsClosed(ws *websocket.Conn) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
			return true
		}
		if _, _, err := ws.ReadMessage(); err != nil {
			return true
		}
	}
	return false
}

// TestMaxReloads: "mworker-max-reloads N" ends what outlived N reloads:
// the old configurations kept in process (their sessions are closed),
// and old workers (SIGTERM, as HAProxy).
func TestMaxReloads(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		r := newReloadRig(t, "maxr", 3, " mworker-max-reloads 1\n")
		ws0, _ := dialWS(t, r.addr)
		r.write(1, " mworker-max-reloads 1\n")
		r.reload("Loading success.")
		waitServing(t, r.addr, r.ups[1].Name, r.p)
		ws1, _ := dialWS(t, r.addr)
		wsEcho(t, ws0, "one reload old")
		r.write(2, " mworker-max-reloads 1\n")
		r.reload("Loading success.")
		if !wsClosed(ws0) {
			t.Errorf("a tunnel two reloads old is still open")
		}
		wsEcho(t, ws1, "one reload old")
		if w := r.workers(); len(w) != 1 {
			t.Errorf("workers %v", w)
		}
	})
	t.Run("new-worker", func(t *testing.T) {
		global := " gohap-reload new-worker\n mworker-max-reloads 0\n"
		r := newReloadRig(t, "maxw", 2, global)
		old := r.workers()
		ws, _ := dialWS(t, r.addr)
		r.write(1, global)
		r.reload("Loading success.")
		waitServing(t, r.addr, r.ups[1].Name, r.p)
		if !wsClosed(ws) {
			t.Errorf("the old worker's tunnel is still open\n%s", r.p.stderr)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(r.workers()) != 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if w := r.workers(); len(w) != 1 || w[0] == old[0] {
			t.Errorf("workers %v, the old one %v", w, old)
		}
		// The master reports the exit once it has reaped the worker,
		// which the list of workers may show first.
		exited := fmt.Sprintf("Former worker (%d) exited with code 143 (Terminated)", old[0])
		for !strings.Contains(r.p.stderr.String(), exited) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(r.p.stderr.String(), exited) {
			t.Errorf("stderr:\n%s", r.p.stderr)
		}
	})
}

// TestHardStopAfterInProcess: the former configuration's hard-stop-after
// bounds its sessions, as it bounds a former worker's.
func TestHardStopAfterInProcess(t *testing.T) {
	r := newReloadRig(t, "hsa", 2, " hard-stop-after 300ms\n")
	ws, _ := dialWS(t, r.addr)
	r.write(1, "")
	t0 := time.Now()
	r.reload("Loading success.")
	wsEcho(t, ws, "right after the reload")
	if !wsClosed(ws) {
		t.Fatal("the tunnel outlived hard-stop-after")
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("closed after %v, before hard-stop-after", d)
	}
	if w := r.workers(); len(w) != 1 {
		t.Errorf("workers %v", w)
	}
}
