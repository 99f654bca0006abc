package runtime_test

import (
	"strings"
	"testing"
	"time"
)

// A frontend and a backend named "web" inherit from different defaults
// sections and keep their own rules; "from" picks an earlier section.
func TestInheritanceOnTraffic(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(`defaults a
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 cookie A insert
frontend web
 bind %s
 reqadd X-Fe:\ 1
 use_backend api if { path_beg /api }
 default_backend web
defaults b
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 option httpclose
backend web
 no option httpclose
 reqadd X-Be:\ 1
 server s1 %s cookie w
backend api from a
 server s1 %s cookie p
`, fe, s1.Addr(), s1.Addr()), nil)
	got, closed := exchange(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET", "GET"}, 5*time.Second)
	if strings.Count(got, "HTTP/1.1 200") != 2 || closed {
		t.Fatalf("backend web should keep the connection alive (no option httpclose): closed=%v\n%s", closed, got)
	}
	// The frontend's filter and the backend's each run once.
	if n, m := strings.Count(strings.ToLower(got), "x-fe: 1"), strings.Count(strings.ToLower(got), "x-be: 1"); n != 2 || m != 2 {
		t.Errorf("x-fe %d, x-be %d times in two requests:\n%s", n, m, got)
	}
	// Backend web inherits from b, which has no cookie.
	if strings.Contains(strings.ToLower(got), "set-cookie") {
		t.Errorf("backend web inserted a cookie of defaults a:\n%s", got)
	}
	got, _ = exchange(t, fe, "GET /api HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 5*time.Second)
	if !strings.Contains(strings.ToLower(got), "set-cookie: a=p") {
		t.Errorf("backend api from a should insert cookie A:\n%s", got)
	}
}
