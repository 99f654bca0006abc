package parser

import (
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
	"net/netip"
	"time"
)

// Support says what the gohap runtime does with a keyword.
type Support int

// Support levels.
const (
	// Unsupported keywords change traffic but the runtime does not implement
	// them yet: check reports them and run refuses to start.
	Unsupported Support = iota
	// Harmless keywords are process settings that do not change traffic
	// (daemon, chroot, tune.*); they are accepted with a notice at most.
	Harmless
	// Supported keywords are implemented by the runtime.
	Supported
)

// Cap is a proxy capability set (HAProxy's PR_CAP_FE / PR_CAP_BE).
type Cap int

// Capabilities.
const (
	CapFE  Cap = 1
	CapBE  Cap = 2
	CapDef Cap = 4 // a defaults section
)

// Config is the typed model of one or more configuration files.
type Config struct {
	Files    []*File
	Global   Global
	Defaults []*Proxy
	// Proxies holds frontend, backend and listen sections in source order.
	Proxies []*Proxy
	// Sections holds the other sections (userlist, peers, resolvers, ...).
	Sections []*Section
	// HTTPErrors are the http-errors sections.
	HTTPErrors []*HTTPErrors
	// Resolvers are the resolvers sections, in source order.
	Resolvers []*Resolvers
	// Caches are the cache sections that are right, in source order.
	Caches []*Cache
	// Userlists are the userlist sections, in order.
	Userlists []*Userlist
	// FCGIApps are the fcgi-app sections, in source order.
	FCGIApps []*FCGIApp
	// Peers are the peers sections, in source order; LocalPeer is the
	// global "localpeer" name, empty when not set.
	Peers     []*Peers
	LocalPeer string
	// Rings are the ring sections, in source order.
	Rings []*Ring
	// Programs are the "program" sections, in order.
	Programs []*Program
	// Namespaces are the network namespaces of the namespace_list
	// sections, the ones a PROXY header may name besides those of binds
	// and servers.
	Namespaces []string
	// DefaultPathReturn is the directory to go back to once the files the
	// configuration names are loaded, set when "default-path" changed
	// the working directory (Options.Chdir).
	DefaultPathReturn string
	// PortKeywords counts the "port" and "agent-port" words of server
	// and default-server lines: HAProxy reserves a descriptor for each
	// as it parses them.
	PortKeywords int
	// Directives lists every keyword line with its support level, in
	// source order, so that the runtime can refuse what it does not do.
	Directives []*Directive
	// Aborted is set when an error stopped the parse at once, as a
	// section parser's -1 does in HAProxy (a proxy's "description"
	// without text): AbortedIn names the file, which HAProxy then says it
	// could not open.
	Aborted   bool
	AbortedIn string
	// AbortAfterFile is set by errors that stop HAProxy once the current
	// file is read (a Lua file that cannot be loaded).
	AbortAfterFile bool
	// streamRings counts the stream log targets read, which name their
	// implicit rings.
	streamRings int
}

// Directive is one keyword line inside a section.
type Directive struct {
	Pos     Pos
	Section string // section keyword: global, frontend, ...
	Name    string // section name, empty for global
	Keyword string // the keyword, with "no "/"default " removed
	Args    []string
	Support Support
	// Legacy is set when the line uses 1.x syntax that HAProxy 2.6 rejects.
	Legacy bool
}

// GlobalSetVar is a global "set-var <name> <expr>" or "set-var-fmt <name>
// <format>" line: Keyword says which, Expr holds the expression or format.
type GlobalSetVar struct {
	Pos        Pos
	Keyword    string
	Name, Expr string
	// Limits are the tune.vars limits read before the line, those its
	// variable is accounted under.
	Limits VarLimits
}

// DefaultCookieCapLen is HAProxy's CAPTURE_LEN, the default cookie_len.
const DefaultCookieCapLen = 64

// CookieCapMax is the longest cookie capture tune.http.cookielen allows.
func (g *Global) CookieCapMax() int {
	if g.CookieCapLen == 0 {
		return DefaultCookieCapLen - 1
	}
	return g.CookieCapLen - 1
}

// Global holds process settings from the global sections.
type Global struct {
	// H1Case is h1-case-adjust and h1-case-adjust-file.
	H1Case H1CaseAdjust
	// Experimental is expose-experimental-directives.
	Experimental bool
	// ExternalCheck is "external-check": external health checks may run.
	// InsecureFork is "insecure-fork-wanted" and InsecureSetuid
	// "insecure-setuid-wanted": without them HAProxy forbids new
	// processes and privilege gains to what it starts.
	ExternalCheck, InsecureFork, InsecureSetuid bool
	Pos                                         Pos
	Maxconn                                     int
	Nbthread                                    int
	Daemon                                      bool
	Quiet                                       bool
	// ZeroWarning makes warnings fatal, as HAProxy's zero-warning.
	ZeroWarning bool
	User, Group string
	// UnixBind is "unix-bind".
	UnixBind UnixBind
	// ServerStateFile and ServerStateBase are server-state-file and
	// server-state-base.
	ServerStateFile, ServerStateBase string
	// HardStopAfter bounds a soft stop (hard-stop-after); 0 is no bound.
	HardStopAfter time.Duration
	// MaxConnRate and MaxSessRate are maxconnrate and maxsessrate, new
	// connections accepted per second by the whole process; 0 is no limit.
	MaxConnRate, MaxSessRate int
	// MaxSSLRate is maxsslrate: connections accepted per second on the
	// TLS binds; 0 is no limit.
	MaxSSLRate int
	// MaxAccept is tune.maxaccept, the connections a listener accepts
	// in a row before other work runs: 0 is HAProxy's default (4), a
	// negative value no limit.
	MaxAccept int
	// FdHardLimit is "fd-hard-limit", the most descriptors the process
	// takes whatever the system allows (0: none); NoStrictLimits is
	// "no strict-limits": a descriptor limit the process cannot reach
	// is a warning instead of a fatal error.
	FdHardLimit    int
	NoStrictLimits bool
	// SpreadChecks is spread-checks, the percentage (0..50) by which a
	// check's interval varies at random; MaxSpreadChecks is
	// max-spread-checks, the longest window the first checks start over
	// (0: their shortest interval).
	SpreadChecks    int
	MaxSpreadChecks time.Duration
	// H1AnyPayload is h1-accept-payload-with-any-method.
	H1AnyPayload bool
	// CPUMap is what the cpu-map lines bind.
	CPUMap CPUMap
	// ClientRcvBuf, ClientSndBuf, ServerRcvBuf and ServerSndBuf are
	// tune.rcvbuf.client, tune.sndbuf.client, tune.rcvbuf.server and
	// tune.sndbuf.server: the socket buffer sizes set on client and server
	// connections (0: the system's).
	ClientRcvBuf, ClientSndBuf, ServerRcvBuf, ServerSndBuf int
	// CookieCapLen is tune.http.cookielen plus one, HAProxy's
	// cookie_len: a cookie capture keeps at most one byte less (0: the
	// default, 64).
	CookieCapLen int
	// seenInts holds the values of integer settings gohap reads only to
	// report a second one, as HAProxy does.
	seenInts map[string]*int
	// NoSplice is "nosplice"; MaxPipes "maxpipes" (0: maxconn/4) and
	// PipeSize "tune.pipesize" (0: the kernel's).
	NoSplice           bool
	MaxPipes, PipeSize int
	// BufSize, MaxRewrite and MaxHdr are tune.bufsize, tune.maxrewrite
	// and tune.http.maxhdr; zero when not set (MaxRewriteSet tells an
	// explicit 0).
	BufSize, MaxRewrite, MaxHdr int
	MaxRewriteSet               bool
	// LogURILen is tune.http.logurilen, how many bytes of the request
	// line a log keeps (1024 when unset).
	LogURILen    int
	LogURILenSet bool
	// CrtBase prefixes relative certificate paths (crt-base).
	CrtBase string
	// SSL holds the TLS and HTTP/2 process settings.
	SSL  SSLGlobal
	Logs []Log
	// LogTag is the global log-tag; LogSendHostname is set by
	// log-send-hostname, with LogHostname its name if given.
	LogTag          string
	LogSendHostname bool
	LogHostname     string
	// Node and Description are the global node and description, shown
	// by the statistics page.
	Node, Description string
	// Stats holds the "stats" lines: the runtime CLI's sockets and
	// settings (configuration.txt 3.1, "stats socket").
	Stats Stats
	// Process holds the settings of the process itself (process.go).
	Process Process
	// CompMaxLevel is tune.comp.maxlevel, 0 when not set; MaxCompRate is
	// maxcomprate in bytes per second, 0 for no limit (compression.go).
	CompMaxLevel, MaxCompRate int
	// PP2NeverSendLocal is pp2-never-send-local: health checks send a
	// PROXY v2 header with their own addresses, not a LOCAL one.
	PP2NeverSendLocal bool
	// SetVars are the global set-var and set-var-fmt lines, in order.
	SetVars []GlobalSetVar
	// MemMax is -m, the memory limit in MiB (0: none); MaxZlibMem is
	// maxzlibmem in bytes. HAProxy derives maxconn from the first less
	// the second.
	MemMax     int
	MaxZlibMem int64
	// IdlePoolPerThread is "tune.idle-pool.shared off": a thread reuses
	// only the idle server connections its own connections left.
	IdlePoolPerThread bool
	// CloseSpread is close-spread-time: the window over which a soft stop
	// closes connections; CloseSpreadInfinite, "infinite", leaves them to
	// their timeouts.
	CloseSpread         time.Duration
	CloseSpreadInfinite bool
	// HTTPClient is the httpclient.* settings.
	HTTPClient HTTPClient
	// PoolHighRatio and PoolLowRatio are tune.pool-high-fd-ratio and
	// tune.pool-low-fd-ratio plus one, 0 when not set (25 and 20).
	PoolHighRatio, PoolLowRatio int
	// SetDumpable is set-dumpable: once its identity changed, the process
	// lifts its file and core size limits and may dump core again.
	SetDumpable bool
	// NoNumaMapping is "no numa-cpu-mapping": a machine with several NUMA
	// nodes runs on all of them when nbthread is not set.
	NoNumaMapping bool
	// QuietPos is the first "quiet" line: HAProxy still prints what the
	// lines before it caused.
	QuietPos Pos
	// VarLimits are tune.vars.*-max-size: the bytes variables may hold
	// per scope (0: no limit).
	VarLimits VarLimits
}

// VarLimits are the tune.vars.*-max-size values.
type VarLimits struct {
	Reqres, Txn, Sess, Check, Proc, Global uint32
}

// Stats is what the global "stats" lines set for the runtime CLI.
type Stats struct {
	// Sockets lists the "stats socket" lines in source order.
	Sockets []StatsSocket
	// Timeout is "stats timeout" (10s when zero) and Maxconn "stats
	// maxconn" (10 when zero).
	Timeout time.Duration
	Maxconn int
	// Declared is set by any "stats" line. HAProxy then makes its
	// internal GLOBAL proxy where the first one is, after ProxiesBefore
	// proxies, and it shifts the automatic ids of the proxies after it.
	Declared      bool
	ProxiesBefore int
}

// StatsSocket is one "stats socket" line.
type StatsSocket struct {
	Pos Pos
	// Address is a unix socket path, "fd@N", or a TCP "ip:port", with an
	// optional "unix@", "ipv4@" or "ipv6@" prefix.
	Address string
	// Level is "user", "operator" (the default) or "admin".
	Level string
	// Mode is the unix socket's permissions, when HasMode is set.
	Mode    uint32
	HasMode bool
	// ExposeFD is "expose-fd listeners": the socket hands the listening
	// sockets to a new process ("_getsocks", -x).
	ExposeFD bool
	// Owner is the unix socket's uid, user, gid and group.
	Owner UnixPerms
}

// Log is a log target: a "log" line of the global section or a proxy.
type Log struct {
	Pos      Pos
	Address  string
	Facility string
	Target   logfmt.TargetConfig
}

// Proxy is a frontend, backend, listen or defaults section.
type Proxy struct {
	// hc is the proxy's http-check rule sequence, kept to check it as
	// HAProxy builds it; hcOn is set once option httpchk made it an HTTP
	// check, from which point HAProxy checks the order of the rules.
	hc   []hcRule
	hcOn bool
	// lfsPos is the last line that parsed a log-format in the proxy
	// (log-format, option httplog... and rules with formats): HAProxy
	// names it in log-format errors.
	lfsPos Pos

	Pos  Pos
	Kind string // "frontend", "backend", "listen" or "defaults"
	Name string
	Cap  Cap
	From string // named defaults it inherits from
	// Def is the defaults section it inherits from, nil for none: the
	// HTTP rules of a named one run before the proxy's own.
	Def  *Proxy
	Mode string // "tcp" (HAProxy's default) or "http"
	// Binds are the listening addresses, including legacy ones given on the
	// section line.
	Binds    []Bind
	Timeouts map[string]time.Duration
	Maxconn  int
	// Backlog is the frontend's listen backlog ("backlog"); 0 falls back
	// to its maxconn.
	Backlog int
	// RateLimitSessions is "rate-limit sessions": new sessions accepted
	// per second by the frontend; 0 is no limit.
	RateLimitSessions int
	// Options maps an option name to true (set) or false ("no option").
	Options   map[string]bool
	OptionPos map[string]Pos
	ACLs      []*ACL
	Rules     []*Rule
	// LegacyFilters are the 1.x header filters, in source order.
	LegacyFilters []*LegacyFilter
	// HTTPRequestRules (with the redirect lines) and HTTPResponseRules
	// are the proxy's own rules, in source order (httprules.go).
	HTTPRequestRules, HTTPResponseRules []*HTTPRule
	// HTTPAfterRules are the http-after-response rules, which also see
	// the answers the proxy makes itself.
	HTTPAfterRules []*HTTPRule
	DefaultBackend *Ref
	UseBackends    []*SwitchRule
	// Filters are the "filter" lines, in order.
	Filters []*FilterDecl
	// ServerRules are the use-server rules, in order.
	ServerRules []*ServerRule
	// PersistRules are the force-persist and ignore-persist lines, in
	// order (Keyword says which).
	PersistRules []CondLine
	// IgnoredConds are the conditions of the lines the proxy ignores for
	// want of capability (monitor fail in a backend, force-persist in a
	// frontend...), whose fetch arguments HAProxy still resolves.
	IgnoredConds []CondLine
	// ruleLists has a bit per rule list the proxy's own lines filled
	// (placedLists), for the warnings about misplaced rules.
	ruleLists uint
	Balance   []string
	// LB is what the balance line asks for.
	LB      Balance
	Servers []*Server
	// DefaultServer holds the words of the default-server lines and
	// ServerDefaults what they set.
	DefaultServer  []string
	ServerDefaults ServerSettings
	Retries        int
	// ExtCheckCommand and ExtCheckPath are "external-check command" and
	// "external-check path".
	ExtCheckCommand, ExtCheckPath string
	// EmailAlert is what the "email-alert" lines set.
	EmailAlert EmailAlert
	// RetryOn is "retry-on": what failures are retried (RetryConnFailure
	// unless set).
	RetryOn RetryOn
	// HasLog is set when the proxy has a log line (or inherits one).
	HasLog bool
	// Log holds the log targets, format and captures (logs.go).
	Log ProxyLog
	// ErrorConfs are the error page lines, the defaults section's first;
	// Config.ErrorPages applies them.
	ErrorConfs []ErrorConf
	// HTTPMode is the connection mode option in force ("httpclose",
	// "http-server-close", "http-keep-alive"); "" is keep-alive.
	HTTPMode string
	// OptionArgs holds the words after the name of the options set with
	// some (option httpchk, smtpchk, mysql-check, pgsql-check).
	OptionArgs map[string][]string
	// ForwardFor and OriginalTo are option forwardfor / originalto; nil
	// when not set.
	ForwardFor, OriginalTo *ForwardOpt
	// RedispatchAfter is "option redispatch <interval>": -1 without an
	// interval, 0 disables.
	RedispatchAfter int
	// HashType is the hash-type line; nil keeps map-based sdbm.
	HashType *HashType
	// HashBalanceFactor is hash-balance-factor, 0 when not set.
	HashBalanceFactor int
	// Fullconn is fullconn, 0 when not set; FullconnBad is the position
	// of a value the runtime cannot read.
	Fullconn    int
	FullconnBad Pos
	// ServerStateLoad is load-server-state-from-file (global, local,
	// none; "" when not set), ServerStateFileName server-state-file-name.
	ServerStateLoad, ServerStateFileName string
	// Dispatch is the dispatch line, nil without one.
	Dispatch *Dispatch
	// Cookie is the cookie line; nil without persistence cookie.
	Cookie *Cookie
	// RDPPersist is the cookie name of "persist rdp-cookie[(name)]".
	RDPPersist *Ref
	// TCPRequests are the tcp-request forms the runtime runs
	// (inspect-delay and "content accept if RDP_COOKIE"), inherited
	// ones first.
	TCPRequests []*TCPRequest
	// HTTPChecks and TCPChecks are the http-check and tcp-check rules:
	// the proxy's own, else those of its defaults section.
	HTTPChecks, TCPChecks []*CheckRule
	// CheckOpts holds the arguments of the check options.
	CheckOpts CheckOpts
	// ID is the proxy's "id", 0 when none is given.
	ID int
	// MonitorURI is monitor-uri: requests for it get 200 from the proxy.
	MonitorURI string
	// UniqueIDFormat is unique-id-format, UniqueID its nodes once
	// ResolveLogFormat read them; UniqueIDHeader is unique-id-header.
	UniqueIDFormat string
	UniqueIDPos    Pos
	UniqueID       []logfmt.Node
	UniqueIDHeader string
	// SendNameHeader is http-send-name-header's header name, lower-cased.
	SendNameHeader string
	// Source is "source": what the backend's connections are bound
	// to, nil when none.
	Source *SourceBind
	// Disabled is "disabled" (reverted by "enabled"): the proxy is not
	// started.
	Disabled bool
	// MaxKAQueue is "max-keep-alive-queue" plus one, as HAProxy keeps it:
	// 0 when unset (-1), else the server queue length from which a
	// preferred last server is passed over.
	MaxKAQueue int32
	// Description is "description", shown on the statistics page.
	Description string
	// CliTCPKA and SrvTCPKA are clitcpka-* and srvtcpka-*, the keep-alive
	// probes of client and server sockets where option clitcpka,
	// srvtcpka or tcpka turns keep-alive on.
	CliTCPKA, SrvTCPKA TCPKeepAlive
	// DynCookieKey is "dynamic-cookie-key": the secret that "cookie ...
	// dynamic" hashes with each server's address.
	DynCookieKey string
	// MaxSessSrvConns is max-session-srv-conns (5 by default): the idle
	// server connections a client connection keeps as its own.
	MaxSessSrvConns int
	// MonitorFail are the "monitor fail" lines, their conditions from
	// their if/unless: a monitor-uri request that matches one gets 503.
	MonitorFail []CondLine
	// HTTPReuse is the http-reuse mode: never, safe (the default),
	// aggressive or always.
	HTTPReuse string
	// FCGIApp is "use-fcgi-app": the fcgi-app section whose application
	// the backend's "proto fcgi" servers run, "" for none.
	FCGIApp string
	Stats   *ProxyStats // the "stats" lines' page (uri_auth), nil without one
	// Compression is the "compression" lines, nil without any.
	Compression *Compression
	// StickTables are the proxy's stick-table lines (stick.go); the
	// first valid one is its table. StickRules are its stick lines.
	StickTables []*StickTable
	StickRules  []*StickRule
	// FilterGroups are the send-spoe-group and ot-group actions of the
	// proxy's rules, in order: HAProxy looks their filter up among the
	// proxy's.
	FilterGroups []FilterGroupRef
	// ownHTTPChecks and ownTCPChecks are set once the proxy declares
	// its own check rules, which replace the inherited ones.
	ownHTTPChecks, ownTCPChecks bool
	// ownHTTPChk is set once the proxy declares option httpchk itself.
	ownHTTPChk bool
	// chkOpt and chkProto follow HAProxy's check type (options2) and the
	// protocol of its check rule set, which decide whether an http-check
	// or tcp-check line joins the check ("tcpchk"/"ext"; "tcp", "http",
	// "other"), both inherited from defaults.
	chkOpt, chkProto string
	// UnusedHTTPChecks and UnusedTCPChecks are set when http-check or
	// tcp-check rules were written while the proxy's check did not use
	// them, and no check option took them up afterwards (HAProxy's
	// TCPCHK_RULES_UNUSED_*_RS): check_config_validity warns, and the
	// check ignores them.
	UnusedHTTPChecks, UnusedTCPChecks bool
	// hasRules marks a defaults section with TCP or HTTP rules; usedByFE
	// and usedByBE say which kinds of proxies inherit from it.
	hasRules, usedByFE, usedByBE bool

	aclNames map[string]bool
	// bindIDs are the listener ids of the bind lines so far.
	bindIDs map[int]bindIDRef
}

// ForwardOpt is "option forwardfor [except NET] [header NAME] [if-none]"
// or the same form of "option originalto".
type ForwardOpt struct {
	// Header is the header name in lower case; "" uses the option's own.
	Header string
	// Except is the source network that gets no header; invalid when
	// not set.
	Except netip.Prefix
	IfNone bool
}

// HashType is "hash-type <method> [<function> [<modifier>]]".
type HashType struct {
	Consistent bool
	// Func is sdbm, djb2, wt6 or crc32.
	Func      string
	Avalanche bool
}

// Cookie is "cookie <name> [rewrite|insert|prefix] [options]"
// (configuration.txt 4.2, "cookie").
type Cookie struct {
	Pos  Pos
	Name string
	// Mode is "rewrite" (HAProxy's default), "insert" or "prefix".
	Mode                                           string
	Indirect, Preserve, HTTPOnly, Secure, PostOnly bool
	// NoCache is the nocache option: a cacheable response that gets the
	// inserted cookie is marked private.
	NoCache bool
	// Dynamic: servers without a cookie value get one from a hash of
	// dynamic-cookie-key and their address.
	Dynamic          bool
	Domains, Attrs   []string
	MaxIdle, MaxLife time.Duration
	// Unsupported lists the options the runtime does not run;
	// BadTimes the "option value" pairs whose time cannot be read.
	Unsupported []string
	BadTimes    [][2]string
}

// Bind is one listening address.
type Bind struct {
	Pos     Pos
	Address string
	Options []string
	// AcceptProxy is "accept-proxy": connections start with a PROXY
	// protocol header (configuration.txt 5.1).
	AcceptProxy bool
	// AcceptCIP is "accept-netscaler-cip": connections start with a
	// NetScaler Client IP insertion header whose magic number is CIPMagic.
	AcceptCIP bool
	CIPMagic  uint32
	// Unix is the owner and mode of the bind's unix sockets: the global
	// "unix-bind" settings, then the line's mode, uid, gid, user, group.
	Unix UnixPerms
	// Nice is "nice": the scheduling priority of the bind's streams
	// (-1024..1024, lower runs first).
	Nice int
	// Maxconn is the bind's own connection limit ("maxconn", 0 for the
	// frontend's); MSS the segment size it advertises ("mss", used when
	// positive); Interface the device it is bound to ("interface").
	Maxconn, MSS int
	Interface    string
	// Transparent binds addresses that are not local ("transparent");
	// V6Only keeps an IPv6 socket from IPv4 ("v6only"); DeferAccept
	// accepts a connection once data came ("defer-accept").
	Transparent, V6Only, DeferAccept bool
}

// UnixPerms are the owner and mode a unix socket file is given once
// bound: UID and GID when HasUID and HasGID; a zero Mode keeps the
// umask's.
type UnixPerms struct {
	Mode           uint32
	UID, GID       int
	HasUID, HasGID bool
}

// UnixBind is the global "unix-bind" line: the prefix of every bind's
// unix socket path, and the default owner and mode of those sockets.
type UnixBind struct {
	Prefix string
	Perms  UnixPerms
}

// ACL is one "acl" line. Lines with the same name OR together.
type ACL struct {
	Pos   Pos
	Name  string
	Fetch string
	Args  []string
}

// Rule is an action rule such as http-request, tcp-request or a legacy
// req*/rsp* line, kept in source order.
type Rule struct {
	Pos Pos
	// Section is the keyword of the section that declares the rule.
	Section string
	Keyword string
	Args    []string
}

// TCPRequest is a tcp-request form the runtime runs: the inspection
// delay, or the content accept rule of RDP load balancing.
type TCPRequest struct {
	Pos Pos
	// Section is the keyword of the section that declares the rule.
	Section string
	// Text is the words after the keyword, for messages.
	Text         string
	InspectDelay time.Duration
	// Response marks a tcp-response rule. Stage is connection, session
	// or content for a rule; Action its action (accept, reject, close,
	// set-var, set-var-fmt, unset-var), Var the variable, Expr the
	// sample of set-var, Fmt the format of set-var-fmt, Cond the words
	// of its condition.
	Response bool
	Stage    string
	Action   string
	Var      string
	Expr     string
	Fmt      string
	Cond     []string
	// Stick is the operand of the stick-table actions (track-sc,
	// sc-inc-gpc*, sc-set-gpt*), nil for the others.
	Stick *StickAction
	// LogLevel is set-log-level's level (LevelSilent for silent); Mark
	// set-mark's or set-tos's value; Nice set-nice's.
	LogLevel, Mark, Nice int
	// Proto is switch-mode's "proto" (h1, h2, none), empty when not set.
	Proto string
	// Resolvers and Family are do-resolve's section and "ipv4"/"ipv6".
	Resolvers, Family string
	// CaptureLen is capture's "len", CaptureID the request capture slot
	// the rule fills.
	CaptureLen, CaptureID int
	// Where are the check places the rule runs at (Proxy.TCPPlaces).
	Where smpuse.Val
}

// FilterGroupRef is a send-spoe-group or ot-group action: the rule list
// it is in ("tcp-request", "tcp-response", "http-request",
// "http-response"), the kind of filter it names ("spoe" or
// "opentracing"), the filter's engine or id, and the group.
type FilterGroupRef struct {
	List, Kind, Filter, Group string
}

// LevelSilent is set-log-level's "silent": the stream is not logged.
const LevelSilent = -1

// Ref is a reference to another section by name.
type Ref struct {
	Pos  Pos
	Name string
}

// SwitchRule is a use_backend line.
type SwitchRule struct {
	Pos     Pos
	Backend string
	Cond    []string // "if"/"unless" and the condition words
	// Where is the check place of backend switching rules.
	Where smpuse.Val
}

// CondLine is a line whose whole effect hangs on one condition
// ("monitor fail", "force-persist", "ignore-persist"): Cond holds the
// words from "if"/"unless" on.
type CondLine struct {
	Pos     Pos
	Keyword string
	Cond    []string
}

// ServerRule is a "use-server <server> if|unless <cond>" line; Server
// may be a log-format string naming it.
type ServerRule struct {
	Pos    Pos
	Server string
	Cond   []string
	Where  smpuse.Val
}

// Server is a server line.
type Server struct {
	Pos     Pos
	Name    string
	Address string
	Options []string
	// Settings are the server's options with the default-server ones.
	Settings ServerSettings
	// Template is set for servers made by server-template, whose
	// addresses HAProxy leaves to its resolvers rather than to start-up.
	Template bool
}

// Section is a non-proxy section.
type Section struct {
	Pos  Pos
	Kind string
	Name string
}

func newProxy(kind, name string, pos Pos) *Proxy {
	p := &Proxy{Pos: pos, Kind: kind, Name: name, Mode: "tcp", Timeouts: map[string]time.Duration{}, Options: map[string]bool{}, OptionPos: map[string]Pos{},
		OptionArgs: map[string][]string{}, HTTPReuse: "safe", MaxSessSrvConns: 5, Retries: 3, RetryOn: RetryConnFailure, RedispatchAfter: -1, LB: Balance{Algo: "roundrobin"}, ServerDefaults: defaultServerSettings()}
	switch kind {
	case "frontend":
		p.Cap = CapFE
	case "backend":
		p.Cap = CapBE
	case "listen":
		p.Cap = CapFE | CapBE
	default:
		p.Cap = CapFE | CapBE | CapDef
	}
	return p
}

// inherit copies the settings a defaults section passes to later proxies.
func (p *Proxy) inherit(d *Proxy) {
	if d == nil {
		return
	}
	p.Mode = d.Mode
	p.HasLog = d.HasLog
	p.Log, p.lfsPos = d.Log, d.lfsPos
	if p.Cap&CapFE == 0 {
		p.Log.ErrText, p.Log.ErrPos = "", Pos{}
	}
	for k, v := range d.Timeouts {
		p.Timeouts[k] = v
	}
	for k, v := range d.Options {
		p.Options[k] = v
	}
	for k, v := range d.OptionPos {
		p.OptionPos[k] = v
	}
	for k, v := range d.OptionArgs {
		p.OptionArgs[k] = v
	}
	p.CheckOpts = d.CheckOpts
	p.chkOpt, p.chkProto = d.chkOpt, d.chkProto
	p.ExtCheckCommand, p.ExtCheckPath = d.ExtCheckCommand, d.ExtCheckPath
	p.EmailAlert = d.EmailAlert
	p.Disabled = d.Disabled
	p.HTTPMode = d.HTTPMode
	p.ForwardFor, p.OriginalTo = d.ForwardFor, d.OriginalTo
	p.TCPRequests = d.TCPRequests
	p.Stats = d.Stats
	p.ErrorConfs = append([]ErrorConf(nil), d.ErrorConfs...)
	p.inheritCompression(d)
	if p.Cap&CapFE != 0 {
		p.CliTCPKA = d.CliTCPKA
		p.Maxconn = d.Maxconn
		p.MonitorURI = d.MonitorURI
		p.UniqueIDFormat, p.UniqueIDPos, p.UniqueIDHeader = d.UniqueIDFormat, d.UniqueIDPos, d.UniqueIDHeader
		p.MaxSessSrvConns = d.MaxSessSrvConns
		p.RateLimitSessions = d.RateLimitSessions
		p.Backlog = d.Backlog
	}
	if p.Cap&CapBE != 0 {
		p.Balance, p.LB = d.Balance, d.LB
		p.DefaultServer = d.DefaultServer
		p.ServerDefaults = d.ServerDefaults
		p.Retries = d.Retries
		p.RetryOn = d.RetryOn
		p.MaxKAQueue = d.MaxKAQueue
		p.SrvTCPKA = d.SrvTCPKA
		p.DynCookieKey = d.DynCookieKey
		p.HTTPReuse = d.HTTPReuse
		p.SendNameHeader = d.SendNameHeader
		p.Source = d.Source
		p.RedispatchAfter = d.RedispatchAfter
		p.HashType = d.HashType
		p.HashBalanceFactor = d.HashBalanceFactor
		p.Fullconn, p.FullconnBad = d.Fullconn, d.FullconnBad
		p.ServerStateLoad = d.ServerStateLoad
		p.Cookie = d.Cookie
		p.RDPPersist = d.RDPPersist
		p.HTTPChecks, p.TCPChecks = d.HTTPChecks, d.TCPChecks
	}
	if p.Cap&CapFE != 0 && d.DefaultBackend != nil {
		p.DefaultBackend = d.DefaultBackend
	}
}

// Dispatch is a "dispatch" line.
type Dispatch struct {
	Pos Pos
	// Addr is the address as written; Host and Port are what it
	// connects to.
	Addr string
	Host string
	Port int
}

// RulesInherited reports whether this is a defaults section whose TCP or
// HTTP rules proxies inherit: HAProxy then checks its rules and resolves
// its fetch arguments, once (check_config_validity), and not otherwise.
func (p *Proxy) RulesInherited() bool {
	return p.Cap&CapDef != 0 && p.hasRules && (p.usedByFE || p.usedByBE)
}

// ResolveCap is the capability HAProxy resolves the proxy's fetch
// arguments with: a defaults section whose rules frontends (backends)
// inherit takes theirs (cfgparse-listen.c), others keep their own.
func (p *Proxy) ResolveCap() Cap {
	if !p.RulesInherited() {
		return p.Cap
	}
	c := p.Cap &^ (CapFE | CapBE)
	if p.usedByFE {
		c |= CapFE
	}
	if p.usedByBE {
		c |= CapBE
	}
	return c
}

// HTTPClient is HAProxy's internal HTTP client's settings, which it
// checks as it starts even when nothing uses it: a resolvers section
// (ResolversSet: httpclient.resolvers.* was given) and, unless
// VerifyNone, a CA file (SSLSet: httpclient.ssl.* was given).
type HTTPClient struct {
	ResolversID          string
	ResolversSet, SSLSet bool
	// CAFile is httpclient.ssl.ca-file, when CAFileSet (it may be
	// empty).
	CAFile     string
	CAFileSet  bool
	VerifyNone bool
}

// bufSize is tune.bufsize as read so far, HAProxy's 16384 unless set.
func (g *Global) bufSize() int {
	if g.BufSize > 0 {
		return g.BufSize
	}
	return 16384
}

// maxRewrite is tune.maxrewrite as HAProxy applies it: 1024 unless set,
// at most half the buffer.
func (g *Global) maxRewrite() int {
	n := 1024
	if g.MaxRewriteSet {
		n = g.MaxRewrite
	}
	return min(n, g.bufSize()/2)
}
