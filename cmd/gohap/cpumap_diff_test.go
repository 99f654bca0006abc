package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCPUMapDifferential: cpu-map binds the serving process to the CPUs
// HAProxy binds its threads to, compared as the union over the
// process's threads (HAProxy binds each thread to its own set, gohap
// every thread to the union): a map of all threads, of a range, a
// process map (applied only in a master's worker, as HAProxy applies
// it only there and in a daemon), one CPU per thread with auto:, and a
// map of one thread only, which leaves the other anywhere.
func TestCPUMapDifferential(t *testing.T) {
	ref := haproxyBin()
	if ref == "" {
		t.Skip("haproxy is not installed (set HAPROXY_BIN)")
	}
	var avail unix.CPUSet
	if unix.SchedGetaffinity(0, &avail) != nil || !avail.IsSet(0) || !avail.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, mapping string }{
		{"all-threads", "cpu-map 1/all 1"},
		{"range", "cpu-map 1/1-2 0"},
		{"process", "cpu-map 1 0"},
		{"auto", "cpu-map auto:1/1-2 0-1"},
		{"one-thread", "cpu-map 1/2 1"},
		{"process-and-thread", "cpu-map 1 0\n cpu-map 1/2 0-1"},
	}
	run := func(t *testing.T, bin, mode, mapping string) string {
		dir := t.TempDir()
		cfg := writeCfg(t, dir, "c.cfg", "global\n nbthread 2\n "+mapping+"\n"+
			"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			fmt.Sprintf("listen l\n bind %s\n server s 127.0.0.1:9\n", freeAddr(t)))
		p := startBin(t, bin, mode, "-f", cfg)
		pid, started := p.cmd.Process.Pid, time.Now()
		var last string
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			serving := pid
			if mode == "-W" {
				if serving = childOf(pid); serving == 0 {
					continue
				}
			}
			// Settled once the threads the proxy starts exist and bound
			// themselves: the same twice, a while after the start.
			if time.Since(started) < 300*time.Millisecond {
				continue
			}
			if cur := threadCPUs(serving); cur != "" && cur == last {
				return cur
			} else {
				last = cur
			}
		}
		t.Fatalf("%s %s: no settled serving process\n%s", bin, mode, p.stderr.String())
		return ""
	}
	for _, tc := range cases {
		for _, mode := range []string{"-db", "-W"} {
			t.Run(tc.name+mode, func(t *testing.T) {
				want := run(t, ref, mode, tc.mapping)
				got := run(t, gohap, mode, tc.mapping)
				if got != want {
					t.Errorf("CPUs of the serving threads: gohap %s, HAProxy %s", got, want)
				}
			})
		}
	}
}

// threadCPUs is the union of the CPUs pid's threads may run on, as a
// list ("0", "0-1"); "" when it cannot be read.
func threadCPUs(pid int) string {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var cpus [64]bool
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			return ""
		}
		for _, l := range strings.Split(string(b), "\n") {
			list, ok := strings.CutPrefix(l, "Cpus_allowed_list:")
			if !ok {
				continue
			}
			for _, r := range strings.Split(strings.TrimSpace(list), ",") {
				lo, hi, found := strings.Cut(r, "-")
				a, _ := strconv.Atoi(lo)
				z := a
				if found {
					z, _ = strconv.Atoi(hi)
				}
				for n := a; n <= z && n < len(cpus); n++ {
					cpus[n] = true
				}
			}
		}
	}
	var out []string
	for n := 0; n < len(cpus); n++ {
		if !cpus[n] {
			continue
		}
		m := n
		for m+1 < len(cpus) && cpus[m+1] {
			m++
		}
		if m > n {
			out = append(out, fmt.Sprintf("%d-%d", n, m))
		} else {
			out = append(out, strconv.Itoa(n))
		}
		n = m
	}
	return strings.Join(out, ",")
}

// childOf is a child process of pid, 0 when none.
func childOf(pid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			c, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(st, "/proc/"), "/stat"))
			return c
		}
	}
	return 0
}
