package stats

import (
	"strconv"
	"strings"
)

// Options select and shape the lines of a dump.
type Options struct {
	// Legends reports addresses, cookies and algorithms (show-legends,
	// or a CLI at level operator or above).
	Legends bool
	// HideDown (";up", "up") and HideMaint ("no-maint") leave servers out.
	HideDown, HideMaint bool
	// Bound limits the dump to proxy IID (-1 any), the object types of
	// the TypeMask bits (1 frontend, 2 backend, 4 server) and server SID
	// (-1 any).
	Bound         bool
	IID, TypeMask int
	SID           int
	// Scope is "stats scope": the proxy names shown, "." for Self.
	Scope []string
	Self  string
	// Search is the page's "scope=" text, matched anywhere in a proxy
	// name, ignoring case.
	Search string
}

// proxyShown is the proxy selection of stats_dump_proxy_to_buffer.
func (o *Options) proxyShown(p *Proxy) bool {
	if len(o.Scope) > 0 {
		ok := false
		for _, sc := range o.Scope {
			if sc == p.Name || sc == "." && p.Name == o.Self {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if o.Search != "" && !strings.Contains(strings.ToLower(p.Name), strings.ToLower(o.Search)) {
		return false
	}
	return !o.Bound || o.IID == -1 || p.ID == o.IID
}

func (o *Options) typeShown(t int) bool { return !o.Bound || o.TypeMask&(1<<t) != 0 }

// proxyRows are the lines of one proxy: frontend, servers, backend.
func (o *Options) proxyRows(p *Proxy) []Row {
	var rows []Row
	if p.Frontend != nil && o.typeShown(TypeFrontend) {
		rows = append(rows, frontendRow(p))
	}
	if o.typeShown(3) {
		for i := range p.Listeners {
			rows = append(rows, listenerRow(p, &p.Listeners[i], o.Legends))
		}
	}
	if o.typeShown(TypeServer) {
		for i := range p.Servers {
			s := &p.Servers[i]
			if o.Bound && o.SID != -1 && s.ID != o.SID {
				continue
			}
			if o.HideMaint && s.InMaint || o.HideDown && (s.InMaint || s.StableDown) {
				continue
			}
			rows = append(rows, serverRow(p, s, o.Legends))
		}
	}
	if p.Backend != nil && o.typeShown(TypeBackend) {
		rows = append(rows, backendRow(p, o.Legends, o.HideDown || o.HideMaint))
	}
	return rows
}

// Rows returns every line the options select, in proxy order.
func (s *Snapshot) Rows(o Options) []Row {
	var rows []Row
	for i := range s.Proxies {
		if p := &s.Proxies[i]; o.proxyShown(p) {
			rows = append(rows, o.proxyRows(p)...)
		}
	}
	return rows
}

// CSVHeader is stats_dump_csv_header.
func CSVHeader() string {
	var b strings.Builder
	b.WriteString("# ")
	for i, n := range statNames {
		b.WriteString(n + ",")
		if i+1 == staticFields {
			b.WriteString("-,")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// CSV is the ";csv" export and "show stat": the header and one line
// per object.
func CSV(rows []Row) string {
	var b strings.Builder
	b.WriteString(CSVHeader())
	for _, r := range rows {
		for i, f := range r {
			b.WriteString(f.raw() + ",")
			if i+1 == staticFields {
				b.WriteString("-,")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Typed is "show stat typed": one line per present field.
func Typed(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		for i, f := range r {
			if !f.present() {
				continue
			}
			b.WriteString(string(r.typeChar()) + "." + strconv.FormatUint(r[fIid].U, 10) + "." + strconv.FormatUint(r[fSid].U, 10) +
				"." + strconv.Itoa(i) + "." + statNames[i] + "." + strconv.FormatUint(r[fPid].U, 10) + ":" + f.Tags + ":" + f.typed() + "\n")
		}
	}
	return b.String()
}

// JSON is "show stat json" and the ";json" export: an array of lines,
// each an array of fields.
func JSON(rows []Row) string {
	var b strings.Builder
	b.WriteString("[")
	for k, r := range rows {
		if k > 0 {
			b.WriteString(",")
		}
		b.WriteString("[")
		started := false
		for i, f := range r {
			v := f.jsonValue()
			if !f.present() {
				continue
			}
			if started {
				b.WriteString(",")
			}
			started = true
			b.WriteString(`{"objType":"` + r.objType() + `","proxyId":` + strconv.FormatUint(r[fIid].U, 10) + `,"id":` +
				strconv.FormatUint(r[fSid].U, 10) + `,"field":{"pos":` + strconv.Itoa(i) + `,"name":"` + statNames[i] +
				`"},"processNum":` + strconv.FormatUint(r[fPid].U, 10) + "," + f.jsonTags() + v + "}")
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

// Info field positions (INF_*), in HAProxy 2.6.12's order.
var infoNames = []string{"Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime",
	"Uptime_sec", "Memmax_MB", "PoolAlloc_MB", "PoolUsed_MB", "PoolFailed", "Ulimit-n", "Maxsock", "Maxconn",
	"Hard_maxconn", "CurrConns", "CumConns", "CumReq", "MaxSslConns", "CurrSslConns", "CumSslConns", "Maxpipes",
	"PipesUsed", "PipesFree", "ConnRate", "ConnRateLimit", "MaxConnRate", "SessRate", "SessRateLimit", "MaxSessRate",
	"SslRate", "SslRateLimit", "MaxSslRate", "SslFrontendKeyRate", "SslFrontendMaxKeyRate",
	"SslFrontendSessionReuse_pct", "SslBackendKeyRate", "SslBackendMaxKeyRate", "SslCacheLookups", "SslCacheMisses",
	"CompressBpsIn", "CompressBpsOut", "CompressBpsRateLim", "ZlibMemUsage", "MaxZlibMemUsage", "Tasks", "Run_queue",
	"Idle_pct", "node", "description", "Stopping", "Jobs", "Unstoppable Jobs", "Listeners", "ActivePeers",
	"ConnectedPeers", "DroppedLogs", "BusyPolling", "FailedResolutions", "TotalBytesOut", "TotalSplicdedBytesOut",
	"BytesOutRate", "DebugCommandsIssued", "CumRecvLogs", "Build info", "Memmax_bytes", "PoolAlloc_bytes",
	"PoolUsed_bytes", "Start_time_sec", "Tainted"}

// UptimeString is the "%ud %uh%02um%02us" form of a duration in seconds.
func UptimeString(sec int) string {
	return strconv.Itoa(sec/86400) + "d " + strconv.Itoa(sec%86400/3600) + "h" + pad2(sec%3600/60) + "m" + pad2(sec%60) + "s"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// infoFields is stats_fill_info for a build with SSL and without zlib.
func (in *Info) fields() []Field {
	up := int(in.Uptime.Seconds())
	f := make([]Field, len(infoNames))
	set := func(name string, v Field) {
		for i, n := range infoNames {
			if n == name {
				f[i] = v
				return
			}
		}
		panic("stats: no info field " + name)
	}
	zero := func(tags string, names ...string) {
		for _, n := range names {
			set(n, fu32(tags, 0))
		}
	}
	set("Name", fstr("POS", "HAProxy"))
	set("Version", fstr("POS", in.Version))
	set("Build info", fstr("POS", in.Version))
	set("Release_date", fstr("POS", in.ReleaseDate))
	set("Nbthread", fu32("CGS", in.Nbthread))
	set("Nbproc", fu32("CGS", 1))
	set("Process_num", fu32("KGP", 1))
	set("Pid", fu32("SGP", in.PID))
	set("Uptime", fstr("MDP", UptimeString(up)))
	set("Uptime_sec", fu32("MDP", up))
	set("Start_time_sec", fu32("MDP", int(in.Start.Unix())))
	set("Memmax_MB", fu32("CLP", in.MemMaxMB))
	// A u32 in HAProxy, truncated beyond 4 GiB.
	set("Memmax_bytes", fu32("CLP", int(uint32(uint64(in.MemMaxMB)<<20))))
	zero("CLP", "CompressBpsRateLim")
	set("SslRateLimit", fu32("CLP", in.SSLRateLimit))
	set("Maxpipes", fu32("CLP", in.Maxpipes))
	set("PipesUsed", fu32("MGP", in.PipesUsed))
	set("PipesFree", fu32("MGP", in.PipesFree))
	zero("MGP", "PoolAlloc_MB", "PoolUsed_MB", "Unstoppable Jobs", "ActivePeers", "ConnectedPeers", "DroppedLogs",
		"BusyPolling", "FailedResolutions", "DebugCommandsIssued")
	zero("MCP", "PoolFailed", "CumRecvLogs")
	set("SslCacheLookups", fu32("MCP", int(in.SSLCacheLookups)))
	set("SslCacheMisses", fu32("MCP", int(in.SSLCacheMisses)))
	set("MaxSslConns", fu32("MMP", in.MaxSSLConns))
	zero("MRP", "CompressBpsIn", "CompressBpsOut")
	set("CurrSslConns", fu32("MGP", in.SSLConns))
	set("CumSslConns", fu32("MCP", int(in.CumSSLConns)))
	set("SslRate", fu32("MRP", in.SSLRate))
	set("MaxSslRate", fu32("MMP", in.MaxSSLRate))
	set("SslFrontendKeyRate", fu32("MGP", in.SSLFEKeyRate))
	set("SslFrontendMaxKeyRate", fu32("MMP", in.SSLFEMaxKeyRate))
	set("SslFrontendSessionReuse_pct", fu32("MGP", in.SSLReusePct))
	set("SslBackendKeyRate", fu32("MRP", in.SSLBEKeyRate))
	set("SslBackendMaxKeyRate", fu32("MMP", in.SSLBEMaxKeyRate))
	set("PoolAlloc_bytes", fu64("MGP", 0))
	set("PoolUsed_bytes", fu64("MGP", 0))
	set("Ulimit-n", fu32("CLP", in.UlimitN))
	set("Maxsock", fu32("CLP", in.Maxsock))
	set("Maxconn", fu32("CLP", in.Maxconn))
	set("Hard_maxconn", fu32("CLP", in.HardMaxconn))
	set("CurrConns", fu32("MGP", in.CurrConns))
	set("CumConns", fu32("MCP", int(in.CumConns)))
	set("CumReq", fu32("MCP", int(in.CumReq)))
	set("ConnRate", fu32("MRP", in.ConnRate))
	set("ConnRateLimit", fu32("CLP", in.ConnRateLimit))
	set("MaxConnRate", fu32("MMP", in.MaxConnRate))
	set("SessRate", fu32("MRP", in.SessRate))
	set("SessRateLimit", fu32("CLP", in.SessRateLimit))
	set("MaxSessRate", fu32("MRP", in.MaxSessRate))
	set("Tasks", fu32("MGP", in.Tasks))
	set("Run_queue", fu32("MGP", in.RunQueue))
	set("Idle_pct", fu32("MaP", in.IdlePct))
	set("node", fstr("COS", in.Node))
	if in.Description != "" {
		set("description", fstr("COS", in.Description))
	}
	stopping := 0
	if in.Stopping {
		stopping = 1
	}
	set("Stopping", fu32("MGP", stopping))
	set("Jobs", fu32("MGP", in.Jobs))
	set("Listeners", fu32("MGP", in.Listeners))
	set("TotalBytesOut", fu64("MGP", in.TotalBytesOut))
	set("TotalSplicdedBytesOut", fu64("MGP", in.TotalSplicedBytesOut))
	set("BytesOutRate", fu64("MRP", in.BytesOutRate))
	set("Tainted", fstr("SGP", "0"))
	return f
}

// InfoText is "show info" in one of its forms: "" (name: value),
// "typed" or "json".
func (in *Info) Text(format string) string {
	fs := in.fields()
	var b strings.Builder
	switch format {
	case "typed":
		for i, f := range fs {
			if f.present() {
				b.WriteString(strconv.Itoa(i) + "." + infoNames[i] + ".1:" + f.Tags + ":" + f.typed() + "\n")
			}
		}
	case "json":
		b.WriteString("[")
		started := false
		for i, f := range fs {
			if !f.present() {
				continue
			}
			if started {
				b.WriteString(",")
			}
			started = true
			b.WriteString(`{"field":{"pos":` + strconv.Itoa(i) + `,"name":"` + infoNames[i] + `"},"processNum":1,` + f.jsonTags() + f.jsonValue() + "}")
		}
		b.WriteString("]")
	default:
		for i, f := range fs {
			if f.present() {
				b.WriteString(infoNames[i] + ": " + f.raw() + "\n")
			}
		}
	}
	return b.String()
}
