package ssl

import (
	"strconv"
	"strings"
	"time"
)

// Version is one of HAProxy's TLS method indexes (CONF_SSLV3..CONF_TLSV13).
// The zero value means "not set".
type Version uint8

// TLS method indexes as HAProxy numbers them.
const (
	VersionNone Version = iota
	SSLv3
	TLSv10
	TLSv11
	TLSv12
	TLSv13
)

var versionNames = [...]string{"", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// String returns the keyword spelling ("TLSv1.2").
func (v Version) String() string {
	if int(v) < len(versionNames) {
		return versionNames[v]
	}
	return "unknown"
}

// ParseVersion reads an ssl-min-ver/ssl-max-ver argument.
func ParseVersion(s string) (Version, bool) {
	for v := SSLv3; v <= TLSv13; v++ {
		if versionNames[v] == s {
			return v, true
		}
	}
	return VersionNone, false
}

// Methods is HAProxy's tls_version_filter: the no-sslv3/no-tlsv1x flags and
// ssl-min-ver/ssl-max-ver (force-tlsv1x sets both). The zero value enables
// every version, and HAProxy then uses TLSv1.2 as the minimum.
type Methods struct {
	Min, Max Version
	// Disabled[v] is set by "no-<v>".
	Disabled [TLSv13 + 1]bool
}

// SSLConf holds the options a crt-list line may carry between brackets
// (src/ssl_crtlist.c, ssl_bind_kws); on a bind line they are the defaults of
// every certificate. Empty strings mean "not set".
type SSLConf struct {
	ALPN         []string // "alpn", in preference order
	NPN          string   // "npn": refused, Go has no NPN
	Ciphers      string   // "ciphers", OpenSSL cipher string for TLS <= 1.2
	Ciphersuites string   // "ciphersuites", TLS 1.3
	Curves       string   // "curves", colon-delimited
	Ecdhe        string   // "ecdhe", one named curve
	CAFile       string   // "ca-file", after ca-base
	CAVerifyFile string   // "ca-verify-file", after ca-base
	CRLFile      string   // "crl-file", after ca-base
	Verify       string   // "verify": "", "none", "optional" or "required"
	NoCANames    bool     // "no-ca-names"
	Allow0RTT    bool     // "allow-0rtt": accepted; Go's server has no 0-RTT
	Methods      Methods  // ssl-min-ver/ssl-max-ver (and on bind lines no-*/force-*)
}

// CertSource is one "crt" or "crt-list" argument of a bind line.
type CertSource struct {
	Path string
	List bool // crt-list
}

// BindOptions holds the TLS options of one "bind" line (section 5.1).
// Certs keeps "crt" and "crt-list" in line order: the first certificate
// loaded is the default one.
type BindOptions struct {
	SSLConf
	Certs                []CertSource
	NoTLSTickets         bool      // "no-tls-tickets"
	StrictSNI            bool      // "strict-sni"
	PreferClientCiphers  bool      // "prefer-client-ciphers"
	GenerateCertificates bool      // "generate-certificates"
	CASignFile           string    // "ca-sign-file"
	CASignPass           string    // "ca-sign-pass": refused, encrypted keys are not read
	CAIgnoreErr          IgnoreSet // "ca-ignore-err"
	CrtIgnoreErr         IgnoreSet // "crt-ignore-err"
	TLSTicketKeys        string    // "tls-ticket-keys": the keys file
}

// ServerOptions holds the TLS options of one "server" line (section 5.2).
type ServerOptions struct {
	SSL          bool     // "ssl"
	Verify       string   // "verify none|required"; "" follows ssl-server-verify
	VerifyHost   string   // "verifyhost"
	CAFile       string   // "ca-file", after ca-base
	CRLFile      string   // "crl-file", after ca-base
	Crt          string   // "crt": client certificate, after crt-base
	ALPN         []string // "alpn"
	NPN          string   // "npn": refused
	Allow0RTT    bool     // "allow-0rtt": refused, Go's client sends no early data
	Ciphers      string   // "ciphers"
	Ciphersuites string   // "ciphersuites"
	NoSSLReuse   bool     // "no-ssl-reuse"
	NoTLSTickets bool     // "no-tls-tickets"
	Methods      Methods
	CheckSSL     bool     // "check-ssl"
	CheckSNI     string   // "check-sni"
	CheckALPN    []string // "check-alpn"
}

// Globals holds the TLS keywords of the global section (section 3).
type Globals struct {
	// Store holds the certificates shared by binds and servers and
	// changed over the CLI; nil reads the files at each load.
	Store *Store

	CrtBase string // "crt-base"
	CABase  string // "ca-base"

	BindCiphers      string   // "ssl-default-bind-ciphers"
	BindCiphersuites string   // "ssl-default-bind-ciphersuites"
	BindCurves       string   // "ssl-default-bind-curves"
	BindOptions      []string // words of "ssl-default-bind-options"

	ServerCiphers      string   // "ssl-default-server-ciphers"
	ServerCiphersuites string   // "ssl-default-server-ciphersuites"
	ServerOptions      []string // words of "ssl-default-server-options"
	// ServerVerify is "ssl-server-verify": "none" or "required"; empty
	// means required.
	ServerVerify string

	// DefaultDHParam is "tune.ssl.default-dh-param". It sizes DHE groups,
	// which Go does not implement; it is accepted and has no effect.
	DefaultDHParam int
	// DHParamBits is the size of ssl-dh-param-file's group, 0 without it.
	DHParamBits int
	// CacheSize is "tune.ssl.cachesize"; zero means the default (20000),
	// negative no cache. It sizes the binds' stateful session cache (TLS
	// 1.3 resumption under no-tls-tickets; Go's server resumes no TLS 1.2
	// session by its ID), and bounds each server's session cache.
	CacheSize int
	// Lifetime is "tune.ssl.lifetime"; zero means 300s. Session tickets
	// older than this are not resumed.
	Lifetime time.Duration
}

func (g *Globals) lifetime() time.Duration {
	if g == nil || g.Lifetime <= 0 {
		return 300 * time.Second
	}
	return g.Lifetime
}

// withBase prefixes a relative path with base, as HAProxy does for
// crt-base and ca-base.
func withBase(base, p string) string {
	if p == "" || strings.HasPrefix(p, "/") || base == "" {
		return p
	}
	return base + "/" + p
}

// parseMethodOption applies a no-*/force-* word (parse_tls_method_options).
func parseMethodOption(word string, m *Methods) bool {
	var v Version
	_, rest, ok := strings.Cut(word, "-")
	if !ok {
		return false
	}
	switch rest {
	case "sslv3":
		v = SSLv3
	case "tlsv10":
		v = TLSv10
	case "tlsv11":
		v = TLSv11
	case "tlsv12":
		v = TLSv12
	case "tlsv13":
		v = TLSv13
	default:
		return false
	}
	switch {
	case strings.HasPrefix(word, "no-"):
		m.Disabled[v] = true
	case strings.HasPrefix(word, "force-"):
		m.Min, m.Max = v, v
	default:
		return false
	}
	return true
}

// parseMinMax applies "ssl-min-ver V" or "ssl-max-ver V".
func parseMinMax(kw, arg string, m *Methods) *Error {
	if arg == "" {
		return parseErr(msgVersionMissing, kw)
	}
	v, ok := ParseVersion(arg)
	if !ok {
		return parseErr(msgVersionUnknown, arg)
	}
	if kw == "ssl-min-ver" {
		m.Min = v
	} else {
		m.Max = v
	}
	return nil
}

// parseALPN splits a comma list as ssl_sock_parse_alpn does.
func parseALPN(kw, arg string) ([]string, *Error) {
	if arg == "" {
		return nil, parseErr(msgALPNMissing, kw)
	}
	protos := strings.Split(arg, ",")
	for _, p := range protos {
		if len(p) > 255 {
			return nil, parseErr(msgALPNTooLong, kw, p)
		}
	}
	return protos, nil
}

// parseConfKeyword handles the keywords shared by bind lines and crt-list
// lines (ssl_bind_kws). It returns how many arguments the keyword takes,
// or -1 when kw is not one of them.
func parseConfKeyword(kw, arg string, c *SSLConf, g *Globals) (int, *Error) {
	caBase := ""
	if g != nil {
		caBase = g.CABase
	}
	switch kw {
	case "allow-0rtt":
		c.Allow0RTT = true
		return 0, nil
	case "no-ca-names":
		c.NoCANames = true
		return 0, nil
	case "alpn":
		p, err := parseALPN(kw, arg)
		if err == nil {
			c.ALPN = p
		}
		return 1, err
	case "npn":
		if arg == "" {
			return 1, parseErr(msgNPNMissing, kw)
		}
		c.NPN = arg
		return 1, nil
	case "ca-file", "ca-verify-file":
		if arg == "" {
			return 1, parseErr(msgCAMissing, kw)
		}
		if kw == "ca-file" {
			c.CAFile = withBase(caBase, arg)
		} else {
			c.CAVerifyFile = withBase(caBase, arg)
		}
		return 1, nil
	case "crl-file":
		if arg == "" {
			return 1, parseErr(msgCRLMissing, kw)
		}
		c.CRLFile = withBase(caBase, arg)
		return 1, nil
	case "ciphers", "ciphersuites", "curves", "ecdhe":
		if arg == "" {
			what := map[string]string{"ciphers": "cipher suite", "ciphersuites": "cipher suite", "curves": "curve suite", "ecdhe": "named curve"}[kw]
			return 1, parseErr(msgArgMissing, kw, what)
		}
		switch kw {
		case "ciphers":
			c.Ciphers = arg
		case "ciphersuites":
			c.Ciphersuites = arg
		case "curves":
			c.Curves = arg
		default:
			c.Ecdhe = arg
		}
		return 1, nil
	case "verify":
		if arg == "" {
			return 1, parseErr(msgVerifyMissing, kw)
		}
		switch arg {
		case "none", "optional", "required":
			c.Verify = arg
			return 1, nil
		}
		return 1, parseErr(msgVerifyUnknown, kw, arg)
	case "ssl-min-ver", "ssl-max-ver":
		return 1, parseMinMax(kw, arg, &c.Methods)
	}
	return -1, nil
}

// ParseBindOptions reads the TLS words of a bind line (everything after the
// address that concerns TLS) into BindOptions, reporting errors with
// HAProxy's text. Relative crt and ca-file paths get crt-base and ca-base
// from g. Words that are not TLS keywords are skipped.
func ParseBindOptions(words []string, g *Globals) (*BindOptions, error) {
	b := &BindOptions{}
	arg := func(i int) string {
		if i+1 < len(words) {
			return words[i+1]
		}
		return ""
	}
	for i := 0; i < len(words); i++ {
		kw := words[i]
		if n, err := parseConfKeyword(kw, arg(i), &b.SSLConf, g); n >= 0 {
			if err != nil {
				return nil, err
			}
			i += n
			continue
		}
		switch kw {
		case "ssl":
		case "crt", "crt-list":
			if arg(i) == "" {
				return nil, parseErr(msgMissingCrt, kw)
			}
			p := arg(i)
			if kw == "crt" && g != nil {
				p = withBase(g.CrtBase, p)
			}
			b.Certs = append(b.Certs, CertSource{Path: p, List: kw == "crt-list"})
			i++
		case "no-tls-tickets":
			b.NoTLSTickets = true
		case "strict-sni":
			b.StrictSNI = true
		case "prefer-client-ciphers":
			b.PreferClientCiphers = true
		case "generate-certificates":
			b.GenerateCertificates = true
		case "ca-sign-file", "ca-sign-pass", "tls-ticket-keys":
			if arg(i) == "" {
				return nil, parseErr(msgArgMissing, kw, "file")
			}
			if kw == "ca-sign-file" {
				b.CASignFile = arg(i)
			} else if kw == "ca-sign-pass" {
				b.CASignPass = arg(i)
			} else if kw == "tls-ticket-keys" {
				b.TLSTicketKeys = arg(i)
			}
			i++
		case "ca-ignore-err", "crt-ignore-err":
			mask, err := parseIgnoreErr(kw, arg(i))
			if err != nil {
				return nil, err
			}
			if kw == "ca-ignore-err" {
				b.CAIgnoreErr.add(mask)
			} else {
				b.CrtIgnoreErr.add(mask)
			}
			i++
		default:
			if !parseMethodOption(kw, &b.Methods) {
				continue
			}
		}
	}
	return b, nil
}

// IgnoreSet is a set of OpenSSL X509 error codes (1..94) that
// ca-ignore-err or crt-ignore-err lets through. The zero value ignores
// nothing.
type IgnoreSet [2]uint64

// Has reports whether code is ignored.
func (s IgnoreSet) Has(code int) bool {
	return code > 0 && code < 128 && s[code/64]&(1<<(code%64)) != 0
}

func (s *IgnoreSet) add(o IgnoreSet) { s[0], s[1] = s[0]|o[0], s[1]|o[1] }

// maxX509Err is the last error id HAProxy 2.6 accepts in ignore lists.
const maxX509Err = 94

// parseIgnoreErr reads "all" or a comma list of X509 error numbers
// (bind_parse_ignore_err).
func parseIgnoreErr(kw, arg string) (IgnoreSet, *Error) {
	var set IgnoreSet
	if arg == "" {
		return set, parseErr(msgIgnErrMissing, kw)
	}
	if arg == "all" {
		return IgnoreSet{^uint64(0), ^uint64(0)}, nil
	}
	for _, p := range strings.Split(arg, ",") {
		code := atoi(p)
		if code <= 0 || code > maxX509Err {
			return set, parseErr(msgIgnErrRange, kw, code, arg)
		}
		set[code/64] |= 1 << (code % 64)
	}
	return set, nil
}

// atoi reads a leading decimal number as C's atoi does.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// ParseServerOptions reads the TLS words of a server line.
func ParseServerOptions(words []string, g *Globals) (*ServerOptions, error) {
	s := &ServerOptions{}
	caBase, crtBase := "", ""
	if g != nil {
		caBase, crtBase = g.CABase, g.CrtBase
	}
	arg := func(i int) string {
		if i+1 < len(words) {
			return words[i+1]
		}
		return ""
	}
	for i := 0; i < len(words); i++ {
		kw := words[i]
		one := true
		flags := map[string]*bool{"ssl": &s.SSL, "check-ssl": &s.CheckSSL, "no-ssl-reuse": &s.NoSSLReuse, "no-tls-tickets": &s.NoTLSTickets}
		if f, ok := flags[kw]; ok {
			*f = true
			continue
		}
		if f, ok := flags[strings.TrimPrefix(kw, "no-")]; ok {
			*f = false
			continue
		}
		if f, ok := flags["no-"+kw]; ok { // ssl-reuse, tls-tickets
			*f = false
			continue
		}
		switch kw {
		case "verify":
			switch arg(i) {
			case "":
				return nil, parseErr(msgVerifyMissing, kw)
			case "none", "required":
				s.Verify = arg(i)
			default:
				return nil, parseErr("'%s' : unknown verify method '%s', only 'none' and 'required' are supported", kw, arg(i))
			}
		case "allow-0rtt":
			s.Allow0RTT = true
			one = false
		case "verifyhost":
			s.VerifyHost = arg(i)
		case "sni", "check-sni":
			if kw == "check-sni" {
				s.CheckSNI = arg(i)
			}
		case "ca-file":
			s.CAFile = withBase(caBase, arg(i))
		case "crl-file":
			s.CRLFile = withBase(caBase, arg(i))
		case "crt":
			s.Crt = withBase(crtBase, arg(i))
		case "alpn", "check-alpn":
			p, err := parseALPN(kw, arg(i))
			if err != nil {
				return nil, err
			}
			if kw == "alpn" {
				s.ALPN = p
			} else {
				s.CheckALPN = p
			}
		case "npn":
			s.NPN = arg(i)
		case "ciphers":
			s.Ciphers = arg(i)
		case "ciphersuites":
			s.Ciphersuites = arg(i)
		case "ssl-min-ver", "ssl-max-ver":
			if err := parseMinMax(kw, arg(i), &s.Methods); err != nil {
				return nil, err
			}
		default:
			one = false
			parseMethodOption(kw, &s.Methods)
		}
		if one {
			if arg(i) == "" && kw != "ssl" {
				return nil, parseErr(msgArgMissing, kw, "argument")
			}
			i++
		}
	}
	return s, nil
}
