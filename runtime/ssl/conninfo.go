package ssl

import (
	"crypto/tls"
)

// ConnInfo holds the ssl_fc_* (or, for a server connection, ssl_bc_*)
// sample fetch values of a finished handshake, spelled as OpenSSL does.
type ConnInfo struct {
	Protocol      string // ssl_fc_protocol: "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"
	Cipher        string // ssl_fc_cipher: OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256
	SNI           string // ssl_fc_sni
	ALPN          string // ssl_fc_alpn
	SessionReused bool   // ssl_fc_session_reused
	UseKeysize    int    // ssl_fc_use_keysize
	AlgKeysize    int    // ssl_fc_alg_keysize
}

// NewConnInfo computes the connection fetches from a ConnectionState.
func NewConnInfo(cs tls.ConnectionState) ConnInfo {
	ci := ConnInfo{
		Protocol:      ProtocolName(cs.Version),
		Cipher:        CipherName(cs.CipherSuite),
		SNI:           cs.ServerName,
		ALPN:          cs.NegotiatedProtocol,
		SessionReused: cs.DidResume,
	}
	if c, ok := cipherByID[cs.CipherSuite]; ok {
		ci.UseKeysize, ci.AlgKeysize = c.bits, c.bits
	}
	return ci
}

// ProtocolName is SSL_get_version's spelling of a protocol version.
func ProtocolName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	case 0x0300:
		return "SSLv3"
	}
	return "unknown"
}
