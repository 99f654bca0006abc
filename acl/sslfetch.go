package acl

import (
	"crypto/x509"
	"strings"
)

// TLSInfo is what the TLS layer of the client connection tells the ssl_*
// fetches, in HAProxy's spellings; nil on a connection without TLS.
type TLSInfo struct {
	Protocol, Cipher, SNI, ALPN string
	SessionReused               bool
	UseKeysize, AlgKeysize      int
	// CertUsed says the client sent a certificate; Verify is the result
	// of its verification (0 for success, else an X509 error code).
	CertUsed bool
	Verify   int
	// Peer is the certificate chain the peer sent, its own first;
	// Local is the certificate this side presented (ssl_f_*), nil when
	// none.
	Peer  []*x509.Certificate
	Local *x509.Certificate
	// CrtErr and CAErr are the first verification errors on the client
	// certificate and on a CA of its chain (ssl_c_err, ssl_c_ca_err).
	CrtErr, CAErr, CAErrDepth int
	// Hello is the ClientHello's capture, nil without
	// tune.ssl.capture-buffer-size.
	Hello *HelloCapture
	// Err is the TLS library's error code of a failed handshake
	// (ssl_fc_err, ssl_bc_err), ErrText its text, 0 and "" when none.
	Err     uint32
	ErrText string
	// Keys are the handshake's randoms and secrets, nil unless an
	// expression reads them.
	Keys *TLSKeys
}

func init() {
	str := func(name string, f func(*TLSInfo) string) *fetchDef {
		back := strings.HasPrefix(name, "ssl_bc")
		return &fetchDef{name: name, out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool {
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
		// Go's TLS server accepts no early data: a client's 0-RTT data
		// is refused and sent again after the handshake.
		num("ssl_fc_has_early", TypeBool, func(i *TLSInfo) int64 { return 0 }),
		num("ssl_fc_session_reused", TypeBool, func(i *TLSInfo) int64 { return b2i(i.SessionReused) }),
		// ssl_fc_is_resumed is false, not absent, without TLS.
		&fetchDef{name: "ssl_fc_is_resumed", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, b2i(t.TLS != nil && t.TLS.SessionReused)
			return true
		}},
		num("ssl_fc_err", TypeInt, func(i *TLSInfo) int64 { return int64(i.Err) }),
		str("ssl_fc_err_str", func(i *TLSInfo) string { return i.ErrText }),
		num("ssl_c_err", TypeInt, func(i *TLSInfo) int64 { return int64(i.CrtErr) }),
		num("ssl_c_ca_err", TypeInt, func(i *TLSInfo) int64 { return int64(i.CAErr) }),
		num("ssl_c_ca_err_depth", TypeInt, func(i *TLSInfo) int64 { return int64(i.CAErrDepth) }),
		num("ssl_fc_use_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.UseKeysize) }),
		num("ssl_fc_alg_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.AlgKeysize) }),
		num("ssl_fc_has_crt", TypeBool, func(i *TLSInfo) int64 { return b2i(i.CertUsed) }),
		num("ssl_c_used", TypeBool, func(i *TLSInfo) int64 { return b2i(i.CertUsed) }),
		num("ssl_c_verify", TypeInt, func(i *TLSInfo) int64 { return int64(i.Verify) }),
		// The server connection's TLS layer.
		&fetchDef{name: "ssl_bc", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, b2i(t.BackTLS != nil)
			return true
		}},
		str("ssl_bc_protocol", func(i *TLSInfo) string { return i.Protocol }),
		str("ssl_bc_cipher", func(i *TLSInfo) string { return i.Cipher }),
		str("ssl_bc_alpn", func(i *TLSInfo) string { return i.ALPN }),
		num("ssl_bc_err", TypeInt, func(i *TLSInfo) int64 { return int64(i.Err) }),
		str("ssl_bc_err_str", func(i *TLSInfo) string { return i.ErrText }),
		num("ssl_bc_is_resumed", TypeBool, func(i *TLSInfo) int64 { return b2i(i.SessionReused) }),
		num("ssl_bc_use_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.UseKeysize) }),
		num("ssl_bc_alg_keysize", TypeInt, func(i *TLSInfo) int64 { return int64(i.AlgKeysize) }),
	)
	addFetch(certFetches("ssl_c_", certClient)...)
	addFetch(certFetches("ssl_f_", certFront)...)
	addFetch(certFetches("ssl_s_", certServer)...)
}
