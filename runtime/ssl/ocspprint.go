package ssl

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// ocspPrint is ssl_ocsp_response_print: OpenSSL 3.0's OCSP_RESPONSE_print
// text, cut at the CLI buffer size, with a space on each empty line. It
// returns "" for a response OpenSSL cannot decode (HAProxy then prints
// nothing).
func ocspPrint(der []byte) string {
	d, basic, ok := parseOCSPDoc(der)
	if !ok {
		return ""
	}
	var b strings.Builder
	b.WriteString("OCSP Response Data:\n")
	fmt.Fprintf(&b, "    OCSP Response Status: %s (0x%x)\n", ocspStatusStr(int(d.Status)), int(d.Status))
	if d.Response.Type != nil {
		b.WriteString("    Response Type: " + oidLongName(d.Response.Type))
		if !d.Response.Type.Equal(oidOCSPBasic) {
			b.WriteString(" (unknown response type)\n")
		} else if basic != nil {
			writeBasic(&b, basic)
		}
	}
	out := b.String()
	if len(out) > 16383 {
		// BIO_read into the trash chunk (tune.bufsize - 1).
		out = out[:16383]
	}
	var o strings.Builder
	for {
		i := strings.Index(out, "\n\n")
		if i < 0 {
			o.WriteString(out)
			break
		}
		o.WriteString(out[:i+1])
		o.WriteByte(' ')
		out = out[i+1:]
	}
	return o.String()
}

func writeBasic(b *strings.Builder, br *ocspBasic) {
	rd := &br.TBS
	fmt.Fprintf(b, "\n    Version: %d (0x%x)\n", rd.Version+1, rd.Version)
	b.WriteString("    Responder Id: ")
	switch rd.Responder.Tag {
	case 1:
		b.WriteString(nameOneline(rd.Responder.Bytes))
	case 2:
		var kh []byte
		if _, err := asn1.Unmarshal(rd.Responder.Bytes, &kh); err == nil {
			b.WriteString(i2aString(kh))
		}
	}
	fmt.Fprintf(b, "\n    Produced At: %s\n    Responses:\n", asn1TimePrint(rd.Produced))
	for _, raw := range rd.Responses {
		var s ocspSingle
		if _, err := asn1.Unmarshal(raw.FullBytes, &s); err != nil {
			continue
		}
		var id ocspCertID
		if _, err := asn1.Unmarshal(s.CertID.FullBytes, &id); err == nil {
			fmt.Fprintf(b, "    Certificate ID:\n      Hash Algorithm: %s\n      Issuer Name Hash: %s\n      Issuer Key Hash: %s\n      Serial Number: %s\n",
				oidLongName(id.Hash.Algorithm), i2aString(id.NameHash), i2aString(id.KeyHash), i2aInteger(magnitude(id.Serial.Bytes)))
		}
		st := s.Status.Tag
		fmt.Fprintf(b, "    Cert Status: %s", certStatusStr(st))
		if st == 1 {
			var rev struct {
				Time   time.Time       `asn1:"generalized"`
				Reason asn1.Enumerated `asn1:"explicit,tag:0,optional,default:-1"`
			}
			if _, err := asn1.UnmarshalWithParams(s.Status.FullBytes, &rev, "tag:1"); err == nil {
				fmt.Fprintf(b, "\n    Revocation Time: %s", asn1TimePrint(rev.Time))
				if rev.Reason >= 0 {
					fmt.Fprintf(b, "\n    Revocation Reason: %s (0x%x)", crlReasonStr(int(rev.Reason)), int(rev.Reason))
				}
			}
		}
		fmt.Fprintf(b, "\n    This Update: %s", asn1TimePrint(s.This))
		if !s.Next.IsZero() {
			fmt.Fprintf(b, "\n    Next Update: %s", asn1TimePrint(s.Next))
		}
		b.WriteString("\n")
		writeExts(b, "Response Single Extensions", s.Exts, 8)
		b.WriteString("\n")
	}
	writeExts(b, "Response Extensions", rd.Exts, 4)
	writeSignature(b, oidLongName(br.SigAlg.Algorithm), br.Sig.Bytes)
	for _, raw := range br.Certs {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			continue
		}
		writeX509(b, c)
		pem.Encode(b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
}

// writeSignature is X509_signature_print with a signature.
func writeSignature(b *strings.Builder, alg string, sig []byte) {
	b.WriteString("    Signature Algorithm: " + alg + "\n    Signature Value:\n")
	writeHexBlock(b, sig, 8, 18, false)
}

// writeHexBlock writes lowercase colon-separated bytes, perLine to a line
// at indent; lead prepends a zero byte when the top bit is set (a
// positive bignum).
func writeHexBlock(b *strings.Builder, data []byte, indent, perLine int, lead bool) {
	if lead && len(data) > 0 && data[0]&0x80 != 0 {
		data = append([]byte{0}, data...)
	}
	for i, c := range data {
		if i%perLine == 0 {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(strings.Repeat(" ", indent))
		}
		fmt.Fprintf(b, "%02x", c)
		if i+1 < len(data) {
			b.WriteString(":")
		}
	}
	b.WriteString("\n")
}

// writeX509 is X509_print (X509_FLAG_COMPAT, XN_FLAG_COMPAT) for the
// fields and extensions a responder certificate carries.
func writeX509(b *strings.Builder, c *x509.Certificate) {
	b.WriteString("Certificate:\n    Data:\n")
	fmt.Fprintf(b, "        Version: %d (0x%x)\n", c.Version, c.Version-1)
	b.WriteString("        Serial Number:")
	serial := c.SerialNumber.Bytes()
	if c.SerialNumber.Sign() >= 0 && c.SerialNumber.BitLen() <= 63 {
		// ASN1_INTEGER_get succeeds: a long.
		fmt.Fprintf(b, " %d (0x%x)\n", c.SerialNumber.Int64(), c.SerialNumber.Int64())
	} else {
		b.WriteString("\n            ")
		for i, x := range serial {
			sep := ":"
			if i+1 == len(serial) {
				sep = "\n"
			}
			fmt.Fprintf(b, "%02x%s", x, sep)
		}
	}
	fmt.Fprintf(b, "        Signature Algorithm: %s\n", sigAlgLongName[c.SignatureAlgorithm])
	fmt.Fprintf(b, "        Issuer: %s\n", nameCompat(c.RawIssuer))
	fmt.Fprintf(b, "        Validity\n            Not Before: %s\n            Not After : %s\n", asn1TimePrint(c.NotBefore), asn1TimePrint(c.NotAfter))
	fmt.Fprintf(b, "        Subject: %s\n", nameCompat(c.RawSubject))
	b.WriteString("        Subject Public Key Info:\n")
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		fmt.Fprintf(b, "            Public Key Algorithm: rsaEncryption\n                Public-Key: (%d bit)\n                Modulus:\n", k.N.BitLen())
		writeHexBlock(b, k.N.Bytes(), 20, 15, true)
		fmt.Fprintf(b, "                Exponent: %d (0x%x)\n", k.E, k.E)
	case *ecdsa.PublicKey:
		p := k.Curve.Params()
		pub, _ := k.Bytes()
		fmt.Fprintf(b, "            Public Key Algorithm: id-ecPublicKey\n                Public-Key: (%d bit)\n                pub:\n", p.BitSize)
		writeHexBlock(b, pub, 20, 15, false)
		fmt.Fprintf(b, "                ASN1 OID: %s\n                NIST CURVE: %s\n", curveOIDName[p.Name], p.Name)
	}
	writeExts(b, "X509v3 extensions", c.Extensions, 8)
	writeSignature(b, sigAlgLongName[c.SignatureAlgorithm], c.Signature)
}

var curveOIDName = map[string]string{"P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1", "P-224": "secp224r1"}

// writeExts is X509V3_extensions_print.
func writeExts(b *strings.Builder, title string, exts []pkix.Extension, indent int) {
	if len(exts) == 0 {
		return
	}
	fmt.Fprintf(b, "%*s%s:\n", indent, "", title)
	indent += 4
	for _, e := range exts {
		crit := ""
		if e.Critical {
			crit = "critical"
		}
		fmt.Fprintf(b, "%*s%s: %s\n", indent, "", oidLongName(e.Id), crit)
		vals, multi, ok := extValues(e)
		pad := strings.Repeat(" ", indent+4)
		switch {
		case !ok:
			b.WriteString(pad + asn1StringPrint(e.Value))
		case multi:
			for i, v := range vals {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(pad + v)
			}
		default:
			b.WriteString(pad + strings.Join(vals, ", "))
		}
		b.WriteString("\n")
	}
}

// extValues renders the extensions OpenSSL knows as its i2v/i2s
// methods do; multi is X509V3_EXT_MULTILINE.
func extValues(e pkix.Extension) (vals []string, multi, ok bool) {
	id := e.Id.String()
	switch id {
	case "1.3.6.1.5.5.7.48.1.2": // OCSP nonce: the raw value
		return []string{i2aString(e.Value)}, false, true
	case "2.5.29.19":
		var bc struct {
			CA      bool `asn1:"optional"`
			PathLen int  `asn1:"optional,default:-1"`
		}
		if _, err := asn1.Unmarshal(e.Value, &bc); err != nil {
			return nil, false, false
		}
		v := "CA:FALSE"
		if bc.CA {
			v = "CA:TRUE"
		}
		vals = []string{v}
		if bc.PathLen >= 0 {
			vals = append(vals, fmt.Sprintf("pathlen:%d", bc.PathLen))
		}
		return vals, false, true
	case "2.5.29.14":
		var ski []byte
		if _, err := asn1.Unmarshal(e.Value, &ski); err != nil {
			return nil, false, false
		}
		return []string{colonHex(ski)}, false, true
	case "2.5.29.35":
		var aki struct {
			KeyID  []byte          `asn1:"optional,tag:0"`
			Issuer []asn1.RawValue `asn1:"optional,tag:1"`
			Serial asn1.RawValue   `asn1:"optional,tag:2"`
		}
		if _, err := asn1.Unmarshal(e.Value, &aki); err != nil {
			return nil, false, false
		}
		more := len(aki.Issuer) > 0 || len(aki.Serial.Bytes) > 0
		if aki.KeyID != nil {
			if more {
				vals = append(vals, "keyid:"+colonHex(aki.KeyID))
			} else {
				vals = append(vals, colonHex(aki.KeyID))
			}
		}
		for _, gn := range aki.Issuer {
			vals = append(vals, generalName(gn))
		}
		if len(aki.Serial.Bytes) > 0 {
			vals = append(vals, "serial:"+colonHex(aki.Serial.Bytes))
		}
		return vals, true, true
	case "2.5.29.15":
		var bits asn1.BitString
		if _, err := asn1.Unmarshal(e.Value, &bits); err != nil {
			return nil, false, false
		}
		names := []string{"Digital Signature", "Non Repudiation", "Key Encipherment", "Data Encipherment", "Key Agreement", "Certificate Sign", "CRL Sign", "Encipher Only", "Decipher Only"}
		for i, n := range names {
			if bits.At(i) == 1 {
				vals = append(vals, n)
			}
		}
		return vals, false, true
	case "2.5.29.37":
		var oids []asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(e.Value, &oids); err != nil {
			return nil, false, false
		}
		for _, o := range oids {
			vals = append(vals, oidLongName(o))
		}
		return vals, false, true
	case "2.5.29.17":
		var gns []asn1.RawValue
		if _, err := asn1.Unmarshal(e.Value, &gns); err != nil {
			return nil, false, false
		}
		for _, gn := range gns {
			vals = append(vals, generalName(gn))
		}
		return vals, false, true
	}
	return nil, false, false
}

// generalName is i2v_GENERAL_NAME for the usual forms.
func generalName(gn asn1.RawValue) string {
	switch gn.Tag {
	case 1:
		return "email:" + string(gn.Bytes)
	case 2:
		return "DNS:" + string(gn.Bytes)
	case 4:
		return "DirName:" + x509Oneline(gn.Bytes)
	case 6:
		return "URI:" + string(gn.Bytes)
	case 7:
		if len(gn.Bytes) == 4 {
			return fmt.Sprintf("IP Address:%d.%d.%d.%d", gn.Bytes[0], gn.Bytes[1], gn.Bytes[2], gn.Bytes[3])
		}
		if len(gn.Bytes) == 16 {
			var parts []string
			for i := 0; i < 16; i += 2 {
				parts = append(parts, fmt.Sprintf("%X", int(gn.Bytes[i])<<8|int(gn.Bytes[i+1])))
			}
			return "IP Address:" + strings.Join(parts, ":")
		}
		return "IP Address:<invalid>"
	}
	return "othername:<unsupported>"
}

// colonHex is i2s_ASN1_OCTET_STRING: uppercase hex pairs and colons.
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

// i2aString is i2a_ASN1_STRING: uppercase hex, a "\" line break every 35
// bytes, "0" for an empty string.
func i2aString(b []byte) string {
	if len(b) == 0 {
		return "0"
	}
	var s strings.Builder
	for i, c := range b {
		if i != 0 && i%35 == 0 {
			s.WriteString("\\\n")
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

// asn1StringPrint is ASN1_STRING_print: printable bytes as they are,
// others as '.', a line break every 80 characters.
func asn1StringPrint(v []byte) string {
	var s strings.Builder
	for i, c := range v {
		if i > 0 && i%80 == 0 {
			s.WriteString("\n")
		}
		if (c < ' ' && c != '\n' && c != '\r') || c > '~' {
			c = '.'
		}
		s.WriteByte(c)
	}
	return s.String()
}

func ocspStatusStr(s int) string {
	switch s {
	case 0:
		return "successful"
	case 1:
		return "malformedrequest"
	case 2:
		return "internalerror"
	case 3:
		return "trylater"
	case 5:
		return "sigrequired"
	case 6:
		return "unauthorized"
	}
	return "(UNKNOWN)"
}

func certStatusStr(tag int) string {
	switch tag {
	case 0:
		return "good"
	case 1:
		return "revoked"
	case 2:
		return "unknown"
	}
	return "(UNKNOWN)"
}

func crlReasonStr(r int) string {
	names := []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}
	if r >= 0 && r < len(names) && names[r] != "" {
		return names[r]
	}
	return "(UNKNOWN)"
}

// oidNames are OpenSSL's long names (OBJ_nid2ln) for the objects an OCSP
// response shows; others print as dotted numbers.
var oidNames = map[string]string{
	"1.3.6.1.5.5.7.48.1.1": "Basic OCSP Response", "1.3.6.1.5.5.7.48.1.2": "OCSP Nonce",
	"1.3.6.1.5.5.7.48.1.3": "OCSP CRL ID", "1.3.6.1.5.5.7.48.1.4": "Acceptable OCSP Responses",
	"1.3.6.1.5.5.7.48.1.5": "OCSP No Check", "1.3.6.1.5.5.7.48.1.6": "OCSP Archive Cutoff",
	"1.3.6.1.5.5.7.48.1.7": "OCSP Service Locator",
	"1.3.14.3.2.26":        "sha1", "2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
	"2.16.840.1.101.3.4.2.3": "sha512", "1.2.840.113549.2.5": "md5",
	"1.2.840.113549.1.1.4": "md5WithRSAEncryption", "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
	"1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
	"1.2.840.113549.1.1.13": "sha512WithRSAEncryption", "1.2.840.113549.1.1.10": "rsassaPss",
	"1.2.840.10045.4.1": "ecdsa-with-SHA1", "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
	"1.2.840.10045.4.3.3": "ecdsa-with-SHA384", "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.3.101.112": "ED25519",
	"2.5.29.19": "X509v3 Basic Constraints", "2.5.29.14": "X509v3 Subject Key Identifier",
	"2.5.29.35": "X509v3 Authority Key Identifier", "2.5.29.15": "X509v3 Key Usage",
	"2.5.29.37": "X509v3 Extended Key Usage", "2.5.29.17": "X509v3 Subject Alternative Name",
	"2.5.29.31": "X509v3 CRL Distribution Points", "2.5.29.32": "X509v3 Certificate Policies",
	"1.3.6.1.5.5.7.1.1": "Authority Information Access",
	"1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
	"1.3.6.1.5.5.7.3.3": "Code Signing", "1.3.6.1.5.5.7.3.4": "E-mail Protection",
	"1.3.6.1.5.5.7.3.8": "Time Stamping", "1.3.6.1.5.5.7.3.9": "OCSP Signing",
}

func oidLongName(o asn1.ObjectIdentifier) string {
	if n, ok := oidNames[o.String()]; ok {
		return n
	}
	return o.String()
}

// attrShort are the short names (OBJ_nid2sn) of name attributes.
var attrShort = map[string]string{
	"2.5.4.6": "C", "2.5.4.8": "ST", "2.5.4.7": "L", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN",
	"1.2.840.113549.1.9.1": "emailAddress", "2.5.4.5": "serialNumber", "0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1": "UID", "2.5.4.9": "street", "2.5.4.12": "title", "2.5.4.42": "GN",
	"2.5.4.4": "SN", "2.5.4.43": "initials", "2.5.4.65": "pseudonym", "2.5.4.17": "postalCode",
	"2.5.4.15": "businessCategory", "2.5.4.41": "name", "2.5.4.46": "dnQualifier",
}

// nameOneline is X509_NAME_print_ex with XN_FLAG_ONELINE: "C = FR,
// O = Org", values holding separators in double quotes.
func nameOneline(raw []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return ""
	}
	var parts []string
	for _, rdn := range rdns {
		var avs []string
		for _, av := range rdn {
			n, ok := attrShort[av.Type.String()]
			if !ok {
				n = av.Type.String()
			}
			v := fmt.Sprint(av.Value)
			if strings.ContainsAny(v, ",+\"\\<>;") || strings.HasPrefix(v, " ") || strings.HasSuffix(v, " ") || strings.HasPrefix(v, "#") {
				v = "\"" + v + "\""
			}
			avs = append(avs, n+" = "+v)
		}
		parts = append(parts, strings.Join(avs, " + "))
	}
	return strings.Join(parts, ", ")
}

// x509Oneline is OpenSSL 3.0's X509_NAME_oneline: "/SN=value" per
// attribute, '/' and '+' escaped, other bytes outside ' '..'~' as \xHH.
func x509Oneline(raw []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return ""
	}
	var b strings.Builder
	for _, rdn := range rdns {
		for _, av := range rdn {
			n, ok := attrShort[av.Type.String()]
			if !ok {
				n = av.Type.String()
			}
			b.WriteString("/" + n + "=")
			v := fmt.Sprint(av.Value)
			for i := 0; i < len(v); i++ {
				switch c := v[i]; {
				case c == '/' || c == '+':
					b.WriteByte('\\')
					b.WriteByte(c)
				case c < ' ' || c > '~':
					fmt.Fprintf(&b, "\\x%02X", c)
				default:
					b.WriteByte(c)
				}
			}
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// nameCompat is X509_NAME_print: the oneline form with ", " where a new
// attribute starts.
func nameCompat(raw []byte) string {
	s := x509Oneline(raw)
	if len(s) < 2 {
		return ""
	}
	s = s[1:]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i+2 < len(s) && isUpper(s[i+1]) && (s[i+2] == '=' || (i+3 < len(s) && isUpper(s[i+2]) && s[i+3] == '=')) {
			b.WriteString(", ")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
