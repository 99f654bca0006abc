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
	cfg := func(fe string) string {
		return fmtCfg(baseDefaults+"frontend fe\n bind %s\n"+
			" http-request return status 200 hdr x-first \"%%[http_first_req]\" hdr x-acl %%[bool(1)] if { http_first_req }\n"+
			" http-request return status 200 hdr x-first \"%%[http_first_req]\"\n", fe)
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
	fe := freePort(t)
	startGohap(t, cfg(fe), nil)
	got := strings.Join(run(fe), " ")
	if got != "1/1 0/ 0/" {
		t.Errorf("gohap: %s, want 1/1 0/ 0/", got)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	ref := freePort(t)
	startHAProxy(t, cfg(ref), ref)
	if want := strings.Join(run(ref), " "); got != want {
		t.Errorf("gohap %s, haproxy %s", got, want)
	}
}
