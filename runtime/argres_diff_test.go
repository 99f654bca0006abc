package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// argStatus sends a GET for path and returns the answer's status code
// and whether its body holds mark.
func argStatus(t *testing.T, fe, path, mark string) string {
	t.Helper()
	c := dialRaw(t, fe)
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error"
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if mark != "" {
		return fmt.Sprintf("%d:%v", rsp.StatusCode, strings.Contains(string(body), mark))
	}
	return fmt.Sprint(rsp.StatusCode)
}

// startArgres starts a frontend f with the lines feLines, its backend b
// and a backend other, both with one server, and a CLI socket; it returns
// the frontend's address and the socket's path.
func startArgres(t *testing.T, start func(cfg, fe string), feLines string) (string, string) {
	up := serveRequests(t, func(c net.Conn, _ *http.Request) {
		c.Write([]byte("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
	})
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
%sfrontend f
    bind %s
%s    default_backend b
backend b
    server s %s
backend other
    server o %s
`, sock, diffDefaults, fe, feLines, up, up), fe)
	return fe, sock
}

// The backend a monitor fail condition names is the one it reads: the
// monitor URI fails once that backend has no usable server, whatever
// the frontend's own backend has.
func TestMonitorFailBackendArgDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for monitor fail")
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		fe, sock := startArgres(t, start, "    monitor-uri /health\n    monitor fail if { nbsrv(other) lt 1 }\n")
		var out []string
		out = append(out, argStatus(t, fe, "/health", ""))
		cliSend(t, "unix", sock, "disable server other/o\n")
		out = append(out, argStatus(t, fe, "/health", ""), argStatus(t, fe, "/x", ""))
		cliSend(t, "unix", sock, "enable server other/o\n")
		out = append(out, argStatus(t, fe, "/health", ""))
		return strings.Join(out, " ")
	})
}

// stats admin reads the backend and server its condition names: the page
// offers the admin form only while other/o is up and b has no
// connection.
func TestStatsAdminBackendArgDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for stats admin")
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		fe, sock := startArgres(t, start, "    stats enable\n    stats uri /st\n    stats admin if { srv_is_up(other/o) } { be_conn(b) eq 0 }\n")
		const form = "Choose the action to perform"
		var out []string
		out = append(out, argStatus(t, fe, "/st", form))
		cliSend(t, "unix", sock, "disable server other/o\n")
		out = append(out, argStatus(t, fe, "/st", form))
		cliSend(t, "unix", sock, "enable server other/o\n")
		out = append(out, argStatus(t, fe, "/st", form))
		return strings.Join(out, " ")
	})
}

// The ACLs of a named defaults section serve its own rules, which its
// frontends run first; a frontend's rules see its own ACLs, even one of
// the same name.
func TestDefaultsACLsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for defaults ACLs")
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		up := serveRequests(t, func(c net.Conn, _ *http.Request) {
			c.Write([]byte("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
		})
		fe := freePort(t)
		start(fmt.Sprintf(`defaults d1
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    acl blocked path /b
    acl rej req.hdr(x-rej) -m found
    tcp-request inspect-delay 1s
    tcp-request content reject if rej
    http-request deny deny_status 403 if blocked
frontend f from d1
    bind %s
    acl blocked path /x
    http-request deny deny_status 401 if blocked
    default_backend b
%sbackend b
    server s %s
`, fe, diffDefaults, up), fe)
		var out []string
		for _, p := range []string{"/b", "/x", "/y"} {
			out = append(out, argStatus(t, fe, p, ""))
		}
		c := dialRaw(t, fe)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Rej: 1\r\n\r\n")
		b, _ := io.ReadAll(c)
		out = append(out, fmt.Sprintf("rej:%d", len(b)))
		return strings.Join(out, " ")
	})
}
