package parser

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
)

// proxyKeywords lists the keywords of defaults/frontend/backend/listen
// sections (HAProxy's cfg_parse_listen and registered CFG_LISTEN keywords).
var proxyKeywords = map[string]keyword{
	"bind":                  {caps: CapFE, noDefaults: true, support: Supported, handle: kwBind},
	"server":                {caps: CapBE, noDefaults: true, support: Supported, handle: kwServer},
	"default-server":        {caps: CapBE, support: Supported, handle: kwDefaultServer},
	"server-template":       {caps: CapBE, noDefaults: true, support: Supported, handle: kwServerTemplate},
	"mode":                  {support: Supported, handle: kwMode},
	"id":                    {noDefaults: true, support: Supported, handle: kwProxyID},
	"description":           {support: Supported, handle: kwDescription},
	"disabled":              {support: Supported, handle: kwDisabled},
	"enabled":               {support: Supported, handle: kwDisabled},
	"acl":                   {support: Supported, handle: kwACL},
	"cookie":                {caps: CapBE, support: Supported, handle: kwCookie},
	"email-alert":           {support: Supported, handle: kwEmailAlert},
	"persist":               {support: Unsupported, handle: kwPersist},
	"max-session-srv-conns": {caps: CapFE, support: Unsupported, handle: kwMaxSessionSrvConns},
	"capture":               {caps: CapFE, noDefaults: true, support: Unsupported, handle: kwCapture},
	"retries":               {caps: CapBE, support: Supported, handle: kwRetries},
	"http-request":          {support: Unsupported, handle: kwRule},
	"http-response":         {support: Unsupported, handle: kwRule},
	"http-after-response":   {support: Unsupported, handle: kwRule},
	"http-send-name-header": {caps: CapBE, support: Unsupported, handle: kwSendNameHeader},
	"timeout":               {support: Supported, handle: kwTimeout},
	"redirect":              {support: Unsupported, handle: kwRule},
	"use_backend":           {caps: CapFE, noDefaults: true, support: Supported, handle: kwUseBackend},
	"use-server":            {caps: CapBE, noDefaults: true, support: Supported, handle: kwServerRule},
	"force-persist":         {caps: CapBE, noDefaults: true, support: Unsupported, handle: kwServerRule},
	"ignore-persist":        {caps: CapBE, noDefaults: true, support: Unsupported, handle: kwServerRule},
	"stick-table":           {support: Supported, handle: kwStickTable},
	"stick":                 {caps: CapBE, noDefaults: true, support: Supported, handle: kwStick},
	"stats":                 {support: Unsupported, handle: kwStats},
	"option":                {support: Supported, handle: kwOption},
	"default_backend":       {caps: CapFE, support: Supported, handle: kwDefaultBackend},
	"http-reuse":            {caps: CapBE, support: Unsupported, handle: kwHTTPReuse},
	"monitor":               {caps: CapFE, noDefaults: true, support: Unsupported, handle: kwMonitor},
	"monitor-uri":           {caps: CapFE, support: Supported, handle: kwMonitorURI},
	"log":                   {support: Unsupported, handle: kwLog},
	"source":                {caps: CapBE, support: Supported, handle: kwSource},
	"usesrc":                {support: Supported, handle: kwUsesrc},
	"errorloc":              {support: Supported, handle: kwErrorloc},
	"errorloc302":           {support: Supported, handle: kwErrorloc},
	"errorloc303":           {support: Supported, handle: kwErrorloc},
	"errorfile":             {support: Supported, handle: kwErrorfile},
	"errorfiles":            {support: Supported, handle: kwErrorfiles},
	"http-error":            {support: Unsupported, handle: kwHTTPError},
	"http-check":            {caps: CapBE, support: Supported, handle: kwHTTPCheck},
	"tcp-check":             {caps: CapBE, support: Supported, handle: kwTCPCheck},
	"tcp-request":           {support: Unsupported, handle: kwTCPRequest},
	"tcp-response":          {support: Unsupported, handle: kwTCPResponse},
	"maxconn":               {caps: CapFE, support: Supported, handle: kwMaxconn},
	"backlog":               {caps: CapFE, support: Supported, handle: kwBacklog},
	"fullconn":              {caps: CapBE, support: Supported, handle: kwFullconn},
	"dispatch":              {caps: CapBE, noDefaults: true, support: Supported, handle: kwDispatch},
	"balance":               {caps: CapBE, support: Supported, handle: kwBalance},
	"hash-type":             {caps: CapBE, support: Supported, handle: kwHashType},
	"hash-balance-factor":   {support: Supported, handle: kwHashBalanceFactor},
	"dynamic-cookie-key": {support: Supported, handle: func(c *pctx) {
		if p := c.cp.proxy; p.Cap&CapBE == 0 {
			// HAProxy warns, then reads on.
			c.warn("'%s' ignored because %s '%s' has no backend capability.", c.args[0], p.Kind, p.Name)
		}
		if c.arg(1) == "" {
			c.alert("'%s' expects <secret_key> as argument.", c.args[0])
			return
		}
		c.cp.proxy.DynCookieKey = c.arg(1)
	}},
	// Read in any proxy (a backend's are unused: the frontend's apply).
	"unique-id-format":     {support: Unsupported, handle: kwUniqueIDFormat},
	"unique-id-header":     {support: Unsupported, handle: kwUniqueIDHeader},
	"log-format":           {support: Unsupported, handle: kwLogFormat},
	"log-format-sd":        {support: Unsupported, handle: kwLogFormat},
	"error-log-format":     {support: Unsupported, handle: kwLogFormat},
	"log-tag":              {support: Unsupported, handle: kwLogTag},
	"declare":              {support: Unsupported, handle: kwDeclare},
	"compression":          {support: Supported, handle: kwCompression},
	"rate-limit":           {support: Supported, handle: kwRateLimit},
	"external-check":       {support: Supported, handle: kwExternalCheck},
	"clitcpka-cnt":         {support: Supported, handle: kwTCPKA},
	"clitcpka-idle":        {support: Supported, handle: kwTCPKA},
	"clitcpka-intvl":       {support: Supported, handle: kwTCPKA},
	"srvtcpka-cnt":         {support: Supported, handle: kwTCPKA},
	"srvtcpka-idle":        {support: Supported, handle: kwTCPKA},
	"srvtcpka-intvl":       {support: Supported, handle: kwTCPKA},
	"retry-on":             {support: Supported, handle: kwRetryOn},
	"use-fcgi-app":         {caps: CapBE, support: Unsupported},
	"max-keep-alive-queue": {support: Supported, handle: kwMaxKAQueue},
}

// proxyCandidates are the names offered as "did you mean" hints, in the
// order HAProxy tries them (cfg_find_best_match): the keywords modules
// register, then its common_kw_list; the first of equally close ones
// wins.
func proxyCandidates() []string {
	common := strings.Fields(`listen frontend backend defaults server default-server server-template bind
monitor-net monitor-uri mode id description disabled enabled bind-process acl dynamic-cookie-key cookie
email-alert persist appsession load-server-state-from-file server-state-file-name max-session-srv-conns
capture retries http-request http-response http-after-response http-send-name-header block redirect
use_backend use-server force-persist ignore-persist force-persist stick-table stick stats option
default_backend http-reuse monitor transparent maxconn backlog fullconn dispatch balance hash-type
hash-balance-factor unique-id-format unique-id-header log-format log-format-sd log-tag log source usesrc
error-log-format`)
	inCommon := map[string]bool{}
	for _, k := range common {
		inCommon[k] = true
	}
	var out []string
	for _, k := range sortedKeys(proxyKeywords) {
		if !inCommon[k] {
			out = append(out, k)
		}
	}
	return append(out, common...)
}

// globalCandidates are the global keywords and the other words of
// HAProxy's common_kw_list, section names included.
func globalCandidates() []string {
	return append(sortedKeys(globalKeywords), "global", "nbproc", "defaults", "listen", "frontend", "backend", "peers", "resolvers")
}

func sortedKeys(m map[string]keyword) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (cp *cfgParser) proxyLine(args []string, mod string, pos Pos) {
	c := &pctx{cp: cp, pos: pos, mod: mod, args: args}
	if cp.proxy == nil {
		cp.add(alertf(pos, "'listen' or 'defaults' expected."))
		return
	}
	kw := args[0]
	if lk, ok := legacyProxyKeywords[kw]; ok {
		cp.legacy(c, lk, proxyCandidates())
		return
	}
	k, ok := proxyKeywords[kw]
	if !ok {
		cp.unknown(c, cp.section, proxyCandidates())
		return
	}
	p := cp.proxy
	if k.noDefaults && p.Cap&CapDef != 0 {
		switch kw {
		case "capture":
			// HAProxy names the capture's kind, and checks the kind first.
			switch sub := c.arg(1); {
			case sub == "cookie", (sub == "request" || sub == "response") && c.arg(2) == "header":
				cp.add(alertf(pos, "'%s %s' not allowed in 'defaults' section.", kw, sub))
			default:
				cp.add(alertf(pos, "'capture' expects 'cookie' or 'request header' or 'response header'."))
			}
		case "id":
			c.tight("'%s' not allowed in 'defaults' section.", kw)
		case "server", "server-template":
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleBracket,
				Msg: fmt.Sprintf("'%s' not allowed in 'defaults' section.", kw)})
		default:
			cp.add(alertf(pos, "'%s' not allowed in 'defaults' section.", kw))
		}
		return
	}
	if k.caps != 0 && p.Cap&k.caps == 0 {
		need := "frontend"
		if k.caps == CapBE {
			need = "backend"
		}
		if kw == "server" || kw == "default-server" || kw == "server-template" {
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleBracket,
				Msg: fmt.Sprintf("parsing [%s:%d] : '%s' not allowed because %s '%s' has no %s capability.", pos.File, pos.Line, kw, p.Kind, p.Name, need)})
			return
		}
		cp.add(warnf(pos, "'%s' ignored because %s '%s' has no %s capability.%s", kw, p.Kind, p.Name, need, capHints[kw]))
		if stopOnNoCap[kw] {
			return
		}
		// HAProxy reads the rest of the line anyway: its errors count.
		// The line does nothing here, so it leaves no directive behind.
		c.noCap = true
		n := len(cp.cfg.Directives)
		cp.directive(pos, kw, args[1:], Supported, false)
		if k.handle != nil {
			k.handle(c)
		}
		cp.cfg.Directives = cp.cfg.Directives[:n]
		return
	}
	cp.directive(pos, kw, args[1:], k.support, false)
	if k.handle != nil {
		k.handle(c)
	}
}

// stopOnNoCap are the keywords whose lines cfgparse-listen.c stops
// reading after warning that the proxy ignores them; it reads the others
// to the end.
var stopOnNoCap = map[string]bool{"stick": true}

// capHints end the "ignored" warning of some keywords.
var capHints = map[string]string{"maxconn": " Maybe you want 'fullconn' instead ?", "fullconn": " Maybe you want 'maxconn' instead ?"}

func (cp *cfgParser) otherLine(args []string, pos Pos) {
	c := &pctx{cp: cp, pos: pos, args: args}
	switch cp.section {
	case "http-errors":
		cp.directive(pos, args[0], args[1:], Supported, false)
		cp.httpErrorsLine(c)
		return
	case "resolvers":
		cp.resolversLine(c)
		return
	case "cache":
		cp.cacheLine(c)
		return
	case "peers":
		cp.peersLine(c)
		return
	case "ring":
		cp.ringLine(c)
		return
	case "userlist":
		cp.directive(pos, args[0], args[1:], Supported, false)
		cp.userlistLine(c)
		return
	case "namespace_list":
		cp.directive(pos, args[0], args[1:], Supported, false)
		cp.namespaceLine(c)
		return
	case "mailers":
		cp.directive(pos, args[0], args[1:], Unsupported, false)
		cp.mailersLine(c)
		return
	}
	cp.directive(pos, args[0], args[1:], sectionSupport(cp.section), false)
}

// kwLog checks the line as HAProxy does, then reads its target.
func kwLog(c *pctx) {
	if c.mod != "no" && c.arg(1) != "global" && c.arg(2) == "" {
		c.alert("log : expects <address> and <facility> or global as arguments")
		return
	}
	kwLogProxy(c)
}

// kwHTTPReuse sets how idle server connections are shared between
// client connections.
func kwHTTPReuse(c *pctx) {
	switch c.arg(1) {
	case "never", "safe", "aggressive", "always":
		if c.arg(2) != "" {
			c.alert("'%s %s' cannot handle unexpected argument '%s'.", c.args[0], c.args[1], c.args[2])
			return
		}
		c.setSupport(Supported)
		c.cp.proxy.HTTPReuse = c.arg(1)
	default:
		c.alert("'%s' only supports 'never', 'safe', 'aggressive', 'always'.", c.args[0])
	}
}

func kwMode(c *pctx) {
	if c.tooMany(1) {
		return
	}
	switch c.arg(1) {
	case "http", "tcp":
		c.cp.proxy.Mode = c.arg(1)
	case "health":
		c.alert("'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.")
	default:
		c.alert("unknown proxy mode '%s'.", c.arg(1))
	}
}

func kwBind(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.", c.args[0])
		return
	}
	p := c.cp.proxy
	addr := c.arg(1)
	var expanded []string
	for _, a := range strings.Split(addr, ",") {
		ea := c.cp.env.expandAddr(a)
		if msg := checkBindAddress(ea, c.cp.cfg.Global.UnixBind.Prefix); msg != "" {
			if ea != a {
				// HAProxy names the address as written.
				msg = strings.Replace(msg, "'"+ea+"'", "'"+a+"'", 1)
			}
			c.alert("'%s' : %s", c.args[0], msg)
			return
		}
		expanded = append(expanded, ea)
	}
	opts := c.rest(2)
	b := Bind{Pos: c.pos, Address: strings.Join(expanded, ","), Options: opts, Unix: c.cp.cfg.Global.UnixBind.Perms}
	if p.bindIDs == nil {
		p.bindIDs = map[int]bindIDRef{}
	}
	st := bindLine{addr: addr, ids: p.bindIDs, perms: &b.Unix}
	for i := 0; i < len(opts); i += 1 + BindKeywordArgs[opts[i]] {
		o := opts[i]
		r, ok := c.bindOptionChecked(opts, i, &st)
		if !ok {
			return
		}
		b.AcceptProxy = b.AcceptProxy || o == "accept-proxy"
		b.Transparent = b.Transparent || o == "transparent"
		b.V6Only = b.V6Only || o == "v6only"
		b.DeferAccept = b.DeferAccept || o == "defer-accept"
		switch val := r.arg; o {
		case "maxconn":
			b.Maxconn = Atol(val)
		case "accept-netscaler-cip":
			// A uint32_t there: the value wraps as in HAProxy.
			b.AcceptCIP, b.CIPMagic = true, uint32(Atol(val))
		case "mss":
			b.MSS = Atol(val)
		case "interface":
			b.Interface = val
		case "nice":
			b.Nice = Atol(val)
		}
	}
	p.Binds = append(p.Binds, b)
}

// checkBindAddress validates one listening address; hosts are resolved.
// prefix is unix-bind's, which lengthens a unix socket's path.
func checkBindAddress(a, prefix string) string {
	if msg, ok := checkUnixAddress(a, prefix); ok {
		return msg
	}
	switch {
	case strings.HasPrefix(a, "quic4@"), strings.HasPrefix(a, "quic6@"):
		fam := "2"
		if strings.HasPrefix(a, "quic6@") {
			fam = "10"
		}
		return fmt.Sprintf("unsupported stream protocol for datagram family %s address '%s'; QUIC is not compiled in if this is what you were looking for.", fam, a)
	}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		s = strings.TrimPrefix(s, pfx)
	}
	host, port, ok := splitHostPort(s)
	if !ok || port == "" {
		return fmt.Sprintf("missing port specification in '%s'", a)
	}
	if msg := checkPortRange(port, a); msg != "" {
		return msg
	}
	if host == "" || host == "*" || isIP(host) || isInetAton(host) {
		return ""
	}
	if !resolvable(host) {
		return fmt.Sprintf("invalid address: '%s' in '%s'", host, a)
	}
	return ""
}

// splitHostPort splits HAProxy address syntax: "[v6]:port", "v6:port" (the
// last colon separates the port), "host:port" and ":port".
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]")
		if i < 0 {
			return "", "", false
		}
		rest := s[i+1:]
		if !strings.HasPrefix(rest, ":") {
			return s[1:i], "", true
		}
		return s[1:i], rest[1:], true
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", true
	}
	return s[:i], s[i+1:], true
}

func isIP(h string) bool { return net.ParseIP(h) != nil }

// isInetAton accepts the short dotted forms inet_aton() takes ("1.2.3",
// "10.1", "127"), which HAProxy's resolver accepts as addresses.
func isInetAton(h string) bool {
	_, err := logfmt.InetAton(h)
	return err == nil
}

// checkPortRange validates "port" or "low-high" as HAProxy's str2sa_range.
func checkPortRange(port, addr string) string {
	lo, hi, isRange := strings.Cut(port, "-")
	for _, p := range []string{lo, hi} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'", p[i], port, addr)
			}
		}
	}
	l, _ := strconv.Atoi(lo)
	if !isRange {
		if l < 1 || l > 65535 {
			return fmt.Sprintf("invalid port '%s'", port)
		}
		return ""
	}
	if hi == "" {
		return "invalid port ''"
	}
	h, _ := strconv.Atoi(hi)
	if l < 1 || h > 65535 || h < l {
		return fmt.Sprintf("invalid port range '%s'", port)
	}
	return ""
}

// resolvable reports whether a host name resolves, as HAProxy's parse-time
// getaddrinfo does.
func resolvable(h string) bool {
	addrs, err := net.LookupHost(h)
	return err == nil && len(addrs) > 0
}

// errnoText renders an os error as strerror() does.
func errnoText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

// newServer is a server line with its settings read over the
// default-server ones.
func (p *Proxy) newServer(pos Pos, name, addr string, opts []string, template bool) *Server {
	s := &Server{Pos: pos, Name: name, Address: addr, Options: opts, Template: template, Settings: p.ServerDefaults}
	s.Settings.httpMode = p.Mode == "http"
	s.Settings.apply(opts)
	return s
}

func kwDefaultServer(c *pctx) {
	if !c.defaultServerOptions() {
		return
	}
	// Each default-server line adds to the ones before it.
	p := c.cp.proxy
	observeLayer7(c, "", c.rest(1))
	p.DefaultServer = append(p.DefaultServer[:len(p.DefaultServer):len(p.DefaultServer)], c.args[1:]...)
	p.ServerDefaults.httpMode = p.Mode == "http"
	c.warnServerTimers(c.args[1:], "")
	p.ServerDefaults.apply(c.args[1:])
	c.cp.cfg.PortKeywords += p.ServerDefaults.portWords
}

func kwServer(c *pctx) {
	bracket := func(format string, a ...any) {
		d := alertf(c.pos, format, a...)
		d.Style = StyleBracket
		c.cp.add(d)
	}
	if c.arg(2) == "" {
		bracket("'%s' expects <name> and <addr>[:<port>] as arguments.", c.args[0])
		return
	}
	if c.arg(1) == "" {
		d := nulTruncated(c.pos)
		d.Style = StyleBracket
		c.cp.add(d)
		return
	}
	if i := invalidChar(c.arg(1)); i >= 0 {
		bracket("character '%c' is not permitted in server name '%s'.", c.arg(1)[i], c.arg(1))
		return
	}
	if msg := checkServerOptions(c.arg(1), c.rest(3), false); msg != "" {
		c.serverOptionAlert(fmt.Sprintf("'server %s/%s' : ", c.cp.proxy.Name, c.arg(1)), msg)
		return
	}
	if !checkServerTLSFiles(c, c.cp.proxy.Name+"/"+c.arg(1), c.rest(3)) {
		return
	}
	if a := c.cp.env.expandAddr(c.arg(2)); strings.HasPrefix(a, "fd@") {
		bracket("'server %s/%s' : a file descriptor is not acceptable here in '%s'", c.cp.proxy.Name, c.arg(1), a)
		return
	} else if msg, ok := checkUnixAddress(a, ""); ok && msg != "" {
		bracket("'server %s/%s' : %s", c.cp.proxy.Name, c.arg(1), msg)
		return
	}
	if checked, tracks := serverCheckAndTrack(append(append([]string{}, c.cp.proxy.DefaultServer...), c.rest(3)...)); checked && tracks {
		bracket("'server %s/%s' : unable to enable checks and tracking at the same time!", c.cp.proxy.Name, c.arg(1))
		return
	}
	observeLayer7(c, "server "+c.cp.proxy.Name+"/"+c.arg(1), c.rest(3))
	c.warnServerTimers(c.rest(3), c.arg(1))
	s := c.cp.proxy.newServer(c.pos, c.arg(1), c.cp.env.expandAddr(c.arg(2)), c.rest(3), false)
	if s.Settings.agentPortless() {
		bracket("'server %s/%s' : server %s does not have agent port. Agent check has been disabled.", c.cp.proxy.Name, c.arg(1), c.arg(1))
		return
	}
	c.cp.proxy.Servers = append(c.cp.proxy.Servers, s)
	c.cp.cfg.PortKeywords += s.Settings.portWords
}

// observeLayer7 is srv_parse_observe's refusal of "observe layer7"
// outside HTTP: an alert that is not fatal, the option left unset; what
// names the server ("" on a default-server line).
func observeLayer7(c *pctx, what string, opts []string) {
	if c.cp.proxy.Mode == "http" {
		return
	}
	for i := 0; i+1 < len(opts); i++ {
		if opts[i] == "observe" && opts[i+1] == "layer7" {
			msg := "'layer7' can only be used in http proxies.."
			if what != "" {
				msg = "'" + what + "' : " + msg
			}
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Style: StyleBracket, Msg: msg})
		}
	}
}

// serverCheckAndTrack reports whether server options enable checks and
// whether they track another server.
func serverCheckAndTrack(opts []string) (checked, tracks bool) {
	for i := 0; i < len(opts); i++ {
		switch opts[i] {
		case "check":
			checked = true
		case "no-check":
			checked = false
		case "track":
			tracks = true
		}
		if n := serverKeywords[opts[i]]; n > 0 {
			i += n
		}
	}
	return checked, tracks
}

// kwServerTemplate expands "server-template PREFIX N|LOW-HIGH ADDR
// [options]" into the servers PREFIXLOW..PREFIXHIGH, with the checks of
// HAProxy's _srv_parse_init, which names the servers "(null)" in its
// messages about options since they get their names afterwards.
func kwServerTemplate(c *pctx) {
	bracket := func(format string, a ...any) {
		d := alertf(c.pos, format, a...)
		d.Style = StyleBracket
		c.cp.add(d)
	}
	prefix, rng, addr := c.arg(1), c.arg(2), c.arg(3)
	if addr == "" {
		bracket("'%s' expects <prefix> <nb | range> <addr>[:<port>] as arguments.", c.args[0])
		return
	}
	if i := invalidChar(prefix); i >= 0 {
		bracket("character '%c' is not permitted in %s prefix '%s'.", prefix[i], c.args[0], prefix)
		return
	}
	lo, hi, ok := templateRange(rng)
	if !ok {
		bracket("Wrong %s number or range arg '%s'.", c.args[0], rng)
		return
	}
	p := c.cp.proxy
	if msg := checkServerOptions("(null)", c.rest(4), false); msg != "" {
		c.serverOptionAlert(fmt.Sprintf("'server %s/(null)' : ", p.Name), msg)
		return
	}
	if checked, tracks := serverCheckAndTrack(append(append([]string{}, p.DefaultServer...), c.rest(4)...)); checked && tracks {
		bracket("'server %s/(null)' : unable to enable checks and tracking at the same time!", p.Name)
		return
	}
	if hi-lo > 10000 {
		return
	}
	c.warnServerTimers(c.rest(4), "(null)")
	for i := lo; i <= hi; i++ {
		p.Servers = append(p.Servers, p.newServer(c.pos, prefix+strconv.Itoa(i), addr, c.rest(4), true))
	}
	// The template's line is read once.
	if lo <= hi {
		c.cp.cfg.PortKeywords += p.Servers[len(p.Servers)-1].Settings.portWords
	}
}

// templateRange reads "N" (1..N) or "LOW-HIGH" with atoi, as
// _srv_parse_tmpl_range does.
func templateRange(arg string) (lo, hi int, ok bool) {
	lo = Atol(arg)
	if _, b, isRange := strings.Cut(arg, "-"); isRange {
		hi = Atol(b)
	} else {
		lo, hi = 1, lo
	}
	return lo, hi, lo >= 0 && hi >= lo
}

func kwACL(c *pctx) {
	if p := c.cp.proxy; p.Cap&CapDef != 0 && p.Name == "" {
		// A named defaults section keeps ACLs for its own rules; the
		// proxies inheriting from it do not see them.
		c.alert("'%s' not allowed in anonymous 'defaults' section.", c.args[0])
		return
	}
	name := c.arg(1)
	if name == "" {
		c.cp.add(nulTruncated(c.pos))
		return
	}
	if i := invalidChar(name); i >= 0 {
		c.alert("character '%c' is not permitted in acl name '%s'.", name[i], name)
		return
	}
	if strings.EqualFold(name, "or") {
		c.alert("acl name '%s' will never match. 'or' is used to express a logical disjunction within a condition.", name)
		return
	}
	expr := c.arg(2)
	fetch, ok := c.aclFetch(name, expr)
	if !ok {
		return
	}
	if conv, file, ok := missingPatternFile(c.arg(2)); ok {
		fetch := c.arg(2)
		if i := strings.IndexAny(fetch, "(,"); i > 0 {
			fetch = fetch[:i]
		}
		c.alert("error detected while parsing ACL '%s' : ACL keyword '%s' : invalid args in converter '%s' : failed to open pattern file <%s>..", name, fetch, conv, file)
		return
	}
	r := c.cp.aclExpr(expr, c.rest(3))
	if r.Err != "" {
		c.alert("error detected while parsing ACL '%s' : %s.", name, r.Err)
		return
	}
	if r.Checked && r.NoPattern || !r.Checked && len(c.rest(3)) == 0 && !boolFetches[fetch] && !strings.Contains(expr, ",") {
		c.cp.add(noPatternWarning(c.pos, expr))
	}
	if d := parenPatternWarning(c.pos, name, expr, c.rest(3)); d != nil {
		c.cp.add(*d)
	}
	p := c.cp.proxy
	p.ACLs = append(p.ACLs, &ACL{Pos: c.pos, Name: name, Fetch: c.arg(2), Args: c.rest(3)})
	if p.aclNames == nil {
		p.aclNames = map[string]bool{}
	}
	p.aclNames[name] = true
}

// knownRuleAction reports whether act is an action of the kw rules; when
// not, it gives HAProxy's message and ends reading as HAProxy does.
func (c *pctx) knownRuleAction(kw, act string) bool {
	list, ok := ruleActions[kw]
	if !ok || knownAction(act, list) {
		return true
	}
	got := fmt.Sprintf("but got '%s'.", act)
	if act == "" {
		got = "but got '' (missing argument)."
	} else if best := actionSuggest(act, list); best != "" {
		got += " Did you mean '" + best + "' maybe ?"
	}
	c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
		Msg: fmt.Sprintf("'%s' expects %s, %s", kw, list, got)})
	c.cp.cfg.AbortAfterFile = true
	c.cp.abort = true
	return false
}

func kwRule(c *pctx) {
	if p := c.cp.proxy; p.Cap&CapDef != 0 && p.Name == "" && c.args[0] != "redirect" {
		// Checked before anything else on the line.
		c.alert("'%s' not allowed in anonymous 'defaults' section.", c.args[0])
		return
	}
	if prev := lastRule(c.cp.proxy, c.args[0]); prev != nil && prev.Cond == nil && finalAction(prev) {
		c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("previous '%s' action is final and has no condition attached, further entries are NOOP.", c.args[0])})
	}
	if !c.knownRuleAction(c.args[0], c.arg(1)) {
		return
	}
	if c.arg(1) == "normalize-uri" && !c.cp.cfg.Global.Experimental {
		c.alert("'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'")
		c.cp.cfg.AbortAfterFile = true
		c.cp.abort = true
		return
	}
	msg := checkRuleArity(c.args)
	if msg == "" {
		var extra string
		if msg, extra = checkRuleArgs(c.cp.proxy, c.args); msg == "" && extra == "" {
			var warns []string
			msg, extra, warns = replyArgs(c.args, &c.cp.cfg.Global)
			for _, w := range warns {
				c.warn("%s", w)
			}
		}
		if extra != "" {
			c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", c.args[0], c.args[1], extra)})
			c.cp.cfg.AbortAfterFile = true
			c.cp.abort = true
			return
		}
	}
	if msg != "" && (c.args[0] == "http-request" || c.args[0] == "http-response" || c.args[0] == "http-after-response") {
		p := c.cp.proxy
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : %s", ProxyTypeStr(p), p.Name, c.args[0], c.args[1], msg)
		c.cp.cfg.AbortAfterFile = true
		c.cp.abort = true
		return
	}
	if kw := c.args[0]; kw == "http-request" || kw == "http-response" {
		if !checkStickWords(c) || !checkCacheWords(c) {
			return
		}
	}
	if !c.defaultsRules("'%s' not allowed in anonymous 'defaults' section.", c.args[0]) {
		return
	}
	if c.args[0] == "redirect" {
		msg, typed, cond := redirectWordsError(c.args[1:])
		if msg == "" && !typed {
			// The condition is read before the type is found missing.
			if cond && !c.cp.checkCondACLs(c, c.args[1:], "redirect") {
				return
			}
			msg = "redirection type expected ('prefix', 'location', or 'scheme')"
		}
		if msg != "" {
			p := c.cp.proxy
			c.alert("error detected in %s '%s' while parsing redirect rule : %s.", ProxyTypeStr(p), p.Name, msg)
			return
		}
	}
	if c.args[0] != "redirect" && (!c.checkHTTPRuleSamples() || !c.checkHTTPRuleExpr()) {
		c.cp.cfg.AbortAfterFile = true
		c.cp.abort = true
		return
	}
	c.cp.proxy.Rules = append(c.cp.proxy.Rules, &Rule{Pos: c.pos, Keyword: c.args[0], Args: c.args[1:]})
	switch c.args[0] {
	case "http-request":
		c.warnMisplaced(listRedirect, c.args[0])
		c.ruleAdded(listHTTPReq)
	case "redirect":
		c.ruleAdded(listRedirect)
		c.warnMisplaced(listUseBackend, c.args[0])
	}
	switch kw := c.args[0]; kw {
	case "http-request", "http-response", "http-after-response", "redirect":
		// "redirect" is an http-request rule where it stands.
		r := parseHTTPRule(c.pos, kw, c.args[1:])
		p := c.cp.proxy
		r.Where = p.HTTPPlaces(kw)
		if kw != "http-after-response" {
			p.addFilterGroup(kw, r.Action, c.arg(2), c.arg(3))
		}
		if r.Action == "capture" && r.Refused == "" {
			declareCapture(c, r)
		}
		switch kw {
		case "http-response":
			p.HTTPResponseRules = append(p.HTTPResponseRules, r)
		case "http-after-response":
			p.HTTPAfterRules = append(p.HTTPAfterRules, r)
		default:
			p.HTTPRequestRules = append(p.HTTPRequestRules, r)
		}
		if r.Refused == "" {
			c.runtimeForm()
		}
	}
	what := fmt.Sprintf("an '%s %s' condition", c.args[0], c.arg(1))
	switch {
	case c.args[0] == "redirect":
		what = "redirect"
	case c.arg(1) == "redirect":
		// http_parse_redirect_rule() reads the condition.
		what = "http redirect"
	}
	// The condition starts after the words the action takes as they come.
	words := c.args[1:]
	if len(words) > 1 {
		act, _, _ := strings.Cut(words[0], "(")
		if n := min(rawRuleWords(act, words[1:]), len(words)-1); n > 0 {
			words = append([]string{words[0]}, words[1+n:]...)
		}
	}
	if !c.cp.checkCondACLs(c, words, what) {
		if c.args[0] != "redirect" {
			// HAProxy stops reading the file after a bad http-request or
			// http-response rule (ERR_ABORT).
			c.cp.cfg.AbortAfterFile = true
			c.cp.abort = true
		}
		return
	}
	c.warnCondConflict(words, c.cp.proxy.HTTPPlaces(c.args[0]))
}

// redirectWordsError reads the words of a redirect rule up to its
// condition as http_parse_redirect_rule does: msg is the error on a word,
// typed whether a redirection type was given, cond whether a condition
// follows.
func redirectWordsError(words []string) (msg string, typed, cond bool) {
	for i := 0; i < len(words) && words[i] != ""; i++ {
		switch w := words[i]; w {
		case "location", "prefix", "scheme", "set-cookie", "clear-cookie", "code":
			if i+1 >= len(words) || words[i+1] == "" {
				return fmt.Sprintf("missing argument for '%s'", w), typed, false
			}
			i++
			switch w {
			case "location", "prefix", "scheme":
				typed = true
			case "code":
				if n := Atol(words[i]); n < 301 || n > 308 || n > 303 && n < 307 {
					return fmt.Sprintf("'%s': unsupported HTTP code '%s' (must be one of 301, 302, 303, 307 or 308)", w, words[i]), typed, false
				}
			}
		case "drop-query", "append-slash", "ignore-empty":
		case "if", "unless":
			return "", typed, true
		default:
			return fmt.Sprintf("expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '%s')", w), typed, false
		}
	}
	return "", typed, false
}

// lastRule is the proxy's last rule of the list kw adds to (the
// redirect keyword's list is apart), nil when none.
func lastRule(p *Proxy, kw string) *HTTPRule {
	var list []*HTTPRule
	switch kw {
	case "http-request":
		list = p.HTTPRequestRules
	case "http-response":
		list = p.HTTPResponseRules
	case "http-after-response":
		list = p.HTTPAfterRules
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Keyword == kw {
			return list[i]
		}
	}
	return nil
}

// finalAction says whether a rule's action ends the rule set
// (ACT_FLAG_FINAL): allow, deny, tarpit, auth, return, and a redirect
// unless ignore-empty.
func finalAction(r *HTTPRule) bool {
	switch r.Action {
	case "allow", "deny", "tarpit", "auth", "return":
		return true
	case "redirect":
		return !slices.Contains(strings.Fields(r.Text), "ignore-empty")
	}
	return false
}

// The rule lists in the order HAProxy runs them, for its warnings about
// a rule placed after one that runs later (warnif_misplaced_*).
const (
	listTCPSess = iota
	listTCPCont
	listMonitor
	listHTTPReq
	listRedirect
	listUseBackend
	listUseServer
)

var placedLists = [...]string{"a 'tcp-request session'", "a 'tcp-request content'", "a 'monitor fail'",
	"an 'http-request'", "a 'redirect'", "a 'use_backend'", "a 'use-server'"}

// warnMisplaced warns about a rule that runs before list `after` but
// comes after a rule of that list or of a later one: the first such
// list is named.
func (c *pctx) warnMisplaced(after int, arg string) bool {
	for i := after; i < len(placedLists); i++ {
		if c.cp.proxy.ruleLists&(1<<i) != 0 {
			c.warn("a '%s' rule placed after %s rule will still be processed before.", arg, placedLists[i])
			return true
		}
	}
	return false
}

// ruleAdded records a rule of the list.
func (c *pctx) ruleAdded(list int) { c.cp.proxy.ruleLists |= 1 << list }

func kwUseBackend(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects a backend name.", c.args[0])
		return
	}
	r := &SwitchRule{Pos: c.pos, Backend: c.arg(1), Cond: c.rest(2)}
	if len(r.Cond) > 0 && r.Cond[0] != "if" && r.Cond[0] != "unless" {
		c.alert("unexpected keyword '%s' after switching rule, only 'if' and 'unless' are allowed.", r.Cond[0])
		return
	}
	if !c.cp.checkCondACLs(c, c.rest(2), "switching rule") {
		return
	}
	r.Where = switchPlaces
	c.warnCondConflict(r.Cond, r.Where)
	c.cp.proxy.UseBackends = append(c.cp.proxy.UseBackends, r)
	c.ruleAdded(listUseBackend)
}

// kwUniqueIDFormat reads "unique-id-format <fmt>", read as a log-format
// once the proxy's mode is known (ResolveLogFormat).
func kwUniqueIDFormat(c *pctx) {
	switch {
	case c.arg(1) == "":
		c.alert("%s expects an argument.", c.args[0])
	case c.arg(2) != "":
		c.alert("%s expects only one argument, don't forget to escape spaces!", c.args[0])
	default:
		c.runtimeForm()
		p := c.cp.proxy
		p.UniqueIDFormat, p.UniqueIDPos = c.arg(1), c.pos
	}
}

// kwUniqueIDHeader reads "unique-id-header <name>": the request header
// that carries the unique id to the server.
func kwUniqueIDHeader(c *pctx) {
	if c.arg(1) == "" {
		c.alert("%s expects an argument.", c.args[0])
		return
	}
	c.runtimeForm()
	c.cp.proxy.UniqueIDHeader = c.arg(1)
}

// kwDisabled reads "disabled" and "enabled": a disabled proxy is
// checked but not started (no listener, no traffic, no checks, no
// stats); "enabled" reverts a disabled defaults section.
func kwDisabled(c *pctx) {
	if !c.tooMany(0) {
		c.cp.proxy.Disabled = c.args[0] == "disabled"
	}
}

// kwMaxSessionSrvConns reads "max-session-srv-conns <n>": how many idle
// server connections of its own a client connection keeps.
func kwMaxSessionSrvConns(c *pctx) {
	if c.arg(1) == "" {
		// HAProxy's own spelling of its prefix.
		d := alertf(c.pos, "parsine [%s] : '%s' expects a number. Got no argument", c.pos, c.args[0])
		d.Style = StyleNone
		c.cp.add(d)
		return
	}
	c.runtimeForm()
	c.cp.proxy.MaxSessSrvConns = int(Atol(c.arg(1)))
}

// kwSendNameHeader reads "http-send-name-header <name>": the header that
// carries the server's name to the server.
func kwSendNameHeader(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' requires a header string.", c.args[0])
		return
	}
	c.runtimeForm()
	c.cp.proxy.SendNameHeader = strings.ToLower(c.arg(1))
}

func kwMonitorURI(c *pctx) {
	if c.tooMany(1) {
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an URI.", c.args[0])
		return
	}
	c.cp.proxy.MonitorURI = c.arg(1)
}

// kwMonitor reads "monitor fail if|unless <cond>": a request for the
// monitor-uri gets a 503 when a condition matches.
func kwMonitor(c *pctx) {
	if c.arg(1) != "fail" {
		c.alert("'%s' only supports 'fail'.", c.args[0])
		return
	}
	if c.arg(2) != "if" && c.arg(2) != "unless" {
		c.alert("'%s %s' requires either 'if' or 'unless' followed by a condition.", c.args[0], c.args[1])
		return
	}
	c.warnMisplaced(listHTTPReq, "monitor fail")
	if !c.cp.checkCondACLs(c, c.args[2:], "a 'monitor fail' condition") {
		return
	}
	p := c.cp.proxy
	c.ruleAdded(listMonitor)
	if c.noCap {
		p.IgnoredConds = append(p.IgnoredConds, CondLine{Pos: c.pos, Keyword: "monitor fail", Cond: c.args[2:]})
		return
	}
	c.runtimeForm()
	p.MonitorFail = append(p.MonitorFail, CondLine{Pos: c.pos, Keyword: "monitor fail", Cond: c.args[2:]})
}

// checkCondACLs compiles the condition of rule words as HAProxy does at
// parse time (an ACL declared later is an error) and reports its error
// in the wording of the rule's keyword; false after an alert.
func (cp *cfgParser) checkCondACLs(c *pctx, words []string, what string) bool {
	msg := cp.condError(c.pos, words)
	if msg == "" {
		return true
	}
	if what == "redirect" {
		c.alert("error detected in %s '%s' while parsing redirect rule : error in condition: %s.", ProxyTypeStr(cp.proxy), cp.proxy.Name, msg)
	} else if what == "http redirect" {
		c.alert("error detected in %s '%s' while parsing '%s %s' rule : error in condition: %s.", ProxyTypeStr(cp.proxy), cp.proxy.Name, c.args[0], c.args[1], msg)
	} else if what == "sticking condition" {
		c.alert("'stick': error detected while parsing sticking condition : %s.", msg)
	} else if what == "switching rule" {
		c.alert("error detected while parsing switching rule : %s.", msg)
	} else {
		c.alert("error detected while parsing %s : %s.", what, msg)
	}
	return false
}

var predefinedACLs = map[string]bool{
	"FALSE": true, "HTTP": true, "HTTP_1.0": true, "HTTP_1.1": true, "HTTP_2.0": true, "HTTP_CONTENT": true,
	"HTTP_URL_ABS": true, "HTTP_URL_SLASH": true, "HTTP_URL_STAR": true, "LOCALHOST": true, "METH_CONNECT": true,
	"METH_DELETE": true, "METH_GET": true, "METH_HEAD": true, "METH_OPTIONS": true, "METH_POST": true,
	"METH_PUT": true, "METH_TRACE": true, "RDP_COOKIE": true, "REQ_CONTENT": true, "TRUE": true, "WAIT_END": true,
}

func kwDefaultBackend(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects a backend name.", c.args[0])
		return
	}
	if c.tooMany(1) {
		return
	}
	c.cp.proxy.DefaultBackend = &Ref{Pos: c.pos, Name: c.arg(1)}
}

func kwRetries(c *pctx) {
	if c.tooMany(1) {
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument (dispatch counts for one).", c.args[0])
		return
	}
	// atol into an int, as HAProxy reads it.
	c.cp.proxy.Retries = int(catoi(c.arg(1)))
}

// kwRateLimit reads "rate-limit sessions <n>" with HAProxy's messages.
func kwRateLimit(c *pctx) {
	if c.arg(1) != "sessions" {
		c.alert("'%s' only supports 'sessions' (got '%s')", c.args[0], c.arg(1))
		return
	}
	if c.arg(2) == "" {
		c.alert("'%s %s' expects expects an integer value (in sessions/second)", c.args[0], c.arg(1))
		return
	}
	n, err := strconv.ParseUint(c.arg(2), 0, 32)
	if err != nil {
		s := c.arg(2)
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i < len(s) {
			c.alert("'%s %s' : unexpected character '%c' in integer value '%s'", c.args[0], c.arg(1), s[i], s)
			return
		}
	}
	p := c.cp.proxy
	if p.Cap&CapFE == 0 {
		c.warn("%s %s will be ignored because %s '%s' has no frontend capability", c.args[0], c.args[1], ProxyTypeStr(p), p.Name)
	} else if def := p.Def; p.Cap&CapDef == 0 && (def == nil && p.RateLimitSessions != 0 || def != nil && p.RateLimitSessions != def.RateLimitSessions) {
		c.warn("overwriting %s %s which was already specified", c.args[0], c.args[1])
	}
	p.RateLimitSessions = int(n)
}

func kwBacklog(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	c.cp.proxy.Backlog = Atol(c.arg(1))
	c.tooMany(1)
}

func kwMaxconn(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	c.cp.proxy.Maxconn = Atol(c.arg(1))
	c.tooMany(1)
}

func kwBalance(c *pctx) {
	if c.arg(1) == "" {
		// HAProxy accepts a bare 'balance' and keeps the current algorithm.
		return
	}
	if msg := balanceError(c.args[1:]); msg != "" {
		c.alert("%s %s", c.args[0], msg)
		return
	}
	c.cp.proxy.Balance = c.args[1:]
	c.cp.proxy.LB = readBalance(c.args[1:])
}

// balanceError checks the words of a balance line as
// backend_parse_balance does and returns its error.
func balanceError(a []string) string {
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	switch a0 := a[0]; {
	case a0 == "roundrobin", a0 == "static-rr", a0 == "first", a0 == "leastconn", a0 == "source":
	case strings.HasPrefix(a0, "random"):
		if len(a0) > 7 && a0[6] == '(' && a0[7] != ')' {
			n, end := strtol0(a0[7:])
			rest := a0[7+end:]
			switch {
			case rest == "":
				return "random : missing closing parenthesis."
			case rest[0] != ')':
				return fmt.Sprintf("random : unexpected character '%c' after argument.", rest[0])
			case int32(n) < 1:
				return "random : number of draws must be at least 1."
			}
		} else if len(a0) == 7 && a0[6] == '(' {
			return "random : missing closing parenthesis."
		}
	case a0 == "uri":
		for i := 1; arg(i) != ""; {
			switch w := arg(i); w {
			case "len", "depth":
				if v := arg(i + 1); v == "" || Atol(v) <= 0 {
					return fmt.Sprintf("%s : '%s' expects a positive integer (got '%s').", a0, w, v)
				}
				i += 2
			case "whole", "path-only":
				i++
			default:
				return fmt.Sprintf("%s only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '%s').", a0, w)
			}
		}
	case a0 == "url_param":
		if arg(1) == "" {
			return a0 + " requires an URL parameter name."
		}
		if v := arg(2); v != "" && v != "check_post" {
			return fmt.Sprintf("%s only accepts 'check_post' modifier (got '%s').", a0, v)
		}
	case a0 == "hash":
		if arg(1) == "" {
			return a0 + " requires a sample expression."
		}
		if arg(2) != "" {
			return fmt.Sprintf("%s takes no other argument (got '%s').", a0, arg(2))
		}
	case strings.HasPrefix(a0, "hdr("):
		if end := strings.IndexByte(a0[4:], ')'); end <= 0 {
			return "hdr requires an http header field name."
		}
		if v := arg(1); v != "" && v != "use_domain_only" {
			return fmt.Sprintf("%s only accepts 'use_domain_only' modifier (got '%s').", a0, v)
		}
	case strings.HasPrefix(a0, "rdp-cookie"):
		if rest := a0[len("rdp-cookie"):]; rest != "" && (rest[0] != '(' || strings.IndexByte(rest, ')') <= 1) {
			return "rdp-cookie : missing cookie name."
		}
	default:
		return "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."
	}
	return ""
}

// Balance is a "balance" line as the runtime runs it (configuration.txt
// 4.2, "balance").
type Balance struct {
	// Algo is the algorithm's name, "roundrobin" by default.
	Algo string
	// Draws is the number of draws of "random".
	Draws int
	// URIWhole, URIPathOnly, URILen and URIDepth are the "uri" options.
	URIWhole, URIPathOnly bool
	URILen, URIDepth      int
	// Name is the parameter of url_param, the header of hdr (in lower
	// case) or the cookie of rdp-cookie.
	Name string
	// DomainOnly is hdr's use_domain_only.
	DomainOnly bool
	// Unsupported marks a form the runtime does not run.
	Unsupported bool
}

// readBalance reads the forms of "balance" the runtime runs; anything
// else is marked Unsupported.
func readBalance(args []string) Balance {
	rr := Balance{Algo: "roundrobin"}
	if len(args) == 0 {
		return rr
	}
	bad := Balance{Unsupported: true}
	a0 := args[0]
	switch {
	case len(args) == 1 && (a0 == "roundrobin" || a0 == "static-rr" || a0 == "first" || a0 == "leastconn" || a0 == "source"):
		return Balance{Algo: a0}
	case a0 == "random" && len(args) <= 2:
		b := Balance{Algo: a0, Draws: 2}
		if len(args) == 2 {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(args[1], "("), ")"))
			if err != nil || n < 1 {
				return bad
			}
			b.Draws = n
		}
		return b
	case a0 == "uri":
		b := Balance{Algo: a0}
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "whole":
				b.URIWhole = true
			case "path-only":
				b.URIPathOnly = true
			case "len", "depth":
				if i+1 >= len(args) {
					return bad
				}
				n, err := strconv.Atoi(args[i+1])
				if err != nil || n < 0 {
					return bad
				}
				if args[i] == "len" {
					b.URILen = n
				} else {
					b.URIDepth = n
				}
				i++
			default:
				return bad
			}
		}
		return b
	case a0 == "url_param" && len(args) == 2:
		return Balance{Algo: a0, Name: args[1]}
	case len(args) == 1 && (a0 == "rdp-cookie" || strings.HasPrefix(a0, "rdp-cookie(") && strings.HasSuffix(a0, ")")):
		b := Balance{Algo: "rdp-cookie", Name: "mstshash"}
		if n := strings.TrimSuffix(strings.TrimPrefix(a0, "rdp-cookie("), ")"); n != a0 && n != "" {
			b.Name = n
		}
		return b
	case strings.HasPrefix(a0, "hdr(") && strings.HasSuffix(a0, ")") && (len(args) == 1 || len(args) == 2 && args[1] == "use_domain_only"):
		return Balance{Algo: "hdr", Name: strings.ToLower(a0[4 : len(a0)-1]), DomainOnly: len(args) == 2}
	}
	return bad
}

// kwHashType checks "hash-type <method> [<function> [avalanche]]" with
// HAProxy's messages; the 1.x "hash-type avalanche" is accepted outside
// compat mode.
func kwHashType(c *pctx) {
	switch c.arg(1) {
	case "consistent", "map-based":
	case "avalanche":
		if c.cp.opts.Compat {
			c.alert("experimental feature 'hash-type avalanche' is not supported anymore, please use 'hash-type map-based sdbm avalanche' instead.")
			return
		}
		c.cp.add(legacyWarn(c.pos, "'hash-type avalanche'", "'hash-type map-based sdbm avalanche'"))
		c.cp.proxy.HashType = &HashType{Func: "sdbm", Avalanche: true}
		return
	default:
		c.alert("'hash-type' only supports 'consistent' and 'map-based'.")
		return
	}
	// A bare "consistent" implies avalanche in HAProxy.
	ht := &HashType{Consistent: c.arg(1) == "consistent", Func: "sdbm", Avalanche: c.arg(1) == "consistent" && c.arg(2) == ""}
	if c.arg(2) != "" {
		switch c.arg(2) {
		case "sdbm", "djb2", "wt6", "crc32":
		default:
			c.alert("'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.")
			return
		}
		if m := c.arg(3); m != "" && m != "avalanche" {
			c.alert("'hash-type' only supports 'avalanche' as a modifier for hash functions.")
			return
		}
		ht.Func, ht.Avalanche = c.arg(2), c.arg(3) == "avalanche"
	}
	c.cp.proxy.HashType = ht
}

// kwHashBalanceFactor reads the factor as atol does.
func kwHashBalanceFactor(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'hash-balance-factor' expects an integer argument.")
		return
	}
	// An int in HAProxy: atol's value is cut to 32 bits.
	if n := catoi(c.arg(1)); n != 0 && n <= 100 {
		c.alert("'hash-balance-factor' must be 0 or greater than 100.")
		return
	}
	c.cp.proxy.HashBalanceFactor = Atol(strings.Join(c.args[1:], ""))
}

// kwFullconn reads "fullconn <n>"; a value the runtime cannot read is
// kept as a position for it to refuse.
func kwFullconn(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	if c.tooMany(1) {
		return
	}
	n, err := strconv.Atoi(c.arg(1))
	if err != nil || n < 0 {
		c.cp.proxy.FullconnBad = c.pos
	} else {
		c.cp.proxy.FullconnBad = Pos{}
	}
	c.cp.proxy.Fullconn = max(n, 0)
}

// kwDispatch reads "dispatch <address>:<port>": the address a backend
// without a balance algorithm connects to (configuration.txt 4.2).
func kwDispatch(c *pctx) {
	a := c.arg(1)
	if msg := checkDispatchAddress(a); msg != "" {
		// str2sa_range ends some of its messages with a newline.
		msg, nl := strings.CutSuffix(msg, "\n")
		c.alert("'%s' : %s", c.args[0], msg)
		if nl {
			c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		}
		return
	}
	if c.tooMany(1) {
		return
	}
	d := &Dispatch{Pos: c.pos, Addr: a}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		s = strings.TrimPrefix(s, pfx)
	}
	var port string
	d.Host, port, _ = splitHostPort(s)
	d.Port, _ = leadingInt(port) // atoi, as HAProxy reads it
	c.cp.proxy.Dispatch = d
}

// checkDispatchAddress is str2sa_range's verdict on a connect address
// whose port is mandatory and a single one.
func checkDispatchAddress(a string) string { return checkConnectAddress(a, true) }

// checkConnectAddress is str2sa_range's verdict on a connect address
// (PA_O_CONNECT) with at most one port, mandatory when portMand is set
// (PA_O_PORT_MAND).
func checkConnectAddress(a string, portMand bool) string {
	if a == "" {
		return "'' resolves to an empty address (environment variable missing?)\n"
	}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		s = strings.TrimPrefix(s, pfx)
	}
	host, port, ok := splitHostPort(s)
	switch {
	case (!ok || port == "") && portMand:
		return fmt.Sprintf("missing port specification in '%s'", a)
	case !ok || port == "":
	case port[0] >= '0' && port[0] <= '9':
		if strings.IndexByte(port, '-') >= 0 {
			return fmt.Sprintf("port range not permitted here in '%s'", a)
		}
		if n, _ := leadingInt(port); n < 1 && portMand || n > 65535 {
			return fmt.Sprintf("invalid port '%s'", port)
		}
	case port[0] == '+' || port[0] == '-':
		return fmt.Sprintf("port offset not permitted here in '%s'", a)
	default:
		return fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'\n", port[0], port, a)
	}
	if host == "" || host == "*" || isIP(host) || isInetAton(host) || resolvable(host) {
		return ""
	}
	return fmt.Sprintf("invalid address: '%s' in '%s'\n", host, a)
}

// kwCookie reads "cookie <name> [rewrite|insert|prefix] [options]"
// (configuration.txt 4.2).
func kwCookie(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <cookie_name> as argument.", c.args[0])
		return
	}
	ck := &Cookie{Pos: c.pos, Name: c.arg(1), Mode: "rewrite"}
	var rw, ins, pfx bool
	a := c.args
	for i := 2; i < len(a) && a[i] != ""; i++ {
		switch o := a[i]; o {
		case "rewrite":
			rw = true
		case "insert":
			ins, ck.Mode = true, o
		case "prefix":
			pfx, ck.Mode = true, o
		case "indirect":
			ck.Indirect = true
		case "preserve":
			ck.Preserve = true
		case "nocache":
			ck.NoCache = true
		case "httponly":
			ck.HTTPOnly = true
		case "secure":
			ck.Secure = true
		case "postonly":
			ck.PostOnly = true
		case "dynamic":
			if p := c.cp.proxy; p.Cap&CapBE == 0 {
				c.warn("'%s' ignored because %s '%s' has no backend capability.", o, p.Kind, p.Name)
			}
			ck.Dynamic = true
		case "domain", "attr", "maxidle", "maxlife":
			v := c.arg(i + 1)
			if v == "" {
				what := map[string]string{"domain": "<domain>", "attr": "<value>", "maxidle": "<idletime> in seconds", "maxlife": "<lifetime> in seconds"}[o]
				c.tight("'%s' expects %s as argument.", o, what)
				return
			}
			i++
			switch o {
			case "domain":
				if !strings.Contains(v, ".") {
					d := warnf(c.pos, "domain '%s' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).", v)
					d.Style = StyleParsingTight
					c.cp.add(d)
				}
				if k := invalidDomainChar(v); k >= 0 {
					c.tight("character '%c' is not permitted in domain name '%s'.", v[k], v)
					return
				}
				ck.Domains = append(ck.Domains, v)
			case "attr":
				for k := 0; k < len(v); k++ {
					if v[k] < 0x20 || v[k] == 0x7f || v[k] == ';' {
						c.tight("character '%%x%02X' is not permitted in attribute value.", v[k])
						return
					}
				}
				ck.Attrs = append(ck.Attrs, v)
			default:
				t, r, bad, warn := parseSeconds(v)
				timerTrailWarning(c, warn, v)
				switch r {
				case timeOverflow:
					c.tight("timer overflow in argument <%s> to <%s>, maximum value is 2147483647 s (~68 years).", v, o)
					return
				case timeUnderflow:
					c.tight("timer underflow in argument <%s> to <%s>, minimum non-null value is 1 s.", v, o)
					return
				case timeBadChar:
					c.tight("unexpected character '%c' in argument to <%s>.", bad, o)
					return
				}
				if o == "maxidle" {
					ck.MaxIdle = t
				} else {
					ck.MaxLife = t
				}
			}
		default:
			c.alert("'%s' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.", c.args[0])
			return
		}
	}
	ok := true
	if rw && ck.Indirect {
		c.alert("cookie 'rewrite' and 'indirect' modes are incompatible.")
		ok = false
	}
	if n := btoi(rw) + btoi(ins) + btoi(pfx); n > 1 {
		c.alert("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.")
		ok = false
	}
	if ck.Preserve && !ins && !ck.Indirect {
		c.alert("cookie 'preserve' requires at least 'insert' or 'indirect'.")
		ok = false
	}
	if ok {
		c.cp.proxy.Cookie = ck
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// invalidDomainChar is HAProxy's invalid_domainchar: the first byte
// outside [A-Za-z0-9_.-], 0 for an empty name, or -1.
func invalidDomainChar(s string) int {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !isAlnum(b) && b != '.' && b != '_' && b != '-' {
			return i
		}
	}
	return -1
}

var timeoutNames = map[string]string{
	"client": "client", "server": "server", "connect": "connect", "check": "check", "queue": "queue",
	"http-keep-alive": "http-keep-alive", "http-request": "http-request", "tunnel": "tunnel", "tarpit": "tarpit",
	"client-fin": "client-fin", "server-fin": "server-fin",
}

var legacyTimeouts = map[string]string{"clitimeout": "client", "srvtimeout": "server", "contimeout": "connect"}

func kwTimeout(c *pctx) {
	name := c.arg(1)
	p := c.cp.proxy
	if modern, ok := legacyTimeouts[name]; ok {
		if c.cp.opts.Compat {
			c.alert("the '%s' directive is not supported anymore since HAProxy 2.1. Use 'timeout %s'.", name, modern)
			return
		}
		c.cp.add(legacyWarn(c.pos, "'timeout "+name+"'", "'timeout "+modern+"'"))
		name = modern
	}
	if _, ok := timeoutNames[name]; !ok {
		c.alert("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '%s')", name)
		return
	}
	v := c.arg(2)
	if v == "" {
		c.alert("'timeout %s' expects an integer value (in milliseconds)", name)
		return
	}
	c.warnTimer(v)
	d, res := parseTime(v)
	switch res {
	case timeBadChar:
		c.alert("unexpected character '%c' in 'timeout %s'", badTimeChar(v), name)
		return
	case timeOverflow:
		c.alert("timer overflow in argument '%s' to 'timeout %s' (maximum value is 2147483647 ms or ~24.8 days)", v, name)
		return
	case timeUnderflow:
		c.alert("timer underflow in argument '%s' to 'timeout %s' (minimum non-null value is 1 ms)", v, name)
		return
	}
	if c.arg(3) != "" {
		c.alert("'timeout %s' : unexpected extra argument '%s' after value '%s'.", name, c.arg(3), v)
		return
	}
	needFE := name == "client" || name == "client-fin" || name == "http-request" || name == "http-keep-alive"
	needBE := name == "server" || name == "connect" || name == "check" || name == "queue" || name == "tunnel" || name == "server-fin"
	if name == "http-request" || name == "http-keep-alive" || name == "tarpit" {
		needFE, needBE = false, false
	}
	if needFE && p.Cap&CapFE == 0 {
		c.warn("'timeout %s' will be ignored because %s '%s' has no frontend capability", name, p.Kind, p.Name)
		return
	}
	if needBE && p.Cap&CapBE == 0 {
		c.warn("'timeout %s' will be ignored because %s '%s' has no backend capability", name, p.Kind, p.Name)
		return
	}
	p.Timeouts[name] = d
}

func kwOption(c *pctx) {
	name := c.arg(1)
	if name == "" {
		c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight, Msg: fmt.Sprintf("'%s' expects an option name.", c.args[0])})
		return
	}
	if lk, ok := legacyOptions[name]; ok {
		if c.cp.opts.Compat && lk.compat == "" {
			c.cp.unknownOption(c)
			return
		}
		if c.cp.opts.Compat {
			c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: lk.style, Msg: fmt.Sprintf(lk.compat, name)})
			return
		}
		c.cp.add(legacyWarn(c.pos, "'option "+name+"'", lk.modern))
		// proxyLine recorded the line as a plain option: say what the
		// runtime does with this legacy one.
		if ds := c.cp.cfg.Directives; len(ds) > 0 {
			d := ds[len(ds)-1]
			d.Legacy = true
			switch {
			case lk.unsupported:
				d.Support = Unsupported
			case lk.apply == nil:
				d.Support = Harmless
			}
		}
		if lk.apply != nil {
			lk.apply(c)
		}
		return
	}
	if !knownOptions[name] {
		c.cp.unknownOption(c)
		return
	}
	if !checkOptionArgs(c, name) {
		return
	}
	if name == "httpchk" && len(c.args) >= 5 && strings.ContainsAny(c.args[4], "\r\n ") {
		c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
			Msg: "'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead."})
	}
	if need, ok := optionCaps[name]; ok && c.cp.proxy.Cap&need == 0 {
		side := "frontend"
		if need == CapBE {
			side = "backend"
		}
		p := c.cp.proxy
		c.warn("'%s' ignored because %s '%s' has no %s capability.", name, p.Kind, p.Name, side)
		return
	}
	if !c.setOption(name) {
		return
	}
	if name == "httpchk" && c.mod != "no" && c.cp.proxy.Kind != "defaults" {
		c.cp.proxy.hcImplicitSend()
	}
	// The log format options replace each other.
	for _, o := range []string{"httplog", "tcplog", "httpslog"} {
		if o != name && (name == "httplog" || name == "tcplog" || name == "httpslog") {
			delete(c.cp.proxy.Options, o)
		}
	}
	if name == "httplog" || name == "tcplog" || name == "httpslog" {
		logOption(c, name)
	}
}

// flagOptions are HAProxy's cfg_opts and cfg_opts2: plain flags that
// "no option" forces off and "default option" resets to the built-in
// state.
var flagOptions = map[string]bool{}

func init() {
	for _, o := range strings.Fields(`abortonclose allbackups checkcache clitcpka contstats dontlognull
http-buffer-request http-ignore-probes idle-close-on-response prefer-last-server logasap nolinger persist
srvtcpka transparent splice-request splice-response splice-auto accept-invalid-http-request
accept-invalid-http-response dontlog-normal log-separate-errors log-health-checks socket-stats
tcp-smart-accept tcp-smart-connect independent-streams http-use-proxy-header http-pretend-keepalive
http-no-delay h1-case-adjust-bogus-client h1-case-adjust-bogus-server disable-h2-upgrade`) {
		flagOptions[o] = true
	}
}

// httpModes are the connection mode options, which replace each other.
var httpModes = map[string]bool{"httpclose": true, "http-server-close": true, "http-keep-alive": true}

// setOption applies an option line with its "no"/"default" prefix as
// HAProxy's cfg_parse_listen does; false when the prefix is refused.
func (c *pctx) setOption(name string) bool {
	p := c.cp.proxy
	switch {
	case c.mod == "":
	case flagOptions[name], name == "redispatch":
	case httpModes[name]:
	default:
		c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("negation/default is not supported for option '%s'.", name)})
		return false
	}
	if c.mod == "default" {
		delete(p.Options, name)
		delete(p.OptionPos, name)
		return true
	}
	on := c.mod != "no"
	p.Options[name] = on
	p.OptionPos[name] = c.pos
	if a := c.rest(2); on && len(a) > 0 {
		p.OptionArgs[name] = a
	} else {
		delete(p.OptionArgs, name)
	}
	if on {
		p.setCheckOption(name, c.rest(2))
	}
	switch {
	case httpModes[name] && on:
		p.HTTPMode = name
	case httpModes[name] && p.HTTPMode == name:
		p.HTTPMode = ""
	case name == "redispatch" && on:
		p.RedispatchAfter = -1
		if a := c.arg(2); a != "" {
			p.RedispatchAfter = Atol(a)
		}
	case name == "redispatch":
		p.RedispatchAfter = 0
	case name == "forwardfor":
		p.ForwardFor = forwardOpt(c.rest(2))
	case name == "originalto":
		p.OriginalTo = forwardOpt(c.rest(2))
	}
	return true
}

// forwardOpt reads the arguments of option forwardfor / originalto.
func forwardOpt(args []string) *ForwardOpt {
	f := &ForwardOpt{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "except":
			if i+1 < len(args) {
				f.Except, _ = ParsePrefix(args[i+1])
				i++
			}
		case "header":
			if i+1 < len(args) {
				f.Header = strings.ToLower(args[i+1])
				i++
			}
		case "if-none":
			f.IfNone = true
		}
	}
	return f
}

// ParsePrefix reads a network as HAProxy's str2net: an address, a CIDR
// or a dotted mask (10.0.0.0/255.0.0.0).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		if pf, err := netip.ParsePrefix(s); err == nil {
			return pf.Masked(), nil
		}
		i := strings.IndexByte(s, '/')
		a, err1 := netip.ParseAddr(s[:i])
		m, err2 := netip.ParseAddr(s[i+1:])
		if err1 != nil || err2 != nil || !m.Is4() {
			return netip.Prefix{}, fmt.Errorf("invalid network '%s'", s)
		}
		bits := 0
		for _, b := range m.As4() {
			for k := 7; k >= 0; k-- {
				if b&(1<<k) != 0 {
					bits++
				}
			}
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// missingPatternFile finds a map converter in a sample expression whose
// pattern file does not exist.
func missingPatternFile(expr string) (conv, file string, missing bool) {
	for _, part := range strings.Split(expr, ",")[1:] {
		i := strings.IndexByte(part, '(')
		if i < 0 || !strings.HasPrefix(part, "map") {
			continue
		}
		f := strings.TrimSuffix(part[i+1:], ")")
		if _, err := os.Stat(f); err != nil {
			return part[:i], f, true
		}
	}
	return "", "", false
}

func (cp *cfgParser) unknownOption(c *pctx) {
	name := c.arg(1)
	if best := bestMatch(name, optionCandidates); best != "" {
		d := alertf(c.pos, "unknown option '%s'; did you mean '%s' maybe ?", name, best)
		d.Hint = best
		cp.add(d)
		return
	}
	cp.add(alertf(c.pos, "unknown option '%s'.", name))
}

var knownOptions = map[string]bool{}

// optionCandidates are the option names HAProxy offers as hints: its
// registered options, then its list of common options.
var optionCandidates = strings.Fields(`abortonclose accept-invalid-http-request accept-invalid-http-response
allbackups checkcache clitcpka contstats disable-h2-upgrade dontlog-normal dontlognull h1-case-adjust-bogus-client
h1-case-adjust-bogus-server http-buffer-request http-ignore-probes http-no-delay http-pretend-keepalive
http-use-proxy-header idle-close-on-response independent-streams log-health-checks log-separate-errors logasap
nolinger persist prefer-last-server socket-stats splice-auto splice-request splice-response srvtcpka
tcp-smart-accept tcp-smart-connect transparent forceclose httpclose http-server-close http-tunnel redispatch
http_proxy httpchk ssl-hello-chk smtpchk`)

func init() {
	for _, o := range strings.Fields(`abortonclose accept-invalid-http-request accept-invalid-http-response allbackups
checkcache clitcpka contstats disable-h2-upgrade dontlog-normal dontlognull h1-case-adjust-bogus-client
h1-case-adjust-bogus-server http-buffer-request http-ignore-probes http-no-delay http-pretend-keepalive
http-use-proxy-header idle-close-on-response independent-streams log-health-checks log-separate-errors logasap
nolinger persist prefer-last-server socket-stats splice-auto splice-request splice-response srvtcpka
tcp-smart-accept tcp-smart-connect transparent httpclose http-server-close http-keep-alive redispatch httpchk
httplog httpslog tcplog tcpka forwardfor originalto ssl-hello-chk smtpchk pgsql-check redis-check mysql-check
ldap-check spop-check tcp-check external-check http-restrict-req-hdr-names`) {
		knownOptions[o] = true
	}
}

// hcRule is one rule of an http-check sequence: its action, its index
// (HAProxy numbers every rule, comments included) and whether it is the
// request "option httpchk" implies.
type hcRule struct {
	action  string
	index   int
	fromOpt bool
}

// aside reports a rule HAProxy passes over when it looks for the first or
// last rule of a sequence (comments and variable actions).
func (r hcRule) aside() bool {
	return r.action == "comment" || r.action == "set-var" || r.action == "unset-var"
}

// hcImplicitSend adds the request of "option httpchk" as HAProxy's
// tcpcheck_add_http_rule does: in front, replacing a previous implicit
// one, or merged into an explicit send already there.
func (p *Proxy) hcImplicitSend() {
	p.hcOn = true
	i := 0
	for i < len(p.hc) && p.hc[i].aside() {
		i++
	}
	if i < len(p.hc) && p.hc[i].action == "connect" {
		for i++; i < len(p.hc) && p.hc[i].aside(); i++ {
		}
	}
	switch {
	case i >= len(p.hc) || p.hc[i].action != "send":
		p.hc = append([]hcRule{{action: "send", fromOpt: true}}, p.hc...)
	case p.hc[i].fromOpt:
		p.hc = append([]hcRule{{action: "send", fromOpt: true}}, append(p.hc[:i:i], p.hc[i+1:]...)...)
	}
}

// kwHTTPCheck checks the order of http-check rules as HAProxy does once
// option httpchk is set: a send needs a connect before it (unless it
// completes the request of option httpchk), an expect a send. HAProxy's
// rule for connects is not reproduced: measured, it does not follow its
// code as read, and a false alarm would reject a valid configuration.
func kwHTTPCheck(c *pctx) {
	n := len(c.cp.lineDiags)
	httpCheckLine(c)
	// A rule line's warning status is its message's: only the two
	// flags keep the capability warning's status without a text.
	if act := c.arg(1); act == "disable-on-404" || act == "send-state" {
		nullCheckWarning(c, n)
	}
}

// nullCheckWarning reproduces HAProxy printing the missing message of an
// http-check or tcp-check line a proxy ignores: the capability warning
// makes the parser report a warning even when it has no text.
func nullCheckWarning(c *pctx, diags int) {
	if c.noCap && len(c.cp.lineDiags) == diags {
		c.warn("(null)")
	}
}

const httpCheckActions = `'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'`

func httpCheckLine(c *pctx) {
	p := c.cp.proxy
	act := c.arg(1)
	switch act {
	case "disable-on-404", "send-state":
		if c.tooMany(1) {
			return
		}
		if act == "send-state" {
			p.CheckOpts.SendState = true
		} else {
			p.CheckOpts.DisableOn404 = true
		}
		return
	}
	if !knownAction(act, httpCheckActions) {
		c.alert("'%s' only supports %s. but got '%s'", c.args[0], httpCheckActions, act)
		return
	}
	if msg := c.checkRuleMsg(true); msg != "" {
		c.alert("'%s %s' : %s.", c.args[0], act, msg)
		return
	}
	if len(c.args) > 1 {
		p.checkRuleUse(true)
		if !p.ownHTTPChecks {
			p.HTTPChecks, p.ownHTTPChecks = nil, true
			// Own rules without an own option httpchk build on HAProxy's
			// default request, not on the one of the defaults section.
			if !p.ownHTTPChk && p.Kind != "defaults" && p.CheckOpts.HTTPChk != nil {
				p.CheckOpts.HTTPChk = &CheckSend{Meth: "OPTIONS", URI: "/", Ver: "HTTP/1.0"}
				p.CheckOpts.NoRequest = true
			}
		}
		addCheckRule(c, &p.HTTPChecks)
	}
	switch act {
	case "connect", "send", "expect", "comment", "set-var", "unset-var":
	default:
		return
	}
	if p.Kind == "defaults" {
		return
	}
	idx := 0
	if len(p.hc) > 0 {
		idx = p.hc[len(p.hc)-1].index + 1
	}
	var last *hcRule
	for i := len(p.hc) - 1; i >= 0; i-- {
		if !p.hc[i].aside() {
			last = &p.hc[i]
			break
		}
	}
	bad := ""
	switch {
	case !p.hcOn || last == nil || last.action == "send" && last.fromOpt:
	case last.action != "connect" && act == "send":
		bad = "missing connect rule"
	case last.action != "send" && last.action != "expect" && act == "expect":
		bad = "missing send rule"
	}
	if bad != "" {
		c.alert("'http-check %s' : unable to add http-check %s rule at step %d (%s)..", act, act, idx+1, bad)
		return
	}
	if act == "send" && p.hcOn {
		// An explicit send completes the implicit one, which moves last
		// with its index.
		for i, r := range p.hc {
			if r.aside() {
				continue
			}
			if r.action == "send" && r.fromOpt {
				p.hc = append(p.hc[:i:i], p.hc[i+1:]...)
				p.hc = append(p.hc, hcRule{action: "send", index: r.index, fromOpt: true})
				return
			}
			break
		}
	}
	p.hc = append(p.hc, hcRule{action: act, index: idx})
}

// checkOptionArgs checks the arguments of the protocol check options as
// HAProxy does.
func checkOptionArgs(c *pctx, name string) bool {
	plain := flagOptions[name] || httpModes[name]
	if c.mod != "" && !plain && name != "redispatch" {
		// Refused before any argument is read (setOption).
		return true
	}
	if plain {
		// "default option X" leaves HAProxy's last word in place, which
		// then reads as an argument.
		args := c.args
		if c.mod == "default" {
			args = append(args[:len(args):len(args)], args[len(args)-1])
		}
		if len(args) > 2 && args[2] != "" {
			c.alert("'%s %s' cannot handle unexpected argument '%s'.", args[0], args[1], args[2])
			return false
		}
		return true
	}
	// The checks and redispatch warn first in a proxy without the
	// backend side (redispatch stops there), then read their arguments.
	noBE := false
	if beFirstOptions[name] && c.cp.proxy.Cap&CapBE == 0 {
		p := c.cp.proxy
		c.warn("'%s' ignored because %s '%s' has no backend capability.", name, p.Kind, p.Name)
		if name == "redispatch" {
			return false
		}
		noBE = true
	}
	if !checkOptionWords(c, name) {
		return false
	}
	if noBE && c.mod == "" {
		// It goes on after its warning: what it does to the check
		// rules decides the warnings about unused ones.
		c.cp.proxy.checkType(name)
	}
	return !noBE
}

// beFirstOptions warn of a missing backend side before their arguments.
var beFirstOptions = map[string]bool{"redispatch": true, "httpchk": true, "smtpchk": true, "pgsql-check": true,
	"mysql-check": true, "ssl-hello-chk": true, "redis-check": true, "ldap-check": true, "spop-check": true, "tcp-check": true}

// checkOptionWords checks the words after an option's name.
func checkOptionWords(c *pctx, name string) bool {
	switch name {
	case "forwardfor", "originalto":
		for i := 2; c.arg(i) != ""; {
			switch w := c.arg(i); {
			case w == "except":
				// str2net resolves a name; str62net takes IPv6.
				host, _, _ := strings.Cut(c.arg(i+1), "/")
				if _, ok := parseNet(c.arg(i + 1)); c.arg(i+1) == "" || !ok && !resolvable(host) {
					c.alert("'%s %s %s' expects <address>[/mask] as argument.", c.args[0], name, w)
					return false
				}
				i += 2
			case w == "header":
				if c.arg(i+1) == "" {
					c.alert("'%s %s %s' expects <header_name> as argument.", c.args[0], name, w)
					return false
				}
				i += 2
			case w == "if-none" && name == "forwardfor":
				i++
			case name == "forwardfor":
				c.alert("'%s %s' only supports optional values: 'except', 'header' and 'if-none'.", c.args[0], name)
				return false
			default:
				c.alert("'%s %s' only supports optional values: 'except' and 'header'.", c.args[0], name)
				return false
			}
		}
	case "httpchk":
		// proxy_parse_httpchk_opt: a method, a URI and a version at most.
		if c.tooManyIdx(3, 1) {
			return false
		}
	case "httplog":
		if v := c.arg(2); v != "" && v != "clf" {
			c.alert("keyword '%s' only supports option 'clf'.", name)
			return false
		}
		if c.arg(2) != "" && c.tooManyIdx(1, 1) {
			return false
		}
	case "tcpka", "ssl-hello-chk", "redis-check", "ldap-check", "spop-check", "tcp-check":
		if c.tooManyIdx(0, 1) {
			return false
		}
	case "external-check":
		if c.tooManyIdx(0, 1) {
			return false
		}
	case "mysql-check":
		if c.arg(2) == "" {
			return true
		}
		if c.arg(2) != "user" {
			c.alert("'%s %s' only supports optional values: 'user' (got '%s').", c.args[0], name, c.arg(2))
			return false
		}
		if c.arg(3) == "" {
			c.alert("'%s %s %s' expects <username> as argument.", c.args[0], name, c.arg(2))
			return false
		}
		if v := c.arg(4); v != "" && v != "post-41" && v != "pre-41" {
			c.alert("keyword '%s' only supports 'post-41' and 'pre-41' (got '%s').", c.arg(2), v)
			return false
		}
	case "http-restrict-req-hdr-names":
		if c.tooMany(2) {
			return false
		}
		switch v := c.arg(2); {
		case c.mod != "":
		case v == "":
			c.alert("missing parameter. option '%s' expects 'preserve', 'reject' or 'delete' option.", name)
			return false
		case v != "preserve" && v != "reject" && v != "delete":
			c.alert("invalid parameter '%s'. option '%s' expects 'preserve', 'reject' or 'delete' option.", v, name)
			return false
		}
	case "pgsql-check":
		if c.arg(2) == "" || c.arg(3) == "" {
			c.alert("'%s %s' expects 'user <username>' as argument.", c.args[0], name)
			return false
		}
		if c.arg(2) != "user" {
			c.alert("'%s %s' only supports optional values: 'user'.", c.args[0], name)
			return false
		}
	}
	return true
}

var tcpRequestContentActions = strings.Fields(`accept reject capture expect-proxy expect-netscaler-cip track-sc0 track-sc1 track-sc2
ot-group set-log-level set-nice switch-mode use-service sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0
send-spoe-group do-resolve set-var-fmt set-var unset-var set-src set-src-port set-dst set-dst-port set-mark set-tos
silent-drop set-priority-class set-priority-offset`)

// runtimeForm marks the directive being parsed as one the runtime
// implements, when only some forms of its keyword are.
func (c *pctx) runtimeForm() { c.setSupport(Supported) }

// setSupport gives the directive being parsed the support level of its
// form, when it differs from its keyword's.
func (c *pctx) setSupport(s Support) {
	if ds := c.cp.cfg.Directives; len(ds) > 0 {
		ds[len(ds)-1].Support = s
	}
}

// kwPersist: "persist rdp-cookie[(name)]" is implemented.
func kwPersist(c *pctx) {
	a := c.arg(1)
	if a == "" {
		c.alert("missing persist method.")
		return
	}
	rest, ok := strings.CutPrefix(a, "rdp-cookie")
	if !ok {
		c.alert("unknown persist method.")
		return
	}
	name := "msts"
	if rest != "" {
		if rest[0] == '(' && c.tooMany(1) {
			return
		}
		end := strings.IndexByte(rest, ')')
		if rest[0] != '(' || end <= 1 {
			c.alert("persist rdp-cookie(name)' requires an rdp cookie name.")
			return
		}
		name = rest[1:end]
	}
	if len(c.args) == 2 && (rest == "" || strings.HasSuffix(rest, ")")) {
		c.runtimeForm()
		c.cp.proxy.RDPPersist = &Ref{Pos: c.pos, Name: name}
	}
}

// defaultsRules applies HAProxy's rules for TCP and HTTP rules in a
// defaults section: refused in an anonymous one (msg), and in a named one
// they mark the section, whose proxies run them before their own. It
// reports whether the line goes on being read.
func (c *pctx) defaultsRules(msg string, a ...any) bool {
	p := c.cp.proxy
	if p == nil || p.Kind != "defaults" {
		return true
	}
	if c.args[0] == "redirect" {
		c.alert("'redirect' not allowed in 'defaults' section.")
		return false
	}
	if p.Name == "" {
		c.alert(msg, a...)
		return false
	}
	p.hasRules = true
	return true
}

func kwTCPRequest(c *pctx) {
	if !c.tcpRuleDiag(false) || !c.defaultsRules("tcp-request %s is not allowed in anonymous 'defaults' sections", c.arg(1)) {
		return
	}
	if !c.checkTCPRuleExpr(false) {
		return
	}
	// The warning about a misplaced rule is no error of the line.
	base := len(c.cp.lineDiags)
	defer func() { c.warnTCPCondConflict(base, false) }()
	switch {
	case c.arg(1) == "inspect-delay" && len(c.args) >= 3:
		if d, r := parseTime(c.arg(2)); r == timeOK {
			c.runtimeForm()
			addTCPRequest(c, &TCPRequest{InspectDelay: d})
		}
	case c.arg(1) == "connection" || c.arg(1) == "session" || c.arg(1) == "content":
		if c.arg(1) == "content" {
			if msg := tcpContentArgs(c.args[2:]); msg != "" {
				c.alert("%s", msg)
				return
			}
		}
		c.cp.proxy.addFilterGroup("tcp-request", c.arg(2), c.arg(3), c.arg(4))
		r := parseTCPRule(c.args[1], c.args[2:], false)
		if r != nil || c.tcpRuleKnown() {
			// Each stage runs before the lists from the next one on; a
			// rule the runtime does not run is placed all the same.
			after := listMonitor
			switch c.args[1] {
			case "connection":
				after = listTCPSess
			case "session":
				after = listTCPCont
			}
			if c.warnMisplaced(after, c.args[0]) {
				base++
			}
			switch c.args[1] {
			case "session":
				c.ruleAdded(listTCPSess)
			case "content":
				c.ruleAdded(listTCPCont)
			}
		}
		if r != nil {
			if r.Action == "capture" {
				r.CaptureID = addCapture(c.cp.proxy, true, Capture{Pos: c.pos, Len: r.CaptureLen})
			}
			c.runtimeForm()
			addTCPRequest(c, r)
		}
	}
	if c.arg(1) != "content" || c.arg(2) == "" {
		return
	}
	act := c.arg(2)
	if i := strings.IndexByte(act, '('); i > 0 {
		act = act[:i]
	}
	if act == "use-service" {
		// stream_parse_use_service's words (args[1] is "content").
		switch c.arg(3) {
		case "":
			c.alert("'tcp-request' expects a service name.")
		case "prometheus-exporter":
			c.alert("Prometheus exporter service only available on 'http-request' rulesets")
		default:
			if !strings.HasPrefix(c.arg(3), "lua.") || !c.cp.luaLoaded() {
				c.alert("'content' unknown service name.")
			}
		}
		return
	}
	for _, a := range tcpRequestContentActions {
		if a == act {
			return
		}
	}
	if strings.HasPrefix(act, "lua.") {
		// Lua actions exist only once their script is loaded.
		p := c.cp.proxy
		c.alert("'tcp-request content' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset' in %s '%s' (got '%s').", p.Kind, p.Name, c.arg(2))
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
	}
}

// addFilterGroup notes a send-spoe-group or ot-group action of the rule
// list, which names a SPOE engine or an OpenTracing filter; other
// actions are left alone.
func (p *Proxy) addFilterGroup(list, action, filter, group string) {
	kind := ""
	switch action {
	case "send-spoe-group":
		kind = "spoe"
	case "ot-group":
		kind = "opentracing"
	default:
		return
	}
	p.FilterGroups = append(p.FilterGroups, FilterGroupRef{List: list, Kind: kind, Filter: filter, Group: group})
}

// tcpRuleKnown says a tcp-request rule whose words were checked is one
// HAProxy reads, when the runtime does not run it: for content, an
// action of its list, or a service a loaded Lua script may register.
func (c *pctx) tcpRuleKnown() bool {
	if c.arg(1) != "content" {
		return true
	}
	act, _, _ := strings.Cut(c.arg(2), "(")
	if act == "use-service" {
		return strings.HasPrefix(c.arg(3), "lua.") && c.cp.luaLoaded()
	}
	return slices.Contains(tcpRequestContentActions, act)
}

// kwTCPResponse: "inspect-delay" and the content rules the runtime runs.
func kwTCPResponse(c *pctx) {
	if !c.tcpRuleDiag(true) || !c.defaultsRules("tcp-response %s is only allowed in 'backend' sections or 'defaults' section with a name", c.arg(1)) {
		return
	}
	if !c.checkTCPRuleExpr(true) {
		return
	}
	defer c.warnTCPCondConflict(len(c.cp.lineDiags), true)
	switch {
	case c.arg(1) == "inspect-delay" && len(c.args) >= 3:
		if d, r := parseTime(c.arg(2)); r == timeOK {
			c.runtimeForm()
			addTCPRequest(c, &TCPRequest{Response: true, InspectDelay: d})
		}
	case c.arg(1) == "content":
		c.cp.proxy.addFilterGroup("tcp-response", c.arg(2), c.arg(3), c.arg(4))
		if r := parseTCPRule("content", c.args[2:], true); r != nil {
			c.runtimeForm()
			addTCPRequest(c, r)
		}
	}
}

// tcpRuleActions are the tcp-request and tcp-response actions the runtime
// runs.
var tcpRuleActions = map[string]bool{"accept": true, "reject": true, "set-var": true, "set-var-fmt": true, "unset-var": true, "set-log-level": true,
	"set-src": true, "set-dst": true, "set-src-port": true, "set-dst-port": true, "set-mark": true, "set-tos": true, "silent-drop": true,
	"switch-mode": true, "set-priority-class": true, "set-priority-offset": true, "do-resolve": true, "set-nice": true,
	"expect-proxy": true, "expect-netscaler-cip": true, "capture": true}

func arg0(a []string) string {
	if len(a) > 0 {
		return a[0]
	}
	return ""
}

// parseTCPRule reads "<action> [args] [if|unless cond]" of a tcp rule;
// nil for a form the runtime does not run.
func parseTCPRule(stage string, a []string, response bool) *TCPRequest {
	if len(a) == 0 {
		return nil
	}
	r := &TCPRequest{Response: response, Stage: stage, Action: a[0]}
	for _, v := range []string{"set-var", "set-var-fmt", "unset-var"} {
		if strings.HasPrefix(a[0], v+"(") && strings.HasSuffix(a[0], ")") {
			r.Action, r.Var = v, a[0][len(v)+1:len(a[0])-1]
		}
	}
	if v, res, fam, ok := parseDoResolve(a[0]); ok {
		r.Action, r.Var, r.Resolvers, r.Family = "do-resolve", v, res, fam
	}
	args := a[1:]
	for i, w := range args {
		if w == "if" || w == "unless" {
			r.Cond, args = args[i:], args[:i]
			break
		}
	}
	if name := stickActionName(a[0]); name != "" && !response {
		var msg string
		var extra int
		r.Action = name
		act := a[0]
		if act == "track-sc" {
			// No counter number is counter 0 (cfg_parse_track_sc_num).
			act = "track-sc0"
		}
		if r.Stick, r.Expr, extra, msg = parseStickAction(act, args, true); msg != "" || extra >= 0 {
			return nil
		}
		return r
	}
	if !tcpRuleActions[r.Action] && !(response && r.Action == "close") {
		return nil
	}
	switch r.Action {
	case "set-var":
		if len(args) != 1 {
			return nil
		}
		r.Expr = args[0]
	case "set-var-fmt":
		if len(args) != 1 {
			return nil
		}
		r.Fmt = args[0]
	case "set-log-level":
		var ok bool
		if r.LogLevel, ok = parseLogLevel(args); !ok || stage != "content" {
			return nil
		}
	case "set-nice":
		if len(args) != 1 || stage != "content" {
			return nil
		}
		r.Nice = ParseNice(args[0])
	case "set-src", "set-dst", "set-src-port", "set-dst-port":
		if len(args) != 1 || response {
			return nil
		}
		r.Expr = args[0]
	case "expect-proxy", "expect-netscaler-cip":
		if len(args) != 1 || args[0] != "layer4" || response || stage != "connection" {
			return nil
		}
	case "capture":
		// capture <sample> len <n>: a request capture slot of its own.
		n, err := strconv.Atoi(arg0(args[min(2, len(args)):]))
		if len(args) != 3 || args[1] != "len" || err != nil || n <= 0 || response || stage != "content" {
			return nil
		}
		r.Expr, r.CaptureLen = args[0], n
	case "set-priority-class", "set-priority-offset", "do-resolve":
		if len(args) != 1 || response || stage != "content" {
			return nil
		}
		r.Expr = args[0]
	case "switch-mode":
		// "http" [proto h1|h2|none], in content rules only.
		if response || stage != "content" || arg0(args) != "http" {
			return nil
		}
		switch {
		case len(args) == 1:
		case len(args) == 3 && args[1] == "proto" && (args[2] == "h1" || args[2] == "h2" || args[2] == "none"):
			r.Proto = args[2]
		default:
			return nil
		}
	case "set-mark", "set-tos":
		n, err := strconv.ParseUint(arg0(args), 0, 32)
		if len(args) != 1 || err != nil {
			return nil
		}
		r.Mark = int(n)
	default:
		if len(args) != 0 {
			return nil
		}
	}
	return r
}

// Time parsing, as HAProxy's parse_time_err.
type timeResult int

const (
	timeOK timeResult = iota
	timeBadChar
	timeOverflow
	timeUnderflow
)

// leadingDigits reads the digits s starts with: the value, where they end,
// and false when there is none or the value passes 2^40.
func leadingDigits(s string) (v uint64, i int, ok bool) {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + uint64(s[i]-'0')
		if v > 1<<40 {
			return 0, i, false
		}
		i++
	}
	return v, i, i > 0
}

func parseTime(s string) (time.Duration, timeResult) {
	v, i, ok := leadingDigits(s)
	if !ok && i > 0 {
		return 0, timeOverflow
	}
	if !ok {
		return 0, timeBadChar
	}
	// As parse_time_err, a unit is read from its first letters and what
	// follows it only warned about (timerTrail): "30sec" is 30 s.
	unit := s[i:]
	var ms float64
	switch {
	case unit == "", strings.HasPrefix(unit, "ms"):
		ms = float64(v)
	case strings.HasPrefix(unit, "us"):
		// parse_time_err rounds up: a non-null value is at least 1 ms.
		ms = float64((v + 999) / 1000)
	case unit[0] == 's':
		ms = float64(v) * 1000
	case unit[0] == 'm':
		ms = float64(v) * 60000
	case unit[0] == 'h':
		ms = float64(v) * 3600000
	case unit[0] == 'd':
		ms = float64(v) * 86400000
	default:
		return 0, timeBadChar
	}
	if ms > 2147483647 {
		return 0, timeOverflow
	}
	return time.Duration(ms * float64(time.Millisecond)), timeOK
}

// ParseTime reads an HAProxy time value ("100", "2s", "1m"...), in
// milliseconds when no unit is given.
func ParseTime(s string) (time.Duration, bool) { return parseTimeValue(s) }

func parseTimeValue(s string) (time.Duration, bool) {
	d, r := parseTime(s)
	return d, r == timeOK
}

// timerTrail is the character parse_time_err warns about in a time
// value: the first one after a valid unit, 0 when there is none.
func timerTrail(s string) byte {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) {
		return 0
	}
	rest, n := s[i:], 1
	switch {
	case strings.HasPrefix(rest, "ms"), strings.HasPrefix(rest, "us"):
		n = 2
	case strings.IndexByte("smhd", rest[0]) < 0:
		return 0
	}
	if len(rest) > n {
		return rest[n]
	}
	return 0
}

// warnTimer gives parse_time_err's warning for a time value with
// characters after its unit.
func (c *pctx) warnTimer(v string) { timerTrailWarning(c, timerTrail(v), v) }

// badTimeChar returns the first character parse_time_err rejects.
func badTimeChar(s string) byte {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i >= len(s) {
		return 0
	}
	rest := s[i:]
	for _, u := range []string{"ms", "us", "s", "m", "h", "d"} {
		if strings.HasPrefix(rest, u) {
			if len(rest) > len(u) {
				return rest[len(u)]
			}
		}
	}
	return rest[0]
}

// IsHTTPResponse reports whether an errorfile starts with an HTTP status
// line, as HAProxy 2.x requires (1.x sent the bytes as they were).
func IsHTTPResponse(b []byte) bool {
	s := string(b)
	if !strings.HasPrefix(s, "HTTP/1.0 ") && !strings.HasPrefix(s, "HTTP/1.1 ") {
		return false
	}
	if len(s) < 12 {
		return false
	}
	for i := 9; i < 12; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var ruleActions = map[string]string{
	"http-request":        `'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'`,
	"http-after-response": `'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'`,
	"http-response":       `'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'`,
}

// actionSuggest is HAProxy's action_suggest over a quoted action list:
// the closest name, the first of equally close ones, if close enough
// (a name taking a suffix, shown with "(*)", is allowed more distance).
func actionSuggest(word, list string) string {
	wfp := makeFingerprint(word)
	best, bestDist, tol := "", int(^uint(0)>>1), 2
	for _, q := range strings.Split(list, ", ") {
		name, prefix := strings.CutSuffix(strings.Trim(q, "'"), "(*)")
		if d := fingerprintDistance(wfp, makeFingerprint(name)); d < bestDist {
			best, bestDist, tol = name, d, 2+btoi(prefix)
		}
	}
	if best == "" || bestDist > tol*len(word) || bestDist > tol*len(best) {
		return ""
	}
	return best
}

// knownAction reports whether act is one of the quoted names of list; a
// name ending in "(*)" takes an argument suffix.
func knownAction(act, list string) bool {
	for _, q := range strings.Split(list, ", ") {
		name := strings.Trim(q, "'")
		if base, ok := strings.CutSuffix(name, "(*)"); ok {
			// action_lookup matches these by prefix, the bare word
			// included; the action's parser then refuses what it must.
			if strings.HasPrefix(act, base) {
				return true
			}
			continue
		}
		if act == name {
			return true
		}
	}
	return false
}

// addCheckRule appends the line to a check rule list of the proxy,
// never to the array it may share with its defaults section.
func addCheckRule(c *pctx, list *[]*CheckRule) {
	r := parseCheckRule(c.pos, c.args[0], c.args[1:])
	*list = append((*list)[:len(*list):len(*list)], r)
}

func addTCPRequest(c *pctx, r *TCPRequest) {
	r.Pos, r.Section, r.Text = c.pos, c.cp.section, strings.Join(c.args[1:], " ")
	r.Where = c.cp.proxy.TCPPlaces(r.Stage, r.Response)
	list := &c.cp.proxy.TCPRequests
	*list = append((*list)[:len(*list):len(*list)], r)
}

// kwProxyID keeps the proxy's "id", which the runtime CLI shows.
func kwProxyID(c *pctx) {
	if c.tooMany(1) {
		return
	}
	if c.arg(1) == "" {
		c.tight("'%s' expects an integer argument.", c.args[0])
		return
	}
	p := c.cp.proxy
	// uuid is an int in HAProxy: atol's value is cut to 32 bits.
	n := int(catoi(c.arg(1)))
	if n <= 0 {
		c.tight("custom id has to be > 0.")
		return
	}
	for _, q := range c.cp.cfg.Proxies {
		if q != p && q.ID == n {
			c.tight("%s %s reuses same custom id as %s %s (declared at %s:%d).", ProxyTypeStr(p), p.Name, ProxyTypeStr(q), q.Name, q.Pos.File, q.Pos.Line)
			return
		}
	}
	p.ID = n
}

func kwTCPCheck(c *pctx) {
	n := len(c.cp.lineDiags)
	tcpCheckLine(c)
	nullCheckWarning(c, n)
}

func tcpCheckLine(c *pctx) {
	if msg := c.checkRuleMsg(false); msg != "" {
		c.alert("'%s %s' : %s.", c.args[0], c.arg(1), msg)
		return
	}
	if p := c.cp.proxy; len(c.args) > 1 {
		p.checkRuleUse(false)
		// Own rules replace the inherited ones, as HAProxy's tcpcheck
		// ruleset of a defaults section is only shared until then.
		if !p.ownTCPChecks {
			p.TCPChecks, p.ownTCPChecks = nil, true
		}
		addCheckRule(c, &p.TCPChecks)
	}
	switch act := c.arg(1); {
	case act == "comment", act == "connect", act == "send", act == "send-binary", act == "expect", act == "send-lf", act == "send-binary-lf",
		strings.HasPrefix(act, "set-var"), strings.HasPrefix(act, "unset-var"):
	default:
		c.alert("'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '%s'", act)
	}
}

// ruleArity gives the number of arguments (before if/unless) of header and
// path actions, with HAProxy's message when the count is wrong. The raw
// ones' parsers take their words as they come, "if" included; of those,
// the request-line ones also refuse a word after theirs that is not the
// condition's start, the others leave it to the rule parser.
var ruleArity = map[string]struct {
	min, max  int
	msg       string
	raw, line bool
}{
	"set-header":     {2, 2, "expects exactly 2 arguments.", true, false},
	"add-header":     {2, 2, "expects exactly 2 arguments.", true, false},
	"early-hint":     {2, 2, "expects exactly 2 arguments.", true, false},
	"replace-header": {3, 3, "expects exactly 3 arguments.", true, false},
	"replace-value":  {3, 3, "expects exactly 3 arguments.", true, false},
	"del-header":     {1, 3, "expects at least 1 argument.", true, false},
	"replace-uri":    {2, 2, "expects exactly 2 arguments <match-regex> and <replace-format>.", true, true},
	"replace-path":   {2, 2, "expects exactly 2 arguments <match-regex> and <replace-format>.", true, true},
	"replace-pathq":  {2, 2, "expects exactly 2 arguments <match-regex> and <replace-format>.", true, true},
	"set-path":       {1, 1, "expects exactly 1 argument <format>.", true, true},
	"set-pathq":      {1, 1, "expects exactly 1 argument <format>.", true, true},
	"set-query":      {1, 1, "expects exactly 1 argument <format>.", true, true},
	"set-uri":        {1, 1, "expects exactly 1 argument <format>.", true, true},
	"set-method":     {1, 1, "expects exactly 1 argument <format>.", true, true},
	"cache-use":      {1, 1 << 20, "expects a cache name.", false, false},
	"cache-store":    {1, 1 << 20, "expects a cache name.", false, false},
}

// checkRuleArity returns HAProxy's message when an http-request or
// http-response action has the wrong number of arguments.
func checkRuleArity(args []string) string {
	if len(args) < 2 {
		return ""
	}
	a, ok := ruleArity[args[1]]
	if !ok {
		return ""
	}
	w := args[2:]
	if a.raw {
		if len(w) < a.min || a.line && len(w) > a.min && w[a.min] != "if" && w[a.min] != "unless" {
			return a.msg
		}
		return ""
	}
	n := 0
	for _, w := range w {
		if w == "if" || w == "unless" {
			break
		}
		n++
	}
	if n < a.min || n > a.max {
		return a.msg
	}
	return ""
}

// headerRuleExtra is the first word a header action leaves where its
// condition should start, "" when none.
func headerRuleExtra(args []string) string {
	a, ok := ruleArity[args[1]]
	if !ok || !a.raw || a.line {
		return ""
	}
	n := a.min
	if args[1] == "del-header" && len(args) > 3 && args[3] == "-m" {
		n = 3
	}
	if w := args[2:]; len(w) > n && w[n] != "if" && w[n] != "unless" {
		return w[n]
	}
	return ""
}

// checkRuleArgs checks the arguments of the rule actions HAProxy parses
// with their own messages (set-timeout, set-log-level, capture...); extra
// is a word left after them where a condition should start.
func checkRuleArgs(p *Proxy, args []string) (msg, extra string) {
	if len(args) < 2 {
		return "", ""
	}
	if args[1] == "auth" {
		// parse_http_auth: an optional "realm <value>", the value taken
		// whatever it is, then the condition.
		i := 2
		if len(args) > 2 && args[2] == "realm" {
			if len(args) < 4 || args[3] == "" {
				return "missing realm value.\n.", ""
			}
			i = 4
		}
		if len(args) > i && args[i] != "if" && args[i] != "unless" {
			return "", args[i]
		}
		return "", ""
	}
	msg = checkRuleWords(p, args)
	base, _, _ := strings.Cut(args[1], "(")
	n, ok := ruleWordCount[base]
	if args[1] == "set-status" && len(args) > 4 && args[3] == "reason" && args[4] != "if" && args[4] != "unless" {
		n = 3
	}
	if args[1] == "wait-for-body" && len(args) > 4 && args[4] == "at-least" {
		n = 4
	}
	if a := cutCond(args[2:]); msg == "" && ok && len(a) > n {
		extra = a[n]
	}
	if a := args[2:]; msg == "" && ok && rawRuleWords(base, a) > 0 && len(a) > n && a[n] != "if" && a[n] != "unless" {
		extra = a[n]
	}
	if msg == "" && extra == "" {
		extra = headerRuleExtra(args)
	}
	return msg, extra
}

// ruleWordCount is how many words these actions take before their
// condition (HAProxy reports the first extra one).
var ruleWordCount = map[string]int{"wait-for-body": 2, "set-mark": 1, "set-tos": 1, "wait-for-handshake": 0, "use-service": 1, "set-nice": 1,
	"allow": 0, "reject": 0, "silent-drop": 0, "disable-l7-retry": 0,
	"add-acl": 1, "del-acl": 1, "del-map": 1, "set-map": 2, "set-status": 1, "send-spoe-group": 2, "capture": 3}

func checkRuleWords(p *Proxy, args []string) string {
	var a []string
	for _, w := range args[2:] {
		if w == "if" || w == "unless" {
			break
		}
		a = append(a, w)
	}
	act := args[1]
	if i := strings.IndexByte(act, '('); i > 0 {
		act = act[:i]
	}
	if _, arity := ruleArity[act]; !arity && rawRuleWords(act, args[2:]) > 0 {
		// ruleArity's own actions are counted by checkRuleArity.
		a = args[2:]
	}
	switch act {
	case "set-var", "set-var-fmt", "unset-var":
		if !strings.Contains(args[1], "(") {
			return fmt.Sprintf("invalid or incomplete action '%s'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'.", args[1])
		}
	case "redirect":
		msg, typed, _ := redirectWordsError(args[2:])
		if msg == "" && !typed {
			msg = "redirection type expected ('prefix', 'location', or 'scheme')"
		}
		if msg != "" {
			return msg + "."
		}
	case "set-status":
		if len(a) == 0 {
			return "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>."
		}
		if n, ok := strtol10(a[0]); !ok || n < 100 || n > 999 {
			return "expects an integer status code between 100 and 999."
		}
	case "send-spoe-group":
		// Two words whatever they are, then nothing or the condition.
		if len(a) < 2 || a[0] == "" || a[1] == "" || len(a) > 2 && a[2] != "if" && a[2] != "unless" {
			return "expects 2 arguments: <engine-id> <group-id>."
		}
	case "replace-header", "replace-value":
		// parse_replace_header compiles the regex, with captures, before
		// the replacement's format.
		if len(a) == 3 {
			if m := PCREError(a[1], false); m != "" {
				return m + "."
			}
		}
	case "del-header":
		// "-m reg" makes the name a regex, compiled with captures.
		if len(a) >= 3 && a[1] == "-m" && a[2] == "reg" {
			if m := PCREError(a[0], false); m != "" {
				return m + "."
			}
		}
	case "replace-path", "replace-pathq", "replace-uri":
		if len(a) == 2 {
			if m := PCREError(a[0], false); m != "" {
				return "failed to parse the regex : " + m + "."
			}
		}
	case "do-resolve":
		if _, _, _, ok := parseDoResolve(args[1]); !ok || len(a) == 0 {
			bad := args[1]
			if ok {
				bad = ""
			}
			return fmt.Sprintf("Can't parse '%s'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'.", bad)
		}
	case "strict-mode":
		// The value is the next word, whatever it is.
		if len(args) < 3 {
			return "expects exactly 1 arguments."
		}
		if v := args[2]; v != "on" && v != "off" {
			return fmt.Sprintf("Unexpected value '%s'. Only 'on' and 'off' are supported.", v)
		}
	case "normalize-uri":
		if _, m := normalizerWords(a); m != "" {
			return m + "."
		}
	case "set-mark", "set-tos":
		// The value is the next word, whatever it is.
		if msg := markValueMsg(args[2:]); msg != "" {
			return msg + "."
		}
	case "use-service":
		// stream_parse_use_service; the Prometheus exporter is the one
		// service of a stock build, besides those a Lua script registers.
		if len(a) < 1 {
			return "'use-service' expects a service name.."
		}
		if a[0] != "prometheus-exporter" && !strings.HasPrefix(a[0], "lua.") {
			return fmt.Sprintf("'%s' unknown service name..", a[0])
		}
	case "wait-for-body":
		if len(a) < 1 || a[0] != "time" {
			return "expects time <time> [ at-least <bytes> ]."
		}
		if len(a) < 2 {
			return "missing argument for 'time'."
		}
		switch _, res := parseTime(a[1]); res {
		case timeOverflow:
			return "time overflow (maximum value is 2147483647 ms or ~24.8 days)."
		case timeUnderflow:
			return "time underflow (minimum value is 1 ms)."
		case timeBadChar:
			i := strings.IndexFunc(a[1], func(r rune) bool { return r < '0' || r > '9' })
			return fmt.Sprintf("unexpected character '%c'.", a[1][i])
		}
		if len(a) > 2 && a[2] == "at-least" {
			if len(a) < 4 {
				return "missing argument for 'at-least'."
			}
			if _, ok := parseSize(a[3]); !ok {
				i := strings.IndexFunc(a[3], func(r rune) bool { return r < '0' || r > '9' })
				if i < 0 {
					i = 0
				}
				return fmt.Sprintf("unexpected character '%c'.", a[3][i])
			}
		}
	case "set-map":
		if len(a) < 2 || a[0] == "" || a[1] == "" {
			return "expects exactly 2 arguments."
		}
	case "add-acl", "del-acl", "del-map":
		if len(a) < 1 || a[0] == "" {
			return "expects exactly 1 arguments."
		}
	case "set-timeout":
		// Its two words are taken as they come, "if" included.
		a = args[2:]
		if len(a) < 2 {
			return "expects exactly 2 arguments."
		}
		if p.Cap&CapBE == 0 {
			return fmt.Sprintf("proxy '%s' has no backend capability.", p.Name)
		}
		if a[0] != "server" && a[0] != "tunnel" {
			return fmt.Sprintf("'set-timeout' rule supports 'server'/'tunnel' (got '%s').", a[0])
		}
		d, res := parseTime(a[1])
		switch {
		case res == timeOverflow:
			return fmt.Sprintf("timer overflow in argument '%s' to rule 'set-timeout %s' (maximum value is 2147483647 ms or ~24.8 days).", a[1], a[0])
		case res == timeUnderflow:
			return fmt.Sprintf("timer underflow in argument '%s' to rule 'set-timeout %s' (minimum value is 1 ms).", a[1], a[0])
		case res == timeBadChar && (a[1][0] >= '0' && a[1][0] <= '9' || fetchDiag(a[1]) != ""):
			// Neither a time nor an expression (no fetch starts with a
			// digit): named by where the time stopped being read.
			i := strings.IndexFunc(a[1], func(r rune) bool { return r < '0' || r > '9' })
			return fmt.Sprintf("unexpected character '%c' in rule 'set-timeout %s'.", a[1][i], a[0])
		case res == timeOK && d == 0:
			return fmt.Sprintf("null value is not valid for a 'set-timeout %s' rule.", a[0])
		}
	case "set-log-level":
		if _, ok := parseLogLevel(a); !ok {
			return "expects exactly 1 argument (log level name or 'silent')."
		}
	case "set-nice":
		// atoi of the next word, whatever it is.
		if len(args) < 3 {
			return "expects exactly 1 argument (integer value)."
		}
	case "capture":
		// http-after-response takes http-response's capture parser.
		if args[0] != "http-request" {
			if len(a) < 3 {
				return "expects <expression> id <idx>."
			}
			// The expression is read before its 'id'.
			if msg := sampleExprCheck(a[0], a[0], smpuse.ValFE_HRS_HDR, true); msg != "" {
				return msg + "."
			}
			if a[1] != "id" {
				return fmt.Sprintf("expects 'id', found '%s'.", a[1])
			}
			if _, ok := strtol10(a[2]); !ok {
				return fmt.Sprintf("cannot parse id '%s'.", a[2])
			}
			return ""
		}
		// parse_http_req_capture: three words before any condition, the
		// expression, then 'len' (frontends only, atoi) or 'id' (strtol
		// to the word's end).
		if len(a) < 3 || a[0] == "" || a[1] == "" || a[2] == "" {
			return "expects <expression> [ 'len' <length> | id <idx> ]."
		}
		if msg := sampleExprCheck(a[0], a[0], smpuse.ValFE_HRQ_HDR, true); msg != "" {
			return msg + "."
		}
		switch a[1] {
		case "len":
			if p.Cap&CapFE == 0 {
				return fmt.Sprintf("proxy '%s' has no frontend capability.", p.Name)
			}
			if atoi(a[2]) <= 0 {
				return "length must be > 0."
			}
		case "id":
			if _, ok := strtol10(a[2]); !ok {
				return fmt.Sprintf("cannot parse id '%s'.", a[2])
			}
		default:
			return fmt.Sprintf("expects 'len' or 'id', found '%s'.", a[1])
		}
	}
	return ""
}

// markValueMsg is the message of the set-mark and set-tos parsers for
// their words a, without the period http rules add; "" when they read.
func markValueMsg(a []string) string {
	if len(a) < 1 {
		return "expects exactly 1 argument (integer/hex value)"
	}
	// strtoul(..., 0): where the number ends; "0x" needs a hex digit
	// after it, and a leading 0 means octal.
	v, digits := strings.TrimLeft(a[0], " \t\n\v\f\r"), "0123456789"
	if v != "" && (v[0] == '+' || v[0] == '-') {
		v = v[1:]
	}
	switch {
	case (strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X")) && len(v) > 2 && strings.ContainsRune("0123456789abcdefABCDEF", rune(v[2])):
		v, digits = v[2:], digits+"abcdefABCDEF"
	case strings.HasPrefix(v, "0"):
		digits = "01234567"
	}
	// Without a digit, strtoul's end is the word's start.
	rest := strings.TrimLeft(v, digits)
	if rest == v {
		rest = a[0]
	}
	if rest != "" {
		return fmt.Sprintf("invalid character starting at '%s' (integer/hex value expected)", rest)
	}
	return ""
}

// ProxyTypeStr is how HAProxy names a proxy's kind in messages: a listen
// section is a "proxy" (proxy_cap_str).
func ProxyTypeStr(p *Proxy) string {
	switch p.Kind {
	case "frontend", "backend", "defaults":
		return p.Kind
	}
	return "proxy"
}

// optionCaps lists the options that make sense on one side only.
var optionCaps = map[string]Cap{}

func init() {
	for _, o := range strings.Fields(`abortonclose accept-invalid-http-response allbackups checkcache h1-case-adjust-bogus-server
http-pretend-keepalive log-health-checks persist prefer-last-server srvtcpka tcp-smart-connect transparent`) {
		optionCaps[o] = CapBE
	}
	for _, o := range strings.Fields(`accept-invalid-http-request clitcpka contstats disable-h2-upgrade dontlog-normal dontlognull
h1-case-adjust-bogus-client http-ignore-probes http-use-proxy-header idle-close-on-response log-separate-errors logasap
socket-stats tcp-smart-accept`) {
		optionCaps[o] = CapFE
	}
}

// tcpContentArgs checks the arguments of the tcp-request content actions
// whose parsers HAProxy shares with other rule sets: HAProxy's message,
// "" when they read.
func tcpContentArgs(a []string) string {
	if len(a) == 0 {
		return ""
	}
	expr := len(a) > 1 && a[1] != "if" && a[1] != "unless"
	switch {
	case strings.HasPrefix(a[0], "do-resolve("):
		if _, _, _, ok := parseDoResolve(a[0]); !ok {
			return fmt.Sprintf("Can't parse '%s'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'", a[0])
		}
		if !expr {
			return "Can't parse ''. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'"
		}
	case a[0] == "set-priority-class" || a[0] == "set-priority-offset":
		if !expr {
			return "missing fetch method"
		}
	}
	return ""
}

// parseDoResolve reads "do-resolve(<var>,<resolvers>[,ipv4|ipv6])".
func parseDoResolve(w string) (v, resolvers, family string, ok bool) {
	in, found := strings.CutPrefix(w, "do-resolve(")
	if !found || !strings.HasSuffix(in, ")") {
		return "", "", "", false
	}
	parts := strings.Split(in[:len(in)-1], ",")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	if len(parts) == 3 {
		if parts[2] != "ipv4" && parts[2] != "ipv6" {
			return "", "", "", false
		}
		family = parts[2]
	}
	return parts[0], parts[1], family, true
}

// ErrnoText renders an os error as strerror() does.
func ErrnoText(err error) string { return errnoText(err) }

// kwDescription reads a proxy's "description", its words joined by a
// space, which the statistics page shows. Without text HAProxy's parser
// returns -1 and reading stops at once.
func kwDescription(c *pctx) {
	p := c.cp.proxy
	switch {
	case p.Cap&CapDef != 0:
		c.tight("'%s' not allowed in 'defaults' section.", c.args[0])
	case c.arg(1) == "":
		c.tight("'%s' expects a string argument.", c.args[0])
		c.cp.abort = true
	default:
		// The words up to the first empty one, as HAProxy reads them.
		n := 1
		for n < len(c.args) && c.args[n] != "" {
			n++
		}
		p.Description = strings.Join(c.args[1:n], " ")
	}
}

// replyArgs reads the answer of an http-request or http-response deny,
// tarpit or return rule as parse_http_deny and http_parse_http_reply
// do: msg is the error (with its final dot), extra the first word left
// before the condition. Files are opened as HAProxy opens them.
func replyArgs(args []string, g *Global) (msg, extra string, warns []string) {
	if len(args) < 2 || args[0] != "http-request" && args[0] != "http-response" {
		return "", "", nil
	}
	w := args[2:]
	status := 200
	switch args[1] {
	case "return":
	case "deny", "tarpit":
		status = 403
		switch {
		case args[0] == "http-response":
			status = 502
		case args[1] == "tarpit":
			status = 500
		}
		at := func(i int) string {
			if i < len(w) {
				return w[i]
			}
			return ""
		}
		if at(0) == "" || at(0) == "if" || at(0) == "unless" {
			return "", "", nil
		}
		if w[0] == "deny_status" {
			if a := at(2); a == "" || a == "if" || a == "unless" {
				// The status alone: the default error pages.
				msg, _, warns = replyWords([]string{"status", at(1), "default-errorfiles"}, status, g)
				return msg, "", warns
			}
			w = append([]string{"status"}, w[1:]...)
		}
	default:
		return "", "", nil
	}
	msg, n, warns := replyWords(w, status, g)
	if msg == "" && n < len(w) && w[n] != "" && w[n] != "if" && w[n] != "unless" {
		extra = w[n]
	}
	return msg, extra, warns
}

// replyWords is http_parse_http_reply's reading of w: the error, or the
// number of words it took, and the warnings printed on the way.
func replyWords(w []string, status int, g *Global) (msg string, n int, warns []string) {
	bufsize := g.bufSize()
	const (
		empty = iota
		errFiles
		errDefault
		errFile
		raw
		logFmt
	)
	kind, act, ctype, objlen, hdrs := empty, "", "", 0, 0
	arg := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	// payload takes the word naming the answer's body, which only one
	// word may name.
	payload := func(i int) string {
		if kind != empty {
			return fmt.Sprintf("unexpected '%s' argument, '%s' already defined.", w[i], act)
		}
		act = w[i]
		return ""
	}
	// readFile is the open, fstat and size checks of file and lf-file.
	readFile := func(name string) string {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Sprintf("error opening file '%s'.", name)
		}
		st, err := f.Stat()
		f.Close()
		if err != nil {
			return fmt.Sprintf("error opening file '%s'.", name)
		}
		if st.Size() > int64(bufsize) {
			return fmt.Sprintf("file '%s' exceeds the buffer size (%d > %d).", name, st.Size(), bufsize)
		}
		objlen = int(st.Size())
		return ""
	}
	i := 0
loop:
	for ; i < len(w) && w[i] != ""; i++ {
		switch word := w[i]; word {
		case "status":
			i++
			if arg(i) == "" {
				return fmt.Sprintf("'%s' expects <status_code> as argument.", word), i, warns
			}
			status = int(int32(Atol(arg(i))))
			if status < 200 || status > 599 {
				return fmt.Sprintf("Unexpected status code '%d'.", status), i, warns
			}
		case "content-type":
			i++
			if arg(i) == "" {
				return fmt.Sprintf("'%s' expects <ctype> as argument.", word), i, warns
			}
			ctype = arg(i)
		case "default-errorfiles":
			if m := payload(i); m != "" {
				return m, i, warns
			}
			kind = errDefault
		case "errorfiles", "errorfile", "file", "string", "lf-file", "lf-string":
			if m := payload(i); m != "" {
				return m, i, warns
			}
			i++
			if arg(i) == "" {
				what := map[string]string{"errorfiles": "<name>", "errorfile": "<fmt>", "file": "<file>", "string": "<str>", "lf-file": "<file>", "lf-string": "<fmt>"}[word]
				return fmt.Sprintf("'%s' expects %s as argument.", word, what), i, warns
			}
			switch word {
			case "errorfiles":
				kind = errFiles
			case "errorfile":
				// http_load_errorfile's reasons end with their own dot.
				if _, m := loadErrorfile(200, arg(i)); m != "" {
					return m + ".", i, warns
				}
				kind = errFile
			case "file", "lf-file":
				if m := readFile(arg(i)); m != "" {
					return m, i, warns
				}
				kind = raw
				if word == "lf-file" {
					kind = logFmt
				}
			case "string":
				kind, objlen = raw, len(arg(i))
			case "lf-string":
				kind = logFmt
			}
		case "hdr":
			if arg(i+1) == "" || arg(i+2) == "" {
				return fmt.Sprintf("'%s' expects <name> and <value> as arguments.", word), i, warns
			}
			switch strings.ToLower(arg(i + 1)) {
			case "content-length", "transfer-encoding", "content-type":
				warns = append(warns, fmt.Sprintf("header '%s' always ignored by the http reply.", arg(i+1)))
			default:
				hdrs++
			}
			i += 2
		default:
			break loop
		}
	}
	switch kind {
	case empty:
		if ctype != "" {
			warns = append(warns, fmt.Sprintf("content-type '%s' ignored by the http reply because neither errorfile nor payload defined.", ctype))
		}
	case errFiles, errDefault, errFile:
		if kind != errFile && !httpErrCodes[status] {
			return fmt.Sprintf("status code '%d' not handled by default with '%s' argument..", status, act), i, warns
		}
		if ctype != "" {
			warns = append(warns, fmt.Sprintf("content-type '%s' ignored by the http reply when used with an erorrfile.", ctype))
		}
		if hdrs > 0 {
			warns = append(warns, "hdr parameters ignored by the http reply when used with an erorrfile.")
		}
	case raw:
		if (status == 204 || status == 304) && objlen > 0 {
			return fmt.Sprintf("No body expected for %d responses.", status), i, warns
		}
		if ctype == "" && objlen > 0 {
			return "a content type must be defined when non-empty payload is configured.", i, warns
		}
		if ctype != "" && objlen == 0 {
			warns = append(warns, fmt.Sprintf("content-type '%s' ignored by the http reply when used with an empty payload.", ctype))
		}
		if bufsize-objlen < g.maxRewrite() {
			warns = append(warns, "http reply payload runs over the buffer space reserved to headers rewriting. It may lead to internal errors if strict rewriting mode is enabled.")
		}
	case logFmt:
		if status == 204 || status == 304 {
			return fmt.Sprintf("No body expected for %d responses.", status), i, warns
		}
		if ctype == "" {
			return "a content type must be defined with a log-format payload.", i, warns
		}
	}
	return "", i, warns
}
