package acl

import (
	"strconv"
)

// HelloCapture is what HAProxy keeps of a client's ClientHello with
// tune.ssl.capture-buffer-size (ssl_sock_parse_clienthello): the cipher
// list, the extension types, the curves and the point formats, each cut
// to what is left of the buffer, in that order.
type HelloCapture struct {
	// Version is the ClientHello's legacy version
	// (ssl_fc_protocol_hello_id); XXH64 is the hash of the whole cipher
	// list (ssl_fc_cipherlist_xxh).
	Version uint16
	XXH64   uint64
	Data    []byte
	// Name is OpenSSL's name of a suite (SSL_CIPHER_find), for
	// ssl_fc_cipherlist_str.
	Name func(id uint16) (string, bool)
	// Offsets and lengths in Data.
	CipherOff, CipherLen, ExtOff, ExtLen, ECOff, ECLen, ECFOff, ECFLen int
}

// withoutGrease is exclude_tls_grease: the list without its GREASE
// values (RFC 8701: two equal bytes whose low nibble is 0xa), a last odd
// byte kept.
func withoutGrease(dst, in []byte) []byte {
	i := 0
	for ; i < len(in)-1; i += 2 {
		if in[i] != in[i+1] || in[i]&0x0f != 0x0a {
			dst = append(dst, in[i], in[i+1])
		}
	}
	if i < len(in) {
		dst = append(dst, in[i])
	}
	return dst
}

func init() {
	hello := func(t *Txn) *HelloCapture {
		if t.TLS == nil {
			return nil
		}
		return t.TLS.Hello
	}
	// list returns a captured list, without GREASE when the argument
	// says so.
	list := func(fe *fetch, t *Txn, part func(h *HelloCapture) []byte) ([]byte, bool) {
		h := hello(t)
		if h == nil {
			return nil, false
		}
		b := part(h)
		if len(fe.args) > 0 && fe.args[0].i != 0 {
			return withoutGrease(t.tmp(), b), true
		}
		return append(t.tmp(), b...), true
	}
	ciphers := func(h *HelloCapture) []byte { return h.Data[h.CipherOff : h.CipherOff+h.CipherLen] }
	bin := func(name string, part func(h *HelloCapture) []byte, filter bool) *fetchDef {
		// Declared as strings, as HAProxy declares them; the value is
		// binary.
		d := &fetchDef{name: name, out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool {
			b, ok := list(fe, t, part)
			v.Type, v.B = TypeBin, b
			return ok
		}}
		if filter {
			d.args = spec(0, aSint)
		}
		return d
	}
	addFetch(
		bin("ssl_fc_cipherlist_bin", ciphers, true),
		bin("ssl_fc_extlist_bin", func(h *HelloCapture) []byte { return h.Data[h.ExtOff : h.ExtOff+h.ExtLen] }, true),
		bin("ssl_fc_eclist_bin", func(h *HelloCapture) []byte { return h.Data[h.ECOff : h.ECOff+h.ECLen] }, true),
		bin("ssl_fc_ecformats_bin", func(h *HelloCapture) []byte { return h.Data[h.ECFOff : h.ECFOff+h.ECFLen] }, false),
		&fetchDef{name: "ssl_fc_cipherlist_hex", args: spec(0, aSint), out: TypeBin, fn: func(fe *fetch, t *Txn, v *Value) bool {
			b, ok := list(fe, t, ciphers)
			if !ok {
				return false
			}
			const hex = "0123456789ABCDEF"
			out := t.tmp()
			for _, c := range b {
				out = append(out, hex[c>>4], hex[c&15])
			}
			v.Type, v.B = TypeBin, out
			return true
		}},
		&fetchDef{name: "ssl_fc_cipherlist_str", args: spec(0, aSint), out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool {
			b, ok := list(fe, t, ciphers)
			if !ok {
				return false
			}
			out := t.tmp()
			for i := 0; i+1 < len(b); i += 2 {
				if i > 0 {
					out = append(out, ',')
				}
				id := uint16(b[i])<<8 | uint16(b[i+1])
				if n, ok := hello(t).Name(id); ok {
					out = append(out, n...)
					continue
				}
				out = append(out, "UNKNOWN("...)
				h := strconv.FormatUint(uint64(id), 16)
				for range 4 - len(h) {
					out = append(out, '0')
				}
				out = append(append(out, h...), ')')
			}
			v.Type, v.B = TypeStr, out
			return true
		}},
		&fetchDef{name: "ssl_fc_cipherlist_xxh", out: TypeInt, fn: func(fe *fetch, t *Txn, v *Value) bool {
			h := hello(t)
			if h == nil {
				return false
			}
			v.Type, v.I = TypeInt, int64(h.XXH64)
			return true
		}},
		&fetchDef{name: "ssl_fc_protocol_hello_id", out: TypeInt, fn: func(fe *fetch, t *Txn, v *Value) bool {
			h := hello(t)
			if h == nil {
				return false
			}
			v.Type, v.I = TypeInt, int64(h.Version)
			return true
		}},
	)
}
