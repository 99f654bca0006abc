package acl

import (
	"fmt"
	"strings"
)

// TLSInfo is what the TLS layer of the client connection tells the ssl_*
// fetches, in HAProxy's spellings; nil on a connection without TLS.
type TLSInfo struct {
	Protocol, Cipher, SNI, ALPN string
	SessionReused               bool
	UseKeysize, AlgKeysize      int
	// CertUsed says the client sent a certificate; Verify is the result
	// of its verification (0 for success, else an X509 error code);
	// SubjectDN, IssuerDN, Serial and SHA1 describe it.
	CertUsed            bool
	Verify              int
	SubjectDN, IssuerDN string
	Serial, SHA1        []byte
}

func init() {
	str := func(name string, f func(*TLSInfo) string) *fetchDef {
		var args argSpec
		if strings.HasSuffix(name, "_dn") {
			args = spec(0, aStr, aSint, aStr)
		}
		back := strings.HasPrefix(name, "ssl_bc")
		return &fetchDef{name: name, out: TypeStr, args: args, check: noSSLArgs, fn: func(fe *fetch, t *Txn, v *Value) bool {
			info := t.TLS
			if back {
				info = t.BackTLS
			}
			if info == nil {
				return false
			}
			s := f(info)
			if s == "" {
				return false
			}
			v.Type, v.B = TypeStr, append(t.tmp(), s...)
			return true
		}}
	}
	num := func(name string, typ Type, f func(*TLSInfo) int64) *fetchDef {
		back := strings.HasPrefix(name, "ssl_bc")
		return &fetchDef{name: name, out: typ, fn: func(fe *fetch, t *Txn, v *Value) bool {
			info := t.TLS
			if back {
				info = t.BackTLS
			}
			if info == nil {
				return false
			}
			v.Type, v.I = typ, f(info)
			return true
		}}
	}
	bin := func(name string, f func(*TLSInfo) []byte) *fetchDef {
		return &fetchDef{name: name, out: TypeBin, fn: func(fe *fetch, t *Txn, v *Value) bool {
			if t.TLS == nil || !t.TLS.CertUsed {
				return false
			}
			v.Type, v.B = TypeBin, append(t.tmp(), f(t.TLS)...)
			return true
		}}
	}
	b2i := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	addFetch(
		// ssl_fc is false, not absent, on a connection without TLS.
		&fetchDef{name: "ssl_fc", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, b2i(t.TLS != nil)
			return true
		}},
		str("ssl_fc_sni", func(i *TLSInfo) string { return i.SNI }),
		str("ssl_fc_protocol", func(i *TLSInfo) string { return i.Protocol }),
		str("ssl_fc_cipher", func(i *TLSInfo) string { return i.Cipher }),
		str("ssl_fc_alpn", func(i *TLSInfo) string { return i.ALPN }),
		num("ssl_fc_has_sni", TypeBool, func(i *TLSInfo) int64 { return b2i(i.SNI != "") }),
		num("ssl_fc_session_reused", TypeBool, func(i *TLSInfo) int64 { return b2i(i.SessionReused) }),
		// ssl_fc_is_resumed is false, not absent, without TLS.
		&fetchDef{name: "ssl_fc_is_resumed", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, b2i(t.TLS != nil && t.TLS.SessionReused)
			return true
		}},
		// A connection that reached the proxy completed its handshake:
		// no TLS error, and the certificate errors of a verified client
		// (ssl_c_err, ssl_c_ca_err) are those verify none let through.
		num("ssl_fc_err", TypeInt, func(i *TLSInfo) int64 { return 0 }),
		num("ssl_c_err", TypeInt, func(i *TLSInfo) int64 { return int64(i.Verify) }),
		num("ssl_c_ca_err", TypeInt, func(i *TLSInfo) int64 { return 0 }),
		num("ssl_fc_use_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.UseKeysize) }),
		num("ssl_fc_alg_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.AlgKeysize) }),
		num("ssl_fc_has_crt", TypeBool, func(i *TLSInfo) int64 { return b2i(i.CertUsed) }),
		num("ssl_c_used", TypeBool, func(i *TLSInfo) int64 { return b2i(i.CertUsed) }),
		num("ssl_c_verify", TypeInt, func(i *TLSInfo) int64 { return int64(i.Verify) }),
		str("ssl_c_s_dn", func(i *TLSInfo) string { return i.SubjectDN }),
		str("ssl_c_i_dn", func(i *TLSInfo) string { return i.IssuerDN }),
		bin("ssl_c_serial", func(i *TLSInfo) []byte { return i.Serial }),
		bin("ssl_c_sha1", func(i *TLSInfo) []byte { return i.SHA1 }),
		// The server connection's TLS layer.
		&fetchDef{name: "ssl_bc", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, b2i(t.BackTLS != nil)
			return true
		}},
		str("ssl_bc_protocol", func(i *TLSInfo) string { return i.Protocol }),
		str("ssl_bc_cipher", func(i *TLSInfo) string { return i.Cipher }),
		str("ssl_bc_alpn", func(i *TLSInfo) string { return i.ALPN }),
		num("ssl_bc_is_resumed", TypeBool, func(i *TLSInfo) int64 { return b2i(i.SessionReused) }),
		num("ssl_bc_use_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.UseKeysize) }),
		num("ssl_bc_alg_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.AlgKeysize) }),
	)
}

// noSSLArgs refuses the DN fetches' entry selection arguments, which are
// not evaluated.
func noSSLArgs(fe *fetch, _ *Context) error {
	if len(fe.args) > 0 {
		return fmt.Errorf("fetch '%s' with arguments: %w", fe.def.name, ErrNotImplemented)
	}
	return nil
}
