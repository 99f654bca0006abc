package ssl

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serveConns runs handle on each TLS connection accepted with cfg on
// loopback until the test ends, and returns the address.
func serveConns(t *testing.T, cfg *tls.Config, handle func(*tls.Conn)) string {
	return serveRaw(t, func(c net.Conn) { handle(tls.Server(c, cfg)) })
}

// serveRaw runs handle on each connection accepted on loopback until the
// test ends, within 5 seconds, and returns the address.
func serveRaw(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// serveTLS completes each handshake, writes one byte and waits for the
// client to close (closing first could reset the connection).
func serveTLS(t *testing.T, cfg *tls.Config) string {
	return serveConns(t, cfg, func(c *tls.Conn) {
		if c.Handshake() == nil {
			c.Write([]byte("x"))
			io.Copy(io.Discard, c)
		}
	})
}

// handshake dials addr and returns the client's view of the handshake.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

func mustBind(t *testing.T, words string, g *Globals) *BindTLS {
	t.Helper()
	b, err := ParseBindOptions(strings.Fields(words), g)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := LoadBindConfig(b, g)
	if err != nil {
		t.Fatal(err)
	}
	return bt
}

func leafCN(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return cs.PeerCertificates[0].Subject.CommonName
}

func TestSNISelection(t *testing.T) {
	p := newPKI(t)
	p.issue("certs/01-default.pem", certSpec{cn: "default.test"})
	p.issue("certs/02-wild.pem", certSpec{cn: "*.example.com", ecdsa: true})
	p.issue("certs/03-b.pem", certSpec{cn: "b-cn", dns: []string{"b.example.com", "B2.Example.org"}})
	p.issue("certs/04-wildrsa.pem", certSpec{cn: "wildrsa", dns: []string{"*.example.com"}, rsaIndex: 1})
	p.write("certs/.hidden.pem", []byte("junk"))
	p.write("certs/05-b.pem.key", []byte("junk"))
	bt := mustBind(t, "ssl crt "+p.dir+"/certs", nil)
	addr := serveTLS(t, bt.Config)
	cases := []struct {
		sni, want string
		rsaOnly   bool
	}{
		// HAProxy collects exact and wildcard matches, then prefers ECDSA.
		{"b.example.com", "*.example.com", false},
		{"B.EXAMPLE.COM", "b-cn", true},
		{"b2.example.org", "b-cn", false},
		{"x.example.com", "*.example.com", false},
		{"x.example.com", "wildrsa", true},
		{"a.b.example.com", "default.test", false},
		{"example.com", "default.test", false},
		{"", "default.test", false},
	}
	for _, c := range cases {
		cfg := &tls.Config{ServerName: c.sni, InsecureSkipVerify: true}
		if c.rsaOnly {
			cfg.MaxVersion = tls.VersionTLS12
			cfg.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
		}
		cs, err := handshake(addr, cfg)
		if err != nil {
			t.Errorf("%q: %v", c.sni, err)
			continue
		}
		if got := leafCN(cs); got != c.want {
			t.Errorf("sni %q rsaOnly=%v: got %q, want %q", c.sni, c.rsaOnly, got, c.want)
		}
	}
	strict := mustBind(t, "ssl strict-sni crt "+p.dir+"/certs", nil)
	saddr := serveTLS(t, strict.Config)
	if _, err := handshake(saddr, &tls.Config{ServerName: "nope.test", InsecureSkipVerify: true}); err == nil {
		t.Error("strict-sni accepted an unknown name")
	}
	if _, err := handshake(saddr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		t.Error("strict-sni accepted a hello without SNI")
	}
	if cs, err := handshake(saddr, &tls.Config{ServerName: "b2.example.org", InsecureSkipVerify: true}); err != nil || leafCN(cs) != "b-cn" {
		t.Errorf("strict-sni known name: %v %q", err, leafCN(cs))
	}
}

func TestCrtListFilters(t *testing.T) {
	p := newPKI(t)
	def := p.issue("def.pem", certSpec{cn: "def"})
	wild := p.issue("wild.pem", certSpec{cn: "wild", dns: []string{"*.example.com"}, ecdsa: true})
	other := p.issue("other.pem", certSpec{cn: "other", rsaIndex: 2})
	list := p.write("list", []byte("# comment\n"+def+"\n"+
		wild+" [alpn h2,http/1.1 ssl-min-ver TLSv1.3] *.example.com !bad.example.com\n\n"+
		filepath.Base(other)+" [alpn http/1.1] bad.example.com other.test\n"))
	bt := mustBind(t, "ssl crt-list "+list, &Globals{CrtBase: p.dir})
	addr := serveTLS(t, bt.Config)
	cases := []struct {
		sni, want, alpn string
		max             uint16
		fail            bool
	}{
		{"x.example.com", "wild", "h2", 0, false},
		{"bad.example.com", "other", "http/1.1", 0, false},
		{"other.test", "other", "http/1.1", 0, false},
		{"x.example.com", "", "", tls.VersionTLS12, true}, // line forces TLSv1.3
		{"nomatch.test", "def", "", tls.VersionTLS12, false},
	}
	for _, c := range cases {
		cs, err := handshake(addr, &tls.Config{ServerName: c.sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}, MaxVersion: c.max})
		if c.fail {
			if err == nil {
				t.Errorf("%q: handshake succeeded", c.sni)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.sni, err)
			continue
		}
		if leafCN(cs) != c.want || cs.NegotiatedProtocol != c.alpn {
			t.Errorf("%q: got %q/%q, want %q/%q", c.sni, leafCN(cs), cs.NegotiatedProtocol, c.want, c.alpn)
		}
	}
}

func TestVersionsCiphersALPN(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("rsa.pem", certSpec{cn: "rsa"})
	bt := mustBind(t, "ssl crt "+crt+" ssl-max-ver TLSv1.2 ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256 alpn h2,http/1.1", nil)
	if len(bt.Warnings) != 1 || !strings.Contains(bt.Warnings[0], "DHE-RSA-AES128-GCM-SHA256") {
		t.Errorf("warnings: %q", bt.Warnings)
	}
	addr := serveTLS(t, bt.Config)
	cases := []struct {
		suites []uint16
		protos []string
		cipher string
		alpn   string
	}{
		{[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, []string{"http/1.1", "h2"}, "ECDHE-RSA-AES256-GCM-SHA384", "h2"},
		{[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}, []string{"spdy/3"}, "ECDHE-RSA-CHACHA20-POLY1305", ""},
		{[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, nil, "ECDHE-RSA-AES128-GCM-SHA256", ""},
	}
	for _, c := range cases {
		cs, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, CipherSuites: c.suites, NextProtos: c.protos})
		if err != nil {
			t.Errorf("%v: %v", c.suites, err)
			continue
		}
		ci := NewConnInfo(cs)
		if ci.Cipher != c.cipher || ci.ALPN != c.alpn || ci.Protocol != "TLSv1.2" {
			t.Errorf("got %+v, want %s %s", ci, c.cipher, c.alpn)
		}
	}
	if _, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}); err == nil {
		t.Error("handshake with no shared cipher succeeded")
	}
	if _, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}); err == nil {
		t.Error("TLS 1.3 accepted with ssl-max-ver TLSv1.2")
	}
	// HAProxy's default minimum is TLSv1.2.
	def := mustBind(t, "ssl crt "+crt, nil)
	daddr := serveTLS(t, def.Config)
	if _, err := handshake(daddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted by default")
	}
	if cs, err := handshake(daddr, &tls.Config{InsecureSkipVerify: true}); err != nil || NewConnInfo(cs).Protocol != "TLSv1.3" {
		t.Errorf("default: %v %+v", err, NewConnInfo(cs))
	}
}

func TestClientVerify(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("srv.pem", certSpec{cn: "srv"})
	good := p.issue("good.pem", certSpec{cn: "client1", client: true, ecdsa: true})
	expired := p.issue("expired.pem", certSpec{cn: "old", client: true, expired: true, ecdsa: true})
	revoked := p.issue("revoked.pem", certSpec{cn: "revoked", client: true, ecdsa: true})
	crl := p.crl("crl.pem", revoked)
	crl1 := p.crlV1("crl1.pem", revoked)
	other := newPKI(t)
	stranger := other.issue("stranger.pem", certSpec{cn: "stranger", client: true, ecdsa: true})
	load := func(path string) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(path, path)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	ca := filepath.Join(p.dir, "ca.pem")
	type tc struct {
		cert string
		ok   bool
		code int
	}
	run := func(words string, cases []tc) {
		bt := mustBind(t, "ssl crt "+crt+" ca-file "+ca+" "+words, nil)
		got := make(chan tls.ConnectionState, 1)
		addr := serveConns(t, bt.Config, func(c *tls.Conn) {
			if c.Handshake() == nil {
				got <- c.ConnectionState()
				c.Write([]byte("x"))
				io.Copy(io.Discard, c)
			}
		})
		for _, c := range cases {
			cfg := &tls.Config{InsecureSkipVerify: true}
			if c.cert != "" {
				cfg.Certificates = load(c.cert)
			}
			_, err := handshake(addr, cfg)
			if (err == nil) != c.ok {
				t.Errorf("%s with %s: err=%v, want ok=%v", words, filepath.Base(c.cert), err, c.ok)
				continue
			}
			if err != nil {
				continue
			}
			r := bt.ClientVerify(<-got)
			if r.Verify != c.code || r.Used != (c.cert != "") {
				t.Errorf("%s with %s: verify result %+v, want code %d", words, filepath.Base(c.cert), r, c.code)
			}
		}
	}
	run("verify required", []tc{{good, true, 0}, {"", false, 0}, {expired, false, 0}, {stranger, false, 0}})
	run("verify optional", []tc{{good, true, 0}, {"", true, 0}, {expired, false, 0}})
	run("verify optional crt-ignore-err 10", []tc{{expired, true, X509CertHasExpired}, {stranger, false, 0}})
	run("verify optional crt-ignore-err all", []tc{{stranger, true, X509UnableToGetIssuerCertLocal}})
	run("verify required crl-file "+crl, []tc{{good, true, 0}, {revoked, false, 0}})
	run("verify required crl-file "+crl+" crt-ignore-err 23", []tc{{revoked, true, X509CertRevoked}})
	// A version 1 CRL, which Go's own parser refuses.
	run("verify required crl-file "+crl1, []tc{{good, true, 0}, {revoked, false, 0}})
}

func TestReload(t *testing.T) {
	p := newPKI(t)
	path := p.issue("site.pem", certSpec{cn: "first"})
	bt := mustBind(t, "ssl crt "+path, nil)
	addr := serveTLS(t, bt.Config)
	cs, err := handshake(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil || leafCN(cs) != "first" {
		t.Fatalf("before reload: %v %q", err, leafCN(cs))
	}
	p.issue("site.pem", certSpec{cn: "second", ecdsa: true})
	if err := bt.Reload(); err != nil {
		t.Fatal(err)
	}
	cs, err = handshake(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil || leafCN(cs) != "second" {
		t.Fatalf("after reload: %v %q", err, leafCN(cs))
	}
	os.WriteFile(path, []byte("broken"), 0o600)
	var e *Error
	if err := bt.Reload(); !errors.As(err, &e) {
		t.Fatalf("reload of a broken file: %v", err)
	}
	if cs, err = handshake(addr, &tls.Config{InsecureSkipVerify: true}); err != nil || leafCN(cs) != "second" {
		t.Fatalf("after failed reload: %v %q", err, leafCN(cs))
	}
}

// TestSessionTickets: sessions resume through stateless tickets, and
// under no-tls-tickets through the session cache in TLS 1.3 only (the
// tickets are then keys into it, as OpenSSL's stateful tickets are); a
// TLS 1.2 handshake then gets no ticket, and tune.ssl.cachesize 0 leaves
// no way to resume.
func TestSessionTickets(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("rsa.pem", certSpec{cn: "rsa"})
	for _, c := range []struct {
		words  string
		g      *Globals
		resume bool
	}{
		{"", nil, true},
		{"ssl-max-ver TLSv1.2", nil, true},
		{"no-tls-tickets", nil, true},
		{"no-tls-tickets ssl-max-ver TLSv1.2", nil, false},
		{"no-tls-tickets", &Globals{CacheSize: -1}, false},
		{"", &Globals{CacheSize: -1}, true},
	} {
		bt := mustBind(t, "ssl crt "+crt+" "+c.words, c.g)
		addr := serveTLS(t, bt.Config)
		cache := &countingCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		cfg := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: cache}
		if _, err := handshake(addr, cfg); err != nil {
			t.Fatal(err)
		}
		// TLS 1.3 tickets come after the handshake; one round trip gets them.
		cs, err := handshake(addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if cs.DidResume != c.resume || (cache.puts.Load() > 0) != c.resume {
			t.Errorf("%q %+v: resumed=%v, %d sessions given", c.words, c.g, cs.DidResume, cache.puts.Load())
		}
		if c.words == "no-tls-tickets" && c.g == nil {
			// The ticket is only the key of the session kept here.
			st, _ := cache.Get(cache.key)
			if st == nil {
				t.Fatal("no session kept")
			}
			ticket, _, err := st.ResumptionState()
			if err != nil || len(ticket) != 32 {
				t.Errorf("stateful ticket of %d bytes (%v), want a 32-byte key", len(ticket), err)
			}
		}
	}
	for _, words := range []string{"", "no-tls-tickets"} {
		short := mustBind(t, "ssl crt "+crt+" "+words, &Globals{Lifetime: time.Nanosecond})
		addr := serveTLS(t, short.Config)
		cfg := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		handshake(addr, cfg)
		if cs, err := handshake(addr, cfg); err != nil || cs.DidResume {
			t.Errorf("%q: tune.ssl.lifetime not applied: %v resumed=%v", words, err, cs.DidResume)
		}
	}
	short := mustBind(t, "ssl crt "+crt, &Globals{Lifetime: time.Nanosecond})
	addr := serveTLS(t, short.Config)
	cfg := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	handshake(addr, cfg)
	if cs, err := handshake(addr, cfg); err != nil || cs.DidResume {
		t.Errorf("tune.ssl.lifetime not applied: %v resumed=%v", err, cs.DidResume)
	}
}

// countingCache counts the sessions a server gave the client.
type countingCache struct {
	tls.ClientSessionCache
	puts atomic.Int32
	key  string
}

func (c *countingCache) Put(key string, cs *tls.ClientSessionState) {
	if cs != nil {
		c.puts.Add(1)
		c.key = key
	}
	c.ClientSessionCache.Put(key, cs)
}

// TestBundle: a crt (or crt-list line) naming no file loads the bundle
// beside it, <path>.dsa/.ecdsa/.rsa, each a certificate of its own picked
// by the client's algorithms as HAProxy picks it; with none of them it is
// HAProxy's stat error.
func TestBundle(t *testing.T) {
	p := newPKI(t)
	p.issue("site.pem.rsa", certSpec{cn: "rsa", dns: []string{"site.test"}})
	p.issue("site.pem.ecdsa", certSpec{cn: "ecdsa", dns: []string{"site.test"}, ecdsa: true})
	base := filepath.Join(p.dir, "site.pem")
	list := filepath.Join(p.dir, "list.txt")
	os.WriteFile(list, []byte(base+" site.test\n"), 0o600)
	ecdsaSuite := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	rsaSuite := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	for _, words := range []string{"ssl crt " + base, "ssl crt-list " + list} {
		bt := mustBind(t, words, nil)
		addr := serveTLS(t, bt.Config)
		for _, c := range []struct {
			suites []uint16
			want   string
		}{{ecdsaSuite, "ecdsa"}, {rsaSuite, "rsa"}} {
			cs, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", MaxVersion: tls.VersionTLS12, CipherSuites: c.suites})
			if err != nil || leafCN(cs) != c.want {
				t.Errorf("%q: %v served %q, want %q", words, err, leafCN(cs), c.want)
			}
		}
	}
	b, err := ParseBindOptions(strings.Fields("ssl crt "+filepath.Join(p.dir, "none.pem")), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadBindConfig(b, nil)
	if want := "unable to stat SSL certificate from file '" + filepath.Join(p.dir, "none.pem") + "' : No such file or directory."; err == nil || err.Error() != want {
		t.Errorf("no bundle: %v, want %q", err, want)
	}
}

// TestClientKeyCurve: with curves (or ecdhe) on the bind, a TLS 1.2
// client whose certificate key is on another curve fails the handshake,
// as OpenSSL refuses it ("wrong curve"); TLS 1.3 and binds without the
// setting take it.
func TestClientKeyCurve(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("srv.pem", certSpec{cn: "srv"})
	cli := p.issue("cli.pem", certSpec{cn: "cli", client: true, ecdsa: true}) // P-256
	kp, err := tls.LoadX509KeyPair(cli, cli)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(p.dir, "ca.pem")
	for _, c := range []struct {
		words string
		max   uint16
		ok    bool
	}{
		{"curves P-384", tls.VersionTLS12, false},
		{"ecdhe secp384r1", tls.VersionTLS12, false},
		{"curves P-384:P-256", tls.VersionTLS12, true},
		{"curves P-384", tls.VersionTLS13, true},
		{"", tls.VersionTLS12, true},
	} {
		bt := mustBind(t, "ssl crt "+crt+" verify optional ca-file "+ca+" "+c.words, nil)
		addr := serveTLS(t, bt.Config)
		_, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: c.max, Certificates: []tls.Certificate{kp},
			CurvePreferences: []tls.CurveID{tls.CurveP384, tls.CurveP256}})
		if (err == nil) != c.ok {
			t.Errorf("%q TLS %x: %v", c.words, c.max, err)
		}
	}
}
