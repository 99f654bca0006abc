package stats

import (
	"strconv"
	"strings"
)

// Kind is a field's value type (HAProxy's FF_*); KindEmpty leaves the
// field out of typed and JSON output and empty in CSV.
type Kind uint8

// Field kinds.
const (
	KindEmpty Kind = iota
	KindS32
	KindU32
	KindS64
	KindU64
	KindStr
)

// Field is one value of a stats line with its tags: origin, nature and
// scope as the letters of HAProxy's typed output ("MCP" is a metric
// counter of the process).
type Field struct {
	Kind Kind
	Tags string
	N    int64
	U    uint64
	S    string
}

func fu32(tags string, v int) Field    { return Field{Kind: KindU32, Tags: tags, U: uint64(uint32(v))} }
func fu64(tags string, v uint64) Field { return Field{Kind: KindU64, Tags: tags, U: v} }
func fs32(tags string, v int) Field    { return Field{Kind: KindS32, Tags: tags, N: int64(int32(v))} }
func fstr(tags string, v string) Field { return Field{Kind: KindStr, Tags: tags, S: v} }
func (f Field) present() bool          { return f.Kind != KindEmpty }

// Stat field positions (stats-t.h ST_F_*), in HAProxy 2.6.12's order.
const (
	fPxname = iota
	fSvname
	fQcur
	fQmax
	fScur
	fSmax
	fSlim
	fStot
	fBin
	fBout
	fDreq
	fDresp
	fEreq
	fEcon
	fEresp
	fWretr
	fWredis
	fStatus
	fWeight
	fAct
	fBck
	fChkfail
	fChkdown
	fLastchg
	fDowntime
	fQlimit
	fPid
	fIid
	fSid
	fThrottle
	fLbtot
	fTracked
	fType
	fRate
	fRateLim
	fRateMax
	fCheckStatus
	fCheckCode
	fCheckDuration
	fHrsp1xx
	fHrsp2xx
	fHrsp3xx
	fHrsp4xx
	fHrsp5xx
	fHrspOther
	fHanafail
	fReqRate
	fReqRateMax
	fReqTot
	fCliAbrt
	fSrvAbrt
	fCompIn
	fCompOut
	fCompByp
	fCompRsp
	fLastsess
	fLastChk
	fLastAgt
	fQtime
	fCtime
	fRtime
	fTtime
	fAgentStatus
	fAgentCode
	fAgentDuration
	fCheckDesc
	fAgentDesc
	fCheckRise
	fCheckFall
	fCheckHealth
	fAgentRise
	fAgentFall
	fAgentHealth
	fAddr
	fCookie
	fMode
	fAlgo
	fConnRate
	fConnRateMax
	fConnTot
	fIntercepted
	fDcon
	fDses
	fWrew
	fConnect
	fReuse
	fCacheLookups
	fCacheHits
	fSrvIcur
	fSrvIlim
	fQtimeMax
	fCtimeMax
	fRtimeMax
	fTtimeMax
	fEint
	fIdleConnCur
	fSafeConnCur
	fUsedConnCur
	fNeedConnEst
	fUweight
	fAggServerStatus
	fAggServerCheckStatus
	fAggCheckStatus
	// staticFields is ST_F_TOTAL_FIELDS: the module fields follow,
	// after a "-" column in CSV.
	staticFields
)

// statNames are the stat_fields names, then those of the ssl, h2 and h1
// modules of a stock 2.6 build.
var statNames = strings.Fields(`pxname svname qcur qmax scur smax slim stot bin bout dreq dresp ereq econ eresp
wretr wredis status weight act bck chkfail chkdown lastchg downtime qlimit pid iid sid throttle lbtot tracked type rate
rate_lim rate_max check_status check_code check_duration hrsp_1xx hrsp_2xx hrsp_3xx hrsp_4xx hrsp_5xx hrsp_other
hanafail req_rate req_rate_max req_tot cli_abrt srv_abrt comp_in comp_out comp_byp comp_rsp lastsess last_chk last_agt
qtime ctime rtime ttime agent_status agent_code agent_duration check_desc agent_desc check_rise check_fall check_health
agent_rise agent_fall agent_health addr cookie mode algo conn_rate conn_rate_max conn_tot intercepted dcon dses wrew
connect reuse cache_lookups cache_hits srv_icur src_ilim qtime_max ctime_max rtime_max ttime_max eint idle_conn_cur
safe_conn_cur used_conn_cur need_conn_est uweight agg_server_status agg_server_check_status agg_check_status
ssl_sess ssl_reused_sess ssl_failed_handshake h2_headers_rcvd h2_data_rcvd h2_settings_rcvd h2_rst_stream_rcvd
h2_goaway_rcvd h2_detected_conn_protocol_errors h2_detected_strm_protocol_errors h2_rst_stream_resp h2_goaway_resp
h2_open_connections h2_backend_open_streams h2_total_connections h2_backend_total_streams h1_open_connections
h1_open_streams h1_total_connections h1_total_streams h1_bytes_in h1_bytes_out h1_spliced_bytes_in h1_spliced_bytes_out`)

// numFields counts the static and module fields.
var numFields = len(statNames)

// Module field ranges: ssl counts on every line, h2 and h1 on frontends
// and backends; gauges are h2/h1 open connections and streams.
const (
	sslFirst = staticFields
	h2First  = staticFields + 3
	modEnd   = staticFields + 24
	// h1First is the h1 module's first field; h1SplicedIn and
	// h1SplicedOut are its last two.
	h1First      = modEnd - 8
	h1SplicedIn  = modEnd - 2
	h1SplicedOut = modEnd - 1
)

var moduleGauges = map[string]bool{"h2_open_connections": true, "h2_backend_open_streams": true,
	"h1_open_connections": true, "h1_open_streams": true}

// Row is one stats line: a frontend, a server or a backend.
type Row []Field

// Object types (STATS_TYPE_*).
const (
	TypeFrontend = 0
	TypeBackend  = 1
	TypeServer   = 2
)

func (r Row) typeChar() byte {
	switch r[fType].U {
	case TypeFrontend:
		return 'F'
	case TypeBackend:
		return 'B'
	case 3:
		return 'L'
	case TypeServer:
		return 'S'
	}
	return '?'
}

func (r Row) objType() string {
	switch r[fType].U {
	case TypeFrontend:
		return "Frontend"
	case TypeBackend:
		return "Backend"
	case 3:
		return "Listener"
	case TypeServer:
		return "Server"
	}
	return "Unknown"
}

// csvEscape is csv_enc: a value with a comma, quote or line break is
// quoted, its quotes doubled.
func csvEscape(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// raw is stats_emit_raw_data_field.
func (f Field) raw() string {
	switch f.Kind {
	case KindS32, KindS64:
		return strconv.FormatInt(f.N, 10)
	case KindU32, KindU64:
		return strconv.FormatUint(f.U, 10)
	case KindStr:
		return csvEscape(f.S)
	}
	return ""
}

// typed is stats_emit_typed_data_field.
func (f Field) typed() string {
	switch f.Kind {
	case KindS32:
		return "s32:" + strconv.FormatInt(f.N, 10)
	case KindS64:
		return "s64:" + strconv.FormatInt(f.N, 10)
	case KindU32:
		return "u32:" + strconv.FormatUint(f.U, 10)
	case KindU64:
		return "u64:" + strconv.FormatUint(f.U, 10)
	case KindStr:
		return "str:" + f.S
	}
	return ""
}

// jsonInt is the largest integer JSON output carries (RFC 7159 §6).
const jsonInt = 1<<53 - 1

// jsonValue is stats_emit_json_data_field's object, "" when the value
// cannot be given.
func (f Field) jsonValue() string {
	var typ, val string
	switch f.Kind {
	case KindS32:
		typ, val = "s32", strconv.FormatInt(f.N, 10)
	case KindS64:
		if f.N > jsonInt || f.N < -jsonInt {
			return ""
		}
		typ, val = "s64", strconv.FormatInt(f.N, 10)
	case KindU32:
		typ, val = "u32", strconv.FormatUint(f.U, 10)
	case KindU64:
		if f.U > jsonInt {
			return ""
		}
		typ, val = "u64", strconv.FormatUint(f.U, 10)
	case KindStr:
		typ, val = "str", `"`+f.S+`"`
	default:
		return ""
	}
	return `,"value":{"type":"` + typ + `","value":` + val + `}`
}

var (
	originNames = map[byte]string{'M': "Metric", 'S': "Status", 'K': "Key", 'C': "Config", 'P': "Product"}
	natureNames = map[byte]string{'G': "Gauge", 'L': "Limit", 'm': "Min", 'M': "Max", 'R': "Rate", 'C': "Counter",
		'D': "Duration", 'A': "Age", 'T': "Time", 'N': "Name", 'O': "Output", 'a': "Avg"}
	scopeNames = map[byte]string{'P': "Process", 'S': "Service", 's': "System", 'C': "Cluster"}
)

// jsonTags is stats_emit_json_field_tags.
func (f Field) jsonTags() string {
	name := func(m map[byte]string, i int) string {
		if i < len(f.Tags) {
			if n, ok := m[f.Tags[i]]; ok {
				return n
			}
		}
		return "Unknown"
	}
	return `"tags":{"origin":"` + name(originNames, 0) + `","nature":"` + name(natureNames, 1) + `","scope":"` + name(scopeNames, 2) + `"}`
}
