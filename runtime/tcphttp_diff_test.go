package runtime_test

import (
	"io"
	"net"
	"testing"
	"time"
)

// HTTP fetches in a TCP frontend's tcp-request content rules read the
// request its data starts with, once the head is whole: a rule waits for
// it within the inspection delay, as HAProxy's does, here with the head
// sent in two parts.
func TestTCPContentHTTPFetchesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the rules")
	}
	up := startEcho(t, "s1")
	cfg := "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n tcp-request inspect-delay 2s\n tcp-request content reject if { path_beg /deny }\n tcp-request content reject if { req.hdr(x-no) -m found }\n default_backend be\nbackend be\n server s1 %s\n"
	send := func(addr string, parts ...string) string {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i, p := range parts {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			io.WriteString(c, p)
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		if len(b) > 12 {
			b = b[:12]
		}
		return string(b)
	}
	cases := [][]string{
		{"GET /de", "ny HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{"GET /ok", " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{"GET /ok HTTP/1.1\r\nHost: a\r\n", "X-No: 1\r\nConnection: close\r\n\r\n"},
		{"GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	}
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmtCfg(cfg, fe, up.Addr()), fe)
		var out []string
		for _, c := range cases {
			out = append(out, send(fe, c...))
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for i := range ref {
		if got[i] != ref[i] {
			t.Errorf("%q: haproxy %q, gohap %q", cases[i], ref[i], got[i])
		}
	}
}
