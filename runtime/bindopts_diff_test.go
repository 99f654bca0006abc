package runtime_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/runtime"
)

// bindStart starts a configuration whose first bind is fe and reports
// what the process said at start (its alerts and warnings, pids and the
// configuration's directory masked) and whether it runs. gohap runs in
// process; HAProxy as a process, killed with the test.
func bindStart(t *testing.T, haproxy bool, text string) (said string, up bool) {
	t.Helper()
	clean := func(s string) string {
		s = regexp.MustCompile(`\S*/haproxy\.cfg`).ReplaceAllString(s, "haproxy.cfg")
		s = regexp.MustCompile(`:\d+\]`).ReplaceAllString(s, ":PORT]")
		return regexp.MustCompile(`\(\d+\) : `).ReplaceAllString(s, ": ")
	}
	if haproxy {
		out := &lockedBuffer{}
		cmd := exec.Command(haproxyBin(), "-db", "-f", writeCfg(t, text))
		cmd.Stderr, cmd.Stdout = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		select {
		case <-exited:
		case <-time.After(700 * time.Millisecond):
			up = true
		}
		var lines []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "[ALERT]") || strings.HasPrefix(l, "[WARNING]") {
				if !strings.Contains(l, "Some protocols failed") {
					lines = append(lines, clean(l))
				}
			}
		}
		return strings.Join(lines, "\n"), up
	}
	core, logs := observer.New(zap.WarnLevel)
	e := runtime.NewEngine(compileText(t, text), zap.New(core))
	var lines []string
	err := e.Start()
	for _, l := range logs.All() {
		lines = append(lines, "[WARNING]  : "+clean(l.Message))
	}
	if err != nil {
		lines = append(lines, "[ALERT]    : "+clean(err.Error()))
		return strings.Join(lines, "\n"), false
	}
	t.Cleanup(func() { e.Stop(); e.Wait() })
	return strings.Join(lines, "\n"), true
}

// TestBindSocketOptionsDifferential: the bind options that shape the
// listening socket act as in HAProxy: "transparent" binds an address
// that is not local (refused without it, with HAProxy's alert),
// "interface" with a device that does not exist warns and listens,
// "v6only" keeps IPv4 clients off a wildcard IPv6 socket, "mss" is the
// segment size the clients see, "defer-accept" leaves a connection
// that sends nothing unaccepted, and "maxconn" holds the next client
// until a slot frees.
func TestBindSocketOptionsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	up := serveRequests(t, func(c net.Conn, _ *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
	})
	type result struct{ said, probe string }
	cases := []struct {
		name  string
		bind  string // %s is the port
		probe func(t *testing.T, port, sock string) string
	}{
		{"foreign", "192.0.2.1:%s", nil},
		{"transparent", "192.0.2.1:%s transparent", nil},
		{"interface", "127.0.0.1:%s interface nosuch0", func(t *testing.T, port, _ string) string { return fetch(t, "127.0.0.1:"+port) }},
		{"dual", ":::%s", func(t *testing.T, port, _ string) string {
			return fetch(t, "127.0.0.1:"+port) + " " + fetch(t, "[::1]:"+port)
		}},
		{"v6only", ":::%s v6only", func(t *testing.T, port, _ string) string {
			return fetch(t, "127.0.0.1:"+port) + " " + fetch(t, "[::1]:"+port)
		}},
		{"mss", "127.0.0.1:%s mss 1000", func(t *testing.T, port, _ string) string {
			c := dialRaw(t, "127.0.0.1:"+port)
			rc, _ := c.(*net.TCPConn).SyscallConn()
			var mss int
			rc.Control(func(fd uintptr) { mss, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG) })
			return fmt.Sprint("client mss ", mss)
		}},
		{"defer-accept", "127.0.0.1:%s defer-accept", func(t *testing.T, port, sock string) string {
			// A client that sends nothing is not accepted yet.
			c := dialRaw(t, "127.0.0.1:"+port)
			time.Sleep(300 * time.Millisecond)
			r := statRow(cliSend(t, "unix", sock, "show stat\n"), "fe", "FRONTEND")
			c.Close()
			return "silent client: stot=" + r["stot"] + "; " + fetch(t, "127.0.0.1:"+port)
		}},
		{"maxconn", "127.0.0.1:%s maxconn 1", func(t *testing.T, port, _ string) string {
			held := dialRaw(t, "127.0.0.1:"+port)
			io.WriteString(held, "GET / HTTP/1.1\r\n")
			time.Sleep(100 * time.Millisecond)
			c := dialRaw(t, "127.0.0.1:"+port)
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			first := "answered"
			if isTimeoutErr(err) {
				first = "held"
			}
			held.Close()
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			b, _ := io.ReadAll(c)
			then := "nothing"
			if bytes.HasPrefix(b, []byte("HTTP/1.1 200")) {
				then = "200"
			}
			return first + ", then " + then
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res [2]result
			for i, haproxy := range []bool{false, true} {
				port := freePort(t)
				_, p, _ := net.SplitHostPort(port)
				sock := filepath.Join(t.TempDir(), "s.sock")
				text := fmt.Sprintf("global\n    stats socket %s level admin\n%sfrontend fe\n    bind %s\n    default_backend be\nbackend be\n    server s %s\n",
					sock, diffDefaults, fmt.Sprintf(tc.bind, p), up)
				said, running := bindStart(t, haproxy, text)
				res[i].said = said
				if !running {
					res[i].probe = "not running"
				} else if tc.probe != nil {
					res[i].probe = tc.probe(t, p, sock)
				}
			}
			t.Logf("haproxy: %+v", res[1])
			if res[0] != res[1] {
				t.Errorf("gohap:   %+v\nhaproxy: %+v", res[0], res[1])
			}
		})
	}
}

// fetch answers how a GET to addr went: the status, or why none.
func fetch(t *testing.T, addr string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return "refused"
		}
		return "dial failed"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	if i := bytes.IndexByte(b, '\r'); i > 0 {
		return string(b[:i])
	}
	return "no answer"
}
