package parser

import (
	"fmt"
	"math"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// pctx is what a keyword handler sees.
type pctx struct {
	cp   *cfgParser
	pos  Pos
	mod  string // "", "no" or "default"
	args []string
	// noCap marks a line its proxy ignores for want of capability, which
	// HAProxy still reads to the end (its condition included).
	noCap bool
}

func (c *pctx) alert(format string, a ...any) { c.cp.add(alertf(c.pos, format, a...)) }
func (c *pctx) warn(format string, a ...any)  { c.cp.add(warnf(c.pos, format, a...)) }
func (c *pctx) arg(i int) string {
	if i < len(c.args) {
		return c.args[i]
	}
	return ""
}

// tooMany reports HAProxy's alertif_too_many_args: more than n arguments
// after the keyword.
func (c *pctx) tooMany(n int) bool {
	if len(c.args) > n+1 && c.args[n+1] != "" {
		c.alert("'%s' cannot handle unexpected argument '%s'.", c.args[0], c.args[n+1])
		return true
	}
	return false
}

// keyword describes one configuration keyword.
type keyword struct {
	// caps lists the proxy capabilities that make the keyword meaningful
	// (0 = any); a proxy without them gets HAProxy's "ignored" warning.
	caps Cap
	// noDefaults: the keyword is an error in a defaults section.
	noDefaults bool
	support    Support
	handle     func(c *pctx)
}

// legacyKeyword is 1.x syntax that HAProxy 2.6 rejects.
type legacyKeyword struct {
	// compat is HAProxy 2.6's message; style is its prefix form.
	compat string
	style  Style
	// modern is the replacement, named in gohap's warning.
	modern string
	// apply gives the line its 1.x meaning (nil: accepted, not run).
	apply func(c *pctx)
	// unsupported marks a legacy construct that changes traffic and that
	// gohap does not run, so check reports it and run refuses it.
	unsupported bool
}

const legacyHTTPReq = "The '%s' directive is not supported anymore since HAProxy 2.1. "

var legacyProxyKeywords = map[string]legacyKeyword{
	"clitimeout":  {compat: "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.", modern: "'timeout client'", apply: legacyTimeout("client")},
	"srvtimeout":  {compat: "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.", modern: "'timeout server'", apply: legacyTimeout("server")},
	"contimeout":  {compat: "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.", modern: "'timeout connect'", apply: legacyTimeout("connect")},
	"redispatch":  {compat: "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.", modern: "'option redispatch'", apply: legacyRedispatch},
	"redisp":      {compat: "keyword 'redisp' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.", modern: "'option redispatch'", apply: legacyRedispatch},
	"block":       {compat: "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.", modern: "'http-request deny' placed before the other http-request rules", apply: legacyRule},
	"reqrep":      {compat: legacyHTTPReq + "Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.", modern: "'http-request replace-path', 'replace-uri' or 'replace-header'", apply: legacyRule},
	"cliexp":      {compat: legacyHTTPReq + "Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.", modern: "'http-request replace-path', 'replace-uri' or 'replace-header'", apply: legacyRule},
	"reqdel":      {compat: legacyHTTPReq + "Use 'http-request del-header' instead.", modern: "'http-request del-header'", apply: legacyRule},
	"reqdeny":     {compat: "The '%s' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.", modern: "'http-request deny'", apply: legacyRule},
	"reqpass":     {compat: "The '%s' not supported anymore since HAProxy 2.1.", modern: "nothing (remove the line)", apply: legacyRule},
	"reqallow":    {compat: legacyHTTPReq + "Use 'http-request allow' instead.", modern: "'http-request allow'", apply: legacyRule},
	"reqtarpit":   {compat: legacyHTTPReq + "Use 'http-request tarpit' instead.", modern: "'http-request tarpit'", apply: legacyRule},
	"reqirep":     {compat: legacyHTTPReq + "Use 'http-request replace-header' instead.", modern: "'http-request replace-header'", apply: legacyRule},
	"reqidel":     {compat: legacyHTTPReq + "Use 'http-request del-header' instead.", modern: "'http-request del-header'", apply: legacyRule},
	"reqideny":    {compat: legacyHTTPReq + "Use 'http-request deny' instead.", modern: "'http-request deny'", apply: legacyRule},
	"reqipass":    {compat: "The '%s' directive is not supported anymore since HAProxy 2.1.", modern: "nothing (remove the line)", apply: legacyRule},
	"reqiallow":   {compat: legacyHTTPReq + "Use 'http-request allow' instead.", modern: "'http-request allow'", apply: legacyRule},
	"reqitarpit":  {compat: legacyHTTPReq + "Use 'http-request tarpit' instead.", modern: "'http-request tarpit'", apply: legacyRule},
	"reqadd":      {compat: legacyHTTPReq + "Use 'http-request add-header' instead.", modern: "'http-request add-header'", apply: legacyRule},
	"rsprep":      {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.", modern: "'http-response replace-header'", apply: legacyRule},
	"srvexp":      {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.", modern: "'http-response replace-header'", apply: legacyRule},
	"rspdel":      {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .", modern: "'http-response del-header'", apply: legacyRule},
	"rspdeny":     {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.", modern: "'http-response deny'", apply: legacyRule},
	"rspirep":     {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.", modern: "'http-response replace-header'", apply: legacyRule},
	"rspidel":     {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead.", modern: "'http-response del-header'", apply: legacyRule},
	"rspideny":    {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.", modern: "'http-response deny'", apply: legacyRule},
	"rspadd":      {compat: "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.", modern: "'http-response add-header'", apply: legacyRule},
	"appsession":  {compat: "'%s' is not supported anymore since HAProxy 1.6.", modern: "'cookie <NAME> prefix nocache' or a stick table"},
	"monitor-net": {compat: "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src %s }' instead.", modern: "'http-request return status 200 if { src <net> }'"},
	"grace":       {compat: "the '%s' keyword is not supported any more since HAProxy version 2.5.", style: StyleParsingTight, modern: "nothing (remove the line)"},
	// Removed before 2.6's messages existed: HAProxy reports an unknown keyword.
	"reqsetbe":  {modern: "'use_backend <backend> if <condition>'", apply: legacyRule},
	"reqisetbe": {modern: "'use_backend <backend> if <condition>'", apply: legacyRule},
}

var legacyOptions = map[string]legacyKeyword{
	"forceclose":          {compat: "option '%s' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.", style: StyleParsingTight, modern: "'option httpclose'", apply: legacyForceClose},
	"http-tunnel":         {compat: "option '%s' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.", style: StyleParsingTight, modern: "nothing (remove the line; upgrades switch to tunnel mode by themselves)"},
	"http_proxy":          {compat: "option '%s' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.", style: StyleParsingTight, modern: "'http-request set-dst' with 'http-request set-uri'", unsupported: true},
	"http-use-htx":        {modern: "nothing (remove the line)"},
	"independant-streams": {modern: "'option independent-streams'", apply: func(c *pctx) { c.cp.proxy.Options["independent-streams"] = c.mod != "no" }},
	"tcpsplice":           {modern: "'option splice-auto'"},
}

func legacyRedispatch(c *pctx) {
	c.cp.proxy.Options["redispatch"] = true
	c.cp.proxy.RedispatchAfter = -1
}

// legacyForceClose gives "option forceclose" the meaning of httpclose.
func legacyForceClose(c *pctx) {
	p := c.cp.proxy
	switch c.mod {
	case "":
		p.Options["httpclose"], p.HTTPMode = true, "httpclose"
	case "no":
		p.Options["httpclose"] = false
		if p.HTTPMode == "httpclose" {
			p.HTTPMode = ""
		}
	}
}

func legacyTimeout(name string) func(c *pctx) {
	return func(c *pctx) {
		if d, ok := parseTimeValue(c.arg(1)); ok {
			c.cp.proxy.Timeouts[name] = d
		}
	}
}

func legacyRule(c *pctx) {
	if _, ok := legacyKinds[c.args[0]]; ok {
		p := c.cp.proxy
		p.LegacyFilters = append(p.LegacyFilters, parseLegacyFilter(c.pos, c.args[0], c.args[1:]))
	}
}

// globalKeywords lists the global section's keywords. Names absent from
// the map are unknown.
var globalKeywords = map[string]keyword{}

// harmlessGlobal are process settings with no effect on traffic (those
// whose arguments HAProxy checks are in globaltune.go).
var harmlessGlobal = strings.Fields(`ca-base crt-base maxsslconn pp2-never-send-local ssl-default-bind-ciphers
ssl-default-bind-ciphersuites ssl-default-bind-curves ssl-default-bind-options
ssl-default-server-ciphers ssl-default-server-ciphersuites ssl-default-server-options
ssl-dh-param-file ssl-mode-async tune.h2.header-table-size tune.h2.initial-window-size
tune.h2.max-concurrent-streams tune.h2.max-frame-size tune.ssl.cachesize
tune.ssl.capture-buffer-size tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param
tune.ssl.force-private-cache tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime
tune.ssl.maxrecord tune.ssl.ssl-ctx-cache-size tune.vars.check-max-size tune.vars.global-max-size
tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size tune.vars.txn-max-size
expose-experimental-directives tune.runqueue-depth tune.maxpollevents
tune.maxaccept tune.recv_enough tune.bufsize tune.maxrewrite tune.rcvbuf.client tune.rcvbuf.server
tune.sndbuf.client tune.sndbuf.server tune.pipesize tune.http.cookielen tune.http.logurilen
tune.http.maxhdr tune.comp.maxlevel ssl-server-verify maxcomprate maxpipes maxcompcpuusage ulimit-n
description node log-send-hostname log-tag setenv presetenv unsetenv resetenv localpeer stats`)

func init() {
	for _, k := range harmlessGlobal {
		globalKeywords[k] = keyword{support: Harmless}
	}
	globalKeywords["maxconn"] = keyword{support: Supported, handle: globalMaxconn}
	// It lets experimental actions (normalize-uri) be used.
	globalKeywords["expose-experimental-directives"] = keyword{support: Harmless, handle: func(c *pctx) { c.cp.cfg.Global.Experimental = true }}
	globalKeywords["set-var"] = keyword{support: Supported, handle: globalSetVar}
	globalKeywords["set-var-fmt"] = keyword{support: Supported, handle: globalSetVar}
	globalKeywords["quiet"] = keyword{support: Harmless, handle: func(c *pctx) {
		if g := &c.cp.cfg.Global; !c.tooMany(0) && !g.Quiet {
			g.Quiet, g.QuietPos = true, c.pos
		}
	}}
	globalKeywords["zero-warning"] = keyword{support: Harmless, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.ZeroWarning = true
		}
	}}
	// Process settings (daemon, user, chroot...) are in process.go.
	globalKeywords["hard-stop-after"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.arg(1) == "" {
			c.alert("'%s' expects <time> as argument.\n", c.args[0])
			return
		}
		c.warnTimer(c.arg(1))
		d, r := parseTime(c.arg(1))
		switch r {
		case timeOverflow:
			c.alert("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", c.arg(1), c.args[0])
			return
		case timeUnderflow:
			c.alert("timer underflow in argument '%s' to '%s' (minimum non-null value is 1 ms)", c.arg(1), c.args[0])
			return
		case timeBadChar:
			c.alert("unexpected character '%c' in argument to <%s>.\n", badTimeChar(c.arg(1)), c.args[0])
			return
		}
		c.cp.cfg.Global.HardStopAfter = d
	}}
	globalKeywords["close-spread-time"] = keyword{support: Supported, handle: globalCloseSpread}
	globalKeywords["tune.idle-pool.shared"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		switch c.arg(1) {
		case "on", "off":
			c.cp.cfg.Global.IdlePoolPerThread = c.arg(1) == "off"
		default:
			c.alert("'%s' expects either 'on' or 'off' but got '%s'.", c.args[0], c.arg(1))
		}
	}}
	// In MiB; it counts against -m's memory (HAProxy's zlib accounting
	// does not exist in its libslz build).
	globalKeywords["maxzlibmem"] = keyword{support: Supported, handle: func(c *pctx) {
		if needInt(c); c.arg(1) != "" {
			c.cp.cfg.Global.MaxZlibMem = int64(Atol(c.arg(1))) << 20
		}
	}}
	globalKeywords["log"] = keyword{support: Unsupported, handle: globalLog}
	globalKeywords["log-tag"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(1) {
			kwLogTag(c)
		}
	}}
	globalKeywords["node"] = keyword{support: Supported, handle: globalNode}
	globalKeywords["description"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.arg(1) == "" {
			c.tight("'%s' expects a string argument.", c.args[0])
			return
		}
		c.cp.cfg.Global.Description = strings.Join(c.args[1:], " ")
	}}
	globalKeywords["log-send-hostname"] = keyword{support: Supported, handle: func(c *pctx) {
		c.cp.cfg.Global.LogSendHostname, c.cp.cfg.Global.LogHostname = true, c.arg(1)
	}}
	globalKeywords["lua-load"] = keyword{support: Unsupported, handle: luaLoad}
	globalKeywords["lua-load-per-thread"] = keyword{support: Unsupported, handle: luaLoad}
	globalKeywords["stats"] = keyword{support: Supported, handle: globalStats}
	globalKeywords["crt-base"] = keyword{support: Harmless, handle: func(c *pctx) { globalBase(c, &c.cp.cfg.Global.CrtBase) }}
	globalKeywords["ca-base"] = keyword{support: Harmless, handle: func(c *pctx) {
		if c.arg(1) == "" {
			c.alert("global statement '%s' expects a directory path as an argument.", c.args[0])
		}
	}}
	// Process settings whose missing argument HAProxy reports.
	for _, k := range strings.Fields(`tune.ssl.default-dh-param tune.bufsize tune.maxrewrite tune.http.maxhdr ulimit-n
maxconnrate maxsessrate maxsslrate maxcomprate maxpipes tune.maxaccept tune.maxpollevents tune.recv_enough
tune.rcvbuf.client tune.rcvbuf.server tune.sndbuf.client tune.sndbuf.server tune.pipesize tune.http.cookielen
tune.http.logurilen tune.comp.maxlevel tune.ssl.cachesize`) {
		globalKeywords[k] = keyword{support: Harmless, handle: needInt}
	}
	globalKeywords["tune.maxaccept"] = keyword{support: Supported, handle: globalMaxAccept}
	globalKeywords["tune.http.cookielen"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if needInt(c); c.arg(1) != "" {
			c.cp.cfg.Global.CookieCapLen = Atol(c.arg(1)) + 1
		}
	}}
	g := func(c *pctx) *Global { return &c.cp.cfg.Global }
	for k, v := range map[string]func(c *pctx) *int{
		"tune.rcvbuf.client": func(c *pctx) *int { return &g(c).ClientRcvBuf },
		"tune.sndbuf.client": func(c *pctx) *int { return &g(c).ClientSndBuf },
		"tune.rcvbuf.server": func(c *pctx) *int { return &g(c).ServerRcvBuf },
		"tune.sndbuf.server": func(c *pctx) *int { return &g(c).ServerSndBuf },
	} {
		// Read as maxconnrate is: one value, a second is an alert.
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, v(c)) }}
	}
	compressionGlobals()
	// Splicing: nosplice turns it off (as -dS); maxpipes bounds the pipes
	// in use and tune.pipesize sizes them.
	globalKeywords["nosplice"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.NoSplice = true
		}
	}}
	globalKeywords["maxsslrate"] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, &c.cp.cfg.Global.MaxSSLRate) }}
	globalKeywords["fd-hard-limit"] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, &c.cp.cfg.Global.FdHardLimit) }}
	// Only "no strict-limits" changes anything: the limits are strict by
	// default and a later "strict-limits" does not restore them.
	globalKeywords["strict-limits"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) && c.mod == "no" {
			c.cp.cfg.Global.NoStrictLimits = true
		}
	}}
	// HTTP/2 connections no longer offer RFC 8441 WebSocket (the
	// SETTINGS_ENABLE_CONNECT_PROTOCOL setting), for clients that break
	// on it; such a request is still accepted.
	globalKeywords["h2-workaround-bogus-websocket-clients"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.SSL.H2NoExtConnect = true
		}
	}}
	globalKeywords["default-path"] = keyword{support: Supported, handle: globalDefaultPath}
	globalKeywords["h1-accept-payload-with-any-method"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.H1AnyPayload = true
		}
	}}
	globalKeywords["cpu-map"] = keyword{support: Supported, handle: globalCPUMap}
	// On by default; "no numa-cpu-mapping" turns it off.
	globalKeywords["numa-cpu-mapping"] = keyword{support: Supported, handle: func(c *pctx) {
		c.cp.cfg.Global.NoNumaMapping = c.mod == "no"
	}}
	vl := func(c *pctx) *VarLimits { return &c.cp.cfg.Global.VarLimits }
	for k, f := range map[string]func(*VarLimits) *uint32{
		"tune.vars.reqres-max-size": func(l *VarLimits) *uint32 { return &l.Reqres },
		"tune.vars.txn-max-size":    func(l *VarLimits) *uint32 { return &l.Txn },
		"tune.vars.sess-max-size":   func(l *VarLimits) *uint32 { return &l.Sess },
		"tune.vars.check-max-size":  func(l *VarLimits) *uint32 { return &l.Check },
		"tune.vars.proc-max-size":   func(l *VarLimits) *uint32 { return &l.Proc },
		"tune.vars.global-max-size": func(l *VarLimits) *uint32 { return &l.Global },
	} {
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) {
			// strtol's reading, stored in an unsigned int (vars_max_size).
			n, ok := strtol10(c.arg(1))
			if !ok {
				c.alert("%s: '%s' is an invalid size", c.args[0], c.arg(1))
				return
			}
			*f(vl(c)) = uint32(n)
		}}
	}
	globalKeywords["maxpipes"] = keyword{support: Supported, handle: func(c *pctx) {
		needInt(c)
		c.cp.cfg.Global.MaxPipes = Atol(c.arg(1))
	}}
	globalKeywords["tune.pipesize"] = keyword{support: Supported, handle: func(c *pctx) {
		needInt(c)
		c.cp.cfg.Global.PipeSize = Atol(c.arg(1))
	}}
	globalKeywords["ssl-load-extra-files"] = keyword{support: Unsupported, handle: sslLoadExtraFiles}
	globalKeywords["pp2-never-send-local"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.PP2NeverSendLocal = true
		}
	}}
	// Accept rate limits, applied by the listeners.
	globalKeywords["maxconnrate"] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, &c.cp.cfg.Global.MaxConnRate) }}
	globalKeywords["maxsessrate"] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, &c.cp.cfg.Global.MaxSessRate) }}
	for _, k := range []string{"ssl-default-bind-ciphers", "ssl-default-server-ciphers", "ssl-default-bind-ciphersuites", "ssl-default-server-ciphersuites"} {
		globalKeywords[k] = keyword{support: Harmless, handle: func(c *pctx) {
			if c.arg(1) == "" {
				c.alert("global statement '%s' expects a cipher suite as an argument.", c.args[0])
			}
		}}
	}
	// Buffer and header limits, applied to every HTTP message.
	globalKeywords["tune.bufsize"] = keyword{support: Supported, handle: func(c *pctx) {
		if needInt(c); c.arg(1) != "" {
			// Rounded up to 16 bytes, as HAProxy aligns it, in its int.
			v, _ := strtolEnd(c.arg(1))
			n := int(int32((uint64(int32(v)) + 15) &^ 15))
			if n <= 0 {
				c.alert("'%s' expects a positive integer argument.", c.args[0])
				return
			}
			c.cp.cfg.Global.BufSize = n
		}
	}}
	globalKeywords["tune.maxrewrite"] = keyword{support: Supported, handle: func(c *pctx) {
		if needInt(c); c.arg(1) != "" {
			n := Atol(c.arg(1))
			if n < 0 {
				c.alert("'%s' expects a positive integer argument.", c.args[0])
				return
			}
			c.cp.cfg.Global.MaxRewrite, c.cp.cfg.Global.MaxRewriteSet = n, true
		}
	}}
	globalKeywords["tune.http.logurilen"] = keyword{support: Supported, handle: func(c *pctx) {
		if needInt(c); c.arg(1) != "" {
			c.cp.cfg.Global.LogURILen, c.cp.cfg.Global.LogURILenSet = max(Atol(c.arg(1)), 0), true
		}
	}}
	globalKeywords["tune.http.maxhdr"] = keyword{support: Supported, handle: func(c *pctx) {
		if needInt(c); c.arg(1) != "" {
			n := Atol(c.arg(1))
			if n < 1 || n > 32767 {
				c.alert("'%s' expects a numeric value between 1 and 32767", c.args[0])
				return
			}
			c.cp.cfg.Global.MaxHdr = n
		}
	}}
	globalKeywords["spread-checks"] = keyword{support: Supported, handle: globalSpreadChecks}
	globalKeywords["max-spread-checks"] = keyword{support: Supported, handle: globalMaxSpreadChecks}
	// The runtime compiles it into Graph.Threads, which the process
	// applies as GOMAXPROCS.
	globalKeywords["nbthread"] = keyword{support: Supported, handle: func(c *pctx) {
		n, ok := threadCount(c, maxThreads)
		if !ok {
			return
		}
		c.cp.cfg.Global.Nbthread = int(n)
	}}
}

var legacyGlobal = map[string]legacyKeyword{
	"nbproc":       {compat: "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.", modern: "nothing (remove the line; threads are used automatically)"},
	"tune.chksize": {compat: "option '%s' is not supported any more (tune.bufsize is used instead).", style: StyleParsingTight, modern: "nothing ('tune.bufsize' covers it)"},
	"debug":        {modern: "the '-d' command-line flag"},
	"nosepoll":     {modern: "'noepoll', or nothing"},
}

func (cp *cfgParser) globalLine(args []string, mod string, pos Pos) {
	c := &pctx{cp: cp, pos: pos, mod: mod, args: args}
	kw := args[0]
	if lk, ok := legacyGlobal[kw]; ok {
		cp.legacy(c, lk, globalCandidates())
		return
	}
	k, ok := globalKeywords[kw]
	if !ok {
		cp.unknown(c, "global", globalCandidates())
		return
	}
	cp.directive(pos, kw, args[1:], k.support, false)
	if k.handle != nil {
		k.handle(c)
	}
}

// legacy handles a 1.x keyword: HAProxy's alert in compat mode, else its
// 1.x meaning and a warning naming the modern form.
func (cp *cfgParser) legacy(c *pctx, lk legacyKeyword, candidates []string) {
	kw := c.args[0]
	if cp.opts.Compat {
		if lk.compat == "" {
			cp.unknown(c, cp.section, candidates)
			return
		}
		msg := lk.compat
		if strings.Contains(msg, "%s") {
			arg := kw
			if kw == "monitor-net" {
				arg = c.arg(1)
			}
			msg = fmt.Sprintf(msg, arg)
		}
		cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: lk.style, Msg: msg})
		return
	}
	what := "'" + kw + "'"
	if c.args[0] == "option" {
		what = "'option " + c.arg(1) + "'"
	}
	cp.add(legacyWarn(c.pos, what, lk.modern))
	s := Supported
	if lk.apply == nil {
		s = Harmless
	} else if !isLegacyFilter(kw) && (strings.HasPrefix(kw, "req") || strings.HasPrefix(kw, "rsp") || kw == "block" || kw == "cliexp" || kw == "srvexp") {
		s = Unsupported
	}
	cp.directive(c.pos, kw, c.args[1:], s, true)
	if lk.apply != nil && cp.proxy != nil {
		lk.apply(c)
	}
}

func needInt(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
	}
}

// globalRate reads a global integer as HAProxy reads maxconnrate,
// maxsessrate and the tune.*buf.* socket buffer sizes.
func globalRate(c *pctx, v *int) {
	if c.tooMany(1) {
		return
	}
	if *v != 0 {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("'%s' already specified. Continuing.", c.args[0])})
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	*v = Atol(c.arg(1))
}

// globalMaxAccept reads tune.maxaccept with HAProxy's checks, in its
// order; any negative value lifts the limit, as -1 does.
func globalMaxAccept(c *pctx) {
	g := &c.cp.cfg.Global
	if c.tooMany(1) {
		return
	}
	if g.MaxAccept != 0 {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("'%s' already specified. Continuing.", c.args[0])})
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	n := Atol(c.arg(1))
	if n > math.MaxInt32 {
		c.alert("'%s' expects -1 or an integer from 0 to INT_MAX.", c.args[0])
		return
	}
	g.MaxAccept = n
}

func globalMaxconn(c *pctx) {
	g := &c.cp.cfg.Global
	if g.Maxconn != 0 {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("'%s' already specified. Continuing.", c.args[0])})
		return
	}
	if c.tooMany(1) {
		return
	}
	n, err := strconv.Atoi(c.arg(1))
	if c.arg(1) == "" || err != nil {
		if c.arg(1) == "" {
			c.alert("'%s' expects an integer argument.", c.args[0])
			return
		}
		n = Atol(c.arg(1))
	}
	g.Maxconn = n
}

// globalSetVar records "set-var <name> <expr>" (and set-var-fmt), which
// set a process variable at configuration time (vars_parse_global_set_var).
func globalSetVar(c *pctx) {
	if c.arg(1) == "" || c.arg(2) == "" {
		what := "a sample expression"
		if c.args[0] == "set-var-fmt" {
			what = "a format string"
		}
		c.alert("'%s' requires a process-wide variable name ('proc.<name>') and %s.", c.args[0], what)
		return
	}
	g := &c.cp.cfg.Global
	g.SetVars = append(g.SetVars, GlobalSetVar{Pos: c.pos, Keyword: c.args[0], Name: c.arg(1), Expr: c.arg(2), Limits: g.VarLimits})
}

// strtol10 is strtol(s, &end, 10) with *end required to be the end;
// nothing at all reads as 0.
func strtol10(s string) (int64, bool) {
	n, end := strtolEnd(s)
	return n, end == len(s)
}

// Atol mimics C's atol: the leading decimal digits, 0 if none.
func Atol(s string) int {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<31 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}

func globalUser(c *pctx) {
	lookupID(c, &c.cp.cfg.Global.User, "user/uid already specified. Continuing.", "user", func(n string) error { _, err := user.Lookup(n); return err })
}

func globalGroup(c *pctx) {
	lookupID(c, &c.cp.cfg.Global.Group, "gid/group was already specified. Continuing.", "group", func(n string) error { _, err := user.LookupGroup(n); return err })
}

// lookupID sets a user or group name once it exists on this system, with
// HAProxy's messages for a repeated or unknown one.
func lookupID(c *pctx, dst *string, again, what string, lookup func(string) error) {
	if c.tooMany(1) {
		return
	}
	if *dst != "" {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: again})
		return
	}
	if err := lookup(c.arg(1)); err != nil {
		c.alert("cannot find %s id for '%s' (0:Success)", what, c.arg(1))
		return
	}
	*dst = c.arg(1)
}

func globalLog(c *pctx) {
	if c.mod == "no" || c.arg(1) == "global" {
		c.setSupport(Harmless)
		return
	}
	if len(c.args) < 3 {
		c.alert("log : expects <address> and <facility>  as arguments")
		return
	}
	if l, ok := logTarget(c, true); ok {
		c.cp.cfg.Global.Logs = append(c.cp.cfg.Global.Logs, l)
	}
}

func luaLoad(c *pctx) {
	if c.arg(1) == "" {
		what := "file name"
		if c.args[0] == "lua-load-per-thread" {
			what = "file"
		}
		c.alert("'%s' expects a %s as parameter.", c.args[0], what)
		return
	}
	if _, err := os.Stat(c.arg(1)); err != nil {
		c.alert("error in Lua file '%s': cannot open %s: %s", c.arg(1), c.arg(1), errnoText(err))
	}
}

// globalStats reads the "stats" lines: the runtime CLI serves a "stats
// socket" on a unix path, an inherited "fd@N" or a TCP address with its
// "level" and unix "mode"; any other socket form or option is refused by
// run. "stats timeout" and "stats maxconn" set the CLI's idle timeout and
// connection limit; "bind-process" means nothing to a single process.
func globalStats(c *pctx) {
	st := &c.cp.cfg.Global.Stats
	switch c.arg(1) {
	case "socket":
	case "maxconn", "bind-process", "timeout":
		c.statsDeclared()
		if c.arg(1) == "timeout" {
			c.warnTimer(c.arg(2))
			if d, ok := parseTimeValue(c.arg(2)); ok && d > 0 {
				st.Timeout = d
			}
		}
		if c.arg(1) == "maxconn" {
			if n, err := strconv.Atoi(c.arg(2)); err == nil && n > 0 {
				st.Maxconn = n
			}
		}
		return
	default:
		c.alert("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '%s')", c.arg(1))
		return
	}
	addr := c.arg(2)
	for i := 3; i < len(c.args); i++ {
		if c.args[i] == "level" && i+1 >= len(c.args) {
			c.alert("'stats socket' : ''level' : missing level'")
			return
		}
	}
	if n, ok := strings.CutPrefix(addr, "fd@"); ok {
		// str2sa_range: the number must be all digits and open.
		fd, err := strconv.Atoi(n)
		switch {
		case err != nil || n == "" || strings.Trim(n, "0123456789") != "":
			c.alert("parsing [%s:%d] : 'stats socket' : file descriptor '%s' is not a valid integer in '%s'", c.pos.File, c.pos.Line, n, addr)
		case sockErr(fd) != "":
			c.alert("parsing [%s:%d] : 'stats socket' : cannot use file descriptor '%s' : %s.", c.pos.File, c.pos.Line, n, sockErr(fd))
		default:
			c.statsSocket(addr)
			return
		}
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{"", ""}
		return
	}
	if addr == "" || strings.HasPrefix(addr, "/") || strings.Contains(addr, "@") {
		c.statsSocket(addr)
		return
	}
	if !strings.Contains(addr, ":") {
		c.alert("parsing [%s:%d] : 'stats socket' : missing port specification in '%s'", c.pos.File, c.pos.Line, addr)
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		return
	}
	c.statsSocket(addr)
}

// sockErr is why descriptor fd is not a socket of this process, as
// strerror words getsockname's failure; "" when it is one.
func sockErr(fd int) string {
	if _, err := syscall.Getsockname(fd); err != nil {
		s := err.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return ""
}

// statsDeclared notes where HAProxy makes its GLOBAL proxy.
func (c *pctx) statsDeclared() {
	st := &c.cp.cfg.Global.Stats
	if !st.Declared {
		st.Declared = true
		st.ProxiesBefore = len(c.cp.cfg.Proxies)
	}
}

// statsSocket records a "stats socket" line, Supported when the runtime
// serves its address form and every option.
func (c *pctx) statsSocket(addr string) {
	c.statsDeclared()
	c.setSupport(Unsupported)
	if addr == "" {
		return
	}
	s := StatsSocket{Pos: c.pos, Address: addr, Level: "operator"}
	if c.cp.statsIDs == nil {
		c.cp.statsIDs = map[int]bindIDRef{}
	}
	// The options are bind options of the CLI's frontend (cli.c).
	line := bindLine{addr: addr, ids: c.cp.statsIDs, perms: &UnixPerms{}}
	for i := 3; i < len(c.args); i += 1 + BindKeywordArgs[c.args[i]] {
		r := c.bindOption(c.args[3:], i-3, &line)
		switch {
		case r.unknown && r.best != "":
			c.alert("'stats socket' : unknown keyword '%s'. Did you mean '%s' maybe ?", c.args[i], r.best)
			return
		case r.unknown:
			c.alert("'stats socket' : unknown keyword '%s'.", c.args[i])
			return
		case r.warn:
			c.warn("'stats socket' : %s", r.msg)
		case r.before != "":
			// The keyword printed its own alert, and set no message.
			d := alertf(c.pos, "%s", r.before)
			d.Style = StyleNone
			c.cp.add(d)
			c.alert("'stats socket' : error encountered while processing '%s'", c.args[i])
			return
		case r.msg != "":
			c.alert("'stats socket' : '%s'", r.msg)
			return
		}
	}
	ok := true
	if pfx, _, found := strings.Cut(addr, "@"); found && pfx != "fd" && pfx != "unix" && pfx != "abns" && pfx != "ipv4" && pfx != "ipv6" {
		ok = false
	}
	for i := 3; i < len(c.args); i += 2 {
		v := c.arg(i + 1)
		switch c.args[i] {
		case "level":
			if v != "user" && v != "operator" && v != "admin" {
				ok = false
			}
			s.Level = v
		case "mode":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				ok = false
			}
			s.Mode, s.HasMode = uint32(m), true
		case "expose-fd":
			s.ExposeFD = v == "listeners"
			ok = ok && s.ExposeFD
		case "uid", "gid", "user", "group":
			if msg := bindUnixOptions(&s.Owner, c.args[i:min(i+2, len(c.args))]); msg != "" {
				c.alert("'stats socket' : '%s'", msg)
				return
			}
		default:
			ok = false
		}
	}
	c.cp.cfg.Global.Stats.Sockets = append(c.cp.cfg.Global.Stats.Sockets, s)
	if ok {
		c.setSupport(Supported)
	}
}

// unknown reports an unknown keyword with HAProxy's closest-match hint.
func (cp *cfgParser) unknown(c *pctx, section string, candidates []string) {
	kw := c.args[0]
	best := bestMatch(kw, candidates)
	msg := fmt.Sprintf("unknown keyword '%s' in '%s' section", kw, section)
	if best != "" {
		msg += fmt.Sprintf("; did you mean '%s' maybe ?", best)
	}
	d := alertf(c.pos, "%s", msg)
	if best != "" {
		d.Hint = best
	}
	cp.add(d)
}

// rest returns the arguments from index n on, or nil.
func (c *pctx) rest(n int) []string {
	if n < len(c.args) {
		return c.args[n:]
	}
	return nil
}

// isLegacyFilter reports the 1.x header filters the runtime runs with
// their 1.x meaning.
func isLegacyFilter(kw string) bool {
	_, ok := legacyKinds[kw]
	return ok
}

// sslLoadExtraFiles checks "ssl-load-extra-files" as
// ssl_parse_global_extra_files does. gohap always reads what "all" asks
// for, HAProxy's default, so only "all" runs; any other set is refused.
func sslLoadExtraFiles(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).", c.args[0])
		return
	}
	some := false
	for i := 1; i < len(c.args) && c.args[i] != ""; i++ {
		switch a := c.args[i]; a {
		case "bundle", "sctl", "ocsp", "issuer", "key":
			some = true
		case "none", "all":
			if some || c.arg(i+1) != "" {
				c.alert("'%s' 'none' and 'all' can be only used alone", c.args[0])
				return
			}
			if a == "all" {
				c.setSupport(Supported)
			}
			return
		default:
			c.alert("'%s' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).", c.args[0])
			return
		}
	}
}

// Process settings HAProxy reads as one integer after checking that no
// other argument follows; the second five also refuse a second line
// ("already specified", kept in Global.seenInts when gohap has no field
// for them).
func init() {
	for _, k := range strings.Fields(`tune.ssl.default-dh-param tune.bufsize tune.maxrewrite tune.http.maxhdr tune.recv_enough
tune.pipesize tune.http.logurilen maxzlibmem`) {
		kw := globalKeywords[k]
		h := kw.handle
		if h == nil {
			h = needInt
		}
		kw.handle = func(c *pctx) {
			if !c.tooMany(1) {
				h(c)
			}
		}
		globalKeywords[k] = kw
	}
	for _, k := range strings.Fields(`tune.maxpollevents tune.runqueue-depth`) {
		kw := globalKeywords[k]
		kw.handle = func(c *pctx) {
			g := &c.cp.cfg.Global
			if g.seenInts == nil {
				g.seenInts = map[string]*int{}
			}
			v := g.seenInts[k]
			if v == nil {
				v = new(int)
				g.seenInts[k] = v
			}
			globalRate(c, v)
		}
		globalKeywords[k] = kw
	}
	globalKeywords["maxpipes"] = keyword{support: Supported, handle: func(c *pctx) { globalRate(c, &c.cp.cfg.Global.MaxPipes) }}
}

// globalSpreadChecks reads "spread-checks <0..50>", the percentage by
// which each check interval varies at random, with HAProxy's checks in
// its order.
func globalSpreadChecks(c *pctx) {
	g := &c.cp.cfg.Global
	switch {
	case c.tooMany(1):
	case g.SpreadChecks != 0:
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Style: StyleParsingTight, Msg: "spread-checks already specified. Continuing."})
	case c.arg(1) == "":
		c.tight("'%s' expects an integer argument (0..50).", c.args[0])
	default:
		if g.SpreadChecks = Atol(c.arg(1)); g.SpreadChecks < 0 || g.SpreadChecks > 50 {
			c.tight("'spread-checks' needs a positive value in range 0..50.")
		}
	}
}

// globalMaxSpreadChecks reads "max-spread-checks <delay>", the longest
// window the first checks start over (milliseconds unless a unit
// follows).
func globalMaxSpreadChecks(c *pctx) {
	kw, v := c.args[0], c.arg(1)
	switch {
	case c.tooMany(1):
	case v == "":
		c.tight("'%s' expects an integer argument (0..50).", kw)
	default:
		if d, ok := c.tightTime(v, v, kw, "unsupported character '%c' in '%s' (wants an integer delay)."); ok {
			c.cp.cfg.Global.MaxSpreadChecks = d
		}
	}
}

// globalCloseSpread is proxy_parse_close_spread_time: a soft stop closes
// connections over this window, or, "infinite", leaves them to their
// timeouts; 0 is the default, all at once.
func globalCloseSpread(c *pctx) {
	g := &c.cp.cfg.Global
	v := c.arg(1)
	if v == "" {
		c.alert("'%s' expects <time> as argument.\n", c.args[0])
		return
	}
	if v == "infinite" {
		g.CloseSpread, g.CloseSpreadInfinite = 0, true
		return
	}
	c.warnTimer(v)
	d, res := parseTime(v)
	switch res {
	case timeOverflow:
		c.alert("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", v, c.args[0])
		return
	case timeUnderflow:
		c.alert("timer underflow in argument '%s' to '%s' (minimum non-null value is 1 ms)", v, c.args[0])
		return
	case timeBadChar:
		c.alert("unexpected character '%c' in argument to <%s>.\n", badTimeChar(v), c.args[0])
		return
	}
	g.CloseSpread, g.CloseSpreadInfinite = d, false
}
