package main

import (
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSplitCommands(t *testing.T) {
	for in, want := range map[string]string{
		"a;b":                      "a|b",
		`@1 add acl f x\;;@1 show`: `@1 add acl f x\;|@1 show`,
		`a\\;b`:                    `a\\|b`,
		"":                         "",
		`x\`:                       `x\`,
	} {
		if got := strings.Join(splitCommands(in), "|"); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestMasterCLIOnInheritedFD: "-S fd@N", as the reg-test harness passes
// it, serves the master CLI; a ';' escaped with a backslash stays in the
// command forwarded to the worker; and SIGINT ends the worker by the
// signal, so the master exits 130 as HAProxy's does.
func TestMasterCLIOnInheritedFD(t *testing.T) {
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	mcli := ln.Addr().String()
	ln.Close()
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := exec.Command(bin, "-W", "-S", "fd@3", "-f", proxyCfg(t, dir, addr, "fd"))
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	p := &proc{cmd: cmd, stderr: &syncBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	waitServing(t, addr, "fd", p)
	c, err := net.DialTimeout("tcp", mcli, 2*time.Second)
	if err != nil {
		t.Fatalf("master CLI: %v\n%s", err, p.stderr)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// The worker reads "nope\;x" as one word, and names it in its answer.
	io.WriteString(c, "@1 nope\\;x;@1 show cli level\n")
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	c.Close()
	if out := string(b); !strings.HasPrefix(out, "Unknown command, but maybe") || strings.Count(out, "Unknown command") != 1 ||
		!strings.HasSuffix(out, "admin\n\n") {
		t.Errorf("answer: %q", out)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "exited with code 130 (Interrupt)") {
		t.Errorf("no worker exit report:\n%s", p.stderr)
	}
}
