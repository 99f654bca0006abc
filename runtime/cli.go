package runtime

import (
	"github.com/gohap/gohap/runtime/logging"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gohap/gohap/acl/stick"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/stats"
)

// cliConfig is the runtime CLI of a graph: the "stats socket" lines and
// what "show servers state" reports that the compiled backends do not
// keep (HAProxy's proxy ids, forced ids, the server lines' settings).
type cliConfig struct {
	sockets []stats.Socket
	timeout time.Duration
	maxconn int
	// ids are the proxy ids of the backends, by backend.
	ids    map[*Backend]int
	forced map[*Backend]bool
	// proxyIDs are the ids of every proxy, by name ("show errors").
	proxyIDs map[string]int
	settings map[*backend.Server]*parser.Server

	mu    sync.Mutex
	cli   *stats.CLI
	start time.Time
}

// compileCLI reads the stats sockets and numbers the proxies as HAProxy
// does (cfgparse.c check_config_validity): in configuration order, the
// first spare id from a counter that every proxy advances, ids set with
// "id" kept, and the internal GLOBAL proxy, made by the first "stats"
// line, taking id 0 but advancing the counter. It returns nil when the
// configuration opens no stats socket.
func compileCLI(cfg *parser.Config, g *Graph) *cliConfig {
	st := cfg.Global.Stats
	if len(st.Sockets) == 0 {
		return nil
	}
	// The certificate store exists for the CLI even without TLS.
	g.certStore(cfg)
	c := &cliConfig{timeout: st.Timeout, maxconn: st.Maxconn, ids: map[*Backend]int{}, forced: map[*Backend]bool{},
		settings: map[*backend.Server]*parser.Server{}, proxyIDs: map[string]int{}}
	for _, s := range st.Sockets {
		sk := stats.Socket{Addr: s.Address, Where: s.Pos.File + ":" + strconv.Itoa(s.Pos.Line), Level: stats.ParseLevel(s.Level), ExposeFD: s.ExposeFD, Owner: s.Owner}
		if s.HasMode {
			sk.Mode, sk.HasMode = os.FileMode(s.Mode), true
		}
		c.sockets = append(c.sockets, sk)
	}
	used := map[int]bool{}
	for _, p := range cfg.Proxies {
		if p.ID > 0 {
			used[p.ID] = true
		}
	}
	if st.Declared {
		used[0] = true
	}
	byProxy := map[string]*Backend{}
	for _, be := range g.Backends {
		byProxy[be.Name] = be
	}
	next := 1
	for i, p := range cfg.Proxies {
		if st.Declared && i == st.ProxiesBefore {
			next++
		}
		id, ok := p.ID, p.ID > 0
		if !ok {
			for used[next] {
				next++
			}
			id = next
			used[id] = true
		}
		next++
		if _, dup := c.proxyIDs[p.Name]; !dup {
			c.proxyIDs[p.Name] = id
		}
		if p.Cap&parser.CapBE != 0 {
			if be := byProxy[p.Name]; be != nil {
				c.ids[be], c.forced[be] = id, ok
				for _, ps := range p.Servers {
					for _, s := range be.LB.ServerList() {
						if s.Name == ps.Name {
							c.settings[s] = ps
							if ps.Settings.Disabled {
								// Also when unresolved: HAProxy keeps both causes.
								s.SetConfigMaint()
							}
						}
					}
				}
			}
		}
	}
	return c
}

// startCLI opens the stats sockets and serves the CLI; a socket that
// cannot be opened fails the start, as with HAProxy.
func (e *Engine) startCLI() error {
	c := e.g.cli
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cli := stats.New(cliSource{e: e, c: c}, c.timeout, c.maxconn)
	cli.BytesOut = &e.g.bytesOut
	var prev *stats.CLI
	if d := e.donor; d != nil && d.g.cli != nil {
		d.g.cli.mu.Lock()
		prev = d.g.cli.cli
		d.g.cli.mu.Unlock()
	}
	if err := cli.ListenFrom(c.sockets, prev); err != nil {
		return err
	}
	c.cli, c.start = cli, time.Now()
	return nil
}

// serveCLI starts accepting on the stats sockets startCLI bound.
func (e *Engine) serveCLI() {
	c := e.g.cli
	if c == nil {
		return
	}
	c.mu.Lock()
	cli := c.cli
	c.mu.Unlock()
	if cli != nil {
		cli.Serve()
	}
}

// stopCLI closes the stats sockets and their connections.
func (e *Engine) stopCLI() {
	c := e.g.cli
	if c == nil {
		return
	}
	c.mu.Lock()
	cli := c.cli
	c.cli = nil
	c.mu.Unlock()
	if cli != nil {
		cli.Close()
	}
}

// CLIAddrs returns the addresses the stats sockets listen on, in
// configuration order (nil before Start or without a stats socket).
func (e *Engine) CLIAddrs() []net.Addr {
	c := e.g.cli
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli == nil {
		return nil
	}
	return c.cli.Addrs()
}

// cliSource gives the CLI the engine's backends and servers.
type cliSource struct {
	e *Engine
	c *cliConfig
}

var _ stats.Source = cliSource{}

// HAProxy's server states (server-t.h SRV_ST_*).
const (
	srvStStopped  = 0
	srvStStarting = 1
	srvStRunning  = 2
	srvStStopping = 3
)

// Backends reports every backend in proxy order, with the state the
// checks, the tracked servers and the CLI gave the servers.
func (s cliSource) Backends() []stats.Backend {
	c := s.c
	now := time.Now().Unix()
	out := make([]stats.Backend, 0, len(s.e.g.Backends))
	for _, be := range s.e.g.Backends {
		sb := stats.Backend{ID: c.ids[be], Name: be.Name, ForcedID: c.forced[be]}
		for _, srv := range be.LB.ServerList() {
			ps := c.setting(srv)
			var set parser.ServerSettings
			if ps != nil {
				set = ps.Settings
			}
			ss := stats.ServerState{ID: srv.ID, Name: srv.Name, Addr: "-", UWeight: srv.CurWeight(), IWeight: srv.Weight,
				SinceChange: now - srv.LastChange().Unix(), CheckStatus: int(srv.CheckStatus()), CheckResult: int(srv.CheckResult()),
				CheckHealth: srv.CheckHealth(), CheckState: srv.CheckState(), AgentState: srv.AgentState(), AdminState: int(srv.Admin()), ForcedID: set.ID != 0,
				FQDN: "-", SRVRecord: "-", CheckAddr: "-", AgentAddr: "-"}
			if host, port, err := net.SplitHostPort(srv.Address()); err == nil {
				ss.Addr = host
				ss.Port, _ = strconv.Atoi(port)
			}
			if ps != nil && !isUnixServer(srv) {
				host, port := splitServerAddress(ps.Address)
				if _, err := netip.ParseAddr(host); err != nil && host != "" {
					ss.FQDN = host
				}
				if ss.Port == 0 {
					ss.Port, _ = strconv.Atoi(port)
				}
			}
			if rec := s.e.g.dns.srvRecord(srv); rec != "" {
				// A template slot shows the SRV label and the target it got.
				ss.SRVRecord, ss.FQDN = rec, "-"
				if h := s.e.g.dns.hostname(srv); h != "" {
					ss.FQDN = h
				}
			}
			if set.Port != "" {
				ss.CheckPort, _ = strconv.Atoi(set.Port)
				ss.AgentPort = ss.CheckPort
			}
			if set.Addr != "" {
				ss.CheckAddr, ss.AgentAddr = set.Addr, set.Addr
			}
			if set.AgentAddr != "" {
				ss.AgentAddr = set.AgentAddr
			}
			if set.AgentPort != "" {
				ss.AgentPort, _ = strconv.Atoi(set.AgentPort)
			}
			ss.UseSSL = useSSL(srv, ps)
			checkTargets(srv, &ss)
			switch srv.State() {
			case backend.Down, backend.Maint:
				ss.OpState = srvStStopped
			case backend.Stopping:
				ss.OpState = srvStStopping
			default:
				ss.OpState = srvStRunning
				if srv.InSlowstart() {
					ss.OpState = srvStStarting
				}
			}
			sb.Servers = append(sb.Servers, ss)
		}
		out = append(out, sb)
	}
	return out
}

// SetMaint is "disable server" and "enable server": it changes the
// server's maintenance and logs each change as HAProxy does.
func (s cliSource) SetMaint(bname, sname string, on bool) {
	be := s.e.g.byName[bname]
	if be == nil {
		return
	}
	for _, srv := range be.LB.ServerList() {
		if srv.Name != sname {
			continue
		}
		var chs []backend.AdminChange
		if on {
			chs = srv.Disable()
		} else {
			chs = srv.Enable()
		}
		for _, ch := range chs {
			s.e.adminChange(ch)
		}
		return
	}
}

// Caches is "show cache" (cache.go).
func (s cliSource) Caches() string { return s.e.showCache() }

// Resolvers is "show resolvers [id]".
func (s cliSource) Resolvers(id string) string { return s.e.showResolvers(id) }

// Tables runs the stick table commands on the graph's tables.
func (s cliSource) Tables(args []string, oper bool) string {
	if t := s.e.g.tables; t != nil {
		return t.Command(args, oper)
	}
	var none stick.Tables
	return none.Command(args, oper)
}

// adminChange logs a server's change of maintenance and applies
// on-marked-down and on-marked-up as a change of state does.
func (e *Engine) adminChange(ch backend.AdminChange) {
	s := ch.Server
	be := e.g.byName[s.Backend.Name]
	// Going down for maintenance is an alert, coming back a notice; a
	// change of weight reports only a backend left without servers.
	level := logging.LevelNotice
	if ch.Down {
		level = logging.LevelAlert
	}
	if ch.Text != "" {
		e.log.Warn(ch.Text + ".")
		be.event(level, ch.Text+".")
	}
	if ch.NoServer {
		s.Backend.CountDown()
		e.log.Error("backend '" + s.Backend.Name + "' has no server available!")
		// The syslog line names the backend without quotes.
		be.event(logging.LevelEmerg, "backend "+s.Backend.Name+" has no server available!")
	}
	if ch.Down {
		// srv_cleanup_connections: a server entering maintenance closes
		// its idle connections.
		be.idle.drop(s, false)
	}
	switch {
	case ch.Down && s.ShutdownOnDown:
		e.shutdownSessions(s)
	case ch.Up && s.ShutdownBackupsOnUp && !s.Backup && s.CurWeight() > 0:
		for _, x := range s.Backend.ServerList() {
			if x.Backup {
				e.shutdownSessions(x)
			}
		}
	}
}

// splitServerAddress returns the host and port of a server line's
// address, without its family prefix.
func splitServerAddress(a string) (string, string) {
	if _, rest, ok := strings.Cut(a, "@"); ok {
		a = rest
	}
	if host, port, err := net.SplitHostPort(a); err == nil {
		return strings.Trim(host, "[]"), port
	}
	return strings.Trim(a, "[]"), ""
}

var _ stats.FDSource = cliSource{}

// ListeningFiles returns duplicates of the frontends' listening sockets,
// for "_getsocks".
func (s cliSource) ListeningFiles() []*os.File {
	e := s.e
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	var out []*os.File
	for _, l := range lns {
		if u := l.bind.Unix; u != nil && u.pair >= 0 {
			// A socket pair is no listening socket to hand over.
			continue
		}
		if f, err := l.ln.File(); err == nil {
			out = append(out, f)
		}
	}
	return out
}
