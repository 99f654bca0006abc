package runtime_test

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A disabled proxy is checked but not started: a disabled frontend does
// not listen, a disabled backend answers 503 with no server (logged
// -1 for its request time, as HAProxy refuses the stream early), and
// neither is in "show stat"; "enabled" reverts a disabled defaults
// section. HAProxy alongside.
func TestDisabledProxy(t *testing.T) {
	run := func(start func(cfg, fe string)) string {
		up := startEcho(t, "up")
		sink := newLogSink(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		f, g, h := freePort(t), freePort(t), freePort(t)
		start(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind %s
    log %s local0
    log-format "%%b/%%s %%TR/%%Tw/%%Tc/%%Tr %%ST %%tsc"
    option dontlognull
    use_backend b if { path /b }
    default_backend c
backend b
    disabled
    server s %s
backend c
    server s %s
frontend g
    disabled
    bind %s
    default_backend c
defaults
    mode http
    disabled
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend h
    enabled
    bind %s
    default_backend c
`, sock, f, sink.addr(), up.Addr(), up.Addr(), g, h), f)
		var out []string
		for _, u := range []string{"http://" + f + "/b", "http://" + f + "/c", "http://" + h + "/"} {
			c := dial(t, strings.Split(u, "/")[2])
			c.send("GET /" + strings.SplitN(u, "/", 4)[3] + " HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, _ := c.read("GET")
			out = append(out, fmt.Sprintf("%s %d", u[len("http://"+f):], resp.StatusCode))
		}
		if c, err := net.DialTimeout("tcp", g, time.Second); err == nil {
			c.Close()
			out = append(out, "g listens")
		} else {
			out = append(out, "g refuses")
		}
		// The two requests' lines may come in either order.
		var lines []string
		for i := 0; i < 2; i++ {
			l, _ := sink.next(3 * time.Second)
			l = logHeader.ReplaceAllString(l, "")
			// Timers only say whether each step happened: under load a
			// connect may take a millisecond.
			if f := strings.SplitN(l, " ", 3); len(f) == 3 {
				f[1] = regexp.MustCompile(`\d+`).ReplaceAllString(f[1], "N")
				l = strings.Join(f, " ")
			}
			lines = append(lines, l)
		}
		sort.Strings(lines)
		out = append(out, lines...)
		for _, l := range strings.Split(cliSend(t, "unix", sock, "show stat\n"), "\n") {
			if f := strings.SplitN(l, ",", 3); len(f) == 3 && !strings.HasPrefix(l, "#") {
				out = append(out, f[0]+","+f[1])
			}
		}
		return strings.Join(out, "\n")
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for _, want := range []string{"/b 503", "/c 200", "g refuses", "b/<NOSRV> -N/-N/-N/-N 503 SC--", "c/s N/N/N/N 200 --", "h,FRONTEND"} {
		if !strings.Contains(got, want) {
			t.Errorf("gohap lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"b,BACKEND", "g,FRONTEND"} {
		if strings.Contains(got, not) {
			t.Errorf("show stat lists %q:\n%s", not, got)
		}
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
	if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); ref != got {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, ref)
	}
}

// What a disabled backend names is not checked, as HAProxy checks
// nothing of it: a use-server rule naming a server it does not have, a
// stick rule naming no table, a capture slot no frontend declared and an
// unresolvable server leave the configuration valid, and routed to, the
// backend answers 503 (HAProxy 2.6.12's worker crashes on that
// use-server rule, so gohap is alone here).
func TestDisabledBackendUnchecked(t *testing.T) {
	up := startEcho(t, "up")
	fe := freePort(t)
	startGohap(t, diffDefaults+fmt.Sprintf(`frontend f
    bind %s
    use_backend b if { path /b }
    default_backend c
backend c
    server up %s
backend b
    disabled
    server s nosuchhost.invalid:80
    server s2 127.0.0.1 check
    use-server nosrv if TRUE
    stick on src table nosuchtable
    http-request capture req.hdr(host) id 3
`, fe, up.Addr()), nil)
	if status, server, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); status != 200 || server != "up" {
		t.Fatalf("default backend: %d from %q", status, server)
	}
	if status, _, _ := get(t, fe, "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); status != 503 {
		t.Fatalf("disabled backend: %d, want 503", status)
	}
}
