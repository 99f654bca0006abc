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
	out := settledTable(t, sock, "fe")
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
	// The third one is reset, maybe before the dial completes.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		if echoes(c) {
			t.Fatal("third connection served")
		}
		c.Close()
	}
	open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(3 * time.Second)
	for {
		ok := false
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			ok = echoes(c)
			c.Close()
		}
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

// TestStickDifferential runs the same requests through HAProxy and gohap
// with tables that count, limit and persist, and compares the statuses,
// the servers and the "show table" lines. Entry addresses differ and
// expiry dates depend on timing, so both are left out.
func TestStickDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for stick tables")
	}
	a, b := startEcho(t, "a"), startEcho(t, "b")
	const rules = ` stick-table type ip size 100 expire 30s store http_req_cnt,http_req_rate(10s),http_err_cnt,http_fail_cnt,gpc0,gpc1,gpt0,conn_cnt,conn_cur,sess_cnt
 tcp-request session track-sc2 src
 http-request track-sc0 src
 http-request track-sc1 req.hdr(x-user) table users if { req.hdr(x-user) -m found }
 http-request sc-inc-gpc0(0) if { path /inc }
 http-request sc-inc-gpc1(1) if { path /inc }
 http-request sc-set-gpt0(0) 42 if { path /gpt }
 http-request deny deny_status 429 if { sc_http_req_rate(0) gt 8 }
 http-request return status 200 content-type text/plain lf-string "%[sc_get_gpc0(0)] %[sc1_get_gpc1] %[sc_http_req_cnt(0)] %[src_conn_cur] %[sc_get_gpt0(0)]" if { path /read }
 http-request return status 404 if { path /missing }
 http-response sc-inc-gpc1(0) if { status 200 }
 use_backend empty if { path /nosrv }
`
	// /nosrv gets the proxy's 503 for want of a server: no failure.
	reqs := []string{"/", "/nosrv", "/inc", "/inc", "/gpt", "/read", "/missing", "/", "/inc", "/read", "/", "/"}
	run := func(start func(cfg, fe string), sock string) []string {
		fe := freePort(t)
		start(fmtCfg("global\n stats socket %s level admin\n"+baseDefaults+
			"frontend fe\n bind %s\n%s default_backend be\n"+
			"backend users\n stick-table type string len 16 size 10 store gpc1,http_req_cnt\n"+
			"backend empty\n"+
			"backend be\n balance roundrobin\n stick-table type ip size 10 expire 30s\n stick on src\n server s1 %s\n server s2 %s\n",
			sock, fe, rules, a.Addr(), b.Addr()), fe)
		var out []string
		for i, p := range reqs {
			hdr := ""
			if i%2 == 0 {
				hdr = "x-user: bob\r\n"
			}
			st, srv, body := get(t, fe, "GET "+p+" HTTP/1.1\r\nhost: x\r\n"+hdr+"connection: close\r\n\r\n")
			if !strings.HasPrefix(p, "/read") {
				body = ""
			}
			out = append(out, fmtCfg("%s => %d %s %s", p, st, srv, body))
		}
		settledTable(t, sock, "fe")
		idRe := regexp.MustCompile(`^0x[0-9a-f]+: | exp=\d+`)
		for _, tb := range []string{"", " fe", " be", " users"} {
			for _, l := range strings.Split(cliSend(t, "tcp", sock, "show table"+tb+"\n"), "\n") {
				out = append(out, "show table"+tb+": "+idRe.ReplaceAllString(l, ""))
			}
		}
		return out
	}
	sock1, sock2 := freePort(t), freePort(t)
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }, sock1)
	got := run(func(cfg, fe string) {
		startGohap(t, cfg, nil)
		// startHAProxy's readiness probe is a connection closed
		// without a request, which the tables count: the same here.
		if c, err := net.Dial("tcp", fe); err == nil {
			c.Close()
		}
	}, sock2)
	agree := sameLines(t, ref, got)
	t.Logf("stick tables: %d of %d lines agree with haproxy", agree, len(ref))
}

// settledTable returns "show table <name>" once no entry is in use: the
// last streams release their entries as their connections end, which a
// client need not wait for.
func settledTable(t *testing.T, sock, name string) string {
	busy := regexp.MustCompile(` use=[1-9]`)
	out := ""
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if out = cliSend(t, "tcp", sock, "show table "+name+"\n"); !busy.MatchString(out) {
			break
		}
	}
	return out
}
