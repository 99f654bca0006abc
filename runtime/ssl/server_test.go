package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustServer(t *testing.T, words string, g *Globals) *ServerTLS {
	t.Helper()
	s, err := ParseServerOptions(strings.Fields(words), g)
	if err != nil {
		t.Fatal(err)
	}
	st, err := LoadServerConfig(s, g)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// dialServer connects with cfg and returns the client's handshake state.
func dialServer(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	c := tls.Client(raw, cfg)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

func TestServerSide(t *testing.T) {
	p := newPKI(t)
	srv := p.issue("srv.pem", certSpec{cn: "srv", dns: []string{"*.example.com"}})
	client := p.issue("client.pem", certSpec{cn: "client", client: true, ecdsa: true})
	kp, err := tls.LoadX509KeyPair(srv, srv)
	if err != nil {
		t.Fatal(err)
	}
	var gotClient []*x509.Certificate
	sc := &tls.Config{Certificates: []tls.Certificate{kp}, ClientAuth: tls.RequestClientCert, NextProtos: []string{"h2", "http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error { gotClient = cs.PeerCertificates; return nil }}
	addr := serveTLS(t, sc)
	ca := filepath.Join(p.dir, "ca.pem")

	st := mustServer(t, "ssl ca-file "+ca+" crt "+client+" alpn http/1.1", nil)
	cs, err := dialServer(addr, st.Config("www.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if cs.NegotiatedProtocol != "http/1.1" || len(gotClient) == 0 || gotClient[0].Subject.CommonName != "client" {
		t.Errorf("alpn %q, client cert %v", cs.NegotiatedProtocol, gotClient)
	}
	if cs, err = dialServer(addr, st.Config("www.example.com")); err != nil || !cs.DidResume {
		t.Errorf("second connection: %v resumed=%v", err, cs.DidResume)
	}
	if _, err := dialServer(addr, st.Config("www.other.org")); err == nil {
		t.Error("name mismatch accepted")
	}
	if _, err := dialServer(addr, st.Config("")); err != nil {
		t.Errorf("no SNI and no verifyhost: %v", err)
	}
	vh := mustServer(t, "ssl ca-file "+ca+" verifyhost nope.org", nil)
	if _, err := dialServer(addr, vh.Config("")); err == nil {
		t.Error("verifyhost mismatch accepted")
	}
	noReuse := mustServer(t, "ssl verify none no-ssl-reuse", nil)
	dialServer(addr, noReuse.Config("a.example.com"))
	if cs, err := dialServer(addr, noReuse.Config("a.example.com")); err != nil || cs.DidResume {
		t.Errorf("no-ssl-reuse: %v resumed=%v", err, cs.DidResume)
	}
	other := newPKI(t)
	wrongCA := mustServer(t, "ssl ca-file "+filepath.Join(other.dir, "ca.pem"), nil)
	if _, err := dialServer(addr, wrongCA.Config("a.example.com")); err == nil {
		t.Error("untrusted server certificate accepted")
	}
	if _, err := LoadServerConfig(&ServerOptions{SSL: true}, nil); err == nil || err.Error() != srvVerifyNoCADefault {
		t.Errorf("default verify without CA: %v", err)
	}
	if _, err := LoadServerConfig(&ServerOptions{SSL: true}, &Globals{ServerVerify: "none"}); err != nil {
		t.Errorf("ssl-server-verify none: %v", err)
	}
	// HAProxy picks the message from the global default alone.
	if _, err := LoadServerConfig(&ServerOptions{SSL: true, Verify: "required"}, nil); err == nil || err.Error() != srvVerifyNoCADefault {
		t.Errorf("verify required without CA: %v", err)
	}
	if _, err := LoadServerConfig(&ServerOptions{SSL: true, Verify: "required"}, &Globals{ServerVerify: "none"}); err == nil || err.Error() != srvVerifyNoCA {
		t.Errorf("verify required without CA under ssl-server-verify none: %v", err)
	}
	if st.Config("x.example.com") != st.Config("x.example.com") {
		t.Error("per-SNI configs are not cached")
	}
}

func TestHostcheck(t *testing.T) {
	for _, c := range []struct {
		pattern, host string
		ok            bool
	}{
		{"www.example.com", "WWW.example.com", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"a*.example.com", "abc.example.com", true},
		{"a*.example.com", "bc.example.com", false},
		{"*b.example.com", "ab.example.com", true},
		{"*b.example.com", "b.example.com", true},
		{"**.example.com", "a.example.com", false},
		{"example.*", "example.com", false},
	} {
		if got := hostcheck(c.pattern, c.host); got != c.ok {
			t.Errorf("hostcheck(%q, %q) = %v", c.pattern, c.host, got)
		}
	}
}

// TestServerExpiredCertResumes: a "verify none" server whose certificate
// has expired resumes its session, as OpenSSL's client resumes it (Go's
// own check of the cached certificate's date would refuse), in TLS 1.2
// and 1.3; a verified server keeps the verdict of its first handshake.
func TestServerExpiredCertResumes(t *testing.T) {
	p := newPKI(t)
	old := p.issue("old.pem", certSpec{cn: "old", expired: true})
	kp, err := tls.LoadX509KeyPair(old, old)
	if err != nil {
		t.Fatal(err)
	}
	for _, max := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{kp}, MaxVersion: max})
		st := mustServer(t, "ssl verify none", nil)
		if cs, err := dialServer(addr, st.Config("old.example.com")); err != nil || cs.DidResume {
			t.Fatalf("%x first connection: %v resumed=%v", max, err, cs.DidResume)
		}
		if cs, err := dialServer(addr, st.Config("old.example.com")); err != nil || !cs.DidResume {
			t.Errorf("%x second connection: %v resumed=%v", max, err, cs.DidResume)
		}
	}
}

// TestServerDefaultCiphers: a server without "ciphers" offers OpenSSL's
// default list as HAProxy does, which has the RSA key exchange that Go's
// own default leaves out and that older servers need.
func TestServerDefaultCiphers(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("rsa.pem", certSpec{cn: "rsa"})
	kp, err := tls.LoadX509KeyPair(crt, crt)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{kp}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_256_GCM_SHA384}})
	st := mustServer(t, "ssl verify none", nil)
	cs, err := dialServer(addr, st.Config(""))
	if err != nil || cs.CipherSuite != tls.TLS_RSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("RSA key exchange server: %v, suite %x", err, cs.CipherSuite)
	}
	// A list of the user's is the list offered.
	st = mustServer(t, "ssl verify none ciphers ECDHE-RSA-AES128-GCM-SHA256", nil)
	if _, err := dialServer(addr, st.Config("")); err == nil {
		t.Error("a suite left out of ciphers was negotiated")
	}
}
