package runtime

import (
	goruntime "runtime"
	"strings"
	"syscall"

	"github.com/gohap/gohap/parser"
)

// FD limits as HAProxy 2.6 accounts for them (src/haproxy.c): maxsock
// starts at ten reserved descriptors, each socket eater found in the
// configuration adds its own, maxconn defaults to what the process
// limit leaves for two descriptors per connection, and the process
// limit it asks for is maxsock unless ulimit-n says otherwise.

// defaultMaxconn is HAProxy's DEFAULT_MAXCONN, the least maxconn it
// derives.
const defaultMaxconn = 100

// fdBase is global.maxsock before connections, pipes and threads: the
// reserved ten, a descriptor per listener (proxies', stats sockets',
// peers'), per configured health and agent check and per "port" or
// "agent-port" word of a server line, the stats sockets' maxconn, each
// live peers section's (three per peer), and extra, what the process
// layer holds (master CLI, the worker's socket pair).
func fdBase(cfg *parser.Config, opts Options) int {
	n := 10 + opts.ExtraFDs + cfg.PortKeywords
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFE != 0 {
			for _, b := range p.Binds {
				for _, a := range strings.Split(b.Address, ",") {
					// An address that does not parse is refused later;
					// it counts as one listener meanwhile.
					addrs, _ := listenAddrs(a, cfg.Global.UnixBind.Prefix, opts.Map)
					n += max(len(addrs), 1)
				}
			}
		}
		if p.Cap&parser.CapBE == 0 {
			continue
		}
		for _, s := range p.Servers {
			if s.Settings.Check {
				n++
			}
			if s.Settings.Agent {
				n++
			}
		}
	}
	st := cfg.Global.Stats
	n += len(st.Sockets)
	if st.Declared || len(st.Sockets) > 0 {
		n += cliMaxconn(st.Maxconn)
	}
	for _, ps := range cfg.Peers {
		if ps.Bind != nil || ps.LocalPeerLine() != nil {
			n++
		}
		if peersActive(ps) {
			n += 3 * len(ps.Peers)
		}
	}
	return n
}

// cliMaxconn is "stats maxconn" with HAProxy's default of 10.
func cliMaxconn(n int) int {
	if n > 0 {
		return n
	}
	return 10
}

// bootFDLimit is the larger of the soft and hard descriptor limits the
// process started with (Go raises the soft one to the hard one), as
// HAProxy's MAX(rlim_fd_cur_at_boot, rlim_fd_max_at_boot); -1 when
// unknown or beyond an int.
func bootFDLimit() int64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return -1
	}
	v := int64(max(lim.Cur, lim.Max))
	if v < 0 || v > 1<<31-1 {
		// An unlimited or larger value is negative in HAProxy's int.
		return -1
	}
	return v
}

// threadsOf is nbthread, else the processors the process may use.
func threadsOf(threads int) int {
	if threads <= 0 {
		return goruntime.GOMAXPROCS(0)
	}
	return threads
}

// idealMaxconn is HAProxy's compute_ideal_maxconn without SSL engines:
// what the descriptor limit (capped by fd-hard-limit) leaves once base,
// one poller and a wake-up pipe per thread and the splicing pipes are
// taken, over the descriptors a connection needs, at least 100.
func idealMaxconn(cfg *parser.Config, base, threads int) int {
	remain := bootFDLimit()
	if remain < 0 {
		return defaultMaxconn
	}
	if h := int64(cfg.Global.FdHardLimit); h > 0 && remain > h {
		remain = h
	}
	remain -= int64(base) + 3*int64(threadsOf(threads))
	pipes := int64(splicePipes(cfg, 0))
	if pipes >= 0 && pipes*2 < remain {
		remain -= pipes * 2
	}
	var maxconn int64
	if pipes < 0 {
		// Unlimited splicing: half a pipe (two descriptors) per
		// connection on average.
		maxconn = 2 * remain / 5
	} else {
		maxconn = remain / 2
	}
	return int(max(maxconn, defaultMaxconn))
}

// idealMaxsock is HAProxy's compute_ideal_maxsock: base, two
// descriptors per connection and per pipe, three per thread.
func idealMaxsock(base, maxconn, maxpipes, threads int) int {
	return base + 2*maxconn + 2*maxpipes + 3*threadsOf(threads)
}

// FDLimits are the descriptor settings a process applies at start.
type FDLimits struct {
	// Nofile is the limit to ask for: ulimit-n, else maxsock.
	Nofile int
	// Maxsock is the most descriptors the configuration may use.
	Maxsock int
	// HardLimit is fd-hard-limit (0: none); Strict is strict-limits,
	// which makes a limit the process cannot have fatal.
	HardLimit int
	Strict    bool
}

// FD returns the graph's descriptor settings.
func (g *Graph) FD() *FDLimits { return &g.fd }

// splicePipes is HAProxy's compute_ideal_maxpipes: a quarter of the
// connections the splicing proxies may hold, bounded by maxconn; none
// when no proxy splices, and -1 (unlimited) while maxconn is not known
// yet and a splicing proxy has no limit of its own.
func splicePipes(cfg *parser.Config, maxconn int) int {
	nbfe, nbbe := 0, 0
	unlimited := false
	// add sums a side's limit; one without (nor maxconn) is unlimited.
	add := func(sum *int, m int) bool {
		if m == 0 {
			m = maxconn
		}
		*sum += m
		unlimited = m == 0
		return !unlimited
	}
	for _, p := range cfg.Proxies {
		if !p.Options["splice-request"] && !p.Options["splice-response"] && !p.Options["splice-auto"] {
			continue
		}
		if p.Cap&parser.CapFE != 0 && !add(&nbfe, p.Maxconn) || p.Cap&parser.CapBE != 0 && !add(&nbbe, p.Fullconn) {
			break
		}
	}
	pipes := max(nbfe, nbbe)
	switch {
	case maxconn > 0:
		if pipes > maxconn || unlimited {
			pipes = maxconn
		}
	case unlimited:
		pipes = -1
	}
	if pipes >= 4 {
		return pipes / 4
	}
	return pipes
}
