package runtime_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNonStickDifferential: a "non-stick" server is never recorded by
// stick store rules ("stick" undoes a default-server's non-stick). Side
// by side with HAProxy: the answers' servers and show table.
func TestNonStickDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	for _, c := range []struct{ name, servers string }{
		{"non-stick", "server s1 %s non-stick\n    server s2 %s"},
		{"default-non-stick", "default-server non-stick\n    server s1 %s\n    server s2 %s stick"},
		{"none", "server s1 %s\n    server s2 %s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := nonStickRun(t, c.servers, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := nonStickRun(t, c.servers, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			t.Logf("%s", h)
			if g != h {
				t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
			}
		})
	}
}

// tableExp masks what differs from run to run: expiry and entry address.
var tableExp = regexp.MustCompile(` exp=\d+|0x[0-9a-f]+:`)

func nonStickRun(t *testing.T, servers string, start func(cfg, fe string)) string {
	s1, s2 := startEcho(t, "s1"), startEcho(t, "s2")
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind %s
    default_backend b
backend b
    stick-table type string len 32 size 10 expire 1m
    stick store-request req.hdr(x-k)
    `+servers+`
`, sock, fe, s1.Addr(), s2.Addr()), fe)
	var got []string
	for _, k := range []string{"a", "b", "c"} {
		_, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nx-k: "+k+"\r\nConnection: close\r\n\r\n")
		got = append(got, srv)
	}
	table := tableExp.ReplaceAllString(cliSend(t, "unix", sock, "show table b\n"), "")
	return strings.Join(got, ",") + " | " + strings.ReplaceAll(table, "\n", " ")
}
