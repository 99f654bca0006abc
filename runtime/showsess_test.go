package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sessCfg has a TCP frontend over two servers, an HTTP one, and stats
// sockets at three levels; one thread, whose streams HAProxy lists in
// creation order.
const sessCfg = `global
    nbthread 1
    stats socket %s level admin
    stats socket %s level operator
    stats socket %s level user
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend ft
    mode tcp
    bind %s
    default_backend bk
frontend fh
    mode http
    bind %s
    default_backend bh
backend bk
    mode tcp
    balance %s
    server s1 %s
    server s2 %s
backend bh
    mode http
    server s1 %s
`

// holdServer accepts connections and reads them until the peer
// closes, answering nothing.
func holdServer(t *testing.T) string {
	return serveRaw(t, func(c net.Conn) { io.Copy(io.Discard, c) })
}

type sessSetup struct {
	admin, oper, user string
	ft, fh            string
}

func newSessSetup(t *testing.T, haproxy bool) (sessSetup, string) {
	dir := t.TempDir()
	s := sessSetup{admin: filepath.Join(dir, "a.sock"), oper: filepath.Join(dir, "o.sock"), user: filepath.Join(dir, "u.sock"),
		ft: freePort(t), fh: freePort(t)}
	up1, up2 := holdServer(t), holdServer(t)
	// The differential runs keep both clients on s1: the first pick of
	// roundrobin is no matter of "show sess".
	balance := "roundrobin"
	if haproxy || os.Getenv("HAPROXY_BIN") != "" && t.Name() == "TestShowSessDifferential" {
		balance = "first"
	}
	text := fmt.Sprintf(sessCfg, s.admin, s.oper, s.user, s.ft, s.fh, balance, up1, up2, up1)
	if haproxy {
		startHAProxy(t, text, s.ft)
	} else {
		startGohap(t, text, nil)
	}
	return s, up1
}

// dialHold connects and sends data, keeping the connection open.
func dialHold(t *testing.T, addr, data string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if data != "" {
		io.WriteString(c, data)
	}
	return c
}

// sessLines returns the "show sess" lines, without the CLI's own.
func sessLines(t *testing.T, sock string) []string {
	var out []string
	for _, l := range strings.Split(cliSend(t, "unix", sock, "show sess\n"), "\n") {
		if l != "" && !strings.Contains(l, " fe=GLOBAL ") {
			out = append(out, l)
		}
	}
	return out
}

// waitSess waits until "show sess" lists n streams besides the CLI's.
func waitSess(t *testing.T, sock string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	waitUnixSocket(sock)
	for {
		ls := sessLines(t, sock)
		if len(ls) == n {
			return ls
		}
		if time.Now().After(deadline) {
			t.Fatalf("show sess lists %d streams, want %d:\n%s", len(ls), n, strings.Join(ls, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closedSoon reports whether the proxy closes c within a bounded time.
func closedSoon(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeoutErr(err)
}

// shutdownOnly waits for the one stream "show sess" lists and sends the
// shutdown command cmd makes of its id, which must answer nothing.
func shutdownOnly(t *testing.T, sock string, cmd func(id string) string) {
	t.Helper()
	ls := waitSess(t, sock, 1)
	if got := cliSend(t, "unix", sock, cmd(streamID(ls[0]))); got != "\n" {
		t.Fatalf("%q", got)
	}
}

func streamID(line string) string { return line[:strings.IndexByte(line, ':')] }

// TestShowSess: "show sess" lists the clients held on real sockets with
// their addresses, frontend, backend and server, and the CLI's own
// stream; "shutdown session" closes one client only, "shutdown sessions
// server" those on the server.
func TestShowSess(t *testing.T) {
	s, _ := newSessSetup(t, false)
	c1 := dialHold(t, s.ft, "")
	waitSess(t, s.admin, 1)
	c2 := dialHold(t, s.ft, "")
	waitSess(t, s.admin, 2)
	c3 := dialHold(t, s.fh, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	// An idle HTTP connection has no stream.
	dialHold(t, s.fh, "")
	ls := waitSess(t, s.admin, 3)
	// A TCP stream is listed from its accept, and has its server once
	// connected.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(strings.Join(ls, "\n"), " srv=s") < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		ls = waitSess(t, s.admin, 3)
	}
	for i, want := range []struct {
		c           net.Conn
		fe, be, srv string
	}{{c1, "ft", "bk", "s1"}, {c2, "ft", "bk", "s2"}, {c3, "fh", "bh", "s1"}} {
		frag := fmt.Sprintf(": proto=tcpv4 src=%s fe=%s be=%s srv=%s ts=00 ", want.c.LocalAddr(), want.fe, want.be, want.srv)
		if !strings.Contains(ls[i], frag) || !regexp.MustCompile(`^0x[0-9a-f]+: .* scf=\[8,0h,fd=\d+\] scb=\[8,0h,fd=\d+\] exp= rc=0 c_exp=$`).MatchString(ls[i]) {
			t.Errorf("line %d: %s\nwant %s", i, ls[i], frag)
		}
	}
	all := cliSend(t, "unix", s.admin, "show sess\n")
	if !regexp.MustCompile(`(?m)^0x[0-9a-f]+: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0x[0-9a-f]+ age=0s .* scb=\[8,0h,fd=-1\] exp= rc=0 c_exp=$`).MatchString(all) {
		t.Errorf("no CLI stream in\n%s", all)
	}
	// The epoch: a stream begun after a "show sess" has a later one.
	ep := regexp.MustCompile(` epoch=(\S+) `)
	e1 := ep.FindStringSubmatch(ls[0])[1]
	cliSend(t, "unix", s.admin, "show sess\n")
	c4 := dialHold(t, s.ft, "")
	ls4 := waitSess(t, s.admin, 4)
	if e4 := ep.FindStringSubmatch(ls4[3])[1]; e4 == e1 || !strings.Contains(ls4[3], c4.LocalAddr().String()) {
		t.Errorf("epochs %s then %s: %s", e1, e4, ls4[3])
	}
	id1 := streamID(ls[0])
	d := cliSend(t, "unix", s.oper, "show sess "+id1+"\n")
	if !strings.HasPrefix(d, id1+": [") || !strings.Contains(d, " proto=tcpv4 source="+c1.LocalAddr().String()+"\n") ||
		!strings.Contains(d, "  frontend=ft (id=2 mode=tcp), listener=? (id=1) addr="+s.ft+"\n") || !strings.Contains(d, "  server=s1 (id=1) addr=") {
		t.Errorf("show sess %s:\n%s", id1, d)
	}
	for sock, req := range map[string]string{
		s.user: "show sess\n", s.oper: "shutdown session " + id1 + "\n",
	} {
		if got := cliSend(t, "unix", sock, req); got != "Permission denied\n\n" {
			t.Errorf("%q: %q", req, got)
		}
	}
	for req, want := range map[string]string{
		"shutdown session\n":               "Session pointer expected (use 'show sess').\n\n",
		"shutdown session zz\n":            "Session pointer expected (use 'show sess').\n\n",
		"shutdown session 0xfffffff0\n":    "No such session (use 'show sess').\n\n",
		"show sess 0xfffffff0\n":           "Session not found.\n\n",
		"shutdown sessions server bk\n":    "Require 'backend/server'.\n\n",
		"shutdown sessions server no/s1\n": "No such backend.\n\n",
		"shutdown sessions server bk/s9\n": "No such server.\n\n",
		"shutdown session " + id1 + "\n":   "\n",
		"shutdown sessions server bk/s2\n": "\n",
	} {
		if got := cliSend(t, "unix", s.admin, req); got != want {
			t.Errorf("%q: %q, want %q", req, got, want)
		}
	}
	// c1 was killed by id, c2 (on s2) with its server; c3 and c4 stay.
	for i, c := range []net.Conn{c1, c2} {
		if !closedSoon(c) {
			t.Errorf("client %d is still open", i+1)
		}
	}
	left := waitSess(t, s.admin, 2)
	if !strings.Contains(left[0], c3.LocalAddr().String()) || !strings.Contains(left[1], c4.LocalAddr().String()) {
		t.Errorf("left:\n%s", strings.Join(left, "\n"))
	}
}

// sessMask hides what differs between two runs and two programs: the
// ids, ports, ages, epochs and HAProxy's internals (task, channel and
// stream connector flags and counters, timers).
var sessMask = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^0x[0-9a-f]+:`), "P:"},
	{regexp.MustCompile(`(src=[0-9.]+):\d+`), "$1:N"},
	{regexp.MustCompile(`epoch=\S+ age=\S+ calls=\d+ rate=\d+ cpu=\d+ lat=\d+`), "epoch=E age=A calls=C"},
	{regexp.MustCompile(`f=[0-9a-f]+h,i=\d+,an=[0-9a-f]+h,rx=[^,]*,wx=[^,]*,ax=[^\]]*`), "F"},
	{regexp.MustCompile(`,[0-9a-f]+h,fd=-?\d+\]`), ",fd]"},
	{regexp.MustCompile(`exp=\S* `), "exp=X "},
}

// TestShowSessDifferential: with the same clients held on the same
// configuration, gohap's "show sess" lines have HAProxy 2.6's structure
// and values once its internals are masked, and its error messages and
// help lines are HAProxy's byte for byte.
func TestShowSessDifferential(t *testing.T) {
	if os.Getenv("HAPROXY_BIN") == "" {
		t.Skip("HAPROXY_BIN is not set: no HAProxy to compare show sess with")
	}
	run := func(haproxy bool) (string, map[string]string) {
		s, _ := newSessSetup(t, haproxy)
		dialHold(t, s.ft, "")
		waitSess(t, s.admin, 1)
		dialHold(t, s.ft, "")
		waitSess(t, s.admin, 2)
		dialHold(t, s.fh, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		dialHold(t, s.fh, "")
		waitSess(t, s.admin, 3)
		mask := func(out string) string {
			for _, m := range sessMask {
				out = m.re.ReplaceAllString(out, m.with)
			}
			return out
		}
		// Under load a stream may still be connecting: the answer is
		// taken once two in a row agree.
		out := ""
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			next := mask(cliSend(t, "unix", s.admin, "show sess\n"))
			if next == out {
				break
			}
			out = next
		}
		answers := map[string]string{}
		// 0xdead0000 names no stream: gohap numbers its streams from 1
		// (0x10 was one when load made the test open more), HAProxy's
		// are heap addresses.
		for _, req := range []string{"shutdown session\n", "shutdown session 0xdead0000\n", "show sess 0xdead0000\n", "shutdown sessions server\n",
			"shutdown sessions server bk/\n", "shutdown sessions server x/s1\n", "shutdown sessions server bk/s3\n",
			"shutdown sessions server bk/s1\n", "help show sess\n"} {
			answers[req] = cliSend(t, "unix", s.admin, req)
		}
		for _, req := range []string{"show sess\n", "shutdown session 0xdead0000\n", "shutdown sessions server bk/s1\n"} {
			answers["oper "+req] = mask(cliSend(t, "unix", s.oper, req))
			answers["user "+req] = cliSend(t, "unix", s.user, req)
		}
		return out, answers
	}
	hs, ha := run(true)
	gs, ga := run(false)
	if hs != gs {
		t.Errorf("show sess:\ngohap:\n%s\nhaproxy:\n%s", gs, hs)
	}
	for req, want := range ha {
		if strings.HasPrefix(req, "help") {
			// gohap serves fewer commands: its lines are HAProxy's.
			for _, l := range strings.Split(ga[req], "\n") {
				if !strings.Contains(want, l+"\n") {
					t.Errorf("help line %q is not HAProxy's", l)
				}
			}
			for _, l := range []string{"show sess [id]", "shutdown session [id]", "shutdown sessions server"} {
				if !strings.Contains(ga[req], "  "+l) && strings.HasPrefix(l, "show") {
					t.Errorf("help lacks %q:\n%s", l, ga[req])
				}
			}
			continue
		}
		if ga[req] != want {
			t.Errorf("%q: gohap %q, haproxy %q", req, ga[req], want)
		}
	}
}

// TestShutdownSessionLog: a tunnel killed by "shutdown session" is
// logged with HAProxy's termination state "K-".
func TestShutdownSessionLog(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dir := t.TempDir()
	sock, fe := filepath.Join(dir, "a.sock"), freePort(t)
	startGohap(t, fmt.Sprintf(`global
    stats socket %s level admin
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend ft
    mode tcp
    bind %s
    log %s local0
    option tcplog
    default_backend bk
backend bk
    mode tcp
    server s1 %s
`, sock, fe, pc.LocalAddr(), holdServer(t)), nil)
	c := dialHold(t, fe, "")
	shutdownOnly(t, sock, func(id string) string { return "shutdown session " + id + "\n" })
	if !closedSoon(c) {
		t.Fatal("the client is still open")
	}
	pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if line := string(buf[:n]); !strings.Contains(line, " ft bk/s1 ") || !strings.Contains(line, " 0 K- ") {
		t.Errorf("log line %q", line)
	}
}

// An HTTP stream waiting for its server, shut down from the CLI, loses
// its server connection: the client gets HAProxy's 502 on a connection
// that stays open, and the log says K (killed) in the H phase; "shutdown
// sessions server" does the same. HAProxy alongside.
func TestShutdownHTTPStream(t *testing.T) {
	run := func(t *testing.T, start func(cfg, fe string), cmd func(id string) string) string {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		sock, fe := filepath.Join(t.TempDir(), "a.sock"), freePort(t)
		start(fmt.Sprintf(`global
    stats socket %s level admin
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fh
    bind %s
    log %s local0
    log-format "%%f %%b/%%s %%ST %%tsc"
    option dontlognull
    default_backend bh
backend bh
    server s1 %s
`, sock, fe, pc.LocalAddr(), holdServer(t)), fe)
		c := dialHold(t, fe, "GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
		shutdownOnly(t, sock, cmd)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		// The connection carries the next request.
		io.WriteString(c, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(time.Second))
		next := "open"
		if _, err := br.Peek(1); err != nil && !isTimeoutErr(err) {
			next = "closed"
		}
		pc.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 2048)
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		line := string(buf[:n])
		return fmt.Sprintf("%d %s | %s", resp.StatusCode, next, line[strings.Index(line, ": ")+2:])
	}
	for _, cmd := range []func(string) string{
		func(id string) string { return "shutdown session " + id + "\n" },
		func(string) string { return "shutdown sessions server bh/s1\n" },
	} {
		got := run(t, func(cfg, _ string) { startGohap(t, cfg, nil) }, cmd)
		if want := "502 open | fh bh/s1 502 KH--\n"; got != want {
			t.Errorf("gohap %q, want %q", got, want)
		}
		if haproxyBin() == "" {
			continue
		}
		if ref := run(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) }, cmd); ref != got {
			t.Errorf("gohap %q, haproxy %q", got, ref)
		}
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
}

// An HTTP connection waiting for its next request has no stream in
// "show sess", in HAProxy and in gohap: its stream ended with the
// answer. A request on its way is listed.
func TestShowSessIdleKeepAliveDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startEcho(t, "s1")
	sideBySide(t, func(start func(cfg, fe string)) string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		start(fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 10s
 timeout server 10s
frontend fe
 bind %s
 default_backend be
backend be
 server s1 %s
`, sock, fe, up.Addr()), fe)
		c := dialRaw(t, fe)
		br := bufio.NewReader(c)
		answer := func() {
			rsp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, rsp.Body)
			rsp.Body.Close()
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		answer()
		time.Sleep(100 * time.Millisecond)
		idle := len(sessLines(t, sock))
		io.WriteString(c, "GET /sleep/1000 HTTP/1.1\r\nHost: x\r\n\r\n")
		busy := len(waitSess(t, sock, 1))
		answer()
		return fmt.Sprintf("listed while idle %d, while a request waits %d", idle, busy)
	})
}
