package runtime

import (
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/stats"
)

// statsState is what the stats page, "show stat" and "show info" need
// of a graph: the proxies in configuration order with their HAProxy
// ids, the pages the "stats" lines enable and the traffic counters.
type statsState struct {
	proxies []statsProxy
	// byName, byFe and byBe find a proxy's entry, for the fetches.
	byName map[string]*statsProxy
	byFe   map[*Frontend]*statsProxy
	byBe   map[*Backend]*statsProxy
	// pages are the stats pages by proxy name.
	pages map[string]*statsPage
	fe    map[*Frontend]*trafficCounters
	be    map[*Backend]*trafficCounters
	srv   map[*backend.Server]*trafficCounters
	// cookies are the servers' cookie values, by server.
	cookies    map[*backend.Server]string
	node, desc string
	start      time.Time
}

type statsProxy struct {
	// desc is the proxy's "description".
	name, mode, desc string
	id               int
	fe               *Frontend
	be               *Backend
	cookie           string
	algo             string
}

// statsPage is a proxy's page and its compiled "stats admin" rules.
type statsPage struct {
	page  stats.Page
	admin []*acl.Cond
	// rules are the "stats http-request" rules.
	rules []httpRule
}

// compileStats prepares the stats of a compiled graph. It must run once
// the graph's frontends and backends exist (at the end of Compile, next
// to compileCLI); errors are reported through fail.
func compileStats(cfg *parser.Config, g *Graph, fail func(parser.Pos, string, ...any)) *statsState {
	st := &statsState{pages: map[string]*statsPage{}, fe: map[*Frontend]*trafficCounters{},
		be: map[*Backend]*trafficCounters{}, srv: map[*backend.Server]*trafficCounters{},
		cookies: map[*backend.Server]string{}, start: time.Now()}
	st.node, _ = os.Hostname()
	if n := cfg.Global.Node; n != "" {
		st.node = n
	}
	st.desc = cfg.Global.Description
	ids := proxyIDs(cfg)
	byName := map[string]proxyRef{}
	for _, p := range g.proxies {
		byName[p.name] = p
	}
	for _, p := range cfg.Proxies {
		if p.Disabled {
			continue
		}
		ref := byName[p.Name]
		sp := statsProxy{name: p.Name, mode: p.Mode, desc: p.Description, id: ids[p], fe: ref.fe, be: ref.be}
		if ref.fe != nil {
			ref.fe.ctr = &trafficCounters{}
			st.fe[ref.fe] = ref.fe.ctr
		}
		if be := ref.be; be != nil {
			be.ctr = &trafficCounters{}
			st.be[be] = be.ctr
			sp.algo = p.LB.Algo
			if p.Cookie != nil {
				sp.cookie = p.Cookie.Name
			}
			for _, s := range be.LB.ServerList() {
				st.srv[s] = &trafficCounters{}
				for _, ps := range p.Servers {
					if ps.Name == s.Name {
						st.cookies[s] = serverCookie(ps)
					}
				}
			}
		}
		st.proxies = append(st.proxies, sp)
		if p.Stats == nil || p.Mode != "http" {
			// HAProxy ignores "stats" outside HTTP mode, with a warning.
			continue
		}
		pg := &statsPage{page: stats.Page{URI: p.Stats.URI, Realm: p.Stats.Realm, Auth: p.Stats.Auth,
			Refresh: p.Stats.Refresh, Scope: p.Stats.Scope, HideVersion: p.Stats.HideVersion,
			ShowLegends: p.Stats.ShowLegends, ShowNode: p.Stats.ShowNode, ShowDesc: p.Stats.ShowDesc,
			Node: p.Stats.Node, Desc: p.Stats.Desc}}
		set := proxyACLs(p, g.proxyContext(p), fail)
		for _, a := range p.Stats.Admin {
			c, err := set.ParseCondAt(a.Cond, p.HTTPPlaces("http-request"))
			if err != nil {
				fail(a.Pos, "error detected while parsing a 'stats admin' rule : %v.", err)
				continue
			}
			pg.admin = append(pg.admin, c)
		}
		pg.rules = compileHTTPRules(cfg, p.Stats.HTTPRules, set, fail)
		for i := range pg.rules {
			if r := &pg.rules[i]; r.realm == "" {
				// STATS_DEFAULT_REALM, not the proxy's name.
				r.realm = "HAProxy Statistics"
			}
		}
		pg.rules = ownRules(pg.rules, p)
		st.pages[p.Name] = pg
	}
	st.byName, st.byFe, st.byBe = map[string]*statsProxy{}, map[*Frontend]*statsProxy{}, map[*Backend]*statsProxy{}
	for i := range st.proxies {
		sp := &st.proxies[i]
		st.byName[sp.name] = sp
		if sp.fe != nil {
			st.byFe[sp.fe] = sp
		}
		if sp.be != nil {
			st.byBe[sp.be] = sp
		}
	}
	return st
}

// serverCookie is the value of a server line's "cookie" option.
func serverCookie(ps *parser.Server) string {
	for i, o := range ps.Options {
		if o == "cookie" && i+1 < len(ps.Options) {
			return ps.Options[i+1]
		}
	}
	return ""
}

// proxyIDs numbers the proxies as HAProxy does (cfgparse.c
// check_config_validity): the ids set with "id" are kept, the others take
// the first spare one from a counter every proxy advances, the GLOBAL
// proxy of the first "stats" line taking id 0 but advancing it.
func proxyIDs(cfg *parser.Config) map[*parser.Proxy]int {
	st := cfg.Global.Stats
	used := map[int]bool{}
	for _, p := range cfg.Proxies {
		if p.ID > 0 {
			used[p.ID] = true
		}
	}
	out := map[*parser.Proxy]int{}
	next := 1
	for i, p := range cfg.Proxies {
		if st.Declared && i == st.ProxiesBefore {
			next++
		}
		id := p.ID
		if id <= 0 {
			for used[next] {
				next++
			}
			id = next
			used[id] = true
		}
		next++
		out[p] = id
	}
	return out
}

// Counter accessors for the request path: nil (which every counter
// method accepts) when the graph was compiled without stats.
func (g *Graph) feCounters(fe *Frontend) *trafficCounters {
	if g.stats == nil || fe == nil {
		return nil
	}
	return fe.ctr
}

func (g *Graph) beCounters(be *Backend) *trafficCounters {
	if g.stats == nil || be == nil {
		return nil
	}
	return be.ctr
}

func (g *Graph) srvCounters(s *backend.Server) *trafficCounters {
	if g.stats == nil {
		return nil
	}
	return g.stats.srv[s]
}

// checkDescs are the descriptions of the check statuses (check.c
// check_statuses), for check_desc.
var checkDescs = map[backend.CheckStatus]string{
	backend.CheckUnknown: "Unknown", backend.CheckIni: "Initializing", backend.CheckChecked: "No status change",
	backend.CheckHana: "Health analyze", backend.CheckSockErr: "Socket error", backend.CheckL4OK: "Layer4 check passed",
	backend.CheckL4Tout: "Layer4 timeout", backend.CheckL4Con: "Layer4 connection problem",
	backend.CheckL6OK: "Layer6 check passed", backend.CheckL6Tout: "Layer6 timeout",
	backend.CheckL6Rsp: "Layer6 invalid response", backend.CheckL7Tout: "Layer7 timeout",
	backend.CheckL7Rsp: "Layer7 invalid response", backend.CheckL7OKD: "Layer7 check passed",
	backend.CheckL7OKCD: "Layer7 check conditionally passed", backend.CheckL7Sts: "Layer7 wrong status",
}

// statsSnapshot takes the state of every proxy now.
func (e *Engine) statsSnapshot() *stats.Snapshot {
	st := e.g.stats
	if st == nil {
		return &stats.Snapshot{}
	}
	now := time.Now()
	snap := &stats.Snapshot{Info: e.statsInfo(now)}
	for _, sp := range st.proxies {
		p := stats.Proxy{Name: sp.name, ID: sp.id, Mode: sp.mode, Desc: sp.desc}
		if fe := sp.fe; fe != nil {
			f := &stats.FrontendStats{Traffic: st.fe[fe].traffic(now), Limit: fe.Maxconn, Stopped: e.stopping.Load()}
			f.Conns = uint64(fe.accepted.Load())
			fc := e.g.feCounters(fe)
			if fc != nil {
				f.Sessions = fc.sessions.Load()
				f.ConnRate, f.ConnRateMax = fc.connRate.read(now)
			}
			f.Cur = int(fe.conns.Load())
			f.Max = int(max(fe.maxConns.Load(), fe.conns.Load()))
			if fe.rateLimit != nil {
				f.RateLimit = fe.rateLimit.limit
			}
			if f.Limit == 0 {
				f.Limit = e.g.Maxconn
			}
			p.Frontend = f
			p.Listeners = e.listenerRows(fe)
		}
		if be := sp.be; be != nil {
			p.Servers, p.Backend = e.backendStats(sp, be, now)
		}
		snap.Proxies = append(snap.Proxies, p)
	}
	return snap
}

// h1Server tells whether requests go to srv over HTTP/1 (not HTTP/2, not
// FastCGI).
func (be *Backend) h1Server(srv *backend.Server) bool {
	return be.h2.get(srv) == nil && (be.fcgi == nil || !be.fcgi.servers[srv])
}

func (e *Engine) backendStats(sp statsProxy, be *Backend, now time.Time) ([]stats.ServerStats, *stats.BackendStats) {
	st := e.g.stats
	lb := be.LB
	status := lb.Snapshot()
	b := &stats.BackendStats{Traffic: st.be[be].traffic(now), Fullconn: lb.Fullconn, Algo: sp.algo, Cookie: sp.cookie, Downtime: -1}
	b.Sessions = uint64(be.streams.Load())
	b.ChkDown = uint64(lb.Downs())
	b.LBTotal = uint64(status.LBTotal)
	// The backend's own queue (px->queue), not its servers'.
	b.QueueCur, b.QueueMax = status.OwnQueue, status.MaxQueue
	var out []stats.ServerStats
	anyActive := false
	for _, s := range lb.ServerList() {
		if !s.Backup && usable(s) {
			anyActive = true
		}
	}
	last := time.Time{}
	var h1 stats.H1Counts
	for i, s := range lb.ServerList() {
		ss := stats.ServerStats{Traffic: st.srv[s].traffic(now), Name: s.Name, ID: s.ID, Maxconn: s.Maxconn,
			MaxQueue: s.MaxQueue, Weight: s.CurWeight(), UWeight: s.CurWeight(), Backup: s.Backup, Throttle: -1,
			Cookie: st.cookies[s], Addr: s.Address(), IdleLimit: -1}
		if o, ok := be.idle.opts[s]; ok {
			ss.IdleLimit = o.max
		}
		ss.SrvICur, ss.IdleCur, ss.SafeCur, ss.UsedCur, ss.NeedEst = be.idle.stats(s)
		if be.HTTP && be.h1Server(s) {
			// The h1 module's: a mux per connection attempted, a stream
			// per request it carried.
			h1.TotalConns += ss.Traffic.Connect
			h1.TotalStreams += ss.Traffic.Connect + ss.Traffic.Reuse
			h1.OpenConns += int64(ss.SrvICur + ss.UsedCur)
			h1.OpenStreams += int64(ss.UsedCur)
		}
		if isUnixServer(s) {
			// As HAProxy names a unix socket's address.
			ss.Addr = "unix"
		}
		if i < len(status.Servers) {
			v := &status.Servers[i]
			ss.Cur, ss.QueueCur, ss.Max, ss.QueueMax = v.Sessions, v.Queue, v.MaxSessions, v.MaxQueue
			ss.LBTotal = uint64(v.LBTotal)
		}
		ss.Sessions = uint64(s.Total())
		if s.LastChange().After(last) {
			last = s.LastChange()
		}
		ss.LastChange = int(now.Unix() - s.LastChange().Unix())
		if t := s.Tracked; t != nil {
			ss.Tracked = t.Backend.Name + "/" + t.Name
		}
		ref := s
		for ref.Tracked != nil {
			ref = ref.Tracked
		}
		var chk *stats.Check
		if ref.CheckState()&backend.CheckEnabled != 0 {
			chk = &stats.Check{Status: ref.CheckStatus().String(), Desc: checkDescs[ref.CheckStatus()],
				Rise: ref.Check.Rise, Fall: ref.Check.Fall, Health: ref.CheckHealth(), Code: -1, Duration: -1,
				InProgress: ref.CheckState()&backend.CheckInProgress != 0}
			if ref.CheckStatus() >= backend.CheckChecked {
				chk.Duration = 0
			}
			if ref.CheckStatus() >= backend.CheckL57Data {
				chk.Code = ref.CheckCode()
			}
			if ref.CheckStatus() == backend.CheckHana {
				// A health analysis failure has no duration.
				chk.Duration = -1
			}
			chk.Fails = ref.CheckFails()
			chk.Downs = uint64(s.Downs())
			chk.Last = ref.CheckDesc()
		}
		if s.CheckState()&backend.CheckEnabled != 0 && chk != nil {
			c := *chk
			c.Paused = s.CheckState()&backend.CheckPaused != 0
			ss.Check = &c
		}
		ss.Observed, ss.HanaFails = ref.Observe != backend.ObserveNone, s.HanaFails()
		state := stats.SrvRunning
		switch s.State() {
		case backend.Down, backend.Maint:
			state = stats.SrvStopped
		case backend.Stopping:
			state = stats.SrvStopping
		default:
			if s.InSlowstart() {
				state = stats.SrvStarting
			}
		}
		adm := s.Admin()
		maint := ""
		switch {
		case adm&backend.AdminResolveMaint != 0:
			maint = "MAINT (resolution)"
		case adm&backend.AdminInheritedMaint != 0:
			via := s.Tracked
			if via == nil {
				via = s
			}
			maint = "MAINT (via " + via.Backend.Name + "/" + via.Name + ")"
		case adm&(backend.AdminForcedMaint|backend.AdminConfigMaint) != 0:
			maint = "MAINT"
		}
		ss.InMaint = maint != ""
		ss.StableDown = state == stats.SrvStopped && (chk == nil || chk.Health == 0)
		ss.Status = stats.ServerStatus(state, maint, s.Drained() || s.CurWeight() == 0, chk)
		if s.Agent.Enabled {
			ss.Status = agentStatus(ss.Status, s, state, maint)
			if s.AgentState()&backend.CheckPaused == 0 {
				desc, dur := s.AgentReport()
				st := s.AgentStatus()
				ss.Agent = &stats.Check{Status: st.String(), Desc: checkDescs[st], Last: desc, Code: -1,
					Duration: int(dur / time.Millisecond), Rise: s.Agent.Rise, Fall: s.Agent.Fall, Health: s.AgentHealth(),
					InProgress: s.AgentState()&backend.CheckInProgress != 0}
				if st >= backend.CheckL57Data {
					ss.Agent.Code = 0
				}
			}
		}
		if state != stats.SrvStopped {
			b.NbUp++
			if usable(s) && anyActive != s.Backup {
				b.UWeight += s.CurWeight()
			}
		}
		b.NbSrv++
		if usable(s) {
			if s.Backup {
				b.Bck++
			} else {
				b.Act++
			}
			if anyActive != s.Backup {
				b.Weight += s.CurWeight()
			}
		}
		out = append(out, ss)
	}
	if !anyActive && !lb.AllBackups && b.Bck > 0 {
		// Without active servers only the first usable backup serves.
		for _, s := range lb.ServerList() {
			if s.Backup && usable(s) {
				b.Weight, b.UWeight = s.CurWeight(), s.CurWeight()
				break
			}
		}
	}
	b.Up = b.Weight > 0 || len(lb.Servers) == 0
	if len(lb.Servers) > 0 {
		b.Downtime = 0
	}
	b.LastChange = int(now.Sub(st.start).Seconds())
	b.Cur, b.Max = int(be.conns.Load()), int(max(be.maxConns.Load(), be.conns.Load()))
	if be.HTTP {
		h1.BytesIn, h1.BytesOut = b.Traffic.H1.BytesIn, b.Traffic.H1.BytesOut
		b.Traffic.H1 = h1
	}
	return out, b
}

// usable is srv_currently_usable: up (or stopping) with a weight, which
// drain mode takes away.
func usable(s *backend.Server) bool {
	st := s.State()
	return (st == backend.Up || st == backend.Stopping) && s.CurWeight() > 0 && !s.Drained()
}

// statsInfo is the process block of "show info" and the page.
func (e *Engine) statsInfo(now time.Time) stats.Info {
	st := e.g.stats
	in := stats.Info{Version: parser.HAProxyVersion, ReleaseDate: "2023/03/28", Node: st.node, Description: st.desc,
		PID: os.Getpid(), Nbthread: e.g.Threads, Uptime: now.Sub(st.start), Start: st.start,
		Maxconn: e.g.Maxconn, HardMaxconn: e.g.Maxconn, MemMaxMB: e.g.memMax, MaxSSLConns: e.g.maxSSLConns, ConnRateLimit: e.g.ConnRate, SessRateLimit: e.g.SessRate, SSLRateLimit: e.g.SSLRate,
		Stopping: e.stopping.Load(), IdlePct: 100}
	if in.Nbthread == 0 {
		in.Nbthread = goruntime.GOMAXPROCS(0)
	}
	// As HAProxy: the limit asked for (ulimit-n, else maxsock), not the
	// one the process has.
	in.UlimitN, in.Maxsock = e.g.fd.Nofile, e.g.fd.Maxsock
	// actconn: connections, an HTTP/2 one once, tunnels included.
	in.CurrConns = int(e.conns.Load())
	e.mu.Lock()
	in.Listeners = len(e.listeners)
	e.mu.Unlock()
	// HAProxy's totalconn counts sessions: the clients', the stats
	// sockets' and each health or agent check's; req_count the streams,
	// one per request, per TCP connection and per stats socket
	// connection. The stats sockets are listeners, their connections
	// jobs.
	var cliCur int64
	if c := e.g.cli; c != nil {
		c.mu.Lock()
		if c.cli != nil {
			var cliTotal int64
			cliCur, cliTotal, _, _ = c.cli.Conns()
			in.Listeners += len(c.cli.Addrs())
			in.CumConns += uint64(cliTotal)
			in.CumReq += uint64(cliTotal)
		}
		c.mu.Unlock()
	}
	in.Jobs = in.CurrConns + in.Listeners + int(cliCur)
	in.Tasks = in.Jobs
	in.CumConns += uint64(backend.CheckSessions())
	in.CumReq += uint64(e.uniq.Load())
	for _, fe := range e.g.Frontends {
		in.CumConns += uint64(fe.accepted.Load())
	}
	in.TotalBytesOut = e.g.bytesOut.Load()
	in.BytesOutRate = e.g.outRate.rate(now, in.TotalBytesOut)
	in.ConnRate, in.MaxConnRate = e.acceptRate.read(now)
	in.TotalSplicedBytesOut = e.splicedOut.Load()
	in.SessRate, in.MaxSessRate = in.ConnRate, in.MaxConnRate
	in.Maxpipes, in.PipesUsed, in.PipesFree = e.g.maxPipes, int(pipesUsed.Load()), int(pipesFree.Load())
	e.g.sslCounters().info(now, &in)
	return in
}

// Snapshot gives the CLI's "show stat" and "show info" their data.
func (s cliSource) Snapshot() *stats.Snapshot { return s.e.statsSnapshot() }

var _ stats.SnapshotSource = cliSource{}

// statsActor applies the page's admin actions to the engine's servers.
type statsActor struct{ e *Engine }

// BackendName resolves "#id" or a name to a backend's name.
func (a statsActor) BackendName(b string) string {
	if id, ok := strings.CutPrefix(b, "#"); ok {
		n, err := strconv.Atoi(id)
		if err != nil {
			return ""
		}
		for _, p := range a.e.g.stats.proxies {
			if p.id == n && p.be != nil {
				return p.name
			}
		}
		return ""
	}
	if a.e.g.byName[b] != nil {
		return b
	}
	return ""
}

// Act applies one action to one server, as stats_process_http_post
// does; altered is false for an action with nothing to do (a check or an
// agent the server does not have, a tracking server's health, a flag
// already in place for the older actions).
func (a statsActor) Act(bname, sname, action string) (found, altered bool) {
	be := a.e.g.byName[bname]
	if be == nil {
		return false, false
	}
	const web = "changed from Web interface"
	for _, srv := range be.LB.ServerList() {
		if srv.Name != sname {
			continue
		}
		var chs []backend.AdminChange
		switch action {
		case "ready": // srv_adm_set_ready
			chs = append(srv.ClearDrain(), srv.Enable()...)
		case "drain":
			chs = srv.SetDrain()
		case "maint": // srv_adm_set_maint
			chs = append(srv.Disable(), srv.ClearDrain()...)
		case "disable", "enable", "stop", "start":
			// The older actions set or clear one flag, when it changes.
			maint, drain := srv.Admin()&backend.AdminForcedMaint != 0, srv.Drained()
			switch {
			case action == "disable" && !maint:
				chs = srv.DisableFor("'disable' on stats page")
			case action == "enable" && maint:
				chs = srv.Enable()
			case action == "stop" && !drain:
				chs = srv.ForceDrain("'stop' on stats page")
			case action == "start" && drain:
				chs = srv.ClearDrain()
			default:
				return true, false
			}
		case "dhlth", "ehlth":
			if !srv.Check.Enabled {
				return true, false
			}
			srv.SetCheckRunning(action == "ehlth")
		case "dagent", "eagent":
			if !srv.Agent.Enabled {
				return true, false
			}
			srv.SetAgentRunning(action == "eagent")
		case "hrunn", "hnolb", "hdown":
			if srv.Tracked != nil {
				return true, false
			}
			to := map[string]backend.State{"hrunn": backend.Up, "hnolb": backend.Stopping, "hdown": backend.Down}[action]
			srv.ForceState(to, web)
		case "arunn", "adown":
			if srv.AgentState()&backend.CheckEnabled == 0 {
				return true, false
			}
			srv.ForceAgentState(action == "arunn", web)
		case "shutdown":
			a.e.shutdownSessions(srv)
		default:
			return true, false
		}
		for _, ch := range chs {
			a.e.adminChange(ch)
		}
		return true, true
	}
	return false, false
}

// statsAnswer answers a request that targets the stats page of proxy
// px: ok is false when px serves no page at that target. txn evaluates
// the "stats admin" rules; body returns the request body of a POST
// (false when it cannot be read); errorPage is the proxy's 401
// errorfile, nil for HAProxy's page.
func (e *Engine) statsAnswer(px, method, target, authorization string, http11 bool, txn *acl.Txn,
	body func() ([]byte, bool), errorPage []byte) (resp stats.Response, ok bool) {
	st := e.g.stats
	if st == nil {
		return resp, false
	}
	pg := st.pages[px]
	if pg == nil || !pg.page.Matches(method, target) {
		return resp, false
	}
	for _, sp := range st.proxies {
		if sp.name == px && sp.be != nil {
			// The page's stream is set to the proxy's backend.
			st.be[sp.be].touch()
		}
	}
	if !pg.page.Authorized(authorization) {
		return stats.Response{Head: string(pg.page.Unauthorized(errorPage, txn.ProxyAuth))}, true
	}
	v := pg.page.View(target)
	v.Self = px
	for _, c := range pg.admin {
		if c.Eval(txn) {
			v.Admin = true
			break
		}
	}
	if method == "POST" {
		code := "DENY"
		if v.Admin {
			code = "EXCD"
			if b, ok := body(); ok {
				code = stats.Post(string(b), statsActor{e})
			}
		}
		return pg.page.Redirect(code, &v), true
	}
	return pg.page.Render(e.statsSnapshot(), &v, stats.Options{}, method == "HEAD", http11), true
}

// statsRequest answers the request whose head is head when it targets
// the stats page of proxy px (HAProxy checks the frontend, then the
// backend the switching rules chose): handled is false otherwise. keep
// says whether the connection may carry another request, status is the
// answer's status for the log. readBody must return the whole request
// body of a POST (false when it cannot).
func (s *session) statsRequest(px string, head []byte, readBody func() ([]byte, bool)) (handled, keep bool, status int) {
	req := &s.req
	method := string(req.Method.Of(head))
	target := string(req.URI.Of(head))
	var authz string
	authName := "authorization"
	if s.txn.ProxyAuth {
		authName = "proxy-authorization"
	}
	for _, h := range req.Headers {
		if h1.EqualFold(h.Name.Of(head), authName) {
			authz = string(h.Value.Of(head))
			break
		}
	}
	var errPage []byte
	if es := s.errors(); es != nil {
		errPage = es.streams[401]
		if s.txn.ProxyAuth {
			errPage = es.streams[407]
		}
	}
	if pg := s.e.g.stats.pages[px]; pg != nil && len(pg.rules) > 0 && pg.page.Matches(method, target) {
		// The page's own rules come first: deny, auth and the answering
		// actions answer for it; allow, or no match, lets it answer.
		h := head
		if done, keep := s.requestRules(pg.rules, &h, false); done {
			// HAProxy logs these answers with status 400, whatever
			// they sent.
			return true, keep, 400
		}
	}
	resp, ok := s.e.statsAnswer(px, method, target, authz, req.Minor == 1, &s.txn, readBody, errPage)
	if !ok {
		return false, false, 0
	}
	status, _ = strconv.Atoi(resp.Head[len("HTTP/1.1 "):len("HTTP/1.1 200")])
	if px == s.fe.Name {
		s.e.g.feCounters(s.fe).addIntercepted()
	}
	// The page is the proxy's own answer: http-after-response applies.
	out := s.fe.caseCli.adjusted(s.afterAnswer(resp.Bytes()))
	s.e.g.feCounters(s.fe).addBytes(0, int64(len(out)))
	if err := s.cl.send(out); err != nil {
		return true, false, status
	}
	return true, !resp.Close && s.clientKeepAlive() && !s.e.stopping.Load(), status
}

// serveStats answers the request when it targets the stats page of
// proxy px (be, when it is the backend the rules chose): done is then
// set, and keep says whether the connection goes on.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) serveStats(px string, be *Backend, head []byte) (done, keep bool) {
	st := s.e.g.stats
	if st == nil || st.pages[px] == nil {
		return false, false
	}
	handled, keep, status := s.statsRequest(px, head, s.readWholeBody)
	if !handled {
		return false, false
	}
	s.txStatus = status
	if s.txFlags == 0 {
		// The page's answer is the proxy's own (SF_ERR_LOCAL), once
		// the request was read.
		s.txFlags = logging.SFErrLocal | logging.SFFinstR
	}
	if be != nil {
		s.assignBe(be)
	}
	s.logApplet = "<STATS>"
	return true, keep
}

// readWholeBody reads the request's Content-Length body whole, when it
// fits the buffer; the stats page's POST is a short form.
func (s *session) readWholeBody() ([]byte, bool) {
	req, cl := &s.req, &s.cl
	if req.Body != h1.BodyLength || req.Length > int64(len(cl.buf)) {
		return nil, false
	}
	n := int(req.Length)
	for cl.w-cl.r < n {
		cl.compact()
		if cl.w-cl.r >= n {
			break
		}
		if err := cl.fill(); err != nil {
			return nil, false
		}
	}
	b := cl.buf[cl.r : cl.r+n]
	cl.r += n
	s.bodyDone = true
	return b, true
}

// agentStatus is the status of a server with an agent check
// (stats_fill_sv_stats_computestate): an agent's drain or down is named.
func agentStatus(status string, s *backend.Server, state int, maint string) string {
	switch {
	case maint != "":
	case (state == stats.SrvRunning || state == stats.SrvStarting) && s.Drained():
		return "DRAIN (agent)"
	case state == stats.SrvStopped && s.AgentHealth() == 0:
		return "DOWN (agent)"
	}
	return status
}
