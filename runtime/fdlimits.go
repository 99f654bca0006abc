package runtime

import (
	"fmt"
	goruntime "runtime"
	"slices"
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

// Costs HAProxy 2.6 (Debian's 64-bit build) counts per connection when
// -m bounds its memory: the stream, its two channels and connections
// (STREAM_MAX_COST without the URI and cookie captures), and per TLS
// side and handshake (SSL_SESSION_MAX_COST, SSL_HANDSHAKE_MAX_COST).
const (
	streamBaseCost   = 1520
	sslSessionCost   = 16 * 1024
	sslHandshakeCost = 76 * 1024
)

// sslSides is how many of the frontend and backend sides use TLS: a bind
// with "ssl", a server with "ssl" or "check-ssl".
func sslSides(cfg *parser.Config) int {
	fe, be := 0, 0
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFE != 0 {
			for _, b := range p.Binds {
				if slices.Contains(b.Options, "ssl") {
					fe = 1
				}
			}
		}
		if p.Cap&parser.CapBE != 0 {
			for _, s := range p.Servers {
				if slices.Contains(s.Settings.TLSWords, "ssl") || slices.Contains(s.Settings.TLSWords, "check-ssl") {
					be = 1
				}
			}
		}
	}
	return fe + be
}

// round2dig is HAProxy's round_2dig: i rounded down to two significant
// digits.
func round2dig(i int64) int64 {
	mul := int64(1)
	for i >= 100 {
		i /= 10
		mul *= 10
	}
	return i * mul
}

// maxsockPermitted is check_if_maxsock_permitted: fd-hard-limit allows
// n descriptors and the process may raise its limit to n.
func maxsockPermitted(n, hardLimit int) bool {
	if hardLimit > 0 && n > hardLimit {
		return false
	}
	var orig syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig) != nil || syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) != nil {
		return true
	}
	test := syscall.Rlimit{Max: max(uint64(n), orig.Max)}
	test.Cur = test.Max
	ok := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &test) == nil
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) != nil {
		return true
	}
	return ok
}

// memMaxconn is the maxconn HAProxy derives from -m (MemMax MiB) when
// the configuration sets none, with the SSL connections it then allows
// (sides per connection): the memory left once the SSL session cache (200
// bytes an entry, with SSL) and maxzlibmem are taken, 97% of it, over
// what a connection costs, rounded down to two digits, within the
// descriptors the process may have (else, from the second try, within
// ideal). err is HAProxy's alert when nothing is left.
func memMaxconn(cfg *parser.Config, base, ideal, threads int) (maxconn, maxssl int, err string) {
	g := &cfg.Global
	sides := int64(sslSides(cfg))
	mem := int64(g.MemMax) << 20
	if sides > 0 {
		mem -= sslCacheBytes(g)
	}
	mem -= g.MaxZlibMem
	mem = int64(float64(mem) * 0.97)
	per := connCost(g)
	if sides > 0 {
		per += sides*sslSessionCost + sslHandshakeCost
	}
	var n int64
	for retried := 0; ; retried++ {
		n = mem / per
		if retried == 1 {
			n = min(n, int64(ideal))
		}
		n = round2dig(n)
		if sides == 0 && (mem <= 0 || n == 0) {
			return 0, 0, fmt.Sprintf("Cannot compute the automatic maxconn because global.maxsslconn is already too high for the global.memmax value (%d MB). The absolute maximum possible value is %d, but %d was found.",
				g.MemMax, mem/(sslSessionCost+sslHandshakeCost), 0)
		}
		pipes := g.MaxPipes
		if pipes <= 0 {
			pipes = splicePipes(cfg, int(n))
		}
		if maxsockPermitted(idealMaxsock(base, int(n), pipes, threads), g.FdHardLimit) || retried >= 2 {
			break
		}
	}
	return int(n), int(sides * n), ""
}

// memMaxSSL is the SSL connection limit HAProxy derives from -m when the
// configuration sets maxconn and uses SSL: what the memory leaves once
// maxconn cleartext connections are counted, over a TLS session and
// handshake, rounded down to two digits, at most sides per connection.
func memMaxSSL(cfg *parser.Config, maxconn int) (maxssl int, err string) {
	g := &cfg.Global
	sides := int64(sslSides(cfg))
	if sides == 0 || g.MemMax <= 0 {
		return 0, ""
	}
	mem := int64(float64(int64(g.MemMax)<<20-sslCacheBytes(g)-g.MaxZlibMem) * 0.97)
	per := connCost(g)
	sslmem := mem - int64(maxconn)*per
	n := round2dig(sslmem / (sslSessionCost + sslHandshakeCost))
	if sslmem <= 0 || n < sides {
		return 0, fmt.Sprintf("Cannot compute the automatic maxsslconn because global.maxconn is already too high for the global.memmax value (%d MB). The absolute maximum possible value without SSL is %d, but %d was found and SSL is in use.",
			g.MemMax, mem/per, maxconn)
	}
	return int(min(n, sides*int64(maxconn))), ""
}

// connCost is STREAM_MAX_COST and two buffers: what a cleartext
// connection costs HAProxy's memory accounting.
func connCost(g *parser.Global) int64 {
	bufsize := int64(g.BufSize)
	if bufsize == 0 {
		bufsize = 16384
	}
	uriLen := int64(1024)
	if g.LogURILenSet {
		uriLen = int64(g.LogURILen) + 1
	}
	cookieLen := int64(g.CookieCapLen)
	if cookieLen == 0 {
		cookieLen = parser.DefaultCookieCapLen
	}
	return streamBaseCost + uriLen + 2*cookieLen + 2*bufsize
}

// sslCacheBytes is what HAProxy reserves of -m's memory for the SSL
// session cache: about 200 bytes an entry (tune.ssl.cachesize, 20000).
func sslCacheBytes(g *parser.Global) int64 {
	cache := int64(20000)
	if g.SSL.CacheSizeSet {
		cache = int64(g.SSL.CacheSize)
	}
	return cache * 200
}
