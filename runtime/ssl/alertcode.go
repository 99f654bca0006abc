package ssl

import (
	"crypto/tls"
	"errors"
	"net"
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
// with bad_certificate; before TLS 1.3 that alert goes out in clear, so
// alertConn puts OpenSSL's description for the refusal in its place.
// Under TLS 1.3 the alert is encrypted and stays Go's.
type alertConn struct {
	net.Conn
	alert byte // the description to send instead, 0 for none
}

// config is base with its VerifyConnection noting the alert to send.
func (ac *alertConn) config(base *tls.Config) *tls.Config {
	c := base.Clone()
	verify := base.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		err := verify(cs)
		if err != nil {
			ac.alert = verifyAlert(err)
		}
		return err
	}
	return c
}

func (ac *alertConn) Write(p []byte) (int, error) {
	// A plaintext fatal bad_certificate alert record.
	if ac.alert != 0 && len(p) == 7 && p[0] == 21 && p[3] == 0 && p[4] == 2 && p[5] == 2 && p[6] == alertBadCertificate {
		q := [7]byte(p)
		q[6], ac.alert = ac.alert, 0
		return ac.Conn.Write(q[:])
	}
	return ac.Conn.Write(p)
}

// before13 tells whether a handshake under cfg with the client of chi
// will use a version below TLS 1.3.
func before13(chi *tls.ClientHelloInfo, cfg *tls.Config) bool {
	for _, v := range chi.SupportedVersions {
		if v == tls.VersionTLS13 && (cfg.MaxVersion == 0 || cfg.MaxVersion >= tls.VersionTLS13) && cfg.MinVersion <= tls.VersionTLS13 {
			return false
		}
	}
	return true
}
