package ssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// pki issues test certificates from a throw-away CA.
type pki struct {
	t      *testing.T
	dir    string
	caCert *x509.Certificate
	caKey  crypto.Signer
	serial int64
}

var (
	rsaKeyOnce sync.Once
	rsaKeys    []*rsa.PrivateKey
)

// rsaKey hands out a few pre-generated 2048-bit keys (generation is slow).
func rsaKey(i int) *rsa.PrivateKey {
	rsaKeyOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i%len(rsaKeys)]
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir(), serial: 1}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"FR"}, Organization: []string{"Test"}, CommonName: "Test Root CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(der)
	p.caKey = k
	p.write("ca.pem", pemBlock("CERTIFICATE", der))
	return p
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func (p *pki) write(name string, data ...[]byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	var all []byte
	for _, d := range data {
		all = append(all, d...)
	}
	if err := os.WriteFile(path, all, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// certSpec describes a leaf certificate.
type certSpec struct {
	cn       string
	dns      []string
	ecdsa    bool
	rsaIndex int
	expired  bool
	client   bool
	keyApart bool // key in <file>.key
}

// issue writes a PEM file with the certificate and its key.
func (p *pki) issue(name string, s certSpec) string {
	p.t.Helper()
	var key crypto.Signer = rsaKey(s.rsaIndex)
	if s.ecdsa {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial*1000 + 0xab),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"HAProxy Test"}, CommonName: s.cn},
		DNSNames:     s.dns,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if s.client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if s.expired {
		tmpl.NotBefore = time.Now().Add(-48 * time.Hour)
		tmpl.NotAfter = time.Now().Add(-24 * time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	if s.keyApart {
		p.write(name+".key", pemBlock("PRIVATE KEY", kder))
		return p.write(name, pemBlock("CERTIFICATE", der))
	}
	return p.write(name, pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder))
}

// crl writes a CRL of the CA revoking the given certificates.
func (p *pki) crl(name string, revoked ...string) string {
	p.t.Helper()
	var entries []x509.RevocationListEntry
	for _, r := range revoked {
		c := readLeaf(p.t, r)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(p.serial),
		ThisUpdate:                time.Now().Add(-time.Hour),
		NextUpdate:                time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, p.caCert, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.write(name, pemBlock("X509 CRL", der))
}

func readLeaf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, _ := pemCerts(data)
	if len(certs) == 0 {
		t.Fatalf("%s: no certificate", path)
	}
	return certs[0]
}

// crlV1 writes a version 1 CRL of the CA (no version field, no
// extensions), as "openssl ca -gencrl" makes without crl extensions.
func (p *pki) crlV1(name string, revoked ...string) string {
	p.t.Helper()
	type entry struct {
		Serial *big.Int
		Time   time.Time
	}
	var tbs struct {
		Sig        pkix.AlgorithmIdentifier
		Issuer     asn1.RawValue
		ThisUpdate time.Time
		NextUpdate time.Time
		Revoked    []entry `asn1:"optional"`
	}
	tbs.Sig.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	tbs.Issuer = asn1.RawValue{FullBytes: p.caCert.RawSubject}
	tbs.ThisUpdate, tbs.NextUpdate = time.Now().Add(-time.Hour).UTC(), time.Now().Add(24*time.Hour).UTC()
	for _, r := range revoked {
		tbs.Revoked = append(tbs.Revoked, entry{readLeaf(p.t, r).SerialNumber, time.Now().Add(-time.Minute).UTC()})
	}
	raw, err := asn1.Marshal(tbs)
	if err != nil {
		p.t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	sig, err := p.caKey.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		p.t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS    asn1.RawValue
		SigAlg pkix.AlgorithmIdentifier
		Sig    asn1.BitString
	}{asn1.RawValue{FullBytes: raw}, tbs.Sig, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		p.t.Fatal(err)
	}
	return p.write(name, pemBlock("X509 CRL", der))
}
