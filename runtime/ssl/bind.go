package ssl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BindTLS is the TLS side of one bind line. Config is handed to
// tls.NewListener; it stays the same across Reload, which swaps the
// certificates and settings behind it.
type BindTLS struct {
	// Config selects, per ClientHello, the certificate and settings the
	// way HAProxy does (GetConfigForClient).
	Config *tls.Config
	// Warnings lists settings Go cannot honour in full and that were
	// dropped (for example DHE suites in a cipher list).
	Warnings []string
	// Where is the bind line's "file:line", for the CLI's messages.
	Where string
	// TLS13 are the TLS 1.3 orders its ciphersuites lists ask for.
	TLS13 [][]uint16

	opts  *BindOptions
	g     *Globals
	state atomic.Pointer[bindState]
	keys  [][32]byte
	// gen makes certificates for unknown names (generate-certificates).
	gen *certGen
}

// bindState is one loaded generation of certificates.
type bindState struct {
	exact, wild map[string][]*sniName
	def         *entry
	entries     []*entry
	initial     *ctxConf // bind-level settings (HAProxy's initial_ctx)
	// dhWarn are the DH parameter warnings of the entries' certificates,
	// one per crt or crt-list argument that has any.
	dhWarn []string
	// verifies: a context verifies client certificates.
	verifies bool
}

// LineWarnings are the warnings HAProxy gives in the bind line's own
// form ("'bind X' in section 'Y' : ..."): those of the DH parameters of
// the certificates put in the bind's contexts, one line per certificate,
// one warning per crt or crt-list argument.
func (bt *BindTLS) LineWarnings() []string { return bt.state.Load().dhWarn }

// dhWarning is ssl_sock_load_dh_params's warning for a certificate put in
// a bind's context, under OpenSSL 3's default security level, which
// refuses DH groups below 2048 bits: the certificate file's own
// parameters first, then ssl-dh-param-file's, then the 1024-bit group
// that tune.ssl.default-dh-param 1024 (or below) asks for. DHE suites are
// not offered either way (Go has none), so only the warning remains.
func dhWarning(c *ckch, g *Globals) string {
	switch {
	case c.dhBits > 0:
		if c.dhBits < 2048 {
			return fmt.Sprintf("unable to load the DH parameter specified in '%s', DH ciphers won't be available.", c.path)
		}
	case g.DHParamBits > 0:
		if g.DHParamBits < 2048 {
			return fmt.Sprintf("unable to use the global DH parameter for certificate '%s', DH ciphers won't be available.", c.path)
		}
	case g.DefaultDHParam != 0 && g.DefaultDHParam <= 1024:
		return fmt.Sprintf("unable to load default 1024 bits DH parameter for certificate '%s'.\n, DH ciphers won't be available.", c.path)
	}
	return ""
}

// sniName is HAProxy's sni_ctx: one name an entry answers for.
type sniName struct {
	key       string
	neg, wild bool
	e         *entry
}

// entry is one certificate instance (ckch_inst) with the settings of its
// crt-list line.
type entry struct {
	ck    *ckch
	conf  *SSLConf
	names []*sniName
	sni   *ctxConf // used when the entry is picked by name
	dflt  *ctxConf // used when it serves as the default certificate
	// line is the crt-list line (or directory file) the entry came
	// from, nil for a "crt" file.
	line *CrtListLine
}

// LoadBindConfig loads the certificates of a bind line and builds its
// tls.Config. Errors are *Error worded as HAProxy words them, or
// *Limitation for what Go cannot do.
func LoadBindConfig(b *BindOptions, g *Globals) (*BindTLS, error) {
	if g == nil {
		g = &Globals{}
	}
	bt := &BindTLS{opts: b, g: g}
	if b.NPN != "" {
		return nil, &Limitation{Keyword: "npn", Value: b.NPN, Reason: "npn is not supported: Go's TLS stack implements ALPN only, use 'alpn'"}
	}
	if b.GenerateCertificates {
		if b.CASignFile == "" {
			return nil, newLate([]lateMsg{{core: lateGenNoCA, noBind: true}})
		}
		if b.CASignPass != "" {
			return nil, &Limitation{Keyword: "ca-sign-pass", Reason: "an encrypted CA key cannot be read"}
		}
		gen, err := loadCASign(b.CASignFile)
		if err != nil {
			return nil, err
		}
		bt.gen = gen
	}
	if b.TLSTicketKeys != "" {
		r, err := g.Store.ticketRef(b.TLSTicketKeys, bt)
		if err != nil {
			return nil, err
		}
		bt.keys = r.goKeys()
	} else {
		var k [32]byte
		if _, err := rand.Read(k[:]); err != nil {
			return nil, fmt.Errorf("ssl: ticket key: %w", err)
		}
		bt.keys = [][32]byte{k}
	}
	st, warn, err := bt.load()
	if err != nil {
		return nil, err
	}
	bt.Warnings = warn
	bt.state.Store(st)
	bt.Config = &tls.Config{GetConfigForClient: bt.getConfigForClient}
	return bt, nil
}

// Reload re-reads the certificate files and swaps them in atomically.
// Handshakes already past certificate selection keep the old ones; on
// error the running set is kept.
func (bt *BindTLS) Reload() error {
	st, warn, err := bt.load()
	if err != nil {
		return err
	}
	bt.Warnings = warn
	bt.state.Store(st)
	return nil
}

// load builds a generation: certificates first (parse-time errors), then
// the contexts (late errors, in HAProxy's order: initial context, default
// context, then the others).
func (bt *BindTLS) load() (*bindState, []string, error) {
	b, g := bt.opts, bt.g
	sessions.resize(g.cacheSize())
	st := &bindState{exact: map[string][]*sniName{}, wild: map[string][]*sniName{}}
	cache := map[string]*ckch{}
	g.Store.forget(bt)
	var ocspWarn []string
	loadPath := func(path string) (*ckch, *Error) {
		if c, ok := cache[path]; ok && g.Store == nil {
			return c, nil
		}
		c, err := g.Store.load(path, bt, nil)
		if err == nil && c.ocspResp != nil {
			// ssl_sock_load_ocsp, once per SSL context.
			var w string
			if w, err = g.Store.attachOCSP(c); w != "" {
				ocspWarn = append(ocspWarn, w)
			}
		}
		if err == nil {
			cache[path] = c
		}
		return c, err
	}
	// dh gathers one argument's warnings, as HAProxy's error buffer does.
	var dh []string
	add := func(c *ckch, conf *SSLConf, filters []string) *entry {
		e := &entry{ck: c, conf: conf}
		if w := dhWarning(c, g); w != "" {
			dh = append(dh, w)
		}
		st.index(e, filters)
		st.entries = append(st.entries, e)
		if st.def == nil {
			st.def = e
		}
		return e
	}
	for _, src := range b.Certs {
		dh = dh[:0]
		flush := func() {
			if len(dh) == 0 {
				return
			}
			w := strings.Join(dh, "\n")
			if src.List {
				w = "'crt-list' : " + w
			}
			st.dhWarn = append(st.dhWarn, w)
		}
		if src.List {
			err := g.Store.crtList(src.Path, false, g, bt, func(ln *CrtListLine) *Error {
				paths, err := g.Store.certFiles(ln.Path)
				if err != nil {
					return err
				}
				for _, path := range paths {
					c, err := loadPath(path)
					if err != nil {
						return err
					}
					add(c, ln.Conf, ln.Filters).line = ln
				}
				return nil
			})
			if err != nil {
				err.Msg = fmt.Sprintf(msgListPrefix, err.Msg)
				return nil, nil, err
			}
			flush()
			continue
		}
		paths, perr := g.Store.certFiles(src.Path)
		if perr != nil {
			return nil, nil, perr
		}
		if fi, serr := os.Stat(src.Path); serr == nil && fi.IsDir() {
			// A directory is a crt-list of its files (crtlist_load_cert_dir).
			err := g.Store.crtList(strings.TrimRight(src.Path, "/"), true, g, bt, func(ln *CrtListLine) *Error {
				c, err := loadPath(ln.Path)
				if err != nil {
					return err
				}
				add(c, nil, nil).line = ln
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
			flush()
			continue
		}
		for _, path := range paths {
			c, err := loadPath(path)
			if err != nil {
				return nil, nil, err
			}
			add(c, nil, nil)
		}
		flush()
	}
	// ca-file and crl-file are loaded while HAProxy parses the line.
	stores := map[string]*store{}
	loadStores := func(c *SSLConf) *Error {
		for _, f := range []struct{ kw, path string }{{"ca-file", c.CAFile}, {"ca-verify-file", c.CAVerifyFile}, {"crl-file", c.CRLFile}} {
			if f.path == "" || stores[f.path] != nil {
				continue
			}
			s, err := g.Store.loadCA(f.kw, f.path, bt, nil)
			if err != nil {
				return err
			}
			stores[f.path] = s
		}
		return nil
	}
	if err := loadStores(&b.SSLConf); err != nil {
		return nil, nil, err
	}
	for _, e := range st.entries {
		if e.conf != nil {
			if err := loadStores(e.conf); err != nil {
				err.Msg = fmt.Sprintf(msgListPrefix, err.Msg)
				return nil, nil, err
			}
		}
	}
	if st.def == nil {
		return nil, nil, newLate([]lateMsg{{core: lateNoCert, tail: lateNoCertTail}})
	}
	p := &prep{bt: bt, stores: stores}
	st.initial = p.context(nil, nil, false)
	if p.noVersion {
		return nil, nil, newLate([]lateMsg{{core: lateNoVersion}})
	}
	st.def.dflt = p.context(st.def, st.def.conf, false)
	for _, e := range st.entries {
		n := len(p.late)
		e.sni = p.context(e, e.conf, true)
		if e == st.def {
			// HAProxy prepares the default certificate's context once.
			p.late = p.late[:n]
		}
		if e.dflt == nil {
			e.dflt = e.sni
		}
		st.verifies = st.verifies || e.sni.verify != nil || e.dflt.verify != nil
	}
	st.verifies = st.verifies || st.initial.verify != nil
	if len(p.late) > 0 {
		return nil, nil, newLate(p.late)
	}
	if p.limit != nil {
		return nil, nil, p.limit
	}
	return st, append(ocspWarn, p.warn...), nil
}

// index adds the names of e as ckch_inst_new_load_store and
// ssl_sock_load_cert_sni do: filters (read from the last) or the
// certificate's SAN DNS names and CNs, lowercased, "*." as wildcard,
// "!" as exclusion, duplicates of the same entry dropped.
func (st *bindState) index(e *entry, filters []string) {
	var names []string
	if len(filters) > 0 {
		for i := len(filters) - 1; i >= 0; i-- {
			names = append(names, filters[i])
		}
	} else {
		names = certNames(e.ck.cert.Leaf)
	}
	for _, n := range names {
		s := &sniName{e: e}
		if strings.HasPrefix(n, "!") {
			s.neg, n = true, n[1:]
		}
		if strings.HasPrefix(n, "*") {
			s.wild, n = true, n[1:]
		}
		if (s.neg && s.wild) || n == "" {
			continue
		}
		s.key = strings.ToLower(n)
		tree := st.exact
		if s.wild {
			tree = st.wild
		}
		dup := false
		for _, o := range tree[s.key] {
			dup = dup || (o.e == e && o.neg == s.neg)
		}
		e.names = append(e.names, s)
		if !dup {
			tree[s.key] = append(tree[s.key], s)
		}
	}
}

// pick selects the entry for a ClientHello as ssl_sock_switchctx_cbk
// does. bySNI tells whether a name matched (the entry's crt-list line
// then also sets the versions). A nil entry refuses the handshake.
func (st *bindState) pick(serverName string, sigs []tls.SignatureScheme, suites []uint16, strict bool) (e *entry, bySNI bool) {
	if serverName == "" {
		if strict {
			return nil, false
		}
		return st.def, false
	}
	hasRSA, hasECDSA := len(sigs) == 0, false
	for _, s := range sigs {
		switch uint16(s) & 0xff {
		case 1:
			hasRSA = true
		case 3:
			hasECDSA = true
		}
	}
	if hasECDSA {
		hasECDSA = false
		for _, id := range suites {
			if c, ok := cipherByID[id]; ok && c.au == "ECDSA" {
				hasECDSA = true
				break
			}
		}
	}
	name := strings.ToLower(serverName)
	var ecdsa, rsa, other *entry
	consider := func(list []*sniName, wild bool) {
		for _, s := range list {
			if s.neg {
				continue
			}
			if wild && s.e.excludes(name) {
				continue
			}
			switch s.e.ck.kind {
			case keyECDSA:
				if ecdsa == nil {
					ecdsa = s.e
				}
			case keyRSA:
				if rsa == nil {
					rsa = s.e
				}
			default:
				if other == nil {
					other = s.e
				}
			}
		}
	}
	consider(st.exact[name], false)
	if dot := strings.IndexByte(name, '.'); dot >= 0 {
		consider(st.wild[name[dot:]], true)
	}
	switch {
	case hasECDSA && ecdsa != nil:
		return ecdsa, true
	case hasRSA && rsa != nil:
		return rsa, true
	case other != nil:
		return other, true
	case ecdsa != nil:
		return ecdsa, true
	case rsa != nil:
		return rsa, true
	}
	if strict {
		return nil, false
	}
	return st.def, false
}

// excludes reports a "!name" filter of the same crt-list line.
func (e *entry) excludes(name string) bool {
	for _, s := range e.names {
		if s.neg && s.key == name {
			return true
		}
	}
	return false
}

// errStrictSNI refuses a handshake no certificate matches under strict-sni.
var errStrictSNI = errors.New("ssl: no certificate for the requested server name (strict-sni)")

func (bt *BindTLS) getConfigForClient(chi *tls.ClientHelloInfo) (*tls.Config, error) {
	c, _, err := bt.configFor(chi)
	return c, err
}

// configFor picks the settings and the certificate of a handshake.
func (bt *BindTLS) configFor(chi *tls.ClientHelloInfo) (*tls.Config, *x509.Certificate, error) {
	st := bt.state.Load()
	e, bySNI := st.pick(chi.ServerName, chi.SignatureSchemes, chi.CipherSuites, bt.opts.StrictSNI)
	if e == nil {
		return nil, nil, errStrictSNI
	}
	c := e.dflt
	if bySNI {
		c = e.sni
	}
	if bt.gen != nil && !bySNI && chi.ServerName != "" {
		// ssl_sock_generate_certificate: the default context with a
		// certificate made for the name.
		gc, err := bt.gen.get(chi.ServerName, &e.ck.cert)
		if err != nil {
			return nil, nil, err
		}
		cfg := c.forHello(chi).Clone()
		cfg.Certificates = []tls.Certificate{*gc}
		cfg.GetCertificate = nil
		return cfg, gc.Leaf, nil
	}
	return c.forHello(chi), e.ck.cert.Leaf, nil
}

// Server returns the TLS server side of c; served tells, once the
// handshake is over, which certificate was presented (ssl_f_*).
func (bt *BindTLS) Server(c net.Conn) (*tls.Conn, *Handshake) { return bt.ServerTap(c, nil) }

// ServerTap is Server with the handshake's secrets going to kt, through
// which c reads and writes; kt may be nil.
func (bt *BindTLS) ServerTap(c net.Conn, kt *KeyTap) (*tls.Conn, *Handshake) {
	h := &Handshake{}
	var ac *alertConn
	if bt.state.Load().verifies {
		ac = &alertConn{Conn: c}
		c = ac
	}
	cfg := &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		h.HelloRead, h.ServerName = true, chi.ServerName
		for _, v := range chi.SupportedVersions {
			h.ClientMax = max(h.ClientMax, v)
		}
		c, l, err := bt.configFor(chi)
		h.Leaf = l
		if kt != nil && c != nil {
			c = kt.Config(c)
		}
		if ac != nil && c != nil && c.VerifyConnection != nil {
			c = ac.config(c)
		}
		return c, err
	}}
	return tls.Server(c, cfg), h
}

// Handshake is what a bind's handshake learned of its client.
type Handshake struct {
	// Leaf is the certificate served, nil before one was picked.
	Leaf *x509.Certificate
	// HelloRead: the whole ClientHello was read; ClientMax is the
	// highest version it offers.
	HelloRead bool
	ClientMax uint16
	// ServerName is the name the client asked for.
	ServerName string
}

// prep builds contexts and collects their late errors.
type prep struct {
	bt        *BindTLS
	stores    map[string]*store
	late      []lateMsg
	warn      []string
	limit     error
	noVersion bool
	seenWarn  map[string]bool
}

func (p *prep) warnf(format string, a ...any) {
	w := fmt.Sprintf(format, a...)
	if p.seenWarn == nil {
		p.seenWarn = map[string]bool{}
	}
	if !p.seenWarn[w] {
		p.seenWarn[w] = true
		p.warn = append(p.warn, w)
	}
}

// ctxConf is one prepared SSL context: a tls.Config plus what the
// per-handshake adjustments need.
type ctxConf struct {
	base       *tls.Config
	prefs      []*cipherInfo // Go-capable TLS <= 1.2 suites, preference order
	kind       keyKind
	curves     []tls.CurveID
	clientPref bool
	variants   sync.Map // variantKey -> *tls.Config
	verify     *verifier
	// stateful: no-tls-tickets, resumed through the session cache in
	// TLS 1.3 only.
	stateful bool
}

type variantKey struct {
	suite     uint16
	noALPN    bool
	noTickets bool
}

// bindVersions resolves the bind-level range as ssl_sock_initial_ctx does.
func bindVersions(m Methods) (min, max Version) {
	disabled := m.Disabled
	if m.Min != 0 || m.Max != 0 {
		disabled = [TLSv13 + 1]bool{}
	}
	min, max = m.Min, m.Max
	if min == 0 {
		if max == 0 || max >= TLSv12 {
			min = TLSv12
		} else {
			min = max
		}
	}
	return versionRange(min, max, disabled)
}

func versionRange(min, max Version, disabled [TLSv13 + 1]bool) (Version, Version) {
	lo, hi := VersionNone, VersionNone
	for v := SSLv3; v <= TLSv13; v++ {
		if disabled[v] || (min != 0 && v < min) || (max != 0 && v > max) {
			continue
		}
		if lo == 0 {
			lo = v
		}
		hi = v
	}
	return lo, hi
}

var goVersion = [...]uint16{0, tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// context prepares the settings of one SSL context (ssl_sock_prepare_ctx):
// e and conf are nil for the initial context. bySNI contexts take the
// crt-list line's versions.
func (p *prep) context(e *entry, conf *SSLConf, bySNI bool) *ctxConf {
	b := p.bt.opts
	g := p.bt.g
	pick := func(line, bind, global string) string {
		if conf != nil && line != "" {
			return line
		}
		if bind != "" {
			return bind
		}
		return global
	}
	cc := &ctxConf{clientPref: b.PreferClientCiphers}
	// Full records, as OpenSSL writes them without tune.ssl.maxrecord:
	// Go's default starts each connection with records of one segment,
	// a system call each.
	tc := &tls.Config{SessionTicketsDisabled: b.NoTLSTickets, DynamicRecordSizingDisabled: true}
	// versions
	m := b.Methods
	if m.Min == 0 && m.Max == 0 {
		if gm := globalMethods(g.BindOptions); gm != nil {
			for v := range m.Disabled {
				m.Disabled[v] = m.Disabled[v] || gm.Disabled[v]
			}
			m.Min, m.Max = gm.Min, gm.Max
		}
	}
	min, max := bindVersions(m)
	if conf != nil {
		lmin, lmax := conf.Methods.Min, conf.Methods.Max
		if lmin == 0 {
			lmin = min
		}
		if lmax == 0 {
			lmax = max
		}
		if bySNI {
			min, max = versionRange(lmin, lmax, [TLSv13 + 1]bool{})
		} else if l, h := versionRange(lmin, lmax, [TLSv13 + 1]bool{}); l == 0 || h == 0 {
			min = 0
		}
		if min == 0 {
			p.late = append(p.late, lateMsg{core: lateNoVersion})
		}
	} else if min == 0 {
		p.noVersion = true
		return cc
	}
	if max == SSLv3 {
		p.setLimit(&Limitation{Keyword: "ssl-max-ver", Value: "SSLv3", Reason: "SSLv3 is not supported by Go's TLS stack"})
	}
	if min > 0 {
		tc.MinVersion, tc.MaxVersion = goVersion[min], goVersion[max]
	}
	// verify
	verify := b.Verify
	if conf != nil && conf.Verify != "" {
		verify = conf.Verify
	}
	if verify == "optional" || verify == "required" {
		caFile := pick(confField(conf, func(c *SSLConf) string { return c.CAFile }), b.CAFile, "")
		caVerify := pick(confField(conf, func(c *SSLConf) string { return c.CAVerifyFile }), b.CAVerifyFile, "")
		crlFile := pick(confField(conf, func(c *SSLConf) string { return c.CRLFile }), b.CRLFile, "")
		if caFile == "" && caVerify == "" {
			p.late = append(p.late, lateMsg{core: lateVerifyNoCA})
		}
		trust := p.stores[caFile].merge(p.stores[caVerify]).merge(p.stores[crlFile])
		cc.verify = &verifier{store: trust, crlCheck: crlFile != "", caIgn: b.CAIgnoreErr, crtIgn: b.CrtIgnoreErr}
		tc.ClientAuth = tls.RequestClientCert
		if verify == "required" {
			tc.ClientAuth = tls.RequireAnyClientCert
		}
		noNames := b.NoCANames || (conf != nil && conf.NoCANames)
		if caFile != "" && !noNames {
			tc.ClientCAs = p.stores[caFile].pool()
		}
		tc.VerifyConnection = cc.verifyConnection
	}
	// ciphers
	ciphers := pick(confField(conf, func(c *SSLConf) string { return c.Ciphers }), b.Ciphers, g.BindCiphers)
	cstr := ciphers
	if cstr == "" {
		cstr = "DEFAULT"
	}
	list, ok := parseCiphers(cstr)
	if !ok {
		p.late = append(p.late, lateMsg{core: fmt.Sprintf(lateCiphers, ciphers)})
	} else {
		var dropped []string
		for _, c := range list {
			if goSuites[c.id] {
				cc.prefs = append(cc.prefs, c)
				tc.CipherSuites = append(tc.CipherSuites, c.id)
			} else {
				dropped = append(dropped, c.name)
			}
		}
		if ciphers != "" && len(dropped) > 0 {
			p.warnf("ciphers '%s': %s not available in Go's TLS stack, ignored", ciphers, strings.Join(dropped, ", "))
		}
		if len(cc.prefs) == 0 && min > 0 && min <= TLSv12 {
			p.setLimit(&Limitation{Keyword: "ciphers", Value: ciphers, Reason: "none of the selected ciphers is available in Go's TLS stack (Go has no DHE, CCM, CAMELLIA, ARIA, PSK or SRP suites)"})
		}
	}
	suites := pick(confField(conf, func(c *SSLConf) string { return c.Ciphersuites }), b.Ciphersuites, g.BindCiphersuites)
	if o := tls13Order(suites); o != nil && max == TLSv13 && !slices.ContainsFunc(p.bt.TLS13, func(x []uint16) bool { return slices.Equal(x, o) }) {
		p.bt.TLS13 = append(p.bt.TLS13, o)
	}
	if suites != "" {
		if _, missing, ok := parseCiphersuites(suites); !ok {
			p.late = append(p.late, lateMsg{core: fmt.Sprintf(lateCiphersuites, suites)})
		} else if len(missing) > 0 && max == TLSv13 {
			p.setLimit(&Limitation{Keyword: "ciphersuites", Value: suites, Reason: "Go's TLS 1.3 always offers TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 and cannot leave out " + strings.Join(missing, ", ")})
		}
	}
	// curves: only the bind line's apply, as OpenSSL keeps the groups of
	// the initial context when the certificate context is switched; a
	// crt-list line's are still checked.
	bindCurves := b.Curves
	if bindCurves == "" {
		bindCurves = g.BindCurves
	}
	effective := bindCurves
	if effective == "" {
		effective = b.Ecdhe
	}
	curves, curveMsg := bindCurves, lateCurves
	if conf != nil && conf.Curves != "" {
		curves = conf.Curves
	}
	if curves == "" {
		curves, curveMsg = b.Ecdhe, lateEcdhe
		if conf != nil && conf.Ecdhe != "" {
			curves = conf.Ecdhe
		}
	}
	if curves != "" {
		ids, dropped, ok := parseCurves(curves)
		switch {
		case !ok:
			p.late = append(p.late, lateMsg{core: fmt.Sprintf(curveMsg, curves)})
		case len(ids) == 0:
			p.setLimit(&Limitation{Keyword: "curves", Value: curves, Reason: "none of these groups is available in Go's TLS stack (Go has X25519, P-256, P-384 and P-521)"})
		case len(dropped) > 0:
			p.warnf("curves '%s': %s not available in Go's TLS stack, ignored", curves, strings.Join(dropped, ", "))
		}
	}
	if effective != "" {
		cc.curves, _, _ = parseCurves(effective)
	}
	tc.CurvePreferences = cc.curves
	// alpn
	alpn := b.ALPN
	if conf != nil && conf.ALPN != nil {
		alpn = conf.ALPN
	}
	tc.NextProtos = alpn
	if conf != nil && conf.NPN != "" {
		p.setLimit(&Limitation{Keyword: "npn", Value: conf.NPN, Reason: "npn is not supported: Go's TLS stack implements ALPN only, use 'alpn'"})
	}
	// session lifetime
	lifetime := g.lifetime()
	if b.NoTLSTickets && g.cacheSize() > 0 {
		// Stateful tickets for TLS 1.3; TLS 1.2 handshakes take the
		// variant without tickets (forHello).
		cc.stateful = true
		tc.SessionTicketsDisabled = false
		tc.WrapSession = func(_ tls.ConnectionState, ss *tls.SessionState) ([]byte, error) { return sessions.put(ss) }
		tc.UnwrapSession = func(identity []byte, _ tls.ConnectionState) (*tls.SessionState, error) {
			return sessions.get(identity, lifetime), nil
		}
	} else {
		p.wrapTickets(tc, lifetime)
	}
	if e != nil {
		tc.Certificates = []tls.Certificate{*e.ck.sent()}
		if e.ck.ocsp.Load() != nil {
			// The staple can change at run time ("set ssl
			// ocsp-response") and expires: picked per handshake.
			tc.Certificates, tc.GetCertificate = nil, e.ck.serve
		}
		cc.kind = e.ck.kind
	}
	cc.base = tc
	return cc
}

// wrapTickets makes tc's tickets stateless, encrypted with the bind's
// keys and dated, so that those older than lifetime are not resumed.
func (p *prep) wrapTickets(tc *tls.Config, lifetime time.Duration) {
	tc.SetSessionTicketKeys(p.bt.keys)
	tc.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], uint64(time.Now().Unix()))
		ss.Extra = append(ss.Extra, ts[:])
		return tc.EncryptTicket(cs, ss)
	}
	tc.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := tc.DecryptTicket(identity, cs)
		if ss == nil || err != nil {
			return nil, nil
		}
		if len(ss.Extra) == 0 || len(ss.Extra[len(ss.Extra)-1]) != 8 {
			return nil, nil
		}
		at := int64(binary.BigEndian.Uint64(ss.Extra[len(ss.Extra)-1]))
		if time.Since(time.Unix(at, 0)) > lifetime {
			return nil, nil
		}
		ss.Extra = ss.Extra[:len(ss.Extra)-1]
		return ss, nil
	}
}

func (p *prep) setLimit(l *Limitation) {
	if p.limit == nil {
		p.limit = l
	}
}

func confField(c *SSLConf, f func(*SSLConf) string) string {
	if c == nil {
		return ""
	}
	return f(c)
}

// globalMethods reads the version words of ssl-default-bind-options or
// ssl-default-server-options.
func globalMethods(words []string) *Methods {
	if len(words) == 0 {
		return nil
	}
	m := &Methods{}
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "ssl-min-ver", "ssl-max-ver":
			if i+1 < len(words) {
				parseMinMax(words[i], words[i+1], m)
				i++
			}
		default:
			parseMethodOption(words[i], m)
		}
	}
	return m
}

// forHello returns the config for one handshake: OpenSSL picks the TLS
// <= 1.2 cipher by server preference (Go by its own), and answers without
// ALPN when no protocol overlaps (Go would fail the handshake).
func (cc *ctxConf) forHello(chi *tls.ClientHelloInfo) *tls.Config {
	var key variantKey
	if len(cc.base.NextProtos) > 0 && len(chi.SupportedProtos) > 0 {
		key.noALPN = true
		for _, p := range cc.base.NextProtos {
			if contains(chi.SupportedProtos, p) {
				key.noALPN = false
				break
			}
		}
	}
	vers := cc.version(chi)
	key.suite = cc.chooseSuite(chi, vers)
	key.noTickets = cc.stateful && vers != tls.VersionTLS13
	if key == (variantKey{}) {
		return cc.base
	}
	if v, ok := cc.variants.Load(key); ok {
		return v.(*tls.Config)
	}
	c := cc.base.Clone()
	if key.noALPN {
		c.NextProtos = nil
	}
	if key.suite != 0 {
		c.CipherSuites = []uint16{key.suite}
	}
	if key.noTickets {
		c.SessionTicketsDisabled = true
	}
	v, _ := cc.variants.LoadOrStore(key, c)
	return v.(*tls.Config)
}

// version is the version the handshake will use, 0 if none fits.
func (cc *ctxConf) version(chi *tls.ClientHelloInfo) uint16 {
	vers := uint16(0)
	for _, v := range chi.SupportedVersions {
		if v >= cc.base.MinVersion && v <= cc.base.MaxVersion && v > vers {
			vers = v
		}
	}
	return vers
}

// chooseSuite applies ssl3_choose_cipher for a TLS <= 1.2 handshake
// (vers), or returns 0 when TLS 1.3 will be used or nothing fits.
func (cc *ctxConf) chooseSuite(chi *tls.ClientHelloInfo, vers uint16) uint16 {
	if vers == 0 || vers == tls.VersionTLS13 {
		return 0
	}
	curves := cc.curves
	if curves == nil {
		curves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}
	}
	ecdheOK := false
	for _, c := range chi.SupportedCurves {
		for _, o := range curves {
			ecdheOK = ecdheOK || c == o
		}
	}
	usable := func(c *cipherInfo) bool {
		if c.ver == "TLSv1.2" && vers < tls.VersionTLS12 {
			return false
		}
		if c.kx == "ECDH" && !ecdheOK {
			return false
		}
		switch c.au {
		case "ECDSA":
			return cc.kind == keyECDSA
		case "RSA":
			return cc.kind == keyRSA
		}
		return false
	}
	offered := map[uint16]bool{}
	var first *cipherInfo
	for _, id := range chi.CipherSuites {
		offered[id] = true
		if c, ok := cipherByID[id]; ok && first == nil {
			first = c
		}
	}
	order := cc.prefs
	if cc.clientPref {
		order = nil
		for _, id := range chi.CipherSuites {
			for _, c := range cc.prefs {
				if c.id == id {
					order = append(order, c)
				}
			}
		}
	} else if first != nil && first.enc == "CHACHA20/POLY1305" {
		// SSL_OP_PRIORITIZE_CHACHA: the client prefers ChaCha20.
		var cha, rest []*cipherInfo
		for _, c := range order {
			if c.enc == "CHACHA20/POLY1305" {
				cha = append(cha, c)
			} else {
				rest = append(rest, c)
			}
		}
		order = append(cha, rest...)
	}
	for _, c := range order {
		if offered[c.id] && usable(c) {
			return c.id
		}
	}
	return 0
}

// errWrongCurve refuses a client key on a curve the bind does not offer.
var errWrongCurve = errors.New("ssl: client certificate key on a curve the bind does not accept (wrong curve)")

// verifyConnection verifies a client's certificate, after OpenSSL's TLS
// 1.2 check (tls12_check_peer_sigalg) that an EC key is on one of the
// bind's curves: with "curves" or "ecdhe", a client key on another curve
// fails the handshake.
func (cc *ctxConf) verifyConnection(cs tls.ConnectionState) error {
	if cs.Version <= tls.VersionTLS12 && cc.curves != nil && len(cs.PeerCertificates) > 0 {
		if k, ok := cs.PeerCertificates[0].PublicKey.(*ecdsa.PublicKey); ok {
			if id, known := curveOf(k.Curve); known && !slices.Contains(cc.curves, id) {
				return errWrongCurve
			}
		}
	}
	return cc.verify.verifyConnection(cs)
}

// curveOf is the TLS group of an ECDSA key's curve.
func curveOf(c elliptic.Curve) (tls.CurveID, bool) {
	switch c {
	case elliptic.P256():
		return tls.CurveP256, true
	case elliptic.P384():
		return tls.CurveP384, true
	case elliptic.P521():
		return tls.CurveP521, true
	}
	return 0, false
}
