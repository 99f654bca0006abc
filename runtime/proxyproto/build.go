package proxyproto

import (
	"hash/crc32"
	"net/netip"
	"strconv"
	"strings"
)

// AppendV1 appends the v1 line HAProxy's make_proxy_line_v1 writes for a
// connection from src to dst. Two IPv4 addresses give TCP4; any IPv6 one
// gives TCP6 with IPv4 addresses mapped (::ffff:a.b.c.d); an invalid
// address (a UNIX socket, an unknown peer) gives "PROXY UNKNOWN\r\n".
// Pass addresses as the socket family reports them: an IPv4 client on an
// AF_INET socket is a 4-byte address, not an IPv4-mapped one.
func AppendV1(b []byte, src, dst netip.AddrPort) []byte {
	if !src.IsValid() || !dst.IsValid() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	sa, da := src.Addr(), dst.Addr()
	if sa.Is4() && da.Is4() {
		b = append(b, "PROXY TCP4 "...)
		b = sa.AppendTo(b)
		b = append(b, ' ')
		b = da.AppendTo(b)
	} else {
		b = append(b, "PROXY TCP6 "...)
		b = appendNtop6(b, sa.As16())
		b = append(b, ' ')
		b = appendNtop6(b, da.As16())
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, "\r\n"...)
}

// Options is the set of "proxy-v2-options" of a server (configuration.txt
// section 5.2). Each SSL sub-option implies OptSSL, as in HAProxy.
type Options uint16

// Option bits, one per "proxy-v2-options" word.
const (
	OptSSL Options = 1 << iota
	OptCertCN
	OptSSLCipher
	OptCertSig
	OptCertKey
	OptAuthority
	OptCRC32C
	OptUniqueID
)

var optionWords = [...]struct {
	word string
	opt  Options
}{
	{"ssl", OptSSL},
	{"cert-cn", OptSSL | OptCertCN},
	{"cert-key", OptSSL | OptCertKey},
	{"cert-sig", OptSSL | OptCertSig},
	{"ssl-cipher", OptSSL | OptSSLCipher},
	{"authority", OptAuthority},
	{"crc32c", OptCRC32C},
	{"unique-id", OptUniqueID},
}

// ParseOptions reads the comma-separated argument of "proxy-v2-options".
// The error text is HAProxy's for the first unknown word.
func ParseOptions(arg string) (Options, error) {
	var o Options
	for {
		word, rest, more := strings.Cut(arg, ",")
		found := false
		for _, w := range optionWords {
			if w.word == word {
				o |= w.opt
				found = true
				break
			}
		}
		if !found {
			return o, optionError(word)
		}
		if !more {
			return o, nil
		}
		arg = rest
	}
}

type optionError string

func (e optionError) Error() string {
	return "'" + string(e) + "' : proxy v2 option not implemented"
}

// ClientSSLInfo describes the client's TLS connection for the SSL TLV. Empty
// values leave their sub-TLV out, as HAProxy does when it has none.
type ClientSSLInfo struct {
	// CertSess is true when the client presented a certificate in this
	// TLS session (PP2_CLIENT_CERT_SESS); Verify then carries the
	// verification result. CertConn says it did so on this connection.
	CertSess, CertConn                  bool
	Verify                              uint32
	Version, CN, KeyAlg, SigAlg, Cipher []byte
}

// V2 describes what make_proxy_line_v2 puts in a v2 header.
type V2 struct {
	// Src and Dst are the client connection's addresses. If either is
	// invalid (a UNIX socket) or Local is set, the command is LOCAL and no
	// address is sent.
	Src, Dst netip.AddrPort
	// Local marks a connection HAProxy opens itself, such as a health
	// check, unless "pp2-never-send-local" is set globally.
	Local bool
	// Options are the server's "proxy-v2-options".
	Options Options
	// ALPN is the protocol negotiated with the client; sent when non-empty,
	// whatever the options.
	ALPN []byte
	// Authority is the authority received from the client by PROXY v2, or
	// else its TLS SNI; sent with OptAuthority when non-nil.
	Authority []byte
	// UniqueID is the stream's "unique-id-format" value; sent with
	// OptUniqueID when non-nil. Health checks have no stream: leave it nil.
	UniqueID []byte
	// SSL is the client's TLS connection, nil when it is not TLS. With
	// OptSSL the SSL TLV is sent either way.
	SSL *ClientSSLInfo
	// NetNS is the network namespace name received from the client.
	NetNS []byte
}

// AppendV2 appends the v2 header HAProxy's make_proxy_line_v2 writes, with
// its TLVs in HAProxy's order: CRC32C, ALPN, AUTHORITY, UNIQUE_ID, SSL
// (VERSION, CN, KEY_ALG, SIG_ALG, CIPHER), NETNS. Values longer than 65535
// bytes are cut, since a TLV cannot say more.
func AppendV2(b []byte, v *V2) []byte {
	start := len(b)
	b = append(b, signature...)
	sa, da := v.Src.Addr(), v.Dst.Addr()
	switch {
	case v.Local || !v.Src.IsValid() || !v.Dst.IsValid():
		b = append(b, 0x20|byte(Local), FamUnspec, 0, 0)
	case sa.Is4() && da.Is4():
		b = append(b, 0x20|byte(Proxy), FamTCP4, 0, 0)
		s4, d4 := sa.As4(), da.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
		b = appendPorts(b, v.Src.Port(), v.Dst.Port())
	default:
		b = append(b, 0x20|byte(Proxy), FamTCP6, 0, 0)
		s6, d6 := sa.As16(), da.As16()
		b = append(b, s6[:]...)
		b = append(b, d6[:]...)
		b = appendPorts(b, v.Src.Port(), v.Dst.Port())
	}
	crcAt := -1
	if v.Options&OptCRC32C != 0 {
		crcAt = len(b) + 3
		b = appendTLV(b, TypeCRC32C, zero4[:])
	}
	if len(v.ALPN) > 0 {
		b = appendTLV(b, TypeALPN, v.ALPN)
	}
	if v.Options&OptAuthority != 0 && v.Authority != nil {
		b = appendTLV(b, TypeAuthority, v.Authority)
	}
	if v.Options&OptUniqueID != 0 && v.UniqueID != nil {
		b = appendTLV(b, TypeUniqueID, v.UniqueID)
	}
	if v.Options&OptSSL != 0 {
		b = appendSSL(b, v)
	}
	if len(v.NetNS) > 0 {
		b = appendTLV(b, TypeNetNS, v.NetNS)
	}
	n := len(b) - start - v2HeaderLen
	b[start+14], b[start+15] = byte(n>>8), byte(n)
	if crcAt >= 0 {
		c := crc32.Checksum(b[start:], castagnoli)
		b[crcAt], b[crcAt+1], b[crcAt+2], b[crcAt+3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	}
	return b
}

func appendPorts(b []byte, s, d uint16) []byte {
	return append(b, byte(s>>8), byte(s), byte(d>>8), byte(d))
}

func appendTLV(b []byte, typ byte, v []byte) []byte {
	if len(v) > 0xffff {
		v = v[:0xffff]
	}
	b = append(b, typ, byte(len(v)>>8), byte(len(v)))
	return append(b, v...)
}

func appendSSL(b []byte, v *V2) []byte {
	at := len(b)
	b = append(b, TypeSSL, 0, 0, 0, 0, 0, 0, 0)
	if s := v.SSL; s != nil {
		client := byte(ClientSSL)
		if len(s.Version) > 0 {
			b = appendTLV(b, SubSSLVersion, s.Version)
		}
		if s.CertSess {
			client |= ClientCertSess
			b[at+4], b[at+5], b[at+6], b[at+7] = byte(s.Verify>>24), byte(s.Verify>>16), byte(s.Verify>>8), byte(s.Verify)
			if s.CertConn {
				client |= ClientCertConn
			}
		}
		b[at+3] = client
		if v.Options&OptCertCN != 0 && len(s.CN) > 0 {
			b = appendTLV(b, SubSSLCN, s.CN)
		}
		if v.Options&OptCertKey != 0 && len(s.KeyAlg) > 0 {
			b = appendTLV(b, SubSSLKeyAlg, s.KeyAlg)
		}
		if v.Options&OptCertSig != 0 && len(s.SigAlg) > 0 {
			b = appendTLV(b, SubSSLSigAlg, s.SigAlg)
		}
		if v.Options&OptSSLCipher != 0 && len(s.Cipher) > 0 {
			b = appendTLV(b, SubSSLCipher, s.Cipher)
		}
	}
	n := len(b) - at - 3
	b[at+1], b[at+2] = byte(n>>8), byte(n)
	return b
}
