package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServerTLS is the client-side TLS configuration of one "server" line.
type ServerTLS struct {
	// Warnings lists settings Go cannot honour in full.
	Warnings []string
	// TLS13 is the TLS 1.3 order its ciphersuites list asks for, nil
	// without one.
	TLS13 []uint16

	base    *tls.Config
	check   *tls.Config
	configs sync.Map // SNI -> *tls.Config
	verify  atomic.Pointer[verifier]
	host    string // verifyhost
	// caFile and crlFile name the store entries verify was built from.
	caFile, crlFile string
	// clientCert is the "crt" certificate sent to the server.
	clientCert atomic.Pointer[tls.Certificate]
	// sessions is the server's TLS session cache, nil with no-ssl-reuse.
	sessions *sessionCache
}

// sessionCache is a client session cache that can be emptied at once, as
// HAProxy frees a server's reused sessions when its certificate changes.
type sessionCache struct {
	size int
	c    atomic.Pointer[tls.ClientSessionCache]
}

func newSessionCache(size int) *sessionCache {
	sc := &sessionCache{size: size}
	sc.reset()
	return sc
}

func (sc *sessionCache) reset() {
	c := tls.NewLRUClientSessionCache(sc.size)
	sc.c.Store(&c)
}

func (sc *sessionCache) Get(key string) (*tls.ClientSessionState, bool) {
	return (*sc.c.Load()).Get(key)
}
func (sc *sessionCache) Put(key string, cs *tls.ClientSessionState) { (*sc.c.Load()).Put(key, cs) }

// Alert texts of the server side (ssl_sock_prepare_srv_ssl_ctx); HAProxy
// prints them without a position.
const (
	srvVerifyNoCADefault = "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
	srvVerifyNoCA        = "verify is enabled but no CA file specified."
	srvCiphers           = "unable to set SSL cipher list to '%s'."
	srvCiphersuites      = "unable to set TLS 1.3 cipher suites to '%s'."
)

// verifies says the server's certificate is verified: its verify, else
// ssl-server-verify (required by default).
func verifies(s *ServerOptions, g *Globals) bool {
	if s.Verify != "" {
		return s.Verify == "required"
	}
	return g.ServerVerify != "none"
}

// NoCAError is the refusal of a server that would verify its
// certificate with no CA file (nil otherwise), which HAProxy gives once
// parsing is done. g may be nil.
func NoCAError(s *ServerOptions, g *Globals) error {
	if g == nil {
		g = &Globals{}
	}
	if !verifies(s, g) || s.CAFile != "" {
		return nil
	}
	// The long form whenever the global default is to verify, whether
	// the line says verify or not (ssl_sock.c).
	if g.ServerVerify != "none" {
		return &Error{Msg: srvVerifyNoCADefault}
	}
	return &Error{Msg: srvVerifyNoCA}
}

// LoadServerConfig builds the TLS client configuration of a server. Each
// server gets its own session cache (TLS session reuse, HAProxy's default),
// disabled by no-ssl-reuse. The certificate is verified against ca-file
// and crl-file unless verify is none, and its names against the SNI sent
// or else verifyhost, as ssl_sock_srv_verifycbk does.
func LoadServerConfig(s *ServerOptions, g *Globals) (*ServerTLS, error) {
	if g == nil {
		g = &Globals{}
	}
	if s.NPN != "" {
		return nil, &Limitation{Keyword: "npn", Value: s.NPN, Reason: "npn is not supported: Go's TLS stack implements ALPN only, use 'alpn'"}
	}
	if s.Allow0RTT {
		// Early data would change what the server sees (a request before
		// the handshake ends, replayable), so it is refused, not dropped.
		return nil, &Limitation{Keyword: "allow-0rtt", Reason: "allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data"}
	}
	st := &ServerTLS{host: s.VerifyHost}
	tc := &tls.Config{
		InsecureSkipVerify:     true, // verified in VerifyConnection, OpenSSL's way
		NextProtos:             s.ALPN,
		SessionTicketsDisabled: s.NoTLSTickets,
		Time:                   resumeClock,
		// Full records, as OpenSSL writes them (see the binds').
		DynamicRecordSizingDisabled: true,
	}
	// versions
	m := s.Methods
	if m.Min == 0 && m.Max == 0 {
		if gm := globalMethods(g.ServerOptions); gm != nil {
			for v := range m.Disabled {
				m.Disabled[v] = m.Disabled[v] || gm.Disabled[v]
			}
			m.Min, m.Max = gm.Min, gm.Max
		}
	}
	disabled := m.Disabled
	if m.Min != 0 || m.Max != 0 {
		disabled = [TLSv13 + 1]bool{}
	}
	min, max := versionRange(m.Min, m.Max, disabled)
	if min == 0 {
		return nil, &Error{Msg: "all SSL/TLS versions are disabled"}
	}
	if max == SSLv3 {
		return nil, &Limitation{Keyword: "ssl-max-ver", Value: "SSLv3", Reason: "SSLv3 is not supported by Go's TLS stack"}
	}
	tc.MinVersion, tc.MaxVersion = goVersion[min], goVersion[max]
	// verification
	if err := NoCAError(s, g); err != nil {
		return nil, err
	}
	if verifies(s, g) {
		ca, err := g.Store.loadCA("ca-file", s.CAFile, nil, st)
		if err != nil {
			return nil, err
		}
		var crl *store
		if s.CRLFile != "" {
			if crl, err = g.Store.loadCA("crl-file", s.CRLFile, nil, st); err != nil {
				return nil, err
			}
		}
		st.caFile, st.crlFile = s.CAFile, s.CRLFile
		st.verify.Store(&verifier{store: ca.merge(crl), crlCheck: s.CRLFile != "", server: true})
	}
	// ciphers
	ciphers := s.Ciphers
	if ciphers == "" {
		ciphers = g.ServerCiphers
	}
	// Without a list, OpenSSL's default as HAProxy offers it: Go's own
	// leaves out the RSA key exchange that older servers need.
	cstr := ciphers
	if cstr == "" {
		cstr = "DEFAULT"
	}
	list, ok := parseCiphers(cstr)
	if !ok {
		return nil, &Error{Msg: fmt.Sprintf(srvCiphers, ciphers)}
	}
	var dropped []string
	for _, c := range list {
		if goSuites[c.id] {
			tc.CipherSuites = append(tc.CipherSuites, c.id)
		} else {
			dropped = append(dropped, c.name)
		}
	}
	if ciphers != "" && len(dropped) > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf("ciphers '%s': %s not available in Go's TLS stack, ignored", ciphers, strings.Join(dropped, ", ")))
	}
	if len(tc.CipherSuites) == 0 && min <= TLSv12 {
		return nil, &Limitation{Keyword: "ciphers", Value: ciphers, Reason: "none of the selected ciphers is available in Go's TLS stack"}
	}
	suites := s.Ciphersuites
	if suites == "" {
		suites = g.ServerCiphersuites
	}
	if max == TLSv13 {
		st.TLS13 = tls13Order(suites)
	}
	if suites != "" {
		if _, missing, ok := parseCiphersuites(suites); !ok {
			return nil, &Error{Msg: fmt.Sprintf(srvCiphersuites, suites)}
		} else if len(missing) > 0 && max == TLSv13 {
			return nil, &Limitation{Keyword: "ciphersuites", Value: suites, Reason: "Go's TLS 1.3 client always offers its three suites and cannot leave out " + strings.Join(missing, ", ")}
		}
	}
	// client certificate
	if s.Crt != "" {
		if _, serr := os.Stat(s.Crt); serr != nil {
			return nil, parseErr(msgStat, s.Crt, strerror(serr))
		}
		c, err := g.Store.load(s.Crt, nil, st)
		if err != nil {
			return nil, err
		}
		// Sent whatever CAs the server asks for, as OpenSSL does, and
		// replaced by "commit ssl cert".
		st.clientCert.Store(c.chained())
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return st.clientCert.Load(), nil
		}
	}
	if !s.NoSSLReuse {
		size := g.CacheSize
		if size <= 0 {
			size = 64
		}
		st.sessions = newSessionCache(size)
		tc.ClientSessionCache = st.sessions
	}
	if st.verify.Load() != nil {
		tc.VerifyConnection = st.verifyConnection
	}
	st.base = tc
	st.check = tc.Clone()
	st.check.ServerName = s.CheckSNI
	if s.CheckALPN != nil {
		st.check.NextProtos = s.CheckALPN
	}
	return st, nil
}

// resumeClock is the clock of Go's client side. Go drops a cached session
// whose server certificate has expired where OpenSSL, and so HAProxy,
// resumes it: a "verify none" server with an expired certificate would
// never resume. The client's other readings are differences between two
// readings (a ticket's age and lifetime), which a fixed shift leaves
// alone, so the clock runs a fixed span behind; certificates are verified
// by verifyConnection on the real clock.
func resumeClock() time.Time { return time.Now().Add(-clockShift) }

const clockShift = 30 * 365 * 24 * time.Hour

// Config returns the configuration for a connection that sends sni (""
// sends none). Configurations are cached per SNI and share the server's
// session cache.
func (st *ServerTLS) Config(sni string) *tls.Config {
	if sni == "" {
		return st.base
	}
	if c, ok := st.configs.Load(sni); ok {
		return c.(*tls.Config)
	}
	c := st.base.Clone()
	c.ServerName = sni
	v, _ := st.configs.LoadOrStore(sni, c)
	return v.(*tls.Config)
}

// CheckConfig returns the configuration of health checks (check-ssl,
// check-sni, check-alpn).
func (st *ServerTLS) CheckConfig() *tls.Config { return st.check }

func (st *ServerTLS) verifyConnection(cs tls.ConnectionState) error {
	if cs.DidResume {
		// OpenSSL verifies a server once, when the session is made; a
		// resumed session keeps that verdict.
		return nil
	}
	if _, err := st.verify.Load().check(cs.PeerCertificates, time.Now()); err != nil {
		return err
	}
	name := cs.ServerName
	if name == "" {
		name = st.host
	}
	if name == "" || len(cs.PeerCertificates) == 0 {
		return nil
	}
	if !hostMatches(cs.PeerCertificates[0], name) {
		return &MismatchError{Name: name, SNI: cs.ServerName != ""}
	}
	return nil
}

// hostMatches checks the certificate's DNS names, then its CNs, with
// ssl_sock_srv_hostcheck's rules (one wildcard in the leftmost label).
func hostMatches(c *x509.Certificate, host string) bool {
	for _, n := range certNames(c) {
		if hostcheck(n, host) {
			return true
		}
	}
	return false
}

func hostcheck(pattern, host string) bool {
	if strings.EqualFold(pattern, host) {
		return true
	}
	dot := strings.IndexByte(pattern, '.')
	if dot < 0 {
		return false
	}
	label := pattern[:dot]
	star := strings.IndexByte(label, '*')
	if star < 0 || strings.Count(label, "*") > 1 {
		return false
	}
	hdot := strings.IndexByte(host, '.')
	if hdot < 0 || !strings.EqualFold(pattern[dot:], host[hdot:]) {
		return false
	}
	if hdot < len(label)-1 {
		return false
	}
	prefix, suffix := label[:star], label[star+1:]
	return strings.EqualFold(host[:len(prefix)], prefix) && strings.EqualFold(host[hdot-len(suffix):hdot], suffix)
}
