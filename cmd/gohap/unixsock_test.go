package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unixAnswer is the x-answer header of a request over a unix socket, ""
// when none came.
func unixAnswer(addr string) string {
	c, err := net.DialTimeout("unix", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	return resp.Header.Get("x-answer")
}

// unixListenInode is the inode of the listening unix socket bound on
// path, or on its "path.PID.tmp" name.
func unixListenInode(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile("/proc/net/unix")
	for _, l := range strings.Split(string(b), "\n")[1:] {
		w := strings.Fields(l)
		// Flags 00010000 is __SO_ACCEPTCON: a listening socket.
		if len(w) == 8 && w[3] == "00010000" && (w[7] == path || strings.HasPrefix(w[7], path+".")) {
			return w[6]
		}
	}
	return ""
}

// TestTakeUnixSocketsFromOldProcess: -x hands unix listening sockets
// over as well, between gohap and HAProxy either way: the new process
// serves on the very same socket, whose file was not replaced.
func TestTakeUnixSocketsFromOldProcess(t *testing.T) {
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	ref := haproxyBin()
	for _, c := range []struct{ name, from, to string }{
		{"gohap-to-gohap", gohap, gohap}, {"gohap-to-haproxy", gohap, ref}, {"haproxy-to-gohap", ref, gohap},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.from == "" || c.to == "" {
				t.Skip("haproxy is not installed")
			}
			dir := t.TempDir()
			path := dir + "/fe.sock"
			abns := fmt.Sprintf("gohap-x-%s-%d", c.name, os.Getpid())
			cfg := func(i int) string {
				return writeCfg(t, dir, fmt.Sprintf("%d.cfg", i), fmt.Sprintf("global\n stats socket %s/%d.sock level admin expose-fd listeners\n"+
					"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
					"frontend fe\n bind %s mode 600\n bind abns@%s\n http-request return status 200 hdr x-answer a%d\n", dir, i, path, abns, i))
			}
			a := startBin(t, c.from, "-db", "-f", cfg(0))
			waitAnswer(t, path, "a0", a)
			before, fi0 := unixListenInode(t, path), statOrNil(path)
			if before == "" || fi0 == nil {
				t.Fatalf("no listening socket at %s\n%s", path, a.stderr)
			}
			b := startBin(t, c.to, "-db", "-f", cfg(1), "-x", dir+"/0.sock", "-sf", strconv.Itoa(a.cmd.Process.Pid))
			waitAnswer(t, path, "a1", b)
			waitAnswer(t, "@"+abns+strings.Repeat("\x00", 107-len(abns)), "a1", b)
			waitOldExit(t, a, c.from == gohap, "")
			if after := unixListenInode(t, path); after != before || !holds(b.cmd.Process.Pid, before) {
				t.Errorf("listening socket %s after, %s before\n%s", after, before, b.stderr)
			}
			if fi := statOrNil(path); fi == nil || !os.SameFile(fi, fi0) {
				t.Errorf("socket file replaced")
			}
			waitAnswer(t, path, "a1", b)
		})
	}
}

func statOrNil(p string) os.FileInfo {
	fi, err := os.Stat(p)
	if err != nil {
		return nil
	}
	return fi
}

// waitAnswer waits until the unix socket addr answers want.
func waitAnswer(t *testing.T, addr, want string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for unixAnswer(addr) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%q does not answer %q\n%s", addr, want, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUnixSocketsSoftStop: without -x, -sf still hands unix binds over:
// a path is bound anew and renamed over the old one, and an abstract
// name, which only one socket can hold, is let go by the old process
// when it is paused (SIGTTOU), as HAProxy's uxst_suspend_receiver does.
func TestUnixSocketsSoftStop(t *testing.T) {
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := dir + "/fe.sock"
	abns := fmt.Sprintf("gohap-sf-%d", os.Getpid())
	padded := "@" + abns + strings.Repeat("\x00", 107-len(abns))
	cfg := func(i int) string {
		return writeCfg(t, dir, fmt.Sprintf("%d.cfg", i), fmt.Sprintf("defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"frontend fe\n bind %s\n bind abns@%s\n http-request return status 200 hdr x-answer a%d\n", path, abns, i))
	}
	a := startBin(t, gohap, "-db", "-f", cfg(0))
	waitAnswer(t, path, "a0", a)
	waitAnswer(t, padded, "a0", a)
	b := startBin(t, gohap, "-db", "-f", cfg(1), "-sf", strconv.Itoa(a.cmd.Process.Pid))
	waitAnswer(t, path, "a1", b)
	waitAnswer(t, padded, "a1", b)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the old process still runs\n%s", a.stderr)
	}
	waitAnswer(t, padded, "a1", b)
}
