package runtime_test

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// In mode tcp, use_backend rules choose the backend from what the
// connection shows (its addresses), before any byte is relayed.
func TestTCPUseBackend(t *testing.T) {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	fe, fe2 := freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe
 mode tcp
 bind %s
 bind %s
 use_backend b2 if { dst_port %s }
 use_backend b1 if { src 10.0.0.0/8 }
 default_backend b1
backend b1
 mode tcp
 server s1 %s
backend b2
 mode tcp
 server s2 %s
`, fe, fe2, fe2[strings.LastIndexByte(fe2, ':')+1:], s1.Addr(), s2.Addr()), nil)
	for addr, want := range map[string]string{fe: "s1", fe2: "s2"} {
		st, srv, _ := get(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if st != 200 || srv != want {
			t.Errorf("%s: status %d from server %q, want %s", addr, st, srv, want)
		}
	}
}

// A server without a port, or with "+N", takes the port the client
// connected to, plus N, in both modes.
func TestServerPortFromClient(t *testing.T) {
	s1, err := startEchoAt("s1", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	t.Cleanup(s1.Close)
	_, port, _ := strings.Cut(s1.Addr(), ":")
	n, _ := strconv.Atoi(port)
	fe2 := freePort(t)
	_, p2, _ := strings.Cut(fe2, ":")
	n2, _ := strconv.Atoi(p2)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe
 mode http
 bind 127.0.0.1:%d
 default_backend b1
frontend fe2
 mode tcp
 bind %s
 default_backend b2
backend b1
 mode http
 server s1 127.0.0.2
backend b2
 mode tcp
 server s1 127.0.0.2:%+d
`, n, fe2, n-n2), nil)
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", n), fe2} {
		st, srv, _ := get(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if st != 200 || srv != "s1" {
			t.Errorf("%s: status %d from server %q, want 200 from s1", addr, st, srv)
		}
	}
}

// tcp-request content rules see what the client sends within the
// inspection delay; a reject closes the connection before any server
// is used, tcp-request connection rules act at accept.
func TestTCPRequestContentRules(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe, fe2 := freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe
 mode tcp
 bind %s
 tcp-request inspect-delay 2s
 tcp-request content reject if { req.payload(0,4) -m str PUT\  }
 tcp-request content set-var(sess.m) req.payload(0,3)
 tcp-request content accept if { req.len ge 16 }
 tcp-request content reject
 default_backend b1
frontend fe2
 mode tcp
 bind %s
 tcp-request connection reject if { src 127.0.0.1 }
 default_backend b1
backend b1
 mode tcp
 server s1 %s
`, fe, fe2, s1.Addr()), nil)
	if st, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); st != 200 || srv != "s1" {
		t.Errorf("GET: status %d from %q, want 200 from s1", st, srv)
	}
	// The request comes in two parts: the rules wait for the second.
	c, err := net.Dial("tcp", fe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HT")
	time.Sleep(100 * time.Millisecond)
	io.WriteString(c, "TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if b, _ := io.ReadAll(c); !strings.HasPrefix(string(b), "HTTP/1.1 200") {
		t.Errorf("split request: got %q", b)
	}
	for _, addr := range []string{fe, fe2} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			// A connection reset at accept can reach the dial.
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) != 0 {
			t.Errorf("%s: rejected connection got %q", addr, b)
		}
	}
}

// tcp-response content rules see the server's first bytes before the
// client does.
func TestTCPResponseContentRules(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`frontend fe
 mode tcp
 bind %s
 default_backend b1
backend b1
 mode tcp
 tcp-response inspect-delay 2s
 tcp-response content reject if { res.payload(0,12) -m str "HTTP/1.1 404" }
 server s1 %s
`, fe, s1.Addr()), nil)
	if st, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); st != 200 || srv != "s1" {
		t.Errorf("GET: status %d from %q, want 200 from s1", st, srv)
	}
	c, err := net.Dial("tcp", fe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /status/404 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("rejected response reached the client: %q", b)
	}
}
