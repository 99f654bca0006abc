package main

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	fdInfoRe   = regexp.MustCompile(`(?m)^(Ulimit-n|Maxsock|Maxconn|Hard_maxconn|Maxpipes): (\d+)$`)
	fdProgRe   = regexp.MustCompile(`\[[^]\s]*\.main\(\)\]`)
	fdLimitMsg = regexp.MustCompile(`FD limit`)
)

// TestFDLimitsDifferential: the descriptor accounting of HAProxy 2.6
// (maxsock from listeners, stats sockets and their maxconn, checks,
// agent checks, "port"/"agent-port" words, peers, threads and splicing
// pipes; maxconn from the limit the process started with, capped by
// fd-hard-limit; the limit asked for, ulimit-n else maxsock), "show
// info"'s Ulimit-n, Maxsock, Maxconn and Maxpipes, and the start's
// verdicts: a limit that cannot be had is fatal with strict-limits (the
// default) and a warning without, and a limit below maxsock once bound
// is an alert, fatal when strict.
func TestFDLimitsDifferential(t *testing.T) {
	ref, prlimit := limitTools(t)
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Max < 4000 {
		t.Skip("the descriptor hard limit is below 4000")
	}
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, global string
		soft, hard   int
	}{
		{"derived", "", 1024, 4000},
		{"maxconn", " maxconn 100\n", 1024, 4000},
		{"maxpipes", " maxconn 300\n maxpipes 20\n", 1024, 4000},
		{"fd-hard-limit", " fd-hard-limit 2000\n", 1024, 4000},
		{"no-strict", " no strict-limits\n maxconn 5000\n", 1024, 4000},
		// Beyond the hard limit. The soft limit equals it: Go raises
		// its own to the hard one as it starts, and HAProxy names the
		// soft limit it failed to raise.
		{"strict", " maxconn 5000\n", 4000, 4000},
		{"strict-fd-hard-limit", " fd-hard-limit 2000\n maxconn 1500\n", 4000, 4000},
		{"ulimit-n-low", " ulimit-n 500\n maxconn 1000\n", 1500, 1500},
	}
	run := func(t *testing.T, bin, global string, soft, hard int) (string, int) {
		dir := t.TempDir()
		cfg := writeCfg(t, dir, "f.cfg", "global\n nbthread 2\n stats socket "+dir+"/s.sock level admin\n stats maxconn 7\n localpeer me\n"+global+
			"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n default-server port 9\n"+
			fmt.Sprintf("peers pp\n peer me %s\n peer other %s\n", freeAddr(t), freeAddr(t))+
			fmt.Sprintf("listen sp\n bind %s\n option splice-auto\n server x 127.0.0.1:9\n", freeAddr(t))+
			fmt.Sprintf("frontend f1\n bind %s\n bind %s,%s\n default_backend b\n", freeAddr(t), freeAddr(t), freeAddr(t))+
			"backend b\n stick-table type ip size 10 peers pp\n server s1 127.0.0.1:9 check inter 10s\n"+
			" server s2 127.0.0.1:9 check inter 10s agent-check agent-port 9 agent-inter 10s\n"+
			" server-template t 3 127.0.0.1:9 check inter 10s port 9\n")
		p := startBin(t, prlimit, fmt.Sprintf("--nofile=%d:%d", soft, hard), bin, "-db", "-f", cfg)
		verdict := func() string {
			var out []string
			for _, l := range alertLines(p.stderr.String()) {
				if fdLimitMsg.MatchString(l) {
					out = append(out, fdProgRe.ReplaceAllString(l, "[PROG.main()]"))
				}
			}
			return strings.Join(out, "\n")
		}
		exited := func() (string, int) {
			select {
			case <-p.done:
				return verdict(), p.cmd.ProcessState.ExitCode()
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: no answer on the stats socket and still running\n%s", bin, p.stderr.String())
				return "", 0
			}
		}
		c := dialUntil("unix", dir+"/s.sock", 5*time.Second, p.done)
		if c == nil {
			return exited()
		}
		io.WriteString(c, "show info\n")
		c.SetDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		info := fdInfoRe.FindAllStringSubmatch(string(b), -1)
		if len(info) == 0 {
			// Bound, then stopped by the last check of the limit.
			return exited()
		}
		v := verdict()
		for _, m := range info {
			v += "\n" + m[1] + "=" + m[2]
		}
		return v, -1
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			compareRuns(t, ref, gohap, func(bin string) (string, int) { return run(t, bin, tc.global, tc.soft, tc.hard) })
		})
	}
}

// dialUntil connects to addr, trying again every 20 ms for d or until
// done is closed; nil if it could not.
func dialUntil(network, addr string, d time.Duration, done <-chan struct{}) net.Conn {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if c, err := net.Dial(network, addr); err == nil {
			return c
		}
		select {
		case <-done:
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// compareRuns runs the reference and gohap, each by run, which returns
// what it saw and the exit code (-1 while running), and reports where
// they differ or the reference gave nothing.
func compareRuns(t *testing.T, ref, gohap string, run func(bin string) (string, int)) {
	t.Helper()
	want, wantCode := run(ref)
	got, gotCode := run(gohap)
	if got != want || gotCode != wantCode {
		t.Errorf("gohap (exit %d):\n%s\nHAProxy (exit %d):\n%s", gotCode, got, wantCode, want)
	}
	if want == "" {
		t.Errorf("HAProxy gave nothing to compare")
	}
}

// limitTools returns the reference binary and prlimit, or skips the test
// without them.
func limitTools(t *testing.T) (ref, prlimit string) {
	if ref = haproxyBin(); ref == "" {
		t.Skip("haproxy is not installed (set HAPROXY_BIN)")
	}
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	return ref, prlimit
}
