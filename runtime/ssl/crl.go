package ssl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"time"
)

// parseCRL reads a DER CRL. Go's parser takes only version 2 CRLs;
// OpenSSL also takes version 1 ones (no version field, no extensions),
// which are read here into the same type, signature fields included.
func parseCRL(der []byte) (*x509.RevocationList, error) {
	if rl, err := x509.ParseRevocationList(der); err == nil {
		return rl, nil
	}
	var cl struct {
		TBS struct {
			Raw        asn1.RawContent
			Version    int `asn1:"optional,default:0"`
			Sig        pkix.AlgorithmIdentifier
			Issuer     asn1.RawValue
			ThisUpdate time.Time
			NextUpdate time.Time                 `asn1:"optional"`
			Revoked    []pkix.RevokedCertificate `asn1:"optional"`
			Ext        []pkix.Extension          `asn1:"tag:0,optional,explicit"`
		}
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &cl)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 || cl.TBS.Version != 0 {
		return nil, errors.New("x509: malformed crl")
	}
	rl := &x509.RevocationList{
		Raw:                  der,
		RawTBSRevocationList: cl.TBS.Raw,
		RawIssuer:            cl.TBS.Issuer.FullBytes,
		Signature:            cl.Sig.RightAlign(),
		SignatureAlgorithm:   sigAlgByOID[cl.SigAlg.Algorithm.String()],
		ThisUpdate:           cl.TBS.ThisUpdate,
		NextUpdate:           cl.TBS.NextUpdate,
	}
	for _, r := range cl.TBS.Revoked {
		rl.RevokedCertificateEntries = append(rl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: r.SerialNumber, RevocationTime: r.RevocationTime})
	}
	return rl, nil
}

// sigAlgByOID maps the signature algorithms a version 1 CRL may carry.
var sigAlgByOID = map[string]x509.SignatureAlgorithm{
	"1.2.840.113549.1.1.4":  x509.MD5WithRSA,
	"1.2.840.113549.1.1.5":  x509.SHA1WithRSA,
	"1.2.840.113549.1.1.11": x509.SHA256WithRSA,
	"1.2.840.113549.1.1.12": x509.SHA384WithRSA,
	"1.2.840.113549.1.1.13": x509.SHA512WithRSA,
	"1.2.840.10045.4.1":     x509.ECDSAWithSHA1,
	"1.2.840.10045.4.3.2":   x509.ECDSAWithSHA256,
	"1.2.840.10045.4.3.3":   x509.ECDSAWithSHA384,
	"1.2.840.10045.4.3.4":   x509.ECDSAWithSHA512,
	"1.3.101.112":           x509.PureEd25519,
}
