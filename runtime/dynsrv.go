package runtime

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/stats"
)

var _ stats.ServerEditor = cliSource{}

// dynMu orders the CLI's changes of servers ("add server", "del
// server", "set server ... ssl"). The maps the connection path reads are
// replaced, never modified, so that it reads them without a lock.
var dynMu sync.Mutex

// SetDynCookie is the CLI's change of a backend's dynamic cookies; a
// backend without a "cookie" line has none to change.
func (s cliSource) SetDynCookie(bname string, on *bool, key *string) {
	if be := s.e.g.byName[bname]; be != nil && be.cookie != nil {
		be.cookie.setDyn(on, key)
	}
}

// AddServer is "add server <b>/<s> <addr> [options]" (cli_parse_add_server):
// the server is compiled as a configuration line would be, and joins the
// backend in forced maintenance with its checks disabled. As HAProxy's,
// what it tells the CLI past the backend's lookup goes to the process's
// standard error too: an [ALERT] for a refusal, a [NOTICE] once the
// server is registered.
func (s cliSource) AddServer(bname, sname string, words []string) (answer string, bare bool) {
	s.e.cliMsgs.Store(true)
	answer, bare = s.addServer(bname, sname, words)
	if bare {
		return answer, bare
	}
	prefix := "CLI : 'server " + bname + "/" + sname + "' : "
	if strings.HasPrefix(answer, "'server' expects") {
		// No server exists yet to name.
		prefix = "CLI : "
	}
	if answer == serverRegistered {
		s.e.log.Named(NoticeLogger).Info(prefix + answer)
		return answer, bare
	}
	for _, l := range strings.Split(answer, "\n") {
		s.e.log.Error(prefix + l)
	}
	return answer, bare
}

const serverRegistered = "New server registered."

// NoticeLogger names the logger whose info entries the process's
// standard error shows as HAProxy's [NOTICE] lines.
const NoticeLogger = "notice"

func (s cliSource) addServer(bname, sname string, words []string) (answer string, bare bool) {
	be := s.e.g.byName[bname]
	if be == nil || be.compileServer == nil {
		return "No such backend.", true
	}
	if !be.LB.DynamicLB() {
		return "Backend must use a dynamic load balancing to support dynamic servers.", true
	}
	ps, msg := parser.DynamicServer(sname, words)
	if ps == nil {
		return msg, false
	}
	if st := &ps.Settings; st.Unsupported != "" {
		return fmt.Sprintf("server option '%s' is not supported by the gohap runtime yet.", st.Unsupported), false
	}
	if p := ps.Settings.Proto; p != "" && p != "none" && !be.HTTP {
		return "MUX protocol is not usable for server.", false
	}
	if host, _ := splitServerAddress(ps.Address); host != "" {
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
			// A dynamic server resolves nothing: init-addr none.
			ps.Settings.InitAddr = "none"
		}
	}
	var fails []string
	collect := func(_ parser.Pos, format string, a ...any) {
		fails = append(fails, strings.TrimPrefix(fmt.Sprintf(format, a...), bracketed))
	}
	cs := be.compileServer(ps, nil, collect)
	if cs == nil || len(fails) > 0 {
		if len(fails) == 0 {
			fails = append(fails, "failed to create the server.")
		}
		return strings.Join(fails, "\n"), false
	}
	srv := cs.srv
	// The connection settings are compiled aside, then published.
	aside := &Backend{HTTP: be.HTTP, reuse: be.reuse, Server: be.Server}
	if cs.tls != nil {
		aside.tls.put(srv, cs.tls)
	}
	be.compileConns(ps, aside, srv, collect)
	if len(fails) > 0 {
		return strings.Join(fails, "\n"), false
	}
	if o, ok := aside.idle.opts[srv]; ok {
		return "server option '" + o.set + "' is not supported on dynamic servers by the gohap runtime yet.", false
	}
	cs.h2 = aside.h2.get(srv)
	// Checks of a dynamic server take neither the server's PROXY header
	// nor its TLS unless told (init_srv_check).
	srv.Check.SendProxy = ps.Settings.CheckSendProxy
	if !slices.Contains(ps.Settings.TLSWords, "check-ssl") {
		srv.Check.TLS = nil
	}
	dynMu.Lock()
	defer dynMu.Unlock()
	var tracked *backend.Server
	if cs.track != "" {
		t, msg := s.trackTarget(be, cs.track)
		if t == nil {
			return msg, false
		}
		tracked = t
	}
	if id := ps.Settings.ID; id != 0 {
		for _, x := range be.LB.ServerList() {
			if x.ID == id {
				pos := be.serverPos[x]
				if pos.File == "" {
					// A dynamic server has no configuration file.
					pos.File = "(null)"
				}
				return fmt.Sprintf("'id' : custom id %d already used at %s:%d ('server %s').", id, pos.File, pos.Line, x.Name), false
			}
		}
	}
	// "enabled" lifts the forced maintenance a dynamic server starts in.
	enabled := false
	for _, o := range ps.Options {
		if o == "enabled" || o == "disabled" {
			enabled = o == "enabled"
		}
	}
	if err := be.LB.AddServer(srv, enabled); err != nil {
		return err.Error(), false
	}
	if tracked != nil {
		srv.Track(tracked)
	}
	be.publishServer(cs)
	if be.cookie != nil {
		be.cookie.setServer(srv, ps.Settings.Cookie, false)
	}
	if c := s.c; c != nil {
		set := maps.Clone(c.settings)
		set[srv] = ps
		c.settings = set
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Checks end with the engine or the server.
		select {
		case <-s.e.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	srv.StartChecks(ctx, cancel)
	return serverRegistered, false
}

// trackTarget is srv_apply_track's lookup of "track [<b>/]<s>".
func (s cliSource) trackTarget(be *Backend, ref string) (*backend.Server, string) {
	tb, name := be, ref
	if b, n, ok := strings.Cut(ref, "/"); ok {
		if tb, name = s.e.g.byName[b], n; tb == nil {
			return nil, fmt.Sprintf("unable to find required proxy '%s' for tracking.", b)
		}
	}
	for _, x := range tb.LB.ServerList() {
		if x.Name != name {
			continue
		}
		switch {
		case x.Dynamic():
			return nil, fmt.Sprintf("unable to use %s/%s for tracking as it is a dynamic server.", tb.Name, x.Name)
		case !x.Check.Enabled && !x.Agent.Enabled && x.Tracked == nil && tb.tracks[x] == "":
			return nil, fmt.Sprintf("unable to use %s/%s for tracking as it does not have any check nor agent enabled.", tb.Name, x.Name)
		}
		return x, ""
	}
	return nil, fmt.Sprintf("unable to find required server '%s' for tracking.", name)
}

// publishServer is addServer for a running backend: the maps are
// replaced for the connection path.
func (be *Backend) publishServer(cs *compiledServer) {
	srv := cs.srv
	if cs.track != "" {
		m := maps.Clone(be.tracks)
		m[srv] = cs.track
		be.tracks = m
	}
	if cs.pp != nil {
		be.pp.replace(srv, cs.pp)
	}
	if cs.tls != nil {
		be.tls.replace(srv, cs.tls)
	}
	if cs.h2 != nil {
		be.h2.replace(srv, cs.h2)
	}
	m := maps.Clone(be.serverPos)
	m[srv] = cs.pos
	be.serverPos = m
}

// srvMap is a map by server that the connection path reads without a
// lock while "add server" and "set server" replace it.
type srvMap[V any] struct {
	p atomic.Pointer[map[*backend.Server]V]
}

func (m *srvMap[V]) get(srv *backend.Server) V {
	if p := m.p.Load(); p != nil {
		return (*p)[srv]
	}
	var zero V
	return zero
}

// put sets a server's value at compile time, before any reader.
func (m *srvMap[V]) put(srv *backend.Server, v V) {
	p := m.p.Load()
	if p == nil {
		p = &map[*backend.Server]V{}
		m.p.Store(p)
	}
	(*p)[srv] = v
}

// replace publishes a copy with the server's value; the writers hold
// dynMu.
func (m *srvMap[V]) replace(srv *backend.Server, v V) {
	c := map[*backend.Server]V{}
	if p := m.p.Load(); p != nil {
		c = maps.Clone(*p)
	}
	c[srv] = v
	m.p.Store(&c)
}

// remove publishes a copy without the server.
func (m *srvMap[V]) remove(srv *backend.Server) {
	if p := m.p.Load(); p != nil {
		c := maps.Clone(*p)
		delete(c, srv)
		m.p.Store(&c)
	}
}

// DelServer is "del server <b>/<s>" (cli_parse_delete_server).
func (s cliSource) DelServer(bname, sname string) string {
	be := s.e.g.byName[bname]
	srv := s.server(bname, sname)
	if be == nil || srv == nil {
		return "No such server."
	}
	dynMu.Lock()
	defer dynMu.Unlock()
	// Servers others point to, or that resolvers follow, are not
	// purgeable (SRV_F_NON_PURGEABLE).
	if ps := s.c.settings[srv]; srv.Pinned() || ps != nil && ps.Settings.HasResolvers {
		return "This server cannot be removed at runtime due to other configuration elements pointing to it."
	}
	if srv.Admin()&(backend.AdminForcedMaint|backend.AdminInheritedMaint|backend.AdminConfigMaint|backend.AdminResolveMaint) == 0 {
		return "Only servers in maintenance mode can be deleted."
	}
	// HAProxy counts idle connections as attached ones.
	if be.idle.liveConns(srv) > 0 {
		return backend.ErrServerBusy.Error()
	}
	if err := be.LB.RemoveServer(srv); err != nil {
		return err.Error()
	}
	if be.cookie != nil {
		be.cookie.setServer(srv, "", true)
	}
	if c := s.c; c != nil {
		set := maps.Clone(c.settings)
		delete(set, srv)
		c.settings = set
	}
	s.releaseCert(be, srv)
	be.tls.remove(srv)
	be.pp.remove(srv)
	be.h2.remove(srv)
	// HAProxy's ha_notice, on the process's standard error.
	msg := "Server deleted."
	if s.e.cliMsgs.Load() {
		msg = "CLI : " + msg
	}
	s.e.log.Named(NoticeLogger).Info(msg)
	return "Server deleted."
}

// SetCheck is "enable|disable health|agent <b>/<s>".
func (s cliSource) SetCheck(bname, sname string, agent, on bool) string {
	srv := s.server(bname, sname)
	if srv == nil {
		return ""
	}
	switch {
	case agent && on && !srv.Agent.Enabled:
		return "Agent was not configured on this server, cannot enable."
	case !agent && on && !srv.Check.Enabled:
		return "Health check was not configured on this server, cannot enable."
	case agent:
		srv.SetAgentRunning(on)
	default:
		srv.SetCheckRunning(on)
	}
	return ""
}

// SetServerAddr is "set server <b>/<s> addr <ip> [port <port>]"
// (srv_update_addr_port); the answer is HAProxy's report. An address
// change applies even when the port is refused after it.
func (s cliSource) SetServerAddr(bname, sname, addr, port string) string {
	srv := s.server(bname, sname)
	if srv == nil {
		return ""
	}
	const by = " by 'stats socket command'"
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return "Invalid addr '" + addr + "'" + by
	}
	host, sport, _ := net.SplitHostPort(srv.Address())
	cur, err := netip.ParseAddr(host)
	if err != nil {
		return "Update for the current server address family is only supported through configuration file" + by
	}
	mapped := srv.PortMapped()
	// svc_port: the port, or the offset of a port map.
	curPort := srv.PortOffset
	if !mapped {
		curPort = atoiPort(sport)
	}
	var msg strings.Builder
	newIP, newPort, fixed := cur, curPort, false
	if cur == ip {
		msg.WriteString("no need to change the addr")
	} else {
		msg.WriteString("IP changed from '" + cur.String() + "' to '" + addr + "'")
		newIP = ip
	}
	if port != "" {
		msg.WriteString(", ")
		n, _, ok := cStrtol(port)
		switch {
		case !ok:
			msg.WriteString("problem converting port '" + port + "' to an int")
		case port[0] == '+' || port[0] == '-':
			if !mapped && srv.Check.Port == "" {
				msg.WriteString("can't change <port> to port map because it is incompatible with current health check " +
					"port configuration (use 'port' statement from the 'server' directive.")
			} else {
				msg.WriteString("changing a port map is not supported by gohap")
			}
		case uint16(n) != uint16(curPort) || mapped:
			prefix := ""
			if mapped {
				prefix = "+"
			}
			msg.WriteString("port changed from '" + prefix + strconv.Itoa(curPort) + "' to '" + strconv.Itoa(int(uint16(n))) + "'")
			newPort, fixed = int(uint16(n)), true
		default:
			msg.WriteString("no need to change the port")
		}
	}
	if newIP != cur || fixed {
		if be := s.e.g.byName[bname]; be != nil {
			// srv_cleanup_connections: idle connections go to the former
			// address.
			be.idle.drop(srv, false)
		}
		if fixed || !mapped {
			srv.SetFixedAddress(newIP, newPort)
		} else {
			srv.SetAddress(newIP, newPort)
		}
		if be := s.e.g.byName[bname]; be != nil && be.cookie != nil {
			be.cookie.refresh()
		}
	}
	for _, ch := range srv.ClearResolveMaint() {
		s.e.adminChange(ch)
	}
	return msg.String() + by
}

// atoiPort reads a port, 0 when it is not one.
func atoiPort(p string) int {
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0
	}
	return n
}

// cStrtol is strtol on a port: a sign, digits, ok when one digit is read.
func cStrtol(s string) (n int64, rest string, ok bool) {
	t := s
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg, t = t[0] == '-', t[1:]
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		n = n*10 + int64(t[i]-'0')
		if n > 1<<40 {
			n = 1 << 40
		}
		i++
	}
	if neg {
		n = -n
	}
	return n, t[i:], i > 0
}

// SetServerFQDN is "set server <b>/<s> fqdn <name>": a server without
// resolvers is refused as HAProxy does.
func (s cliSource) SetServerFQDN(bname, sname, fqdn string) string {
	srv := s.server(bname, sname)
	if srv == nil {
		return ""
	}
	if fqdn == "" {
		return "set server <b>/<s> fqdn requires a FQDN."
	}
	ps := s.c.setting(srv)
	if ps == nil || !ps.Settings.HasResolvers {
		return "set server <b>/<s> fqdn failed because no resolution is configured."
	}
	if s.e.g.dns.srvRecord(srv) != "" {
		return "set server <b>/<s> fqdn failed because SRV resolution is configured."
	}
	return "'set server <srv> fqdn' with resolvers is not supported by gohap."
}

// sslState holds the "set server ... ssl" choices (1 on, 0 off), by
// server; guarded by dynMu.
var sslState = map[*backend.Server]int{}

// useSSL is a server's srv_use_ssl of "show servers state": 1 with
// "ssl", -1 with "no-ssl", 0 without either, or as the CLI set it.
func useSSL(srv *backend.Server, ps *parser.Server) int {
	dynMu.Lock()
	v, ok := sslState[srv]
	dynMu.Unlock()
	if ok || ps == nil {
		return v
	}
	for _, w := range slices.Backward(ps.Settings.TLSWords) {
		switch w {
		case "ssl":
			return 1
		case "no-ssl":
			return -1
		}
	}
	return 0
}

// SetServerSSL is "set server <b>/<s> ssl on|off": only a server whose
// settings name "ssl" (its own or its default-server's) has TLS
// settings to turn on, as HAProxy has an SSL context only for it.
func (s cliSource) SetServerSSL(bname, sname, onoff string) string {
	be := s.e.g.byName[bname]
	srv := s.server(bname, sname)
	if be == nil || srv == nil {
		return ""
	}
	if srv.Dynamic() {
		return "'set server <srv> ssl' not supported on dynamic servers"
	}
	ps := s.c.setting(srv)
	if ps == nil || !slices.Contains(ps.Settings.TLSWords, "ssl") {
		return "'set server <srv> ssl' cannot be set.  default-server should define ssl settings"
	}
	if onoff != "on" && onoff != "off" {
		return "'set server <srv> ssl' expects 'on' or 'off'."
	}
	var t *serverTLS
	if onoff == "on" {
		on := *ps
		on.Settings.TLSWords = append(slices.Clip(ps.Settings.TLSWords), "ssl")
		on.Settings.HasResolvers = false
		var fails []string
		cs := be.compileServer(&on, nil, func(_ parser.Pos, format string, a ...any) {
			fails = append(fails, strings.TrimPrefix(fmt.Sprintf(format, a...), bracketed))
		})
		if cs == nil || cs.tls == nil {
			return strings.Join(fails, "\n")
		}
		t = cs.tls
	}
	dynMu.Lock()
	if t == nil {
		be.tls.remove(srv)
	} else {
		be.tls.replace(srv, t)
	}
	sslState[srv] = map[string]int{"on": 1, "off": 0}[onoff]
	dynMu.Unlock()
	// srv_cleanup_connections: idle connections use the former setting.
	be.idle.drop(srv, false)
	return "server ssl setting updated."
}

// liveConns closes the idle connections to srv that the server ended
// and counts the others.
func (p *idlePool) liveConns(srv *backend.Server) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.conns[srv]
	if st == nil {
		return 0
	}
	for i := len(st.list) - 1; i >= 0; i-- {
		if !alive(st.list[i].rc) {
			st.remove(i).c.Close()
			p.n--
		}
	}
	return len(st.list)
}

// SetServerCheck is "set server <b>/<s> check-addr|check-port|agent-addr|
// agent-port|agent-send" (srv_update_check_addr_port,
// srv_update_agent_addr_port, set_srv_agent_send). port is "" when not
// given.
func (s cliSource) SetServerCheck(bname, sname, what, addr, port string) string {
	srv := s.server(bname, sname)
	if srv == nil {
		return ""
	}
	agent := strings.HasPrefix(what, "agent-")
	if agent && !srv.Agent.Enabled || agent && srv.AgentState()&backend.CheckEnabled == 0 {
		if what == "agent-send" {
			return "agent checks are not enabled on this server.\n"
		}
		return "agent checks are not enabled on this server"
	}
	if !agent && srv.CheckState()&backend.CheckEnabled == 0 {
		return "health checks are not enabled on this server"
	}
	if what == "agent-send" {
		srv.SetAgentSend(addr)
		return ""
	}
	if addr != "" {
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Zone() != "" {
			return "invalid addr '" + addr + "'"
		}
		addr = ip.Unmap().String()
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		switch {
		case err != nil:
			return "provided port is not an integer"
		case n < 0 || n > 65535:
			return "provided port is invalid"
		case !agent && n == 0 && srv.MapPorts:
			return "can't unset 'port' since MAPPORTS is in use"
		case n == 0:
			// No check port: the server's own.
			_, port, _ = strings.Cut(srv.Address(), ":")
		}
	}
	if agent {
		srv.SetAgentTarget(addr, port)
	} else {
		srv.SetCheckTarget(addr, port)
	}
	return ""
}

// checkTargets shows the check and agent targets set at run time in
// "show servers state".
func checkTargets(srv *backend.Server, ss *stats.ServerState) {
	if h, p := srv.CheckTarget(); h != "" || p != "" {
		if h != "" {
			ss.CheckAddr = h
		}
		if p != "" {
			ss.CheckPort = atoiPort(p)
		}
	}
	if h, p := srv.AgentTarget(); h != "" {
		ss.AgentAddr = h
		if p != "" {
			ss.AgentPort = atoiPort(p)
		}
	} else if p != "" {
		ss.AgentPort = atoiPort(p)
	}
}

// setting is the server line of a server; "add server" and "del server"
// replace the map under dynMu.
func (c *cliConfig) setting(srv *backend.Server) *parser.Server {
	dynMu.Lock()
	defer dynMu.Unlock()
	return c.settings[srv]
}

// SetServerAgent is "set server <b>/<s> agent up|down".
func (s cliSource) SetServerAgent(bname, sname, state string) string {
	srv := s.server(bname, sname)
	switch {
	case srv == nil:
		return ""
	case srv.AgentState()&backend.CheckEnabled == 0:
		return "agent checks are not enabled on this server."
	case state != "up" && state != "down":
		return "'set server <srv> agent' expects 'up' or 'down'."
	}
	srv.ForceAgentState(state == "up", "changed from CLI")
	return ""
}
