package runtime

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/backend/dns"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/logging"
)

// defaultResolvConf is where "parse-resolv-conf" and the implicit
// "default" section read their nameservers.
const defaultResolvConf = "/etc/resolv.conf"

// dnsConfig is the DNS part of a graph: the resolvers sections and the
// servers that follow a host name (configuration.txt 5.3).
type dnsConfig struct {
	sections []dnsSection
	servers  []*dnsServer
	// templates are the server-template lines fed by SRV records, by
	// the position of their line.
	templates []*dnsTemplate
	byLine    map[parser.Pos]*dnsTemplate

	// mu guards fqdn, the host names SRV records gave template slots.
	mu   sync.Mutex
	fqdn map[*backend.Server]string
}

// dnsSection is a resolvers section to start; implicit marks the
// "default" section HAProxy makes from resolv.conf, which may fail to
// start unless a server uses it.
type dnsSection struct {
	sec      dns.Section
	implicit bool
	used     bool
}

// dnsServer is a server whose address follows a host name.
type dnsServer struct {
	be      *Backend
	srv     *backend.Server
	section string
	host    string
	port    int
	opts    dns.Options
}

// dnsTemplate is a server-template line whose slots an SRV record fills.
type dnsTemplate struct {
	be      *Backend
	section string
	name    string
	slots   []*backend.Server
	opts    dns.Options
}

// compileResolvers reads the resolvers sections, and adds HAProxy's
// implicit "default" one when none has that name.
func compileResolvers(cfg *parser.Config, opts Options, fail func(parser.Pos, string, ...any)) *dnsConfig {
	dc := &dnsConfig{byLine: map[parser.Pos]*dnsTemplate{}, fqdn: map[*backend.Server]string{}}
	conf := opts.ResolvConf
	if conf == "" {
		conf = defaultResolvConf
	}
	for _, r := range cfg.Resolvers {
		sec := dns.Section{Name: r.Name, AcceptedPayloadSize: r.AcceptedPayloadSize, ResolveRetries: r.ResolveRetries}
		if r.TimeoutResolve != nil {
			sec.TimeoutResolve = max(*r.TimeoutResolve, time.Millisecond)
		}
		if r.TimeoutRetry != nil {
			sec.TimeoutRetry = max(*r.TimeoutRetry, time.Millisecond)
		}
		for st, p := range map[string]**time.Duration{"valid": &sec.HoldValid, "nx": &sec.HoldNX, "other": &sec.HoldOther,
			"refused": &sec.HoldRefused, "timeout": &sec.HoldTimeout, "obsolete": &sec.HoldObsolete} {
			if d, ok := r.Hold[st]; ok {
				*p = &d
			}
		}
		for i, ns := range r.Nameservers {
			if r.ResolvConf.Line != 0 && i == r.ResolvConfAt {
				sec.Nameservers = appendResolvConf(sec.Nameservers, conf)
			}
			n, err := compileNameserver(ns, opts)
			if err != nil {
				fail(ns.Pos, "%v", err)
				continue
			}
			sec.Nameservers = append(sec.Nameservers, n)
		}
		if r.ResolvConf.Line != 0 && r.ResolvConfAt == len(r.Nameservers) {
			sec.Nameservers = appendResolvConf(sec.Nameservers, conf)
		}
		dc.sections = append(dc.sections, dnsSection{sec: sec})
	}
	if cfg.ResolversByName("default") == nil {
		// resolvers_create_default: opportunistic, errors are silent.
		dc.sections = append(dc.sections, dnsSection{sec: dns.Section{Name: "default", Nameservers: appendResolvConf(nil, conf)}, implicit: true})
	}
	return dc
}

// appendResolvConf adds the nameservers of a resolv.conf file; its
// warnings are printed by the check, a file that cannot be read adds none.
func appendResolvConf(list []dns.Nameserver, path string) []dns.Nameserver {
	more, _, _ := dns.ParseResolvConf(path, list)
	return append(list, more...)
}

// compileNameserver turns a nameserver line into the address to query,
// resolving a host name as HAProxy does when it parses the line.
func compileNameserver(ns parser.Nameserver, opts Options) (dns.Nameserver, error) {
	a := ns.Address
	proto := ""
	if i := strings.IndexByte(a, '@'); i >= 0 {
		proto, a = a[:i], a[i+1:]
	}
	switch proto {
	case "", "udp", "udp4", "udp6", "ipv4", "ipv6":
		proto = "udp@"
	case "tcp", "tcp4", "tcp6":
		proto = "tcp@"
	default:
		return dns.Nameserver{}, fmt.Errorf("nameserver '%s' : address '%s' is not supported by the gohap runtime yet.", ns.ID, ns.Address)
	}
	if strings.HasPrefix(a, "/") {
		return dns.Nameserver{}, fmt.Errorf("nameserver '%s' : address '%s' is not supported by the gohap runtime yet.", ns.ID, ns.Address)
	}
	host, port, err := serverTarget(a, opts.Map)
	if err != nil {
		return dns.Nameserver{}, fmt.Errorf("nameserver '%s' : invalid address '%s'.", ns.ID, ns.Address)
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case host == "" || host == "*":
		ip = netip.IPv4Unspecified()
	case err != nil:
		if ip, err = opts.Resolve(host); err != nil {
			return dns.Nameserver{}, fmt.Errorf("nameserver '%s' : could not resolve address '%s'.", ns.ID, host)
		}
	}
	p, _ := strconv.Atoi(port)
	return dns.ParseNameserver(ns.ID, proto+netip.AddrPortFrom(ip.Unmap(), uint16(p)).String())
}

// parseInitAddr reads an init-addr list the parser checked; HAProxy
// passes over empty items.
func parseInitAddr(v string) ([]dns.InitMethod, error) {
	var items []string
	for _, m := range strings.Split(v, ",") {
		if m != "" {
			items = append(items, m)
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	return dns.ParseInitAddr(strings.Join(items, ","))
}

// section finds the section a server names, marking it used.
func (dc *dnsConfig) section(name string) bool {
	for i := range dc.sections {
		if dc.sections[i].sec.Name == name {
			dc.sections[i].used = true
			return true
		}
	}
	return false
}

// bind makes srv follow the DNS: a server named by host, or a slot of a
// server-template fed by the SRV record host.
func (dc *dnsConfig) bind(be *Backend, srv *backend.Server, s *parser.Server, host, port string, init dns.InitResult, srvRec bool, fail func(parser.Pos, string, ...any)) {
	st := &s.Settings
	if !dc.section(st.Resolvers) {
		fail(s.Pos, "%s '%s', server '%s': unable to find required resolvers '%s'", "backend", be.Name, s.Name, st.Resolvers)
		return
	}
	opts := dns.Options{Backend: be.Name, Server: s.Name, Nets: st.ResolveNets, AllowDupIP: st.AllowDupIP,
		IgnoreWeight: st.IgnoreWeight, Addr: init.Addr, Maint: init.Maint}
	if st.ResolvePrefer == "ipv4" {
		opts.Prefer = dns.IPv4
	}
	if srvRec {
		t := dc.byLine[s.Pos]
		if t == nil {
			t = &dnsTemplate{be: be, section: st.Resolvers, name: host, opts: opts}
			dc.byLine[s.Pos] = t
			dc.templates = append(dc.templates, t)
		}
		t.slots = append(t.slots, srv)
		return
	}
	p, _ := strconv.Atoi(port)
	dc.servers = append(dc.servers, &dnsServer{be: be, srv: srv, section: st.Resolvers, host: host, port: p, opts: opts})
}

// hostname is the host name a template slot got from an SRV record.
func (dc *dnsConfig) hostname(srv *backend.Server) string {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.fqdn[srv]
}

// srvRecord is the SRV label of a template slot, "" for other servers.
func (dc *dnsConfig) srvRecord(srv *backend.Server) string {
	for _, t := range dc.templates {
		for _, s := range t.slots {
			if s == srv {
				return t.name
			}
		}
	}
	return ""
}

// dnsRun is the running DNS of an engine.
type dnsRun struct {
	resolvers []*dns.Resolver
	// byName finds a section's resolver, for do-resolve.
	byName map[string]*dns.Resolver
	subs   []*dns.Server
	tmpls  []*dns.TemplateSet
	once   sync.Once
}

// startDNS starts the resolvers sections and subscribes the servers; a
// section whose sockets cannot be opened fails the start, as in HAProxy.
func (e *Engine) startDNS() error {
	dc := e.g.dns
	if dc == nil {
		return nil
	}
	run := &dnsRun{}
	byName := map[string]*dns.Resolver{}
	for _, s := range dc.sections {
		r, err := dns.New(s.sec)
		if err != nil {
			if s.implicit && !s.used {
				continue
			}
			run.close()
			return err
		}
		run.resolvers = append(run.resolvers, r)
		byName[s.sec.Name] = r
	}
	for _, d := range dc.servers {
		d := d
		sub, err := byName[d.section].Subscribe(d.host, d.opts, func(u dns.Update) { e.dnsUpdate(d.be, d.srv, d.port, u) })
		if err != nil {
			run.close()
			return err
		}
		run.subs = append(run.subs, sub)
	}
	for _, t := range dc.templates {
		t := t
		names := make([]string, len(t.slots))
		for i, s := range t.slots {
			names[i] = s.Name
		}
		ts, err := byName[t.section].Template(t.name, t.opts, names, func(slot int, u dns.Update) {
			e.dnsUpdate(t.be, t.slots[slot], -1, u)
		})
		if err != nil {
			run.close()
			return err
		}
		run.tmpls = append(run.tmpls, ts)
	}
	run.byName = byName
	e.dns = run
	return nil
}

// doResolve runs "http-request do-resolve(var,resolvers[,family]) expr":
// the name the sample gives is resolved through the section, the stream
// waiting for the answer, and a valid one is stored in the variable as an
// address; a failure leaves the variable as it was, as in HAProxy.
func (s *session) doResolve(r *httpRule) {
	wait := s.fe.HTTPRequest
	if wait <= 0 {
		wait = s.fe.Client
	}
	if wait <= 0 {
		wait = 30 * time.Second
	}
	s.resolveVar(r.refName, r.family, r.expr, r.varScope, r.varName, r.varConds, wait)
}

// resolveVar resolves the name expr yields with the resolvers section
// refName and sets the variable to the address, waiting for the answer
// at most wait (a cached answer only when wait is not positive).
func (s *session) resolveVar(refName, family string, expr *acl.Sample, scope uint8, vname string, conds acl.VarConds, wait time.Duration) {
	run := s.e.dns
	if run == nil || run.byName[refName] == nil {
		return
	}
	name, ok := expr.Append(s.resolveBuf[:0], &s.txn)
	s.resolveBuf = name
	if !ok || len(name) == 0 {
		return
	}
	prefer := dns.IPv6
	if family == "ipv4" {
		prefer = dns.IPv4
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(wait, 0))
	ip, err := run.byName[refName].Lookup(ctx, string(name), prefer)
	cancel()
	if err != nil || !ip.IsValid() {
		return
	}
	v := acl.Value{Type: acl.TypeIPv6, IP: ip}
	if ip.Is4() {
		v.Type = acl.TypeIPv4
	}
	s.txn.SetVar(scope, vname, &v, conds)
}

// close stops the resolutions; no update is applied once it returns.
func (run *dnsRun) close() {
	if run == nil {
		return
	}
	run.once.Do(func() {
		for _, s := range run.subs {
			s.Close()
		}
		for _, t := range run.tmpls {
			t.Close()
		}
		for _, r := range run.resolvers {
			r.Close()
		}
	})
}

// dnsNotice logs a DNS event as HAProxy does: a warning on stderr and a
// notice to the backend's log targets, with a final period.
func (e *Engine) dnsNotice(be *Backend, text string) {
	e.log.Warn(text + ".")
	be.event(logging.LevelNotice, text+".")
}

// dnsUpdate applies a resolver's decision to a running server. port is
// the server's configured port, -1 for a template slot, whose port the
// SRV record gives.
func (e *Engine) dnsUpdate(be *Backend, srv *backend.Server, port int, u dns.Update) {
	st := u.State
	if port < 0 {
		port = st.Port
	}
	if u.Kind != dns.KindFQDN && u.Kind != dns.KindWeight {
		srv.SetAddress(st.Addr, port)
		if be.cookie != nil {
			be.cookie.refresh()
		}
	}
	switch u.Kind {
	case dns.KindAddr:
		e.dnsNotice(be, u.Log)
	case dns.KindMaint:
		for i, ch := range srv.SetResolveMaint() {
			if i == 0 && ch.Server == srv {
				ch.Text = dns.MaintLog(srv.Backup, ch.WasDown, be.Name, srv.Name, u.Cause) + ch.Status
			}
			e.adminChange(ch)
		}
	case dns.KindReady:
		for i, ch := range srv.ClearResolveMaint() {
			if i == 0 && ch.Server == srv {
				ch.Text = dns.ResolvesAgainLog(srv.Backup, be.Name, srv.Name, st.Hostname, ch.To != backend.Down, srv.Drained(), ch.StillMaint)
				if ch.StillMaint && srv.Tracked != nil {
					ch.Text += " via " + srv.Tracked.Backend.Name + "/" + srv.Tracked.Name
				}
			}
			e.adminChange(ch)
		}
		if u.Log != "" {
			e.dnsNotice(be, u.Log)
		}
	case dns.KindFQDN:
		e.g.dns.setHostname(srv, st.Hostname)
		// HAProxy sends this one to the logs only.
		be.event(logging.LevelNotice, u.Log+".")
	case dns.KindReleased:
		e.g.dns.setHostname(srv, "")
	case dns.KindWeight:
		// HAProxy ignores the weights a static algorithm refuses.
		if st.Weight >= 0 {
			_ = srv.SetWeight(st.Weight)
		}
	}
}

func (dc *dnsConfig) setHostname(srv *backend.Server, h string) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if h == "" {
		delete(dc.fqdn, srv)
		return
	}
	dc.fqdn[srv] = h
}

// showResolvers answers "show resolvers [id]", HAProxy's error text
// included.
func (e *Engine) showResolvers(id string) string {
	var rs []*dns.Resolver
	if e.dns != nil {
		rs = e.dns.resolvers
	}
	text, _ := dns.ShowResolvers(rs, id)
	return text
}
