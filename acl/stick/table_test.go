package stick

import (
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeClock is a settable now_ms.
type fakeClock struct{ ms atomic.Uint32 }

func (c *fakeClock) now() uint32    { return c.ms.Load() }
func (c *fakeClock) set(ms uint32)  { c.ms.Store(ms) }
func (c *fakeClock) add(ms uint32)  { c.ms.Add(ms) }
func newClock(ms uint32) *fakeClock { c := &fakeClock{}; c.set(ms); return c }

func mustTable(t testing.TB, line string, clk *fakeClock) *Table {
	t.Helper()
	cfg, msgs := Parse(strings.Fields(line), "fe", false)
	if HasErrors(msgs) {
		t.Fatal(msgs)
	}
	return New(cfg, clk.now)
}

func ip4(s string) Key {
	k, _ := IPKey(KeyIP, netip.MustParseAddr(s))
	return k
}

func TestFreqCtr(t *testing.T) {
	var f FreqCtr
	const p = 10000
	steps := []struct {
		at     uint32
		inc    uint32 // 0: read only
		wantRd uint32
	}{
		{1_000_000, 1, 1},
		{1_005_000, 5, 6},
		{1_009_999, 0, 6},
		{1_012_000, 0, 4}, // 6 weighted by 8000/10000
		{1_012_000, 1, 5}, // 6*8000 + 1*10000
		{1_025_000, 0, 1}, // flapping correction: one past event reads 1
		{1_031_000, 0, 0},
		{1_031_001, 3, 3}, // two periods missed: no history, tick restarts even
	}
	for _, s := range steps {
		if s.inc > 0 {
			f.Update(s.at, p, s.inc)
		}
		if got := f.Read(s.at, p); got != s.wantRd {
			t.Errorf("at %d: read %d, want %d (%+v)", s.at, got, s.wantRd, f)
		}
	}
	if f.CurrTick != 1_031_000 {
		t.Errorf("tick %d, want 1031000 (bit 0 cleared)", f.CurrTick)
	}
	// wrapping clock
	var g FreqCtr
	g.Update(0xffffff00, 1000, 2)
	if got := g.Read(0x100, 1000); got != 2 {
		t.Errorf("across wrap: %d", got)
	}
}

var idRe = regexp.MustCompile(`^0x[0-9a-f]+: `)

// lines returns a command's output with entry ids replaced by "ID".
func lines(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		out = append(out, idRe.ReplaceAllString(l, "ID: "))
	}
	return strings.Join(out, "\n")
}

func TestTrackAndShow(t *testing.T) {
	clk := newClock(5_000_000)
	tb := mustTable(t, "stick-table type ip size 1k expire 30s store http_req_rate(10s),conn_cur,conn_cnt,gpc0,http_err_rate(10s),bytes_out_rate(10s),gpt(2),gpc_rate(2,1s),server_key,server_id", clk)
	var set Tables
	set.Add(tb)
	k := ip4("127.0.0.1")
	e := tb.Track(&k)
	e.IncHTTPReq()
	e.IncHTTPErr()
	e.AddBytesOut(100)
	// gpc0 is stored, gpc0_rate is not: gpc_rate[0] stands in for it
	if v, ok := e.IncGPC0(); !ok || v != 1 {
		t.Errorf("sc_inc_gpc0 = %d, %v", v, ok)
	}
	e.IncGPC(1)
	e.SetGPT(1, -1)
	e.SetServer(3, "s1")
	clk.add(2)
	got := lines(set.Command([]string{"show", "table", "fe"}, true))
	want := "# table: fe, type: ip, size:1024, used:1\n" +
		"ID: key=127.0.0.1 use=1 exp=29998 server_id=3 gpc0=1 conn_cnt=1 conn_cur=1 http_req_rate(10000)=1 http_err_rate(10000)=1 bytes_out_rate(10000)=100 server_key=s1 gpt0=0 gpt1=4294967295 gpc0_rate(1000)=1 gpc1_rate(1000)=1"
	if got != want {
		t.Errorf("show:\n%s\nwant\n%s", got, want)
	}
	e.StopCounters()
	e.Release()
	if v, _ := e.Value(ConnCur, 0); v != 0 {
		t.Errorf("conn_cur %d after stop", v)
	}
	if got := set.Command([]string{"show", "table"}, true); got != "# table: fe, type: ip, size:1024, used:1\n" {
		t.Errorf("list: %q", got)
	}
	// expiry: 30s after the last touch the entry is gone
	clk.add(29_999)
	if e := tb.Lookup(&k); e == nil {
		t.Fatal("expired too early")
	} else {
		e.Release()
	}
	clk.add(1)
	if e := tb.Lookup(&k); e != nil {
		t.Fatal("not expired")
	}
	if tb.Purge() != 1 || tb.Used() != 0 {
		t.Fatalf("purge: used %d", tb.Used())
	}
	// a new track starts from zero
	e = tb.Track(&k)
	if v, _ := e.Value(ConnCnt, 0); v != 1 {
		t.Errorf("conn_cnt %d on a fresh entry", v)
	}
	e.Release()
}

func TestReferencedEntryOutlivesExpiry(t *testing.T) {
	clk := newClock(1000)
	tb := mustTable(t, "stick-table type ip size 10 expire 1s store conn_cur", clk)
	k := ip4("10.0.0.1")
	e := tb.Track(&k)
	clk.add(5000)
	if tb.Purge() != 0 {
		t.Fatal("purged a tracked entry")
	}
	if l := tb.Lookup(&k); l != e {
		t.Fatal("tracked entry not found")
	} else {
		l.Release()
	}
	e.StopCounters() // touches: expires 1s later
	e.Release()
	if tb.Used() != 1 {
		t.Fatal("removed before its new expiry")
	}
	clk.add(1000)
	if tb.Lookup(&k) != nil || tb.Purge() != 1 {
		t.Fatal("not removed after expiry")
	}
}

func TestEviction(t *testing.T) {
	clk := newClock(1000)
	tb := mustTable(t, "stick-table type integer size 3 expire 1m store gpc0", clk)
	var held []*Entry
	for i := int64(1); i <= 3; i++ {
		k := IntKey(i)
		held = append(held, tb.Get(&k))
		clk.add(10)
	}
	held[0].Release()
	held[1].Release()
	// touching 1 moves it behind 2 once the queue is walked
	held[0].Touch()
	k := IntKey(4)
	e := tb.Get(&k)
	if e == nil {
		t.Fatal("no room made")
	}
	if tb.Used() != 3 {
		t.Fatalf("used %d", tb.Used())
	}
	k1, k2 := IntKey(1), IntKey(2)
	if x := tb.Lookup(&k2); x != nil {
		t.Error("oldest untouched entry 2 not evicted")
		x.Release()
	}
	if x := tb.Lookup(&k1); x == nil {
		t.Error("touched entry 1 evicted")
	} else {
		x.Release()
	}
	// only referenced entries left besides 1: 1 goes next, then nothing
	held[0] = nil
	k5, k6 := IntKey(5), IntKey(6)
	e5 := tb.Get(&k5)
	if e5 == nil {
		t.Fatal("entry 1 not evicted for 5")
	}
	if tb.Get(&k6) != nil {
		t.Fatal("created with every entry referenced")
	}
	e.Release()
	e5.Release()
	held[2].Release()

	np := mustTable(t, "stick-table type integer size 1 nopurge", clk)
	a := np.Get(&k1)
	a.Release()
	if np.Get(&k2) != nil {
		t.Fatal("nopurge table evicted")
	}
}

func TestKeys(t *testing.T) {
	clk := newClock(0)
	s := mustTable(t, "stick-table type string len 4 size 10", clk)
	k := BytesKey([]byte("abcdefg"))
	e := s.Get(&k)
	k2 := BytesKey([]byte("abcd\x00zz"))
	if s.Lookup(&k2) != e {
		t.Error("string keys are cut at NUL and at len")
	}
	b := mustTable(t, "stick-table type binary len 4 size 10", clk)
	k = BytesKey([]byte{1})
	e = b.Get(&k)
	if string(e.keyBytes()) != "\x01\x00\x00\x00" {
		t.Errorf("binary key %q", e.keyBytes())
	}
	v6 := mustTable(t, "stick-table type ipv6 size 10", clk)
	k, _ = IPKey(KeyIPv6, netip.MustParseAddr("192.0.2.1"))
	e = v6.Get(&k)
	if got := formatKey(v6.cfg, e.keyBytes()); got != "::ffff:192.0.2.1" {
		t.Errorf("ipv6 key %s", got)
	}
	if _, ok := IPKey(KeyIP, netip.MustParseAddr("2001:db8::1")); ok {
		t.Error("ipv6 address accepted by an ip table")
	}
	in := mustTable(t, "stick-table type ip size 10", clk)
	wrong := IntKey(1)
	if in.Get(&wrong) != nil {
		t.Error("integer key accepted by an ip table")
	}
	for _, c := range []struct{ in, want string }{
		{"::", "::"}, {"::1", "::1"}, {"::1.2.3.4", "::1.2.3.4"}, {"1::", "1::"},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, {"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
		{"::ffff:0:1.2.3.4", "::ffff:0:102:304"}, {"0:0:0:0:0:1:0:0", "::1:0:0"},
	} {
		if got := string(AppendIPv6(nil, netip.MustParseAddr(c.in).As16())); got != c.want {
			t.Errorf("AppendIPv6(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want uint32
	}{{"127.0.0.1", 0x7f000001}, {"1.2.3", 0x01020300}, {"abc", 0}, {"1.2.3.4.5", 0x01020304}, {"256.0.0.1", 0x00000001}, {"0.256.0.1", 0x01000001}, {"1234.0.0.1", 0xea000001}} {
		if got := inetaddrHost(c.in); got != c.want {
			t.Errorf("inetaddr_host(%s) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestCommands(t *testing.T) {
	clk := newClock(7_000_000)
	a := mustTable(t, "stick-table type integer size 100 expire 10s store gpc0,http_req_rate(1s)", clk)
	cfg, _ := Parse(strings.Fields("stick-table type string len 8 size 10 store server_key"), "b", false)
	b := New(cfg, clk.now)
	var set Tables
	set.Add(a)
	set.Add(b)
	run := func(line string) string { return set.Command(strings.Fields(line), true) }
	for _, c := range []struct{ cmd, want string }{
		{"set table fe key 3 data.gpc0 7", ""},
		{"set table fe key 258 data.gpc0 1 data.http_req_rate 5", ""},
		{"set table fe key 1", ""},
		// integer keys are listed in the byte order of the host: 258 is 02 01 00 00
		{"show table fe", "# table: fe, type: integer, size:100, used:3\nID: key=1 use=0 exp=10000 gpc0=0 http_req_rate(1000)=0\nID: key=258 use=0 exp=10000 gpc0=1 http_req_rate(1000)=5\nID: key=3 use=0 exp=10000 gpc0=7 http_req_rate(1000)=0"},
		{"show table fe data.gpc0 gt 0 data.http_req_rate eq 0", "# table: fe, type: integer, size:100, used:3\nID: key=3 use=0 exp=10000 gpc0=7 http_req_rate(1000)=0"},
		{"show table fe key 3", "# table: fe, type: integer, size:100, used:3\nID: key=3 use=0 exp=10000 gpc0=7 http_req_rate(1000)=0"},
		{"show table fe key 4", ""},
		{"show table fe key x", "Invalid key"},
		{"show table fe key -1", "Invalid key"},
		{"show table fe key 4294967296", "Invalid key"},
		{"show table fe key", "Key value expected"},
		{"show table fe data.gpc1 gt 0", "Filter entry #1: Data type not stored in this table"},
		{"show table fe data.foo gt 0", "Filter entry #1: Unknown data type"},
		{"show table fe data.gpc0 gx 0", "Filter entry #1: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\""},
		{"show table fe data.gpc0 gt x", "Filter entry #1: Require a valid integer value to compare against"},
		{"show table fe data.gpc0 gt 0 data.gpc0 gt 0 data.gpc0 gt 0 data.gpc0 gt 0 extra", "Detected extra data in filter, 16th word of input, after '0'"},
		{"show table fe foo", "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>"},
		{"show table nope", "No such table"},
		{"clear table", "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>"},
		{"set table fe data.gpc0 eq 1", "content-based lookup is only supported with the \"show\" and \"clear\" actions"},
		{"set table fe key 3 gpc0 1", "\"data.<type>\" followed by a value expected"},
		{"set table fe key 3 data.foo 1", "Unknown data type"},
		{"set table fe key 3 data.gpc1 1", "Data type not stored in this table"},
		{"set table fe key 3 data.gpc0 1x", "Require a valid integer value to store"},
		{"set table fe key 3 data.gpc0", "Require a valid integer value to store"},
		{"set table b key abcdefghijk data.server_key 1", ""},
		{"show table b", "# table: b, type: string, size:10, used:1\nID: key=abcdefgh use=0 exp=0 server_key=-"},
		{"clear table fe data.gpc0 le 1", ""},
		{"show table", "# table: b, type: string, size:10, used:1\n# table: fe, type: integer, size:100, used:1"},
		{"clear table fe key 3", ""},
		{"show table fe", "# table: fe, type: integer, size:100, used:0"},
		// without a key, "set table" walks the table like "clear table"
		{"set table fe key 1", ""},
		{"set table fe", ""},
		{"show table fe", "# table: fe, type: integer, size:100, used:0"},
	} {
		if got := lines(run(c.cmd)); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.cmd, got, c.want)
		}
	}
	if got := set.Command(strings.Fields("show table fe"), false); got != "# table: fe, type: integer, size:100, used:0\n# contents not dumped due to insufficient privileges\n" {
		t.Errorf("user level: %q", got)
	}
	// a tracked entry cannot be cleared
	k := IntKey(9)
	e := a.Track(&k)
	if got := run("clear table fe key 9"); got != "Entry currently in use, cannot remove\n" {
		t.Errorf("clear in use: %q", got)
	}
	e.Release()
}

// TestClearNeighbour keeps HAProxy 2.6's "clear table" quirk: an entry is
// spared when the one after it in key order is referenced.
func TestClearNeighbour(t *testing.T) {
	clk := newClock(1)
	tb := mustTable(t, "stick-table type ip size 10 expire 10s", clk)
	var set Tables
	set.Add(tb)
	for _, a := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		k := ip4(a)
		tb.Get(&k).Release()
	}
	k := ip4("10.0.0.2")
	e := tb.Get(&k)
	set.Command(strings.Fields("clear table fe"), true)
	got := lines(set.Command(strings.Fields("show table fe"), true))
	want := "# table: fe, type: ip, size:10, used:2\nID: key=10.0.0.1 use=0 exp=10000\nID: key=10.0.0.2 use=1 exp=10000"
	if got != want {
		t.Errorf("after clear:\n%s\nwant\n%s", got, want)
	}
	e.Release()
}
