package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSetDumpableDifferential: set-dumpable lifts the file and core size
// limits once the process runs, and, after a change of user, gives back
// the dumpable flag the kernel took (which owns the process's /proc files
// again to its user); without it both stay. Read from /proc for both
// binaries.
func TestSetDumpableDifferential(t *testing.T) {
	ref, prlimit := limitTools(t)
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The soft limits can be raised to the hard ones, unlimited; not the
	// hard ones of the "hard" cases, unless the process may.
	soft := []string{"--core=0:unlimited", "--fsize=5000000:unlimited"}
	hard := []string{"--core=0:0", "--fsize=5000000:5000000"}
	type tc struct {
		global string
		lim    []string
	}
	cases := []tc{{"", soft}, {" set-dumpable\n", soft}, {" set-dumpable\n no set-dumpable\n", soft},
		{" set-dumpable\n", hard}, {" set-dumpable\n no strict-limits\n", hard}}
	if os.Getuid() == 0 {
		cases = append(cases, tc{" user nobody\n", soft}, tc{" user nobody\n set-dumpable\n", soft})
	}
	run := func(t *testing.T, bin, global string, lim []string) (string, int) {
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		fe := freeAddr(t)
		cfg := writeCfg(t, dir, "f.cfg", "global\n"+global+"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			fmt.Sprintf("frontend f\n bind %s\n http-request return status 200\n", fe))
		p := startBin(t, prlimit, append(lim, bin, "-db", "-f", cfg)...)
		said := func() string {
			return fdProgRe.ReplaceAllString(strings.Join(alertLines(p.stderr.String()), "\n"), "[PROG.main()]")
		}
		c := dialUntil("tcp", fe, 5*time.Second, p.done)
		if c == nil {
			return said(), -1
		}
		c.Close()
		// The identity and the flag are set just after the listeners.
		time.Sleep(200 * time.Millisecond)
		pid := p.cmd.Process.Pid
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if err != nil {
			// It exited after binding (a limit it could not set): the
			// connection came in the short while before.
			select {
			case <-p.done:
				return said(), -1
			case <-time.After(5 * time.Second):
				t.Fatal(err)
			}
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Max file size") || strings.HasPrefix(l, "Max core file size") {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/status", pid), &st) == nil {
			out = append(out, fmt.Sprintf("/proc owner %d", st.Uid))
		}
		return said() + "\n" + strings.Join(out, "\n"), 0
	}
	for _, c := range cases {
		t.Run(strings.TrimSpace(strings.ReplaceAll(c.global, "\n", ";"))+" "+c.lim[0], func(t *testing.T) {
			compareRuns(t, ref, gohap, func(bin string) (string, int) { return run(t, bin, c.global, c.lim) })
		})
	}
}
