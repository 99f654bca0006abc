package parser

import (
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math"
	"math/big"
	"os"
	"strings"
	"time"
)

// SSLGlobal holds the global section's TLS and HTTP/2 settings.
type SSLGlobal struct {
	CABase string // ca-base
	// Defaults for bind and server lines: ssl-default-bind-* and
	// ssl-default-server-*; the options are their words.
	BindCiphers, BindCiphersuites, BindCurves string
	BindOptions                               []string
	ServerCiphers, ServerCiphersuites         string
	ServerOptions                             []string
	// ServerVerify is ssl-server-verify, "" for its default (required).
	ServerVerify string
	// LoadExtraDelExt is ssl-load-extra-del-ext: the key of "x.crt" is
	// looked for in "x.key".
	LoadExtraDelExt bool
	// SkipSelfIssuedCA is ssl-skip-self-issued-ca: binds leave the root
	// CA out of the chain they send.
	SkipSelfIssuedCA bool
	// Issuers are the chains issuers-chain-path loaded from IssuersPath
	// (IssuersRead once read), which complete certificates loaded
	// without a chain.
	IssuersPath string
	IssuersRead bool
	Issuers     []IssuerChain
	// DefaultDHParam, CacheSize and Lifetime are tune.ssl.default-dh-param,
	// tune.ssl.cachesize and tune.ssl.lifetime.
	DefaultDHParam, CacheSize int
	Lifetime                  time.Duration
	// CacheSizeSet: tune.ssl.cachesize was given (0 then disables the
	// cache).
	CacheSizeSet bool
	// DHParamBits is the size of ssl-dh-param-file's group, 0 without
	// the setting.
	DHParamBits int
	// H2 holds tune.h2.header-table-size, initial-window-size,
	// max-concurrent-streams and max-frame-size (0 for the defaults).
	H2HeaderTableSize, H2InitialWindowSize, H2MaxConcurrentStreams, H2MaxFrameSize int
	// H2NoExtConnect is h2-workaround-bogus-websocket-clients.
	H2NoExtConnect bool
	// CaptureSize is tune.ssl.capture-buffer-size: how much of each
	// ClientHello is kept, 0 for none. captureSized: it was read, which
	// HAProxy takes once.
	CaptureSize int
	// Keylog is tune.ssl.keylog on.
	Keylog bool
	// MaxRecord and HardMaxRecord are tune.ssl.maxrecord and
	// tune.ssl.hard-maxrecord: the most bytes a TLS record carries, the
	// first not while a response streams, 0 for no bound.
	MaxRecord, HardMaxRecord int
	captureSized             bool
}

func init() {
	g := func(c *pctx) *SSLGlobal { return &c.cp.cfg.Global.SSL }
	str := func(set func(*SSLGlobal, string)) func(*pctx) {
		return func(c *pctx) {
			if c.tooMany(1) {
				return
			}
			if c.arg(1) == "" {
				c.alert("global statement '%s' expects a cipher suite as an argument.", c.args[0])
				return
			}
			set(g(c), c.arg(1))
		}
	}
	globalKeywords["ssl-default-bind-ciphers"] = keyword{support: Supported, handle: str(func(s *SSLGlobal, v string) { s.BindCiphers = v })}
	globalKeywords["ssl-default-bind-ciphersuites"] = keyword{support: Supported, handle: str(func(s *SSLGlobal, v string) { s.BindCiphersuites = v })}
	globalKeywords["ssl-default-server-ciphers"] = keyword{support: Supported, handle: str(func(s *SSLGlobal, v string) { s.ServerCiphers = v })}
	globalKeywords["ssl-default-server-ciphersuites"] = keyword{support: Supported, handle: str(func(s *SSLGlobal, v string) { s.ServerCiphersuites = v })}
	globalKeywords["ssl-default-bind-curves"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if c.arg(1) == "" {
			c.alert("global statement '%s' expects a curves suite as an arguments.", c.args[0])
			return
		}
		g(c).BindCurves = c.arg(1)
	}}
	globalKeywords["ssl-default-bind-options"] = keyword{support: Supported, handle: func(c *pctx) {
		if defaultTLSOptions(c, true) {
			g(c).BindOptions = append(g(c).BindOptions, c.args[1:]...)
		}
	}}
	globalKeywords["ssl-default-server-options"] = keyword{support: Supported, handle: func(c *pctx) {
		if defaultTLSOptions(c, false) {
			g(c).ServerOptions = append(g(c).ServerOptions, c.args[1:]...)
		}
	}}
	globalKeywords["issuers-chain-path"] = keyword{support: Supported, handle: globalIssuersChainPath}
	globalKeywords["ssl-skip-self-issued-ca"] = keyword{support: Supported, handle: func(c *pctx) { g(c).SkipSelfIssuedCA = true }}
	globalKeywords["ssl-load-extra-del-ext"] = keyword{support: Supported, handle: func(c *pctx) { g(c).LoadExtraDelExt = true }}
	globalKeywords["ssl-server-verify"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		switch c.arg(1) {
		case "":
			c.alert("'%s' expects an integer argument.", c.args[0])
		case "none", "required":
			g(c).ServerVerify = c.arg(1)
		default:
			c.alert("'%s' expects 'none' or 'required' as argument.", c.args[0])
		}
	}}
	globalKeywords["ca-base"] = keyword{support: Supported, handle: func(c *pctx) { globalBase(c, &g(c).CABase) }}
	globalKeywords["tune.ssl.default-dh-param"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if needInt(c); c.arg(1) != "" {
			// An unsigned int, kept even when refused, as HAProxy keeps
			// it: the binds' certificates are then warned about.
			n := uint32(int32(Atol(c.arg(1))))
			g(c).DefaultDHParam = int(n)
			if n < 1024 {
				c.alert("'%s' expects a value >= 1024.", c.args[0])
			}
		}
	}}
	// The HTTP/2 settings (mux_h2.c): atoi, then a range; an empty value
	// reads as 0.
	for k, h := range map[string]struct {
		lo, hi int32
		set    func(*SSLGlobal, int)
	}{
		"tune.h2.header-table-size":      {4096, 65536, func(s *SSLGlobal, n int) { s.H2HeaderTableSize = n }},
		"tune.h2.initial-window-size":    {0, math.MaxInt32, func(s *SSLGlobal, n int) { s.H2InitialWindowSize = n }},
		"tune.h2.max-concurrent-streams": {0, math.MaxInt32, func(s *SSLGlobal, n int) { s.H2MaxConcurrentStreams = n }},
		"tune.h2.max-frame-size":         {16384, 16777215, func(s *SSLGlobal, n int) { s.H2MaxFrameSize = n }},
	} {
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) {
			if c.tooMany(1) {
				return
			}
			n := int32(Atol(c.arg(1)))
			switch {
			case n >= h.lo && n <= h.hi:
				h.set(g(c), int(n))
			case h.lo == 0:
				c.alert("'%s' expects a positive numeric value.", c.args[0])
			default:
				c.alert("'%s' expects a numeric value between %d and %d.", c.args[0], h.lo, h.hi)
			}
		}}
	}
	globalKeywords["tune.ssl.lifetime"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if c.arg(1) == "" {
			c.alert("'%s' expects ssl sessions <lifetime> in seconds as argument.", c.args[0])
			return
		}
		// In seconds when no unit is given (TIME_UNIT_S).
		d, r, bad, warn := parseSeconds(c.arg(1))
		timerTrailWarning(c, warn, c.arg(1))
		switch r {
		case timeOverflow:
			c.alert("timer overflow in argument '%s' to <%s> (maximum value is 2147483647 s or ~68 years).", c.arg(1), c.args[0])
		case timeUnderflow:
			c.alert("timer underflow in argument '%s' to <%s> (minimum non-null value is 1 s).", c.arg(1), c.args[0])
		case timeBadChar:
			c.alert("unexpected character '%c' in argument to <%s>.", bad, c.args[0])
		default:
			g(c).Lifetime = d
		}
	}}
	// ssl_parse_global_int: a positive integer, read with atoi. The
	// capture buffer is sized once.
	sslInt := func(set func(*SSLGlobal, int)) func(*pctx) {
		return func(c *pctx) {
			if c.args[0] == "tune.ssl.capture-cipherlist-size" {
				c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
					Msg: fmt.Sprintf("'%s' is deprecated and will be removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead.", c.args[0])})
			}
			if c.tooMany(1) {
				return
			}
			if c.arg(1) == "" {
				c.alert("'%s' expects an integer argument.", c.args[0])
				return
			}
			n := int32(Atol(c.arg(1)))
			if n < 0 {
				c.alert("'%s' expects a positive numeric value.", c.args[0])
				return
			}
			if strings.HasPrefix(c.args[0], "tune.ssl.capture-") {
				if g(c).captureSized {
					c.alert("'%s' is already configured.", c.args[0])
					return
				}
				g(c).captureSized = true
			}
			if set != nil {
				set(g(c), int(n))
			}
		}
	}
	globalKeywords["tune.ssl.cachesize"] = keyword{support: Supported, handle: sslInt(func(s *SSLGlobal, n int) { s.CacheSize, s.CacheSizeSet = n, true })}
	// The context cache bounds generated certificates, which are kept
	// per name anyway.
	globalKeywords["tune.ssl.ssl-ctx-cache-size"] = keyword{support: Harmless, handle: sslInt(nil)}
	// The ClientHello capture the ssl_fc_cipherlist_*, extlist, eclist,
	// ecformats and protocol_hello_id fetches read.
	for _, k := range []string{"tune.ssl.capture-buffer-size", "tune.ssl.capture-cipherlist-size"} {
		globalKeywords[k] = keyword{support: Supported, handle: sslInt(func(s *SSLGlobal, n int) { s.CaptureSize = n })}
	}
	// A bound on TLS connections changes what clients see: run refuses
	// it.
	globalKeywords["maxsslconn"] = keyword{support: Unsupported, handle: sslInt(nil)}
	// The bounds on the size of the TLS records sent.
	globalKeywords["tune.ssl.maxrecord"] = keyword{support: Supported, handle: sslInt(func(s *SSLGlobal, n int) { s.MaxRecord = n })}
	globalKeywords["tune.ssl.hard-maxrecord"] = keyword{support: Supported, handle: sslInt(func(s *SSLGlobal, n int) { s.HardMaxRecord = n })}
	// The TLS 1.3 traffic secrets are kept for the ssl_fc_*_secret
	// fetches with tune.ssl.keylog on only.
	globalKeywords["tune.ssl.keylog"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		switch c.arg(1) {
		case "on":
			c.cp.cfg.Global.SSL.Keylog = true
		case "off":
			c.cp.cfg.Global.SSL.Keylog = false
		default:
			c.alert("'%s' expects either 'on' or 'off' but got '%s'.", c.args[0], c.arg(1))
		}
	}}
	globalKeywords["tune.ssl.force-private-cache"] = keyword{support: Harmless, handle: func(c *pctx) { c.tooMany(0) }}
	globalKeywords["ssl-dh-param-file"] = keyword{support: Harmless, handle: dhParamFile}
	// crt-base's handler is kept with the other path keywords; it is now
	// used by TLS binds.
	if k, ok := globalKeywords["crt-base"]; ok {
		k.support = Supported
		globalKeywords["crt-base"] = k
	}
}

// defaultTLSOptions checks the words of ssl-default-bind-options or
// ssl-default-server-options as HAProxy's parser does; bind says the
// former, which also takes prefer-client-ciphers.
func defaultTLSOptions(c *pctx, bind bool) bool {
	if c.arg(1) == "" {
		c.alert("global statement '%s' expects an option as an argument.", c.args[0])
		return false
	}
	for i := 1; i < len(c.args) && c.args[i] != ""; i++ {
		w := c.args[i]
		switch {
		case w == "no-tls-tickets", bind && w == "prefer-client-ciphers":
		case w == "ssl-min-ver" || w == "ssl-max-ver":
			v := c.arg(i + 1)
			if v == "" {
				c.alert("'%s' : missing the ssl/tls version on global statement '%s'.", w, c.args[0])
				return false
			}
			if !tlsVersion(v) {
				c.alert("'%s' : unknown ssl/tls version on global statement '%s'.", v, c.args[0])
				return false
			}
			i++
		case tlsMethodOption(w):
		default:
			c.alert("unknown option '%s' on global statement '%s'.", w, c.args[0])
			return false
		}
	}
	return true
}

// tlsMethodOption says w is one of parse_tls_method_options's words:
// no- or force- then a protocol version.
func tlsMethodOption(w string) bool {
	_, p, ok := strings.Cut(w, "-")
	if !ok {
		return false
	}
	switch p {
	case "sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13":
	default:
		return false
	}
	return strings.HasPrefix(w, "no-") || strings.HasPrefix(w, "force-")
}

// dhParamFile checks ssl-dh-param-file as HAProxy loads it: a readable
// file holding PEM DH parameters. The parameters serve DHE cipher
// suites, which Go's TLS does not offer; only their size is kept, for
// the binds' warnings.
func dhParamFile(c *pctx) {
	if c.tooMany(1) {
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects a file path as an argument.", c.args[0])
		return
	}
	b, err := os.ReadFile(c.arg(1))
	bits := 0
	if err == nil {
		bits = PEMDHBits(b)
	}
	if bits == 0 {
		c.alert("'%s': unable to load DH parameters from file <%s>.", c.args[0], c.arg(1))
		return
	}
	g := &c.cp.cfg.Global.SSL
	g.DHParamBits = bits
}

// PEMDHBits is the size of the group of the first PKCS#3 "DH PARAMETERS"
// block of b, among any others (a certificate file may carry them), as
// OpenSSL's PEM_read_bio_DHparams finds it; 0 when there is none or it
// does not parse. X9.42 parameters are refused by HAProxy 2.6 too.
func PEMDHBits(b []byte) int {
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return 0
		}
		if blk.Type != "DH PARAMETERS" {
			continue
		}
		var p struct {
			P, G *big.Int
			L    int `asn1:"optional"`
		}
		rest, err := asn1.Unmarshal(blk.Bytes, &p)
		if err != nil || len(rest) != 0 || p.P.Sign() <= 0 || p.G.Sign() <= 0 {
			return 0
		}
		return p.P.BitLen()
	}
}
