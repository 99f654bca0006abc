package ssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
)

// Store is HAProxy's certificate store (ckchs_tree, src/ssl_ckch.c): every
// certificate file the configuration loaded, by path, shared by the binds
// and servers that name it, and the one transaction "set ssl cert" opens.
// A committed change reaches new handshakes: binds re-index their
// certificates, servers send the new client certificate. A nil *Store
// reads the files at each load.
type Store struct {
	// DelExt is "ssl-load-extra-del-ext": a ".crt" file's key is looked
	// for in ".key" instead of ".crt.key".
	DelExt bool
	// SkipSelfIssuedCA is ssl-skip-self-issued-ca (ckch.served).
	SkipSelfIssuedCA bool
	// Issuers are issuers-chain-path's chains (ckch.full).
	Issuers []parser.IssuerChain

	mu    sync.Mutex
	certs map[string]*storeCert
	tx    *certTx
	// cas are the ca-file, ca-verify-file and crl-file entries, with
	// their transactions.
	cas         map[string]*storeCA
	catx, crltx *caTx
	// lists are the crt-list files and "crt" directories.
	lists map[string]*storeList
	// Globals gives "add ssl crt-list" the crt-base and ca-base.
	Globals *Globals
	// ocsp are the OCSP responses by DER certificate id
	// (cert_ocsp_tree).
	ocsp map[string]*ocspEntry
	// tickets are the tls-ticket-keys files, in the order binds named
	// them first.
	tickets []*ticketRef
}

// storeCert is one ckch_store: its current certificate (nil when created
// empty by "new ssl cert") and its instances.
type storeCert struct {
	path  string
	ck    *ckch
	binds map[*BindTLS]int
	srvs  map[*ServerTLS]bool
}

// certTx is the ongoing "set ssl cert" transaction (ckchs_transaction).
type certTx struct {
	path string
	old  *storeCert
	// The new contents, possibly without a key until a ".key" payload
	// comes.
	leaf  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
	// ocspResp and issuer are the ".ocsp" and ".issuer" contents.
	ocspResp []byte
	issuer   *x509.Certificate
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{certs: map[string]*storeCert{}} }

// load returns the certificate of path, read from the file the first
// time; bt, when set, is recorded as one more instance of it.
func (s *Store) load(path string, bt *BindTLS, st *ServerTLS) (*ckch, *Error) {
	if s == nil {
		c, err := loadCertFile(path, false)
		if c != nil {
			c.setServed(false, nil)
		}
		return c, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.certs[path]
	if sc == nil {
		c, err := loadCertFile(path, s.DelExt)
		if err != nil {
			return nil, err
		}
		c.setServed(s.SkipSelfIssuedCA, s.Issuers)
		sc = &storeCert{path: path, ck: c}
		s.certs[path] = sc
	}
	if sc.ck == nil {
		return nil, parseErr(msgNoCert, path)
	}
	if sc.binds == nil {
		sc.binds, sc.srvs = map[*BindTLS]int{}, map[*ServerTLS]bool{}
	}
	if bt != nil {
		sc.binds[bt]++
	}
	if st != nil {
		sc.srvs[st] = true
	}
	return sc.ck, nil
}

// forget drops bt's instances before it loads again.
func (s *Store) forget(bt *BindTLS) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.certs {
		delete(sc.binds, bt)
	}
	for _, e := range s.cas {
		delete(e.binds, bt)
	}
	for _, l := range s.lists {
		delete(l.binds, bt)
	}
}

// Release drops a server's use of its client certificate (a server
// removed at run time).
func (s *Store) Release(st *ServerTLS) {
	if s == nil || st == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.certs {
		delete(sc.srvs, st)
	}
	for _, e := range s.cas {
		delete(e.srvs, st)
	}
}

func (sc *storeCert) instances() int {
	n := len(sc.srvs)
	for _, c := range sc.binds {
		n += c
	}
	return n
}

// CLI answers the "ssl cert" commands of the stats socket (management.txt
// 9.3) as HAProxy 2.6 does: verb is show, new, set, commit, abort or del,
// path the file argument, payload the text after "<<".
func (s *Store) CLI(verb, path, payload string, hasPayload bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch verb {
	case "show":
		return s.show(path)
	case "new":
		if path == "" {
			return "'new ssl cert' expects a filename\n"
		}
		if s.certs[path] != nil {
			return fmt.Sprintf("Certificate '%s' already exists!\n", path)
		}
		s.certs[path] = &storeCert{path: path, binds: map[*BindTLS]int{}, srvs: map[*ServerTLS]bool{}}
		return fmt.Sprintf("New empty certificate store '%s'!\n", path)
	case "set":
		if path == "" || !hasPayload {
			return "'set ssl cert expects a filename and a certificate as a payload\n"
		}
		return s.set(path, payload)
	case "commit":
		if path == "" {
			return "'commit ssl cert expects a filename\n"
		}
		return s.commit(path)
	case "abort":
		if path == "" {
			return "'abort ssl cert' expects a filename\n"
		}
		if s.tx == nil {
			return "No ongoing transaction!\n"
		}
		if s.tx.path != path {
			return fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to abort a transaction for '%s'\n", s.tx.path, path)
		}
		s.tx = nil
		return fmt.Sprintf("Transaction aborted for certificate '%s'!\n", path)
	case "del":
		if path == "" {
			return "'del ssl cert' expects a certificate name\n"
		}
		sc := s.certs[path]
		if sc == nil {
			return fmt.Sprintf("Can't remove the certificate: certificate '%s' doesn't exist!\n\n", path)
		}
		if sc.instances() > 0 {
			return fmt.Sprintf("Can't remove the certificate: certificate '%s' in use, can't be deleted!\n\n", path)
		}
		delete(s.certs, path)
		return fmt.Sprintf("Certificate '%s' deleted!\n", path)
	}
	return ""
}

// set is cli_parse_set_cert: the payload goes into a copy of the store
// (or of the transaction's copy); a ".key" path sets the key only.
func (s *Store) set(arg, payload string) string {
	fail := func(msg string) string { return msg + "Can't update " + arg + "!\n" }
	name, ext := arg, ""
	if dot := strings.LastIndexByte(arg, '.'); dot >= 0 {
		switch arg[dot+1:] {
		case "crt", "key", "ocsp", "issuer":
			name, ext = arg[:dot], arg[dot+1:]
		case "sctl":
			return fail(fmt.Sprintf("'%s': SCTs cannot be loaded\n", arg))
		}
	}
	extra := ext != "" && s.DelExt
	var old *storeCert
	if s.tx != nil {
		// HAProxy 2.6 refuses another file only when it tried the
		// ".crt" of a ".key" or ".crt" argument; otherwise the payload
		// goes into the ongoing transaction, whatever the file named.
		if s.tx.path != name && extra && s.tx.path != name+".crt" {
			return fail(fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to set '%s'\n", s.tx.path, name))
		}
		old = s.tx.old
	} else {
		old = s.certs[name]
		if old == nil && extra {
			old = s.certs[name+".crt"]
		}
	}
	if old == nil {
		return fail("Can't replace a certificate which is not referenced by the configuration!\n")
	}
	tx := &certTx{path: old.path, old: old}
	switch {
	case s.tx != nil:
		*tx = *s.tx
	case old.ck != nil:
		tx.leaf, tx.key = old.ck.cert.Leaf, old.ck.cert.PrivateKey.(crypto.Signer)
		tx.ocspResp, tx.issuer = old.ck.ocspResp, old.ck.issuer
		for _, der := range old.ck.cert.Certificate[1:] {
			if c, err := x509.ParseCertificate(der); err == nil {
				tx.chain = append(tx.chain, c)
			}
		}
	}
	data := []byte(payload)
	switch ext {
	case "key":
		k := firstPrivateKey(data)
		if k == nil {
			return fail(fmt.Sprintf("unable to load private key from file '%s'.\nCan't load the payload\n", name))
		}
		tx.key = k
	case "ocsp":
		// ssl_sock_load_ocsp_response_from_file: checked at commit.
		der, ok := decodeB64(payload)
		if !ok {
			return fail("Error reading OCSP response in base64 formatCan't load the payload\n")
		}
		tx.ocspResp = der
	case "issuer":
		certs, _ := pemCerts(data)
		if len(certs) == 0 {
			return fail(fmt.Sprintf("'%s' cannot be read or parsed'.\nCan't load the payload\n", name))
		}
		tx.issuer = certs[0]
	default:
		certs, bad := pemCerts(data)
		if len(certs) == 0 {
			return fail(fmt.Sprintf("unable to load certificate from file '%s'.\nCan't load the payload\n", name))
		}
		if bad {
			return fail(fmt.Sprintf("unable to load certificate chain from file '%s'.\nCan't load the payload\n", name))
		}
		// A new PEM drops the OCSP response and issuer.
		tx.leaf, tx.chain, tx.key = certs[0], certs[1:], firstPrivateKey(data)
		tx.ocspResp, tx.issuer = nil, nil
	}
	msg := "Transaction updated for certificate %s!\n"
	if s.tx == nil {
		msg = "Transaction created for certificate %s!\n"
	}
	s.tx = tx
	return fmt.Sprintf(msg, tx.path)
}

// commit is cli_parse_commit_cert and its I/O handler: one dot per
// instance rebuilt.
func (s *Store) commit(path string) string {
	fail := func(msg string) string { return msg + "Can't commit " + path + "!\n" }
	tx := s.tx
	if tx == nil {
		return fail("No ongoing transaction! !\n")
	}
	if tx.path != path {
		return fail(fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to set '%s'\n", tx.path, path))
	}
	if tx.leaf != nil && tx.key == nil {
		return fail("The transaction must contain at least a certificate and a private key!\n")
	}
	if tx.leaf == nil || !keyMatches(tx.leaf.PublicKey, tx.key) {
		return fail(fmt.Sprintf("inconsistencies between private key and certificate loaded '%s'.\n", path))
	}
	c := &ckch{path: path, cert: tls.Certificate{PrivateKey: tx.key, Leaf: tx.leaf, Certificate: [][]byte{tx.leaf.Raw}}, ocspResp: tx.ocspResp, issuer: tx.issuer}
	for _, x := range tx.chain {
		c.cert.Certificate = append(c.cert.Certificate, x.Raw)
	}
	c.setServed(s.SkipSelfIssuedCA, s.Issuers)
	switch tx.leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		c.kind = keyRSA
	case *ecdsa.PublicKey:
		c.kind = keyECDSA
	}
	sc := tx.old
	var b strings.Builder
	b.WriteString("Committing " + path)
	old := sc.ck
	sc.ck = c
	if failed := s.reloadBinds(&b, sc.binds); failed != "" {
		sc.ck = old
		s.tx = nil
		return b.String() + failed
	}
	for st := range sc.srvs {
		st.setClientCert(&c.cert)
		b.WriteString(".")
	}
	s.tx = nil
	// A certificate replaced by a commit frees its OCSP entry; a
	// deleted crt-list line does not (HAProxy 2.6 keeps it).
	if old != nil {
		s.releaseOCSP(old)
	}
	b.WriteString("\nSuccess!\n")
	return b.String()
}

// show is "show ssl cert [<file>]".
func (s *Store) show(path string) string {
	var b strings.Builder
	if path == "" {
		if s.tx != nil {
			b.WriteString("# transaction\n*" + s.tx.path + "\n")
		}
		b.WriteString("# filename\n")
		paths := make([]string, 0, len(s.certs))
		for p := range s.certs {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			b.WriteString(p + "\n")
		}
		return b.String()
	}
	notFound := "Can't display the certificate: Not found or the certificate is a bundle!\n"
	// "<file>.ocsp" shows the OCSP response of the certificate.
	ocspDetail := false
	if dot := strings.LastIndexByte(path, '.'); dot >= 0 && path[dot+1:] == "ocsp" {
		path, ocspDetail = path[:dot], true
	}
	var leaf *x509.Certificate
	var chain []*x509.Certificate
	issuerPath := ""
	var sc *storeCert
	var resp []byte
	if rest, ok := strings.CutPrefix(path, "*"); ok {
		if s.tx == nil || s.tx.path != rest {
			return notFound
		}
		if ocspDetail {
			// The transaction's own response, not the tree's.
			return ocspPrint(s.tx.ocspResp)
		}
		b.WriteString("Filename: *" + rest + "\n")
		leaf, chain, resp = s.tx.leaf, s.tx.chain, s.tx.ocspResp
		if ic := issuerChain(leaf, s.Issuers); len(chain) == 0 && ic != nil {
			issuerPath, chain = ic.Path, ic.Certs
		}
	} else {
		sc = s.certs[path]
		if sc == nil {
			return notFound
		}
		if sc.ck != nil {
			resp = sc.ck.ocspResp
		}
		if ocspDetail {
			// The response in use for the id the file's response names.
			if e := s.ocspLookup(ocspKeyOf(resp)); e != nil {
				return ocspDetailOf(e)
			}
			return ""
		}
		b.WriteString("Filename: " + path + "\n")
		if sc.ck != nil {
			leaf = sc.ck.cert.Leaf
			issuerPath = sc.ck.issuerPath
			for _, der := range sc.ck.chained().Certificate[1:] {
				if c, err := x509.ParseCertificate(der); err == nil {
					chain = append(chain, c)
				}
			}
		}
	}
	switch {
	case leaf == nil:
		b.WriteString("Status: Empty\n")
	case sc == nil || sc.instances() == 0:
		// A transaction's copy has no instance yet.
		b.WriteString("Status: Unused\n")
	default:
		b.WriteString("Status: Used\n")
	}
	if leaf != nil {
		if issuerPath != "" {
			b.WriteString("Chain Filename: " + issuerPath + "\n")
		}
		writeCertDetail(&b, leaf, chain)
	}
	fmt.Fprintf(&b, "OCSP Response Key: %x\n", ocspKeyOf(resp))
	return b.String()
}

// writeCertDetail is show_cert_detail.
func writeCertDetail(b *strings.Builder, c *x509.Certificate, chain []*x509.Certificate) {
	serial, _ := acl.CertSerial(c)
	fmt.Fprintf(b, "Serial: %X\n", serial)
	fmt.Fprintf(b, "notBefore: %s\n", asn1TimePrint(c.NotBefore))
	fmt.Fprintf(b, "notAfter: %s\n", asn1TimePrint(c.NotAfter))
	b.WriteString("Subject Alternative Name: ")
	for i, n := range c.DNSNames {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("DNS:" + n)
	}
	b.WriteString("\n")
	algo, ok := pkeyAlgo(c)
	b.WriteString("Algorithm: " + algo)
	if !ok {
		// HAProxy stops the dump at a key it cannot name.
		return
	}
	b.WriteString("\n")
	sum := sha1.Sum(c.Raw)
	fmt.Fprintf(b, "SHA1 FingerPrint: %X\n", sum[:])
	fmt.Fprintf(b, "Subject: %s\n", acl.DNOneline(c.RawSubject))
	fmt.Fprintf(b, "Issuer: %s\n", acl.DNOneline(c.RawIssuer))
	for _, ca := range chain {
		fmt.Fprintf(b, "Chain Subject: %s\n", acl.DNOneline(ca.RawSubject))
		fmt.Fprintf(b, "Chain Issuer: %s\n", acl.DNOneline(ca.RawIssuer))
	}
}

// pkeyAlgo is cert_get_pkey_algo: the key type and its size in bits.
func pkeyAlgo(c *x509.Certificate) (string, bool) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA%d", k.N.BitLen()), true
	case *ecdsa.PublicKey:
		return fmt.Sprintf("EC%d", k.Curve.Params().BitSize), true
	}
	return "", false
}

// asn1TimePrint is ASN1_TIME_print's "Jan  2 15:04:05 2006 GMT".
func asn1TimePrint(t time.Time) string {
	return t.UTC().Format("Jan _2 15:04:05 2006 GMT")
}

// setClientCert makes a server send c from its next handshake on.
// The sessions it resumed were made with the old one: they are dropped.
func (st *ServerTLS) setClientCert(c *tls.Certificate) {
	st.clientCert.Store(c)
	if st.sessions != nil {
		st.sessions.reset()
	}
}

// reloadBinds makes binds (with their instance counts) load again
// through the store, which holds the committed contents, writing a dot
// per instance; it returns the failure text, "" when all loaded. s.mu is
// held and released around each load.
func (s *Store) reloadBinds(b *strings.Builder, users map[*BindTLS]int) string {
	binds := make(map[*BindTLS]int, len(users))
	for bt, n := range users {
		binds[bt] = n
	}
	var errs []string
	for bt, n := range binds {
		s.mu.Unlock()
		err := bt.Reload()
		s.mu.Lock()
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		b.WriteString(strings.Repeat(".", n))
	}
	if len(errs) > 0 {
		return "\n" + strings.Join(errs, "\n") + "\nFailed!\n"
	}
	return ""
}

// certFiles are the certificates a crt argument or crt-list line names
// (ssl_sock_load_cert): the path itself, in the store or as a file (a
// directory included), else the files of its bundle, "<path>.dsa",
// ".ecdsa" and ".rsa", each a certificate of its own, as the default
// ssl-load-extra-files ("bundle") has HAProxy load them. With none, the
// path's stat error.
func (s *Store) certFiles(path string) ([]string, *Error) {
	_, err := s.certOrStat(path)
	if err == nil {
		return []string{path}, nil
	}
	var out []string
	for _, ext := range parser.BundleExts {
		if ok, _ := s.certOrStat(path + "." + ext); ok {
			out = append(out, path+"."+ext)
		}
	}
	if out == nil {
		return nil, err
	}
	return out, nil
}

// certOrStat checks that a certificate exists: in the store (added over
// the CLI) or as a file.
func (s *Store) certOrStat(path string) (bool, *Error) {
	if s != nil {
		s.mu.Lock()
		sc := s.certs[path]
		s.mu.Unlock()
		if sc != nil {
			return true, nil
		}
	}
	if _, err := os.Stat(path); err != nil {
		return false, parseErr(msgStat, path, strerror(err))
	}
	return true, nil
}
