package peers

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/gohap/gohap/acl/stick"
)

// FuzzDecode feeds a byte stream to the message reader and every decoder,
// and applies the updates it decodes to tables of each key type: nothing
// may panic, and a decoded key fits its table.
func FuzzDecode(f *testing.F) {
	tb := newFuzzTable("type string len 8 size 50 expire 10s store server_id,gpt0,gpc(2),gpc_rate(2,1s),conn_cur,bytes_in_cnt,http_req_rate(1s),server_key")
	f.Add(AppendDefine(nil, 1, "t", tb))
	k := stick.BytesKey([]byte("key"))
	e := tb.Get(&k)
	e.SetServer(3, "srv")
	var tx txDict
	f.Add(AppendUpdate(AppendDefine(nil, 1, "t", tb), tb, e, 5, true, true, tb.Now(), &tx))
	f.Add(AppendUpdate(nil, tb, e, 6, false, false, tb.Now(), &tx))
	e.Release()
	f.Add(AppendAck([]byte{classControl, ctrlHeartbeat}, 1, 9))
	f.Add([]byte{classStickTable, stktSwitch, 1, 1, classControl, ctrlResyncReq})
	f.Add([]byte{classStickTable, stktUpdate, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	tables := []*stick.Table{
		tb,
		newFuzzTable("type ip size 10 store gpc0,conn_rate(1s)"),
		newFuzzTable("type ipv6 size 10 expire 1s store server_key"),
		newFuzzTable("type integer size 10 store gpt(3)"),
		newFuzzTable("type binary len 5 size 10 store bytes_out_cnt"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		var rx rxDict
		var def TableDef
		for i := 0; i < 64; i++ {
			m, _, err := ReadMessage(r, nil)
			if err != nil {
				return
			}
			if len(m.Body) > maxMessage {
				t.Fatalf("body of %d bytes", len(m.Body))
			}
			if d, err := DecodeDefine(m.Body, func(string) bool { return true }); err == nil {
				def = d
			}
			DecodeAck(m.Body)
			DecodeSwitch(m.Body)
			for _, tb := range tables {
				u, err := DecodeUpdate(m.Type, m.Body, &RemoteTable{Def: def, Table: tb}, tb.Now(), &rx)
				if err != nil {
					continue
				}
				c := tb.Config()
				if c.Type != stick.KeyString && len(u.Key) != c.KeySize || c.Type == stick.KeyString && len(u.Key) >= c.KeySize {
					t.Fatalf("key of %d bytes for %v/%d", len(u.Key), c.Type, c.KeySize)
				}
				pk := tb.PeerKey(u.Key)
				tb.ApplyRemote(&pk, u.Expire, u.Values)
			}
		}
	})
}

func newFuzzTable(words string) *stick.Table {
	c, msgs := stick.Parse(strings.Fields("stick-table "+words), "t", false)
	if stick.HasErrors(msgs) {
		panic(words)
	}
	tb := stick.New(c, nil)
	tb.Share(func() {})
	return tb
}
