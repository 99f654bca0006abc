package ssl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/gohap/gohap/parser"
)

// keyKind is the signature family of a certificate's key, as HAProxy's
// pkey_info.sig records it.
type keyKind uint8

const (
	keyOther keyKind = iota // anonymous/DSA/Ed25519
	keyRSA
	keyECDSA
)

// ckch is one loaded certificate, key and chain (HAProxy's ckch_store).
type ckch struct {
	path string
	cert tls.Certificate
	// served is cert as binds send it: without the self-issued CAs of
	// its chain under ssl-skip-self-issued-ca, cert itself otherwise.
	served *tls.Certificate
	// full is cert completed, when its file had no chain, with the
	// issuers-chain-path chain of its issuer (issuerPath); cert itself
	// otherwise. Binds, servers and OCSP use it.
	full       *tls.Certificate
	issuerPath string
	kind       keyKind
	// dhBits is the size of the DH group the file carries, 0 for none.
	dhBits int
	// ocspResp is the "<path>.ocsp" response, issuer "<path>.issuer";
	// ocsp is the response entry of the certificate id, set when a bind
	// uses the certificate, stapled its certificate with the staple.
	ocspResp []byte
	issuer   *x509.Certificate
	ocsp     atomic.Pointer[ocspEntry]
	stapled  atomic.Pointer[stapledCert]
}

// loadCertFile reads a PEM file holding a certificate, its chain and
// usually its key, falling back to "<path>.key" for the key, with
// ssl_sock_load_files_into_ckch's checks and messages.
func loadCertFile(path string, delExt bool) (*ckch, *Error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, parseErr(msgCannotOpen, path)
	}
	key := firstPrivateKey(data)
	certs, chainErr := pemCerts(data)
	if len(certs) == 0 {
		return nil, parseErr(msgNoCert, path)
	}
	if chainErr {
		return nil, parseErr(msgBadChain, path)
	}
	if key == nil {
		keyPath := path + ".key"
		if delExt && strings.HasSuffix(path, ".crt") {
			// ssl-load-extra-del-ext
			keyPath = strings.TrimSuffix(path, ".crt") + ".key"
		}
		if _, err := os.Stat(keyPath); err == nil {
			kd, rerr := os.ReadFile(keyPath)
			if rerr == nil {
				key = firstPrivateKey(kd)
			}
			if key == nil {
				return nil, parseErr(msgBadKey+"\n"+msgKeyUnreadable, keyPath, keyPath)
			}
		}
		if key == nil {
			return nil, parseErr(msgNoKey, keyPath)
		}
	}
	leaf := certs[0]
	if !keyMatches(leaf.PublicKey, key) {
		return nil, parseErr(msgKeyMismatch, path)
	}
	c := &ckch{path: path, dhBits: parser.PEMDHBits(data)}
	for _, x := range certs {
		c.cert.Certificate = append(c.cert.Certificate, x.Raw)
	}
	c.cert.PrivateKey = key
	c.cert.Leaf = leaf
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		c.kind = keyRSA
	case *ecdsa.PublicKey:
		c.kind = keyECDSA
	}
	if err := c.loadOCSPFiles(); err != nil {
		return nil, err
	}
	return c, nil
}

// loadOCSPFiles reads "<path>.ocsp" when it exists and then, for the
// OCSP certificate id, "<path>.issuer" (ssl_sock_load_files_into_ckch).
func (c *ckch) loadOCSPFiles() *Error {
	p := c.path + ".ocsp"
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	der, err := os.ReadFile(p)
	if err != nil {
		return parseErr("Error opening OCSP response file")
	}
	c.ocspResp = der
	p = c.path + ".issuer"
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	data, _ := os.ReadFile(p)
	certs, _ := pemCerts(data)
	if len(certs) == 0 {
		return parseErr("'%s' cannot be read or parsed'.", p)
	}
	if !issued(certs[0], c.cert.Leaf) {
		return parseErr(" '%s' is not an issuer'.", p)
	}
	c.issuer = certs[0]
	return nil
}

// pemCerts returns the certificates of a PEM bundle in order. bad is set
// when a certificate block after the first cannot be parsed, which
// OpenSSL reports as a chain error.
func pemCerts(data []byte) (certs []*x509.Certificate, bad bool) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, false
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
		default:
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			if len(certs) == 0 {
				return nil, false
			}
			return certs, true
		}
		certs = append(certs, c)
	}
}

// firstPrivateKey returns the first unencrypted private key of a PEM
// bundle, as PEM_read_bio_PrivateKey without a passphrase does.
func firstPrivateKey(data []byte) crypto.Signer {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		var k any
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		default:
			return nil
		}
		if err != nil {
			return nil
		}
		s, _ := k.(crypto.Signer)
		return s
	}
}

func keyMatches(pub any, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return false
	}
	e, ok := pub.(equaler)
	return ok && e.Equal(key.Public())
}

// dirCertFiles lists the files of a "crt" directory that HAProxy loads, in
// its order (scandir with alphasort), skipping hidden files and the
// .key/.ocsp/.issuer/.sctl companions (crtlist_load_cert_dir).
func dirCertFiles(dir string) ([]string, *Error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, parseErr(msgScanDir, dir, strerror(err))
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, parseErr(msgScanDir, dir, strerror(err))
	}
	names = append(names, ".", "..")
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if dot := strings.LastIndexByte(n, '.'); dot >= 0 {
			switch {
			case n[0] == '.', n[dot:] == ".issuer", n[dot:] == ".ocsp", n[dot:] == ".sctl", n[dot:] == ".key":
				continue
			}
		}
		p := dir + "/" + n
		st, err := os.Stat(p)
		if err != nil {
			return nil, parseErr(msgStat, p, strerror(err))
		}
		if st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out, nil
}

// CAFileProblem is what HAProxy says of a ca-file it cannot load
// ("Couldn't open the ca-file ..."), "" when it loads; "@system-ca",
// the system's, always does.
func CAFileProblem(path string) string {
	if path == "@system-ca" {
		return ""
	}
	if _, err := loadStore("ca-file", path); err != nil {
		return strings.Join(err.Before, "\n")
	}
	return ""
}

// store is what a ca-file or crl-file holds: trusted certificates and CRLs
// (ssl_store_load_locations_file).
type store struct {
	certs []*x509.Certificate
	crls  []*x509.RevocationList
}

// loadStore reads a PEM file, or the .pem/.crt/.cer/.crl files of a
// directory, into a store. kw is the keyword for the error message.
func loadStore(kw, path string) (*store, *Error) {
	fail := func(reason string) *Error {
		e := parseErr(msgStoreLoad, kw, path)
		e.Before = []string{strings.TrimSuffix(fmt.Sprintf(msgStoreOpen, path, reason), "\n")}
		return e
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fail(strerror(err))
	}
	s := &store{}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fail(strerror(err))
		}
		s.add(data)
	} else {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, fail(strerror(err))
		}
		for _, e := range ents {
			n := e.Name()
			dot := strings.LastIndexByte(n, '.')
			if dot < 0 || n[0] == '.' {
				continue
			}
			switch n[dot:] {
			case ".pem", ".crt", ".cer", ".crl":
				if data, err := os.ReadFile(path + "/" + n); err == nil {
					s.add(data)
				}
			}
		}
	}
	if len(s.certs) == 0 && len(s.crls) == 0 {
		return nil, fail(msgStoreEmpty)
	}
	return s, nil
}

func (s *store) add(data []byte) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				s.certs = append(s.certs, c)
			}
		case "X509 CRL":
			if c, err := parseCRL(b.Bytes); err == nil {
				s.crls = append(s.crls, c)
			}
		}
	}
}

func (s *store) merge(o *store) *store {
	if s == nil {
		return o
	}
	if o == nil {
		return s
	}
	return &store{certs: append(append([]*x509.Certificate(nil), s.certs...), o.certs...), crls: append(append([]*x509.RevocationList(nil), s.crls...), o.crls...)}
}

func (s *store) pool() *x509.CertPool {
	p := x509.NewCertPool()
	if s != nil {
		for _, c := range s.certs {
			p.AddCert(c)
		}
	}
	return p
}

// certNames returns the names HAProxy indexes a certificate under when no
// filter is given: SAN DNS names in order, then every subject CN.
func certNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	cn := asn1.ObjectIdentifier{2, 5, 4, 3}
	for _, a := range c.Subject.Names {
		if a.Type.Equal(cn) {
			if s, ok := a.Value.(string); ok {
				names = append(names, s)
			}
		}
	}
	return names
}

// issuerChain is the issuers-chain-path chain whose first certificate
// issued leaf, nil if none.
func issuerChain(leaf *x509.Certificate, issuers []parser.IssuerChain) *parser.IssuerChain {
	if leaf == nil || len(leaf.AuthorityKeyId) == 0 {
		return nil
	}
	for i := range issuers {
		if ic := &issuers[i]; bytes.Equal(ic.Certs[0].SubjectKeyId, leaf.AuthorityKeyId) && issued(ic.Certs[0], leaf) {
			return ic
		}
	}
	return nil
}

// sent is the certificate binds send (cert until setServed ran).
func (c *ckch) sent() *tls.Certificate {
	if c.served == nil {
		return &c.cert
	}
	return c.served
}

// chained is the certificate with its chain (cert until setServed ran).
func (c *ckch) chained() *tls.Certificate {
	if c.full == nil {
		return &c.cert
	}
	return c.full
}

// setServed sets the chain and the certificate binds send. A file
// without a chain takes that of the issuers-chain-path file whose first
// certificate issued it (ssl_get0_issuer_chain: its key identifier is the
// certificate's authority key identifier). skip is
// ssl-skip-self-issued-ca: HAProxy then rebuilds the chain without its
// root (OpenSSL's SSL_BUILD_CHAIN_FLAG_NO_ROOT); gohap leaves out the
// chain's self-issued certificates.
func (c *ckch) setServed(skip bool, issuers []parser.IssuerChain) {
	c.full, c.issuerPath = &c.cert, ""
	if ic := issuerChain(c.cert.Leaf, issuers); len(c.cert.Certificate) == 1 && ic != nil {
		full := c.cert
		full.Certificate = [][]byte{c.cert.Certificate[0]}
		for _, x := range ic.Certs {
			full.Certificate = append(full.Certificate, x.Raw)
		}
		c.full, c.issuerPath = &full, ic.Path
	}
	c.served = c.full
	if !skip || len(c.full.Certificate) < 2 {
		return
	}
	out := *c.full
	out.Certificate = [][]byte{c.full.Certificate[0]}
	for _, der := range c.full.Certificate[1:] {
		if x, err := x509.ParseCertificate(der); err == nil && bytes.Equal(x.RawSubject, x.RawIssuer) {
			continue
		}
		out.Certificate = append(out.Certificate, der)
	}
	c.served = &out
}
