package ssl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net"

	"golang.org/x/crypto/chacha20poly1305"
)

// TLS alert descriptions a bind sends for a refused client certificate.
const (
	alertBadCertificate         = 42
	alertUnsupportedCertificate = 43
	alertCertificateRevoked     = 44
	alertCertificateExpired     = 45
	alertCertificateUnknown     = 46
	alertIllegalParameter       = 47
	alertUnknownCA              = 48
	alertDecryptError           = 51
)

// verifyAlert is the alert OpenSSL sends when the verification of a
// client certificate fails with err: ssl_x509err2alert's table for the
// X509 errors gohap raises, illegal_parameter for a key on a curve the
// bind does not accept (tls12_check_peer_sigalg).
func verifyAlert(err error) byte {
	if errors.Is(err, errWrongCurve) {
		return alertIllegalParameter
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		return alertBadCertificate
	}
	switch ve.Code {
	case X509UnableToGetIssuerCert, X509UnableToGetCRL, X509DepthZeroSelfSigned, X509SelfSignedCertInChain,
		X509UnableToGetIssuerCertLocal, X509InvalidCA:
		return alertUnknownCA
	case X509CertSignatureFailure:
		return alertDecryptError
	case X509CertNotYetValid, X509CRLNotYetValid:
		return alertBadCertificate
	case X509CertHasExpired, X509CRLHasExpired:
		return alertCertificateExpired
	case X509CertRevoked:
		return alertCertificateRevoked
	case X509InvalidPurpose:
		return alertUnsupportedCertificate
	}
	return alertCertificateUnknown
}

// alertConn is a bind's client connection when the bind verifies client
// certificates. crypto/tls answers every refusal of VerifyConnection
// with bad_certificate; alertConn puts OpenSSL's description for the
// refusal in its place: in clear before TLS 1.3, sealed again under the
// server's first application traffic key in TLS 1.3, where the alert is
// the first record under that key (tickets wait for the client's
// certificate).
type alertConn struct {
	net.Conn
	alert byte // the description to send instead, 0 for none
	// suite and secret seal a TLS 1.3 alert: the handshake's cipher
	// suite and server application traffic secret.
	suite  uint16
	secret []byte
}

// config is base with its VerifyConnection noting the alert to send and
// its key log giving the secret a TLS 1.3 alert is sealed with.
func (ac *alertConn) config(base *tls.Config) *tls.Config {
	c := base.Clone()
	verify := base.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		err := verify(cs)
		if err != nil {
			ac.alert, ac.suite = verifyAlert(err), cs.CipherSuite
		}
		return err
	}
	c.KeyLogWriter = &alertKeyLog{ac: ac, next: base.KeyLogWriter}
	return c
}

// alertKeyLog keeps the server application traffic secret of a key log
// line and passes the line on.
type alertKeyLog struct {
	ac   *alertConn
	next io.Writer
}

func (k *alertKeyLog) Write(line []byte) (int, error) {
	if label, secret, ok := keyLogLine(line); ok && label == "SERVER_TRAFFIC_SECRET_0" {
		k.ac.secret, _ = hex.AppendDecode(nil, secret)
	}
	if k.next != nil {
		return k.next.Write(line)
	}
	return len(line), nil
}

func (ac *alertConn) Write(p []byte) (int, error) {
	if ac.alert == 0 {
		return ac.Conn.Write(p)
	}
	// A plaintext fatal bad_certificate alert record.
	if len(p) == 7 && p[0] == 21 && p[3] == 0 && p[4] == 2 && p[5] == 2 && p[6] == alertBadCertificate {
		q := [7]byte(p)
		q[6], ac.alert = ac.alert, 0
		return ac.Conn.Write(q[:])
	}
	if ac.secret != nil {
		if q := reseal13(p, ac.suite, ac.secret, ac.alert); q != nil {
			ac.alert = 0
			if _, err := ac.Conn.Write(q); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return ac.Conn.Write(p)
}

// reseal13 is rec, a TLS 1.3 record holding crypto/tls's fatal
// bad_certificate alert as the first record under secret, with the
// alert's description changed to desc; nil when rec is not that.
func reseal13(rec []byte, suite uint16, secret []byte, desc byte) []byte {
	const n = 5 + 3 + 16 // header, alert and content type, tag
	if len(rec) != n || rec[0] != 23 || rec[3] != 0 || rec[4] != n-5 {
		return nil
	}
	aead, iv := trafficAEAD(suite, secret)
	if aead == nil {
		return nil
	}
	// The first record's nonce is the IV itself (sequence number 0).
	plain, err := aead.Open(nil, iv, rec[5:], rec[:5])
	if err != nil || !bytes.Equal(plain, []byte{2, alertBadCertificate, 21}) {
		return nil
	}
	plain[1] = desc
	return aead.Seal(append([]byte(nil), rec[:5]...), iv, plain, rec[:5])
}

// trafficAEAD is the record protection of a TLS 1.3 traffic secret
// (RFC 8446, 7.3): its AEAD and IV.
func trafficAEAD(suite uint16, secret []byte) (cipher.AEAD, []byte) {
	h, keyLen := sha256.New, 16
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
	case tls.TLS_AES_256_GCM_SHA384:
		h, keyLen = sha512.New384, 32
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		keyLen = 32
	default:
		return nil, nil
	}
	key := expandLabel(h, secret, "key", keyLen)
	iv := expandLabel(h, secret, "iv", 12)
	if key == nil || iv == nil {
		return nil, nil
	}
	if suite == tls.TLS_CHACHA20_POLY1305_SHA256 {
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return nil, nil
		}
		return a, iv
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, nil
	}
	return a, iv
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 10+len(label))
	info = append(info, byte(n>>8), byte(n), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		return nil
	}
	return out
}
