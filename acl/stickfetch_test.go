package acl

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gohap/gohap/acl/stick"
	"github.com/gohap/gohap/runtime/h1"
)

// stickClock is a settable table clock.
type stickClock struct{ ms uint32 }

func (c *stickClock) now() uint32 { return c.ms }

// stickTables builds tables from "name: stick-table ..." lines.
func stickTables(t testing.TB, clk *stickClock, lines ...string) *stick.Tables {
	t.Helper()
	var set stick.Tables
	for _, l := range lines {
		name, def, _ := strings.Cut(l, ": ")
		cfg, msgs := stick.Parse(strings.Fields(def), name, false)
		for _, m := range msgs {
			if !m.Warning {
				t.Fatalf("%s: %s", l, m.Text)
			}
		}
		set.Add(stick.New(cfg, clk.now))
	}
	return &set
}

func stickCtx(t testing.TB, clk *stickClock) *Context {
	return &Context{Proxy: "fe", Tables: stickTables(t, clk,
		"fe: stick-table type ip size 10 expire 30s store conn_cur,conn_cnt,conn_rate(10s),http_req_cnt,http_req_rate(10s),gpc0,gpc0_rate(1s),bytes_in_cnt,bytes_out_cnt,http_err_cnt,server_id,gpt0",
		"other: stick-table type ip size 10 store gpc(3),gpt(2),gpc_rate(2,1s)",
		"str: stick-table type string len 8 size 10 store http_req_cnt",
		"bare: stick-table type ip size 10",
	)}
}

func evalStr(t *testing.T, tx *Txn, ctx *Context, expr string) string {
	t.Helper()
	s, err := CompileSampleWith(expr, ctx)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	b, ok := s.Append(nil, tx)
	if !ok {
		return "<none>"
	}
	return string(b)
}

func TestStickResolve(t *testing.T) {
	clk := &stickClock{ms: 1000}
	ctx := stickCtx(t, clk)
	for _, c := range []struct{ expr, want string }{
		{"src_conn_cur(nope)", "unable to find table 'nope' referenced in arg 1 of sample fetch keyword 'src_conn_cur'"},
		{"src,table_conn_cur(nope2)", "unable to find table 'nope2' referenced in arg 1 of conversion keyword 'table_conn_cur' for sample fetch keyword 'src'"},
		{"sc_get_gpc(0,1,nope4)", "unable to find table 'nope4' referenced in arg 3 of sample fetch keyword 'sc_get_gpc'"},
		{"sc0_conn_cur(x)", "unable to find table 'x' referenced in arg 1 of sample fetch keyword 'sc0_conn_cur'"},
	} {
		_, err := CompileSampleWith(c.expr, ctx)
		var re *ResolveError
		if !errors.As(err, &re) || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.expr, err, c.want)
		}
	}
	// an empty table argument is the proxy's table, which must exist
	noTable := &Context{Proxy: "be", Tables: ctx.Tables}
	for _, e := range []string{"src_conn_cur", "src_conn_cur()", "sc0_conn_cur()", "table_cnt", "str(a),in_table()", "sc_conn_cur(0,)"} {
		if _, err := CompileSampleWith(e, ctx); err != nil {
			t.Errorf("%s: %v", e, err)
		}
		_, err := CompileSampleWith(e, noTable)
		if err == nil || !strings.HasPrefix(err.Error(), "unable to find table 'be' referenced in arg") {
			t.Errorf("%s in be: %v", e, err)
		}
	}
	if _, err := CompileSampleWith("src_conn_cur", &Context{Tables: ctx.Tables}); err == nil || err.Error() != "table name must be set in arg 1 of sample fetch keyword 'src_conn_cur'" {
		t.Errorf("defaults: %v", err)
	}
	// ACL keywords
	for _, c := range []struct{ fetch, want string }{
		{"src,table_conn_cur(nope)", "unable to find table 'nope' referenced in arg 1 of conversion keyword 'table_conn_cur' for ACL keyword 'src'"},
		{"sc_get_gpc(0,1,nope4)", "unable to find table 'nope4' referenced in arg 3 of ACL keyword 'sc_get_gpc'"},
	} {
		_, err := CompileWith(c.fetch, []string{"gt", "1"}, ctx)
		if err == nil || err.Error() != c.want {
			t.Errorf("acl %s: %v, want %q", c.fetch, err, c.want)
		}
	}
	// argument lists as HAProxy registers them
	for _, c := range []struct{ expr, want string }{
		{"sc_conn_cur", "fetch method 'sc_conn_cur' : expected type 'integer' at position 1, but got nothing"},
		{"sc_get_gpc(1)", "fetch method 'sc_get_gpc' : missing arguments (got 1/2), type 'integer' expected"},
		{"src_get_gpc", "fetch method 'src_get_gpc' : expected type 'integer' at position 1, but got nothing"},
		{"src_trackers", "unknown fetch method 'src_trackers'"},
		{"str(a),table_gpc", "invalid arg 1 in converter 'table_gpc' : expected type 'integer' at position 1, but got nothing"},
	} {
		_, err := CompileSampleWith(c.expr, ctx)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.expr, err, c.want)
		}
	}
}

func TestStickFetches(t *testing.T) {
	clk := &stickClock{ms: 1000}
	ctx := stickCtx(t, clk)
	fe, other, str := ctx.Tables.Table("fe"), ctx.Tables.Table("other"), ctx.Tables.Table("str")
	tx := txn(t, req)
	tx.Src = netip.MustParseAddrPort("10.0.0.1:1234")
	ev := func(expr string) string { t.Helper(); return evalStr(t, tx, ctx, expr) }
	check := func(expr, want string) {
		t.Helper()
		if got := ev(expr); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}

	// nothing tracked: sc fetches find nothing, src fetches read 0
	check("sc0_conn_cur", "<none>")
	check("sc_conn_cur(0)", "<none>")
	check("sc0_tracked", "0")
	check("sc_tracked(2)", "0")
	check("src_conn_cur", "0")
	check("src_get_gpc0(other)", "0")
	check("table_cnt", "0")
	check("table_avl", "10")
	check("src,in_table", "0")
	check("src,table_conn_cnt", "0")
	check("src,table_trackers", "0")

	// track-sc0 src followed by the request count
	k, _ := stick.IPKey(stick.KeyIP, tx.Src.Addr())
	e := fe.Track(&k)
	if !tx.TrackSC(0, fe, e) {
		t.Fatal("TrackSC refused")
	}
	if e2 := fe.Track(&k); tx.TrackSC(0, fe, e2) {
		t.Fatal("second TrackSC accepted")
	} else {
		e2.StopCounters()
		e2.Release()
	}
	tx.IncHTTPReq()
	check("sc0_tracked", "1")
	check("sc_tracked(0)", "1")
	check("sc1_tracked", "0")
	check("sc1_conn_cur", "<none>")
	check("sc0_conn_cur", "1")
	check("sc0_conn_cnt", "2")
	check("sc0_conn_rate", "2")
	check("sc_http_req_rate(0)", "1")
	check("sc0_http_req_cnt", "1")
	check("sc0_sess_cnt", "<none>")
	check("sc0_http_fail_cnt", "<none>")
	check("sc0_trackers", "1")
	check("src,table_trackers", "2") // counts its own lookup, as HAProxy does
	check("src_conn_cur", "1")
	check("src_http_req_cnt", "1")
	check("src_http_req_cnt(fe)", "1")
	check("table_cnt", "1")
	check("table_avl", "9")
	check("table_cnt(other)", "0")
	check("src,in_table", "1")
	check("src,in_table(other)", "0")
	check("src,table_http_req_rate", "1")
	check("src,table_http_fail_rate", "<none>") // present, not stored
	check("ipv4(10.0.0.2),table_http_req_rate", "0")
	check("src,table_gpc(0,other)", "0")
	check("str(10.0.0.1),table_conn_cur", "1") // cast from string
	check("sc0_get_gpc0", "0")
	check("sc0_inc_gpc0", "1")
	check("sc_inc_gpc0(0)", "2")
	check("sc0_gpc0_rate", "2")
	check("sc0_clr_gpc0", "2")
	check("sc0_get_gpc0", "0")
	check("sc0_get_gpc1", "<none>")
	check("sc0_inc_gpc1", "0")
	check("sc0_clr_gpc1", "<none>")
	check("sc0_get_gpt0", "0")
	check("src,table_server_id", "0")

	// bytes
	tx.AddBytesIn(5000)
	tx.AddBytesOut(1023)
	check("sc0_kbytes_in", "4")
	check("sc0_kbytes_out", "0")
	check("sc0_bytes_in_rate", "<none>")
	check("src_kbytes_in", "4")
	check("src,table_kbytes_in", "4")

	// another table with the tracked key
	check("sc0_get_gpc0(other)", "0")
	check("sc0_tracked(other)", "1")
	check("sc0_trackers(other)", "0")
	check("sc0_inc_gpc0(other)", "0") // absent there: not created
	check("table_cnt(other)", "0")
	check("src_inc_gpc0(other)", "1") // src_ creates it
	check("table_cnt(other)", "1")
	check("sc0_get_gpc0(other)", "1")
	check("sc0_trackers(other)", "0")
	check("src_inc_gpc(1,other)", "1")
	check("src_inc_gpc(1,other)", "2")
	check("src_get_gpc(1,other)", "2")
	check("src_gpc_rate(1,other)", "2")
	check("src_clr_gpc(1,other)", "2")
	check("sc_get_gpc(1,0,other)", "0")
	check("src_get_gpc(5,other)", "<none>")
	check("src_get_gpc(-1,other)", "<none>")
	check("src_inc_gpc(0,other)", "2")  // gpc0 fetches use gpc[0] here
	check("src_gpc_rate(0,other)", "2") // src_inc_gpc0 counted there too
	check("src_get_gpt0(other)", "0")
	check("src_get_gpt(1,other)", "0")
	check("src,table_gpc(1,other)", "0")
	check("src,table_gpc0(other)", "2")
	check("src,table_gpc0_rate(other)", "2") // falls back on gpc_rate[0]
	check("src,table_gpc_rate(0,other)", "2")
	check("src,table_gpc1(other)", "0") // falls back on gpc[1]
	check("src,table_conn_cur(other)", "<none>")
	check("src_conn_cur(bare)", "0")

	// src_updt_conn_cnt creates and counts
	tx.Src = netip.MustParseAddrPort("10.0.0.9:1")
	check("src_updt_conn_cnt", "1")
	check("src_updt_conn_cnt", "2")
	check("src_updt_conn_cnt(other)", "<none>")
	check("src_conn_cnt", "2")
	check("src_conn_cur", "0")
	check("table_cnt", "2")

	// string table keys
	se := str.Track(stickKey("www.example.com"))
	if !tx.TrackSC(1, str, se) {
		t.Fatal("TrackSC(1) refused")
	}
	se.IncHTTPReq()
	check("sc1_http_req_cnt", "1")
	check("str(www.example.org),table_http_req_cnt(str)", "1") // cut at len 8
	check("str(www.exam),table_http_req_cnt(str)", "1")
	check("str(www.exa),table_http_req_cnt(str)", "0")
	check("sc1_get_gpc0", "<none>")
	check("sc1_conn_cur(fe)", "0") // the bytes "www." are no key there

	// session counters are read when the stream's are empty
	sess := &TrackSet{}
	tx.SessTrack = sess
	k3, _ := stick.IPKey(stick.KeyIP, netip.MustParseAddr("10.0.0.3"))
	sess.Set(2, fe, fe.Track(&k3))
	check("sc2_conn_cur", "1")
	check("sc_tracked(2)", "1")

	// the end of the stream releases its counters, not the session's
	tx.ReleaseTracked()
	check("sc0_tracked", "0")
	check("sc2_tracked", "1")
	tx.Src = netip.MustParseAddrPort("10.0.0.1:1234")
	check("src_conn_cur", "0")
	sess.Release()
	if e.Refs() != 0 {
		t.Errorf("refs left: %d", e.Refs())
	}
	// an IPv6 source does not fit an ip table
	tx.Src = netip.MustParseAddrPort("[2001:db8::1]:1")
	check("src_conn_cur", "<none>")
	tx.Src = netip.MustParseAddrPort("[::ffff:10.0.0.1]:1")
	check("src_conn_cur", "0")
	check("src_conn_cnt", "2")
	check("table_cnt(other)", "2") // src_updt_conn_cnt(other) created one
	_ = other
}

// trackedTxn returns a context with stickCtx's tables and a Txn whose sc0
// tracks its source in table fe.
func trackedTxn(t testing.TB, clk *stickClock) (*Context, *Txn) {
	ctx := stickCtx(t, clk)
	fe := ctx.Tables.Table("fe")
	tx := txn(t, req)
	k, _ := stick.IPKey(stick.KeyIP, tx.Src.Addr())
	tx.TrackSC(0, fe, fe.Track(&k))
	return ctx, tx
}

func stickKey(s string) *stick.Key {
	k := stick.BytesKey([]byte(s))
	return &k
}

func TestStickRates(t *testing.T) {
	clk := &stickClock{ms: 1000}
	ctx, tx := trackedTxn(t, clk)
	for i := 0; i < 5; i++ {
		tx.IncHTTPReq()
		clk.ms += 1000
	}
	if got := evalStr(t, tx, ctx, "sc0_http_req_rate"); got != "5" {
		t.Errorf("rate %s", got)
	}
	clk.ms += 15000
	if got := evalStr(t, tx, ctx, "sc0_http_req_rate"); got != "0" {
		t.Errorf("rate after 15s %s", got)
	}
	// an entry past its expiry is gone for src_ but the tracked one stays
	clk.ms += 40000
	if got := evalStr(t, tx, ctx, "src_http_req_cnt"); got != "5" {
		t.Errorf("tracked entry expired: %s", got)
	}
	tx.ReleaseTracked()
	if got := evalStr(t, tx, ctx, "src_http_req_cnt"); got != "5" {
		t.Errorf("released entry touched at release: %s", got)
	}
	clk.ms += 31000
	if got := evalStr(t, tx, ctx, "src_http_req_cnt"); got != "0" {
		t.Errorf("expired entry: %s", got)
	}
}

func TestStickCond(t *testing.T) {
	clk := &stickClock{ms: 1000}
	ctx := stickCtx(t, clk)
	s := NewSetWith(ctx)
	if err := s.Add("abuse", "sc0_http_req_rate", []string{"gt", "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("known", "src,in_table(other)", nil); err != nil {
		t.Fatal(err)
	}
	c, err := s.ParseCond([]string{"if", "abuse", "||", "known"})
	if err != nil {
		t.Fatal(err)
	}
	tx := txn(t, req)
	if c.Eval(tx) {
		t.Error("untracked stream matched")
	}
	fe := ctx.Tables.Table("fe")
	k, _ := stick.IPKey(stick.KeyIP, tx.Src.Addr())
	tx.TrackSC(0, fe, fe.Track(&k))
	for i := 0; i < 3; i++ {
		tx.IncHTTPReq()
		if got := c.Eval(tx); got != (i == 2) {
			t.Errorf("request %d: %v", i, got)
		}
	}
	tx.ReleaseTracked()
	other := ctx.Tables.Table("other")
	other.Get(&k).Release()
	if !c.Eval(tx) {
		t.Error("in_table(other) did not match")
	}
}

func TestStickAllocs(t *testing.T) {
	clk := &stickClock{ms: 1000}
	ctx, tx := trackedTxn(t, clk)
	for _, e := range []string{"sc0_http_req_rate", "sc_conn_cur(0)", "src_http_req_rate", "src,table_conn_cur", "sc0_inc_gpc0", "str(abc),table_http_req_cnt(str)", "sc0_get_gpc0(other)"} {
		s, err := CompileSampleWith(e, ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Eval(tx)
		if n := testing.AllocsPerRun(100, func() { s.Eval(tx) }); n != 0 {
			t.Errorf("%s: %.1f allocations", e, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { tx.IncHTTPReq() }); n != 0 {
		t.Errorf("IncHTTPReq: %.1f allocations", n)
	}
}

func BenchmarkStickFetch(b *testing.B) {
	ctx, tx := trackedTxn(b, &stickClock{ms: 1000})
	for _, e := range []string{"sc0_http_req_rate", "src_http_req_rate", "src,table_conn_cur"} {
		s, err := CompileSampleWith(e, ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(e, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Eval(tx)
			}
		})
	}
}

func TestHdrFollowsDir(t *testing.T) {
	tx := txn(t, req)
	rsp := "HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nX-Rsp: 1\r\n\r\n"
	tx.RspBuf = []byte(rsp)
	tx.Rsp = &h1.Msg{Headers: make([]h1.Header, 0, 8)}
	if err := h1.ParseResponse(tx.RspBuf, tx.Rsp, 101); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		expr     string
		req, res string
	}{
		{"hdr(upgrade)", "WebSocket", "h2c"},
		{"hdr(x-rsp)", "<none>", "1"},
		{"req.hdr(upgrade)", "WebSocket", "WebSocket"},
		{"res.hdr(upgrade)", "h2c", "h2c"},
		{"hdr_cnt(upgrade)", "1", "1"},
		{"hdr_cnt(x-rsp)", "0", "0"},
	} {
		tx.Dir = DirReq
		if got := evalStr(t, tx, nil, c.expr); got != c.req {
			t.Errorf("%s in a request rule: %s, want %s", c.expr, got, c.req)
		}
		tx.Dir = DirRes
		if got := evalStr(t, tx, nil, c.expr); got != c.res {
			t.Errorf("%s in a response rule: %s, want %s", c.expr, got, c.res)
		}
	}
	// the ACL keyword hdr is req.hdr in both
	e, err := Compile("hdr(upgrade)", []string{"-i", "websocket"})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Match(tx) {
		t.Error("ACL hdr read the response")
	}
}
