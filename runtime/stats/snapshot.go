package stats

import (
	"fmt"
	"time"
)

// Snapshot is the state the stats page, "show stat" and "show info"
// report, taken at one moment: rendering it is pure.
type Snapshot struct {
	Info    Info
	Proxies []Proxy
}

// Info is what "show info" and the page's process block report.
type Info struct {
	Version, ReleaseDate string
	Node, Description    string
	PID, Nbthread        int
	Uptime               time.Duration
	Start                time.Time
	UlimitN, Maxsock     int
	Maxconn, HardMaxconn int
	// MemMaxMB is -m; MaxSSLConns the SSL connections derived from it.
	MemMaxMB, MaxSSLConns int
	CurrConns             int
	CumConns, CumReq      uint64
	ConnRate, MaxConnRate,
	SessRate, MaxSessRate int
	ConnRateLimit, SessRateLimit int
	// SSLRateLimit is maxsslrate.
	SSLRateLimit                int
	Tasks, RunQueue, IdlePct    int
	Stopping                    bool
	Jobs, Listeners             int
	TotalBytesOut, BytesOutRate uint64
	// TotalSplicedBytesOut counts the bytes sent through kernel pipes.
	TotalSplicedBytesOut uint64
	// Maxpipes bounds the splicing pipes; PipesUsed are in use and
	// PipesFree kept empty for reuse.
	Maxpipes, PipesUsed, PipesFree int
	// The TLS endpoints open and made (clients' and servers'), the TLS
	// connections accepted per second, the full handshakes per second
	// with clients and with servers, and the share of client handshakes
	// that resumed.
	SSLConns                        int
	CumSSLConns                     uint64
	SSLRate, MaxSSLRate             int
	SSLFEKeyRate, SSLFEMaxKeyRate   int
	SSLBEKeyRate, SSLBEMaxKeyRate   int
	SSLReusePct                     int
	SSLCacheLookups, SSLCacheMisses uint64
}

// Proxy is one frontend, backend or listen section, with its lines.
type Proxy struct {
	Name string
	ID   int
	// Mode is "http" or "tcp"; Desc the proxy's description.
	Mode, Desc string
	// Frontend is nil for a backend, Backend nil for a frontend.
	Frontend *FrontendStats
	// Listeners are the frontend's bind addresses with option
	// socket-stats, in order.
	Listeners []ListenerStats
	Servers   []ServerStats
	Backend   *BackendStats
}

// ListenerStats is a listener's line (stats_fill_li_stats).
type ListenerStats struct {
	// Name is the bind's "name", else "sock-<id>"; ID its id.
	Name string
	ID   int
	// Cur, Max and Limit are its connections now, at most, allowed.
	Cur, Max, Limit   int
	Conns             uint64
	BytesIn, BytesOut uint64
	DeniedReq, DeniedResp, FailedReq,
	DeniedConn, DeniedSess, FailedRewrites, Internal uint64
	// Status is OPEN, FULL or STOP; Addr the address ("unix" for a unix
	// socket).
	Status, Addr string
	SSL          SSLCounts
}

// H1Counts are the h1 module's connections, streams and bytes.
type H1Counts struct {
	OpenConns, OpenStreams                      int64
	TotalConns, TotalStreams, BytesIn, BytesOut uint64
}

// H2Counts are the h2 module's, in the order of its fields.
type H2Counts struct {
	HeadersRcvd, DataRcvd, SettingsRcvd, RstStreamRcvd, GoawayRcvd uint64
	ConnProtoErr, StrmProtoErr, RstStreamResp, GoawayResp          uint64
	OpenConns, OpenStreams                                         int64
	TotalConns, TotalStreams                                       uint64
}

// SSLCounts are the ssl module's counters: full handshakes, resumed
// ones and failed ones.
type SSLCounts struct {
	Sess, Reused, Failed uint64
}

// Cap is proxy_cap_str: what the page's legend says of the proxy.
func (p *Proxy) Cap() string {
	switch {
	case p.Frontend != nil && p.Backend != nil:
		return "proxy"
	case p.Frontend != nil:
		return "frontend"
	case p.Backend != nil:
		return "backend"
	}
	return "none"
}

// Traffic holds the counters the request path keeps, the same for
// frontends, backends and servers (some lines show only some).
type Traffic struct {
	BytesIn, BytesOut       uint64
	DeniedReq, DeniedResp   uint64
	FailedReq               uint64
	FailedConns, FailedResp uint64
	Retries, Redispatches   uint64
	// Resp counts responses by class: [0] other, [1] 1xx ... [5] 5xx.
	Resp                     [6]uint64
	Requests                 uint64
	CliAborts, SrvAborts     uint64
	Intercepted              uint64
	FailedRewrites, Internal uint64
	Connect, Reuse           uint64
	// SplicedIn and SplicedOut are the bytes received and sent
	// through kernel pipes (h1 module).
	SplicedIn, SplicedOut uint64
	// SSL is the ssl module's handshakes; H1 the h1 module's counts of
	// a frontend's client connections.
	SSL SSLCounts
	H1  H1Counts
	H2  H2Counts
	// Rate, RateMax: sessions (frontend) or requests (backend,
	// server) over the last second; ReqRate, ReqRateMax requests.
	Rate, RateMax, ReqRate, ReqRateMax int
	// LastSess is the age in seconds of the last session, -1 for none.
	LastSess int
	// QTime, CTime, RTime, TTime are averages in ms over the last 1024
	// requests, the Max ones the highest seen.
	QTime, CTime, RTime, TTime             int
	QTimeMax, CTimeMax, RTimeMax, TTimeMax int
}

// FrontendStats is a FRONTEND line.
type FrontendStats struct {
	Traffic
	Stopped bool
	// Cur, Max and Limit are the current, highest and maximum sessions.
	Cur, Max, Limit int
	// Sessions and Conns are the cumulated sessions and connections.
	Sessions, Conns                  uint64
	DeniedConn, DeniedSess           uint64
	RateLimit, ConnRate, ConnRateMax int
}

// BackendStats is a BACKEND line.
type BackendStats struct {
	Traffic
	QueueCur, QueueMax int
	Cur, Max, Fullconn int
	// Sessions is cum_conn, LBTotal the servers chosen by balancing.
	Sessions, LBTotal uint64
	// Weight is the effective weight of the usable servers, UWeight
	// their user weight; Act and Bck count usable active and backup
	// servers; Up says the backend can serve.
	Weight, UWeight, Act, Bck int
	Up                        bool
	// NbUp and NbSrv count the servers not stopped and all of them.
	NbUp, NbSrv int
	ChkDown     uint64
	LastChange  int
	// Downtime is in seconds, -1 without servers.
	Downtime int
	Algo     string
	Cookie   string
}

// ServerStats is a server line.
type ServerStats struct {
	Traffic
	Name string
	ID   int
	// Status is the state column: "UP", "DOWN", "MAINT", "no check",
	// "UP 1/3"... (ServerStatus computes it).
	Status             string
	QueueCur, QueueMax int
	Cur, Max           int
	// Maxconn and MaxQueue are 0 when unlimited.
	Maxconn, MaxQueue int
	Sessions, LBTotal uint64
	Weight, UWeight   int
	Backup            bool
	// Check and Agent are nil when the server has none (or it is
	// paused).
	Check, Agent *Check
	LastChange   int
	// Throttle is the slowstart ratio in percent, -1 when not starting.
	Throttle int
	// Tracked is "backend/server" of the tracked server, "" for none.
	Tracked string
	Addr    string
	Cookie  string
	// Connection pools.
	SrvICur, IdleCur, SafeCur, UsedCur, NeedEst int
	// IdleLimit is pool-max-conn, -1 without.
	IdleLimit int
	// InMaint is set in maintenance; StableDown when stopped with no
	// check to bring it back (the ";up" option hides both).
	InMaint, StableDown bool
	// Observed says the server has "observe"; HanaFails then counts its
	// health analysis failures.
	Observed  bool
	HanaFails uint64
}

// Check is a server's health check or agent check.
type Check struct {
	// Status is the short status (L4OK, L4CON...), Desc its
	// description, Last the last report's detail.
	Status, Desc, Last string
	InProgress         bool
	// Paused hides all but the counters, as in maintenance.
	Paused bool
	// Code is the L7 status code, -1 for none; Duration the last check's
	// in ms, -1 for none.
	Code, Duration     int
	Rise, Fall, Health int
	Fails, Downs       uint64
	Downtime           int
}

// Server states for ServerStatus (srv_stats_state).
const (
	SrvRunning = iota
	SrvStarting
	SrvStopping
	SrvStopped
)

// ServerStatus is stats_fill_sv_stats_computestate with the status
// text: state is the server's SRV_ST_*, maint and drain its admin
// state ("MAINT", "MAINT (via b/s)", "MAINT (resolution)" or ""), chk
// the check of the server at the end of its tracking chain (nil
// without one).
func ServerStatus(state int, maint string, drain bool, chk *Check) string {
	if maint != "" {
		return maint
	}
	enabled := chk != nil
	var rise, fall, health int
	if chk != nil {
		rise, fall, health = chk.Rise, chk.Fall, chk.Health
	}
	switch state {
	case SrvRunning, SrvStarting:
		st := "UP"
		going := enabled && health < rise+fall-1
		if drain {
			if going {
				st = "DRAIN %d/%d"
			} else {
				st = "DRAIN"
			}
		} else if going {
			st = "UP %d/%d"
		}
		if st == "UP" && !enabled {
			return "no check"
		}
		if st == "UP" || st == "DRAIN" {
			return st
		}
		return fmt.Sprintf(st, health-rise+1, fall)
	case SrvStopping:
		if !enabled || health == rise+fall-1 {
			return "NOLB"
		}
		return fmt.Sprintf("NOLB %d/%d", health-rise+1, fall)
	}
	if enabled && health == 0 || !enabled {
		return "DOWN"
	}
	return fmt.Sprintf("DOWN %d/%d", health, rise)
}

const (
	tagName = "KNS"
	tagKey  = "KGP"
	tagKeyS = "KGS"
	tagMode = "CGS"
	tagCnt  = "MCP"
	tagGau  = "MGP"
	tagMax  = "MMP"
	tagRate = "MRP"
	tagLim  = "CLP"
	tagAvg  = "MaP"
	tagAge  = "MAP"
	tagOut  = "MOP"
	tagDur  = "MDP"
	tagCfg  = "CGS"
	tagStat = "SGP"
	tagCfgN = "CNS"
)

func newRow(p *Proxy, svname string, typ, sid int) Row {
	r := make(Row, numFields)
	r[fPxname] = fstr(tagName, p.Name)
	r[fSvname] = fstr(tagName, svname)
	r[fMode] = fstr(tagMode, p.Mode)
	r[fPid] = fu32(tagKey, 1)
	r[fIid] = fu32(tagKeyS, p.ID)
	r[fSid] = fu32(tagKeyS, sid)
	r[fType] = fu32(tagCfg, typ)
	return r
}

// httpCounters sets the fields only HTTP proxies report.
func (r Row) httpCounters(p *Proxy, t *Traffic, fe bool) {
	if p.Mode != "http" {
		return
	}
	for i, f := range []int{fHrspOther, fHrsp1xx, fHrsp2xx, fHrsp3xx, fHrsp4xx, fHrsp5xx} {
		r[f] = fu64(tagCnt, t.Resp[i])
	}
	if fe {
		r[fIntercepted] = fu64(tagCnt, t.Intercepted)
	}
}

// modules fills the ssl, h2 and h1 module columns: the handshakes on
// every line, the h2 and h1 counts of t on a frontend or backend line.
func (r Row) modules(all bool, ssl SSLCounts, t *Traffic) {
	for i := sslFirst; i < modEnd; i++ {
		if i >= h2First && !all {
			break
		}
		tags := tagCnt
		if moduleGauges[statNames[i]] {
			tags = tagGau
		}
		r[i] = fu64(tags, 0)
	}
	r[sslFirst] = fu64(tagCnt, ssl.Sess)
	r[sslFirst+1] = fu64(tagCnt, ssl.Reused)
	r[sslFirst+2] = fu64(tagCnt, ssl.Failed)
	if all && t != nil {
		h2 := &t.H2
		for i, v := range []uint64{h2.HeadersRcvd, h2.DataRcvd, h2.SettingsRcvd, h2.RstStreamRcvd, h2.GoawayRcvd,
			h2.ConnProtoErr, h2.StrmProtoErr, h2.RstStreamResp, h2.GoawayResp,
			uint64(max(h2.OpenConns, 0)), uint64(max(h2.OpenStreams, 0)), h2.TotalConns, h2.TotalStreams} {
			r[h2First+i].U = v
		}
		h := &t.H1
		r[h1First] = fu64(tagGau, uint64(max(h.OpenConns, 0)))
		r[h1First+1] = fu64(tagGau, uint64(max(h.OpenStreams, 0)))
		r[h1First+2] = fu64(tagCnt, h.TotalConns)
		r[h1First+3] = fu64(tagCnt, h.TotalStreams)
		r[h1First+4] = fu64(tagCnt, h.BytesIn)
		r[h1First+5] = fu64(tagCnt, h.BytesOut)
		r[h1SplicedIn] = fu64(tagCnt, t.SplicedIn)
		r[h1SplicedOut] = fu64(tagCnt, t.SplicedOut)
	}
}

// serverSide sets the counters servers and backends share.
func (r Row) serverSide(t *Traffic) {
	r[fBin] = fu64(tagCnt, t.BytesIn)
	r[fBout] = fu64(tagCnt, t.BytesOut)
	r[fDresp] = fu64(tagCnt, t.DeniedResp)
	r[fEcon] = fu64(tagCnt, t.FailedConns)
	r[fEresp] = fu64(tagCnt, t.FailedResp)
	r[fWretr] = fu64(tagCnt, t.Retries)
	r[fWredis] = fu64(tagCnt, t.Redispatches)
	r[fWrew] = fu64(tagCnt, t.FailedRewrites)
	r[fEint] = fu64(tagCnt, t.Internal)
	r[fConnect] = fu64(tagCnt, t.Connect)
	r[fReuse] = fu64(tagCnt, t.Reuse)
	r[fCliAbrt] = fu64(tagCnt, t.CliAborts)
	r[fSrvAbrt] = fu64(tagCnt, t.SrvAborts)
	r[fLastsess] = fs32(tagAge, t.LastSess)
}

func (r Row) times(t *Traffic, http bool) {
	r[fQtime] = fu32(tagAvg, t.QTime)
	r[fCtime] = fu32(tagAvg, t.CTime)
	r[fRtime] = fu32(tagAvg, t.RTime)
	r[fTtime] = fu32(tagAvg, t.TTime)
	r[fQtimeMax] = fu32(tagMax, t.QTimeMax)
	r[fCtimeMax] = fu32(tagMax, t.CTimeMax)
	r[fRtimeMax] = fu32(tagMax, t.RTimeMax)
	r[fTtimeMax] = fu32(tagMax, t.TTimeMax)
	if http {
		r[fCacheLookups] = fu64(tagCnt, 0)
		r[fCacheHits] = fu64(tagCnt, 0)
	}
}

// frontendRow is stats_fill_fe_stats.
func frontendRow(p *Proxy) Row {
	f := p.Frontend
	r := newRow(p, "FRONTEND", TypeFrontend, 0)
	r[fScur] = fu32(tagGau, f.Cur)
	r[fSmax] = fu32(tagMax, f.Max)
	r[fSlim] = fu32(tagLim, f.Limit)
	r[fStot] = fu64(tagCnt, f.Sessions)
	r[fBin] = fu64(tagCnt, f.BytesIn)
	r[fBout] = fu64(tagCnt, f.BytesOut)
	r[fDreq] = fu64(tagCnt, f.DeniedReq)
	r[fDresp] = fu64(tagCnt, f.DeniedResp)
	r[fEreq] = fu64(tagCnt, f.FailedReq)
	r[fDcon] = fu64(tagCnt, f.DeniedConn)
	r[fDses] = fu64(tagCnt, f.DeniedSess)
	st := "OPEN"
	if f.Stopped {
		st = "STOP"
	}
	r[fStatus] = fstr(tagStat, st)
	r[fRate] = fu32(tagRate, f.Rate)
	r[fRateLim] = fu32(tagLim, f.RateLimit)
	r[fRateMax] = fu32(tagMax, f.RateMax)
	r[fWrew] = fu64(tagCnt, f.FailedRewrites)
	r[fEint] = fu64(tagCnt, f.Internal)
	r.httpCounters(p, &f.Traffic, true)
	if p.Mode == "http" {
		r[fCacheLookups] = fu64(tagCnt, 0)
		r[fCacheHits] = fu64(tagCnt, 0)
	}
	r[fReqRate] = fu32(tagRate, f.ReqRate)
	r[fReqRateMax] = fu32(tagMax, f.ReqRateMax)
	r[fReqTot] = fu64(tagCnt, f.Requests)
	for _, i := range []int{fCompIn, fCompOut, fCompByp, fCompRsp} {
		r[i] = fu64(tagCnt, 0)
	}
	r[fConnRate] = fu32(tagRate, f.ConnRate)
	r[fConnRateMax] = fu32(tagMax, f.ConnRateMax)
	r[fConnTot] = fu64(tagCnt, f.Conns)
	r.modules(true, f.SSL, &f.Traffic)
	return r
}

// listenerRow is stats_fill_li_stats; legends adds the address.
func listenerRow(p *Proxy, l *ListenerStats, legends bool) Row {
	r := newRow(p, l.Name, 3, l.ID)
	r[fScur] = fu32(tagGau, l.Cur)
	r[fSmax] = fu32(tagMax, l.Max)
	r[fSlim] = fu32(tagLim, l.Limit)
	r[fStot] = fu64(tagCnt, l.Conns)
	r[fBin] = fu64(tagCnt, l.BytesIn)
	r[fBout] = fu64(tagCnt, l.BytesOut)
	r[fDreq] = fu64(tagCnt, l.DeniedReq)
	r[fDresp] = fu64(tagCnt, l.DeniedResp)
	r[fEreq] = fu64(tagCnt, l.FailedReq)
	r[fDcon] = fu64(tagCnt, l.DeniedConn)
	r[fDses] = fu64(tagCnt, l.DeniedSess)
	r[fStatus] = fstr(tagStat, l.Status)
	r[fWrew] = fu64(tagCnt, l.FailedRewrites)
	r[fEint] = fu64(tagCnt, l.Internal)
	if legends {
		r[fAddr] = fstr(tagCfg, l.Addr)
	}
	// Listeners count the ssl module only.
	r.modules(false, l.SSL, nil)
	return r
}

// serverRow is stats_fill_sv_stats; legends adds the address and cookie.
func serverRow(p *Proxy, s *ServerStats, legends bool) Row {
	r := newRow(p, s.Name, TypeServer, s.ID)
	r[fQcur] = fu32(tagGau, s.QueueCur)
	r[fQmax] = fu32(tagMax, s.QueueMax)
	r[fScur] = fu32(tagGau, s.Cur)
	r[fSmax] = fu32(tagMax, s.Max)
	if s.Maxconn > 0 {
		r[fSlim] = fu32(tagLim, s.Maxconn)
	}
	r[fSrvIcur] = fu32(tagGau, s.SrvICur)
	if s.IdleLimit >= 0 {
		r[fSrvIlim] = fu32(tagLim, s.IdleLimit)
	}
	r[fStot] = fu64(tagCnt, s.Sessions)
	r.serverSide(&s.Traffic)
	r[fIdleConnCur] = fu32(tagGau, s.IdleCur)
	r[fSafeConnCur] = fu32(tagGau, s.SafeCur)
	r[fUsedConnCur] = fu32(tagGau, s.UsedCur)
	r[fNeedConnEst] = fu32(tagGau, s.NeedEst)
	r[fStatus] = fstr(tagStat, s.Status)
	r[fLastchg] = fu32(tagAge, s.LastChange)
	r[fWeight] = fu32(tagAvg, s.Weight)
	r[fUweight] = fu32(tagAvg, s.UWeight)
	act, bck := 1, 0
	if s.Backup {
		act, bck = 0, 1
	}
	r[fAct] = fu32(tagStat, act)
	r[fBck] = fu32(tagStat, bck)
	if s.Observed {
		r[fHanafail] = fu64(tagCnt, s.HanaFails)
	}
	if c := s.Check; c != nil {
		r[fChkfail] = fu64(tagCnt, c.Fails)
		r[fChkdown] = fu64(tagCnt, c.Downs)
		r[fDowntime] = fu32("MCP", c.Downtime)
	}
	if c := s.Check; c != nil && !c.Paused {
		st := c.Status
		if c.InProgress {
			st = "* " + st
		}
		r[fCheckStatus] = fstr(tagOut, st)
		if c.Code >= 0 {
			r[fCheckCode] = fu32(tagOut, c.Code)
		}
		if c.Duration >= 0 {
			r[fCheckDuration] = fu64(tagDur, uint64(c.Duration))
		}
		r[fCheckDesc] = fstr(tagOut, c.Desc)
		r[fLastChk] = fstr(tagOut, c.Last)
		r[fCheckRise] = fu32(tagCfg, c.Rise)
		r[fCheckFall] = fu32(tagCfg, c.Fall)
		r[fCheckHealth] = fu32(tagCfg, c.Health)
	}
	if a := s.Agent; a != nil {
		st := a.Status
		if a.InProgress {
			st = "* " + st
		}
		r[fAgentStatus] = fstr(tagOut, st)
		if a.Code >= 0 {
			r[fAgentCode] = fu32(tagOut, a.Code)
		}
		r[fAgentDuration] = fu64(tagDur, uint64(max(a.Duration, 0)))
		r[fAgentDesc] = fstr(tagOut, a.Desc)
		r[fLastAgt] = fstr(tagOut, a.Last)
		r[fAgentRise] = fu32(tagCfg, a.Rise)
		r[fAgentFall] = fu32(tagCfg, a.Fall)
		r[fAgentHealth] = fu32(tagCfg, a.Health)
	}
	if s.MaxQueue > 0 {
		r[fQlimit] = fu32(tagCfg, s.MaxQueue)
	}
	if s.Throttle >= 0 {
		r[fThrottle] = fu32(tagAvg, s.Throttle)
	}
	r[fLbtot] = fu64(tagCnt, s.LBTotal)
	if s.Tracked != "" {
		r[fTracked] = fstr(tagCfgN, s.Tracked)
	}
	r[fRate] = fu32(tagRate, s.Rate)
	r[fRateMax] = fu32(tagMax, s.RateMax)
	if p.Mode == "http" {
		r[fReqTot] = fu64(tagCnt, s.Requests)
	}
	r.httpCounters(p, &s.Traffic, false)
	r[fCliAbrt] = fu64(tagCnt, s.CliAborts)
	r[fSrvAbrt] = fu64(tagCnt, s.SrvAborts)
	r[fLastsess] = fs32(tagAge, s.LastSess)
	r.times(&s.Traffic, false)
	if legends && s.Addr != "" {
		r[fAddr] = fstr(tagCfg, s.Addr)
	}
	if legends && s.Cookie != "" {
		r[fCookie] = fstr(tagCfgN, s.Cookie)
	}
	r.modules(false, s.SSL, nil)
	return r
}

// backendRow is stats_fill_be_stats; legends adds the algorithm and
// cookie, counts ("UP (n/m)") the hide options.
func backendRow(p *Proxy, legends, counts bool) Row {
	b := p.Backend
	r := newRow(p, "BACKEND", TypeBackend, 0)
	r[fQcur] = fu32(tagGau, b.QueueCur)
	r[fQmax] = fu32(tagMax, b.QueueMax)
	r[fScur] = fu32(tagGau, b.Cur)
	r[fSmax] = fu32(tagMax, b.Max)
	r[fSlim] = fu32(tagLim, b.Fullconn)
	r[fStot] = fu64(tagCnt, b.Sessions)
	r[fDreq] = fu64(tagCnt, b.DeniedReq)
	r.serverSide(&b.Traffic)
	st := "DOWN"
	if b.Up {
		st = "UP"
	}
	if counts {
		st += fmt.Sprintf(" (%d/%d)", b.NbUp, b.NbSrv)
	}
	r[fStatus] = fstr(tagStat, st)
	r[fAggServerStatus] = fu32(tagGau, 0)
	r[fAggServerCheckStatus] = fu32(tagGau, 0)
	r[fAggCheckStatus] = fu32(tagGau, 0)
	r[fWeight] = fu32(tagAvg, b.Weight)
	r[fUweight] = fu32(tagAvg, b.UWeight)
	r[fAct] = fu32(tagGau, b.Act)
	r[fBck] = fu32(tagGau, b.Bck)
	r[fChkdown] = fu64(tagCnt, b.ChkDown)
	r[fLastchg] = fu32(tagAge, b.LastChange)
	if b.Downtime >= 0 {
		r[fDowntime] = fu32(tagCnt, b.Downtime)
	}
	r[fLbtot] = fu64(tagCnt, b.LBTotal)
	r[fRate] = fu32(tagGau, b.Rate)
	r[fRateMax] = fu32(tagGau, b.RateMax)
	if legends && b.Cookie != "" {
		r[fCookie] = fstr(tagCfgN, b.Cookie)
	}
	if legends {
		r[fAlgo] = fstr(tagCfg, b.Algo)
	}
	if p.Mode == "http" {
		r[fReqTot] = fu64(tagCnt, b.Requests)
	}
	r.httpCounters(p, &b.Traffic, false)
	r[fCliAbrt] = fu64(tagCnt, b.CliAborts)
	r[fSrvAbrt] = fu64(tagCnt, b.SrvAborts)
	for _, i := range []int{fCompIn, fCompOut, fCompByp, fCompRsp} {
		r[i] = fu64(tagCnt, 0)
	}
	r[fLastsess] = fs32(tagAge, b.LastSess)
	r.times(&b.Traffic, p.Mode == "http")
	r.modules(true, b.SSL, &b.Traffic)
	return r
}
