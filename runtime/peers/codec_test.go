package peers

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gohap/gohap/acl/stick"
)

// The encoded length changes exactly at HAProxy's PEER_ENC_*BYTES_MIN.
func TestVarintBoundaries(t *testing.T) {
	mins := []uint64{0, 0xf0, 0x8f0, 0x408f0, 0x20408f0, 0x1020408f0, 0x81020408f0, 0x4081020408f0, 0x204081020408f0, 0x10204081020408f0}
	for n, m := range mins {
		if got := len(AppendVarint(nil, m)); got != n+1 {
			t.Errorf("len(%#x) = %d, want %d", m, got, n+1)
		}
		if m > 0 {
			if got := len(AppendVarint(nil, m-1)); got != n {
				t.Errorf("len(%#x) = %d, want %d", m-1, got, n)
			}
		}
	}
	// Bytes HAProxy's intencode writes.
	for v, want := range map[uint64][]byte{0: {0}, 239: {0xef}, 240: {0xf0, 0}, 241: {0xf1, 0}, 255: {0xff, 0}, 256: {0xf0, 1}, 2287: {0xff, 0x7f}, 2288: {0xf0, 0x80, 0}} {
		if got := AppendVarint(nil, v); !bytes.Equal(got, want) {
			t.Errorf("AppendVarint(%d) = % x, want % x", v, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		v := r.Uint64() >> r.UintN(64)
		b := AppendVarint(nil, v)
		got, n := Varint(append(b, 0x55))
		if got != v || n != len(b) {
			t.Fatalf("Varint(% x) = %d, %d; want %d, %d", b, got, n, v, len(b))
		}
		if _, n := Varint(b[:len(b)-1]); n != 0 {
			t.Fatalf("truncated % x decoded", b)
		}
	}
	if got, _ := Varint(AppendVarint(nil, math.MaxUint64)); got != math.MaxUint64 {
		t.Errorf("max: %d", got)
	}
}

func newTable(t *testing.T, words string) *stick.Table {
	t.Helper()
	c, msgs := stick.Parse(strings.Fields("stick-table "+words), "t", false)
	if stick.HasErrors(msgs) {
		t.Fatalf("%s: %v", words, msgs)
	}
	tb := stick.New(c, nil)
	tb.Share(func() {})
	return tb
}

func setKey(t *testing.T, tb *stick.Table, text string, cmds ...string) {
	t.Helper()
	tables := &stick.Tables{}
	tables.Add(tb)
	if out := tables.Command(append([]string{"set", "table", "t", "key", text}, cmds...), true); out != "" {
		t.Fatalf("set %s: %s", text, out)
	}
}

// An entry encoded by one table and decoded by another of the same
// definition gives the same "show table" line, for each key type, every
// data type the CLI sets, arrays and server_key.
func TestUpdateRoundTrip(t *testing.T) {
	store := "store server_id,gpt0,gpc(3),gpc_rate(2,7s),conn_cnt,conn_rate(5s),conn_cur,sess_cnt,http_req_cnt,http_req_rate(1m),bytes_in_cnt,bytes_out_rate(2s),server_key,http_fail_cnt"
	for _, tc := range []struct{ def, key string }{
		{"type ip", "10.1.2.3"},
		{"type ipv6", "2001:db8::7"},
		{"type integer", "4294967295"},
		{"type string len 12", "hello-world"},
	} {
		src := newTable(t, tc.def+" size 10 expire 30s "+store)
		dst := newTable(t, tc.def+" size 10 expire 30s "+store)
		setKey(t, src, tc.key, "data.server_id", "-3", "data.gpt0", "4",
			"data.conn_cnt", "300", "data.conn_cur", "5", "data.http_req_rate", "77", "data.bytes_in_cnt", "12345678901234", "data.http_fail_cnt", "2")
		k, err := src.ParseKey(tc.key)
		if err != nil {
			t.Fatal(err)
		}
		e := src.Lookup(&k)
		e.SetServer(-3, "srv1")
		e.IncGPC(2)
		e.IncGPC(1)
		e.IncGPC(2)
		def := AppendDefine(nil, 1, "t", src)
		m, _, err := ReadMessage(bufio.NewReader(bytes.NewReader(def)), nil)
		if err != nil || m.Class != classStickTable || m.Type != stktDefine {
			t.Fatalf("define: %v %+v", err, m)
		}
		d, err := DecodeDefine(m.Body, func(n string) bool { return n == "t" })
		if err != nil {
			t.Fatalf("decode define: %v", err)
		}
		if d.Elems[stick.GPC] != 3 || d.Elems[stick.GPCRate] != 2 || d.Periods[stick.GPCRate] != 7000 || d.Expire != 30000 {
			t.Errorf("define: %+v", d)
		}
		var tx txDict
		var rx rxDict
		for round := 0; round < 2; round++ {
			// the second round sends server_key by its number alone
			msg := AppendUpdate(nil, src, e, 7, true, true, src.Now(), &tx)
			m, _, err = ReadMessage(bufio.NewReader(bytes.NewReader(msg)), nil)
			if err != nil || m.Type != stktUpdateTimed {
				t.Fatalf("update: %v %+v", err, m)
			}
			u, err := DecodeUpdate(m.Type, m.Body, &RemoteTable{Def: d, Table: dst}, dst.Now(), &rx)
			if err != nil {
				t.Fatalf("%s: decode: %v", tc.def, err)
			}
			if u.ID != 7 || u.Expire > 30000 || u.Expire < 29000 {
				t.Errorf("%s: id %d expire %d", tc.def, u.ID, u.Expire)
			}
			pk := dst.PeerKey(u.Key)
			dst.ApplyRemote(&pk, u.Expire, u.Values)
			got := dst.Lookup(&pk)
			if got == nil {
				t.Fatalf("%s: no entry", tc.def)
			}
			want := strings.Replace(e.Line(), "conn_cur=5", "conn_cur=0", 1)
			if a, b := stripAddr(got.Line()), stripAddr(want); a != b {
				t.Errorf("%s round %d:\n got %s\nwant %s", tc.def, round, a, b)
			}
			got.Release()
		}
		e.Release()
	}
}

func stripAddr(l string) string {
	_, rest, _ := strings.Cut(l, ": ")
	// the expiry may differ by the time spent
	f := strings.Fields(rest)
	for i := range f {
		if strings.HasPrefix(f[i], "exp=") {
			f[i] = "exp"
		}
	}
	return strings.Join(f, " ")
}

// HAProxy refuses definitions it cannot use: an unknown name before the
// rest is read, a wrong key type or length, arrays without parameters.
func TestDecodeDefine(t *testing.T) {
	tb := newTable(t, "type ip size 10 store gpc(2)")
	def := AppendDefine(nil, 3, "t", tb)
	m, _, _ := ReadMessage(bufio.NewReader(bytes.NewReader(def)), nil)
	if _, err := DecodeDefine(m.Body, func(string) bool { return false }); err != errIgnore {
		t.Errorf("unknown name: %v", err)
	}
	// cut before the expiry: the array has no element count
	body := AppendVarint(nil, 3)
	body = AppendVarint(body, 1)
	body = append(body, 't')
	body = AppendVarint(body, ktIPv4)
	body = AppendVarint(body, 4)
	body = AppendVarint(body, 1<<stick.GPC)
	if _, err := DecodeDefine(body, func(string) bool { return true }); err != errIgnore {
		t.Errorf("array without count: %v", err)
	}
	// a name reaching the end is malformed
	if _, err := DecodeDefine([]byte{3, 1, 't'}, func(string) bool { return true }); err != errMalformed {
		t.Errorf("short: %v", err)
	}
	if _, err := DecodeDefine([]byte{3, 0, 't'}, func(string) bool { return true }); err != errMalformed {
		t.Errorf("empty name: %v", err)
	}
}

// A length longer than five bytes is a protocol error, a body longer
// than the buffers a size error.
func TestReadMessageLimits(t *testing.T) {
	long := []byte{classStickTable, stktUpdate, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	if _, _, err := ReadMessage(bufio.NewReader(bytes.NewReader(long)), nil); err != errMalformed {
		t.Errorf("long length: %v", err)
	}
	big := AppendVarint([]byte{classStickTable, stktUpdate}, maxMessage+1)
	if _, _, err := ReadMessage(bufio.NewReader(bytes.NewReader(big)), nil); err != errSize {
		t.Errorf("big: %v", err)
	}
	ctrl := []byte{classControl, ctrlHeartbeat}
	if m, _, err := ReadMessage(bufio.NewReader(bytes.NewReader(ctrl)), nil); err != nil || m.Body != nil {
		t.Errorf("control: %v %+v", err, m)
	}
}

func TestPeerKeyIP(t *testing.T) {
	tb := newTable(t, "type ip size 10")
	k := tb.PeerKey([]byte{10, 0, 0, 9})
	want, _ := stick.IPKey(stick.KeyIP, netip.MustParseAddr("10.0.0.9"))
	if !bytes.Equal(k.Bytes(), want.Bytes()) {
		t.Errorf("% x", k.Bytes())
	}
}
