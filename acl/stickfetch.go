package acl

import (
	"fmt"
	"strings"

	"github.com/gohap/gohap/acl/stick"
)

// MaxTrack is the number of tracking counters a stream has, sc0 to sc2
// (MAX_SESS_STKCTR).
const MaxTrack = 3

// TrackedEntry is one tracking counter (HAProxy's struct stkctr): the
// table and the referenced entry a track-sc action set. The zero value
// tracks nothing.
type TrackedEntry struct {
	Table *stick.Table
	Entry *stick.Entry
}

// TrackSet is the tracking counters of a stream or of a session.
type TrackSet [MaxTrack]TrackedEntry

// Set makes counter i track e of tb, as stream_track_stkctr does: the
// counter keeps the first entry it tracks, so Set reports false, and
// leaves e to the caller, when it already tracks one or i is out of range.
// On success the set owns e's reference (see Release).
func (s *TrackSet) Set(i int, tb *stick.Table, e *stick.Entry) bool {
	if i < 0 || i >= MaxTrack || s[i].Entry != nil || e == nil {
		return false
	}
	s[i] = TrackedEntry{Table: tb, Entry: e}
	return true
}

// Release ends the tracking at the end of a stream or session
// (stream_store_counters): each tracked entry's conn_cur drops by one and
// its reference is released.
func (s *TrackSet) Release() {
	for i := range s {
		if e := s[i].Entry; e != nil {
			e.StopCounters()
			e.Release()
		}
		s[i] = TrackedEntry{}
	}
}

// TrackSC makes the stream's counter i track e of tb (track-sc0/1/2 in
// http-request, http-response and tcp-request content rules); see
// TrackSet.Set. The engine gets e with tb.Track(key), which counts the
// connection, and for http-request rules then calls e.IncHTTPReq.
func (t *Txn) TrackSC(i int, tb *stick.Table, e *stick.Entry) bool {
	return t.Track.Set(i, tb, e)
}

// Tracked returns what counter i designates for the sc fetches and
// actions: the stream's, else the session's; nil when neither tracks.
func (t *Txn) Tracked(i int) *TrackedEntry {
	if i < 0 || i >= MaxTrack {
		return nil
	}
	if t.Track[i].Entry != nil {
		return &t.Track[i]
	}
	if t.SessTrack != nil && t.SessTrack[i].Entry != nil {
		return &t.SessTrack[i]
	}
	return nil
}

// ReleaseTracked releases the stream's counters at the end of the stream
// (stream_stop_content_counters); the session's are the session's to
// release.
func (t *Txn) ReleaseTracked() { t.Track.Release() }

// IncHTTPReq counts an HTTP request on every tracked counter, the
// stream's or else the session's (stream_inc_http_req_ctr).
func (t *Txn) IncHTTPReq() { t.eachTracked((*stick.Entry).IncHTTPReq) }

// IncHTTPErr counts a 4xx response (stream_inc_http_err_ctr).
func (t *Txn) IncHTTPErr() { t.eachTracked((*stick.Entry).IncHTTPErr) }

// IncHTTPFail counts a server failure, a 5xx response other than 501 and
// 505 (stream_inc_http_fail_ctr).
func (t *Txn) IncHTTPFail() { t.eachTracked((*stick.Entry).IncHTTPFail) }

// AddBytesIn counts n bytes received from the client
// (stream_process_counters).
func (t *Txn) AddBytesIn(n uint64) {
	for i := 0; i < MaxTrack; i++ {
		if c := t.Tracked(i); c != nil {
			c.Entry.AddBytesIn(n)
		}
	}
}

// AddBytesOut counts n bytes sent to the client.
func (t *Txn) AddBytesOut(n uint64) {
	for i := 0; i < MaxTrack; i++ {
		if c := t.Tracked(i); c != nil {
			c.Entry.AddBytesOut(n)
		}
	}
}

func (t *Txn) eachTracked(f func(*stick.Entry)) {
	for i := 0; i < MaxTrack; i++ {
		if c := t.Tracked(i); c != nil {
			f(c.Entry)
		}
	}
}

// TableCompatible reports whether the expression's result can be cast to
// the key type of tb (stktable_compatible_sample).
func (s *Sample) TableCompatible(tb *stick.Table) bool { return canCast(s.Type(), keySampleType(tb)) }

// keySampleType is the sample type a key of tb is made from.
func keySampleType(tb *stick.Table) Type {
	switch tb.Type() {
	case stick.KeyIP:
		return TypeIPv4
	case stick.KeyIPv6:
		return TypeIPv6
	case stick.KeyInteger:
		return TypeInt
	case stick.KeyString:
		return TypeStr
	}
	return TypeBin
}

// TableKey converts v to the key type of tb (smp_to_stkey): ok is false
// when the cast fails. String and binary keys refer to v's bytes.
func TableKey(t *Txn, v *Value, tb *stick.Table) (k stick.Key, ok bool) {
	switch tb.Type() {
	case stick.KeyIP:
		if !cast(t, v, TypeIPv4) {
			return k, false
		}
		return stick.IPKey(stick.KeyIP, v.IP)
	case stick.KeyIPv6:
		if !cast(t, v, TypeIPv6) {
			return k, false
		}
		return stick.IPKey(stick.KeyIPv6, v.IP)
	case stick.KeyInteger:
		if !cast(t, v, TypeInt) {
			return k, false
		}
		return stick.IntKey(v.I), true
	case stick.KeyString:
		if !cast(t, v, TypeStr) {
			return k, false
		}
	default:
		if !cast(t, v, TypeBin) {
			return k, false
		}
	}
	return stick.BytesKey(v.B), true
}

// Key evaluates the expression and converts it to a key of tb, as the
// track-sc and stick actions do (stktable_fetch_key).
func (s *Sample) Key(t *Txn, tb *stick.Table) (stick.Key, bool) {
	v, ok := s.Eval(t)
	if !ok {
		return stick.Key{}, false
	}
	t.ev = v
	return TableKey(t, &t.ev, tb)
}

// ResolveError is a table argument naming no table, worded as HAProxy's
// smp_resolve_args words it up to the keyword: "unable to find table 'x'
// referenced in arg 1 of sample fetch keyword 'src_conn_cur'". HAProxy
// reports these after parsing, prefixed with "parsing [FILE:LINE]: " and
// followed by where the expression is (" in http-request expression in
// proxy 'fe'.").
type ResolveError struct {
	// Table is the name looked up (a table's, or a userlist's); empty
	// when none was given in a defaults section.
	Table string
	// Kind, for a server argument, says what was not found (resSrv*);
	// Server and Proxy are the names.
	Kind          int
	Server, Proxy string
	// Arg is the 1-based position of the argument.
	Arg int
	// Keyword is the fetch, converter or ACL keyword.
	Keyword string
	// Fetch is the fetch keyword a converter follows; empty for fetches.
	Fetch string
	// ACL is set when Keyword is an ACL keyword.
	ACL bool
	// Regex and Msg are a regex argument PCRE2 refuses and its message.
	Regex, Msg string
}

// Kinds of server argument errors.
const (
	resTable = iota
	resSrvNoName
	resSrvNoProxy
	resSrvNeedBackend
	resSrvNoServer
	resUserlist
	resBackend
	resFrontend
	resNoBackend
	resNoFrontend
	resRegex
	resNoRegex
)

func (e *ResolveError) Error() string {
	var b strings.Builder
	switch e.Kind {
	case resSrvNoName:
		fmt.Fprintf(&b, "missing server name in arg %d of ", e.Arg)
	case resRegex:
		fmt.Fprintf(&b, "error in regex '%s' in arg %d of ", e.Regex, e.Arg)
	case resNoRegex:
		fmt.Fprintf(&b, "missing regex in arg %d of ", e.Arg)
	case resSrvNoProxy:
		fmt.Fprintf(&b, "unable to find proxy '%s' referenced in arg %d of ", e.Proxy, e.Arg)
	case resSrvNeedBackend:
		fmt.Fprintf(&b, "backend name must be set in arg %d of ", e.Arg)
	case resBackend:
		fmt.Fprintf(&b, "unable to find backend '%s' referenced in arg %d of ", e.Proxy, e.Arg)
	case resFrontend:
		fmt.Fprintf(&b, "unable to find frontend '%s' referenced in arg %d of ", e.Proxy, e.Arg)
	case resNoBackend, resNoFrontend:
		fmt.Fprintf(&b, "proxy '%s', referenced in arg %d of ", e.Proxy, e.Arg)
	case resUserlist:
		fmt.Fprintf(&b, "unable to find userlist '%s' referenced in arg %d of ", e.Table, e.Arg)
	case resSrvNoServer:
		fmt.Fprintf(&b, "unable to find server '%s' in proxy '%s', referenced in arg %d of ", e.Server, e.Proxy, e.Arg)
	case resTable:
		if e.Table == "" {
			fmt.Fprintf(&b, "table name must be set in arg %d of ", e.Arg)
		} else {
			fmt.Fprintf(&b, "unable to find table '%s' referenced in arg %d of ", e.Table, e.Arg)
		}
	}
	outer := "sample fetch keyword"
	if e.ACL {
		outer = "ACL keyword"
	}
	if e.Fetch != "" {
		fmt.Fprintf(&b, "conversion keyword '%s' for %s '%s'", e.Keyword, outer, e.Fetch)
	} else {
		fmt.Fprintf(&b, "%s '%s'", outer, e.Keyword)
	}
	return b.String()
}

// Suffix is what HAProxy writes after the proxy an expression belongs to
// ("... in proxy 'fe', has not backend capability."): empty but for a
// capability error.
func (e *ResolveError) Suffix() string {
	switch e.Kind {
	case resNoBackend:
		return ", has not backend capability"
	case resNoFrontend:
		return ", has not frontend capability"
	case resRegex:
		return " : " + e.Msg
	}
	return ""
}

// resolveTable finds the table argument i names; an empty name is the
// proxy's own table.
func resolveTable(a []arg, i int, kw string, ctx *Context) (*stick.Table, error) {
	name := a[i].s
	if name == "" {
		if ctx == nil || ctx.Proxy == "" {
			return nil, &ResolveError{Arg: i + 1, Keyword: kw}
		}
		name = ctx.Proxy
	}
	var tb *stick.Table
	if ctx != nil && ctx.Tables != nil {
		tb = ctx.Tables.Table(name)
	}
	if tb == nil {
		return nil, &ResolveError{Table: name, Arg: i + 1, Keyword: kw}
	}
	return tb, nil
}

// stkKind is what a stick-table fetch or converter does with its entry.
type stkKind uint8

const (
	skValue    stkKind = iota // a stored value: Entry.Value(dt, idx)
	skKBytes                  // a byte count in kilobytes
	skGPC0                    // gpc0 or gpc[0] (and the other legacy fallbacks)
	skGPC1                    //
	skGPC0Rate                //
	skGPC1Rate                //
	skGPT0                    //
	skIncGPC                  // sc_inc_gpc(idx)
	skIncGPC0                 //
	skIncGPC1                 //
	skClrGPC                  // sc_clr_gpc(idx)
	skClrGPC0                 //
	skClrGPC1                 //
	skTracked                 // sc_tracked
	skTrackers                // sc_trackers, table_trackers
	skUpdtConn                // src_updt_conn_cnt
	skInTable                 // in_table
	skServerID                // table_server_id
)

// stkOp is a stick-table keyword's operation; idx is set for those taking
// an array index as first argument.
type stkOp struct {
	kind stkKind
	dt   stick.DataType
	idx  bool
}

// stkOps are the suffixes of the sc_*, sc0_*, src_* fetches and table_*
// converters (configuration.txt 7.3.3).
var stkOps = map[string]stkOp{
	"bytes_in_rate":  {dt: stick.BytesInRate},
	"bytes_out_rate": {dt: stick.BytesOutRate},
	"conn_cnt":       {dt: stick.ConnCnt},
	"conn_cur":       {dt: stick.ConnCur},
	"conn_rate":      {dt: stick.ConnRate},
	"http_err_cnt":   {dt: stick.HTTPErrCnt},
	"http_err_rate":  {dt: stick.HTTPErrRate},
	"http_fail_cnt":  {dt: stick.HTTPFailCnt},
	"http_fail_rate": {dt: stick.HTTPFailRate},
	"http_req_cnt":   {dt: stick.HTTPReqCnt},
	"http_req_rate":  {dt: stick.HTTPReqRate},
	"sess_cnt":       {dt: stick.SessCnt},
	"sess_rate":      {dt: stick.SessRate},
	"kbytes_in":      {kind: skKBytes, dt: stick.BytesInCnt},
	"kbytes_out":     {kind: skKBytes, dt: stick.BytesOutCnt},
	"get_gpt":        {dt: stick.GPT, idx: true},
	"get_gpc":        {dt: stick.GPC, idx: true},
	"gpc_rate":       {dt: stick.GPCRate, idx: true},
	"get_gpt0":       {kind: skGPT0},
	"get_gpc0":       {kind: skGPC0},
	"get_gpc1":       {kind: skGPC1},
	"gpc0_rate":      {kind: skGPC0Rate},
	"gpc1_rate":      {kind: skGPC1Rate},
	"inc_gpc":        {kind: skIncGPC, idx: true},
	"inc_gpc0":       {kind: skIncGPC0},
	"inc_gpc1":       {kind: skIncGPC1},
	"clr_gpc":        {kind: skClrGPC, idx: true},
	"clr_gpc0":       {kind: skClrGPC0},
	"clr_gpc1":       {kind: skClrGPC1},
	"tracked":        {kind: skTracked},
	"trackers":       {kind: skTrackers},
	"updt_conn_cnt":  {kind: skUpdtConn},
}

// stkConvOps are the table_* converters whose suffix differs from the
// fetches'.
var stkConvOps = map[string]stkOp{
	"gpt":       {dt: stick.GPT, idx: true},
	"gpc":       {dt: stick.GPC, idx: true},
	"gpt0":      {kind: skGPT0},
	"gpc0":      {kind: skGPC0},
	"gpc1":      {kind: skGPC1},
	"server_id": {kind: skServerID},
}

func init() {
	for _, name := range haproxyFetches {
		var sc int
		var rest string
		switch {
		case strings.HasPrefix(name, "sc_"):
			sc, rest = -1, name[3:]
		case len(name) > 4 && strings.HasPrefix(name, "sc") && name[2] >= '0' && name[2] <= '2' && name[3] == '_':
			sc, rest = int(name[2]-'0'), name[4:]
		case strings.HasPrefix(name, "src_"):
			sc, rest = -2, name[4:]
		default:
			continue
		}
		op, ok := stkOps[rest]
		if !ok || op.kind == skUpdtConn && sc != -2 {
			continue
		}
		// argument lists as registered in src/stick_table.c: an array
		// index first, then for sc_ the counter number, then the table,
		// optional but for src_.
		var types []argType
		if op.idx {
			types = append(types, aSint)
		}
		if sc == -1 {
			types = append(types, aSint)
		}
		types = append(types, aTab)
		min := len(types) - 1
		if sc == -2 {
			min = len(types)
		}
		out := TypeInt
		if op.kind == skTracked {
			out = TypeBool
		}
		addFetch(&fetchDef{name: name, args: spec(min, types...), out: out, fn: fetchStick, check: checkStickFetch})
	}
	addFetch(
		&fetchDef{name: "table_avl", args: spec(1, aTab), out: TypeInt, fn: fetchTableSize, check: checkStickFetch},
		&fetchDef{name: "table_cnt", args: spec(1, aTab), out: TypeInt, fn: fetchTableSize, check: checkStickFetch},
	)
	addConv(&convDef{name: "in_table", args: spec(1, aTab), in: TypeAny, out: TypeBool, fn: convStick, check: checkStickConv})
	for _, name := range haproxyConvs {
		rest, ok := strings.CutPrefix(name, "table_")
		if !ok {
			continue
		}
		op, ok := stkConvOps[rest]
		if !ok {
			if op, ok = stkOps[rest]; !ok || op.kind >= skIncGPC && op.kind <= skTracked || op.kind == skUpdtConn {
				continue
			}
		}
		sp := spec(1, aTab)
		if op.idx {
			sp = spec(2, aSint, aTab)
		}
		addConv(&convDef{name: name, args: sp, in: TypeAny, out: TypeInt, fn: convStick, check: checkStickConv})
	}
}

// stkFetch is the compiled part of a stick-table keyword.
type stkFetch struct {
	op  stkOp
	tab *stick.Table
	// sc is the counter number, -2 for src_* fetches.
	sc  int
	idx int
}

func checkStickFetch(fe *fetch, ctx *Context) error {
	name := fe.def.name
	s := &stkFetch{}
	fe.stk = s
	arg := 0
	switch {
	case strings.HasPrefix(name, "table_"):
		s.sc = -3
	case strings.HasPrefix(name, "src_"):
		s.sc, s.op = -2, stkOps[name[4:]]
	case strings.HasPrefix(name, "sc_"):
		s.op = stkOps[name[3:]]
	default:
		s.sc, s.op = int(name[2]-'0'), stkOps[name[4:]]
	}
	if s.op.idx {
		s.idx = int(argInt(fe.args, arg, 0))
		arg++
	}
	if strings.HasPrefix(name, "sc_") {
		s.sc = int(argInt(fe.args, arg, 0))
		arg++
	}
	if hasArg(fe.args, arg) {
		tb, err := resolveTable(fe.args, arg, name, ctx)
		if err != nil {
			return err
		}
		s.tab = tb
	}
	return nil
}

func checkStickConv(c *conv, ctx *Context) error {
	name := c.def.name
	op, ok := stkConvOps[strings.TrimPrefix(name, "table_")]
	if !ok {
		op = stkOps[strings.TrimPrefix(name, "table_")]
	}
	if name == "in_table" {
		op = stkOp{kind: skInTable}
	}
	s := &stkFetch{op: op}
	arg := 0
	if op.idx {
		s.idx = int(argInt(c.args, 0, 0))
		arg++
	}
	tb, err := resolveTable(c.args, arg, name, ctx)
	if err != nil {
		return err
	}
	s.tab = tb
	c.stk = s
	return nil
}

func fetchTableSize(fe *fetch, t *Txn, v *Value) bool {
	tb := fe.stk.tab
	n := int64(tb.Used())
	if fe.def.name == "table_avl" {
		n = int64(tb.Config().Size) - n
	}
	v.Type, v.I = TypeInt, n
	return true
}

// counter resolves the entry a sc_* or src_* fetch reads
// (smp_fetch_sc_stkctr): the tracked entry, the same key in the table
// argument, or the source address in the table. tmp is set when the entry
// was referenced for this evaluation, to be released. ok is false when
// the fetch finds nothing: counter not tracked, no source address.
func (s *stkFetch) counter(t *Txn) (e *stick.Entry, tmp, ok bool) {
	if s.sc == -2 {
		k, ok := srcKey(t, s.tab)
		if !ok {
			return nil, false, false
		}
		return s.tab.Lookup(&k), true, true
	}
	c := t.Tracked(s.sc)
	if c == nil {
		return nil, false, false
	}
	if s.tab != nil {
		return s.tab.LookupEntry(c.Entry), true, true
	}
	return c.Entry, false, true
}

// srcKey is the source address as a key of tb.
func srcKey(t *Txn, tb *stick.Table) (stick.Key, bool) {
	v := &t.iv
	*v = Value{}
	if !addrValue(t.Src.Addr(), v) {
		return stick.Key{}, false
	}
	return TableKey(t, v, tb)
}

func fetchStick(fe *fetch, t *Txn, v *Value) bool {
	s := fe.stk
	e, tmp, ok := s.counter(t)
	if tmp {
		defer e.Release()
	}
	if s.op.kind == skTracked {
		v.Type, v.I = TypeBool, 0
		if ok {
			v.I = 1
		}
		return true
	}
	if !ok {
		return false
	}
	switch s.op.kind {
	case skTrackers:
		n := int64(0)
		if e != nil {
			n = int64(e.Refs())
			if tmp {
				n-- // the reference taken by the lookup
			}
		}
		v.Type, v.I = TypeInt, n
		return true
	case skIncGPC, skIncGPC0, skIncGPC1, skClrGPC, skClrGPC0, skClrGPC1, skUpdtConn:
		if e == nil && s.sc == -2 {
			// src_inc_gpc*, src_clr_gpc* and src_updt_conn_cnt create
			// the entry (smp_create_src_stkctr)
			k, _ := srcKey(t, s.tab)
			if e = s.tab.Get(&k); e != nil {
				defer e.Release()
			}
		}
	}
	v.Type, v.I = TypeInt, 0
	if e == nil {
		// an absent key reads as zero, except where nothing is created
		return s.op.kind != skUpdtConn
	}
	n, ok := s.read(e)
	switch s.op.kind {
	case skIncGPC, skIncGPC0, skIncGPC1:
		// an increment of nothing stored still returns 0
		ok = true
	}
	v.I = n
	return ok
}

// read applies the operation to a present entry; ok is false when the
// table does not store what it reads.
func (s *stkFetch) read(e *stick.Entry) (int64, bool) {
	switch s.op.kind {
	case skValue:
		return e.Value(s.op.dt, s.idx)
	case skKBytes:
		n, ok := e.Value(s.op.dt, 0)
		return int64(uint64(n) >> 10), ok
	case skGPC0:
		return e.GPC0()
	case skGPC1:
		return e.GPC1()
	case skGPC0Rate:
		return e.GPC0Rate()
	case skGPC1Rate:
		return e.GPC1Rate()
	case skGPT0:
		return e.GPT0()
	case skIncGPC:
		return e.IncGPC(s.idx)
	case skIncGPC0:
		return e.IncGPC0()
	case skIncGPC1:
		return e.IncGPC1()
	case skClrGPC:
		return e.ClearGPC(s.idx)
	case skClrGPC0:
		return e.ClearGPC0()
	case skClrGPC1:
		return e.ClearGPC1()
	case skUpdtConn:
		return e.IncConnCnt()
	case skTrackers:
		return int64(e.Refs()), true
	case skServerID:
		id, ok := e.ServerID()
		return int64(id), ok
	}
	return 0, false
}

// convStick looks the sample up in the converter's table: in_table says
// whether it is there, table_* return its value, 0 when the key is absent
// and nothing when the table does not store it.
func convStick(c *conv, t *Txn, v *Value) bool {
	s := c.stk
	k, ok := TableKey(t, v, s.tab)
	if !ok {
		return false
	}
	e := s.tab.Lookup(&k)
	if s.op.kind == skInTable {
		v.Type, v.I = TypeBool, 0
		if e != nil {
			v.I = 1
			e.Release()
		}
		return true
	}
	v.Type, v.I = TypeInt, 0
	if e == nil {
		return true
	}
	defer e.Release()
	v.I, ok = s.read(e)
	return ok
}
