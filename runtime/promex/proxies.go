package promex

import (
	"strconv"
	"strings"

	"github.com/gohap/gohap/runtime/stats"
)

type kind int

const (
	kindFrontend kind = iota
	kindBackend
	kindServer
	kindListener
)

// listenerStates are li_status_st, in order.
var listenerStates = []string{"WAITING", "OPEN", "FULL"}

// column is the position of each "show stat" column in a stats.Row.
var column = func() map[string]int {
	m := map[string]int{}
	names := strings.Split(strings.TrimSpace(strings.TrimPrefix(stats.CSVHeader(), "# ")), ",")
	for i, n := range names {
		if n == "-" {
			// The module columns follow; the exporter reads none.
			break
		}
		m[n] = i
	}
	return m
}()

// httpOnly are the columns the exporter reports only for HTTP proxies.
var httpOnly = map[string]bool{"req_rate_max": true, "req_tot": true, "intercepted": true, "cache_lookups": true,
	"cache_hits": true, "comp_in": true, "comp_out": true, "comp_byp": true, "comp_rsp": true, "hrsp_1xx": true}

// secondColumns are reported in seconds, from their milliseconds.
var secondColumns = map[string]bool{"qtime": true, "ctime": true, "rtime": true, "ttime": true,
	"qtime_max": true, "ctime_max": true, "rtime_max": true, "ttime_max": true}

// hrspCodes label the http_responses_total lines, hrsp_1xx to
// hrsp_other.
var hrspCodes = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}

var (
	proxyStates  = []string{"DOWN", "UP"}
	serverStates = []string{"DOWN", "UP", "MAINT", "DRAIN", "NOLB"}
	// checkStates are the check statuses whose result is at least
	// "failed", in HCHK_STATUS_* order, by get_check_status_info name.
	checkStates = []string{"HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP",
		"L7TOUT", "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK"}
	// codeStates carry layer 5-7 data: their check code is reported.
	codeStates = map[string]bool{"L7OK": true, "L7OKC": true, "L7STS": true, "PROCERR": true, "PROCTOUT": true, "PROCOK": true}
)

// proxyRows is one proxy with its lines.
type proxyRows struct {
	p         *stats.Proxy
	fe, be    stats.Row
	servers   []stats.Row
	listeners []stats.Row
	http      bool
}

func rowsOf(snap *stats.Snapshot) []proxyRows {
	out := make([]proxyRows, 0, len(snap.Proxies))
	typ := column["type"]
	for i := range snap.Proxies {
		p := &snap.Proxies[i]
		pr := proxyRows{p: p, http: p.Mode == "http"}
		one := stats.Snapshot{Proxies: []stats.Proxy{*p}}
		for _, r := range one.Rows(stats.Options{}) {
			switch r[typ].U {
			case stats.TypeFrontend:
				pr.fe = r
			case stats.TypeBackend:
				pr.be = r
			case stats.TypeServer:
				pr.servers = append(pr.servers, r)
			case 3:
				pr.listeners = append(pr.listeners, r)
			}
		}
		out = append(out, pr)
	}
	return out
}

// checking says the server's check runs: enabled and not paused.
func checking(s *stats.ServerStats) bool { return s.Check != nil && !s.Check.Paused }

// serverState is promex_srv_status, from the status column's text.
func serverState(s *stats.ServerStats) string {
	st := s.Status
	switch {
	case strings.HasPrefix(st, "MAINT"):
		return "MAINT"
	case strings.HasPrefix(st, "DRAIN"):
		return "DRAIN"
	case strings.HasPrefix(st, "UP"), st == "no check":
		return "UP"
	case strings.HasPrefix(st, "NOLB"):
		return "NOLB"
	}
	return "DOWN"
}

// proxies writes the metrics of one kind: each metric for every proxy
// (and every server) in turn.
func (w *writer) proxies(all []proxyRows, metrics []metric, prefix string, q Query, k kind) {
	for i := range metrics {
		m := &metrics[i]
		col, known := column[m.field]
		w.begin(prefix, m)
		if m.field == "hrsp_1xx" {
			// One name, a line per class: the header comes once.
			for c := range hrspCodes {
				w.eachProxy(all, k, q, func(pr *proxyRows, r stats.Row, s *stats.ServerStats) {
					if !pr.http {
						return
					}
					w.line(value(r[col+c]), labels(pr, s, "code", hrspCodes[c])...)
				})
			}
			continue
		}
		w.eachProxy(all, k, q, func(pr *proxyRows, r stats.Row, s *stats.ServerStats) {
			if httpOnly[m.field] && !pr.http {
				return
			}
			switch {
			case m.field == "status" && k == kindListener:
				for _, st := range listenerStates {
					w.line(boolValue(r[column["status"]].S == st), "proxy", pr.p.Name, "listener", r[column["svname"]].S, "state", st)
				}
			case k == kindListener && known:
				w.line(value(r[col]), "proxy", pr.p.Name, "listener", r[column["svname"]].S)
			case m.field == "status":
				w.status(pr, s, k)
			case m.field == "agg_server_status" || m.field == "agg_server_check_status":
				w.aggServers(pr)
			case m.field == "agg_check_status":
				w.aggChecks(pr)
			case m.field == "check_status":
				if checking(s) {
					for _, st := range checkStates {
						w.line(boolValue(s.Check.Status == st), labels(pr, s, "state", st)...)
					}
				}
			case m.field == "check_code":
				if checking(s) {
					// 0 below layer 7; a layer 7 code the check did not
					// keep is unknown.
					code := "0"
					if codeStates[s.Check.Status] {
						code = "NaN"
						if s.Check.Code >= 0 {
							code = itoa(s.Check.Code)
						}
					}
					w.line(code, labels(pr, s)...)
				}
			case m.field == "check_duration":
				if s.Check != nil && s.Check.Duration >= 0 {
					w.line(seconds(int64(s.Check.Duration)), labels(pr, s)...)
				}
			case secondColumns[m.field]:
				f := r[col]
				w.line(seconds(f.N+int64(f.U)), labels(pr, s)...)
			case known:
				w.line(value(r[col]), labels(pr, s)...)
			}
		})
	}
}

// eachProxy calls fn for every line of kind k: the frontends, the
// backends, or the servers of the backends.
func (w *writer) eachProxy(all []proxyRows, k kind, q Query, fn func(*proxyRows, stats.Row, *stats.ServerStats)) {
	for i := range all {
		pr := &all[i]
		switch k {
		case kindFrontend:
			if pr.p.Frontend != nil && pr.fe != nil {
				fn(pr, pr.fe, nil)
			}
		case kindBackend:
			if pr.p.Backend != nil && pr.be != nil {
				fn(pr, pr.be, nil)
			}
		case kindListener:
			for j := range pr.listeners {
				fn(pr, pr.listeners[j], nil)
			}
		case kindServer:
			if pr.p.Backend == nil {
				continue
			}
			for j := range pr.p.Servers {
				s := &pr.p.Servers[j]
				if q.NoMaint && s.InMaint || j >= len(pr.servers) {
					continue
				}
				fn(pr, pr.servers[j], s)
			}
		}
	}
}

// labels are a line's proxy, server (for servers) and extra labels.
func labels(pr *proxyRows, s *stats.ServerStats, extra ...string) []string {
	l := []string{"proxy", pr.p.Name}
	if s != nil {
		l = append(l, "server", s.Name)
	}
	return append(l, extra...)
}

func (w *writer) status(pr *proxyRows, s *stats.ServerStats, k kind) {
	switch k {
	case kindFrontend:
		up := !pr.p.Frontend.Stopped
		w.line(boolValue(!up), labels(pr, nil, "state", "DOWN")...)
		w.line(boolValue(up), labels(pr, nil, "state", "UP")...)
	case kindBackend:
		up := pr.p.Backend.Up || len(pr.p.Servers) == 0
		w.line(boolValue(!up), labels(pr, nil, "state", "DOWN")...)
		w.line(boolValue(up), labels(pr, nil, "state", "UP")...)
	case kindServer:
		cur := serverState(s)
		for _, st := range serverStates {
			w.line(boolValue(cur == st), labels(pr, s, "state", st)...)
		}
	}
}

// aggServers counts the backend's servers in each state.
func (w *writer) aggServers(pr *proxyRows) {
	if len(pr.p.Servers) == 0 {
		return
	}
	for _, st := range serverStates {
		n := 0
		for j := range pr.p.Servers {
			if serverState(&pr.p.Servers[j]) == st {
				n++
			}
		}
		w.line(itoa(n), labels(pr, nil, "state", st)...)
	}
}

// aggChecks counts the backend's servers by the status of their check.
func (w *writer) aggChecks(pr *proxyRows) {
	if len(pr.p.Servers) == 0 {
		return
	}
	for _, st := range checkStates {
		n := 0
		for j := range pr.p.Servers {
			if c := pr.p.Servers[j].Check; c != nil && c.Status == st {
				n++
			}
		}
		w.line(itoa(n), labels(pr, nil, "state", st)...)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
