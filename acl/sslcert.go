package acl

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"fmt"
	"strconv"
)

// The certificate fetches (ssl_c_*, ssl_f_*, ssl_s_*) read the DER of a
// certificate in place, the way OpenSSL's accessors report it, without
// allocating: a DN as ssl_sock_get_dn_oneline renders it, validity times
// as ssl_sock_get_time does, algorithms by OpenSSL's short names.

// derNext splits the first DER element off b: its tag, its content and
// what follows it.
func derNext(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, n := b[0], int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < k {
			return 0, nil, nil, false
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		b = b[k:]
	}
	if n < 0 || n > len(b) {
		return 0, nil, nil, false
	}
	return tag, b[:n], b[n:], true
}

// tbsFields are the parts of a certificate the fetches read.
type tbsFields struct {
	serial, issuer, notBefore, notAfter, subject, keyAlg []byte
	nbTag, naTag                                         byte
}

// readTBS locates the fields of a TBSCertificate.
func readTBS(c *x509.Certificate) (f tbsFields, ok bool) {
	_, tbs, _, ok := derNext(c.RawTBSCertificate)
	if !ok {
		return f, false
	}
	tag, el, rest, ok := derNext(tbs)
	if ok && tag == 0xa0 { // [0] version
		tag, el, rest, ok = derNext(rest)
	}
	if !ok || tag != 0x02 {
		return f, false
	}
	f.serial = el
	if _, _, rest, ok = derNext(rest); !ok { // signature algorithm
		return f, false
	}
	var full []byte
	full = rest
	if _, _, rest, ok = derNext(rest); !ok {
		return f, false
	}
	f.issuer = full[:len(full)-len(rest)]
	var validity []byte
	if _, validity, rest, ok = derNext(rest); !ok {
		return f, false
	}
	var vr []byte
	if f.nbTag, f.notBefore, vr, ok = derNext(validity); !ok {
		return f, false
	}
	if f.naTag, f.notAfter, _, ok = derNext(vr); !ok {
		return f, false
	}
	full = rest
	if _, _, rest, ok = derNext(rest); !ok {
		return f, false
	}
	f.subject = full[:len(full)-len(rest)]
	var spki, alg []byte
	if _, spki, _, ok = derNext(rest); !ok {
		return f, false
	}
	if _, alg, _, ok = derNext(spki); !ok {
		return f, false
	}
	if tag, f.keyAlg, _, ok = derNext(alg); !ok || tag != 0x06 {
		return f, false
	}
	return f, true
}

// appendDN renders a DER Name as "/SN=value" per attribute, in order; with
// entry set, only the value of its pos-th occurrence (from the end when
// pos is negative), as ssl_sock_get_dn_entry does.
func appendDN(dst, name []byte, entry string, pos int) ([]byte, bool) {
	_, rdns, _, ok := derNext(name)
	if !ok {
		return dst, false
	}
	type ava struct{ oid, val []byte }
	var avas [32]ava
	n := 0
	for len(rdns) > 0 {
		var set []byte
		if _, set, rdns, ok = derNext(rdns); !ok {
			return dst, false
		}
		for len(set) > 0 {
			var seq, oid, val []byte
			if _, seq, set, ok = derNext(set); !ok {
				return dst, false
			}
			if _, oid, seq, ok = derNext(seq); !ok {
				return dst, false
			}
			if _, val, _, ok = derNext(seq); !ok {
				return dst, false
			}
			if n == len(avas) {
				return dst, false
			}
			avas[n] = ava{oid, val}
			n++
		}
	}
	if entry == "" {
		for _, a := range avas[:n] {
			dst = append(dst, '/')
			dst = appendOIDName(dst, a.oid, nameShortNames)
			dst = append(dst, '=')
			dst = append(dst, a.val...)
		}
		return dst, true
	}
	cur := 0
	var nb [64]byte
	for i := 0; i < n; i++ {
		j := i
		if pos < 0 {
			j = n - 1 - i
		}
		a := avas[j]
		if !bytes.EqualFold(appendOIDName(nb[:0], a.oid, nameShortNames), []byte(entry)) {
			continue
		}
		if pos < 0 {
			cur--
		} else {
			cur++
		}
		if cur == pos {
			return append(dst, a.val...), true
		}
	}
	return dst, false
}

// appendOIDName appends an OID's short name, or its dotted form.
func appendOIDName(dst, oid []byte, names map[string]string) []byte {
	if sn, ok := names[string(oid)]; ok {
		return append(dst, sn...)
	}
	if len(oid) == 0 {
		return dst
	}
	first := int64(oid[0]) / 40
	if first > 2 {
		first = 2
	}
	dst = strconv.AppendInt(dst, first, 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(oid[0])-40*first, 10)
	var v int64
	for _, c := range oid[1:] {
		v = v<<7 | int64(c&0x7f)
		if c&0x80 == 0 {
			dst = append(dst, '.')
			dst = strconv.AppendInt(dst, v, 10)
			v = 0
		}
	}
	return dst
}

// asn1Time renders a validity time as ssl_sock_get_time does: UTCTime as
// is (none from 1950 to 1999), GeneralizedTime of the 2000s without the
// century; empty when HAProxy gives none.
func asn1Time(tag byte, d []byte) []byte {
	switch tag {
	case 0x18: // GeneralizedTime
		if len(d) < 12 || d[0] != '2' || d[1] != '0' {
			return nil
		}
		return d[2:]
	case 0x17: // UTCTime
		if len(d) < 10 || d[0] >= '5' {
			return nil
		}
		return d
	}
	return nil
}

// oidKeys turns dotted OIDs into the DER content bytes the maps are keyed
// by.
func oidKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for dotted, sn := range m {
		var arcs []int64
		for _, p := range splitDots(dotted) {
			v, _ := strconv.ParseInt(p, 10, 64)
			arcs = append(arcs, v)
		}
		b := []byte{byte(arcs[0]*40 + arcs[1])}
		for _, a := range arcs[2:] {
			var tmp []byte
			tmp = append(tmp, byte(a&0x7f))
			for a >>= 7; a > 0; a >>= 7 {
				tmp = append([]byte{byte(a&0x7f | 0x80)}, tmp...)
			}
			b = append(b, tmp...)
		}
		out[string(b)] = sn
	}
	return out
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// nameShortNames are OpenSSL's short names (OBJ_nid2sn) of name
// attributes.
var nameShortNames = oidKeys(map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.13": "description",
	"2.5.4.15": "businessCategory", "2.5.4.17": "postalCode", "2.5.4.41": "name",
	"2.5.4.42": "GN", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
	"2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.97": "organizationIdentifier",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
})

// algShortNames are OpenSSL's short names of signature and public key
// algorithms.
var algShortNames = oidKeys(map[string]string{
	"1.2.840.113549.1.1.1":   "rsaEncryption",
	"1.2.840.113549.1.1.4":   "RSA-MD5",
	"1.2.840.113549.1.1.5":   "RSA-SHA1",
	"1.2.840.113549.1.1.10":  "RSASSA-PSS",
	"1.2.840.113549.1.1.11":  "RSA-SHA256",
	"1.2.840.113549.1.1.12":  "RSA-SHA384",
	"1.2.840.113549.1.1.13":  "RSA-SHA512",
	"1.2.840.113549.1.1.14":  "RSA-SHA224",
	"1.2.840.10045.2.1":      "id-ecPublicKey",
	"1.2.840.10045.4.1":      "ecdsa-with-SHA1",
	"1.2.840.10045.4.3.1":    "ecdsa-with-SHA224",
	"1.2.840.10045.4.3.2":    "ecdsa-with-SHA256",
	"1.2.840.10045.4.3.3":    "ecdsa-with-SHA384",
	"1.2.840.10045.4.3.4":    "ecdsa-with-SHA512",
	"1.2.840.10040.4.1":      "DSA",
	"1.2.840.10040.4.3":      "DSA-SHA1",
	"2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
	"1.3.101.112":            "ED25519",
	"1.3.101.113":            "ED448",
	"1.3.101.110":            "X25519",
})

// sigAlgOID is the OID of the certificate's outer signature algorithm.
func sigAlgOID(c *x509.Certificate) []byte {
	_, cert, _, ok := derNext(c.Raw)
	if !ok {
		return nil
	}
	_, _, rest, ok := derNext(cert) // tbsCertificate
	if !ok {
		return nil
	}
	_, alg, _, ok := derNext(rest)
	if !ok {
		return nil
	}
	tag, oid, _, ok := derNext(alg)
	if !ok || tag != 0x06 {
		return nil
	}
	return oid
}

// certWhich names the certificate a fetch reads.
type certWhich uint8

const (
	certClient certWhich = iota // ssl_c_*: the client's, on the frontend connection
	certFront                   // ssl_f_*: the one the frontend presented
	certServer                  // ssl_s_*: the server's, on the backend connection
)

// certOf returns the certificate a fetch reads, nil when there is none.
func certOf(t *Txn, w certWhich) *x509.Certificate {
	switch w {
	case certClient:
		if t.TLS != nil && len(t.TLS.Peer) > 0 {
			return t.TLS.Peer[0]
		}
	case certFront:
		if t.TLS != nil {
			return t.TLS.Local
		}
	case certServer:
		if t.BackTLS != nil && len(t.BackTLS.Peer) > 0 {
			return t.BackTLS.Peer[0]
		}
	}
	return nil
}

// certFetches are the ssl_{c,f,s}_* certificate fetches.
func certFetches(prefix string, w certWhich) []*fetchDef {
	bin := func(name string, f func(c *x509.Certificate, dst []byte) ([]byte, bool)) *fetchDef {
		return &fetchDef{name: prefix + name, out: TypeBin, fn: func(fe *fetch, t *Txn, v *Value) bool {
			c := certOf(t, w)
			if c == nil {
				return false
			}
			b, ok := f(c, t.tmp())
			if !ok {
				return false
			}
			v.Type, v.B = TypeBin, t.keep(b)
			return true
		}}
	}
	str := func(name string, f func(c *x509.Certificate, dst []byte) ([]byte, bool)) *fetchDef {
		d := bin(name, f)
		d.out = TypeStr
		fn := d.fn
		d.fn = func(fe *fetch, t *Txn, v *Value) bool {
			if !fn(fe, t, v) {
				return false
			}
			v.Type = TypeStr
			return true
		}
		return d
	}
	dn := func(name string, field func(f *tbsFields) []byte) *fetchDef {
		return &fetchDef{name: prefix + name, out: TypeStr, args: spec(0, aStr, aSint, aStr), check: dnArgs,
			fn: func(fe *fetch, t *Txn, v *Value) bool {
				c := certOf(t, w)
				if c == nil {
					return false
				}
				f, ok := readTBS(c)
				if !ok {
					return false
				}
				entry, pos := "", 1
				if len(fe.args) > 0 {
					entry = fe.args[0].s
				}
				if len(fe.args) > 1 && fe.args[1].typ == aSint {
					pos = int(fe.args[1].i)
				}
				b, ok := appendDN(t.tmp(), field(&f), entry, pos)
				if !ok || len(b) == 0 {
					return false
				}
				v.Type, v.B = TypeStr, t.keep(b)
				return true
			}}
	}
	defs := []*fetchDef{
		bin("der", func(c *x509.Certificate, dst []byte) ([]byte, bool) { return append(dst, c.Raw...), true }),
		bin("sha1", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			sum := sha1.Sum(c.Raw)
			return append(dst, sum[:]...), true
		}),
		bin("serial", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			f, ok := readTBS(c)
			return append(dst, f.serial...), ok
		}),
		str("notafter", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			f, ok := readTBS(c)
			s := asn1Time(f.naTag, f.notAfter)
			return append(dst, s...), ok && s != nil
		}),
		str("notbefore", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			f, ok := readTBS(c)
			s := asn1Time(f.nbTag, f.notBefore)
			return append(dst, s...), ok && s != nil
		}),
		str("sig_alg", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			oid := sigAlgOID(c)
			return appendOIDName(dst, oid, algShortNames), oid != nil
		}),
		str("key_alg", func(c *x509.Certificate, dst []byte) ([]byte, bool) {
			f, ok := readTBS(c)
			return appendOIDName(dst, f.keyAlg, algShortNames), ok
		}),
		{name: prefix + "version", out: TypeInt, fn: func(fe *fetch, t *Txn, v *Value) bool {
			c := certOf(t, w)
			if c == nil {
				return false
			}
			v.Type, v.I = TypeInt, int64(c.Version)
			return true
		}},
		dn("s_dn", func(f *tbsFields) []byte { return f.subject }),
		dn("i_dn", func(f *tbsFields) []byte { return f.issuer }),
	}
	if w != certFront {
		// The peer's chain: OpenSSL's server side leaves the client's
		// own certificate out of it, its client side keeps the server's.
		defs = append(defs, &fetchDef{name: prefix + "chain_der", out: TypeBin, fn: func(fe *fetch, t *Txn, v *Value) bool {
			info := t.TLS
			if w == certServer {
				info = t.BackTLS
			}
			if info == nil || len(info.Peer) == 0 {
				return false
			}
			chain := info.Peer
			if w == certClient {
				chain = chain[1:]
			}
			b := t.tmp()
			for _, c := range chain {
				b = append(b, c.Raw...)
			}
			v.Type, v.B = TypeBin, t.keep(b)
			return true
		}})
	}
	return defs
}

// dnArgs refuses the third argument of the DN fetches (an output format
// such as rfc2253), which is not rendered.
func dnArgs(fe *fetch, _ *Context) error {
	if len(fe.args) > 2 && fe.args[2].s != "" {
		return fmt.Errorf("fetch '%s' with a format argument: %w", fe.def.name, ErrNotImplemented)
	}
	return nil
}

// DNOneline renders a DER Name as ssl_sock_get_dn_oneline does:
// "/SN=value" per attribute, in order.
func DNOneline(raw []byte) string {
	b, _ := appendDN(nil, raw, "", 1)
	return string(b)
}

// CertSerial is the content of a certificate's serial number INTEGER,
// as ssl_sock_get_serial gives it.
func CertSerial(c *x509.Certificate) ([]byte, bool) {
	f, ok := readTBS(c)
	return f.serial, ok
}
