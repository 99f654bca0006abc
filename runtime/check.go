package runtime

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend/dns"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/ssl"
)

// CheckOptions control the cross-reference checks.
type CheckOptions struct {
	// Compat reports exactly what HAProxy 2.6 reports, without gohap's own
	// notices about keywords the runtime does not implement.
	Compat bool
	// NoResolve makes unresolvable server addresses a warning, as -dr does.
	NoResolve bool
	// Resolve looks a host name up; nil uses the system resolver.
	Resolve func(host string) bool
	// MasterWorker is -W or -Ws on the command line.
	MasterWorker bool
	// NoRefusals leaves out the notices of what the runtime refuses, and
	// the compilation they take: for a caller that compiles the graph
	// itself (run, or a check that fails as run would).
	NoRefusals bool
}

// Result is the outcome of Check.
type Result struct {
	Diags parser.Diagnostics
	// NoListener is set when the configuration is valid but has no bind.
	NoListener bool
	// AddrFailed is set when server addresses could not be resolved, which
	// HAProxy reports without its "Fatal errors" trailer.
	AddrFailed bool
}

// ParseChecks are the checks HAProxy makes while parsing that need what
// only the runtime's packages know (stick-table lines), each placed
// among the parser's diagnostics by its position.
func ParseChecks(cfg *parser.Config, diags parser.Diagnostics) parser.Diagnostics {
	_, extra := buildTables(cfg)
	extra = append(globalVarDiags(cfg), extra...)
	tlsParse, tlsLate := bindTLSDiags(cfg, diags)
	extra = append(extra, tlsParse...)
	extra = append(extra, serverSNIDiags(cfg, diags)...)
	if len(tlsLate) > 0 {
		lateTLS.Store(cfg, tlsLate)
	}
	for _, d := range extra {
		i := len(diags)
		for j, x := range diags {
			if x.Pos.File == d.Pos.File && x.Pos.Line > d.Pos.Line {
				i = j
				break
			}
		}
		diags = append(diags[:i], append(parser.Diagnostics{d}, diags[i:]...)...)
	}
	return diags
}

// Check runs the checks that need the whole configuration. It must be
// called only when parsing found no fatal error, as HAProxy does.
func Check(cfg *parser.Config, opts CheckOptions) Result {
	var r Result
	if opts.Resolve == nil {
		opts.Resolve = func(h string) bool {
			a, err := LookupHost(h)
			return err == nil && len(a) > 0
		}
	}
	alert := func(format string, a ...any) {
		r.Diags = append(r.Diags, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Msg: fmt.Sprintf(format, a...)})
	}
	byName := map[string]*parser.Proxy{}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapBE != 0 {
			byName[p.Name] = p
		}
	}
	// The stick-table lines were checked with the parser's (ParseChecks).
	tables, _ := buildTables(cfg)
	maps := acl.NewMaps()
	servers := cfgServers{cfg}
	r.Diags = append(r.Diags, resolvConfDiags(cfg)...)
	// httpclient_precheck: a CA file it cannot load ends the checks.
	if hc := cfg.Global.HTTPClient; hc.SSLSet && !hc.VerifyNone {
		f := hc.CAFile
		if !hc.CAFileSet {
			f = "@system-ca"
		}
		if msg := ssl.CAFileProblem(f); msg != "" {
			alert("%s", msg)
			alert("httpclient: cannot initialize: cannot initialize SSL verify with 'ca-file \"%s\"'.", f)
			return r
		}
	}
	// userlist_postinit, which ends the checks when it fails.
	if d := parser.UserlistDiags(cfg); len(d) > 0 {
		r.Diags = append(r.Diags, d...)
		return r
	}
	uls := namedUserlists(cfg)
	listeners := 0
	tracked := map[*parser.Server]*parser.Server{}
	warn := func(pos parser.Pos, format string, a ...any) {
		d := parser.Diagnostic{Severity: parser.Warning, Pos: pos, Msg: fmt.Sprintf(format, a...)}
		r.Diags = append(r.Diags, d)
	}
	// The named defaults sections' rules are resolved first.
	for _, d := range cfg.Defaults {
		if d.Name != "" {
			r.Diags = append(r.Diags, stickRefDiags(d, tables, maps, servers, uls)...)
		}
	}
	// HAProxy checks one proxy after the other, in this order.
	bigBuf := false
	for _, p := range cfg.Proxies {
		kind := parser.ProxyTypeStr(p)
		if p.Mode == "http" && cfg.Global.BufSize >= 256<<20 && !bigBuf {
			bigBuf = true
			alert("global.tune.bufsize must be below 256 MB when HTTP is in use (current value = %d).", cfg.Global.BufSize)
		}
		if p.Disabled && p.Cap&parser.CapDef == 0 {
			// HAProxy checks a disabled proxy no further.
			continue
		}
		if p.Cap&parser.CapFE != 0 && p.Cap&parser.CapDef == 0 && len(p.Binds) == 0 {
			warn(parser.Pos{}, "%s '%s' has no 'bind' directive. Please declare it as a backend if this was intended.", kind, p.Name)
		}
		if p.Cap&parser.CapBE != 0 && p.Cap&parser.CapDef == 0 && len(p.Balance) > 0 {
			if p.Options["transparent"] {
				alert("%s '%s' cannot use both transparent and balance mode.", kind, p.Name)
			} else if p.Dispatch != nil {
				warn(parser.Pos{}, "dispatch address of %s '%s' will be ignored in balance mode.", kind, p.Name)
			}
		}
		if msg := parser.BalanceHashDiag(p); msg != "" && p.Cap&parser.CapDef == 0 {
			alert("%s", msg)
		}
		live := p.Cap&parser.CapDef == 0
		if live && p.UnusedHTTPChecks {
			warn(parser.Pos{}, "%s '%s' uses http-check rules without 'option httpchk', so the rules are ignored.", kind, p.Name)
		}
		if p.Cap&parser.CapDef == 0 {
			r.Diags = append(r.Diags, extCheckDiags(cfg, p)...)
			if p.EmailAlert.Set && !emailAlertComplete(p) {
				warn(parser.Pos{}, "'email-alert' will be ignored for %s '%s' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).", kind, p.Name)
			}
		}
		if p.Options["httplog"] && p.Mode != "http" && p.Cap&parser.CapFE != 0 && p.OptionPos["httplog"].Line != 0 {
			warn(p.OptionPos["httplog"], "'option httplog' not usable with %s '%s' (needs 'mode http'). Falling back to 'option tcplog'.", kind, p.Name)
		}
		sourceHdrWarnings(p, kind, warn)
		if p.Cap&parser.CapFE != 0 && !p.Disabled {
			listeners += len(p.Binds)
		}
		// A backend's own use_backend and default_backend lines are
		// resolved too, though it never runs them.
		checkBackendRefs(p, byName, alert)
		for _, r := range p.ServerRules {
			if !strings.Contains(r.Server, "%") && !slices.ContainsFunc(p.Servers, func(s *parser.Server) bool { return s.Name == r.Server }) {
				alert("%s '%s' : unable to find server '%s' referenced in a 'use-server' rule.", kind, p.Name, r.Server)
			}
		}
		hasResolvers := func(name string) bool {
			return slices.ContainsFunc(cfg.Resolvers, func(r *parser.Resolvers) bool { return r.Name == name })
		}
		for _, tr := range p.TCPRequests {
			if tr.Action == "do-resolve" && !hasResolvers(tr.Resolvers) {
				alert("Proxy '%s': Can't find resolvers section '%s' for do-resolve action.", p.Name, tr.Resolvers)
			}
		}
		for _, hr := range p.HTTPRequestRules {
			if hr.Action == "do-resolve" && !hasResolvers(hr.Resolvers) {
				alert("Proxy '%s': Can't find resolvers section '%s' for do-resolve action.", p.Name, hr.Resolvers)
			}
		}
		for _, msg := range checkTracks(p, byName, tracked) {
			r.Diags = append(r.Diags, msg)
		}
		if p.Cap&parser.CapDef == 0 {
			r.Diags = append(r.Diags, stickRefDiags(p, tables, maps, servers, uls)...)
			r.Diags = append(r.Diags, peersProxyDiags(cfg, p, tables)...)
			if m := p.EmailAlert.Mailers; m != nil && emailAlertComplete(p) && !slices.ContainsFunc(cfg.Sections, func(s *parser.Section) bool { return s.Kind == "mailers" && s.Name == *m }) {
				alert("Proxy '%s': unable to find mailers '%s'.", p.Name, *m)
			}
			if st := p.Stats; st != nil && len(st.HTTPRules) > 0 && (len(st.Auth) > 0 || st.Realm != "") {
				alert("proxy '%s': stats 'auth'/'realm' and 'http-request' can't be used at the same time.", p.Name)
			}
			r.Diags = append(r.Diags, parser.CacheRefDiags(cfg, p)...)
			r.Diags = append(r.Diags, p.L6CondDiags()...)
			r.Diags = append(r.Diags, p.LogFormatDiags()...)
		}
		fe := p.Cap&parser.CapFE != 0 && p.Timeouts["client"] == 0
		// A backend without servers needs none; in tcp mode a tunnel
		// timeout stands for the server one.
		be := p.Cap&parser.CapBE != 0 && len(p.Servers) > 0 && (p.Timeouts["connect"] == 0 ||
			p.Timeouts["server"] == 0 && (p.Mode == "http" || p.Timeouts["tunnel"] == 0))
		if (fe || be) && !p.Disabled {
			warn(parser.Pos{}, "missing timeouts for %s '%s'.", kind, p.Name)
			r.Diags[len(r.Diags)-1].Detail = []string{
				"   | While not properly invalid, you will certainly encounter various problems",
				"   | with such a configuration. To fix this, please ensure that all following",
				"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."}
		}
		if live && p.UnusedTCPChecks {
			warn(parser.Pos{}, "%s '%s' uses tcp-check rules without 'option tcp-check', so the rules are ignored.", kind, p.Name)
		}
		if p.Log.Cookie != "" && p.Log.CookieLen > cfg.Global.CookieCapMax() {
			warn(parser.Pos{}, "truncating capture length to %d bytes for %s '%s'.", cfg.Global.CookieCapMax(), kind, p.Name)
		}
		if p.Cap&parser.CapDef == 0 && p.ServerStateLoad == "global" && cfg.Global.ServerStateFile == "" {
			warn(parser.Pos{}, "backend '%s' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!", p.Name)
		}
		// TCP Fast Open sends the request with the SYN: without these
		// retries a lost one is not sent again.
		if p.Cap&parser.CapDef == 0 && p.RetryOn&(parser.RetryEmptyResponse|parser.RetryResponseTimeout) != parser.RetryEmptyResponse|parser.RetryResponseTimeout {
			for _, sv := range p.Servers {
				if sv.Settings.TFO {
					r.Diags = append(r.Diags, parser.Diagnostic{Severity: parser.Warning, Pos: sv.Pos, Style: parser.StyleBracket,
						Msg: fmt.Sprintf("'server %s/%s' : server has tfo activated, the backend should be configured with at least 'conn-failure', 'empty-response' and 'response-timeout' or we wouldn't be able to retry the connection on failure.", p.Name, sv.Name)})
				}
			}
		}
		if p.Cap&parser.CapFE != 0 && !p.HasLog && p.LogFormatsKept() {
			warn(parser.Pos{}, "log format ignored for %s '%s' since it has no log address.", kind, p.Name)
		}
		if p.Mode != "http" {
			// A proxy that switches to HTTP (switch-mode) keeps them.
			proxy := p.Cap&parser.CapDef == 0 && !slices.ContainsFunc(p.TCPRequests, func(tr *parser.TCPRequest) bool { return tr.Action == "switch-mode" })
			if proxy && p.Stats != nil {
				warn(parser.Pos{}, "'stats' statement ignored for %s '%s' as it requires HTTP mode.", kind, p.Name)
			}
			if proxy && p.Log.Cookie != "" {
				warn(parser.Pos{}, "'capture' statement ignored for %s '%s' as it requires HTTP mode.", kind, p.Name)
			}
			for _, kw := range []string{"http-request", "http-response", "http-after-response"} {
				for _, rule := range p.Rules {
					if rule.Keyword == kw {
						warn(parser.Pos{}, "'%s' rules ignored for %s '%s' as they require HTTP mode.", kw, kind, p.Name)
						break
					}
				}
			}
			if proxy {
				if slices.ContainsFunc(p.HTTPRequestRules, func(r *parser.HTTPRule) bool { return r.Keyword == "redirect" }) {
					warn(parser.Pos{}, "'redirect' rules ignored for %s '%s' as they require HTTP mode.", kind, p.Name)
				}
				for _, o := range httpOnlyOptions {
					if p.Options[o.name] && (o.cap == 0 || p.Cap&o.cap != 0) {
						warn(parser.Pos{}, "'option %s' ignored for %s '%s' as it requires HTTP mode.", o.name, kind, p.Name)
					}
				}
			}
			if p.Cap&parser.CapDef == 0 {
				for _, sv := range p.Servers {
					if sv.Settings.Redir != "" {
						alert("%s '%s' : server cannot have cookie or redirect prefix in non-HTTP mode.", kind, p.Name)
					}
					if sv.Settings.Cookie != "" {
						warn(parser.Pos{}, "%s '%s' : ignoring cookie for server '%s' as HTTP mode is disabled.", kind, p.Name, sv.Name)
					}
				}
			}
		}
		// The filters are checked after the rest of the proxy.
		if p.Cap&parser.CapDef == 0 {
			r.Diags = append(r.Diags, parser.FCGIFilterDiags(cfg, p)...)
		}
	}
	// The HTTP client's proxy comes last, in HTTP mode: the buffer size
	// is checked for it too, and its do-resolve rule names the resolvers
	// httpclient.resolvers.id gives ("default" is made when missing).
	if cfg.Global.BufSize >= 256<<20 && !bigBuf {
		alert("global.tune.bufsize must be below 256 MB when HTTP is in use (current value = %d).", cfg.Global.BufSize)
	}
	if hc := cfg.Global.HTTPClient; hc.ResolversSet && hc.ResolversID != "default" &&
		!slices.ContainsFunc(cfg.Resolvers, func(r *parser.Resolvers) bool { return r.Name == hc.ResolversID }) {
		alert("Proxy '<HTTPCLIENT>': Can't find resolvers section '%s' for do-resolve action.", hc.ResolversID)
	}
	// Mailers sections no email alert uses are dropped, the latest
	// declared first (HAProxy's list is built backwards).
	var mailers []*parser.Section
	for _, sec := range cfg.Sections {
		if sec.Kind == "mailers" {
			mailers = append(mailers, sec)
		}
	}
	used := map[*parser.Section]bool{}
	for _, p := range cfg.Proxies {
		if m := p.EmailAlert.Mailers; m != nil && p.Cap&parser.CapDef == 0 && emailAlertComplete(p) {
			for i := len(mailers) - 1; i >= 0; i-- {
				if mailers[i].Name == *m {
					used[mailers[i]] = true
					break
				}
			}
		}
	}
	for i := len(mailers) - 1; i >= 0; i-- {
		if !used[mailers[i]] {
			warn(parser.Pos{}, "Removing incomplete section 'mailers %s'.", mailers[i].Name)
		}
	}
	for _, rs := range cfg.Resolvers {
		if len(rs.Nameservers) == 0 && rs.ResolvConf.Line == 0 {
			warn(parser.Pos{}, "resolvers '%s' [%s:%d] has no nameservers configured!", rs.Name, rs.Pos.File, rs.Pos.Line)
		}
	}
	// HAProxy then parses its default pages into HTX with
	// tune.http.maxhdr header slots; a page that does not fit is fatal,
	// and nothing else is checked.
	if max := cfg.Global.MaxHdr; max > 0 {
		n := len(r.Diags)
		for _, code := range parser.HTTPErrCodes() {
			if off := defaultPageOverflow(code, max); off >= 0 {
				alert("Internal error: invalid default message for HTTP return code %d: unable to parse headers (error offset: %d).", code, off)
			}
		}
		if len(r.Diags) > n {
			return r
		}
	}
	// The TLS contexts are prepared once every proxy was checked.
	if late, ok := lateTLS.LoadAndDelete(cfg); ok {
		r.Diags = append(r.Diags, late.(parser.Diagnostics)...)
	}
	r.Diags = append(r.Diags, serverVerifyDiags(cfg)...)
	// The rings' forwarding proxies are checked last, the latest first.
	for i := len(cfg.Rings) - 1; i >= 0; i-- {
		if rg := cfg.Rings[i]; len(rg.Servers) > 0 && (rg.TimeoutConnect == 0 || rg.TimeoutServer == 0) {
			warn(parser.Pos{}, "missing timeouts for backend '%s'.", rg.Name)
			r.Diags[len(r.Diags)-1].Detail = []string{
				"   | While not properly invalid, you will certainly encounter various problems",
				"   | with such a configuration. To fix this, please ensure that all following",
				"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."}
		}
	}
	peersDiags, peersListeners := peersSectionDiags(cfg)
	r.Diags = append(r.Diags, peersDiags...)
	listeners += peersListeners
	// The stats sockets are listeners of the CLI's frontend.
	listeners += len(cfg.Global.Stats.Sockets)
	// HAProxy's post-server checks follow, proxy by proxy. Backends
	// without a check option share one rule set, which gets its implicit
	// connect rule once the first of them is checked.
	sharedUsed := false
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapBE != 0 && !p.Disabled {
			shared := checkKind(p) == ""
			for _, s := range p.Servers {
				if msg, bad := checkPortless(p, s, shared && sharedUsed); bad {
					alert("config: %s '%s': server '%s' has neither service port nor check port%s.", parser.ProxyTypeStr(p), p.Name, s.Name, msg)
				}
			}
			sharedUsed = sharedUsed || shared
		}
		if !p.Disabled {
			_, diags := cfg.ErrorPages(p)
			r.Diags = append(r.Diags, diags...)
		}
	}
	r.Diags = append(r.Diags, parser.H1CasePostDiags(cfg)...)
	r.Diags = append(r.Diags, parser.FCGIPostDiags(cfg)...)
	if r.Diags.HasErrors() {
		return r
	}
	// resolvers_finalize_config: a server names an existing section or
	// the implicit "default" one.
	for _, p := range cfg.Proxies {
		for _, s := range p.Servers {
			if st := s.Settings; st.HasResolvers && st.Resolvers != "default" && cfg.ResolversByName(st.Resolvers) == nil {
				alert("%s '%s', server '%s': unable to find required resolvers '%s'", parser.ProxyTypeStr(p), p.Name, s.Name, st.Resolvers)
			}
		}
	}
	if r.Diags.HasErrors() {
		return r
	}
	// apply_server_state runs before the addresses are resolved.
	for _, msg := range serverStateDiags(cfg) {
		warn(parser.Pos{}, "%s", msg)
	}
	lookup := func(h string) (netip.Addr, error) {
		if opts.Resolve(h) {
			// Only the outcome matters here.
			return netip.IPv4Unspecified(), nil
		}
		return netip.Addr{}, errors.New("no address")
	}
	for _, p := range cfg.Proxies {
		if p.Disabled {
			// srv_init_addr leaves disabled proxies out.
			continue
		}
		for _, s := range p.Servers {
			host := serverHost(s.Address)
			if host == "" || net.ParseIP(host) != nil {
				continue
			}
			methods, _ := parseInitAddr(s.Settings.InitAddr)
			res, err := dns.InitAddr(methods, host, "", s.Settings.HasResolvers, lookup)
			if err != nil && opts.NoResolve {
				// -dr: a name that does not resolve disables the server.
				res, err = dns.InitAddr([]dns.InitMethod{{Kind: dns.InitLibc}, {Kind: dns.InitNone}}, host, "", false, lookup)
			}
			d := parser.Diagnostic{Pos: s.Pos, Style: parser.StyleBracket}
			switch {
			case err != nil && !opts.Compat:
				// Host-dependent: the name may resolve where gohap runs.
				d.Severity = parser.Notice
				d.Msg = fmt.Sprintf("'server %s/%s' : address '%s' does not resolve on this machine; it is resolved again at start.", p.Name, s.Name, host)
				d.Hint = "host-dependent"
			case err != nil:
				d.Severity, d.Fatal = parser.Alert, true
				d.Msg = fmt.Sprintf("'server %s/%s' : %s", p.Name, s.Name, err)
				r.AddrFailed = true
			case res.Warning != "":
				d.Severity = parser.Warning
				d.Msg = fmt.Sprintf("'server %s/%s' : %s", p.Name, s.Name, res.Warning)
			default:
				continue
			}
			r.Diags = append(r.Diags, d)
		}
	}
	if r.AddrFailed {
		alert("Failed to initialize server(s) addr.")
		return r
	}
	if !opts.Compat && !opts.NoRefusals {
		reported := map[parser.Pos]bool{}
		for _, u := range cfg.Refusals() {
			reported[u.Pos] = true
			r.Diags = append(r.Diags, parser.Diagnostic{Severity: parser.Notice, Pos: u.Pos,
				Msg:  fmt.Sprintf("'%s' is not supported by the gohap runtime yet; 'gohap run' will refuse this configuration.", u.Name),
				Hint: "unsupported"})
		}
		// What the runtime refuses beyond whole keywords (an algorithm, a
		// server option, a rule's form) is reported the same way. Names
		// are not resolved for this.
		_, errs := Compile(cfg, Options{Resolve: func(string) (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil }})
		sort.SliceStable(errs, func(i, j int) bool {
			a, b := errs[i].(*CompileError), errs[j].(*CompileError)
			return a.Pos.File == b.Pos.File && a.Pos.Line < b.Pos.Line
		})
		for _, err := range errs {
			var ce *CompileError
			if !errors.As(err, &ce) || reported[ce.Pos] {
				continue
			}
			reported[ce.Pos] = true
			r.Diags = append(r.Diags, parser.Diagnostic{Severity: parser.Notice, Pos: ce.Pos,
				Msg:  strings.TrimSuffix(ce.Msg, ".") + "; 'gohap run' will refuse this configuration.",
				Hint: "unsupported"})
		}
	}
	mworker := opts.MasterWorker || cfg.Global.Process.MasterWorker
	for _, msg := range cfg.ProgramDiags(mworker) {
		alert("%s", msg)
	}
	// In master-worker mode, the worker's end of the master CLI is a
	// listener of its own.
	r.NoListener = listeners == 0 && !mworker
	return r
}

// trackTarget resolves "track [<backend>/]<server>" of a server of p.
func trackTarget(p *parser.Proxy, ref string, byName map[string]*parser.Proxy) (*parser.Proxy, *parser.Server, string) {
	px, name := p, ref
	if b, n, ok := strings.Cut(ref, "/"); ok {
		if px = byName[b]; px == nil {
			return nil, nil, fmt.Sprintf("unable to find required proxy '%s' for tracking.", b)
		}
		name = n
	}
	for _, s := range px.Servers {
		if s.Name == name {
			return px, s, ""
		}
	}
	return px, nil, fmt.Sprintf("unable to find required server '%s' for tracking.", name)
}

// checkTracks reports the servers of p whose "track" cannot work, as
// HAProxy's srv_apply_track does.
func checkTracks(p *parser.Proxy, byName map[string]*parser.Proxy, applied map[*parser.Server]*parser.Server) []parser.Diagnostic {
	var out []parser.Diagnostic
	for _, s := range p.Servers {
		ref := s.Settings.Track
		if ref == "" {
			continue
		}
		px, t, msg := trackTarget(p, ref, byName)
		if t != nil {
			if t.Settings.Track == "" && !t.Settings.Check {
				msg = fmt.Sprintf("unable to use %s/%s for tracking as it does not have any check nor agent enabled.", px.Name, t.Name)
			}
			// Tracks apply in order: a chain through those already applied
			// must not come back to the server.
			for x := t; x != nil && msg == ""; x = applied[x] {
				if x == s {
					msg = fmt.Sprintf("unable to track %s/%s as it belongs to a tracking chain looping back to %s/%s.", px.Name, t.Name, p.Name, s.Name)
				}
			}
			if msg == "" {
				applied[s] = t
			}
		}
		if msg != "" {
			out = append(out, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: s.Pos, Style: parser.StyleBracket,
				Msg: fmt.Sprintf("'server %s/%s' : %s", p.Name, s.Name, msg)})
		}
	}
	return out
}

// serverHost extracts the host of a server address, "" for addresses that
// need no resolution.
func serverHost(addr string) string {
	addr = stripFamily(addr)
	if strings.HasPrefix(addr, "/") || strings.Contains(addr, "@") {
		return ""
	}
	if strings.HasPrefix(addr, "[") {
		if i := strings.IndexByte(addr, ']'); i > 0 {
			return addr[1:i]
		}
		return ""
	}
	if strings.Count(addr, ":") > 1 {
		return addr[:strings.LastIndexByte(addr, ':')]
	}
	if i := strings.IndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	if addr == "*" {
		return ""
	}
	return addr
}

// httpOnlyOptions are the options HAProxy 2.6 drops, with a warning, from
// a proxy outside HTTP mode, in the order it checks them (forwardfor and
// originalto, then its cfg_opts and cfg_opts2 tables marked for HTTP),
// with the capability each needs (0: checked for any proxy).
var httpOnlyOptions = []struct {
	name string
	cap  parser.Cap
}{
	{"forwardfor", 0}, {"originalto", 0},
	{"checkcache", parser.CapBE}, {"http-buffer-request", parser.CapFE | parser.CapBE},
	{"http-ignore-probes", parser.CapFE}, {"idle-close-on-response", parser.CapFE},
	{"prefer-last-server", parser.CapBE},
	{"accept-invalid-http-request", parser.CapFE}, {"accept-invalid-http-response", parser.CapBE},
	{"http-use-proxy-header", parser.CapFE}, {"http-pretend-keepalive", parser.CapBE},
	{"http-no-delay", parser.CapFE | parser.CapBE}, {"h1-case-adjust-bogus-client", parser.CapFE},
	{"h1-case-adjust-bogus-server", parser.CapBE}, {"disable-h2-upgrade", parser.CapFE},
}

// checkBackendRefs resolves a frontend's default_backend and static
// use_backend names.
func checkBackendRefs(p *parser.Proxy, byName map[string]*parser.Proxy, alert func(string, ...any)) {
	kind := parser.ProxyTypeStr(p)
	// An HTTP frontend cannot hand its streams to a TCP backend.
	modeMismatch := func(be *parser.Proxy, how string) {
		if p.Mode == "http" && be.Mode == "tcp" {
			alert("http %s '%s' (%s:%d) tries to use incompatible tcp %s '%s' (%s:%d) %s (see 'mode').",
				kind, p.Name, p.Pos.File, p.Pos.Line, parser.ProxyTypeStr(be), be.Name, be.Pos.File, be.Pos.Line, how)
		}
	}
	if ref := p.DefaultBackend; ref != nil {
		if be, ok := byName[ref.Name]; !ok {
			alert("Proxy '%s': unable to find required default_backend: '%s'.", p.Name, ref.Name)
		} else {
			modeMismatch(be, "as its default backend")
		}
	}
	for _, u := range p.UseBackends {
		if msg := parser.UseBackendFormatError(u); msg != "" {
			alert("%s", msg)
			continue
		}
		if strings.Contains(u.Backend, "%[") {
			continue
		}
		if be, ok := byName[u.Backend]; !ok {
			alert("Proxy '%s': unable to find required use_backend: '%s'.", p.Name, u.Backend)
		} else {
			modeMismatch(be, "in a 'use_backend' rule")
		}
	}
}

// checkPortless is the end of HAProxy's alert for a checked server that
// has no port to check (init_srv_check); bad is false when it has one.
// A mapped port ("+N", or none) follows the traffic and cannot be
// checked. implicit says the shared rule set already holds its implicit
// connect rule.
func checkPortless(p *parser.Proxy, s *parser.Server, implicit bool) (msg string, bad bool) {
	st := &s.Settings
	if !st.Check || s.Template || st.Port != "" {
		return "", false
	}
	if st.Addr != "" {
		if _, port, err := net.SplitHostPort(st.Addr); err == nil && port != "" && port != "0" {
			return "", false
		}
	}
	if _, mapped, ok := serverPort(s.Address); !ok || !mapped || checkKind(p) == "external-check" {
		// An external check has no connection of its own.
		return "", false
	}
	// An unspecified address (no host, or 0.0.0.0) is not one checks
	// connect to (is_inet_addr), so it needs no port.
	if host, _ := splitServerAddress(stripFamily(s.Address)); host == "" || host == "*" || host == "0.0.0.0" || host == "::" {
		return "", false
	}
	const noConnect = " nor tcp_check rule 'connect' with port information"
	var rules []*parser.CheckRule
	switch checkKind(p) {
	case "", "tcp-check":
		// tcp-check rules without option tcp-check are left out.
		if checkKind(p) == "tcp-check" {
			rules = p.TCPChecks
		}
		if len(rules) == 0 {
			if implicit {
				return noConnect, true
			}
			return "", true
		}
	case "httpchk":
		rules = p.HTTPChecks
		// Until an http-check send takes it over, the request of option
		// httpchk is the first rule when servers are checked (HAProxy
		// moves it after a connect only later).
		if !slices.ContainsFunc(rules, func(r *parser.CheckRule) bool { return r.Action == "send" }) {
			return noConnect, true
		}
	}
	first := true
	for _, r := range rules {
		if r.Action == "comment" || r.Action == "set-var" || r.Action == "unset-var" {
			continue
		}
		if first && (r.Action != "connect" || r.Port == "") {
			return noConnect, true
		}
		first = false
		if r.Action == "connect" && r.Port == "" {
			return ", and a tcp_check rule 'connect' with no port information", true
		}
	}
	if first {
		return noConnect, true
	}
	return "", false
}

// serverPort reads the port part of a server address: mapped is true
// when it follows the client's destination port (none, "+N" or "-N"),
// ok false for addresses without ports (unix sockets).
func serverPort(addr string) (port string, mapped, ok bool) {
	a := stripFamily(addr)
	if strings.HasPrefix(a, "/") || strings.Contains(a, "@") {
		return "", false, false
	}
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", false, false
		}
		port = strings.TrimPrefix(a[i+1:], ":")
	} else if strings.Count(a, ":") == 1 {
		port = a[strings.IndexByte(a, ':')+1:]
	}
	// As HAProxy: no port, an offset, or port 0 follow the client's.
	return port, port == "" || port[0] == '+' || port[0] == '-' || strings.Trim(port, "0") == "", true
}

// resolvConfDiags are the messages of the "parse-resolv-conf" lines, which
// HAProxy prints as it reads them: one warning for the file's bad lines,
// or an alert when it cannot be read.
func resolvConfDiags(cfg *parser.Config) parser.Diagnostics {
	var out parser.Diagnostics
	for _, r := range cfg.Resolvers {
		if r.ResolvConf.Line == 0 {
			continue
		}
		var before []dns.Nameserver
		for _, ns := range r.Nameservers[:r.ResolvConfAt] {
			before = append(before, dns.Nameserver{ID: ns.ID})
		}
		_, warns, err := dns.ParseResolvConf(defaultResolvConf, before)
		d := parser.Diagnostic{Pos: r.ResolvConf, Style: parser.StyleParsingTight}
		switch {
		case err != nil:
			d.Severity, d.Fatal, d.Msg = parser.Alert, true, err.Error()
		case len(warns) > 0:
			d.Severity, d.Msg = parser.Warning, warns[0]
			for _, w := range warns[1:] {
				d.Detail = append(d.Detail, "        "+w)
			}
		default:
			continue
		}
		out = append(out, d)
	}
	return out
}

// emailAlertComplete says p's email alerts name their sender, mailers
// and recipient, without which HAProxy ignores them.
func emailAlertComplete(p *parser.Proxy) bool {
	e := &p.EmailAlert
	return e.From != nil && e.Mailers != nil && e.To != nil
}

// extCheckDiags are check_config_validity's messages on external checks.
func extCheckDiags(cfg *parser.Config, p *parser.Proxy) parser.Diagnostics {
	var out parser.Diagnostics
	add := func(sev parser.Severity, format string, a ...any) {
		out = append(out, parser.Diagnostic{Severity: sev, Fatal: sev == parser.Alert, Msg: fmt.Sprintf(format, a...)})
	}
	kind := parser.ProxyTypeStr(p)
	ext := checkKind(p) == "external-check"
	if ext {
		if !cfg.Global.ExternalCheck {
			add(parser.Alert, "Proxy '%s' : '%s' unable to find required 'global.external-check'.", p.Name, "option external-check")
		}
		if p.ExtCheckCommand == "" {
			add(parser.Alert, "Proxy '%s' : '%s' unable to find required 'external-check command'.", p.Name, "option external-check")
		}
		if !cfg.Global.InsecureFork {
			add(parser.Warning, "Proxy '%s' : 'insecure-fork-wanted' not enabled in the global section, '%s' will likely fail.", p.Name, "option external-check")
		}
	}
	if c := p.ExtCheckCommand; c != "" {
		if !ext {
			add(parser.Warning, "'%s' will be ignored for %s '%s' (requires 'option external-check').", "external-check command", kind, p.Name)
		}
		if c[0] != '/' && p.ExtCheckPath == "" {
			add(parser.Alert, "Proxy '%s': '%s' does not have a leading '/' and 'external-check path' is not set.", p.Name, "external-check command")
		}
	}
	if p.ExtCheckPath != "" && !ext {
		add(parser.Warning, "'%s' will be ignored for %s '%s' (requires 'option external-check').", "external-check path", kind, p.Name)
	}
	return out
}
