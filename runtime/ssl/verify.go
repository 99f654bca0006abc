package ssl

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// OpenSSL X509_V_ERR codes reported by ssl_c_verify, ssl_c_err and
// ssl_c_ca_err, and matched by ca-ignore-err/crt-ignore-err.
const (
	X509OK                         = 0
	X509UnableToGetIssuerCert      = 2
	X509UnableToGetCRL             = 3
	X509CertSignatureFailure       = 7
	X509CertNotYetValid            = 9
	X509CertHasExpired             = 10
	X509CRLNotYetValid             = 11
	X509CRLHasExpired              = 12
	X509DepthZeroSelfSigned        = 18
	X509SelfSignedCertInChain      = 19
	X509UnableToGetIssuerCertLocal = 20
	X509CertRevoked                = 23
	X509InvalidCA                  = 24
	X509InvalidPurpose             = 26
)

var x509ErrText = map[int]string{
	X509UnableToGetIssuerCert:      "unable to get issuer certificate",
	X509UnableToGetCRL:             "unable to get certificate CRL",
	X509CertSignatureFailure:       "certificate signature failure",
	X509CertNotYetValid:            "certificate is not yet valid",
	X509CertHasExpired:             "certificate has expired",
	X509CRLNotYetValid:             "CRL is not yet valid",
	X509CRLHasExpired:              "CRL has expired",
	X509DepthZeroSelfSigned:        "self-signed certificate",
	X509SelfSignedCertInChain:      "self-signed certificate in certificate chain",
	X509UnableToGetIssuerCertLocal: "unable to get local issuer certificate",
	X509CertRevoked:                "certificate revoked",
	X509InvalidCA:                  "invalid CA certificate",
	X509InvalidPurpose:             "unsupported certificate purpose",
}

// VerifyResult is the outcome of client certificate verification as the
// ssl_c_* fetches report it.
type VerifyResult struct {
	Used       bool // ssl_c_used: a client certificate was presented
	Verify     int  // ssl_c_verify: the last X509 error, 0 when none
	CrtErr     int  // ssl_c_err: first error on the client certificate
	CAErr      int  // ssl_c_ca_err: first error on a CA of its chain
	CAErrDepth int  // ssl_c_ca_err_depth
}

// verifier checks client certificates as OpenSSL's X509_verify_cert with
// HAProxy's verify callback (ssl_sock_bind_verifycbk) does.
type verifier struct {
	store         *store
	crlCheck      bool
	caIgn, crtIgn IgnoreSet
	server        bool // checking a server certificate (purpose sslserver)
}

// VerifyError is the handshake error for a refused client certificate.
type VerifyError struct {
	Code, Depth int
	// Peer is the chain refused, Result what the ssl_c_* fetches
	// report of it.
	Peer   []*x509.Certificate
	Result VerifyResult
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("ssl: client certificate refused: %s (X509 error %d at depth %d)", x509ErrText[e.Code], e.Code, e.Depth)
}

func (v *verifier) verifyConnection(cs tls.ConnectionState) error {
	r, err := v.check(cs.PeerCertificates, time.Now())
	if ve, ok := err.(*VerifyError); ok {
		ve.Peer, ve.Result = cs.PeerCertificates, r
	}
	return err
}

// check walks the errors OpenSSL would raise, in its order: chain
// building, CA and purpose checks, CRLs, then validity dates from the
// root down. Each error is either ignored by the matching ignore list or
// ends the handshake.
func (v *verifier) check(peer []*x509.Certificate, now time.Time) (VerifyResult, error) {
	var r VerifyResult
	if len(peer) == 0 {
		return r, nil
	}
	r.Used = true
	raise := func(code, depth int) error {
		r.Verify = code
		if depth == 0 {
			if r.CrtErr == 0 {
				r.CrtErr = code
			}
			if v.crtIgn.Has(code) {
				return nil
			}
		} else {
			if r.CAErr == 0 {
				r.CAErr, r.CAErrDepth = code, depth
			}
			if v.caIgn.Has(code) {
				return nil
			}
		}
		return &VerifyError{Code: code, Depth: depth}
	}
	chain, code := v.buildChain(peer)
	if code != 0 {
		if err := raise(code, len(chain)-1); err != nil {
			return r, err
		}
	}
	for i, c := range chain {
		if i > 0 && !(c.BasicConstraintsValid && c.IsCA) {
			if err := raise(X509InvalidCA, i); err != nil {
				return r, err
			}
		}
	}
	if !purposeOK(chain[0], v.server) {
		if err := raise(X509InvalidPurpose, 0); err != nil {
			return r, err
		}
	}
	if v.crlCheck {
		for i, c := range chain {
			var issuer *x509.Certificate
			if i+1 < len(chain) {
				issuer = chain[i+1]
			} else if selfSigned(c) {
				issuer = c
			}
			if code := v.crlStatus(c, issuer, now); code != 0 {
				if err := raise(code, i); err != nil {
					return r, err
				}
			}
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		code := 0
		if now.Before(c.NotBefore) {
			code = X509CertNotYetValid
		} else if now.After(c.NotAfter) {
			code = X509CertHasExpired
		}
		if code != 0 {
			if err := raise(code, i); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// buildChain follows issuers, trusted ones first (X509_V_FLAG_TRUSTED_FIRST),
// and returns the chain with the error that ended it, if any.
func (v *verifier) buildChain(peer []*x509.Certificate) ([]*x509.Certificate, int) {
	chain := []*x509.Certificate{peer[0]}
	for len(chain) < 100 {
		cur := chain[len(chain)-1]
		if v.trusted(cur) && selfSigned(cur) {
			return chain, 0
		}
		if selfSigned(cur) {
			if len(chain) == 1 {
				return chain, X509DepthZeroSelfSigned
			}
			return chain, X509SelfSignedCertInChain
		}
		next := findIssuer(cur, v.store.certs)
		if next == nil {
			next = findIssuer(cur, peer[1:])
		}
		if next == nil {
			if v.trusted(cur) {
				return chain, X509UnableToGetIssuerCert
			}
			return chain, X509UnableToGetIssuerCertLocal
		}
		chain = append(chain, next)
	}
	return chain, X509UnableToGetIssuerCertLocal
}

func (v *verifier) trusted(c *x509.Certificate) bool {
	if v.store == nil {
		return false
	}
	for _, t := range v.store.certs {
		if bytes.Equal(t.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func findIssuer(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
			return p
		}
	}
	return nil
}

// purposeOK is X509_check_purpose for an SSL client or server.
func purposeOK(c *x509.Certificate, server bool) bool {
	want := x509.ExtKeyUsageClientAuth
	if server {
		want = x509.ExtKeyUsageServerAuth
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == want || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// crlStatus checks c against the CRL of its issuer (CRL_CHECK_ALL).
func (v *verifier) crlStatus(c, issuer *x509.Certificate, now time.Time) int {
	var crl *x509.RevocationList
	for _, l := range v.store.crls {
		if !bytes.Equal(l.RawIssuer, c.RawIssuer) {
			continue
		}
		if issuer != nil && l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		crl = l
		break
	}
	switch {
	case crl == nil:
		return X509UnableToGetCRL
	case now.Before(crl.ThisUpdate):
		return X509CRLNotYetValid
	case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
		return X509CRLHasExpired
	}
	for _, rc := range crl.RevokedCertificateEntries {
		if rc.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return X509CertRevoked
		}
	}
	return 0
}

// ClientVerify recomputes the client certificate verification of a
// finished handshake for the ssl_c_verify, ssl_c_err, ssl_c_ca_err and
// ssl_c_used fetches. The settings are those of the certificate picked
// for cs.ServerName.
func (bt *BindTLS) ClientVerify(cs tls.ConnectionState) VerifyResult {
	st := bt.state.Load()
	sigs := []tls.SignatureScheme{tls.PKCS1WithSHA256}
	suites := []uint16{cs.CipherSuite}
	if c, ok := cipherByID[cs.CipherSuite]; ok && (c.au == "ECDSA" || c.tls13()) {
		sigs = append(sigs, tls.ECDSAWithP256AndSHA256)
		suites = append(suites, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	}
	e, bySNI := st.pick(cs.ServerName, sigs, suites, false)
	cc := e.dflt
	if bySNI {
		cc = e.sni
	}
	if cc.verify == nil {
		return VerifyResult{Used: len(cs.PeerCertificates) > 0}
	}
	r, _ := cc.verify.check(cs.PeerCertificates, time.Now())
	return r
}
