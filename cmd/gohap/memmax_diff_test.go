package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

var memInfoRe = regexp.MustCompile(`(?m)^(Memmax_MB|Maxsock|Maxconn|MaxSslConns): (\d+)$`)

// TestMemMaxDifferential: with -m and no maxconn, HAProxy derives
// maxconn from the memory left once maxzlibmem (and, with SSL, the
// session cache) is taken, over what a connection costs (its buffers,
// its captures, its TLS sides), rounded down to two digits, within the
// descriptors it may have; with maxconn and SSL it derives maxsslconn,
// and exits when there is no room. "show info" and the verdicts match.
func TestMemMaxDifferential(t *testing.T) {
	ref, prlimit := limitTools(t)
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	crt := writeSelfSigned(t, t.TempDir())
	cases := []struct {
		name, global, bind string
		mem                int
	}{
		{"clear", "", "", 100},
		{"maxzlibmem", " maxzlibmem 10\n", "", 100},
		{"captures", " tune.bufsize 8192\n tune.http.logurilen 3000\n tune.http.cookielen 200\n", "", 100},
		{"descriptors", "", "", 1000},
		{"ssl", " maxzlibmem 5\n", " ssl crt " + crt, 100},
		{"ssl-cache", " tune.ssl.cachesize 1000\n", " ssl crt " + crt, 300},
		{"ssl-too-many", " maxconn 5000\n", " ssl crt " + crt, 100},
	}
	run := func(t *testing.T, bin, global, bind string, mem int) (string, int) {
		dir := t.TempDir()
		cfg := writeCfg(t, dir, "f.cfg", "global\n stats socket "+dir+"/s.sock level admin\n"+global+
			"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			fmt.Sprintf("frontend f\n bind %s%s\n http-request return status 200\n", freeAddr(t), bind))
		p := startBin(t, prlimit, "--nofile=4000:4000", bin, "-m", fmt.Sprint(mem), "-db", "-f", cfg)
		c := dialUntil("unix", dir+"/s.sock", 5*time.Second, p.done)
		if c == nil {
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: no answer on the stats socket and still running\n%s", bin, p.stderr.String())
			}
			return strings.Join(alertLines(p.stderr.String()), "\n"), p.cmd.ProcessState.ExitCode()
		}
		io.WriteString(c, "show info\n")
		c.SetDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		var v []string
		for _, m := range memInfoRe.FindAllStringSubmatch(string(b), -1) {
			v = append(v, m[1]+"="+m[2])
		}
		return strings.Join(v, " "), -1
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			compareRuns(t, ref, gohap, func(bin string) (string, int) { return run(t, bin, tc.global, tc.bind, tc.mem) })
		})
	}
}
