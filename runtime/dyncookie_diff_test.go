package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDynamicCookieDifferential: with "cookie ... dynamic" and
// dynamic-cookie-key, servers without a cookie value get HAProxy's (a
// hash of the key and their address), requests carrying it go to them,
// and "set server ... addr" gives a server the value of its new address;
// side by side with HAProxy.
func TestDynamicCookieDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare with")
	}
	s1, s2, s3 := startEcho(t, "s1"), startEcho(t, "s2"), startEcho(t, "s3")
	s3port := s3.Addr()[strings.LastIndexByte(s3.Addr(), ':')+1:]
	get := func(fe, path, cookie string) (srv, setCookie string) {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req := "GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
		if cookie != "" {
			req += "Cookie: " + cookie + "\r\n"
		}
		io.WriteString(c, req+"\r\n")
		rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		return rsp.Header.Get("X-Server"), rsp.Header.Get("Set-Cookie")
	}
	for _, tc := range []struct{ name, key, cookie, path string }{
		{"insert", " dynamic-cookie-key s3cr3t\n", "cookie SRV insert indirect nocache dynamic", "/"},
		// The server sets JSESSIONID: its value is prefixed.
		{"prefix", " dynamic-cookie-key other\n", "cookie JSESSIONID prefix dynamic", "/setck"},
		{"no-key", "", "cookie SRV insert dynamic", "/"},
		{"fixed-value", " dynamic-cookie-key s3cr3t\n", "cookie SRV insert dynamic\n server s0 127.0.0.1:1 cookie zero disabled", "/"},
	} {
		run := func(start func(cfg, fe string)) string {
			fe := freePort(t)
			sock := filepath.Join(t.TempDir(), "cli.sock")
			start(fmtCfg("global\n stats socket %s level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n%sfrontend fe\n bind %s\n default_backend be\nbackend be\n balance roundrobin\n %s\n server s1 %s\n server s2 %s\n",
				sock, tc.key, fe, tc.cookie, s1.Addr(), s2.Addr()), fe)
			var out []string
			vals := map[string]string{}
			for range 4 {
				srv, sc := get(fe, tc.path, "")
				out = append(out, srv+" sets "+sc)
				if v, _, ok := strings.Cut(sc, ";"); ok {
					vals[srv] = v
				}
			}
			for _, srv := range []string{"s1", "s2"} {
				if v := vals[srv]; v != "" {
					got, _ := get(fe, tc.path, v)
					out = append(out, v+" goes to "+got)
				}
			}
			cliSend(t, "unix", sock, "set server be/s1 addr 127.0.0.1 port "+s3port+"\n")
			for range 2 {
				srv, sc := get(fe, tc.path, "")
				out = append(out, "after the move: "+srv+" sets "+sc)
			}
			// The CLI's changes, and its answers to bad commands.
			for _, cmd := range []string{"set dynamic-cookie-key backend be k2", "disable dynamic-cookie backend be",
				"enable dynamic-cookie backend be", "enable dynamic-cookie backend", "disable dynamic-cookie backend nope",
				"set dynamic-cookie-key backend be"} {
				ans := cliSend(t, "unix", sock, cmd+"\n")
				srv, sc := get(fe, tc.path, "")
				out = append(out, fmt.Sprintf("%s: %q, then %s sets %s", cmd, ans, srv, sc))
			}
			sort.Strings(out)
			return strings.Join(out, "\n")
		}
		ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
		if got != ref {
			t.Errorf("%s:\nhaproxy:\n%s\ngohap:\n%s", tc.name, ref, got)
		} else {
			t.Logf("%s: both\n%s", tc.name, ref)
		}
	}
}
