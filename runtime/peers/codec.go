package peers

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl/stick"
)

// The wire format of HAProxy's peers protocol 2.1 (doc/peers-v2.0.txt,
// src/peers.c).

// Message classes.
const (
	classControl     = 0
	classError       = 1
	classStickTable  = 10
	classReserved    = 255
	stktBit          = 0x80 // types with a length and a body
	maxLengthEncoded = 5    // PEER_MSG_ENC_LENGTH_MAXLEN
)

// Control message types.
const (
	ctrlResyncReq = iota
	ctrlResyncFinished
	ctrlResyncPartial
	ctrlResyncConfirm
	ctrlHeartbeat
)

// Error message types.
const (
	errProtocol  = 0
	errSizeLimit = 1
)

// Stick-table message types.
const (
	stktUpdate          = 0x80
	stktIncUpdate       = 0x81
	stktDefine          = 0x82
	stktSwitch          = 0x83
	stktAck             = 0x84
	stktUpdateTimed     = 0x85
	stktIncUpdateTimed  = 0x86
	protoName           = "HAProxyS"
	protoMajor          = 2
	protoMinor          = 1
	protoMinorDowngrade = 0
)

// Handshake status codes.
const (
	statusConnect   = 100
	statusConnected = 110
	statusSuccess   = 200
	statusTryAgain  = 300
	statusErrProto  = 501
	statusErrVers   = 502
	statusErrHost   = 503
	statusErrPeer   = 504
)

// maxMessage is the largest message body accepted (trash.size, the
// default tune.bufsize).
const maxMessage = 16384

// Network key types (PEER_KT_*).
const (
	ktSint = 2
	ktIPv4 = 4
	ktIPv6 = 5
	ktStr  = 6
	ktBin  = 7
)

var netKeyType = [...]uint64{stick.KeyInteger: ktSint, stick.KeyIP: ktIPv4, stick.KeyIPv6: ktIPv6, stick.KeyString: ktStr, stick.KeyBinary: ktBin}

// keyTypeOf maps a network key type to a table key type.
func keyTypeOf(kt uint64) (stick.KeyType, bool) {
	for t, n := range netKeyType {
		if n == kt {
			return stick.KeyType(t), true
		}
	}
	return 0, false
}

// AppendVarint appends v in the protocol's variable length encoding
// (intencode).
func AppendVarint(b []byte, v uint64) []byte {
	if v < 0xf0 {
		return append(b, byte(v))
	}
	b = append(b, byte(v)|0xf0)
	v = (v - 0xf0) >> 4
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v = (v - 0x80) >> 7
	}
	return append(b, byte(v))
}

// Varint decodes a value at the start of b (intdecode) and returns it with
// the bytes it used; n is 0 when b ends first.
func Varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	v = uint64(b[0])
	n = 1
	if v < 0xf0 {
		return v, 1
	}
	shift := uint(4)
	for {
		if n >= len(b) {
			return 0, 0
		}
		c := b[n]
		n++
		if shift < 64 {
			v += uint64(c) << shift
		}
		shift += 7
		if c < 0x80 {
			return v, n
		}
	}
}

// Message is one protocol message: its class and type, and the body of
// stick-table messages.
type Message struct {
	Class, Type byte
	Body        []byte
}

var (
	// errMalformed is a message HAProxy answers with a protocol error.
	errMalformed = errors.New("malformed message")
	// errSize is a message longer than the buffers.
	errSize = errors.New("message too large")
)

// ReadMessage reads the next message (peer_recv_msg). The body is read
// into buf when it is large enough.
func ReadMessage(r *bufio.Reader, buf []byte) (Message, []byte, error) {
	var m Message
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return m, buf, err
	}
	m.Class, m.Type = head[0], head[1]
	if m.Type&stktBit == 0 {
		return m, buf, nil
	}
	var lb [maxLengthEncoded]byte
	n := 0
	var length uint64
	for {
		c, err := r.ReadByte()
		if err != nil {
			return m, buf, err
		}
		lb[n] = c
		n++
		v, used := Varint(lb[:n])
		if used > 0 {
			length = v
			break
		}
		if n == len(lb) {
			return m, buf, errMalformed
		}
	}
	if length > maxMessage {
		return m, buf, errSize
	}
	if cap(buf) < int(length) {
		buf = make([]byte, length)
	}
	m.Body = buf[:length]
	if _, err := io.ReadFull(r, m.Body); err != nil {
		return m, buf, err
	}
	return m, buf, nil
}

// appendStkt appends a stick-table message with its length.
func appendStkt(b []byte, typ byte, body []byte) []byte {
	b = append(b, classStickTable, typ)
	b = AppendVarint(b, uint64(len(body)))
	return append(b, body...)
}

// Hello is the handshake a connecting peer sends.
type Hello struct {
	Major, Minor int
	// Remote is the name the connecting peer gives the accepting one;
	// Name its own name.
	Remote, Name string
	PID, RelPID  string
}

// AppendHello appends the three handshake lines (peer_prepare_hellomsg).
func AppendHello(b []byte, minor int, remote, local string, pid int) []byte {
	b = append(b, protoName+" 2."...)
	b = strconv.AppendInt(b, int64(minor), 10)
	b = append(b, '\n')
	b = append(b, remote...)
	b = append(b, '\n')
	b = append(b, local...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(pid), 10)
	return append(b, " 1\n"...)
}

// parseVersion reads the first handshake line; the status is 0 when it
// is right (peer_getline_version).
func parseVersion(line string) (major, minor int, status int) {
	rest, ok := strings.CutPrefix(line, protoName+" ")
	if !ok {
		return 0, 0, statusErrProto
	}
	ma, mi, ok := strings.Cut(rest, ".")
	a, okA := readUint(ma)
	c, okC := readUint(mi)
	if !ok || !okA || !okC || a != protoMajor || c > protoMinor {
		return 0, 0, statusErrVers
	}
	return a, c, 0
}

// readUint is HAProxy's read_uint over a whole word: digits only, at
// least one.
func readUint(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
		if n > 1<<30 {
			n = 1 << 30
		}
	}
	return n, true
}

// readLine reads a handshake line ending in "\n", without it and without
// a "\r" before it (peer_getline).
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errMalformed
		}
		return "", err
	}
	s := string(line[:len(line)-1])
	return strings.TrimSuffix(s, "\r"), nil
}

// TableDef is what a define message says of a table.
type TableDef struct {
	ID      uint64
	Name    string
	KeyType uint64
	KeyLen  uint64
	Data    uint64
	// Expire is absent from old peers' messages.
	Expire    uint64
	HasExpire bool
	Elems     [stick.NumDataTypes]uint64
	Periods   [stick.NumDataTypes]uint64
}

// Results of DecodeDefine besides success.
var (
	// errIgnore is a definition HAProxy skips: the table stays unknown.
	errIgnore = errors.New("ignored definition")
)

// DecodeDefine reads a define message (peer_treat_definemsg). known says
// whether a local table has the name; unknown names are ignored before
// the rest is read. It returns errMalformed or errIgnore as HAProxy
// would treat the message.
func DecodeDefine(body []byte, known func(name string) bool) (TableDef, error) {
	var d TableDef
	cur := body
	next := func() (uint64, bool) {
		v, n := Varint(cur)
		if n == 0 {
			return 0, false
		}
		cur = cur[n:]
		return v, true
	}
	var ok bool
	if d.ID, ok = next(); !ok {
		return d, errMalformed
	}
	nameLen, ok := next()
	if !ok || nameLen == 0 || nameLen >= uint64(len(cur)) {
		return d, errMalformed
	}
	d.Name = string(cur[:nameLen])
	if !known(d.Name) {
		return d, errIgnore
	}
	cur = cur[nameLen:]
	if d.KeyType, ok = next(); !ok {
		return d, errMalformed
	}
	if d.KeyLen, ok = next(); !ok {
		return d, errMalformed
	}
	if d.Data, ok = next(); !ok {
		return d, errMalformed
	}
	d.Expire, d.HasExpire = next()
	for dt := stick.DataType(0); dt < stick.NumDataTypes; dt++ {
		if d.Data&(1<<dt) == 0 {
			continue
		}
		if !d.HasExpire {
			if dt.IsArray() {
				return d, errIgnore
			}
			continue
		}
		if !dt.IsArray() && !dt.IsRate() {
			continue
		}
		typ, ok := next()
		if !ok || typ != uint64(dt) {
			return d, errIgnore
		}
		if dt.IsArray() {
			if d.Elems[dt], ok = next(); !ok {
				return d, errIgnore
			}
		}
		if dt.IsRate() {
			if d.Periods[dt], ok = next(); !ok {
				return d, errIgnore
			}
		}
	}
	return d, nil
}

// AppendDefine appends the define message of a shared table
// (peer_prepare_switchmsg).
func AppendDefine(b []byte, id uint64, name string, t *stick.Table) []byte {
	c := t.Config()
	body := AppendVarint(nil, id)
	body = AppendVarint(body, uint64(len(name)))
	body = append(body, name...)
	body = AppendVarint(body, netKeyType[c.Type])
	body = AppendVarint(body, uint64(c.KeySize))
	var data uint64
	var params []byte
	for dt := stick.DataType(0); dt < stick.NumDataTypes; dt++ {
		if !t.Stores(dt) {
			continue
		}
		if dt.IsArray() {
			params = AppendVarint(params, uint64(dt))
			params = AppendVarint(params, uint64(t.Elems(dt)))
			if dt.IsRate() {
				params = AppendVarint(params, uint64(t.Period(dt)))
			}
		} else if dt.IsRate() {
			params = AppendVarint(params, uint64(dt))
			params = AppendVarint(params, uint64(t.Period(dt)))
		}
		data |= 1 << dt
	}
	body = AppendVarint(body, data)
	body = AppendVarint(body, uint64(c.Expire))
	body = append(body, params...)
	return appendStkt(b, stktDefine, body)
}

// AppendAck appends an acknowledgement of the updates of the remote
// table id up to update (peer_prepare_ackmsg).
func AppendAck(b []byte, id uint64, update uint32) []byte {
	body := AppendVarint(make([]byte, 0, 9), id)
	body = binary.BigEndian.AppendUint32(body, update)
	return appendStkt(b, stktAck, body)
}

// DecodeAck reads an ack message (peer_treat_ackmsg).
func DecodeAck(body []byte) (id uint64, update uint32, err error) {
	id, n := Varint(body)
	if n == 0 || len(body)-n < 4 {
		return 0, 0, errMalformed
	}
	return id, binary.BigEndian.Uint32(body[n:]), nil
}

// DecodeSwitch reads a switch message's table id.
func DecodeSwitch(body []byte) (uint64, error) {
	id, n := Varint(body)
	if n == 0 {
		return 0, errMalformed
	}
	return id, nil
}

// dictSize is the number of server_key values each side caches
// (PEER_STKT_CACHE_MAX_ENTRIES).
const dictSize = 128

// txDict numbers the server_key values sent on a session, reusing
// the oldest number once all are taken (dcache_tx).
type txDict struct {
	ids  map[string]int
	vals [dictSize]string
	next int
}

// rxDict holds the server_key values received on a session (dcache_rx).
type rxDict struct {
	vals [dictSize]string
	set  [dictSize]bool
}

// Entry is an entry as an update message carries it.
type Entry struct {
	// ID is the update's number; Timed says Expire is given.
	ID     uint32
	HasID  bool
	Timed  bool
	Expire uint32
	Key    []byte
	Values []stick.Value
}

// AppendUpdate appends the update message of entry e of table t
// (peer_prepare_updatemsg). now is the table clock's date.
func AppendUpdate(b []byte, t *stick.Table, e *stick.Entry, id uint32, withID, timed bool, now uint32, dict *txDict) []byte {
	c := t.Config()
	body := make([]byte, 0, 64)
	if withID {
		body = binary.BigEndian.AppendUint32(body, id)
	}
	if timed {
		exp := e.Expire()
		var rem uint32
		if exp != 0 && int32(exp-now) > 0 {
			rem = exp - now
		}
		body = binary.BigEndian.AppendUint32(body, rem)
	}
	key := e.KeyBytes()
	switch c.Type {
	case stick.KeyString:
		if i := strings.IndexByte(string(key), 0); i >= 0 {
			key = key[:i]
		}
		body = AppendVarint(body, uint64(len(key)))
		body = append(body, key...)
	case stick.KeyInteger:
		body = binary.BigEndian.AppendUint32(body, binary.LittleEndian.Uint32(key))
	default:
		body = append(body, key...)
	}
	e.PeerData(func(dt stick.DataType, v uint64, f stick.FreqCtr, s string) {
		switch dt.Wire() {
		case stick.WireFreq:
			body = AppendVarint(body, uint64(now-f.CurrTick))
			body = AppendVarint(body, uint64(f.CurrCtr))
			body = AppendVarint(body, uint64(f.PrevCtr))
		case stick.WireDict:
			body = dict.append(body, s)
		default:
			body = AppendVarint(body, v)
		}
	})
	typ := byte(stktIncUpdate)
	switch {
	case timed && withID:
		typ = stktUpdateTimed
	case timed:
		typ = stktIncUpdateTimed
	case withID:
		typ = stktUpdate
	}
	return appendStkt(b, typ, body)
}

// append encodes a server_key value: 0 for none, the number alone when
// the peer has it, else the number and the value.
func (d *txDict) append(b []byte, s string) []byte {
	if s == "" {
		return AppendVarint(b, 0)
	}
	if d.ids == nil {
		d.ids = make(map[string]int)
	}
	if id, ok := d.ids[s]; ok {
		b = AppendVarint(b, 1)
		return AppendVarint(b, uint64(id+1))
	}
	id := d.next
	d.next = (d.next + 1) % dictSize
	if old := d.vals[id]; old != "" {
		delete(d.ids, old)
	}
	d.vals[id], d.ids[s] = s, id
	v := AppendVarint(nil, uint64(id+1))
	v = AppendVarint(v, uint64(len(s)))
	v = append(v, s...)
	b = AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// RemoteTable is what a session knows of a peer's table: its definition
// and the local table of the same name.
type RemoteTable struct {
	Def   TableDef
	Table *stick.Table
}

// DecodeUpdate reads an update message of type typ for the local table of
// rt (peer_treat_updatemsg). now is the table clock's date, for rates.
func DecodeUpdate(typ byte, body []byte, rt *RemoteTable, now uint32, dict *rxDict) (Entry, error) {
	var u Entry
	u.HasID = typ == stktUpdate || typ == stktUpdateTimed
	u.Timed = typ == stktUpdateTimed || typ == stktIncUpdateTimed
	cur := body
	if u.HasID {
		if len(cur) < 4 {
			return u, errMalformed
		}
		u.ID = binary.BigEndian.Uint32(cur)
		cur = cur[4:]
	}
	if u.Timed {
		if len(cur) < 4 {
			return u, errMalformed
		}
		u.Expire = binary.BigEndian.Uint32(cur)
		cur = cur[4:]
	}
	c := rt.Table.Config()
	switch c.Type {
	case stick.KeyString:
		n, used := Varint(cur)
		if used == 0 {
			return u, errMalformed
		}
		cur = cur[used:]
		store := min(n, uint64(c.KeySize-1))
		if store > uint64(len(cur)) {
			return u, errMalformed
		}
		u.Key = cur[:store]
		cur = cur[min(n, uint64(len(cur))):]
	case stick.KeyInteger:
		if len(cur) < 4 {
			return u, errMalformed
		}
		u.Key = cur[:4]
		cur = cur[4:]
	default:
		if len(cur) < c.KeySize {
			return u, errMalformed
		}
		u.Key = cur[:c.KeySize]
		cur = cur[c.KeySize:]
	}
	next := func() (uint64, bool) {
		v, n := Varint(cur)
		if n == 0 {
			return 0, false
		}
		cur = cur[n:]
		return v, true
	}
	for dt := stick.DataType(0); dt < stick.NumDataTypes; dt++ {
		if rt.Def.Data&(1<<dt) == 0 {
			continue
		}
		elems := uint64(1)
		if dt.IsArray() {
			elems = rt.Def.Elems[dt]
		}
		for idx := uint64(0); idx < elems; idx++ {
			v := stick.Value{DT: dt, Idx: int(min(idx, 1<<20))}
			x, ok := next()
			if !ok {
				return u, errMalformed
			}
			switch dt.Wire() {
			case stick.WireFreq:
				v.Freq.CurrTick = tickAdd(now, uint32(-x)) &^ 1
				cc, ok1 := next()
				pc, ok2 := next()
				if !ok1 || !ok2 {
					return u, errMalformed
				}
				v.Freq.CurrCtr, v.Freq.PrevCtr = uint32(cc), uint32(pc)
			case stick.WireDict:
				s, set, err := dict.decode(x, &cur)
				if err != nil {
					return u, err
				}
				if !set {
					continue
				}
				v.Str = s
			default:
				v.Int = x
			}
			u.Values = append(u.Values, v)
		}
	}
	return u, nil
}

// decode reads a server_key value of length n from *cur; set is false for
// none.
func (d *rxDict) decode(n uint64, cur *[]byte) (string, bool, error) {
	if n == 0 {
		return "", false, nil
	}
	if n > uint64(len(*cur)) {
		return "", false, errMalformed
	}
	part := (*cur)[:n]
	*cur = (*cur)[n:]
	id, used := Varint(part)
	if used == 0 || id == 0 {
		return "", false, errMalformed
	}
	part = part[used:]
	if len(part) == 0 {
		if id > dictSize {
			return "", false, errMalformed
		}
		if !d.set[id-1] {
			return "", false, nil
		}
		return d.vals[id-1], true, nil
	}
	l, used := Varint(part)
	if used == 0 || l > uint64(len(part)-used) || l+1 >= maxMessage || id > dictSize {
		return "", false, errMalformed
	}
	s := string(part[used : used+int(l)])
	d.vals[id-1], d.set[id-1] = s, true
	return s, true, nil
}

// tickAdd is HAProxy's tick_add: 0 means "never", so it is skipped.
func tickAdd(now, d uint32) uint32 {
	if r := now + d; r != 0 {
		return r
	}
	return 1
}
