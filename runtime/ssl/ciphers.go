package ssl

import (
	"crypto/tls"
	"sort"
	"strings"
)

var (
	cipherByID   = map[uint16]*cipherInfo{}
	cipherByName = map[string]*cipherInfo{}
	// goSuites holds the TLS <= 1.2 suites crypto/tls implements.
	goSuites = map[uint16]bool{}
	// goTLS13 lists Go's TLS 1.3 suites; Go always offers all of them.
	goTLS13 = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}
)

func init() {
	for i := range cipherTable {
		c := &cipherTable[i]
		cipherByID[c.id] = c
		cipherByName[c.name] = c
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for _, v := range s.SupportedVersions {
			if v <= tls.VersionTLS12 {
				goSuites[s.ID] = true
			}
		}
	}
}

func (c *cipherInfo) tls13() bool { return c.ver == "TLSv1.3" }

// findOnly are the suites OpenSSL's SSL_CIPHER_find names beyond
// cipherTable: TLS 1.3 suites off by default, and the signalling values.
var findOnly = map[uint16]string{0x1304: "TLS_AES_128_CCM_SHA256", 0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x5600: "TLS_FALLBACK_SCSV"}

// OpenSSLCipherName is OpenSSL 3's name of a suite as a ClientHello
// lists it (SSL_CIPHER_find), false for a suite it does not know.
func OpenSSLCipherName(id uint16) (string, bool) {
	if c, ok := cipherByID[id]; ok {
		return c.name, true
	}
	n, ok := findOnly[id]
	return n, ok
}

// cipherAlias returns the predicate of an OpenSSL cipher-string word
// (ssl_ciph.c cipher_aliases) or of an exact cipher name.
func cipherAlias(w string) (func(*cipherInfo) bool, bool) {
	if c, ok := cipherByName[w]; ok && !c.tls13() {
		return func(x *cipherInfo) bool { return x == c }, true
	}
	kx := func(k ...string) func(*cipherInfo) bool {
		return func(c *cipherInfo) bool { return contains(k, c.kx) }
	}
	au := func(a ...string) func(*cipherInfo) bool {
		return func(c *cipherInfo) bool { return contains(a, c.au) }
	}
	enc := func(e string, bits int) func(*cipherInfo) bool {
		return func(c *cipherInfo) bool {
			return strings.HasPrefix(c.enc, e) && (bits == 0 || c.bits == bits)
		}
	}
	exact := func(e string) func(*cipherInfo) bool {
		return func(c *cipherInfo) bool { return c.enc == e }
	}
	and := func(f, g func(*cipherInfo) bool) func(*cipherInfo) bool {
		return func(c *cipherInfo) bool { return f(c) && g(c) }
	}
	notANULL := func(c *cipherInfo) bool { return c.au != "None" }
	none := func(*cipherInfo) bool { return false }
	switch w {
	case "ALL":
		return func(c *cipherInfo) bool { return c.enc != "None" }, true
	case "COMPLEMENTOFALL", "eNULL", "NULL":
		return exact("None"), true
	case "COMPLEMENTOFDEFAULT":
		return func(c *cipherInfo) bool { return c.notDefault }, true
	case "HIGH":
		return func(c *cipherInfo) bool { return c.bits > 0 }, true
	case "MEDIUM", "LOW", "EXP", "EXPORT", "DES", "3DES", "RC4", "RC2", "IDEA", "SEED", "aGOST", "aGOST01", "kGOST", "GOST89MAC", "GOST94", "aGOST12", "GOST12":
		return none, true
	case "kRSA", "RSA":
		return kx("RSA"), true
	case "aRSA":
		return au("RSA"), true
	case "kEDH", "kDHE", "DH":
		return kx("DH"), true
	case "EDH", "DHE":
		return and(kx("DH"), notANULL), true
	case "kEECDH", "kECDHE", "ECDH":
		return kx("ECDH"), true
	case "EECDH", "ECDHE":
		return and(kx("ECDH"), notANULL), true
	case "ADH":
		return and(kx("DH"), au("None")), true
	case "AECDH":
		return and(kx("ECDH"), au("None")), true
	case "kPSK":
		return kx("PSK"), true
	case "kRSAPSK":
		return kx("RSAPSK"), true
	case "kECDHEPSK":
		return kx("ECDHEPSK"), true
	case "kDHEPSK":
		return kx("DHEPSK"), true
	case "PSK":
		return kx("PSK", "RSAPSK", "ECDHEPSK", "DHEPSK"), true
	case "kSRP", "SRP":
		return kx("SRP"), true
	case "aNULL":
		return au("None"), true
	case "aDSS", "DSS":
		return au("DSS"), true
	case "aECDSA", "ECDSA":
		return au("ECDSA"), true
	case "aPSK":
		return au("PSK"), true
	case "aSRP":
		return au("SRP"), true
	case "AES":
		return func(c *cipherInfo) bool { return strings.HasPrefix(c.enc, "AES") }, true
	case "AES128", "AES256":
		bits := 128
		if w == "AES256" {
			bits = 256
		}
		return enc("AES", bits), true
	case "AESGCM":
		return exact("AESGCM"), true
	case "AESCCM":
		return enc("AESCCM", 0), true
	case "AESCCM8":
		return exact("AESCCM8"), true
	case "CAMELLIA":
		return exact("Camellia"), true
	case "CAMELLIA128", "CAMELLIA256":
		return and(exact("Camellia"), func(c *cipherInfo) bool { return (c.bits == 128) == (w == "CAMELLIA128") }), true
	case "CHACHA20":
		return exact("CHACHA20/POLY1305"), true
	case "ARIA", "ARIAGCM":
		return exact("ARIAGCM"), true
	case "ARIA128", "ARIA256":
		return and(exact("ARIAGCM"), func(c *cipherInfo) bool { return (c.bits == 128) == (w == "ARIA128") }), true
	case "MD5", "SHA1", "SHA", "SHA256", "SHA384":
		m := w
		if m == "SHA" {
			m = "SHA1"
		}
		return func(c *cipherInfo) bool { return c.mac == m }, true
	case "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.2":
		v := map[string]string{"SSLv3": "SSLv3", "TLSv1": "TLSv1", "TLSv1.0": "TLSv1", "TLSv1.2": "TLSv1.2"}[w]
		return func(c *cipherInfo) bool { return c.ver == v }, true
	}
	return nil, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// opensslDefaultCiphers is OpenSSL 3.0's DEFAULT expansion.
const opensslDefaultCiphers = "ALL:!COMPLEMENTOFDEFAULT:!eNULL"

type cipherNode struct {
	c      *cipherInfo
	active bool
}

// ParseCipherString applies an OpenSSL cipher string (the "ciphers"
// keyword, "man 1 ciphers") and returns the OpenSSL names of the TLS <= 1.2
// ciphers it selects, in preference order. ok is false when OpenSSL would
// refuse the string: a malformed word, an unknown @command, or an empty
// result.
func ParseCipherString(s string) (names []string, ok bool) {
	list, ok := parseCiphers(s)
	for _, c := range list {
		names = append(names, c.name)
	}
	return names, ok
}

func parseCiphers(s string) ([]*cipherInfo, bool) {
	nodes := make([]cipherNode, 0, len(cipherTable))
	for i := range cipherTable {
		if !cipherTable[i].tls13() {
			nodes = append(nodes, cipherNode{c: &cipherTable[i]})
		}
	}
	if strings.HasPrefix(s, "DEFAULT") {
		nodes, _ = applyCipherRules(nodes, opensslDefaultCiphers)
		s = strings.TrimPrefix(s[len("DEFAULT"):], ":")
	}
	nodes, ok := applyCipherRules(nodes, s)
	var out []*cipherInfo
	for _, n := range nodes {
		if n.active {
			out = append(out, n.c)
		}
	}
	return out, ok && len(out) > 0
}

func isItemSep(c byte) bool { return c == ':' || c == ' ' || c == ';' || c == ',' }

func isWordChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '='
}

// applyCipherRules runs ssl_cipher_process_rulestr over nodes.
func applyCipherRules(nodes []cipherNode, s string) ([]cipherNode, bool) {
	ok := true
	for i := 0; i < len(s); {
		op := byte(0)
		switch s[i] {
		case '-', '+', '!', '@':
			op = s[i]
			i++
		}
		if op == 0 && isItemSep(s[i]) {
			i++
			continue
		}
		var preds []func(*cipherInfo) bool
		found := true
		word := ""
		for {
			start := i
			for i < len(s) && isWordChar(s[i]) {
				i++
			}
			if i == start {
				// OpenSSL: "Invalid command"; the string is refused.
				return nodes, false
			}
			word = s[start:i]
			if op == '@' {
				break
			}
			multi := i < len(s) && s[i] == '+'
			if multi {
				i++
			}
			p, known := cipherAlias(word)
			if !known {
				found = false
				break
			}
			preds = append(preds, p)
			if !multi {
				break
			}
		}
		if op == '@' {
			switch {
			case word == "STRENGTH":
				nodes = strengthSort(nodes)
			case strings.HasPrefix(word, "SECLEVEL="):
			default:
				ok = false
				i++
			}
		} else if found {
			nodes = applyCipherRule(nodes, op, func(c *cipherInfo) bool {
				for _, p := range preds {
					if !p(c) {
						return false
					}
				}
				return true
			})
		}
		for i < len(s) && !isItemSep(s[i]) {
			i++
		}
	}
	return nodes, ok
}

// applyCipherRule is ssl_cipher_apply_rule for one operation.
func applyCipherRule(nodes []cipherNode, op byte, match func(*cipherInfo) bool) []cipherNode {
	var moved, kept []cipherNode
	switch op {
	case 0: // add: inactive matches go to the end, activated
		for _, n := range nodes {
			if !n.active && match(n.c) {
				n.active = true
				moved = append(moved, n)
			} else {
				kept = append(kept, n)
			}
		}
		return append(kept, moved...)
	case '+': // move active matches to the end
		for _, n := range nodes {
			if n.active && match(n.c) {
				moved = append(moved, n)
			} else {
				kept = append(kept, n)
			}
		}
		return append(kept, moved...)
	case '-': // deactivate active matches, moving them to the head
		for _, n := range nodes {
			if n.active && match(n.c) {
				n.active = false
				moved = append(moved, n)
			} else {
				kept = append(kept, n)
			}
		}
		return append(moved, kept...)
	default: // '!': remove for good
		for _, n := range nodes {
			if !match(n.c) {
				kept = append(kept, n)
			}
		}
		return kept
	}
}

// strengthSort is @STRENGTH: active ciphers ordered by strength bits,
// highest first, keeping the order of equals.
func strengthSort(nodes []cipherNode) []cipherNode {
	var act, inact []cipherNode
	for _, n := range nodes {
		if n.active {
			act = append(act, n)
		} else {
			inact = append(inact, n)
		}
	}
	sort.SliceStable(act, func(i, j int) bool { return act[i].c.bits > act[j].c.bits })
	return append(inact, act...)
}

// tls13Names maps SSL_CTX_set_ciphersuites names to suite ids.
var tls13Names = map[string]uint16{
	"TLS_AES_128_GCM_SHA256":       tls.TLS_AES_128_GCM_SHA256,
	"TLS_AES_256_GCM_SHA384":       tls.TLS_AES_256_GCM_SHA384,
	"TLS_CHACHA20_POLY1305_SHA256": tls.TLS_CHACHA20_POLY1305_SHA256,
	"TLS_AES_128_CCM_SHA256":       0x1304,
	"TLS_AES_128_CCM_8_SHA256":     0x1305,
}

// parseCiphersuites reads a TLS 1.3 "ciphersuites" list. ok is false when
// OpenSSL refuses it (no known name). missing lists Go's suites absent from
// the list: Go always offers all three, so a list without them cannot be
// honoured.
func parseCiphersuites(s string) (ids []uint16, missing []string, ok bool) {
	for _, n := range strings.Split(s, ":") {
		if id, known := tls13Names[n]; known {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && s != "" {
		return nil, nil, false
	}
	for _, g := range goTLS13 {
		found := false
		for _, id := range ids {
			found = found || id == g
		}
		if !found {
			missing = append(missing, tls.CipherSuiteName(g))
		}
	}
	return ids, missing, true
}

// curveNames maps OpenSSL group names to Go curves; the zero CurveID marks
// groups OpenSSL knows and Go lacks.
var curveNames = map[string]tls.CurveID{
	"X25519": tls.X25519, "x25519": tls.X25519,
	"P-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"P-384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"P-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X448": 0, "x448": 0, "ffdhe2048": 0, "ffdhe3072": 0, "ffdhe4096": 0, "ffdhe6144": 0, "ffdhe8192": 0,
	"brainpoolP256r1": 0, "brainpoolP384r1": 0, "brainpoolP512r1": 0, "secp224r1": 0, "secp256k1": 0,
	"P-224": 0, "secp192r1": 0, "prime192v1": 0,
}

// parseCurves reads a colon list of groups (SSL_CTX_set1_curves_list). ok
// is false when OpenSSL refuses it (an unknown name); dropped lists the
// groups Go lacks.
func parseCurves(s string) (ids []tls.CurveID, dropped []string, ok bool) {
	for _, n := range strings.Split(s, ":") {
		id, known := curveNames[n]
		if !known {
			return nil, nil, false
		}
		if id == 0 {
			dropped = append(dropped, n)
			continue
		}
		dup := false
		for _, x := range ids {
			dup = dup || x == id
		}
		if !dup {
			ids = append(ids, id)
		}
	}
	return ids, dropped, true
}

// CipherName returns OpenSSL's name for a suite id (ssl_fc_cipher), or ""
// when OpenSSL has no such cipher.
func CipherName(id uint16) string {
	if c, ok := cipherByID[id]; ok {
		return c.name
	}
	switch id {
	case tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:
		return "DES-CBC3-SHA"
	case tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:
		return "ECDHE-RSA-DES-CBC3-SHA"
	case tls.TLS_RSA_WITH_RC4_128_SHA:
		return "RC4-SHA"
	case tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA:
		return "ECDHE-RSA-RC4-SHA"
	case tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:
		return "ECDHE-ECDSA-RC4-SHA"
	}
	return ""
}
