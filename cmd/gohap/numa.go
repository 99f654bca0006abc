package main

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
)

// sysfsRoot is where the CPU topology is read.
const sysfsRoot = "/sys/devices/system"

// numaCPUs is HAProxy's numa_detect_topology on Linux: on a machine with
// several NUMA nodes, the online CPUs of the node found first when the
// node directories are walked from the last name down that has any; nil
// with one node or when the topology cannot be read.
func numaCPUs(root string) []int {
	ents, err := os.ReadDir(filepath.Join(root, "node"))
	if err != nil {
		return nil
	}
	var nodes []string
	for _, e := range ents {
		n := e.Name()
		if v, err := strconv.Atoi(strings.TrimPrefix(n, "node")); strings.HasPrefix(n, "node") && len(n) > 4 && err == nil && v >= 0 {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) <= 1 {
		return nil
	}
	sort.Strings(nodes)
	b, err := os.ReadFile(filepath.Join(root, "cpu", "online"))
	if err != nil {
		return nil
	}
	online := cpuList(strings.TrimSpace(string(b)))
	if online == nil {
		return nil
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(root, "node", nodes[i], "cpumap"))
		if err != nil {
			continue
		}
		var cpus []int
		for _, c := range cpuMask(strings.TrimSpace(string(b))) {
			if online[c] {
				cpus = append(cpus, c)
			}
		}
		if len(cpus) > 0 {
			return cpus
		}
	}
	return nil
}

// cpuList reads a kernel CPU list ("0-3,8"), nil when it does not parse.
func cpuList(s string) map[int]bool {
	out := map[int]bool{}
	for _, r := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil
			}
		}
		for c := a; c <= b; c++ {
			out[c] = true
		}
	}
	return out
}

// cpuMask reads a node's cpumap: 32-bit hexadecimal words, the last the
// lowest CPUs (parse_cpumap).
func cpuMask(s string) []int {
	var out []int
	words := strings.Split(s, ",")
	for i := range words {
		v, _ := strconv.ParseUint(words[len(words)-1-i], 16, 64)
		for j := 0; v != 0; v, j = v>>1, j+1 {
			if v&1 != 0 {
				out = append(out, j+i*32)
			}
		}
	}
	return out
}

// applyNUMA binds the process to one NUMA node's CPUs and runs as many
// threads, as HAProxy does when nbthread is not set, numa-cpu-mapping is
// on (the default) and no affinity restricts the process already.
func applyNUMA(cfg *parser.Config, root string) {
	g := &cfg.Global
	if g.Nbthread != 0 || g.NoNumaMapping || affinityForced() {
		return
	}
	cpus := numaCPUs(root)
	if len(cpus) == 0 {
		return
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	if setAffinity(&set) == nil {
		g.Nbthread = len(cpus)
	}
}

// affinityForced is thread_cpu_mask_forced: the process may not run on
// every online CPU.
func affinityForced() bool {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(sysfsRoot, "cpu", "online"))
	if err != nil {
		return false
	}
	return set.Count() != len(cpuList(strings.TrimSpace(string(b))))
}
