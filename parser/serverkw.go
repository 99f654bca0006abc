package parser

import (
	"encoding/pem"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// serverKeywords maps each server/default-server option to the number of
// arguments it takes (HAProxy 2.6's srv_kws).
var serverKeywords = map[string]int{}

var serverKeywordNames []string

func init() {
	for _, kv := range strings.Fields(`addr:1 agent-addr:1 agent-check:0 agent-inter:1 agent-port:1 agent-send:1 allow-0rtt:0
alpn:1 backup:0 ca-file:1 check:0 check-alpn:1 check-proto:1 check-send-proxy:0 check-sni:1 check-ssl:0 check-via-socks4:0
ciphers:1 ciphersuites:1 cookie:1 crl-file:1 crt:1 disabled:0 downinter:1 enabled:0 error-limit:1 fall:1 fastinter:1
force-sslv3:0 force-tlsv10:0 force-tlsv11:0 force-tlsv12:0 force-tlsv13:0 id:1 init-addr:1 inter:1 log-proto:1
max-reuse:1 maxconn:1 maxqueue:1 minconn:1 namespace:1 no-agent-check:0 no-backup:0 no-check:0 no-check-send-proxy:0
no-check-ssl:0 no-send-proxy:0 no-send-proxy-v2:0 no-send-proxy-v2-ssl:0 no-send-proxy-v2-ssl-cn:0 no-ssl:0
no-ssl-reuse:0 no-sslv3:0 no-tfo:0 no-tls-tickets:0 no-tlsv10:0 no-tlsv11:0 no-tlsv12:0 no-tlsv13:0 non-stick:0 npn:1
observe:1 on-error:1 on-marked-down:1 on-marked-up:1 pool-low-conn:1 pool-max-conn:1 pool-purge-delay:1 port:1 proto:1
proxy-v2-options:1 redir:1 resolve-net:1 resolve-opts:1 resolve-prefer:1 resolvers:1 rise:1 send-proxy:0 send-proxy-v2:0
send-proxy-v2-ssl:0 send-proxy-v2-ssl-cn:0 slowstart:1 sni:1 socks4:1 source:1 ssl:0 ssl-max-ver:1 ssl-min-ver:1
ssl-reuse:0 stick:0 tcp-ut:1 tfo:0 tls-tickets:0 track:1 usesrc:1 verify:1 verifyhost:1 weight:1 ws:1`) {
		name, n, _ := strings.Cut(kv, ":")
		serverKeywords[name] = int(n[0] - '0')
		serverKeywordNames = append(serverKeywordNames, name)
	}
}

// delayOptionMsg checks the delay val of server option kw: missing is
// the option's message without one, badChar makes it for a bad unit.
func delayOptionMsg(kw, val, missing string, badChar func() string) string {
	if val == "" {
		return missing
	}
	switch _, r := parseTime(val); r {
	case timeOverflow:
		return fmt.Sprintf("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", val, kw)
	case timeBadChar:
		return badChar()
	}
	return ""
}

// checkServerOptions validates the options of a server or default-server
// line. It returns HAProxy's message for the first bad option, "" if none.
// netnsExists tells whether the network namespace NAME can be opened.
func netnsExists(name string) bool {
	f, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func checkServerOptions(serverName string, opts []string, isDefault bool) string {
	msg, _ := checkServerOptionsAt(serverName, opts, isDefault)
	return msg
}

// checkServerOptionsAt is checkServerOptions with the index of the
// option its message is about.
func checkServerOptionsAt(serverName string, opts []string, isDefault bool) (string, int) {
	if isDefault {
		// The default server's id in HAProxy's messages.
		serverName = "default-server"
	}
	for i := 0; i < len(opts); i++ {
		kw := opts[i]
		n, ok := serverKeywords[kw]
		if !ok {
			msg := fmt.Sprintf("unknown keyword '%s'.", kw)
			if best := bestMatch(kw, serverKeywordNames); best != "" {
				msg = fmt.Sprintf("unknown keyword '%s'; did you mean '%s' maybe ?", kw, best)
			}
			if isDefault {
				msg += " Hint: no address was expected for this server."
			}
			return msg, i
		}
		if isDefault && notDefaultOK[kw] {
			// Not fatal, but the rest of the line is not read.
			return nonFatal + fmt.Sprintf("'%s' option is not accepted in default-server sections", kw), i
		}
		val := ""
		if i+1 < len(opts) {
			val = opts[i+1]
		}
		var bad string
		switch kw {
		case "source":
			kw0 := "server"
			switch {
			case isDefault:
				kw0 = "default-server"
			case serverName == "(null)":
				kw0 = "server-template"
			}
			_, next, ret, alert, at := serverSource(opts, i, kw0)
			if ret != "" {
				return indentMsg(ret, 2) + ".", i
			}
			if alert != nil {
				return alert.Msg + strings.Join(append([]string{""}, alert.Detail...), "\n") + "\x00error encountered while processing '" + at + "'.", i
			}
			i = next - 1
			continue
		case "usesrc":
			bad = "'usesrc' only allowed after a 'source' statement."
		case "namespace":
			// HAProxy opens the namespace while it reads the line.
			if val == "" {
				bad = "'namespace' : expects <name> as argument"
			} else if val != "*" && !netnsExists(val) {
				bad = fmt.Sprintf("Cannot open namespace '%s'", val)
			}
		case "rise", "fall":
			if val == "" {
				bad = fmt.Sprintf("'%s' expects an integer argument.", kw)
			} else if Atol(val) <= 0 {
				bad = fmt.Sprintf("'%s' has to be > 0.", kw)
			}
		case "inter", "fastinter", "downinter", "agent-inter":
			bad = serverDelayMsg(kw, val, serverName)
		case "slowstart":
			switch _, r := parseTime(val); {
			case val == "":
				// The character is the string's end, which cuts the
				// message there.
				bad = "unexpected character '"
			case r == timeOverflow:
				bad = fmt.Sprintf("overflow in argument <%s> to <%s> of server %s, maximum value is 2147483647 ms (~24.8 days).", val, kw, serverName)
			case r == timeUnderflow:
				bad = fmt.Sprintf("underflow in argument <%s> to <%s> of server %s, minimum non-null value is 1 ms.", val, kw, serverName)
			case r == timeBadChar:
				bad = fmt.Sprintf("unexpected character '%c' in 'slowstart' argument of server %s.", badTimeChar(val), serverName)
			}
		case "addr":
			if val == "" {
				bad = "'addr' expects <ipv4|ipv6> as argument."
			} else if msg := checkConnectAddress(val, false); msg != "" {
				bad = "'addr' : " + strings.TrimSuffix(msg, "\n")
			}
		case "agent-addr":
			if val == "" {
				bad = "'agent-addr' expects an address as argument."
			} else if !isIP(val) && !isInetAton(val) && !resolvable(val) {
				bad = fmt.Sprintf("parsing agent-addr failed. Check if '%s' is correct address.", val)
			}
		case "agent-port":
			if val == "" {
				bad = "'agent-port' expects a port number as argument."
			}
		case "agent-send":
			if val == "" {
				bad = "'agent-send' expects a string as argument."
			}
		case "id":
			switch {
			case val == "":
				bad = "'id' : expects an integer argument"
			case catoi(val) <= 0:
				bad = "'id' : custom id has to be > 0"
			}
		case "track":
			if val == "" {
				bad = "'track' expects [<proxy>/]<server> as argument."
			}
		case "cookie", "pool-low-conn", "max-reuse":
			if val == "" {
				bad = fmt.Sprintf("'%s' expects <value> as argument.", kw)
			}
		case "port":
			if val == "" {
				bad = "'port' expects a port number as argument."
			}
		case "on-marked-down":
			if val != "shutdown-sessions" {
				return fmt.Sprintf("'on-marked-down' expects 'shutdown-sessions' but got '%s'.", val), i
			}
		case "on-marked-up":
			if val != "shutdown-backup-sessions" {
				return fmt.Sprintf("'on-marked-up' expects 'shutdown-backup-sessions' but got '%s'.", val), i
			}
		case "proxy-v2-options":
			for _, w := range strings.Split(val, ",") {
				if !proxyV2Options[w] {
					bad = fmt.Sprintf("'%s' : proxy v2 option not implemented", w)
					break
				}
			}
		case "weight":
			// atol's value, kept in an int.
			if w := catoi(val); w < 0 || w > 256 {
				bad = fmt.Sprintf("weight of server %s is not within 0 and 256 (%d).", serverName, w)
			}
		case "resolve-prefer":
			if val != "ipv4" && val != "ipv6" {
				bad = "'resolve-prefer' expects either ipv4 or ipv6 as argument."
			}
		case "resolve-net":
			bad = checkResolveNet(val)
		case "resolve-opts":
			for _, o := range splitList(val) {
				if o != "allow-dup-ip" && o != "ignore-weight" && o != "prevent-dup-ip" {
					bad = fmt.Sprintf("'resolve-opts' : unknown resolve-opts option '%s', supported methods are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'.", o)
					break
				}
			}
		case "init-addr":
			bad = checkInitAddr(val)
		case "pool-max-conn":
			if val == "" {
				bad = "'pool-max-conn' expects <value> as argument."
			} else if Atol(val) < -1 {
				bad = "'pool-max-conn' must be >= -1"
			}
		case "pool-purge-delay":
			bad = delayOptionMsg(kw, val, "'pool-purge-delay' expects <value> as argument.", func() string {
				return fmt.Sprintf("unexpected character '%c' in argument to <pool-purge-delay>.", badTimeChar(val))
			})
		case "tcp-ut":
			bad = delayOptionMsg(kw, val, "'tcp-ut' : missing TCP User Timeout value", func() string {
				return "'tcp-ut' : expects a positive delay in milliseconds"
			})
		case "observe":
			switch val {
			case "":
				// HAProxy's message ends with a newline, cut before its ".".
				bad = "'observe' expects <mode> as argument."
			case "none", "layer4", "layer7":
			default:
				bad = fmt.Sprintf("'observe' expects one of 'none', 'layer4', 'layer7' but got '%s'", val)
			}
		case "redir":
			if val == "" {
				bad = "'redir' expects <prefix> as argument."
			}
		case "on-error":
			switch val {
			case "fastinter", "fail-check", "sudden-death", "mark-down":
			default:
				bad = fmt.Sprintf("'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '%s'", val)
			}
		case "error-limit":
			if val == "" {
				bad = "'error-limit' expects an integer argument."
			} else if Atol(val) <= 0 {
				bad = "error-limit has to be > 0."
			}
		case "ws":
			if val != "auto" && val != "h1" && val != "h2" {
				bad = "'ws' has to be 'auto', 'h1' or 'h2'"
			}
		case "log-proto":
			if val != "legacy" && val != "octet-count" {
				bad = fmt.Sprintf("'log-proto' expects one of 'legacy' or 'octet-count' but got '%s'", val)
			}
		case "check-proto":
			switch val {
			case "":
				bad = "'check-proto' : missing value"
			case "h1", "h2", "fcgi", "none":
			default:
				bad = fmt.Sprintf("'check-proto' :  unknown MUX protocol '%s'", val)
			}
		case "socks4":
			if val == "" {
				bad = "'socks4' expects <addr>:<port> as argument."
			} else if msg := checkSocks4Address(val); msg != "" {
				// srv_parse_socks4 ends its message with a newline,
				// which indent_msg strips or keeps.
				return indentMsg(fmt.Sprintf("'%s %s' : %s\n", kw, val, msg), 2) + ".", i
			}
		case "proto":
			switch val {
			case "":
				bad = "'proto' : missing value"
			case "h1", "h2", "fcgi", "none":
			default:
				bad = fmt.Sprintf("'proto' :  unknown MUX protocol '%s'", val)
			}
		default:
			if _, ok := serverTLSOptions[kw]; ok {
				bad = checkServerTLSOption(kw, val)
			}
		}
		if bad != "" {
			return bad + ".", i
		}
		i += n
	}
	return "", -1
}

// ServerSettings are the options of a server line on top of those of the
// default-server lines before it (configuration.txt 5.2). The zero value
// is not HAProxy's default: use defaultServerSettings.
type ServerSettings struct {
	// portWords counts the "port" and "agent-port" words of the last
	// line applied (Config.PortKeywords).
	portWords                              int
	Weight, Maxconn, Minconn, MaxQueue, ID int
	Slowstart, Inter, FastInter, DownInter time.Duration
	Rise, Fall                             int
	// Port and Addr are the check port and address ("" for the server's).
	Port, Addr              string
	Check, Disabled, Backup bool
	// InitAddr is the "init-addr" list as written, "" for the default.
	InitAddr string
	// Resolvers names the "resolvers" section; HasResolvers tells an
	// empty name from none.
	Resolvers    string
	HasResolvers bool
	// ResolvePrefer is "ipv4" or "ipv6" ("" for HAProxy's ipv6).
	ResolvePrefer string
	// ResolveNets are the "resolve-net" networks, at most 5.
	ResolveNets []netip.Prefix
	// AllowDupIP and IgnoreWeight are the "resolve-opts" options.
	AllowDupIP, IgnoreWeight            bool
	Track, Cookie                       string
	ShutdownOnDown, ShutdownBackupsOnUp bool
	// Observe, OnError and ErrorLimit are "observe" (none, layer4,
	// layer7), "on-error" and "error-limit" (0 for HAProxy's 10).
	Observe, OnError string
	ErrorLimit       int
	// Redir is "redir": GET and HEAD requests the server would get are
	// redirected to this prefix instead.
	Redir string
	// NonStick is "non-stick" ("stick" clears it): no stick-table entry
	// records the server.
	NonStick bool
	// httpMode is the proxy's mode when the line is read: "observe
	// layer7" needs HTTP.
	httpMode bool
	// ProxyV2Options are the words of the proxy-v2-options lines,
	// CheckSendProxy is check-send-proxy (configuration.txt 5.2).
	// PP holds the PROXY protocol flags the send-proxy words, their no-
	// forms and proxy-v2-options set, in order (SRV_PP_*): any flag sends
	// a header, v2 with PPv2 and v1 otherwise, as connect_server does.
	PP             RingPP
	CheckSendProxy bool
	ProxyV2Options []string
	// TLSWords are the TLS options of the line after those of the
	// default-server lines, in order, each with its argument; the
	// runtime reads them with its TLS package (later words win).
	TLSWords []string
	// Proto is the "proto" option: the multiplexer forced on the
	// server's connections (h1, h2, fcgi, none), "" to pick by mode and
	// ALPN.
	Proto string
	// PoolMaxConn is "pool-max-conn": how many idle connections the
	// server keeps, -1 (the default) for no limit.
	PoolMaxConn int
	// PoolLowConn is "pool-low-conn": idle connections kept beyond the
	// estimated need.
	PoolLowConn uint32
	// PoolPurgeDelay is "pool-purge-delay" (5 s by default): how often
	// the server's idle connections are purged; 0 keeps none.
	PoolPurgeDelay time.Duration
	// WS is the "ws" option: the protocol of WebSocket streams (auto,
	// h1, h2), "" for auto.
	WS string
	// CheckProto is "check-proto": the multiplexer of HTTP checks.
	CheckProto string
	// Agent is agent-check; AgentAddr, AgentPort, AgentSend and
	// AgentInter its agent-* options.
	Agent                           bool
	AgentAddr, AgentPort, AgentSend string
	AgentInter                      time.Duration
	// Socks4 is the SOCKS4 proxy connections to the server go through
	// ("socks4"); CheckViaSocks4 sends the checks of the default
	// connection through it too ("check-via-socks4").
	Socks4         Socks4Addr
	CheckViaSocks4 bool
	// Source is the server option "source", nil for none: the
	// backend's then applies.
	Source *SourceBind
	// MaxReuse is "max-reuse": how many more streams a connection to
	// the server carries after its first, -1 for no limit.
	MaxReuse int
	// TCPUserTimeout is "tcp-ut", TCP_USER_TIMEOUT on the connections
	// to the server, 0 for none.
	TCPUserTimeout time.Duration
	// TFO is "tfo" (unset by "no-tfo"): TCP Fast Open on the
	// connections to the server, which HAProxy 2.6 never uses (see the
	// runtime's srvSockOpts).
	TFO bool
	// Namespace is "namespace": the network namespace connections to
	// the server (and its checks) are made in.
	Namespace string
	// Unsupported is the first option the runtime does not run.
	Unsupported string
	// Bad holds the option and value pairs that could not be read.
	Bad [][2]string
}

func defaultServerSettings() ServerSettings {
	return ServerSettings{Weight: 1, Inter: 2 * time.Second, Rise: 2, Fall: 3, PoolMaxConn: -1, PoolPurgeDelay: 5 * time.Second, MaxReuse: -1}
}

// runtimeServerOptions are the server options the runtime implements,
// with whether each takes a value.
var runtimeServerOptions = map[string]bool{
	"weight": true, "maxconn": true, "inter": true, "fastinter": true, "downinter": true,
	"rise": true, "fall": true, "port": true, "addr": true, "init-addr": true,
	"check": false, "no-check": false, "enabled": false, "disabled": false, "backup": false,
	"cookie": true, "minconn": true, "slowstart": true, "maxqueue": true,
	"id": true, "track": true, "on-marked-down": true, "on-marked-up": true,
	"resolvers": true, "resolve-prefer": true, "resolve-net": true, "resolve-opts": true,
	"send-proxy": false, "send-proxy-v2": false, "no-send-proxy": false, "no-send-proxy-v2": false,
	"send-proxy-v2-ssl": false, "no-send-proxy-v2-ssl": false, "send-proxy-v2-ssl-cn": false, "no-send-proxy-v2-ssl-cn": false,
	"no-backup": false, "log-proto": true,
	"proxy-v2-options": true, "check-send-proxy": false, "no-check-send-proxy": false,
	"proto": true, "ws": true, "pool-max-conn": true, "check-proto": true,
	"socks4": true, "check-via-socks4": false, "namespace": true,
	"pool-low-conn": true, "pool-purge-delay": true,
	"agent-check": false, "no-agent-check": false, "agent-addr": true, "agent-port": true, "agent-send": true, "agent-inter": true,
	"observe": true, "on-error": true, "error-limit": true, "redir": true, "non-stick": false, "stick": false,
	"max-reuse": true, "tcp-ut": true, "tfo": false, "no-tfo": false,
}

// serverTLSOptions are the TLS options of server lines
// (srv_kws of ssl_sock.c), with whether each takes a value.
var serverTLSOptions = map[string]bool{
	"ssl": false, "no-ssl": false, "verify": true, "verifyhost": true, "ca-file": true, "crl-file": true,
	"crt": true, "sni": true, "alpn": true, "npn": true, "ciphers": true, "ciphersuites": true,
	"no-ssl-reuse": false, "ssl-reuse": false, "no-tls-tickets": false, "tls-tickets": false,
	"ssl-min-ver": true, "ssl-max-ver": true, "no-sslv3": false, "no-tlsv10": false, "no-tlsv11": false,
	"no-tlsv12": false, "no-tlsv13": false, "force-sslv3": false, "force-tlsv10": false, "force-tlsv11": false,
	"force-tlsv12": false, "force-tlsv13": false, "check-ssl": false, "no-check-ssl": false,
	"check-sni": true, "check-alpn": true, "allow-0rtt": false,
}

// proxyV2Options are the words of "proxy-v2-options" (srv_parse_proxy_v2_options).
var proxyV2Options = map[string]bool{"ssl": true, "cert-cn": true, "cert-key": true, "cert-sig": true,
	"ssl-cipher": true, "authority": true, "crc32c": true, "unique-id": true}

// apply reads server options over s.
func (s *ServerSettings) apply(opts []string) {
	bad := func(o, v string) { s.Bad = append(s.Bad[:len(s.Bad):len(s.Bad)], [2]string{o, v}) }
	num := func(o, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(o, v)
		}
		return n
	}
	dur := func(o, v string) time.Duration {
		d, ok := parseTimeValue(v)
		if !ok {
			bad(o, v)
		}
		return d
	}
	s.portWords = 0
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		if arg, ok := serverTLSOptions[o]; ok {
			n := 1
			if arg && i+1 < len(opts) {
				n = 2
			}
			s.TLSWords = append(s.TLSWords[:len(s.TLSWords):len(s.TLSWords)], opts[i:i+n]...)
			i += n - 1
			continue
		}
		if o == "source" {
			sb, next, _, _, _ := serverSource(opts, i, "")
			s.Source = sb
			i = next - 1
			continue
		}
		takesArg, ok := runtimeServerOptions[o]
		if !ok {
			if s.Unsupported == "" {
				s.Unsupported = o
			}
			i += serverKeywords[o]
			continue
		}
		v := ""
		if takesArg {
			if i+1 >= len(opts) {
				if o == "resolvers" {
					// HAProxy looks for a section of no name.
					s.HasResolvers = true
				}
				return
			}
			i++
			v = opts[i]
		}
		switch o {
		case "weight":
			s.Weight = num(o, v)
		case "maxconn":
			s.Maxconn = num(o, v)
		case "minconn":
			s.Minconn = num(o, v)
		case "maxqueue":
			s.MaxQueue = num(o, v)
		case "id":
			s.ID = num(o, v)
		case "rise":
			s.Rise = num(o, v)
		case "fall":
			s.Fall = num(o, v)
		case "slowstart":
			s.Slowstart = dur(o, v)
		case "inter":
			s.Inter = dur(o, v)
		case "fastinter":
			s.FastInter = dur(o, v)
		case "downinter":
			s.DownInter = dur(o, v)
		case "track":
			s.Track = v
		case "cookie":
			s.Cookie = v
		case "observe":
			if v != "layer7" || s.httpMode {
				s.Observe = v
			}
		case "on-error":
			s.OnError = v
		case "redir":
			s.Redir = v
		case "non-stick", "stick":
			s.NonStick = o == "non-stick"
		case "error-limit":
			s.ErrorLimit = int(Atol(v))
		case "max-reuse":
			s.MaxReuse = int(int32(Atol(v))) // atoi
		case "tcp-ut":
			if _, r := parseTime(v); r == timeUnderflow {
				// HAProxy 2.6.12 sets a delay below a millisecond as 1ms.
				s.TCPUserTimeout = time.Millisecond
			} else {
				s.TCPUserTimeout = dur(o, v)
			}
		case "tfo", "no-tfo":
			s.TFO = o == "tfo"
		case "on-marked-down":
			s.ShutdownOnDown = v == "shutdown-sessions"
		case "on-marked-up":
			s.ShutdownBackupsOnUp = v == "shutdown-backup-sessions"
		case "send-proxy", "no-send-proxy", "send-proxy-v2", "no-send-proxy-v2",
			"send-proxy-v2-ssl", "no-send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "no-send-proxy-v2-ssl-cn":
			if w := ringPPWords[o]; w.set {
				s.PP |= w.flags
			} else {
				s.PP &^= w.flags
			}
		case "check-send-proxy", "no-check-send-proxy":
			s.CheckSendProxy = o == "check-send-proxy"
		case "proxy-v2-options":
			s.ProxyV2Options = append(s.ProxyV2Options[:len(s.ProxyV2Options):len(s.ProxyV2Options)], strings.Split(v, ",")...)
			for _, w := range strings.Split(v, ",") {
				s.PP |= ringPPOptions[w]
			}
		case "check":
			s.Check = true
		case "no-check":
			s.Check = false
		case "disabled":
			s.Disabled = true
		case "enabled":
			s.Disabled = false
		case "log-proto":
			// Only a ring's forwarder reads it (sink.c): on a proxy's
			// server it changes nothing, in HAProxy as here.
		case "backup", "no-backup":
			s.Backup = o == "backup"
		case "addr":
			s.Addr = v
		case "proto":
			s.Proto = v
		case "ws":
			s.WS = v
		case "pool-max-conn":
			s.PoolMaxConn = int(Atol(v))
		case "pool-low-conn":
			s.PoolLowConn = uint32(Atol(v)) // an unsigned atoi, as HAProxy's
		case "pool-purge-delay":
			// Below a millisecond, HAProxy reads 0.
			if _, r := parseTime(v); r == timeUnderflow {
				s.PoolPurgeDelay = 0
			} else {
				s.PoolPurgeDelay = dur(o, v)
			}
		case "check-proto":
			s.CheckProto = v
		case "agent-check", "no-agent-check":
			s.Agent = o == "agent-check"
		case "agent-addr":
			s.AgentAddr = v
		case "agent-port":
			s.AgentPort = v
			s.portWords++
		case "agent-send":
			s.AgentSend = v
		case "agent-inter":
			s.AgentInter = dur(o, v)
		case "port":
			s.Port = v
			s.portWords++
		case "socks4":
			s.Socks4 = readSocks4Addr(v)
		case "check-via-socks4":
			s.CheckViaSocks4 = true
		case "namespace":
			s.Namespace = v
		case "init-addr":
			s.InitAddr = v
		case "resolvers":
			s.Resolvers, s.HasResolvers = v, true
		case "resolve-prefer":
			s.ResolvePrefer = v
		case "resolve-net":
			s.ResolveNets = nil
			for _, n := range splitList(v) {
				if pf, ok := parseNet(n); ok && len(s.ResolveNets) < 5 {
					s.ResolveNets = append(s.ResolveNets, pf)
				}
			}
		case "resolve-opts":
			for _, o := range splitList(v) {
				switch o {
				case "allow-dup-ip":
					s.AllowDupIP = true
				case "prevent-dup-ip":
					s.AllowDupIP = false
				case "ignore-weight":
					s.IgnoreWeight = true
				}
			}
		}
	}
}

// checkServerTLSOption is the argument check of the TLS options of a
// server line (ssl_sock.c srv_parse_*); files are read later.
func checkServerTLSOption(kw, val string) string {
	missing := map[string]string{"verify": "verify method", "ca-file": "CAfile path", "crl-file": "CRLfile path",
		"crt": "certificate file path", "sni": "sni expression", "alpn": "the comma-delimited ALPN protocol suite",
		"check-alpn": "the comma-delimited ALPN protocol suite", "npn": "the comma-delimited NPN protocol suite",
		"ssl-min-ver": "the ssl/tls version", "ssl-max-ver": "the ssl/tls version", "ciphers": "cipher suite",
		"ciphersuites": "cipher suite", "verifyhost": "hostname to verify against", "check-sni": "SNI"}
	if what, ok := missing[kw]; ok && val == "" {
		return fmt.Sprintf("'%s' : missing %s", kw, what)
	}
	switch kw {
	case "verify":
		if val != "none" && val != "required" {
			return fmt.Sprintf("'%s' : unknown verify method '%s', only 'none' and 'required' are supported", kw, val)
		}
	case "ssl-min-ver", "ssl-max-ver":
		if !tlsVersion(val) {
			return fmt.Sprintf("'%s' : unknown ssl/tls version", val)
		}
	case "alpn", "check-alpn":
		for _, p := range strings.Split(val, ",") {
			if len(p) > 255 {
				return fmt.Sprintf("'%s' : ALPN protocol name too long : '%s'", kw, p)
			}
		}
	}
	return ""
}

// checkServerTLSFiles reports the ca-file and crl-file of a server line
// that cannot be opened, as srv_parse_ca_file and srv_parse_crl_file do
// while parsing; what the files hold is checked later. It returns false
// after an alert.
func checkServerTLSFiles(c *pctx, server string, opts []string) bool {
	for i := 0; i+1 < len(opts); i++ {
		kw := opts[i]
		if kw != "ca-file" && kw != "crl-file" {
			continue
		}
		f := opts[i+1]
		if base := c.cp.cfg.Global.SSL.CABase; base != "" && !strings.HasPrefix(f, "/") {
			f = base + "/" + f
		}
		why := ""
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			// A directory of CAs is read later.
			i++
			continue
		}
		if b, err := os.ReadFile(f); err != nil {
			why = errnoText(err)
		} else if !hasPEMCertOrCRL(b) {
			why = "no certificate or crl found"
		}
		if why != "" {
			d := alertf(c.pos, "'server %s' : Couldn't open the ca-file '%s' (%s).", server, f, why)
			d.Style = StyleBracket
			c.cp.add(d)
			d = alertf(c.pos, "'%s' : unable to load %s.", kw, f)
			d.Style = StyleNone
			c.cp.add(d)
			return false
		}
		i++
	}
	return true
}

// hasPEMCertOrCRL tells whether b holds a PEM certificate or CRL.
func hasPEMCertOrCRL(b []byte) bool {
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return false
		}
		if blk.Type == "CERTIFICATE" || blk.Type == "X509 CRL" || blk.Type == "TRUSTED CERTIFICATE" {
			return true
		}
	}
}

// splitList cuts a comma separated option value as HAProxy's option
// parsers do: empty items are kept, a trailing comma ends the list.
func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(v, ","), ",")
}

// checkInitAddr is srv_parse_init_addr's check of the method list.
func checkInitAddr(v string) string {
	ips := 0
	for i, m := range splitList(v) {
		switch m {
		case "libc", "last", "none", "":
		default:
			if _, err := netip.ParseAddr(m); err != nil {
				return fmt.Sprintf("'init-addr' : unknown init-addr method '%s', supported methods are 'libc', 'last', 'none'.", m)
			}
			if ips++; ips > 1 {
				return fmt.Sprintf("'init-addr' : initial address already specified, cannot add '%s'.", m)
			}
		}
		// Ten methods fit in HAProxy's 32-bit list.
		if i >= 10 {
			return fmt.Sprintf("'init-addr' : too many init-addr methods when trying to add '%s'", m)
		}
	}
	return ""
}

// checkResolveNet is srv_parse_resolve_net's check of the network list.
func checkResolveNet(v string) string {
	if v == "" {
		return "'resolve-net' expects a list of networks."
	}
	for i, n := range splitList(v) {
		if i >= 5 {
			return "'resolve-net' exceed 5 networks."
		}
		if _, ok := parseNet(n); !ok {
			return fmt.Sprintf("'resolve-net' invalid network '%s'.", n)
		}
	}
	return ""
}

// parseNet reads a network as str2net and str62net: an address, with a
// prefix length or, for IPv4, a dotted mask.
func parseNet(n string) (netip.Prefix, bool) {
	a, m, hasMask := strings.Cut(n, "/")
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Prefix{}, false
	}
	if !hasMask {
		return netip.PrefixFrom(ip, ip.BitLen()), true
	}
	if pf, err := netip.ParsePrefix(n); err == nil {
		return pf.Masked(), true
	}
	if mask, err := netip.ParseAddr(m); err == nil && ip.Is4() && mask.Is4() {
		// str2net takes any dotted mask; its leading ones make the prefix.
		b := mask.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return netip.PrefixFrom(ip, bits.LeadingZeros32(^v)).Masked(), true
	}
	return netip.Prefix{}, false
}

// serverTimers are the server options whose value parse_time_err reads.
var serverTimers = map[string]bool{"inter": true, "fastinter": true, "downinter": true, "agent-inter": true,
	"slowstart": true, "pool-purge-delay": true, "tcp-ut": true}

// warnServerTimers gives parse_time_err's warning for each time value
// of a server line's options with characters after its unit. The first
// message of the line carries HAProxy's context for it, "[FILE:LINE] : "
// then the server's name ("'server PX/NAME' : "; none for a
// default-server line).
func (c *pctx) warnServerTimers(opts []string, name string) {
	ctx := fmt.Sprintf("[%s:%d] : ", c.pos.File, c.pos.Line)
	if name != "" {
		ctx += fmt.Sprintf("'server %s/%s' : ", c.cp.proxy.Name, name)
	}
	for i := 0; i+1 < len(opts); i++ {
		if !serverTimers[opts[i]] {
			continue
		}
		v := opts[i+1]
		i++
		if w := timerTrail(v); w != 0 {
			c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleNone, Msg: ctx + timerTrailText(w, v)})
			ctx = ""
		}
	}
}

// serverDelayMsg is srv_parse_check_inter's verdict on a check delay
// (HAProxy names agent-inter in every bad-character message).
func serverDelayMsg(kw, val, server string) string {
	if val == "" {
		return fmt.Sprintf("'%s' expects a delay as argument.", kw)
	}
	d, r := parseTime(val)
	switch r {
	case timeOverflow:
		return fmt.Sprintf("timer overflow in argument <%s> to <%s> of server %s, maximum value is 2147483647 ms (~24.8 days).", val, kw, server)
	case timeUnderflow:
		return fmt.Sprintf("timer underflow in argument <%s> to <%s> of server %s, minimum non-null value is 1 ms.", val, kw, server)
	case timeBadChar:
		return fmt.Sprintf("unexpected character '%c' in 'agent-inter' argument of server %s.", badTimeChar(val), server)
	}
	if d <= 0 {
		return fmt.Sprintf("invalid value 0 for argument '%s' of server %s.", kw, server)
	}
	return ""
}

// notDefaultOK are the server options a default-server line refuses.
var notDefaultOK = map[string]bool{"id": true, "no-sslv3": true, "no-tlsv10": true, "no-tlsv11": true, "no-tlsv12": true, "no-tlsv13": true}

// nonFatal starts a checkServerOptions message whose alert is not fatal.
const nonFatal = "\x01"

// agentPortless is an agent check with no port to reach the agent on:
// agent-port, else the check port (_srv_parse_finalize refuses it).
func (s *ServerSettings) agentPortless() bool {
	if !s.Agent {
		return false
	}
	if s.AgentPort != "" {
		return Atol(s.AgentPort) == 0
	}
	return Atol(s.Port) == 0
}
