package runtime_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// http_first_req is true for the first request of a client connection
// only, through gohap as through haproxy.
func TestHTTPFirstReq(t *testing.T) {
	cfg := func(fe, fe2 string) string {
		return fmtCfg(baseDefaults+"frontend fe\n bind %s\n bind %s proto h2\n"+
			" http-request return status 200 hdr x-first \"%%[http_first_req]\" hdr x-acl %%[bool(1)] if { http_first_req }\n"+
			" http-request return status 200 hdr x-first \"%%[http_first_req]\"\n", fe, fe2)
	}
	run := func(fe string) []string {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		var out []string
		for i := 0; i < 3; i++ {
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			rsp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			rsp.Body.Close()
			out = append(out, rsp.Header.Get("x-first")+"/"+rsp.Header.Get("x-acl"))
		}
		return out
	}
	// HTTP/2 streams are never first (a "proto h2" bind, h2c).
	runH2 := func(fe string) []string {
		c := h2cClient(5 * time.Second)
		defer c.CloseIdleConnections()
		var out []string
		for i := 0; i < 2; i++ {
			r, err := c.Get("http://" + fe + "/")
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			out = append(out, r.Header.Get("x-first")+"/"+r.Header.Get("x-acl"))
		}
		return out
	}
	start := func(gohap bool) (string, string) {
		fe, fe2 := freePort(t), freePort(t)
		c := cfg(fe, fe2)
		if gohap {
			startGohap(t, c, nil)
		} else {
			startHAProxy(t, c, fe)
		}
		return strings.Join(run(fe), " "), strings.Join(runH2(fe2), " ")
	}
	got, got2 := start(true)
	if got != "1/1 0/ 0/" || got2 != "0/ 0/" {
		t.Errorf("gohap: %s, h2 %s; want 1/1 0/ 0/, h2 0/ 0/", got, got2)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	want, want2 := start(false)
	if got != want || got2 != want2 {
		t.Errorf("gohap %s, h2 %s; haproxy %s, h2 %s", got, got2, want, want2)
	}
}
