package ssl

import (
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/gohap/gohap/acl"
)

// ocspSkew is OCSP_MAX_RESPONSE_TIME_SKEW: the tolerance on thisUpdate
// and nextUpdate, and how long before nextUpdate a staple stops being
// sent.
const ocspSkew = 300

// ocspMaxKey is OCSP_MAX_CERTID_ASN1_LENGTH, the largest certificate id
// HAProxy keys its response tree with.
const ocspMaxKey = 128

// ocspEntry is HAProxy's certificate_ocsp: the response stapled for one
// certificate id (the DER OCSP CertID of a certificate and its issuer),
// shared by every certificate with that id.
type ocspEntry struct {
	key []byte
	cur atomic.Pointer[staple]
}

// staple is one accepted response: sent until expire (nextUpdate less
// the skew, in Unix seconds).
type staple struct {
	der    []byte
	expire int64
}

// stapledCert is a certificate with the staple it was built for.
type stapledCert struct {
	src  *staple
	cert *tls.Certificate
}

// serve returns the certificate for a handshake: with the current
// staple while it is fresh (ssl_sock_ocsp_stapling_cbk), without it
// otherwise. crypto/tls sends it only to a client that asked
// (status_request).
func (c *ckch) serve(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s := c.ocsp.Load().cur.Load()
	if s == nil || s.expire < time.Now().Unix() {
		return c.sent(), nil
	}
	if sc := c.stapled.Load(); sc != nil && sc.src == s {
		return sc.cert, nil
	}
	cert := *c.sent()
	cert.OCSPStaple = s.der
	c.stapled.Store(&stapledCert{src: s, cert: &cert})
	return &cert, nil
}

// ocspDoc is the part of an OCSPResponse that golang.org/x/crypto/ocsp
// does not expose: the raw CertIDs (HAProxy's keys), every single
// response, the response extensions and the certificates.
type ocspDoc struct {
	Status   asn1.Enumerated
	Response struct {
		Type  asn1.ObjectIdentifier
		Basic []byte
	} `asn1:"explicit,tag:0,optional"`
}

type ocspBasic struct {
	TBS struct {
		Raw       asn1.RawContent
		Version   int `asn1:"optional,default:0,explicit,tag:0"`
		Responder asn1.RawValue
		Produced  time.Time `asn1:"generalized"`
		Responses []asn1.RawValue
		Exts      []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	SigAlg pkix.AlgorithmIdentifier
	Sig    asn1.BitString
	Certs  []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type ocspSingle struct {
	CertID asn1.RawValue
	Status asn1.RawValue
	This   time.Time        `asn1:"generalized"`
	Next   time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Exts   []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type ocspCertID struct {
	Hash     pkix.AlgorithmIdentifier
	NameHash []byte
	KeyHash  []byte
	Serial   asn1.RawValue
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// parseOCSPDoc decodes a response as d2i_OCSP_RESPONSE and
// OCSP_response_get1_basic do; basic is nil for an unsuccessful or
// non-basic response.
func parseOCSPDoc(der []byte) (*ocspDoc, *ocspBasic, bool) {
	var d ocspDoc
	if _, err := asn1.Unmarshal(der, &d); err != nil {
		return nil, nil, false
	}
	if d.Status != 0 || !d.Response.Type.Equal(oidOCSPBasic) {
		return &d, nil, true
	}
	var b ocspBasic
	if _, err := asn1.Unmarshal(d.Response.Basic, &b); err != nil {
		return &d, nil, true
	}
	return &d, &b, true
}

// certIDOf returns the raw CertID of a SingleResponse.
func certIDOf(single asn1.RawValue) []byte {
	var s ocspSingle
	if _, err := asn1.Unmarshal(single.FullBytes, &s); err != nil {
		return nil
	}
	return s.CertID.FullBytes
}

// certIDEqual is OCSP_id_cmp: same hash algorithm, hashes and serial.
func certIDEqual(a, b []byte) bool {
	var x, y ocspCertID
	if _, err := asn1.Unmarshal(a, &x); err != nil {
		return false
	}
	if _, err := asn1.Unmarshal(b, &y); err != nil {
		return false
	}
	return x.Hash.Algorithm.Equal(y.Hash.Algorithm) && bytes.Equal(x.NameHash, y.NameHash) &&
		bytes.Equal(x.KeyHash, y.KeyHash) && bytes.Equal(x.Serial.Bytes, y.Serial.Bytes)
}

// certID is OCSP_cert_to_id with SHA-1: the DER CertID of c issued by
// issuer.
func certID(c, issuer *x509.Certificate) []byte {
	var spki struct {
		Algo pkix.AlgorithmIdentifier
		Key  asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	serial, ok := acl.CertSerial(c)
	if !ok {
		return nil
	}
	nh, kh := sha1.Sum(issuer.RawSubject), sha1.Sum(spki.Key.Bytes)
	der, err := asn1.Marshal(ocspCertID{
		Hash:     pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, Parameters: asn1.NullRawValue},
		NameHash: nh[:], KeyHash: kh[:],
		Serial: asn1.RawValue{Tag: asn1.TagInteger, Bytes: serial},
	})
	if err != nil {
		return nil
	}
	return der
}

// issued is X509_check_issued: issuer's subject names x's issuer, the
// key identifiers agree and issuer may sign certificates.
func issued(issuer, x *x509.Certificate) bool {
	if !bytes.Equal(issuer.RawSubject, x.RawIssuer) {
		return false
	}
	if len(x.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(x.AuthorityKeyId, issuer.SubjectKeyId) {
		return false
	}
	return issuer.KeyUsage == 0 || issuer.KeyUsage&x509.KeyUsageCertSign != 0
}

// checkOCSP is ssl_sock_load_ocsp_response's checks: it returns the
// response's CertID and its staple, or HAProxy's message. cid, when set,
// is the id the response must be for.
func checkOCSP(der, cid []byte, now time.Time) ([]byte, *staple, string) {
	_, basic, ok := parseOCSPDoc(der)
	if !ok {
		return nil, nil, "Unable to parse OCSP response"
	}
	r, err := ocsp.ParseResponse(der, nil)
	if _, bad := err.(ocsp.ResponseError); bad {
		return nil, nil, "OCSP response status not successful"
	}
	if basic == nil {
		return nil, nil, "Failed to get basic response from OCSP Response"
	}
	if n := len(basic.TBS.Responses); n > 1 {
		return nil, nil, fmt.Sprintf("OCSP response ignored because contains multiple single responses (%d)", n)
	} else if n == 0 {
		return nil, nil, "Failed to get OCSP single response"
	}
	if err != nil {
		return nil, nil, "Unable to parse OCSP response"
	}
	id := certIDOf(basic.TBS.Responses[0])
	if r.Status != ocsp.Good && r.Status != ocsp.Revoked {
		return nil, nil, "OCSP single response: certificate status is unknown"
	}
	if r.NextUpdate.IsZero() {
		return nil, nil, "OCSP single response: missing nextupdate"
	}
	// OCSP_check_validity with a 300s skew and no maximum age.
	if r.ThisUpdate.After(now.Add(ocspSkew*time.Second)) || r.NextUpdate.Before(now.Add(-ocspSkew*time.Second)) || r.NextUpdate.Before(r.ThisUpdate) {
		return nil, nil, "OCSP single response: no longer valid."
	}
	if cid != nil && !certIDEqual(id, cid) {
		return nil, nil, "OCSP single response: Certificate ID does not match certificate and issuer"
	}
	if len(id) == 0 {
		return nil, nil, "OCSP single response: Unable to encode Certificate ID"
	}
	if len(id) > ocspMaxKey {
		return nil, nil, "OCSP single response: Certificate ID too long"
	}
	return id, &staple{der: bytes.Clone(der), expire: r.NextUpdate.Unix() - ocspSkew}, ""
}

// attachOCSP is ssl_sock_load_ocsp for a certificate with a ".ocsp"
// response: it finds the issuer (in the chain, then ".issuer"), makes or
// finds the entry of the certificate id and loads the response into it.
// A response that fails the checks is ignored with HAProxy's warning.
func (s *Store) attachOCSP(c *ckch) (warn string, e *Error) {
	leaf := c.cert.Leaf
	issuer := c.issuer
	for _, der := range c.chained().Certificate[1:] {
		if ca, err := x509.ParseCertificate(der); err == nil && issued(ca, leaf) {
			issuer = ca
			break
		}
	}
	var cid []byte
	if issuer != nil {
		cid = certID(leaf, issuer)
	}
	if cid == nil || len(cid) > ocspMaxKey {
		return "", parseErr(" '%s.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'.", c.path)
	}
	var ent *ocspEntry
	if s != nil {
		s.mu.Lock()
		if s.ocsp == nil {
			s.ocsp = map[string]*ocspEntry{}
		}
		ent = s.ocsp[string(cid)]
		if ent == nil {
			// An entry pruned while no bind used the certificate
			// comes back with it.
			if ent = c.ocsp.Load(); ent == nil {
				ent = &ocspEntry{key: cid}
			}
			s.ocsp[string(cid)] = ent
		}
		s.mu.Unlock()
	} else if ent = c.ocsp.Load(); ent == nil {
		ent = &ocspEntry{key: cid}
	}
	c.ocsp.Store(ent)
	_, st, msg := checkOCSP(c.ocspResp, cid, time.Now())
	if msg != "" {
		return fmt.Sprintf("Loading: %s. Content will be ignored.", msg), nil
	}
	ent.cur.Store(st)
	return "", nil
}

// releaseOCSP drops the entry of a replaced certificate when no loaded
// certificate uses it any more, as HAProxy frees it with the last SSL
// context holding it. s.mu is held.
func (s *Store) releaseOCSP(old *ckch) {
	e := old.ocsp.Load()
	if e == nil {
		return
	}
	for _, sc := range s.certs {
		if sc.ck != nil && len(sc.binds) > 0 && sc.ck.ocsp.Load() == e {
			return
		}
	}
	if s.ocsp[string(e.key)] == e {
		delete(s.ocsp, string(e.key))
	}
}

// OCSPCLI answers "show ssl ocsp-response [<id>]" and "set ssl
// ocsp-response <base64>|<<payload" (src/ssl_sock.c).
func (s *Store) OCSPCLI(verb, arg, payload string, hasPayload bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if verb == "set" {
		if !hasPayload {
			payload = arg
		}
		der, ok := decodeB64(payload)
		if payload == "" {
			return "'set ssl ocsp-response' expects response in base64 encoding.\n"
		}
		if !ok {
			return "'set ssl ocsp-response' received invalid base64 encoded response.\n"
		}
		id, st, msg := checkOCSP(der, nil, time.Now())
		if msg == "" {
			ent := s.ocsp[string(id)]
			if ent == nil {
				msg = "OCSP single response: Certificate ID does not match any certificate or issuer"
			} else {
				ent.cur.Store(st)
			}
		}
		if msg != "" {
			return msg + ".\n"
		}
		return "OCSP Response updated!\n"
	}
	if arg != "" {
		if len(arg) > ocspMaxKey*2 {
			return "'show ssl ocsp-response' received a too big key.\n"
		}
		key, err := hex.DecodeString(arg)
		ent := s.ocspLookup(key)
		if err != nil || ent == nil {
			return "Certificate ID does not match any certificate.\n"
		}
		return ocspDetailOf(ent)
	}
	ents := make([]*ocspEntry, 0, len(s.ocsp))
	for _, e := range s.ocsp {
		ents = append(ents, e)
	}
	// The tree is ordered by the key padded with zeros.
	sort.Slice(ents, func(i, j int) bool { return padKey(ents[i].key) < padKey(ents[j].key) })
	if len(ents) == 0 {
		// The heading goes out with the first entry only.
		return ""
	}
	var b strings.Builder
	b.WriteString("# Certificate IDs\n")
	for _, e := range ents {
		fmt.Fprintf(&b, "Certificate ID key : %x\n", e.key)
		var id ocspCertID
		if _, err := asn1.Unmarshal(e.key, &id); err != nil {
			break
		}
		fmt.Fprintf(&b, " Certificate ID:\n   Issuer Name Hash: %X\n   Issuer Key Hash: %X\n   Serial Number: %s\n",
			id.NameHash, id.KeyHash, i2aInteger(magnitude(id.Serial.Bytes)))
	}
	return b.String()
}

func padKey(k []byte) string {
	if len(k) >= ocspMaxKey {
		return string(k)
	}
	return string(k) + strings.Repeat("\x00", ocspMaxKey-len(k))
}

// ocspLookup finds an entry as ebmb_lookup on the zero-padded key does.
func (s *Store) ocspLookup(key []byte) *ocspEntry {
	if len(key) > ocspMaxKey {
		return nil
	}
	want := padKey(key)
	for _, e := range s.ocsp {
		if padKey(e.key) == want {
			return e
		}
	}
	return nil
}

// ocspDetailOf prints an entry's response; nothing when it has none.
func ocspDetailOf(e *ocspEntry) string {
	st := e.cur.Load()
	if st == nil {
		return ""
	}
	return ocspPrint(st.der)
}

// decodeB64 is base64dec after the CLI dropped CR and LF.
func decodeB64(s string) ([]byte, bool) {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// ocspKeyOf is ckch_store_build_certid: the CertID of a response's first
// single response, nil when it has none.
func ocspKeyOf(der []byte) []byte {
	if der == nil {
		return nil
	}
	_, basic, ok := parseOCSPDoc(der)
	if !ok || basic == nil || len(basic.TBS.Responses) == 0 {
		return nil
	}
	return certIDOf(basic.TBS.Responses[0])
}

// magnitude drops the sign byte of a positive INTEGER's content, as
// OpenSSL stores it.
func magnitude(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
