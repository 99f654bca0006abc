package ssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certGen makes the certificates of "generate-certificates": for a
// server name no certificate of the bind matches, one signed by the
// "ca-sign-file" CA, as ssl_sock_do_create_cert does (the CA's subject
// with the name as a last CN, the default certificate's key, the name as
// SAN, one day back to a year ahead), kept per name.
type certGen struct {
	ca     *x509.Certificate
	caKey  crypto.Signer
	serial atomic.Int64

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

// genCacheSize bounds the generated certificates kept (HAProxy's
// tune.ssl.ssl-ctx-cache-size default); the cache is emptied when full.
const genCacheSize = 1000

// oidNSComment is Netscape's certificate comment extension.
var oidNSComment = asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 1, 13}

// loadCASign reads the CA certificate and key of "ca-sign-file".
func loadCASign(path string) (*certGen, *Error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, parseErr(msgCannotOpen, path)
	}
	certs, _ := pemCerts(data)
	key := firstPrivateKey(data)
	if len(certs) == 0 || key == nil {
		return nil, &Error{Msg: "Failed to read CA certificate file '" + path + "'. Chain missing certificate or private key"}
	}
	g := &certGen{ca: certs[0], caKey: key, cache: map[string]*tls.Certificate{}}
	g.serial.Store(time.Now().Unix())
	return g, nil
}

// get returns the certificate for name, made with the key of def.
func (g *certGen) get(name string, def *tls.Certificate) (*tls.Certificate, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.cache[name]; ok {
		return c, nil
	}
	signer, ok := def.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errStrictSNI
	}
	rdns := g.ca.Subject.ToRDNSequence()
	var caRDNs pkix.RDNSequence
	if _, err := asn1.Unmarshal(g.ca.RawSubject, &caRDNs); err == nil {
		rdns = caRDNs
	}
	rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: name}})
	subject, err := asn1.Marshal(rdns)
	if err != nil {
		return nil, err
	}
	comment, _ := asn1.MarshalWithParams("OpenSSL Generated Certificate", "ia5")
	now := time.Now()
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(g.serial.Add(1)),
		RawSubject:            subject,
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		DNSNames:              []string{name},
		ExtraExtensions:       []pkix.Extension{{Id: oidNSComment, Value: comment}},
	}
	// HAProxy signs with SHA-256 whatever the CA key's size.
	switch g.caKey.Public().(type) {
	case *ecdsa.PublicKey:
		tpl.SignatureAlgorithm = x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		tpl.SignatureAlgorithm = x509.SHA256WithRSA
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, g.ca, signer.Public(), g.caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}
	if len(g.cache) >= genCacheSize {
		clear(g.cache)
	}
	g.cache[name] = c
	return c, nil
}
