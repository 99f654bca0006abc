package ssl

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"strings"
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

// CertInfo renders the ssl_c_* (client certificate) and ssl_f_* (frontend
// certificate) fetches of one certificate.
type CertInfo struct {
	SubjectDN string // ssl_c_s_dn: "/C=FR/O=x/CN=y"
	IssuerDN  string // ssl_c_i_dn
	Serial    []byte // ssl_c_serial: the serial number's bytes
	NotBefore string // ssl_c_notbefore: "YYMMDDhhmmssZ"; "" when HAProxy gives none
	NotAfter  string // ssl_c_notafter
	SHA1      []byte // ssl_c_sha1: SHA-1 of the DER certificate
	Version   int    // ssl_c_version: 3 for X509v3
	DER       []byte // ssl_c_der
}

// NewCertInfo computes the certificate fetches.
func NewCertInfo(c *x509.Certificate) CertInfo {
	sum := sha1.Sum(c.Raw)
	ci := CertInfo{
		SubjectDN: DNOneline(c.RawSubject),
		IssuerDN:  DNOneline(c.RawIssuer),
		Serial:    c.SerialNumber.Bytes(),
		SHA1:      sum[:],
		Version:   c.Version,
		DER:       c.Raw,
	}
	ci.NotBefore, ci.NotAfter = certTimes(c.RawTBSCertificate)
	return ci
}

type attrTypeValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is one RDN; encoding/asn1 reads a type named *SET as a SET OF.
type rdnSET []attrTypeValue

// DNOneline renders a DER Name as ssl_sock_get_dn_oneline does: each
// attribute in certificate order as "/SN=value", value bytes unescaped.
func DNOneline(raw []byte) string {
	var rdns []rdnSET
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return ""
	}
	var b strings.Builder
	for _, rdn := range rdns {
		for _, a := range rdn {
			b.WriteByte('/')
			if sn, ok := oidShortNames[a.Type.String()]; ok {
				b.WriteString(sn)
			} else {
				b.WriteString(a.Type.String())
			}
			b.WriteByte('=')
			b.Write(a.Value.Bytes)
		}
	}
	return b.String()
}

// oidShortNames are OpenSSL's short names (OBJ_nid2sn) for name attributes.
var oidShortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.13": "description",
	"2.5.4.15": "businessCategory", "2.5.4.17": "postalCode", "2.5.4.41": "name",
	"2.5.4.42": "GN", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
	"2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.97": "organizationIdentifier",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
}

// certTimes reads the validity times as encoded and renders them as
// ssl_sock_get_time does: UTCTime as is (none from 1950 to 1999),
// GeneralizedTime of the 2000s without the century.
func certTimes(tbs []byte) (notBefore, notAfter string) {
	var t struct {
		Version  asn1.RawValue `asn1:"optional,explicit,tag:0"`
		Serial   asn1.RawValue
		SigAlg   asn1.RawValue
		Issuer   asn1.RawValue
		Validity struct{ NotBefore, NotAfter asn1.RawValue }
	}
	if _, err := asn1.Unmarshal(tbs, &t); err != nil {
		return "", ""
	}
	return asn1Time(t.Validity.NotBefore), asn1Time(t.Validity.NotAfter)
}

func asn1Time(v asn1.RawValue) string {
	d := v.Bytes
	switch v.Tag {
	case asn1.TagGeneralizedTime:
		if len(d) < 12 || d[0] != '2' || d[1] != '0' {
			return ""
		}
		return string(d[2:])
	case asn1.TagUTCTime:
		if len(d) < 10 || d[0] >= '5' {
			return ""
		}
		return string(d)
	}
	return ""
}
