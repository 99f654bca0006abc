package runtime_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Server switches: disabled and enabled (also from default-server),
// no-check, and addr, the address checks go to.
func TestServerSwitches(t *testing.T) {
	a, b, c := startEcho(t, "a"), startEcho(t, "b"), startEcho(t, "c")
	dead := freePort(t)
	_, cport, _ := net.SplitHostPort(c.Addr())
	fe := freePort(t)
	e := startGohap(t, fmtCfg(baseDefaults+`frontend fe
 bind %s
 default_backend be
backend be
 default-server disabled
 server a %s
 server b %s enabled
backend bk
 default-server check inter 50ms rise 1 fall 1
 server dead %s
 server nochk %s no-check
 server viaaddr 127.0.0.2:%s addr 127.0.0.1
`, fe, a.Addr(), b.Addr(), dead, dead, cport), nil)
	for i := 0; i < 4; i++ {
		if st, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); st != 200 || srv != "b" {
			t.Fatalf("request %d: %d from %q, want b (a is disabled)", i, st, srv)
		}
	}
	time.Sleep(400 * time.Millisecond)
	got := map[string]string{}
	for _, be := range e.Snapshot() {
		for _, s := range be.Servers {
			got[s.Name] = s.State
		}
	}
	want := map[string]string{"a": "MAINT", "b": "UP", "dead": "DOWN", "nochk": "UP", "viaaddr": "UP"}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("server %s: %s, want %s (all: %v)", n, got[n], w, got)
		}
	}
}

// minconn with fullconn: at a low load a server takes minconn requests
// at once and queues the next.
func TestServerMinconn(t *testing.T) {
	a := startEcho(t, "a")
	fe := freePort(t)
	e := startGohap(t, fmtCfg(baseDefaults+`frontend fe
 bind %s
 default_backend be
backend be
 fullconn 100
 timeout queue 5s
 server a %s minconn 1 maxconn 10
`, fe, a.Addr()), nil)
	done := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			st, _, _ := get(t, fe, "GET /sleep/400 HTTP/1.1\r\nHost: x\r\n\r\n")
			done <- st
		}()
	}
	time.Sleep(150 * time.Millisecond)
	snap := e.Snapshot()[0]
	if s := snap.Servers[0]; s.Sessions != 1 || snap.Queue != 1 {
		t.Errorf("want 1 request on a and 1 queued: sessions %d, queue %d", s.Sessions, snap.Queue)
	}
	for i := 0; i < 2; i++ {
		if st := <-done; st != 200 {
			t.Errorf("status %d", st)
		}
	}
}

// option tcpka arms TCP keep-alive on both sides of a proxy, srvtcpka on
// the server side only: the kernel shows its keep-alive timer ("02")
// on the sockets of an idle keep-alive connection.
func TestTCPKeepAliveServerSide(t *testing.T) {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	fe, fe2 := freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe
 bind %s
 default_backend bs
backend bs
 option srvtcpka
 server s1 %s
listen lt
 bind %s
 option tcpka
 server s2 %s
`, fe, s1.Addr(), fe2, s2.Addr()), nil)
	var got []string
	for _, x := range []struct{ fe, srv string }{{fe, s1.Addr()}, {fe2, s2.Addr()}} {
		c, err := net.Dial("tcp", x.fe)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		time.Sleep(100 * time.Millisecond)
		got = append(got, procTimer(t, x.fe, c.LocalAddr().String()), procTimer(t, "", x.srv))
	}
	if strings.Join(got, " ") != "00 02 02 02" {
		t.Errorf("keep-alive timers (client side, server side): srvtcpka %v, tcpka %v; want 00 02, 02 02", got[:2], got[2:])
	}
}
