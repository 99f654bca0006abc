package parser

import (
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
	// DefaultDHParam, CacheSize and Lifetime are tune.ssl.default-dh-param,
	// tune.ssl.cachesize and tune.ssl.lifetime.
	DefaultDHParam, CacheSize int
	Lifetime                  time.Duration
	// H2 holds tune.h2.header-table-size, initial-window-size,
	// max-concurrent-streams and max-frame-size (0 for the defaults).
	H2HeaderTableSize, H2InitialWindowSize, H2MaxConcurrentStreams, H2MaxFrameSize int
}

func init() {
	g := func(c *pctx) *SSLGlobal { return &c.cp.cfg.Global.SSL }
	str := func(set func(*SSLGlobal, string)) func(*pctx) {
		return func(c *pctx) {
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
	globalKeywords["ssl-default-bind-curves"] = keyword{support: Supported, handle: func(c *pctx) { g(c).BindCurves = c.arg(1) }}
	globalKeywords["ssl-default-bind-options"] = keyword{support: Supported, handle: func(c *pctx) {
		g(c).BindOptions = append(g(c).BindOptions, c.args[1:]...)
	}}
	globalKeywords["ssl-default-server-options"] = keyword{support: Supported, handle: func(c *pctx) {
		g(c).ServerOptions = append(g(c).ServerOptions, c.args[1:]...)
	}}
	globalKeywords["ssl-load-extra-del-ext"] = keyword{support: Supported, handle: func(c *pctx) { g(c).LoadExtraDelExt = true }}
	globalKeywords["ssl-server-verify"] = keyword{support: Supported, handle: func(c *pctx) { g(c).ServerVerify = c.arg(1) }}
	globalKeywords["ca-base"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.arg(1) == "" {
			c.alert("global statement '%s' expects a directory path as an argument.", c.args[0])
			return
		}
		g(c).CABase = c.arg(1)
	}}
	ints := map[string]func(*SSLGlobal) *int{
		"tune.ssl.default-dh-param":      func(s *SSLGlobal) *int { return &s.DefaultDHParam },
		"tune.ssl.cachesize":             func(s *SSLGlobal) *int { return &s.CacheSize },
		"tune.h2.header-table-size":      func(s *SSLGlobal) *int { return &s.H2HeaderTableSize },
		"tune.h2.initial-window-size":    func(s *SSLGlobal) *int { return &s.H2InitialWindowSize },
		"tune.h2.max-concurrent-streams": func(s *SSLGlobal) *int { return &s.H2MaxConcurrentStreams },
		"tune.h2.max-frame-size":         func(s *SSLGlobal) *int { return &s.H2MaxFrameSize },
	}
	for k, field := range ints {
		field := field
		ssl := strings.HasPrefix(k, "tune.ssl.")
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) {
			if ssl && c.tooMany(1) {
				return
			}
			if needInt(c); c.arg(1) != "" {
				n := Atol(c.arg(1))
				if c.args[0] == "tune.ssl.default-dh-param" && n < 1024 {
					c.alert("'%s' expects a value >= 1024.", c.args[0])
					return
				}
				*field(g(c)) = n
			}
		}}
	}
	globalKeywords["tune.ssl.lifetime"] = keyword{support: Supported, handle: func(c *pctx) {
		if d, r := parseTime(c.arg(1)); r == timeOK && c.arg(1) != "" {
			g(c).Lifetime = d
		}
	}}
	// crt-base's handler is kept with the other path keywords; it is now
	// used by TLS binds.
	if k, ok := globalKeywords["crt-base"]; ok {
		k.support = Supported
		globalKeywords["crt-base"] = k
	}
}
