package peers

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/acl/stick"
)

// node is a section of a two-node setup on loopback.
type node struct {
	sec *Section
	tb  *stick.Table
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func startNode(t *testing.T, local string, ln net.Listener, addrs map[string]string, def string, opts ...func(*Config)) *node {
	t.Helper()
	c, msgs := stick.Parse(strings.Fields("stick-table "+def), "t", false)
	if stick.HasErrors(msgs) {
		t.Fatal(msgs)
	}
	tb := stick.New(c, nil)
	cfg := Config{Name: "p", LocalName: local, Listener: ln, Tables: []TableConfig{{Name: "t", Table: tb}}}
	for _, name := range []string{"a", "b"} {
		cfg.Peers = append(cfg.Peers, PeerConfig{Name: name, Addr: addrs[name], Local: name == local})
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := New(cfg)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return &node{sec: s, tb: tb}
}

func waitLine(t *testing.T, tb *stick.Table, key, want string) {
	t.Helper()
	k, err := tb.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if e := tb.Lookup(&k); e != nil {
			last = stripAddr(e.Line())
			e.Release()
			if strings.Contains(last, want) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("key %s: %q, want %q", key, last, want)
}

// Two gohap nodes push their tracked entries to each other; a restarted
// node learns the table back.
func TestTwoNodes(t *testing.T) {
	la, lb := listen(t), listen(t)
	addrs := map[string]string{"a": la.Addr().String(), "b": lb.Addr().String()}
	def := "type string len 32 size 100 expire 10s store gpc0,conn_cnt,http_req_rate(10s),server_key"
	a := startNode(t, "a", la, addrs, def)
	b := startNode(t, "b", lb, addrs, def)
	k := stick.BytesKey([]byte("/from-a"))
	e := a.tb.Track(&k)
	e.IncGPC0()
	e.IncHTTPReq()
	e.SetServer(0, "s1")
	e.StopCounters()
	e.Release()
	waitLine(t, b.tb, "/from-a", "gpc0=1 conn_cnt=1 http_req_rate(10000)=1 server_key=s1")
	k2 := stick.BytesKey([]byte("/from-b"))
	e = b.tb.Get(&k2)
	e.IncGPC0()
	e.IncGPC0()
	e.Release()
	waitLine(t, a.tb, "/from-b", "gpc0=2")

	// b restarts with an empty table and asks a for everything.
	b.sec.Stop()
	lb2, err := net.Listen("tcp", addrs["b"])
	if err != nil {
		t.Skip("port taken again:", err)
	}
	b2 := startNode(t, "b", lb2, addrs, def)
	waitLine(t, b2.tb, "/from-a", "gpc0=1 conn_cnt=1")
	waitLine(t, b2.tb, "/from-b", "gpc0=2")
}

// The accepting side answers the handshake with HAProxy's status codes.
func TestHandshakeStatus(t *testing.T) {
	la := listen(t)
	startNode(t, "a", la, map[string]string{"a": la.Addr().String(), "b": "127.0.0.1:1"}, "type ip size 10")
	for _, tc := range []struct{ hello, want string }{
		{"HAProxyS 2.1\na\nb 1 1\n", "200"},
		{"HAProxyS 2.0\na\nb 1 1\n", "200"},
		{"HAProxyS 2.2\na\nb 1 1\n", "502"},
		{"HAProxyS 3.0\na\nb 1 1\n", "502"},
		{"HAProxyS 2.x\na\nb 1 1\n", "502"},
		{"HTTP/1.1 200\n", "501"},
		{"HAProxyS 2.1\nnot-me\nb 1 1\n", "503"},
		{"HAProxyS 2.1\na\nstranger 1 1\n", "504"},
		{"HAProxyS 2.1\na\nb\n", "501"},
		{"HAProxyS 2.1\r\na\r\nb 1 1\r\n", "200"},
	} {
		c, err := net.Dial("tcp", la.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		c.Write([]byte(tc.hello))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.TrimSpace(line) != tc.want {
			t.Errorf("%q: got %q (%v), want %s", tc.hello, line, err, tc.want)
		}
	}
}

// A peer that sends a reserved class gets a protocol error and is cut.
func TestProtocolError(t *testing.T) {
	la := listen(t)
	startNode(t, "a", la, map[string]string{"a": la.Addr().String(), "b": "127.0.0.1:1"}, "type ip size 10")
	c, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	c.Write([]byte("HAProxyS 2.1\na\nb 1 1\n"))
	r := bufio.NewReader(c)
	if l, _ := r.ReadString('\n'); l != "200\n" {
		t.Fatalf("status %q", l)
	}
	c.Write([]byte{classReserved, 0})
	var got []byte
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if len(got) < 2 || got[len(got)-2] != classError || got[len(got)-1] != errProtocol {
		t.Errorf("got % x, want a protocol error at the end", got)
	}
}

// Stop does not wait for a peer that never ends its handshake.
func TestStopDuringHandshake(t *testing.T) {
	la := listen(t)
	n := startNode(t, "a", la, map[string]string{"a": la.Addr().String(), "b": "127.0.0.1:1"}, "type ip size 10")
	c, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("HAProxyS 2.1\n"))
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	n.sec.Stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
}

// A stopping node hands its table over to the node that took its local
// peer's address, which learns it without asking remote peers.
func TestHandOver(t *testing.T) {
	oldLn, newLn := listen(t), listen(t)
	def := "type ip size 10 expire 30s store gpc0"
	// The former node's local peer address is where the new one listens.
	old := startNode(t, "a", oldLn, map[string]string{"a": newLn.Addr().String(), "b": "127.0.0.1:1"}, def)
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		k, _ := old.tb.ParseKey(ip)
		e := old.tb.Get(&k)
		e.IncGPC0()
		e.Release()
	}
	time.Sleep(1200 * time.Millisecond)
	// The former node is up to date (its resync ended): it says so with
	// "finished" rather than "partial".
	old.sec.mu.Lock()
	old.sec.flags |= resyncLocal | resyncRemote
	old.sec.mu.Unlock()
	n := startNode(t, "a", newLn, map[string]string{"a": newLn.Addr().String(), "b": "127.0.0.1:1"}, def, func(c *Config) { c.WaitLocal = true })
	start := time.Now()
	old.sec.HandOver(3 * time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hand-over took %v", d)
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		waitLine(t, n.tb, ip, "gpc0=1")
		k, _ := n.tb.ParseKey(ip)
		e := n.tb.Lookup(&k)
		// the dates come along: about 1.2s already spent
		if exp := e.Expire() - n.tb.Now(); exp > 29000 || exp < 25000 {
			t.Errorf("%s: expires in %d ms", ip, exp)
		}
		e.Release()
	}
	n.sec.mu.Lock()
	flags := n.sec.flags
	n.sec.mu.Unlock()
	if flags&(resyncLocal|resyncRemote) != resyncLocal|resyncRemote {
		t.Errorf("resync flags %#x, want finished", flags)
	}
}

// Pause (SIGTTOU) stops listening: a peer's connection is refused, not
// left waiting. Resume (SIGTTIN) serves it again on the same socket.
func TestPauseRefusesPeers(t *testing.T) {
	// A port of its own: a socket bound to port 0 loses it when it stops
	// listening, and listens again on another one.
	l0 := listen(t)
	l0.Close()
	la, err := net.Listen("tcp", l0.Addr().String())
	if err != nil {
		t.Skip("port taken again:", err)
	}
	n := startNode(t, "a", la, map[string]string{"a": la.Addr().String(), "b": "127.0.0.1:1"}, "type ip size 10")
	hello := func() string {
		c, err := net.DialTimeout("tcp", la.Addr().String(), time.Second)
		if err != nil {
			return "refused"
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte("HAProxyS 2.1\na\nb 1 1\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	if got := hello(); got != "200\n" {
		t.Fatalf("before the pause: %q", got)
	}
	if !n.sec.Pause() {
		t.Fatal("no listener paused")
	}
	if got := hello(); got != "refused" {
		t.Errorf("paused: %q", got)
	}
	if !n.sec.Resume() {
		t.Fatal("no listener resumed")
	}
	if got := hello(); got != "200\n" {
		t.Errorf("resumed: %q", got)
	}
}
