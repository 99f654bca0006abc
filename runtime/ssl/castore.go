package ssl

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl"
)

// storeCA is a cafile_entry: the certificates of a ca-file (or
// ca-verify-file), or the CRLs of a crl-file, and the binds and servers
// that verify with it.
type storeCA struct {
	path  string
	crl   bool
	st    *store // nil: created empty by "new ssl ca-file|crl-file"
	binds map[*BindTLS]bool
	srvs  map[*ServerTLS]bool
}

func (e *storeCA) used() bool { return len(e.binds)+len(e.srvs) > 0 }

// caTx is the ongoing "set ssl ca-file" or "set ssl crl-file"
// transaction.
type caTx struct {
	path string
	old  *storeCA
	st   *store
}

// loadCA returns the contents of a ca-file, ca-verify-file or crl-file
// (kw), read from the file the first time; bt or srv, when set, is
// recorded as a user.
func (s *Store) loadCA(kw, path string, bt *BindTLS, srv *ServerTLS) (*store, *Error) {
	if s == nil {
		return loadStore(kw, path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cas == nil {
		s.cas = map[string]*storeCA{}
	}
	e := s.cas[path]
	if e == nil {
		st, err := loadStore(kw, path)
		if err != nil {
			return nil, err
		}
		e = &storeCA{path: path, crl: kw == "crl-file", st: st, binds: map[*BindTLS]bool{}, srvs: map[*ServerTLS]bool{}}
		s.cas[path] = e
	}
	if e.st == nil {
		return nil, parseErr(msgStoreLoad, kw, path)
	}
	if bt != nil {
		e.binds[bt] = true
	}
	if srv != nil {
		e.srvs[srv] = true
	}
	return e.st, nil
}

// caKind words the two kinds of entries in the CLI's answers.
type caKind struct {
	crl                            bool
	verb, file, what, payload, tag string
}

var (
	kindCA  = caKind{verb: "ca-file", file: "CA file", what: "CA", payload: "CAs", tag: "certificate"}
	kindCRL = caKind{crl: true, verb: "crl-file", file: "CRL file", what: "CRL", payload: "CRLs", tag: "CRL"}
)

// CAFileCLI answers the "ssl ca-file" and "ssl crl-file" commands (crl
// selects the latter) as HAProxy 2.6 does.
func (s *Store) CAFileCLI(crl bool, verb, path, payload string, hasPayload bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cas == nil {
		s.cas = map[string]*storeCA{}
	}
	k := kindCA
	tx := &s.catx
	if crl {
		k, tx = kindCRL, &s.crltx
	}
	switch verb {
	case "show":
		return s.showCA(k, *tx, path)
	case "new":
		if path == "" {
			return fmt.Sprintf("'new ssl %s' expects a filename\n", k.verb)
		}
		if s.cas[path] != nil {
			return fmt.Sprintf("%s '%s' already exists!\n", k.file, path)
		}
		s.cas[path] = &storeCA{path: path, crl: crl, binds: map[*BindTLS]bool{}, srvs: map[*ServerTLS]bool{}}
		return fmt.Sprintf("New %s created '%s'!\n", k.file, path)
	case "set":
		if path == "" || !hasPayload {
			return fmt.Sprintf("'set ssl %s expects a filename and %s as a payload\n", k.verb, k.payload)
		}
		fail := func(msg string) string { return msg + "Can't update " + path + "!\n" }
		var old *storeCA
		if *tx != nil {
			if (*tx).path != path {
				return fail(fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to set '%s'\n", (*tx).path, path))
			}
			old = (*tx).old
		} else if e := s.cas[path]; e != nil && e.crl == crl {
			old = e
		}
		if old == nil {
			return fail(fmt.Sprintf("Can't replace a %s which is not referenced by the configuration!\n", k.file))
		}
		st := &store{}
		st.add([]byte(payload))
		if crl && len(st.crls) == 0 || !crl && len(st.certs) == 0 || !pemOnly(payload) {
			return fail("Invalid payload\n")
		}
		msg := "transaction updated for %s %s!\n"
		if *tx == nil {
			msg = "transaction created for %s %s!\n"
		}
		*tx = &caTx{path: old.path, old: old, st: st}
		return fmt.Sprintf(msg, k.what, old.path)
	case "commit":
		if path == "" {
			return "'commit ssl ca-file expects a filename\n"
		}
		fail := func(msg string) string { return msg + "Can't commit " + path + "!\n" }
		if *tx == nil {
			return fail("No ongoing transaction! !\n")
		}
		if (*tx).path != path {
			return fail(fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to set '%s'\n", (*tx).path, path))
		}
		t := *tx
		*tx = nil
		return s.commitCA(t)
	case "abort":
		if path == "" {
			return fmt.Sprintf("'abort ssl %s' expects a filename\n", k.verb)
		}
		if *tx == nil {
			return "No ongoing transaction!\n"
		}
		if (*tx).path != path {
			return fmt.Sprintf("The ongoing transaction is about '%s' but you are trying to abort a transaction for '%s'\n", (*tx).path, path)
		}
		*tx = nil
		return fmt.Sprintf("Transaction aborted for certificate '%s'!\n", path)
	case "del":
		if path == "" {
			return fmt.Sprintf("'del ssl %s' expects a %s name\n", k.verb, k.file)
		}
		fail := func(msg string) string { return fmt.Sprintf("Can't remove the %s: %s\n", k.file, msg) }
		e := s.cas[path]
		switch {
		case e == nil:
			return fail(fmt.Sprintf("%s '%s' doesn't exist!\n", k.file, path))
		case crl && !e.crl:
			// "del ssl ca-file" takes CRL files too, as in HAProxy.
			return fail("'del ssl crl-file' does not work on CA files!\n")
		case e.used():
			return fail(fmt.Sprintf("%s '%s' in use, can't be deleted!\n", k.file, path))
		}
		delete(s.cas, path)
		return fmt.Sprintf("%s '%s' deleted!\n", k.file, path)
	}
	return ""
}

// pemOnly tells a payload made of PEM blocks (and blank space) only.
func pemOnly(payload string) bool {
	rest := []byte(payload)
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			return strings.TrimSpace(string(rest)) == ""
		}
		rest = r
	}
}

// commitCA swaps in the transaction's contents and rebuilds every user.
func (s *Store) commitCA(t *caTx) string {
	e := t.old
	var b strings.Builder
	b.WriteString("Committing " + t.path)
	old := e.st
	e.st = t.st
	users := make(map[*BindTLS]int, len(e.binds))
	for bt := range e.binds {
		users[bt] = 1
	}
	if failed := s.reloadBinds(&b, users); failed != "" {
		e.st = old
		return b.String() + failed
	}
	for srv := range e.srvs {
		srv.reloadVerify(s)
		b.WriteString(".")
	}
	b.WriteString("\nSuccess!\n")
	return b.String()
}

// showCA is "show ssl ca-file|crl-file [<file>[:<index>]]".
func (s *Store) showCA(k caKind, tx *caTx, arg string) string {
	count := func(st *store) int {
		if st == nil {
			return 0
		}
		if k.crl {
			return len(st.crls)
		}
		return len(st.certs)
	}
	var b strings.Builder
	if arg == "" {
		if tx != nil {
			b.WriteString("# transaction\n*" + tx.old.path)
			if !k.crl {
				fmt.Fprintf(&b, " - %d certificate(s)", count(tx.st))
			}
			b.WriteString("\n")
		}
		b.WriteString("# filename\n")
		paths := make([]string, 0, len(s.cas))
		for p, e := range s.cas {
			if e.crl == k.crl {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			b.WriteString(p)
			if !k.crl {
				fmt.Fprintf(&b, " - %d certificate(s)", count(s.cas[p].st))
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	index := 0
	if i := strings.IndexByte(arg, ':'); i >= 0 {
		n, err := strconv.Atoi(arg[i+1:])
		if err != nil || n <= 0 || strings.HasPrefix(arg[i+1:], "+") {
			return fmt.Sprintf("wrong %s index after colons in '%s'!", map[bool]string{false: "CA", true: "CRL"}[k.crl], arg)
		}
		arg, index = arg[:i], n
	}
	notFound := fmt.Sprintf("Can't display the %s : Not found!\n", k.file)
	var st *store
	var e *storeCA
	if rest, ok := strings.CutPrefix(arg, "*"); ok {
		if tx == nil || tx.path != rest {
			return notFound
		}
		b.WriteString("Filename: *" + rest + "\n")
		st = tx.st
	} else {
		e = s.cas[arg]
		if e == nil || e.crl != k.crl {
			return notFound
		}
		b.WriteString("Filename: " + arg + "\n")
		st = e.st
	}
	switch {
	case st == nil:
		b.WriteString("Status: Empty\n")
		if !k.crl {
			// HAProxy sends the CA file's heading with its first
			// certificate only.
			return ""
		}
		return b.String()
	case e == nil || !e.used():
		b.WriteString("Status: Unused\n")
	default:
		b.WriteString("Status: Used\n")
	}
	if k.crl {
		for i, c := range st.crls {
			if index != 0 && index-1 != i {
				continue
			}
			fmt.Fprintf(&b, " \nCertificate Revocation List #%d:\n", i+1)
			writeCRLDetail(&b, c)
		}
		return b.String()
	}
	start := 0
	if index > 0 {
		start = index - 1
	}
	if start >= len(st.certs) {
		return ""
	}
	for i := start; i < len(st.certs); i++ {
		fmt.Fprintf(&b, " \nCertificate #%d:\n", i+1)
		writeCertDetail(&b, st.certs[i], nil)
		if index > 0 {
			break
		}
	}
	return b.String()
}

// writeCRLDetail is show_crl_detail.
func writeCRLDetail(b *strings.Builder, c *x509.RevocationList) {
	version := 1
	var tbs, first asn1.RawValue
	if _, err := asn1.Unmarshal(c.RawTBSRevocationList, &tbs); err == nil {
		if _, err := asn1.Unmarshal(tbs.Bytes, &first); err == nil && first.Tag == asn1.TagInteger && len(first.Bytes) == 1 {
			version = int(first.Bytes[0]) + 1
		}
	}
	fmt.Fprintf(b, "Version %d\n", version)
	fmt.Fprintf(b, "Signature Algorithm: %s\n", sigAlgLongName[c.SignatureAlgorithm])
	fmt.Fprintf(b, "Issuer: %s\n", acl.DNOneline(c.RawIssuer))
	fmt.Fprintf(b, "Last Update: %s\n", asn1TimePrint(c.ThisUpdate))
	b.WriteString("Next Update: ")
	if c.NextUpdate.IsZero() {
		b.WriteString("NONE\n")
	} else {
		b.WriteString(asn1TimePrint(c.NextUpdate) + "\n")
	}
	if len(c.RevokedCertificateEntries) > 0 {
		b.WriteString("Revoked Certificates:\n")
	} else {
		b.WriteString("No Revoked Certificates.\n")
	}
	for _, r := range c.RevokedCertificateEntries {
		fmt.Fprintf(b, "    Serial Number: %s\n        Revocation Date: %s\n", i2aInteger(r.SerialNumber.Bytes()), asn1TimePrint(r.RevocationTime))
	}
}

// i2aInteger is i2a_ASN1_INTEGER for a non-negative value: hex digit
// pairs, "00" for zero.
func i2aInteger(b []byte) string {
	if len(b) == 0 {
		return "00"
	}
	return fmt.Sprintf("%X", b)
}

// sigAlgLongName are OpenSSL's long names (OBJ_nid2ln) of signatures.
var sigAlgLongName = map[x509.SignatureAlgorithm]string{
	x509.MD5WithRSA: "md5WithRSAEncryption", x509.SHA1WithRSA: "sha1WithRSAEncryption",
	x509.SHA256WithRSA: "sha256WithRSAEncryption", x509.SHA384WithRSA: "sha384WithRSAEncryption",
	x509.SHA512WithRSA: "sha512WithRSAEncryption", x509.ECDSAWithSHA1: "ecdsa-with-SHA1",
	x509.ECDSAWithSHA256: "ecdsa-with-SHA256", x509.ECDSAWithSHA384: "ecdsa-with-SHA384",
	x509.ECDSAWithSHA512: "ecdsa-with-SHA512", x509.PureEd25519: "ED25519",
	x509.SHA256WithRSAPSS: "rsassaPss", x509.SHA384WithRSAPSS: "rsassaPss", x509.SHA512WithRSAPSS: "rsassaPss",
}

// reloadVerify rebuilds a server's verification from the store's current
// ca-file and crl-file contents; its resumable sessions were verified
// with the old ones. s.mu is held.
func (st *ServerTLS) reloadVerify(s *Store) {
	v := st.verify.Load()
	if v == nil {
		return
	}
	var ca, crl *store
	if e := s.cas[st.caFile]; e != nil {
		ca = e.st
	}
	if e := s.cas[st.crlFile]; e != nil && st.crlFile != "" {
		crl = e.st
	}
	st.verify.Store(&verifier{store: ca.merge(crl), crlCheck: v.crlCheck, server: true})
	if st.sessions != nil {
		st.sessions.reset()
	}
}
