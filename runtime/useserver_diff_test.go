package runtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// use-server rules pick the server before the cookie and the balancer,
// pass over a stopped server, and may name it with a sample; the server
// fetches read its state. HAProxy and gohap answer the same requests the
// same way, in HTTP and in TCP mode.
func TestUseServerDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the routing with")
	}
	e1, e2, e3 := startEcho(t, "s1"), startEcho(t, "s2"), startEcho(t, "s3")
	run := func(start func(cfg, fe string)) []string {
		fe, tcp := freePort(t), freePort(t)
		cli := freePort(t)
		cfg := fmt.Sprintf(`global
 stats socket ipv4@%s level admin
defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend b
 http-response set-header x-fetch "%%[srv_queue(b/s1)] %%[srv_conn_free(b/s2)] %%[srv_iweight(b/s2)] %%[srv_uweight(b/s3)] %%[srv_is_up(b/s3)]"
 http-response set-header x-rate "%%[srv_sess_rate(b/s1)]"
backend b
 cookie SRV insert indirect nocache
 use-server s1 if { path /one }
 use-server s3 if { path /three }
 use-server s%%[req.hdr(x-srv)] if { req.hdr(x-srv) -m found }
 use-server s2 unless { path_beg /lb }
 server s1 %s cookie c1 weight 7
 server s2 %s cookie c2 maxconn 5 weight 3
 server s3 %s cookie c3 disabled
listen tcp
 bind %s
 mode tcp
 tcp-request inspect-delay 1s
 tcp-request content accept if { req.len gt 0 }
 use-server s2 if { req.payload(0,3) -m str GET }
 server s1 %s
 server s2 %s
`, cli, fe, e1.Addr(), e2.Addr(), e3.Addr(), tcp, e1.Addr(), e2.Addr())
		start(cfg, fe)
		var out []string
		for _, c := range []struct{ addr, req string }{
			{fe, "GET /one HTTP/1.1\r\nHost: x\r\nCookie: SRV=c2\r\nConnection: close\r\n\r\n"},
			{fe, "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{fe, "GET /x HTTP/1.1\r\nHost: x\r\nx-srv: 1\r\nConnection: close\r\n\r\n"},
			{fe, "GET /x HTTP/1.1\r\nHost: x\r\nx-srv: 9\r\nConnection: close\r\n\r\n"},
			{fe, "GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{fe, "GET /lb HTTP/1.1\r\nHost: x\r\nCookie: SRV=c1\r\nConnection: close\r\n\r\n"},
			{fe, "GET /lb HTTP/1.1\r\nHost: x\r\nCookie: SRV=c2\r\nConnection: close\r\n\r\n"},
			{tcp, "GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
			{tcp, "PUT /t HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		} {
			// The srv_conn_free readings count the streams in progress:
			// the previous one has ended, HAProxy sees the client's close
			// when it gets to it.
			waitServersIdle(t, cli, "b")
			st, srv, fetch := getHdr(t, c.addr, c.req, "x-fetch")
			line := strings.Fields(c.req)[0] + " " + strings.Fields(c.req)[1] + fmt.Sprintf(" -> %d %s %s", st, srv, fetch)
			out = append(out, line)
		}
		return out
	}
	var gohapFE string
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil); gohapFE = fe })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(got[0], "s1") || !strings.Contains(got[8], "s1") {
		t.Errorf("use-server did not route: %q", got)
	}
	// The session being served counts in its server's rate (a rate
	// read across a second boundary varies: not compared).
	if _, _, r := getHdr(t, gohapFE, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "x-rate"); r == "" || r == "0" {
		t.Errorf("srv_sess_rate during the first session is %q", r)
	}
}

// getHdr is get returning one more response header instead of the body.
func getHdr(t *testing.T, addr, raw, name string) (int, string, string) {
	t.Helper()
	resp, _ := roundTrip(t, addr, raw)
	return resp.StatusCode, resp.Header.Get("x-server"), resp.Header.Get(name)
}

// waitServersIdle waits until no server of backend be has a session in
// progress ("show stat" scur 0).
func waitServersIdle(t *testing.T, cli, be string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		busy := ""
		for _, l := range strings.Split(cliSend(t, "tcp", cli, "show stat\n"), "\n") {
			f := strings.Split(l, ",")
			if len(f) > 4 && f[0] == be && f[1] != "FRONTEND" && f[1] != "BACKEND" && f[4] != "0" {
				busy = l
			}
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a server stays busy: %s", busy)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
