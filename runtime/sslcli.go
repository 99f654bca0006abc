package runtime

import (
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/ssl"
)

// certStore is the graph's certificate store, made on first use; nil for
// no graph.
func (g *Graph) certStore(cfg *parser.Config) *ssl.Store {
	if g == nil {
		return nil
	}
	if g.certs == nil {
		g.certs = ssl.NewStore()
		g.certs.DelExt = cfg.Global.SSL.LoadExtraDelExt
		g.certs.SkipSelfIssuedCA = cfg.Global.SSL.SkipSelfIssuedCA
		g.certs.Issuers = cfg.Global.SSL.Issuers
		g.certs.Globals = sslGlobals(&cfg.Global)
	}
	return g.certs
}

// CertCommand answers the "ssl cert" commands of the CLI.
func (s cliSource) CertCommand(verb, path, payload string, hasPayload bool) string {
	st := s.e.g.certs
	if st == nil {
		st = ssl.NewStore()
	}
	return st.CLI(verb, path, payload, hasPayload)
}

// releaseCert drops a deleted server's use of its client certificate.
func (s cliSource) releaseCert(be *Backend, srv *backend.Server) {
	if t := be.tls.get(srv); t != nil {
		s.e.g.certs.Release(t.cfg)
	}
}

// CAFileCommand answers the "ssl ca-file" and "ssl crl-file" commands.
func (s cliSource) CAFileCommand(crl bool, verb, path, payload string, hasPayload bool) string {
	st := s.e.g.certs
	if st == nil {
		st = ssl.NewStore()
	}
	return st.CAFileCLI(crl, verb, path, payload, hasPayload)
}

// CrtListCommand answers "add|del|show ssl crt-list".
func (s cliSource) CrtListCommand(verb string, args []string, payload string, hasPayload bool) string {
	st := s.e.g.certs
	if st == nil {
		st = ssl.NewStore()
	}
	return st.CrtListCLI(verb, args, payload, hasPayload, st.Globals)
}

// OCSPCommand answers "show|set ssl ocsp-response".
func (s cliSource) OCSPCommand(verb, arg, payload string, hasPayload bool) string {
	st := s.e.g.certs
	if st == nil {
		st = ssl.NewStore()
	}
	return st.OCSPCLI(verb, arg, payload, hasPayload)
}

// TLSKeysCommand answers "show tls-keys" and "set ssl tls-key".
func (s cliSource) TLSKeysCommand(verb, arg, key string) string {
	st := s.e.g.certs
	if st == nil {
		st = ssl.NewStore()
	}
	return st.TLSKeysCLI(verb, arg, key)
}
