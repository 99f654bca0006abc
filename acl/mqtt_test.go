package acl

import (
	"encoding/hex"
	"fmt"
	"testing"
)

// Packets of HAProxy's reg-test converter/mqtt.vtc, and a few more.
var mqttCases = []struct {
	name, hex string
	res       mqttResult
}{
	{"3.1.1 CONNECT long id", "10d40100044d5154540402003c00c8746573745f737562" + repeatHex("61", 192), mqttValid},
	{"3.1.1 CONNECT user pass", "101a00044d51545404c2003c00000004746573740006706173737764", mqttValid},
	{"3.1.1 CONNECT will user pass", "103a00044d51545404ee003c0008746573745f737562000977696c6c746f706963000b77696c6c7061796c6f61640004746573740006706173737764", mqttValid},
	{"5.0 CONNECT", "101800044d5154540502003c032100140008746573745f737562", mqttValid},
	{"5.0 CONNECT user pass", "102600044d51545405c2003c032100140008746573745f7375620004746573740006706173737764", mqttValid},
	{"5.0 CONNECT complex", mqttComplex, mqttValid},
	{"3.1 CONNECT", "102400064d514973647003c200000008746573745f7375620004746573740006706173737764", mqttValid},
	{"3.1.1 CONNACK", "20020000", mqttValid},
	{"5.0 CONNACK", "200600000322000a", mqttValid},
	{"5.0 CONNACK complex", mqttComplexAck, mqttValid},
	{"PINGREQ", "d000", mqttInvalid},
	{"CONNECT bad fixed flags", "111400044d5154540402003c0008746573745f737562", mqttInvalid},
	{"CONNACK bad flags", "21020000", mqttInvalid},
	{"remaining length over 4 bytes", "10ffffffff1400044d5154540402003c0008746573745f737562", mqttInvalid},
	{"length mismatch 0x13", "101300044d5154540402003c000874657374a5f73756", mqttInvalid},
	{"length mismatch 0x18", "101800044d5154540402003c000874657374a5f737562fffffff", mqttInvalid},
	{"CONNACK reserved flag bits", "20020200", mqttInvalid},
	{"CONNACK unknown property", "2005000002ff00", mqttNeedMore},
	{"CONNECT unknown property", "101600044d5154540502003c01ff0008746573745f737562", mqttInvalid},
	{"CONNECT duplicate property", "101b00044d5154540502003c06210014210014" + "0008746573745f737562", mqttInvalid},
	{"CONNECT receive maximum 0", "101800044d5154540502003c032100000008746573745f737562", mqttInvalid},
	{"CONNECT bad protocol", "101400044d5154580402003c0008746573745f737562", mqttInvalid},
	{"CONNECT protocol case", "101400046d7174740402003c0008746573745f737562", mqttValid},
	{"CONNECT version 6", "101400044d5154540602003c0008746573745f737562", mqttInvalid},
	{"CONNECT reserved flag", "101400044d5154540403003c0008746573745f737562", mqttInvalid},
	{"CONNECT will qos without will", "101400044d5154540418003c0008746573745f737562", mqttInvalid},
	{"CONNECT auth data without method", "101800044d5154540502003c071600047465737400" + "0474657374", mqttInvalid},
	{"CONNECT trailing byte", "101500044d5154540402003c0008746573745f73756200", mqttInvalid},
	{"short", "10", mqttNeedMore},
	{"empty", "", mqttNeedMore},
	{"varint cut", "1080", mqttInvalid},
	{"CONNACK followed by more", "2002000020020000", mqttInvalid},
}

// The complex CONNECT and CONNACK of mqtt.vtc: flags 238, max packet size
// 20, request problem information 1, content type text/plain, will
// response topic willrsptopic, user properties; CONNACK session expiry
// 120, receive maximum 32767, maximum QoS 1, retain available 1, maximum
// packet size 65535, topic alias maximum 10.
const (
	mqttComplex    = "107e00044d51545405ee003c182700000014170126000161000162260001630001642100140008746573745f7375622a03000a746578742f706c61696e08000c77696c6c727370746f7069632600016500016626000167000168000977696c6c746f706963000b77696c6c7061796c6f61640004746573740006706173737764"
	mqttComplexAck = "20250000221100000078217fff24012501270000ffff22000a2600016100016226000163000164"
)

func repeatHex(h string, n int) string {
	s := ""
	for i := 0; i < n; i++ {
		s += h
	}
	return s
}

func mqttBytes(t testing.TB, h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("%s: %v", h, err)
	}
	return b
}

func TestMQTTValidate(t *testing.T) {
	for _, c := range mqttCases {
		var p mqttPkt
		msg := mqttBytes(t, c.hex)
		if got := p.parse(msg); got != c.res {
			t.Errorf("%s: %d, want %d", c.name, got, c.res)
		}
		// Every strict prefix of a valid packet waits for more data.
		if c.res == mqttValid {
			for n := 0; n < len(msg); n++ {
				if r := p.parse(msg[:n]); r != mqttNeedMore {
					t.Errorf("%s cut at %d: %d, want more data", c.name, n, r)
					break
				}
			}
		}
	}
}

func TestMQTTFieldValue(t *testing.T) {
	tx := &Txn{Vars: &Vars{}}
	set := func(name, h string) {
		sc, n, _ := ParseVarName(name)
		tx.Vars.SetValue(sc, n, &Value{Type: TypeBin, B: mqttBytes(t, h)}, 0)
	}
	set("txn.c", mqttComplex)
	set("txn.a", mqttComplexAck)
	set("txn.c3", mqttCases[2].hex)
	set("txn.c31", mqttCases[6].hex)
	set("txn.ack3", "20020000")
	for _, c := range []struct{ expr, want string }{
		// mqtt.vtc's fe2 and be2 checks
		{"var(txn.c),mqtt_is_valid", "1"},
		{"var(txn.c),mqtt_field_value(connect,flags)", "238"},
		{"var(txn.c),mqtt_field_value(connect,protocol_name)", "MQTT"},
		{"var(txn.c),mqtt_field_value(connect,protocol_version)", "5"},
		{"var(txn.c),mqtt_field_value(connect,client_identifier)", "test_sub"},
		{"var(txn.c),mqtt_field_value(connect,will_topic)", "willtopic"},
		{"var(txn.c),mqtt_field_value(connect,will_payload)", "willpayload"},
		{"var(txn.c),mqtt_field_value(connect,username)", "test"},
		{"var(txn.c),mqtt_field_value(connect,password)", "passwd"},
		{"var(txn.c),mqtt_field_value(connect,39)", "20"},
		{"var(txn.c),mqtt_field_value(connect,23)", "1"},
		{"var(txn.c),mqtt_field_value(connect,3)", "text/plain"},
		{"var(txn.c),mqtt_field_value(connect,8)", "willrsptopic"},
		{"var(txn.c),mqtt_field_value(CONNECT,KeepAlive)", "60"},
		{"var(txn.c),mqtt_field_value(1,keepalive)", "60"},
		{"var(txn.c),mqtt_field_value(connect,17)", "0"},
		{"var(txn.c),mqtt_field_value(connect,24)", "0"},
		{"var(txn.c),mqtt_field_value(connect,9)", "<none>"},
		{"var(txn.c),mqtt_field_value(connect,21)", "<none>"},
		{"var(txn.c),mqtt_field_value(connect,38)", "<none>"},
		{"var(txn.c),mqtt_field_value(connack,flags)", "<none>"},
		{"var(txn.a),mqtt_is_valid", "1"},
		{"var(txn.a),mqtt_field_value(connack,flags)", "0"},
		{"var(txn.a),mqtt_field_value(connack,protocol_version)", "5"},
		{"var(txn.a),mqtt_field_value(connack,reason_code)", "0"},
		{"var(txn.a),mqtt_field_value(connack,17)", "120"},
		{"var(txn.a),mqtt_field_value(connack,33)", "32767"},
		{"var(txn.a),mqtt_field_value(connack,36)", "1"},
		{"var(txn.a),mqtt_field_value(connack,37)", "1"},
		{"var(txn.a),mqtt_field_value(connack,39)", "65535"},
		{"var(txn.a),mqtt_field_value(connack,34)", "10"},
		{"var(txn.a),mqtt_field_value(connack,31)", "<none>"},
		// 3.1.1 and 3.1: no properties
		{"var(txn.c3),mqtt_field_value(connect,protocol_version)", "4"},
		{"var(txn.c3),mqtt_field_value(connect,will_topic)", "willtopic"},
		{"var(txn.c3),mqtt_field_value(connect,3)", "<none>"},
		{"var(txn.c3),mqtt_field_value(connect,17)", "<none>"},
		{"var(txn.c31),mqtt_field_value(connect,protocol_name)", "MQIsdp"},
		{"var(txn.c31),mqtt_field_value(connect,will_topic)", "<none>"},
		{"var(txn.ack3),mqtt_field_value(connack,protocol_version)", "4"},
		{"var(txn.ack3),mqtt_field_value(connack,17)", "<none>"},
		{"str(hello),mqtt_is_valid", "0"},
		{"bin(d000),mqtt_is_valid", "0"},
	} {
		if got := evalStr(t, tx, nil, c.expr); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
	for _, c := range []struct{ expr, err string }{
		{"str(a),mqtt_field_value(nope,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT type 'nope'"},
		{"str(a),mqtt_field_value(connect,reason_code)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT field name 'reason_code' for packet type 'connect'"},
		{"str(a),mqtt_field_value(16,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT type '16'"},
		{"str(a),mqtt_field_value(pingreq,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT field name 'flags' for packet type 'pingreq'"},
	} {
		if _, err := CompileSample(c.expr); err == nil || err.Error() != c.err {
			t.Errorf("%s: %v, want %s", c.expr, err, c.err)
		}
	}
	// A packet still arriving may change the answer.
	s, _ := CompileSample("bin(101a00),mqtt_is_valid")
	if v, ok := s.Eval(tx); ok || !v.MayChange {
		t.Errorf("partial packet: %v %v", ok, v.MayChange)
	}
}

func TestMQTTAllocs(t *testing.T) {
	tx := &Txn{Vars: &Vars{}, Payload: mqttBytes(t, mqttComplex), Final: true}
	for _, e := range []string{"req.payload(0,0),mqtt_is_valid", "req.payload(0,0),mqtt_field_value(connect,username)",
		"req.payload(0,0),mqtt_field_value(connect,39)"} {
		s, err := CompileSample(e)
		if err != nil {
			t.Fatal(err)
		}
		var dst []byte
		dst, _ = s.Append(dst[:0], tx)
		if n := testing.AllocsPerRun(100, func() { dst, _ = s.Append(dst[:0], tx) }); n != 0 {
			t.Errorf("%s: %v allocations", e, n)
		}
	}
}

// mqttMutations are the reg-test packets cut and with single bytes
// changed, for the differential test.
func mqttMutations(t testing.TB) []string {
	var out []string
	for _, c := range mqttCases[:10] {
		b := mqttBytes(t, c.hex)
		out = append(out, c.hex)
		for _, i := range []int{1, 2, 3, 5, 8, 9, 10, 11, 12, 13, len(b) / 2, len(b) - 1} {
			if i >= len(b) {
				continue
			}
			m := append([]byte(nil), b...)
			m[i] ^= 0x55
			out = append(out, hex.EncodeToString(m))
		}
		out = append(out, hex.EncodeToString(b[:len(b)-1]), hex.EncodeToString(append(b, 0)))
	}
	return out
}

// TestMQTTDifferential compares mqtt_is_valid and every mqtt_field_value
// with haproxy's on the reg-test packets and mutations of them.
func TestMQTTDifferential(t *testing.T) {
	pkts := mqttMutations(t)
	for _, c := range mqttCases[10:] {
		if c.hex != "" {
			pkts = append(pkts, c.hex)
		}
	}
	var vars []struct{ name, expr string }
	var exprs []string
	for i, h := range pkts {
		if len(h) > 1000 {
			continue // one configuration line each
		}
		name := fmt.Sprintf("txn.p%d", i)
		vars = append(vars, struct{ name, expr string }{name, "bin(" + h + ")"})
		exprs = append(exprs, "var("+name+"),mqtt_is_valid")
		for _, typ := range []string{"connect", "connack"} {
			tid := mqttTypeID(typ)
			for f, n := range mqttFieldNames {
				if f != 0 && mqttFieldsPerType[tid]&(1<<f) != 0 {
					exprs = append(exprs, "var("+name+"),mqtt_field_value("+typ+","+n+")")
				}
			}
		}
	}
	diffCompare(t, vars, exprs)
}

func FuzzMQTT(f *testing.F) {
	for _, c := range mqttCases {
		f.Add(mqttBytes(f, c.hex))
	}
	valid, _ := CompileSample("req.payload(0,0),mqtt_is_valid")
	user, _ := CompileSample("req.payload(0,0),mqtt_field_value(connect,username)")
	f.Fuzz(func(t *testing.T, b []byte) {
		var p mqttPkt
		r := p.parse(b)
		if r == mqttValid && p.typ != mqttConnect && p.typ != mqttConnack {
			t.Errorf("valid packet of type %d", p.typ)
		}
		if r == mqttValid {
			for fid := 1; fid < mqttFnEntries; fid++ {
				v, ok := p.field(int(p.typ), fid, nil)
				if !ok && mqttAlways&mqttNumeric&mqttExtracted[p.typ]&(1<<fid) != 0 {
					t.Errorf("field %d missing", fid)
				}
				if ok && mqttNumeric&(1<<fid) == 0 && len(v) > len(b) {
					t.Errorf("field %d longer than the packet", fid)
				}
			}
		}
		tx := &Txn{Payload: b, Final: true}
		if v, ok := valid.Eval(tx); ok != (r != mqttNeedMore) || ok && (v.I == 1) != (r == mqttValid) {
			t.Errorf("mqtt_is_valid %v %d for %d", ok, v.I, r)
		}
		user.Eval(tx)
	})
}

func BenchmarkMQTTFieldValue(b *testing.B) {
	tx := &Txn{Vars: &Vars{}, Payload: mqttBytes(b, mqttComplex), Final: true}
	s, err := CompileSample("req.payload(0,0),mqtt_field_value(connect,username)")
	if err != nil {
		b.Fatal(err)
	}
	var dst []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst, _ = s.Append(dst[:0], tx)
	}
}
