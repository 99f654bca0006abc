package acl

import (
	"strings"

	"github.com/gohap/gohap/runtime/h1"
)

// bufSize is tune.bufsize, the largest payload a fetch may reach.
const bufSize = 16384

func init() {
	addFetch(
		&fetchDef{name: "req.len", out: TypeInt, fn: fetchLen},
		&fetchDef{name: "res.len", out: TypeInt, fn: fetchLen},
		&fetchDef{name: "req.payload", args: spec(2, aSint, aSint), out: TypeBin, fn: fetchPayload},
		&fetchDef{name: "res.payload", args: spec(2, aSint, aSint), out: TypeBin, fn: fetchPayload},
		&fetchDef{name: "req.payload_lv", args: spec(2, aSint, aSint, aStr), out: TypeBin, fn: fetchPayloadLV, check: checkPayloadLV},
		&fetchDef{name: "res.payload_lv", args: spec(2, aSint, aSint, aStr), out: TypeBin, fn: fetchPayloadLV, check: checkPayloadLV},
		&fetchDef{name: "req.ssl_hello_type", out: TypeInt, fn: fetchSSLHelloType},
		&fetchDef{name: "res.ssl_hello_type", out: TypeInt, fn: fetchSSLHelloType},
		&fetchDef{name: "req.ssl_sni", out: TypeStr, fn: fetchSSLSNI},
		&fetchDef{name: "req.ssl_alpn", out: TypeStr, fn: fetchSSLALPN, iter: iterSSLALPN},
		&fetchDef{name: "req.ssl_ver", out: TypeInt, fn: fetchSSLVer},
		&fetchDef{name: "req.rdp_cookie", args: spec(0, aStr), out: TypeStr, fn: fetchRDPCookie},
		&fetchDef{name: "req.rdp_cookie_cnt", args: spec(0, aStr), out: TypeInt, fn: fetchRDPCookieCnt},
		&fetchDef{name: "wait_end", out: TypeBool, fn: fetchWaitEnd},
	)
	alias("req.len", "req_len")
	alias("req.payload", "payload")
	alias("req.payload_lv", "payload_lv")
	alias("req.ssl_hello_type", "req_ssl_hello_type")
	alias("res.ssl_hello_type", "rep_ssl_hello_type")
	alias("req.ssl_sni", "req_ssl_sni")
	alias("req.ssl_ver", "req_ssl_ver")
	alias("req.rdp_cookie", "rdp_cookie")
	alias("req.rdp_cookie_cnt", "rdp_cookie_cnt")
}

// data is the buffer a payload fetch reads.
func (fe *fetch) data(t *Txn) []byte {
	if strings.HasPrefix(fe.def.name, "res") || fe.def.name == "rep_ssl_hello_type" {
		return t.ResPayload
	}
	return t.Payload
}

// tooShort flags a fetch that needs more data than buffered.
func tooShort(t *Txn) bool {
	if !t.Final {
		t.mayChange = true
	}
	return false
}

func fetchLen(fe *fetch, t *Txn, v *Value) bool {
	n := len(fe.data(t))
	// A parsed head (HeadLen set) makes an HTTP stream; a TCP stream's
	// Txn may hold an empty message.
	if fe.def.name[2] == 's' { // res.len
		if t.Rsp != nil && t.Rsp.HeadLen > 0 {
			n = htxLen(t.RspBuf, t.Rsp, nil)
		}
	} else if t.Req != nil && t.Req.HeadLen > 0 {
		n = htxLen(t.Buf, t.Req, t.Body)
	}
	v.Type, v.I = TypeInt, int64(n)
	v.MayChange = !t.Final
	return true
}

// htxLen is what req.len and res.len give on an HTTP stream: the data
// size of HAProxy's HTX message ("not accurate but kept for backward
// compatibility", smp_fetch_len), that is the start line's three parts
// plus its 20-byte descriptor (struct htx_sl), each header's name and
// value, one byte for the end of headers, then the body data buffered.
func htxLen(buf []byte, m *h1.Msg, body []byte) int {
	const slDesc, eoh = 20, 1
	n := slDesc + eoh + len(body)
	if m.Method.Len() > 0 {
		n += m.Method.Len() + m.URI.Len() + m.Version.Len()
	} else {
		n += m.Version.Len() + m.Code.Len() + m.Reason.Len()
	}
	for _, h := range m.Headers {
		n += h.Name.Len() + h.Value.Len()
	}
	return n
}

func fetchPayload(fe *fetch, t *Txn, v *Value) bool {
	off, size := uint64(uint32(fe.args[0].i)), uint64(uint32(fe.args[1].i))
	d := fe.data(t)
	if size > bufSize || off+size > bufSize {
		return false
	}
	if off+size > uint64(len(d)) {
		return tooShort(t)
	}
	v.Type = TypeBin
	if size == 0 {
		v.B = d[off:]
		v.MayChange = !t.Final
	} else {
		v.B = d[off : off+size]
	}
	return true
}

func checkPayloadLV(fe *fetch, _ *Context) error {
	if fe.args[0].i < 0 {
		return errorf("payload offset1 must be positive")
	}
	if fe.args[1].i == 0 {
		return errorf("payload length must be > 0")
	}
	if len(fe.args) > 2 && fe.args[2].s != "" {
		s := fe.args[2].s
		rel := s[0] == '+' || s[0] == '-'
		i, n := readInt64([]byte(s))
		if n != len(s) {
			return errorf("payload offset2 is not a number")
		}
		if fe.args[0].i+fe.args[1].i+i < 0 {
			return errorf("payload offset2 too negative")
		}
		fe.args[2].i = i << 1
		if rel {
			fe.args[2].i++
		}
		fe.args[2].typ = aSint
	}
	return nil
}

func fetchPayloadLV(fe *fetch, t *Txn, v *Value) bool {
	lenOff, lenSize := uint64(uint32(fe.args[0].i)), uint64(uint32(fe.args[1].i))
	d := fe.data(t)
	if lenOff+lenSize > uint64(len(d)) {
		return tooShort(t)
	}
	var size uint64
	for i := uint64(0); i < lenSize; i++ {
		size = size<<8 + uint64(d[lenOff+i])
	}
	size = uint64(uint32(size))
	off := lenOff + lenSize
	if len(fe.args) > 2 && fe.args[2].typ == aSint {
		x := fe.args[2].i
		if x&1 != 0 {
			off = uint64(uint32(int64(off) + x>>1))
		} else {
			off = uint64(uint32(x >> 1))
		}
	}
	if size == 0 || size > bufSize || off+size > bufSize {
		return false
	}
	if off+size > uint64(len(d)) {
		return tooShort(t)
	}
	v.Type, v.B = TypeBin, d[off:off+size]
	return true
}

func fetchWaitEnd(fe *fetch, t *Txn, v *Value) bool {
	if !t.Final {
		t.mayChange = true
		return false
	}
	v.Type, v.I = TypeBool, 1
	return true
}

func fetchSSLHelloType(fe *fetch, t *Txn, v *Value) bool {
	d := fe.data(t)
	if len(d) == 0 {
		return tooShort(t)
	}
	if !(d[0] >= 0x14 && d[0] <= 0x17 || d[0] == 0xff) {
		return false
	}
	if len(d) < 9 {
		return tooShort(t)
	}
	if int(d[1])<<16+int(d[2]) < 0x030000 || int(d[3])<<8+int(d[4]) < 4 {
		return false
	}
	hsLen := int(d[6])<<16 + int(d[7])<<8 + int(d[8])
	if len(d) < 9+hsLen {
		return tooShort(t)
	}
	v.Type, v.I = TypeInt, int64(d[5])
	return true
}

// fetchSSLVer is smp_fetch_req_ssl_ver: the ClientHello's version, from
// an SSLv3/TLS record or an SSLv2 hello.
func fetchSSLVer(fe *fetch, t *Txn, v *Value) bool {
	d := t.Payload
	if len(d) == 0 {
		return tooShort(t)
	}
	var version, msgLen int
	if d[0] >= 0x14 && d[0] <= 0x17 || d[0] == 0xff {
		if len(d) < 11 {
			return tooShort(t)
		}
		version = int(d[1])<<16 + int(d[2])
		msgLen = int(d[3])<<8 + int(d[4])
		if version < 0x030000 || msgLen < 6 || msgLen > 1<<14+2048 {
			return false
		}
		d = d[5:]
		version = int(d[4])<<16 + int(d[5])
	} else {
		var rlen, plen int
		if d[0]&0x80 != 0 {
			if len(d) < 3 {
				return tooShort(t)
			}
			rlen = int(d[0]&0x7f)<<8 | int(d[1])
			d = d[2:]
		} else {
			if len(d) < 4 {
				return tooShort(t)
			}
			rlen = int(d[0]&0x3f)<<8 | int(d[1])
			plen = int(d[2])
			d = d[3:]
		}
		if d[0] != 1 {
			return false
		}
		d = d[1:]
		if len(d) < 8 {
			return tooShort(t)
		}
		version = int(d[0])<<16 + int(d[1])
		cilen := int(d[2])<<8 + int(d[3])
		silen := int(d[4])<<8 + int(d[5])
		chlen := int(d[6])<<8 + int(d[7])
		d = d[8:]
		if cilen%3 != 0 || silen != 0 && silen != 16 || chlen < 16 || chlen > 32 || rlen != 9+cilen+silen+chlen {
			return false
		}
		msgLen = cilen + silen + chlen + plen
	}
	if msgLen > bufSize {
		msgLen = bufSize
	}
	if len(d) < msgLen {
		return tooShort(t)
	}
	v.Type, v.I = TypeInt, int64(version)
	return true
}

// fetchSSLSNI is smp_fetch_ssl_hello_sni: the host_name of the
// server_name extension of a TLS ClientHello.
func fetchSSLSNI(fe *fetch, t *Txn, v *Value) bool {
	d := t.Payload
	if len(d) == 0 {
		return tooShort(t)
	}
	if d[0] != 0x16 {
		return false
	}
	if len(d) < 3 {
		return tooShort(t)
	}
	if d[1] < 3 {
		return false
	}
	if len(d) < 5 {
		return tooShort(t)
	}
	if int(d[3])<<8+int(d[4]) < 1+3+2+32+1+2+2+1+1+2+2 {
		return false
	}
	d = d[5:]
	if len(d) < 1 {
		return tooShort(t)
	}
	if d[0] != 1 {
		return false
	}
	if len(d) < 4 {
		return tooShort(t)
	}
	hsLen := int(d[1])<<16 + int(d[2])<<8 + int(d[3])
	if hsLen < 2+32+1+2+2+1+1+2+2 {
		return false
	}
	if len(d) < hsLen {
		return tooShort(t)
	}
	d = d[4:]
	if len(d) < 35 || d[0] < 3 || d[1] < 1 {
		return false
	}
	ext := int(d[34])
	if ext > 32 || ext > hsLen-35 {
		return false
	}
	hsLen -= 35 + ext
	d = d[35+ext:]
	if hsLen < 4 || len(d) < 2 {
		return false
	}
	if ext = int(d[0])<<8 + int(d[1]); ext < 2 || ext > hsLen {
		return false
	}
	hsLen -= 2 + ext
	if len(d) < 2+ext {
		return false
	}
	d = d[2+ext:]
	if hsLen < 2 || len(d) < 1 || d[0] < 1 || int(d[0]) > hsLen {
		return false
	}
	hsLen -= 1 + int(d[0])
	if len(d) < 1+int(d[0]) {
		return false
	}
	d = d[1+int(d[0]):]
	if hsLen < 2 || len(d) < 2 {
		return false
	}
	if ext = int(d[0])<<8 + int(d[1]); ext > hsLen-2 {
		return false
	}
	hsLen = ext
	d = d[2:]
	for hsLen >= 4 && len(d) >= 4 {
		typ := int(d[0])<<8 + int(d[1])
		ext = int(d[2])<<8 + int(d[3])
		if ext > hsLen-4 {
			return false
		}
		if typ == 0 {
			if ext < 2 || len(d) < 9 {
				return false
			}
			srvLen := int(d[4])<<8 + int(d[5])
			if srvLen < 4 || srvLen > hsLen-6 {
				return false
			}
			nameLen := int(d[7])<<8 + int(d[8])
			if d[6] == 0 {
				if 9+nameLen > len(d) {
					return false
				}
				v.Type, v.B = TypeStr, d[9:9+nameLen]
				return true
			}
		}
		hsLen -= 4 + ext
		if len(d) < 4+ext {
			return false
		}
		d = d[4+ext:]
	}
	return false
}

// rdpCookie is fetch_rdp_cookie_name: "Cookie: name=value\r\n" after the
// 11-byte X.224 header.
func rdpCookie(t *Txn, name string) ([]byte, bool) {
	d := t.Payload
	if len(d) <= 11 {
		return nil, tooShort(t)
	}
	d = d[11:]
	if len(d) <= 7 {
		return nil, tooShort(t)
	}
	if !strings.EqualFold(string(d[:7]), "Cookie:") {
		return nil, false
	}
	d = d[7:]
	for len(d) > 0 && d[0] == ' ' {
		d = d[1:]
	}
	if name != "" {
		if len(d) <= len(name) {
			return nil, tooShort(t)
		}
		if d[len(name)] != '=' || !strings.EqualFold(string(d[:len(name)]), name) {
			return nil, false
		}
		d = d[len(name)+1:]
	} else {
		for len(d) > 0 && d[0] != '=' {
			if d[0] == '\r' || d[0] == '\n' {
				return nil, false
			}
			d = d[1:]
		}
		if len(d) < 1 {
			return nil, tooShort(t)
		}
		d = d[1:]
	}
	val := d
	n := 0
	for n < len(d) && d[n] != '\r' {
		n++
	}
	if len(d)-n < 2 {
		return nil, tooShort(t)
	}
	if d[n+1] != '\n' {
		return nil, false
	}
	return val[:n], true
}

func fetchRDPCookie(fe *fetch, t *Txn, v *Value) bool {
	b, ok := rdpCookie(t, argStr(fe.args, 0))
	v.Type, v.B = TypeStr, b
	return ok
}

func fetchRDPCookieCnt(fe *fetch, t *Txn, v *Value) bool {
	mc := t.mayChange
	t.mayChange = false
	_, ok := rdpCookie(t, argStr(fe.args, 0))
	if t.mayChange {
		return false
	}
	t.mayChange = mc
	v.Type, v.I = TypeInt, 0
	if ok {
		v.I = 1
	}
	return true
}

// helloALPN walks the ClientHello at the start of the request payload
// to its ALPN extension, as smp_fetch_ssl_hello_alpn does: ext starts at
// the extension's type; ok is false when there is none (or no hello).
func helloALPN(t *Txn) (ext []byte, extLen int, ok bool) {
	d := t.Payload
	switch {
	case len(d) == 0:
		return nil, 0, tooShort(t)
	case d[0] != 0x16:
		return nil, 0, false
	case len(d) < 3:
		return nil, 0, tooShort(t)
	case d[1] < 3:
		return nil, 0, false
	case len(d) < 5:
		return nil, 0, tooShort(t)
	case int(d[3])<<8+int(d[4]) < 1+3+2+32+1+2+2+1+1+2+2:
		return nil, 0, false
	}
	d = d[5:]
	switch {
	case len(d) < 1:
		return nil, 0, tooShort(t)
	case d[0] != 1:
		return nil, 0, false
	case len(d) < 4:
		return nil, 0, tooShort(t)
	}
	hsLen := int(d[1])<<16 + int(d[2])<<8 + int(d[3])
	if hsLen < 2+32+1+2+2+1+1+2+2 {
		return nil, 0, false
	}
	if len(d) < hsLen {
		return nil, 0, tooShort(t)
	}
	d = d[4:]
	if len(d) < 35 || d[0] < 3 || d[1] < 1 {
		return nil, 0, false
	}
	n := int(d[34])
	if n > 32 || n > hsLen-35 {
		return nil, 0, false
	}
	hsLen -= 35 + n
	d = d[35+n:]
	if hsLen < 4 || len(d) < 2 {
		return nil, 0, false
	}
	if n = int(d[0])<<8 + int(d[1]); n < 2 || n > hsLen || len(d) < 2+n {
		return nil, 0, false
	}
	hsLen -= 2 + n
	d = d[2+n:]
	if hsLen < 2 || len(d) < 1 || d[0] < 1 || int(d[0]) > hsLen || len(d) < 1+int(d[0]) {
		return nil, 0, false
	}
	hsLen -= 1 + int(d[0])
	d = d[1+int(d[0]):]
	if hsLen < 2 || len(d) < 2 {
		return nil, 0, false
	}
	if n = int(d[0])<<8 + int(d[1]); n > hsLen-2 {
		return nil, 0, false
	}
	hsLen = n
	d = d[2:]
	for hsLen >= 4 && len(d) >= 4 {
		typ, l := int(d[0])<<8+int(d[1]), int(d[2])<<8+int(d[3])
		if l > hsLen-4 || len(d) < 4+l {
			return nil, 0, false
		}
		if typ == 16 {
			if l < 3 {
				return nil, 0, false
			}
			return d[:4+l], l, true
		}
		hsLen -= 4 + l
		d = d[4+l:]
	}
	return nil, 0, false
}

// alpnName is the protocol name at off in an ALPN extension, and the
// offset of the next one (0 when it is the last).
func alpnName(ext []byte, extLen, off int) (name []byte, next int, ok bool) {
	if off >= len(ext) {
		return nil, 0, false
	}
	n := int(ext[off])
	if n+off-3 > extLen || off+1+n > len(ext) {
		return nil, 0, false
	}
	if n+off-3 < extLen {
		next = off + n + 1
	}
	return ext[off+1 : off+1+n], next, true
}

// fetchSSLALPN is req.ssl_alpn: the first protocol name the ClientHello
// offers; iterSSLALPN gives them all.
func fetchSSLALPN(fe *fetch, t *Txn, v *Value) bool {
	ext, l, ok := helloALPN(t)
	if !ok {
		return false
	}
	name, _, ok := alpnName(ext, l, 6)
	if ok {
		v.Type, v.B = TypeStr, name
	}
	return ok
}

func iterSSLALPN(fe *fetch, t *Txn, vis visitor) bool {
	ext, l, ok := helloALPN(t)
	if !ok {
		return false
	}
	found := false
	for off := 6; off != 0; {
		name, next, ok := alpnName(ext, l, off)
		if !ok {
			return found
		}
		found = true
		v := &t.iv
		*v = Value{Type: TypeStr, B: name}
		if vis.visit(t, v) {
			return true
		}
		off = next
	}
	return true
}
