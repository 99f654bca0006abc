package runtime_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStickRateLimit: the classic rate limit answers 429 once the
// tracked request rate passes the limit, and "show table" shows it.
func TestStickRateLimit(t *testing.T) {
	be := startEcho(t, "a")
	addr, sock := freePort(t), freePort(t)
	cfg := fmtCfg(`global
    stats socket %s level admin
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind %s
    stick-table type ip size 1m expire 10s store http_req_rate(10s),http_err_cnt,conn_cur
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 3 }
    default_backend be
backend be
    server s1 %s
`, sock, addr, be.Addr())
	startGohap(t, cfg, nil)
	var got []int
	for i := 0; i < 6; i++ {
		st, _, _ := get(t, addr, "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
		got = append(got, st)
	}
	want := []int{200, 200, 200, 429, 429, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	out := cliSend(t, "tcp", sock, "show table fe\n")
	re := regexp.MustCompile(`key=127\.0\.0\.1 use=0 exp=\d+ conn_cur=0 http_req_rate\(10000\)=6 http_err_cnt=3\n`)
	if !strings.HasPrefix(out, "# table: fe, type: ip, size:1048576, used:1\n") || !re.MatchString(out) {
		t.Fatalf("show table fe:\n%s", out)
	}
	if out := cliSend(t, "tcp", sock, "show table\n"); out != "# table: fe, type: ip, size:1048576, used:1\n\n" {
		t.Fatalf("show table:\n%q", out)
	}
	if out := cliSend(t, "tcp", sock, "clear table fe\n"); out != "\n" {
		t.Fatalf("clear table: %q", out)
	}
	if st, _, _ := get(t, addr, "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"); st != 200 {
		t.Fatalf("after clear table: %d", st)
	}
}

// TestStickConnCur: tcp-request connection tracking refuses a client
// with too many connections open, and releases the count on close.
func TestStickConnCur(t *testing.T) {
	be := startEcho(t, "a")
	addr := freePort(t)
	cfg := fmtCfg(`defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind %s
    stick-table type ip size 100 store conn_cur
    tcp-request connection track-sc0 src
    tcp-request connection reject if { src_conn_cur gt 2 }
    default_backend be
backend be
    server s1 %s
`, addr, be.Addr())
	startGohap(t, cfg, nil)
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	// Two connections held open through the tunnel.
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		if !echoes(c) {
			t.Fatalf("connection %d refused", i)
		}
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if echoes(c) {
		t.Fatal("third connection served")
	}
	c.Close()
	open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ok := echoes(c)
		c.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("conn_cur never went down")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// echoes reports whether an HTTP request through c gets an answer.
func echoes(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nhost: x\r\n\r\n")); err != nil {
		return false
	}
	b := make([]byte, 12)
	n, _ := c.Read(b)
	return n > 0 && strings.HasPrefix(string(b[:n]), "HTTP/1.1")
}

// TestStickGPC0: sc-inc-gpc0 counts on the tracked entry and the sc
// fetches read it back.
func TestStickGPC0(t *testing.T) {
	be := startEcho(t, "a")
	addr := freePort(t)
	cfg := fmtCfg(`defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind %s
    stick-table type ip size 100 store gpc0,gpt0
    http-request track-sc1 src
    http-request sc-inc-gpc0(1) if { path /inc }
    http-request sc-set-gpt0(1) 7 if { path /gpt }
    http-request return status 200 content-type text/plain lf-string "gpc0=%%[sc1_get_gpc0] gpt0=%%[sc_get_gpt0(1)]" if { path /read }
    default_backend be
backend be
    server s1 %s
`, addr, be.Addr())
	startGohap(t, cfg, nil)
	for _, p := range []string{"/inc", "/inc", "/gpt", "/inc"} {
		get(t, addr, "GET "+p+" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
	}
	if _, _, body := get(t, addr, "GET /read HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"); body != "gpc0=3 gpt0=7" {
		t.Fatalf("body %q", body)
	}
}

// TestStickOnSrc: "stick on src" sends a client back to the server it
// had, across connections, and elsewhere once that server is down.
func TestStickOnSrc(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	addr, sock := freePort(t), freePort(t)
	cfg := fmtCfg(`global
    stats socket %s level admin
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen app
    bind %s
    balance roundrobin
    stick-table type ip size 100 expire 1m
    stick on src
    server s1 %s
    server s2 %s
`, sock, addr, a.Addr(), b.Addr())
	startGohap(t, cfg, nil)
	req := "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
	_, first, _ := get(t, addr, req)
	for i := 0; i < 4; i++ {
		if _, srv, _ := get(t, addr, req); srv != first {
			t.Fatalf("request %d went to %q, not %q", i, srv, first)
		}
	}
	out := cliSend(t, "tcp", sock, "show table app\n")
	id := map[string]string{"a": "1", "b": "2"}[first]
	if !strings.Contains(out, " server_id="+id+" server_key=s"+id+"\n") {
		t.Fatalf("show table app:\n%s", out)
	}
	cliSend(t, "tcp", sock, "disable server app/s"+id+"\n")
	_, other, _ := get(t, addr, req)
	if other == first || other == "" {
		t.Fatalf("server down: went to %q", other)
	}
	// The entry now names the other server.
	if _, srv, _ := get(t, addr, req); srv != other {
		t.Fatalf("after the fallback: %q, want %q", srv, other)
	}
}

// TestStickTCPMode: persistence in a mode tcp backend.
func TestStickTCPMode(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	addr := freePort(t)
	cfg := fmtCfg(`defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen app
    bind %s
    stick-table type ip size 100 expire 1m
    stick on src
    server s1 %s
    server s2 %s
`, addr, a.Addr(), b.Addr())
	startGohap(t, cfg, nil)
	req := "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
	_, first, _ := get(t, addr, req)
	for i := 0; i < 4; i++ {
		if _, srv, _ := get(t, addr, req); srv != first {
			t.Fatalf("connection %d went to %q, not %q", i, srv, first)
		}
	}
}
