package parser

import (
	"fmt"
	"math/bits"
	"strings"
)

// CPUSetSize is the number of CPUs a set can name (CPU_SETSIZE).
const CPUSetSize = 1024

// CPUSet is a set of CPU numbers.
type CPUSet [CPUSetSize / 64]uint64

func (s *CPUSet) set(n int) { s[n/64] |= 1 << (n % 64) }

// Has reports whether CPU n is in the set.
func (s *CPUSet) Has(n int) bool { return n >= 0 && n < CPUSetSize && s[n/64]&(1<<(n%64)) != 0 }

// Count is the number of CPUs in the set.
func (s *CPUSet) Count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// And keeps the CPUs also in o.
func (s *CPUSet) And(o *CPUSet) {
	for i := range s {
		s[i] &= o[i]
	}
}

// Or adds the CPUs of o.
func (s *CPUSet) Or(o *CPUSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// first is the lowest CPU of the set, -1 when empty.
func (s *CPUSet) first() int {
	for i, w := range s {
		if w != 0 {
			return i*64 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// CPUMap is what the "cpu-map" lines bind: the process, and each of the
// first 64 threads (Thread[0] is thread 1); an empty set binds nothing.
type CPUMap struct {
	Proc   CPUSet
	Thread [64]CPUSet
	// Set is true once a cpu-map line was read.
	Set bool
}

// globalCPUMap reads "cpu-map [auto:]<process-set>[/<thread-set>]
// <cpu-set>..." as HAProxy 2.6 does, with its messages: a process map
// ("1", or a thread set of only thread 1), or a map of each thread of
// the set; with "auto:" each gets the next CPU of the set.
func globalCPUMap(c *pctx) {
	m := &c.cp.cfg.Global.CPUMap
	kw := c.args[0]
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alert("%s expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63.", kw)
		return
	}
	procArg, threadArg, hasThread := strings.Cut(c.arg(1), "/")
	auto := false
	if rest, ok := strings.CutPrefix(procArg, "auto:"); ok {
		procArg, auto = rest, true
	}
	proc, msg := parseProcessSet(procArg)
	if msg != "" {
		c.alert("%s : %s", kw, msg)
		return
	}
	var thread uint64
	if hasThread {
		if thread, msg = parseProcessSet(threadArg); msg != "" {
			c.alert("%s : %s", kw, msg)
			return
		}
	}
	var cpus CPUSet
	for _, a := range c.args[2:] {
		if a == "" {
			break
		}
		if a[0] < '0' || a[0] > '9' {
			c.alert("%s : '%s' is not a CPU range.", kw, a)
			return
		}
		low, high := str2uic(a), str2uic(a)
		if _, after, ok := strings.Cut(a, "-"); ok {
			high = CPUSetSize - 1
			if after != "" {
				high = str2uic(after)
			}
		}
		low, high = min(low, high), max(low, high)
		if high >= CPUSetSize {
			c.alert("%s : supports CPU numbers from 0 to %d.", kw, CPUSetSize-1)
			return
		}
		for n := low; n <= high; n++ {
			cpus.set(n)
		}
	}
	if auto && bits.OnesCount64(proc) != cpus.Count() && bits.OnesCount64(thread) != cpus.Count() {
		c.alert("%s : PROC/THREAD range and CPU sets must have the same size to be automatically bound", kw)
		return
	}
	m.Set = true
	next := cpus
	take := func() CPUSet {
		if !auto {
			return cpus
		}
		var one CPUSet
		if n := next.first(); n >= 0 {
			one.set(n)
			next[n/64] &^= 1 << (n % 64)
		}
		return one
	}
	if thread == 0 || thread == 1 {
		// The whole process, whatever its number (the process set is
		// only checked since nbproc went away).
		m.Proc = take()
		return
	}
	for j := range m.Thread {
		if thread&(1<<j) != 0 {
			m.Thread[j] = take()
		}
	}
}

// parseProcessSet is parse_process_number for 64 processes or threads:
// all, odd, even, a number or a range (an open one ends at 64); the
// message is HAProxy's when it is not one.
func parseProcessSet(s string) (uint64, string) {
	switch s {
	case "all":
		return ^uint64(0), ""
	case "odd":
		return ^uint64(0) / 3, ""
	case "even":
		return (^uint64(0) / 3) << 1, ""
	}
	dash := strings.IndexByte(s, '-')
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && i != dash {
			return 0, fmt.Sprintf("'%s' is not a valid number/range.", s)
		}
	}
	low, high := uint64(str2uic(s)), uint64(str2uic(s))
	if dash >= 0 {
		high = 64
		if dash+1 < len(s) {
			high = uint64(str2uic(s[dash+1:]))
		}
	}
	low, high = min(low, high), max(low, high)
	if low < 1 || low > 64 || high > 64 {
		return 0, fmt.Sprintf("'%s' is not a valid number/range. It supports numbers from 1 to 64.\n", s)
	}
	var set uint64
	for n := low; n <= high; n++ {
		set |= 1 << (n - 1)
	}
	return set, ""
}

// str2uic is HAProxy's: the leading decimal digits as an unsigned int,
// 0 when there are none.
func str2uic(s string) int {
	n := uint32(0)
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint32(s[i]-'0')
	}
	return int(n)
}
