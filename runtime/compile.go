package runtime

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/acl/stick"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/backend/dns"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/runtime/cache"
	"github.com/gohap/gohap/runtime/comp"
	"github.com/gohap/gohap/runtime/h2"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/ssl"
)

// Graph is the compiled, immutable form of a configuration: listeners,
// frontends with their routing rules, backends with their servers.
type Graph struct {
	// maxPipes bounds the splicing pipes in use (maxpipes); pipeSize
	// sizes them (tune.pipesize, 0 for the kernel's).
	maxPipes, pipeSize int
	// netns are the network namespaces the configuration names (its
	// namespace_list sections, binds and servers): those a PROXY header
	// may name (HAProxy's namespace store).
	netns map[string]*backend.NetNS
	// userlists are the userlist sections by name.
	userlists map[string]*acl.Userlist
	// rings are the event sinks and ring sections (rings.go).
	rings *ringSet
	// h2 holds the HTTP/2 settings (tune.h2.*).
	h2 *h2.Config
	// certs is the certificate store of the binds and servers.
	certs *ssl.Store
	// Maxconn is the global maxconn, derived from the file descriptor
	// limit as HAProxy does when the configuration sets none.
	Maxconn int
	// fd holds the descriptor limits (fdlimits.go).
	fd FDLimits
	// maxSpreadChecks is max-spread-checks (0: none).
	maxSpreadChecks time.Duration
	// h1AnyPayload is h1-accept-payload-with-any-method: an HTTP/1.0
	// GET, HEAD or DELETE may carry a body.
	h1AnyPayload bool
	// Threads is nbthread, the number of threads to run on (GOMAXPROCS);
	// 0 when not set.
	Threads int
	// ConnRate and SessRate are maxconnrate and maxsessrate (new
	// connections per second, 0 for no limit).
	ConnRate, SessRate int
	// SSLRate is maxsslrate, the same for the TLS binds' connections.
	SSLRate int
	// MaxAccept is tune.maxaccept resolved: the connections a listener
	// accepts in a row before the sessions it started run; 0 is no limit.
	MaxAccept int
	Frontends []*Frontend
	Backends  []*Backend
	byName    map[string]*Backend
	// proxies lists frontends and backends in configuration order, a
	// listen section being both.
	proxies []proxyRef
	// procList is every proxy in HAProxy's proxies_list order, GLOBAL
	// and disabled ones included (procProxies).
	procList []procProxy
	// cli is the runtime CLI on the stats sockets, nil without one.
	cli *cliConfig
	// logTag, logHostname and logSendHostname are the global log-tag
	// and log-send-hostname.
	logTag, logHostname string
	logSendHostname     bool
	stats               *statsState // the stats page and counters (statspage.go)
	// sslProc is the process' TLS counters (sslproc.go).
	sslProc sslProcess
	// fdsUsed is the process's descriptors in use, sampled (sampleFDs);
	// poolHigh and poolLow are tune.pool-high-fd-ratio and
	// tune.pool-low-fd-ratio of maxsock.
	fdsUsed           atomic.Int64
	poolHigh, poolLow int64
	// bytesOut counts every byte written to a socket (show info's
	// TotalBytesOut); outRate samples it each second (BytesOutRate).
	bytesOut atomic.Uint64
	outRate  outSampler
	// helloCapture is tune.ssl.capture-buffer-size: how much of each
	// ClientHello the ssl_fc_cipherlist_* fetches and their kin see.
	helloCapture int
	// needs is what the expressions need of connections (the TLS keys);
	// keylog is tune.ssl.keylog on.
	needs  acl.Needs
	keylog bool
	// maxRecord and hardMaxRecord bound the TLS records sent
	// (tune.ssl.maxrecord, tune.ssl.hard-maxrecord); a transfer of
	// fullXfer bytes or more fills a buffer, one of halfXfer or less is
	// small (recordCap).
	maxRecord, hardMaxRecord, fullXfer, halfXfer int
	// tls13Order is the TLS 1.3 suite order the configuration's
	// ciphersuites lists ask for, nil for OpenSSL's.
	tls13Order []uint16
	// dns holds the resolvers sections and the servers they resolve.
	dns *dnsConfig
	// comp is the compression encoders and rate (compress.go).
	comp *compGlobal
	// tables are the stick tables (stick.go); maps the map files every
	// expression shares.
	tables *stick.Tables
	maps   *acl.Maps
	// procVars are the proc variables the configuration names, which
	// exist from the start (acl.Context.ProcVars).
	procVars acl.Vars
	// varLimits are tune.vars.*-max-size, nil when none is set.
	varLimits *acl.VarLimits
	// MemErr is HAProxy's alert when -m leaves no room for the
	// connections: the process then exits with it alone.
	MemErr string
	// memMax is -m in MiB; maxSSLConns the SSL connections HAProxy
	// derives from it (show info's MaxSslConns).
	memMax, maxSSLConns int
	// idleThreads is the threads idle server connections are kept apart
	// for (tune.idle-pool.shared off), 0 when shared.
	idleThreads int
	// closeSpread is close-spread-time, closeSpreadInf its "infinite".
	closeSpread    time.Duration
	closeSpreadInf bool
	// srvRefs are the servers fetch arguments name, backend then server.
	srvRefs map[[2]string]bool
	// caches are the cache sections by name, and in order (cache.go).
	caches     map[string]*cache.Cache
	cacheOrder []*cache.Cache
	// peers are the peers sections to run (peers.go).
	peers []*peersSection
}

type proxyRef struct {
	name string
	fe   *Frontend
	be   *Backend
}

// Connection modes, from the most to the least persistent.
const (
	modeKeepAlive = iota
	modeServerClose
	modeClose
)

// Frontend is a compiled frontend (or the frontend half of a listen).
type Frontend struct {
	// traces are the trace filters (trace.go), nil when none.
	traces []*traceConf
	// ctr are its traffic counters (statsState.fe), read on every
	// request without a map lookup.
	ctr     *trafficCounters
	Name    string
	Pos     parser.Pos
	HTTP    bool
	Binds   []Listen
	Maxconn int
	// Client-side timeouts; zero means none.
	Client, ClientFin, HTTPRequest, HTTPKeepAlive time.Duration
	ConnMode                                      int
	FF                                            *forwardFor
	OT                                            *forwardFor
	routes                                        []route
	Default                                       *Backend
	Errors                                        *errorSet
	legacy                                        *legacyRules
	// noLinger resets connections on close (option nolinger).
	noLinger bool
	// smartAccept is option tcp-smart-accept, the default of HTTP
	// frontends: the listening sockets have delayed ACKs from the start.
	smartAccept, smartAcceptSet bool
	// tcpKA enables TCP keep-alive on client connections (option tcpka,
	// clitcpka).
	tcpKA tcpKeepAlive
	// tcp are the tcp-request rules.
	tcp tcpRules
	// reqCaps and rspCaps are the captured headers, names in lower case.
	reqCaps, rspCaps []capture
	// capCookie and capCookieLen are "capture cookie NAME len N".
	capCookie    []byte
	capCookieLen int
	// restrictHdr is option http-restrict-req-hdr-names.
	restrictHdr restrictMode
	// independent: "option independent-streams", data sent to this
	// proxy's side no longer refreshes that side's read timeout.
	independent bool
	// bufferRequest waits for the request body (option
	// http-buffer-request).
	bufferRequest bool
	// splice: option splice-request, splice-response, splice-auto.
	splice spliceOpts
	// tarpit is timeout tarpit, timeout connect when unset (reqtarpit).
	tarpit time.Duration
	// bufSize bounds a message head (tune.bufsize), htxLimit its size as
	// HAProxy stores it less tune.maxrewrite, maxHdr the header count
	// (tune.http.maxhdr less the entry that ends the list).
	bufSize, htxLimit, maxHdr int
	// logURILen is tune.http.logurilen: the request line a log keeps.
	logURILen int
	// rateLimit is "rate-limit sessions", nil when unlimited.
	rateLimit *rateLimiter
	// reqRules and rspRules are the http-request (with redirect) and
	// http-response rules; own is a listen section's backend half, whose
	// rules are the same.
	reqRules, rspRules, afterRules []httpRule
	own                            *Backend
	// monitorURI is monitor-uri, "" when none.
	monitorURI string
	// uniqueFmt is unique-id-format, uniqueHdr unique-id-header.
	uniqueFmt *logging.Format
	uniqueHdr []byte
	// maxSessSrv is max-session-srv-conns.
	maxSessSrv int
	// acceptInvalid is option accept-invalid-http-request.
	acceptInvalid bool
	// proxyHdr is option http-use-proxy-header.
	proxyHdr bool
	// noH2Upgrade is option disable-h2-upgrade: the HTTP/2 preface on an
	// HTTP/1 connection is a bad request.
	noH2Upgrade bool
	// caseCli is h1-case-adjust for this frontend's clients.
	caseCli caseMap
	// keepIdle is option idle-close-on-response: a soft stop leaves idle
	// connections open until their next answer, which closes them.
	keepIdle bool
	// contStats is option contstats: the statistics count a stream's
	// bytes as they move, not once it ends.
	contStats bool
	// ignoreProbes is option http-ignore-probes: a connection that sends
	// nothing before it closes or times out gets no error and no log.
	ignoreProbes bool
	// monitorFail are the monitor fail conditions: 503 when one matches.
	monitorFail []*acl.Cond
	// abortOnClose is the frontend's option abortonclose: only then does
	// a client's close reach a request waiting for a server.
	abortOnClose bool
	// log is how the frontend logs, nil when it does not; conns counts
	// its connections being served (HAProxy's feconn: an HTTP/2
	// connection is one, whatever its streams), maxConns the most at once
	// (smax).
	log      *feLog
	conns    atomic.Int64
	maxConns atomic.Int64
	// pool gives the session buffers, at least bufSize long.
	pool *bufPool
	// accepted counts connections, for the stop report.
	accepted atomic.Int64
	// comp is the "compression" settings, nil without any.
	comp *comp.Config
}

// Listen is one address to listen on.
type Listen struct {
	Pos  parser.Pos
	Addr string
	// Backlog is the listen queue's length (the kernel caps it at
	// net.core.somaxconn); 0 keeps the system's.
	Backlog int
	// TLS terminates TLS on the bind ("ssl"); H2 makes its clients speak
	// HTTP/2 without ALPN ("proto h2").
	TLS *ssl.BindTLS
	H2  bool
	// Proto is the bind's "proto" word (h1, h2, none), empty without;
	// TFO is "tfo" (TCP Fast Open, its queue as long as the backlog).
	Proto string
	TFO   bool
	// stats counts its connections (option socket-stats), nil without.
	stats *listenerStats
	// Name and ID name the listener in connection error logs (the
	// bind's "name", else its number in the frontend); AcceptProxy is
	// "accept-proxy".
	Name        string
	ID          int
	AcceptProxy bool
	// AcceptCIP is "accept-netscaler-cip", with its magic number.
	AcceptCIP bool
	CIPMagic  uint32
	// Unix, when set, makes the bind a unix stream socket (unix@, abns@,
	// a path) or a socket pair receiving connections (sockpair@).
	Unix *unixListen
	// Family is "4" or "6" for an address given as ipv4@ or tcp4@, ipv6@
	// or tcp6@: the socket is of that family only.
	Family string
	// Nice is the scheduling priority its streams start with ("nice").
	Nice int
	// NetNS is the network namespace the socket listens in
	// ("namespace"), nil for the process's own.
	NetNS *backend.NetNS
	// Maxconn, MSS, Interface, Transparent, V6Only and DeferAccept are
	// the bind's options of these names (parser.Bind).
	Maxconn, MSS                     int
	Interface                        string
	Transparent, V6Only, DeferAccept bool
	// RcvBuf and SndBuf are tune.rcvbuf.client and tune.sndbuf.client:
	// set on a TCP listening socket, they reach every connection it
	// accepts; a unix socket gets them once accepted (0: the system's).
	RcvBuf, SndBuf int
}

// network is the Go network a TCP bind listens on.
func (l *Listen) network() string {
	return "tcp" + l.Family
}

// addrFamily is the family an address prefix imposes, "" for none.
func addrFamily(a string) string {
	a = strings.TrimSpace(a)
	switch {
	case strings.HasPrefix(a, "ipv4@"), strings.HasPrefix(a, "tcp4@"):
		return "4"
	case strings.HasPrefix(a, "ipv6@"), strings.HasPrefix(a, "tcp6@"):
		return "6"
	}
	return ""
}

type route struct {
	cond *acl.Cond
	be   *Backend
	// name is a dynamic backend name: literal parts and samples.
	name []namePart
	// group lists the backends of a run of exact-match rules compiled
	// into one table lookup (whose name part gives the one chosen).
	group []*Backend
}

// srvRule is a use-server rule: the server, or the format naming it.
type srvRule struct {
	cond *acl.Cond
	srv  *backend.Server
	name []namePart
}

type namePart struct {
	lit    string
	sample *acl.Sample
}

// Backend is a compiled backend.
type Backend struct {
	// traces are the trace filters (trace.go), nil when none.
	traces []*traceConf
	// ctr are its traffic counters (statsState.be).
	ctr *trafficCounters
	// reuse is the http-reuse mode; idle holds the server connections
	// clients left for others.
	reuse int
	idle  idlePool
	// disabled is "disabled": no server, no checks, no statistics.
	disabled bool
	// source is "source": what connections to servers without their
	// own are bound to, nil when none.
	source *backend.SourceBind
	// sendName is http-send-name-header's name, "" when unset.
	sendName string
	// conns counts the streams using the backend (beconn), maxConns the
	// most at once (smax).
	conns, maxConns atomic.Int64
	// reqRules, rspRules and afterRules are the http-request,
	// http-response and http-after-response rules.
	reqRules, rspRules, afterRules []httpRule
	// tcp are the backend's tcp-request content and tcp-response rules.
	tcp tcpRules
	// tarpit is timeout tarpit, timeout connect when unset (reqtarpit).
	tarpit time.Duration
	// restrictHdr is option http-restrict-req-hdr-names.
	restrictHdr restrictMode
	// independent: "option independent-streams", data sent to this
	// proxy's side no longer refreshes that side's read timeout.
	independent bool
	// bufferRequest waits for the request body (option
	// http-buffer-request).
	bufferRequest bool
	// splice: option splice-request, splice-response, splice-auto.
	splice spliceOpts
	// events sends the backend's server events to its log targets, nil
	// without any.
	events *feLog
	// fcgi is the backend's fcgi-app, nil without one (fcgisrv.go).
	fcgi *fcgiApp
	Name string
	HTTP bool
	LB   *backend.Backend
	// Server-side timeouts; zero means none.
	Connect, Server, Queue, Tunnel, ServerFin time.Duration
	Retries                                   int
	// retryOn is "retry-on": the failures that are retried.
	retryOn parser.RetryOn
	// pretendKA is "option http-pretend-keepalive".
	pretendKA bool
	// caseSrv is h1-case-adjust for this backend's servers.
	caseSrv caseMap
	// acceptInvalidRsp is option accept-invalid-http-response.
	acceptInvalidRsp bool
	// checkCache is option checkcache.
	checkCache bool
	// preferLast is "option prefer-last-server"; maxKAQueue is
	// "max-keep-alive-queue" plus one (0 when unset).
	preferLast bool
	maxKAQueue int32
	Redispatch bool
	// RedispatchAfter is "option redispatch <interval>": every Nth retry
	// when positive, the last -N retries when negative (-1 by default).
	RedispatchAfter int
	ConnMode        int
	FF              *forwardFor
	OT              *forwardFor
	Errors          *errorSet
	// Hash balancing parameters.
	uriWhole, uriPathOnly bool
	uriLen, uriDepth      int
	hashName              string
	hashFn                backend.HashFunc
	avalanche             bool
	domainOnly            bool
	// tracks holds the "track" reference of the servers that have one.
	tracks    map[*backend.Server]string
	serverPos map[*backend.Server]parser.Pos
	draws     int
	legacy    *legacyRules
	cookie    *cookieCfg
	// srvRules are the use-server rules.
	srvRules []srvRule
	// persistRules are the force-persist and ignore-persist rules.
	persistRules []persistRule
	// noLinger resets server connections on close (option nolinger).
	noLinger bool
	// tcpKA enables TCP keep-alive on server connections (option tcpka,
	// srvtcpka).
	tcpKA tcpKeepAlive
	// rdpPersist is the cookie name of "persist rdp-cookie", "" without.
	rdpPersist string
	// abortOnClose drops a request whose client has closed before it
	// leaves the queue or a connection retry (option abortonclose).
	abortOnClose bool
	// streams counts the requests and connections given to a server.
	streams atomic.Int64
	// comp is the "compression" settings, nil without any.
	comp *comp.Config
	// pp says which servers' connections start with a PROXY header.
	pp srvMap[*ppSend]
	// tls holds the settings of the servers with "ssl".
	tls srvMap[*serverTLS]
	// h2 holds the servers spoken to in HTTP/2.
	h2 srvMap[*h2Server]
	// stick are the stick on/match/store rules, nil without any.
	stick *stickRules
	// compileServer compiles a server line of the backend, for "add
	// server".
	compileServer func(s *parser.Server, dc *dnsConfig, fail func(parser.Pos, string, ...any)) *compiledServer
	// compileConns sets up a server's HTTP/2 and idle connections in to.
	compileConns func(s *parser.Server, to *Backend, srv *backend.Server, fail func(parser.Pos, string, ...any))
}

// forwardFor is an "option forwardfor" or "option originalto" setting.
type forwardFor struct {
	header string // lower-cased
	except netip.Prefix
	ifNone bool
}

// Options control compilation.
type Options struct {
	// Map rewrites addresses before use: "host:port" or "host" keys of
	// bind and server addresses, to run a configuration on other
	// addresses than it names (tests, staging).
	Map map[string]string
	// Resolve looks a server host name up; nil uses the system resolver.
	Resolve func(host string) (netip.Addr, error)
	// NoResolve is -dr: a server whose address does not resolve starts
	// in maintenance instead of refusing the configuration.
	NoResolve bool
	// ExtraFDs are the descriptors the process layer holds besides the
	// configuration's (master CLI listeners and their connections, a
	// worker's socket pair to its master), counted in maxsock.
	ExtraFDs int
	// NoSplice is -dS: bodies are never spliced, whatever the options.
	NoSplice bool
	// ResolvConf is the file "parse-resolv-conf" and the implicit
	// "default" resolvers section read; "" is /etc/resolv.conf.
	ResolvConf string
	// graph is the graph being compiled, for the proxies' expression
	// contexts.
	graph *Graph
}

// CompileError is a configuration element the runtime cannot run.
type CompileError struct {
	Pos parser.Pos
	Msg string
	// Bracket renders the position as "[FILE:LINE] : ", the prefix of
	// HAProxy's checks after parsing.
	Bracket bool
}

// bracketed starts a fail format to render it as a CompileError.Bracket.
const bracketed = "\x00[]"

func (e *CompileError) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	if e.Bracket {
		return fmt.Sprintf("[%s:%d] : %s", e.Pos.File, e.Pos.Line, e.Msg)
	}
	return fmt.Sprintf("parsing [%s:%d] : %s", e.Pos.File, e.Pos.Line, e.Msg)
}

// bindOptions lists the bind options the runtime takes (the parser's
// BindKeywordArgs gives their words): name and id only label the socket, process only
// picks threads, v4v6 is how a "::" socket listens anyway, backlog is
// applied. level, severity-output and expose-fd only act on a CLI
// listener (cli.c reads them from the stats sockets' bind_conf alone):
// on a proxy's bind they change nothing, in HAProxy as here.
var bindOptions = wordSet(`name id process backlog v4v6 accept-proxy accept-netscaler-cip tfo
	mode uid gid user group level severity-output expose-fd
	nice maxconn mss interface transparent v6only defer-accept namespace`)

// Compile turns a checked configuration into a runtime graph. It refuses,
// with the position of the line, everything that would change traffic and
// that the runtime does not implement.
func Compile(cfg *parser.Config, opts Options) (*Graph, []error) {
	var errs []error
	fail := func(pos parser.Pos, format string, a ...any) {
		f, bracket := strings.CutPrefix(format, bracketed)
		errs = append(errs, &CompileError{Pos: pos, Msg: fmt.Sprintf(f, a...), Bracket: bracket})
	}
	for _, r := range cfg.Refusals() {
		fail(r.Pos, "'%s' is not supported by the gohap runtime yet.", r.Name)
	}
	if opts.Resolve == nil {
		opts.Resolve = func(host string) (netip.Addr, error) {
			addrs, err := LookupHost(host)
			if err != nil {
				return netip.Addr{}, err
			}
			for _, a := range addrs {
				if ip, err := netip.ParseAddr(a); err == nil {
					return ip, nil
				}
			}
			return netip.Addr{}, errors.New("no address")
		}
	}
	g := &Graph{varLimits: varLimits(cfg.Global.VarLimits), closeSpread: cfg.Global.CloseSpread, closeSpreadInf: cfg.Global.CloseSpreadInfinite, h2: h2Config(&cfg.Global), Maxconn: cfg.Global.Maxconn, Threads: cfg.Global.Nbthread,
		ConnRate: cfg.Global.MaxConnRate, SessRate: cfg.Global.MaxSessRate, SSLRate: cfg.Global.MaxSSLRate,
		logTag: cfg.Global.LogTag, logHostname: cfg.Global.LogHostname, logSendHostname: cfg.Global.LogSendHostname,
		helloCapture: cfg.Global.SSL.CaptureSize, keylog: cfg.Global.SSL.Keylog,
		maxRecord: cfg.Global.SSL.MaxRecord, hardMaxRecord: cfg.Global.SSL.HardMaxRecord}
	g.h2.BytesOut = &g.bytesOut
	size, rewrite := bufLimits(cfg.Global)
	g.fullXfer, g.halfXfer = size-rewrite, size/2
	g.maxSpreadChecks = cfg.Global.MaxSpreadChecks
	g.h1AnyPayload = cfg.Global.H1AnyPayload
	fdBase := fdBase(cfg, opts)
	switch {
	case g.Maxconn == 0 && cfg.Global.MemMax > 0:
		g.Maxconn, g.maxSSLConns, g.MemErr = memMaxconn(cfg, fdBase, idealMaxconn(cfg, fdBase, g.Threads), g.Threads)
	case g.Maxconn == 0:
		g.Maxconn = idealMaxconn(cfg, fdBase, g.Threads)
	default:
		g.maxSSLConns, g.MemErr = memMaxSSL(cfg, g.Maxconn)
		if g.MemErr == "" && g.maxSSLConns > 0 && g.maxSSLConns < sslSides(cfg)*g.Maxconn {
			// HAProxy would refuse SSL connections beyond it.
			g.MemErr = fmt.Sprintf("-m %d with maxconn %d limits the SSL connections to %d (global.maxsslconn), which the gohap runtime does not support yet: set maxconn without -m, or -m without maxconn.",
				cfg.Global.MemMax, g.Maxconn, g.maxSSLConns)
		}
	}
	g.memMax = cfg.Global.MemMax
	if n := threadsOf(g.Threads); cfg.Global.IdlePoolPerThread && n > 1 {
		g.idleThreads = n
	}
	switch n := cfg.Global.MaxAccept; {
	case n == 0:
		g.MaxAccept = defaultMaxAccept
	case n > 0:
		g.MaxAccept = n
	}
	g.netns = map[string]*backend.NetNS{}
	for _, name := range cfg.Namespaces {
		if ns, err := backend.OpenNetNS(name); err == nil {
			g.netns[name] = ns
		}
	}
	g.dns = compileResolvers(cfg, opts, fail)
	g.rings = compileRings(cfg, opts, fail)
	g.comp = newCompGlobal(&cfg.Global)
	compileTables(cfg, g, fail)
	compilePeers(cfg, g, opts, fail)
	compileGlobalVars(cfg, g, fail)
	g.userlists = compileUserlists(cfg, fail)
	opts.graph = g
	opts.NoSplice = opts.NoSplice || cfg.Global.NoSplice
	g.maxPipes, g.pipeSize = cfg.Global.MaxPipes, cfg.Global.PipeSize
	if g.maxPipes <= 0 {
		g.maxPipes = splicePipes(cfg, g.Maxconn)
	}
	g.fd = FDLimits{Maxsock: idealMaxsock(fdBase, g.Maxconn, g.maxPipes, g.Threads),
		HardLimit: cfg.Global.FdHardLimit, Strict: !cfg.Global.NoStrictLimits}
	g.fd.Nofile = cfg.Global.Process.UlimitN
	if g.fd.Nofile == 0 {
		g.fd.Nofile = g.fd.Maxsock
	}
	// HAProxy's pool_high_count and pool_low_count, rounded up.
	high, low := 25, 20
	if r := cfg.Global.PoolHighRatio; r > 0 {
		high = r - 1
	}
	if r := cfg.Global.PoolLowRatio; r > 0 {
		low = r - 1
	}
	g.poolHigh, g.poolLow = (int64(g.fd.Maxsock)*int64(high)+99)/100, (int64(g.fd.Maxsock)*int64(low)+99)/100
	bes := map[string]*Backend{}
	// A frontend and a backend may share a name: a proxy's own halves
	// are found by proxy, names only resolve references to backends.
	ownBackend := map[*parser.Proxy]*Backend{}
	checks := checkCache{http: map[checkKey]*backend.HTTPCheck{}, tcp: map[checkKey][]backend.TCPStep{}}
	ownFrontend := map[*parser.Proxy]*Frontend{}
	states := loadStateFiles(cfg, proxyIDs(cfg))
	scopes := newServerScopes(cfg)
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapBE == 0 {
			continue
		}
		if p.Disabled {
			// Routed to, a disabled backend has no server to offer (503,
			// <NOSRV>); it checks nothing and is in no statistics.
			q := *p
			q.Servers = nil
			// HAProxy checks nothing of it either: what does not compile
			// is left out (a use-server rule naming its servers, ...).
			ignore := func(parser.Pos, string, ...any) {}
			be := compileBackend(&q, cfg, opts, checks, g.dns, scopes, ignore)
			be.disabled = true
			bes[p.Name] = be
			g.byName = bes
			continue
		}
		be := compileBackend(p, cfg, opts, checks, g.dns, scopes, fail)
		if lines := states.byBackend[p]; len(lines) > 0 {
			applyServerStates(lines, be.LB.Servers, func(srv *backend.Server) *parser.ServerSettings {
				for _, s := range p.Servers {
					if s.Name == srv.Name {
						return &s.Settings
					}
				}
				return &parser.ServerSettings{}
			})
		}
		bes[p.Name] = be
		ownBackend[p] = be
		g.byName = bes
		be.idle.perThread = g.idleThreads > 0
		be.idle.fds, be.idle.high, be.idle.low = &g.fdsUsed, g.poolHigh, g.poolLow
		g.Backends = append(g.Backends, be)
	}
	// Tracks are resolved once every backend exists; 'gohap check' has
	// reported the broken ones.
	for _, be := range g.Backends {
		for _, srv := range be.LB.Servers {
			ref := be.tracks[srv]
			if ref == "" {
				continue
			}
			tb, name := be, ref
			if b, n, ok := strings.Cut(ref, "/"); ok {
				tb, name = bes[b], n
			}
			var target *backend.Server
			if tb != nil {
				for _, x := range tb.LB.Servers {
					if x.Name == name {
						target = x
					}
				}
			}
			if target == nil {
				fail(be.serverPos[srv], "'server %s/%s' : unable to find the tracked server '%s'.", be.Name, srv.Name, ref)
				continue
			}
			srv.TrackServer(target)
		}
	}
	for _, p := range cfg.Proxies {
		checkOptions(p, fail)
		if p.Cap&parser.CapFE == 0 || p.Disabled {
			continue
		}
		fe := &Frontend{Name: p.Name, Pos: p.Pos, HTTP: p.Mode == "http", Maxconn: p.Maxconn,
			Client: p.Timeouts["client"], ClientFin: p.Timeouts["client-fin"],
			HTTPRequest: p.Timeouts["http-request"], HTTPKeepAlive: p.Timeouts["http-keep-alive"],
			ConnMode: connMode(p), Errors: proxyErrors(cfg, p), noLinger: p.Options["nolinger"],
			tcpKA: tcpKeepAliveOf(p.Options["tcpka"] || p.Options["clitcpka"], p.CliTCPKA)}
		fe.bufSize, fe.htxLimit, fe.maxHdr = msgLimits(cfg.Global)
		fe.logURILen = 1024
		if cfg.Global.LogURILenSet {
			fe.logURILen = cfg.Global.LogURILen
		}
		fe.rateLimit = newRateLimiter(p.RateLimitSessions)
		fe.monitorURI = p.MonitorURI
		fe.abortOnClose = p.Options["abortonclose"]
		fe.smartAccept, fe.smartAcceptSet = p.Options["tcp-smart-accept"]
		fe.acceptInvalid = p.Options["accept-invalid-http-request"]
		fe.proxyHdr = p.Options["http-use-proxy-header"]
		fe.noH2Upgrade = p.Options["disable-h2-upgrade"]
		fe.caseCli = compileCaseMap(cfg, p.Options["h1-case-adjust-bogus-client"], fail)
		fe.ignoreProbes = p.Options["http-ignore-probes"]
		fe.keepIdle = p.Options["idle-close-on-response"]
		fe.contStats = p.Options["contstats"]
		fe.comp = compileCompression(p, fail)
		if own := ownBackend[p]; own != nil {
			fe.traces = own.traces
		} else {
			fe.traces = compileTraces(p)
		}
		if p.Log.Format == nil && p.Log.FormatText != "" || p.Log.SD == nil && p.Log.SDText != "" || p.Log.Err == nil && p.Log.ErrText != "" || p.UniqueID == nil && p.UniqueIDFormat != "" {
			for _, m := range p.ResolveLogFormat() {
				fail(p.Log.FormatPos, "%s", m)
			}
		}
		ctx := g.proxyContext(p)
		fe.maxSessSrv = p.MaxSessSrvConns
		fe.log = compileLog(p, ctx, fail)
		if p.UniqueID != nil {
			if f, err := logging.Compile(p.UniqueID, logSampler(ctx)); err != nil {
				fail(p.UniqueIDPos, "failed to parse unique-id : %v.", err)
			} else {
				// HAProxy's UNIQUEID_LEN.
				f.MaxLen = 128
				fe.uniqueFmt = f
				if p.UniqueIDHeader != "" {
					fe.uniqueHdr = []byte(strings.ToLower(p.UniqueIDHeader))
				}
			}
		}
		compileCaptures(&cfg.Global, p, fe)
		fe.bufferRequest = p.Options["http-buffer-request"]
		fe.splice = spliceOptions(p, opts)
		fe.independent = p.Options["independent-streams"]
		fe.restrictHdr = restrictOption(p)
		if fe.tarpit = p.Timeouts["tarpit"]; fe.tarpit == 0 {
			fe.tarpit = p.Timeouts["connect"]
		}
		fe.pool = poolFor(max(fe.bufSize, bufSize))
		if fe.Maxconn == 0 {
			// HAProxy's frontend default is the global maxconn.
			fe.Maxconn = g.Maxconn
		}
		fe.FF = optionFF(p, "forwardfor", "x-forwarded-for")
		fe.OT = optionFF(p, "originalto", "x-original-to")
		own := ownBackend[p]
		for _, b := range p.Binds {
			// HAProxy's listen backlog: the bind's, the frontend's, or
			// the frontend's maxconn.
			backlog := p.Backlog
			if backlog == 0 {
				backlog = fe.Maxconn
			}
			tlsCfg, h2, ok := compileBindTLS(&b, cfg, fe.HTTP, g.certStore(cfg), fail)
			if tlsCfg != nil {
				for _, o := range tlsCfg.TLS13 {
					g.wantTLS13(o, b.Pos, fail)
				}
			}
			if !ok {
				continue
			}
			var netNS *backend.NetNS
			for i := 0; i < len(b.Options); i++ {
				opt := b.Options[i]
				if !bindOptions[opt] && !tlsBindOptions[opt] {
					fail(b.Pos, "bind option '%s' is not supported by the gohap runtime yet.", opt)
					break
				}
				if opt == "namespace" && i+1 < len(b.Options) {
					var err error
					if netNS, err = backend.OpenNetNS(b.Options[i+1]); err != nil {
						fail(b.Pos, "Cannot open namespace '%s'.", b.Options[i+1])
					} else {
						g.netns[netNS.Name] = netNS
					}
				}
				if opt == "backlog" && i+1 < len(b.Options) {
					if v := parser.Atol(b.Options[i+1]); v > 0 {
						backlog = v
					}
				}
				i += parser.BindKeywordArgs[opt]
			}
			for _, a := range strings.Split(b.Address, ",") {
				addrs, err := listenAddrs(a, cfg.Global.UnixBind.Prefix, opts.Map)
				if err != nil {
					fail(b.Pos, "bind '%s': %v", a, err)
					continue
				}
				for _, addr := range addrs {
					l := Listen{Pos: b.Pos, Addr: addr, Backlog: backlog, TLS: tlsCfg, H2: h2, AcceptProxy: b.AcceptProxy, Proto: bindProto(&b),
						AcceptCIP: b.AcceptCIP, CIPMagic: b.CIPMagic,
						TFO: slices.Contains(b.Options, "tfo"), Nice: b.Nice, Maxconn: b.Maxconn, MSS: b.MSS,
						Interface: b.Interface, Transparent: b.Transparent, V6Only: b.V6Only, DeferAccept: b.DeferAccept, NetNS: netNS,
						RcvBuf: cfg.Global.ClientRcvBuf, SndBuf: cfg.Global.ClientSndBuf}
					l.Unix = unixListenOf(addr, b.Unix)
					l.Family = addrFamily(a)
					fe.Binds = append(fe.Binds, l)
				}
			}
		}
		nameListeners(p, fe, fail)
		if p.Options["socket-stats"] {
			for i := range fe.Binds {
				fe.Binds[i].stats = &listenerStats{}
			}
		}
		rs := proxyRuleSets(p, ctx, fail)
		set := rs.own
		fe.Errors = withReplies(fe.Errors, cfg, p, set, fail)
		for _, m := range p.MonitorFail {
			if cond, err := set.ParseCond(m.Cond); err == nil {
				fe.monitorFail = append(fe.monitorFail, cond)
			} else {
				fail(p.Pos, "'monitor fail': condition: %v", err)
			}
		}
		fe.tcp = rs.tcp(p, fail)
		fe.tcp.response = nil
		for _, r := range fe.tcp.conn {
			if r.act != "expect-proxy" && r.act != "expect-netscaler-cip" {
				continue
			}
			for _, b := range fe.Binds {
				if b.TLS != nil || b.H2 {
					// The header would have to be read before the handshake.
					fail(r.pos, "'tcp-request connection %s' on a frontend with TLS or HTTP/2 binds is not supported by the gohap runtime yet.", r.act)
					break
				}
			}
		}
		if own != nil {
			// A listen section is one proxy: its filters and rules run
			// once.
			fe.legacy = own.legacy
			fe.reqRules, fe.rspRules, fe.afterRules, fe.own = own.reqRules, own.rspRules, own.afterRules, own
		} else {
			fe.legacy = compileLegacy(p, cfg, set, fail)
			fe.reqRules = ownRules(rs.http(cfg, p, reqRulesOf, fail), p)
			fe.rspRules = rs.http(cfg, p, rspRulesOf, fail)
			fe.afterRules = rs.http(cfg, p, afterRulesOf, fail)
		}
		for _, u := range p.UseBackends {
			cond, err := set.ParseCondAt(u.Cond, u.Where)
			if err != nil {
				fail(u.Pos, "use_backend condition: %v", err)
				continue
			}
			r := route{cond: cond}
			if strings.Contains(u.Backend, "%[") {
				parts, err := parseNameFormat(u.Backend, ctx)
				if err != nil {
					fail(u.Pos, "use_backend '%s': %v", u.Backend, err)
					continue
				}
				r.name = parts
			} else if r.be = bes[u.Backend]; r.be == nil {
				fail(u.Pos, "use_backend: no such backend '%s'.", u.Backend)
				continue
			}
			fe.routes = append(fe.routes, r)
		}
		fe.routes = tableRoutes(fe.routes)
		if p.DefaultBackend != nil {
			fe.Default = bes[p.DefaultBackend.Name]
		} else if own != nil {
			fe.Default = own
		}
		g.Frontends = append(g.Frontends, fe)
		ownFrontend[p] = fe
	}
	defaultFullconn(g)
	for ref := range g.srvRefs {
		if be := g.byName[ref[0]]; be != nil {
			for _, srv := range be.LB.Servers {
				if srv.Name == ref[1] {
					srv.Pin()
				}
			}
		}
	}
	for _, p := range cfg.Proxies {
		if p.Disabled {
			// Not started: no statistics, no stop message.
			continue
		}
		g.proxies = append(g.proxies, proxyRef{name: p.Name, fe: ownFrontend[p], be: ownBackend[p]})
	}
	g.procList = procProxies(cfg, g.proxies)
	compileCaches(cfg, g, fail)
	g.cli = compileCLI(cfg, g)
	g.stats = compileStats(cfg, g, fail)
	return g, errs
}

// minTable is the shortest run of exact-match rules worth a table.
var minTable = 2

// tableRoutes compiles each run of consecutive rules that send to a
// static backend when one string fetch equals a pattern ("use_backend X
// if { hdr(host) -i x.example }") into one hash lookup, which picks the
// rule the walk in order would have picked (acl.Table).
func tableRoutes(routes []route) []route {
	out := routes[:0:0]
	for i := 0; i < len(routes); {
		key, ok := "", false
		if routes[i].be != nil {
			key, ok = routes[i].cond.ExactKey()
		}
		j := i + 1
		for ok && j < len(routes) && routes[j].be != nil {
			if k, ok2 := routes[j].cond.ExactKey(); !ok2 || k != key {
				break
			}
			j++
		}
		if !ok || j-i < minTable {
			out = append(out, routes[i])
			i++
			continue
		}
		t := acl.NewTable(routes[i].cond)
		names := make([]string, 0, j-i)
		group := make([]*Backend, 0, j-i)
		for n, r := range routes[i:j] {
			t.Add(r.cond, n)
			names = append(names, r.be.Name)
			group = append(group, r.be)
		}
		out = append(out, route{cond: t.Cond, name: []namePart{{sample: acl.Names(names)}}, group: group})
		i = j
	}
	return out
}

// ruleSets are the ACL sets a proxy's rules compile with: its own, and
// def, that of the named defaults section whose TCP and HTTP rules it
// inherits, nil when that section declares no ACL. HAProxy keeps them
// apart: the section's rules see its ACLs only, the proxy's its own.
type ruleSets struct{ own, def *acl.Set }

func proxyRuleSets(p *parser.Proxy, ctx *acl.Context, fail func(parser.Pos, string, ...any)) ruleSets {
	rs := ruleSets{own: proxyACLs(p, ctx, fail)}
	if p.Def != nil && len(p.Def.ACLs) > 0 {
		rs.def = proxyACLs(p.Def, ctx, fail)
	}
	return rs
}

// http compiles the proxy's HTTP rules of one list (of), those it
// inherits first.
func (rs ruleSets) http(cfg *parser.Config, p *parser.Proxy, of func(*parser.Proxy) []*parser.HTTPRule, fail func(parser.Pos, string, ...any)) []httpRule {
	if rs.def == nil {
		return compileHTTPRules(cfg, withDefaults(p, of(p), of), rs.own, fail)
	}
	return append(compileHTTPRules(cfg, of(p.Def), rs.def, fail), compileHTTPRules(cfg, of(p), rs.own, fail)...)
}

// tcp compiles the proxy's TCP rules, the inherited ones (first in each
// stage) with the defaults section's ACLs.
func (rs ruleSets) tcp(p *parser.Proxy, fail func(parser.Pos, string, ...any)) tcpRules {
	if rs.def == nil {
		return compileTCPRules(p, rs.own, fail)
	}
	own, inh := *p, *p
	own.TCPRequests, inh.TCPRequests = nil, nil
	for _, r := range p.TCPRequests {
		if r.Stage != "" && r.Section == "defaults" {
			inh.TCPRequests = append(inh.TCPRequests, r)
		} else {
			own.TCPRequests = append(own.TCPRequests, r)
		}
	}
	d, o := compileTCPRules(&inh, rs.def, fail), compileTCPRules(&own, rs.own, fail)
	o.conn = append(d.conn, o.conn...)
	o.sess = append(d.sess, o.sess...)
	o.content = append(d.content, o.content...)
	o.response = append(d.response, o.response...)
	return o
}

func proxyACLs(p *parser.Proxy, ctx *acl.Context, fail func(parser.Pos, string, ...any)) *acl.Set {
	set := acl.NewSetWith(ctx)
	for _, a := range p.ACLs {
		ctx.File, ctx.Line = a.Pos.File, a.Pos.Line
		if err := set.Add(a.Name, a.Fetch, a.Args); err != nil {
			fail(a.Pos, "acl '%s': %v", a.Name, err)
		}
	}
	return set
}

func checkOptions(p *parser.Proxy, fail func(parser.Pos, string, ...any)) {
	names := make([]string, 0, len(p.Options))
	for name, on := range p.Options {
		if on && parser.OptionSupport(name) == parser.Unsupported {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		pos := p.OptionPos[name]
		if pos.Line == 0 {
			// Inherited from a defaults section: reported there.
			pos = p.Pos
		}
		fail(pos, "'option %s' is not supported by the gohap runtime yet.", name)
	}
}

func connMode(p *parser.Proxy) int {
	switch p.HTTPMode {
	case "httpclose":
		return modeClose
	case "http-server-close":
		return modeServerClose
	}
	return modeKeepAlive
}

// optionFF is "option forwardfor/originalto" as the parser read it.
func optionFF(p *parser.Proxy, name, header string) *forwardFor {
	o := p.ForwardFor
	if name == "originalto" {
		o = p.OriginalTo
	}
	if !p.Options[name] || o == nil {
		return nil
	}
	ff := &forwardFor{header: header, except: o.Except, ifNone: o.IfNone}
	if o.Header != "" {
		ff.header = o.Header
	}
	return ff
}

func parseNameFormat(s string, ctx *acl.Context) ([]namePart, error) {
	var parts []namePart
	for s != "" {
		i := strings.Index(s, "%[")
		if i < 0 {
			parts = append(parts, namePart{lit: s})
			break
		}
		if i > 0 {
			parts = append(parts, namePart{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			return nil, errors.New("missing ']'")
		}
		smp, err := acl.CompileSampleWith(s[i+2:i+j], ctx)
		if err != nil {
			return nil, err
		}
		parts = append(parts, namePart{sample: smp})
		s = s[i+j+1:]
	}
	return parts, nil
}

// checkCache holds the health checks compiled from rule lists that
// backends share with their defaults section, compiled once.
type checkCache struct {
	http map[checkKey]*backend.HTTPCheck
	tcp  map[checkKey][]backend.TCPStep
}

// checkKey identifies a rule list and the arguments of its check option
// by their arrays, which inheriting proxies share.
type checkKey struct {
	rules *parser.CheckRule
	send  *parser.CheckSend
	n     int
	// The http-check options the compiled check holds.
	disable404, sendState bool
}

func keyOf(rules []*parser.CheckRule, send *parser.CheckSend, opts parser.CheckOpts) checkKey {
	k := checkKey{n: len(rules), send: send, disable404: opts.DisableOn404, sendState: opts.SendState}
	if len(rules) > 0 {
		k.rules = rules[0]
	}
	return k
}

func compileBackend(p *parser.Proxy, cfg *parser.Config, opts Options, checks checkCache, dc *dnsConfig, scopes *serverScopes, fail func(parser.Pos, string, ...any)) *Backend {
	be := &Backend{Name: p.Name, HTTP: p.Mode == "http",
		Connect: p.Timeouts["connect"], Server: p.Timeouts["server"], Queue: p.Timeouts["queue"],
		Tunnel: p.Timeouts["tunnel"], ServerFin: p.Timeouts["server-fin"],
		Retries: p.Retries, retryOn: p.RetryOn, Redispatch: p.Options["redispatch"], ConnMode: connMode(p),
		Errors: proxyErrors(cfg, p), noLinger: p.Options["nolinger"], abortOnClose: p.Options["abortonclose"],
		tcpKA:  tcpKeepAliveOf(p.Options["tcpka"] || p.Options["srvtcpka"], p.SrvTCPKA),
		tracks: map[*backend.Server]string{}, serverPos: map[*backend.Server]parser.Pos{}, reuse: reuseModes[p.HTTPReuse], source: backend.NewSourceBind(p.Source, 0)}
	be.sendName = p.SendNameHeader
	be.preferLast, be.maxKAQueue = p.Options["prefer-last-server"] && be.HTTP, p.MaxKAQueue
	be.pretendKA = p.Options["http-pretend-keepalive"]
	be.caseSrv = compileCaseMap(cfg, p.Options["h1-case-adjust-bogus-server"], fail)
	be.acceptInvalidRsp = p.Options["accept-invalid-http-response"]
	be.checkCache = p.Options["checkcache"]
	be.splice = spliceOptions(p, opts)
	be.events = eventLog(p)
	// The idle pool closes the HTTP/2 connections of the servers too.
	be.idle.h2 = &be.h2
	be.comp = compileCompression(p, fail)
	be.traces = compileTraces(p)
	if be.Queue == 0 {
		// HAProxy waits in the queue for the connect timeout when no
		// queue timeout is set.
		be.Queue = be.Connect
	}
	be.bufferRequest = p.Options["http-buffer-request"]
	be.independent = p.Options["independent-streams"]
	be.restrictHdr = restrictOption(p)
	if be.tarpit = p.Timeouts["tarpit"]; be.tarpit == 0 {
		be.tarpit = p.Timeouts["connect"]
	}
	be.FF = optionFF(p, "forwardfor", "x-forwarded-for")
	be.OT = optionFF(p, "originalto", "x-original-to")
	// ACL errors are reported once, by the frontend half of a listen.
	quiet := func(parser.Pos, string, ...any) {}
	ctx := opts.graph.proxyContext(p)
	set := proxyACLs(p, ctx, fail)
	compileFCGI(cfg, p, be, ctx, fail)
	be.Errors = withReplies(be.Errors, cfg, p, set, fail)
	rs := ruleSets{own: set}
	if p.Cap&parser.CapFE != 0 {
		rs = proxyRuleSets(p, ctx, quiet)
		set = rs.own
	} else if p.Def != nil && len(p.Def.ACLs) > 0 {
		rs.def = proxyACLs(p.Def, ctx, fail)
	}
	be.stick = compileStickRules(p, set, fail)
	be.legacy = compileLegacy(p, cfg, set, fail)
	if p.Cap&parser.CapFE != 0 {
		// A listen section's request rules run once, as its frontend's.
		be.tcp = rs.tcp(p, quiet)
		be.tcp.conn, be.tcp.sess, be.tcp.content = nil, nil, nil
	} else {
		be.tcp = rs.tcp(p, fail)
	}
	be.reqRules = ownRules(rs.http(cfg, p, reqRulesOf, fail), p)
	be.rspRules = rs.http(cfg, p, rspRulesOf, fail)
	be.afterRules = rs.http(cfg, p, afterRulesOf, fail)
	algo, err := compileBalance(be, p)
	if err != nil {
		fail(p.Pos, "%v", err)
	}
	consistent := false
	if ht := p.HashType; ht != nil {
		consistent = ht.Consistent
		be.hashFn, _ = backend.ParseHashFunc(ht.Func)
		be.avalanche = ht.Avalanche
	}
	var httpChk *backend.HTTPCheck
	var tcpChk []backend.TCPStep
	var protoChk *backend.ProtoCheck
	// The last check option declared decides the kind of check.
	switch checkKind(p) {
	case "httpchk":
		if p.Options["httpchk"] {
			k := keyOf(p.HTTPChecks, p.CheckOpts.HTTPChk, p.CheckOpts)
			if httpChk = checks.http[k]; httpChk == nil {
				httpChk = compileHTTPCheck(p, cfg, ctx, fail)
				checks.http[k] = httpChk
			}
		}
	case "tcp-check":
		k := keyOf(p.TCPChecks, nil, parser.CheckOpts{})
		var ok bool
		if tcpChk, ok = checks.tcp[k]; !ok {
			tcpChk = compileTCPCheck(p, ctx, fail)
			checks.tcp[k] = tcpChk
		}
	case "redis-check":
		protoChk = backend.RedisCheck()
	case "smtpchk":
		protoChk = backend.SMTPCheck(p.CheckOpts.SMTPHello)
	case "mysql-check":
		protoChk = backend.MySQLCheck(p.CheckOpts.MySQLUser, p.CheckOpts.MySQLPre41)
	case "pgsql-check":
		if u := p.CheckOpts.PgSQLUser; u != "" {
			protoChk = backend.PgSQLCheck(u)
		}
	case "ldap-check":
		protoChk = backend.LDAPCheck()
	case "ssl-hello-chk":
		protoChk = backend.SSLHelloCheck()
	case "spop-check":
		protoChk = backend.SPOPCheck()
	}
	chk := serverChecks{http: httpChk, tcp: tcpChk, proto: protoChk, ext: checkKind(p) == "external-check"}
	if chk.ext {
		chk.extID = proxyIDs(cfg)[p]
	}
	scfg, sp := scopes.cfg, scopes.proxy(p)
	be.compileServer = func(s *parser.Server, dc *dnsConfig, fail func(parser.Pos, string, ...any)) *compiledServer {
		return compileServer(scfg, sp, s, opts, be, chk, ctx, dc, fail)
	}
	be.compileConns = func(s *parser.Server, to *Backend, srv *backend.Server, fail func(parser.Pos, string, ...any)) {
		compileServerConns(scfg, sp, s, to, srv, fail)
	}
	var servers []*backend.Server
	for _, s := range p.Servers {
		cs := be.compileServer(s, dc, fail)
		if cs == nil {
			continue
		}
		be.addServer(cs)
		compileServerConns(cfg, p, s, be, cs.srv, fail)
		servers = append(servers, cs.srv)
	}
	be.LB = backend.New(p.Name, servers)
	if len(p.Balance) == 0 {
		// Without a balance line, a dispatch address or option
		// transparent takes what persistence leaves (dispatch wins).
		switch {
		case p.Dispatch != nil:
			if addr, err := dispatchAddr(p.Dispatch, opts); err != nil {
				fail(p.Dispatch.Pos, "'dispatch' : %v", err)
			} else {
				be.LB.NewTarget(addr, false)
			}
		case p.Options["transparent"]:
			be.LB.NewTarget("", true)
		}
	}
	byName := map[string]*backend.Server{}
	for _, srv := range servers {
		byName[srv.Name] = srv
	}
	be.cookie = compileCookie(p, byName, fail)
	for _, r := range p.ServerRules {
		cond, err := set.ParseCondAt(r.Cond, r.Where)
		if err != nil {
			fail(r.Pos, "use-server condition: %v", err)
			continue
		}
		sr := srvRule{cond: cond}
		if strings.Contains(r.Server, "%") {
			if sr.name, err = parseNameFormat(r.Server, ctx); err != nil {
				fail(r.Pos, "use-server '%s': %v", r.Server, err)
				continue
			}
		} else if sr.srv = byName[r.Server]; sr.srv == nil {
			fail(r.Pos, "use-server: no such server '%s'.", r.Server)
			continue
		} else {
			// A server a rule names cannot be deleted.
			sr.srv.Pin()
		}
		be.srvRules = append(be.srvRules, sr)
	}
	for _, r := range p.PersistRules {
		cond, err := set.ParseCond(r.Cond)
		if err != nil {
			fail(r.Pos, "%s condition: %v", r.Keyword, err)
			continue
		}
		kind := prstIgnore
		if r.Keyword == "force-persist" {
			kind = prstForce
		}
		be.persistRules = append(be.persistRules, persistRule{kind: kind, cond: cond})
	}
	be.RedispatchAfter = -1
	if be.Redispatch {
		// HAProxy reads the interval with atol; 0 disables.
		be.RedispatchAfter = p.RedispatchAfter
		be.Redispatch = be.RedispatchAfter != 0
	}
	be.LB.Redispatch = be.Redispatch
	be.LB.Persist = p.Options["persist"]
	be.LB.Consistent = consistent
	be.LB.BalanceFactor = p.HashBalanceFactor
	be.LB.Algo = algo
	be.LB.Draws = be.draws
	be.LB.Fullconn = p.Fullconn
	if p.FullconnBad.Line != 0 {
		fail(p.FullconnBad, "'fullconn' expects a number.")
	}
	be.LB.AllBackups = p.Options["allbackups"]
	if r := p.RDPPersist; r != nil {
		be.rdpPersist = r.Name
		if be.HTTP {
			fail(r.Pos, "'persist rdp-cookie' in a 'mode http' backend is not supported by the gohap runtime yet.")
		}
	}
	be.LB.LogHealthChecks = p.Options["log-health-checks"]
	return be
}

// serverChecks are the checks a backend's servers share.
type serverChecks struct {
	http  *backend.HTTPCheck
	tcp   []backend.TCPStep
	proto *backend.ProtoCheck
	// ext is set with option external-check; extID is then the
	// proxy's id.
	ext   bool
	extID int
}

// compiledServer is a server line compiled for its backend.
type compiledServer struct {
	srv   *backend.Server
	track string
	pos   parser.Pos
	pp    *ppSend
	tls   *serverTLS
	// h2 is set by compileConns, for a server added at run time.
	h2 *h2Server
}

// addServer records what the connection path needs of a compiled server.
func (be *Backend) addServer(cs *compiledServer) {
	if cs.track != "" {
		be.tracks[cs.srv] = cs.track
	}
	if cs.pp != nil {
		be.pp.put(cs.srv, cs.pp)
	}
	if cs.tls != nil {
		be.tls.put(cs.srv, cs.tls)
	}
	be.serverPos[cs.srv] = cs.pos
}

// serverScopes are what compiling a server reads of the configuration
// and of its backend, kept by the backends for the servers the CLI adds:
// the global section, and each proxy without its rules and conditions
// (an external check reads the listeners), so that the graph does not
// hold the parsed configuration (its lines and rules, tens of megabytes
// for a large one). The backends share one configuration and one copy of
// each defaults section.
type serverScopes struct {
	cfg  *parser.Config
	defs map[*parser.Proxy]*parser.Proxy
}

func newServerScopes(cfg *parser.Config) *serverScopes {
	return &serverScopes{cfg: &parser.Config{Global: cfg.Global}, defs: map[*parser.Proxy]*parser.Proxy{}}
}

func (sc *serverScopes) proxy(p *parser.Proxy) *parser.Proxy {
	if p == nil {
		return nil
	}
	sp := *p
	if d := p.Def; d != nil {
		if sp.Def = sc.defs[d]; sp.Def == nil {
			sp.Def = sc.proxy(d)
			sc.defs[d] = sp.Def
		}
	}
	sp.ACLs, sp.Rules, sp.LegacyFilters = nil, nil, nil
	sp.HTTPRequestRules, sp.HTTPResponseRules, sp.HTTPAfterRules = nil, nil, nil
	sp.UseBackends, sp.Filters, sp.ServerRules, sp.PersistRules = nil, nil, nil, nil
	sp.IgnoredConds, sp.TCPRequests, sp.MonitorFail, sp.StickRules = nil, nil, nil, nil
	return &sp
}

// compileServer compiles one server line of p; nil when it fails.
func compileServer(cfg *parser.Config, p *parser.Proxy, s *parser.Server, opts Options, be *Backend, chk serverChecks, ctx *acl.Context, dc *dnsConfig, fail func(parser.Pos, string, ...any)) *compiledServer {
	st := &s.Settings
	srv := &backend.Server{Name: s.Name, Weight: st.Weight, Maxconn: st.Maxconn, Minconn: st.Minconn,
		Slowstart: st.Slowstart, MaxQueue: st.MaxQueue, ID: st.ID, Backup: st.Backup,
		ShutdownOnDown: st.ShutdownOnDown, ShutdownBackupsOnUp: st.ShutdownBackupsOnUp,
		Observe: observeModes[st.Observe], OnError: onErrors[st.OnError], ErrorLimit: st.ErrorLimit, Redir: st.Redir, NonStick: st.NonStick,
		Check: backend.Check{Enabled: st.Check, Inter: st.Inter, FastInter: st.FastInter, DownInter: st.DownInter,
			Rise: st.Rise, Fall: st.Fall, Timeout: p.Timeouts["check"], Connect: p.Timeouts["connect"], Spread: cfg.Global.SpreadChecks}}
	if st.Unsupported != "" {
		fail(s.Pos, "server option '%s' is not supported by the gohap runtime yet.", st.Unsupported)
	}
	for _, b := range st.Bad {
		fail(s.Pos, "server '%s': invalid value '%s' for '%s'.", s.Name, b[1], b[0])
	}
	cs := &compiledServer{srv: srv, track: st.Track, pos: s.Pos}
	disabled, port, checkHost := st.Disabled, st.Port, st.Addr
	host, sport, err := serverTarget(s.Address, opts.Map)
	uaddr, isUnix := serverUnixAddr(s.Address, opts.Map)
	if isUnix {
		host, sport, err = "", "0", nil
	}
	srvRec := s.Template && strings.HasPrefix(host, "_")
	ip, perr := netip.ParseAddr(host)
	if host == "" || host == "*" {
		// No host is INADDR_ANY, as HAProxy reads it.
		ip, perr = netip.IPv4Unspecified(), nil
	}
	init := dns.InitResult{Addr: ip}
	if err == nil && perr != nil {
		// init-addr: the address at start of a server named by host.
		methods, _ := parseInitAddr(st.InitAddr)
		init, err = dns.InitAddr(methods, host, "", st.HasResolvers, opts.Resolve)
		if err != nil && opts.NoResolve {
			// -dr: the server starts in maintenance, as the check
			// warned.
			init, err = dns.InitResult{Maint: true}, nil
		}
		if err != nil {
			fail(s.Pos, "'server %s/%s' : %s", p.Name, s.Name, err)
			return nil
		}
	}
	if err != nil {
		fail(s.Pos, "'server %s/%s' : could not resolve address '%s'.", p.Name, s.Name, s.Address)
		return nil
	}
	addr := ""
	if init.Addr.IsValid() {
		addr = net.JoinHostPort(init.Addr.Unmap().String(), sport)
	}
	if _, mapped, ok := serverPort(s.Address); ok && mapped && !srvRec {
		// The port follows the client's; Addr keeps the offset as
		// HAProxy shows it.
		srv.MapPorts, srv.Host = true, init.Addr.Unmap().String()
		srv.PortOffset, _ = strconv.Atoi(sport)
	}
	if init.Maint {
		disabled = true
	}
	if perr != nil && st.HasResolvers {
		dc.bind(be, srv, s, host, sport, init, srvRec, fail)
	}
	srv.Addr = addr
	if isUnix {
		srv.Addr = uaddr
	}
	if port != "" && checkHost == "" {
		srv.Check.Port = port
	} else if checkHost != "" && addr != "" {
		_, p, _ := net.SplitHostPort(addr)
		if h, ap, err := net.SplitHostPort(checkHost); err == nil {
			// "addr" may carry a port, which "port" overrides.
			checkHost, p = h, ap
		}
		if port != "" {
			p = port
		}
		srv.Check.Addr = net.JoinHostPort(checkHost, p)
	}
	srv.Socks4 = socks4DialAddr(st.Socks4)
	// The server's own "source" wins over the backend's.
	switch {
	case st.Source != nil:
		srv.Source = backend.NewSourceBind(st.Source, sourceCopies(p, s))
	case be != nil:
		srv.Source = be.source
	default:
		srv.Source = backend.NewSourceBind(p.Source, 0)
	}
	srv.Check.ViaSocks4 = st.CheckViaSocks4
	switch ns := st.Namespace; ns {
	case "":
	case "*":
		srv.NetNSFromPP = true
	default:
		var err error
		if srv.NetNS, err = backend.OpenNetNS(ns); err != nil {
			fail(s.Pos, "'server %s/%s' : Cannot open namespace '%s'.", p.Name, s.Name, ns)
		} else {
			if opts.graph != nil {
				opts.graph.netns[ns] = srv.NetNS
			}
		}
	}
	srv.Check.HTTP = chk.http
	srv.Check.TCP = chk.tcp
	srv.Check.Proto = chk.proto
	serverCheckMux(s, srv, fail)
	serverAgent(s, srv, addr, fail)
	cs.pp = compileServerPP(&cfg.Global, s, srv, fail)
	cs.tls = compileServerTLS(cfg, opts.graph, p, s, srv, ctx, fail)
	if srv.Check.TLS != nil || srv.Check.StepTLS != nil {
		srv.Check.TLSCount = opts.graph.sslCounters()
	}
	if chk.ext {
		srv.Check.Ext = extCheck(cfg, p, s, chk.extID, cs.tls != nil)
	}
	if disabled {
		srv.SetState(backend.Maint)
	}
	return cs
}

// withDefaults puts the rules of p's named defaults section before its
// own, as HAProxy evaluates them: one list, where an allow or an answer in
// the defaults' part ends it. A section's frontends and backends never
// share such a defaults section, so no rule runs twice.
func reqRulesOf(p *parser.Proxy) []*parser.HTTPRule   { return p.HTTPRequestRules }
func rspRulesOf(p *parser.Proxy) []*parser.HTTPRule   { return p.HTTPResponseRules }
func afterRulesOf(p *parser.Proxy) []*parser.HTTPRule { return p.HTTPAfterRules }

func withDefaults(p *parser.Proxy, own []*parser.HTTPRule, of func(*parser.Proxy) []*parser.HTTPRule) []*parser.HTTPRule {
	if p.Def == nil || len(of(p.Def)) == 0 {
		return own
	}
	return append(append([]*parser.HTTPRule(nil), of(p.Def)...), own...)
}

// parseTime reads a time value with the parser's rules.
func parseTime(v string) (time.Duration, error) {
	d, ok := parser.ParseTime(v)
	if !ok {
		return 0, errors.New("bad time")
	}
	return d, nil
}

func stripFamily(a string) string {
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		a = strings.TrimPrefix(a, pfx)
	}
	return a
}

// dispatchAddr is the address a dispatch line connects to, its host
// resolved once as HAProxy resolves it while parsing.
func dispatchAddr(d *parser.Dispatch, opts Options) (string, error) {
	hp := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	host, port, err := serverTarget(hp, opts.Map)
	if err != nil {
		return "", err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if ip, err = opts.Resolve(host); err != nil {
			return "", fmt.Errorf("could not resolve address '%s'", host)
		}
	}
	return net.JoinHostPort(ip.Unmap().String(), port), nil
}

func mapAddr(a string, m map[string]string) string {
	if v, ok := m[a]; ok {
		return v
	}
	return a
}

// listenAddr turns a bind address into a Go listen address, or for a
// unix socket its canonical form (unixAddr); prefix is unix-bind's.
func listenAddr(a, prefix string, m map[string]string) (string, error) {
	a = mapAddr(stripFamily(strings.TrimSpace(a)), m)
	for _, pfx := range []string{"fd@", "sockpair@"} {
		if n, ok := strings.CutPrefix(a, pfx); ok {
			// A listening socket inherited from the parent process, or
			// a socket pair connections' descriptors arrive on.
			if _, err := strconv.ParseUint(n, 10, 31); err != nil {
				return "", errors.New("invalid file descriptor")
			}
			return a, nil
		}
	}
	if ua, ok := unixAddr(a, prefix); ok {
		return ua, nil
	}
	if strings.Contains(a, "@") {
		return "", errors.New("only TCP and unix stream addresses are supported by the gohap runtime yet")
	}
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return "", errors.New("missing port")
	}
	host, port := a[:i], a[i+1:]
	if strings.Contains(port, "-") {
		return "", errPortRange
	}
	if host == "*" {
		host = ""
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.JoinHostPort(host, port), nil
}

var errPortRange = errors.New("port range")

// listenAddrs is listenAddr for an address that may end in a port range
// ("host:8000-8003"), which HAProxy listens on port by port.
func listenAddrs(a, prefix string, m map[string]string) ([]string, error) {
	addr, err := listenAddr(a, prefix, m)
	if err != errPortRange {
		return []string{addr}, err
	}
	a = mapAddr(stripFamily(strings.TrimSpace(a)), m)
	i := strings.LastIndexByte(a, ':')
	lo, hi, _ := strings.Cut(a[i+1:], "-")
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || l < 1 || h > 65535 || h < l {
		return nil, errors.New("invalid port range")
	}
	var out []string
	for p := l; p <= h; p++ {
		one, err := listenAddr(a[:i+1]+strconv.Itoa(p), "", nil)
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, nil
}

// serverTarget reads a server address after the Map rewrite: its host (an
// IP address or a name) and its port, the offset of a port that follows
// the client's ("0" when none).
func serverTarget(a string, m map[string]string) (host, port string, err error) {
	a = mapAddr(stripFamily(a), m)
	host = a
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", "", errors.New("bad address")
		}
		host, port = a[1:i], strings.TrimPrefix(a[i+1:], ":")
	} else if strings.Count(a, ":") == 1 {
		i := strings.IndexByte(a, ':')
		host, port = a[:i], a[i+1:]
	}
	if mapped, ok := m[host]; ok {
		host = mapped
	}
	if port == "" || port[0] == '+' || port[0] == '-' {
		// The port is the client's destination port plus this offset.
		n, _ := strconv.Atoi(port)
		port = strconv.Itoa(n)
	}
	return host, port, nil
}

// balanceAlgos maps the algorithms of "balance" to the balancer's.
var balanceAlgos = map[string]backend.Algo{
	"roundrobin": backend.RoundRobin, "static-rr": backend.StaticRR, "first": backend.First,
	"leastconn": backend.LeastConn, "source": backend.Source, "random": backend.Random, "uri": backend.URI,
	"url_param": backend.URLParam, "rdp-cookie": backend.RDPCookie, "hdr": backend.Hdr,
}

// compileBalance gives the backend the algorithm and hash parameters the
// parser read from its "balance" line.
func compileBalance(be *Backend, p *parser.Proxy) (backend.Algo, error) {
	b := p.LB
	if b.Unsupported {
		return 0, fmt.Errorf("'balance %s' in backend '%s' is not supported by the gohap runtime yet.", strings.Join(p.Balance, " "), be.Name)
	}
	be.draws, be.hashName, be.domainOnly = b.Draws, b.Name, b.DomainOnly
	be.uriWhole, be.uriPathOnly, be.uriLen, be.uriDepth = b.URIWhole, b.URIPathOnly, b.URILen, b.URIDepth
	return balanceAlgos[b.Algo], nil
}

// checkKind is the check option in force for p, the one declared last.
func checkKind(p *parser.Proxy) string {
	kind := ""
	var at parser.Pos
	for _, o := range []string{"httpchk", "tcp-check", "redis-check", "smtpchk", "mysql-check", "pgsql-check", "ldap-check", "ssl-hello-chk", "spop-check", "external-check"} {
		pos := p.OptionPos[o]
		if !p.Options[o] || kind != "" && !posAfter(pos, at) {
			continue
		}
		kind, at = o, pos
	}
	return kind
}

// posAfter orders positions of the same file by line; across files the
// later-read file comes later, which Pos cannot tell, so it stays false.
func posAfter(a, b parser.Pos) bool { return a.File == b.File && a.Line > b.Line }

// defaultMaxAccept is HAProxy 2.6's MAX_ACCEPT, which its authors found
// gave the highest accept rate at every thread count.
const defaultMaxAccept = 4

// defaultFullconn gives backends without "fullconn" HAProxy's default:
// a tenth of the maxconn of the frontends that can send them traffic,
// rounded up.
func defaultFullconn(g *Graph) {
	sum := map[*Backend]int{}
	for _, fe := range g.Frontends {
		seen := map[*Backend]bool{}
		add := func(be *Backend) {
			if be != nil && !seen[be] {
				seen[be] = true
				sum[be] += fe.Maxconn
			}
		}
		add(fe.Default)
		for _, r := range fe.routes {
			add(r.be)
			for _, be := range r.group {
				add(be)
			}
		}
	}
	for _, be := range g.Backends {
		if be.LB.Fullconn == 0 {
			be.LB.Fullconn = max((sum[be]+9)/10, 1)
		}
	}
}

// msgLimits derives the message limits from tune.bufsize,
// tune.maxrewrite and tune.http.maxhdr with HAProxy's defaults (16384,
// 1024, 101) and its rule that the rewrite reserve is at most half a
// buffer. A head's stored size must leave the reserve free; 49 bytes
// go to the buffer's own header and the end of the head.
func msgLimits(g parser.Global) (bufSize, htxLimit, maxHdr int) {
	bufSize, rewrite := bufLimits(g)
	maxHdr = 101
	if g.MaxHdr > 0 {
		maxHdr = g.MaxHdr
	}
	return bufSize, bufSize - rewrite - 49, maxHdr - 1
}

// bufLimits are tune.bufsize and tune.maxrewrite with HAProxy's defaults
// (16384, 1024) and its rule that the reserve is at most half a buffer.
func bufLimits(g parser.Global) (bufSize, rewrite int) {
	bufSize, rewrite = 16384, 1024
	if g.BufSize > 0 {
		bufSize = g.BufSize
	}
	if g.MaxRewriteSet {
		rewrite = g.MaxRewrite
	}
	return bufSize, min(rewrite, bufSize/2)
}

// extCheck compiles option external-check for a server.
func extCheck(cfg *parser.Config, p *parser.Proxy, s *parser.Server, id int, ssl bool) *backend.ExtCheck {
	x := &backend.ExtCheck{Command: p.ExtCheckCommand, Path: p.ExtCheckPath, ProxyName: p.Name,
		ProxyID: id, ProxyAddr: "NOT_USED", ProxyPort: "NOT_USED", Proto: "tcp", SSL: ssl,
		Timeout: s.Settings.Inter, Fork: cfg.Global.InsecureFork, NoNewPrivs: !cfg.Global.InsecureSetuid,
		Quiet: cfg.Global.Quiet}
	if p.Mode == "http" {
		x.Proto = "h1"
		if pr := s.Settings.Proto; pr != "" {
			x.Proto = pr
		}
	}
	if c := p.Timeouts["connect"]; p.Timeouts["check"] > 0 && c > 0 && c < x.Timeout {
		// HAProxy gives the command the connect timeout then.
		x.Timeout = c
	}
	if len(p.Binds) > 0 {
		x.ProxyAddr, x.ProxyPort = extCheckListener(p.Binds[0].Address)
	}
	return x
}

// extCheckListener is how HAProxy names a proxy's first listener to an
// external check: its address and port, or a unix socket's path.
func extCheckListener(a string) (addr, port string) {
	v6 := false
	if n, rest, ok := strings.Cut(a, "@"); ok {
		v6 = n == "ipv6" || n == "tcp6"
		switch n {
		case "unix":
			return rest, "NOT_USED"
		case "abns":
			return "", "NOT_USED"
		case "ipv4", "ipv6", "tcp", "tcp4", "tcp6":
			a = rest
		default:
			return "NOT_USED", "NOT_USED"
		}
	}
	if strings.HasPrefix(a, "/") {
		return a, "NOT_USED"
	}
	a, _, _ = strings.Cut(a, ",")
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return "NOT_USED", "NOT_USED"
	}
	host, port := strings.Trim(a[:i], "[]"), a[i+1:]
	port, _, _ = strings.Cut(port, "-")
	if host == "" || host == "*" {
		host = "0.0.0.0"
		if v6 {
			host = "::"
		}
	}
	return host, port
}

// observeModes and onErrors map "observe" and "on-error".
var (
	observeModes = map[string]backend.Observe{"": backend.ObserveNone, "none": backend.ObserveNone,
		"layer4": backend.ObserveLayer4, "layer7": backend.ObserveLayer7}
	onErrors = map[string]backend.OnError{"": backend.OnErrorFailCheck, "fail-check": backend.OnErrorFailCheck,
		"fastinter": backend.OnErrorFastInter, "sudden-death": backend.OnErrorSuddenDeath, "mark-down": backend.OnErrorMarkDown}
)

// LookupHost resolves a host name as HAProxy's getaddrinfo does, where
// the inet_aton forms (127.1, 1234, 0x7f000001) are IPv4 addresses and
// not names to look up.
func LookupHost(host string) ([]string, error) {
	if a, err := logfmt.InetAton(host); err == nil {
		return []string{a.String()}, nil
	}
	return net.LookupHost(host)
}
