package ssl

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspFor makes a response of p's CA about serial.
func (p *pki) ocspFor(serial *big.Int, status int, this, next time.Time) []byte {
	p.t.Helper()
	tpl := ocsp.Response{Status: status, SerialNumber: serial, ThisUpdate: this, NextUpdate: next}
	if status == ocsp.Revoked {
		tpl.RevokedAt = this
	}
	der, err := ocsp.CreateResponse(p.caCert, p.caCert, tpl, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	return der
}

// stapleFrom is the staple a client asking for one gets from addr.
func stapleFrom(t *testing.T, addr string) []byte {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Read(make([]byte, 1))
	return c.ConnectionState().OCSPResponse
}

// ssl_sock_load_ocsp's rules: the issuer comes from the chain or
// <file>.issuer, a response that fails the checks is ignored with
// HAProxy's warning, one close to its nextUpdate is loaded but not sent.
func TestOCSPLoadRules(t *testing.T) {
	now := time.Now()
	hour := time.Hour
	cases := []struct {
		name      string
		resp      func(p *pki, serial *big.Int) []byte
		issuer    string // "file", "chain", "wrong" or none
		staple    bool
		warn, err string
	}{
		{name: "none", resp: nil},
		{name: "issuer file", issuer: "file", staple: true,
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(-hour), now.Add(hour)) }},
		{name: "issuer in chain", issuer: "chain", staple: true,
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Revoked, now.Add(-hour), now.Add(hour)) }},
		{name: "no issuer", err: "is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(-hour), now.Add(hour)) }},
		{name: "wrong issuer", issuer: "wrong", err: ".issuer' is not an issuer'.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(-hour), now.Add(hour)) }},
		{name: "other certificate", issuer: "file", warn: "Loading: OCSP single response: Certificate ID does not match certificate and issuer. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte {
				return p.ocspFor(big.NewInt(7), ocsp.Good, now.Add(-hour), now.Add(hour))
			}},
		{name: "expired", issuer: "file", warn: "Loading: OCSP single response: no longer valid.. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(-3*hour), now.Add(-2*hour)) }},
		{name: "not yet valid", issuer: "file", warn: "Loading: OCSP single response: no longer valid.. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(hour), now.Add(2*hour)) }},
		{name: "unknown status", issuer: "file", warn: "Loading: OCSP single response: certificate status is unknown. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Unknown, now.Add(-hour), now.Add(hour)) }},
		{name: "no next update", issuer: "file", warn: "Loading: OCSP single response: missing nextupdate. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte { return p.ocspFor(s, ocsp.Good, now.Add(-hour), time.Time{}) }},
		{name: "garbage", issuer: "file", warn: "Loading: Unable to parse OCSP response. Content will be ignored.",
			resp: func(p *pki, s *big.Int) []byte { return []byte("junk") }},
		{name: "within the skew of next update", issuer: "file", staple: false,
			resp: func(p *pki, s *big.Int) []byte {
				return p.ocspFor(s, ocsp.Good, now.Add(-hour), now.Add(2*time.Minute))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPKI(t)
			site := p.issue("site.pem", certSpec{cn: "site.test", ecdsa: true})
			serial := readLeaf(t, site).SerialNumber
			var resp []byte
			if tc.resp != nil {
				resp = tc.resp(p, serial)
				p.write("site.pem.ocsp", resp)
			}
			switch tc.issuer {
			case "file":
				os.Link(p.dir+"/ca.pem", site+".issuer")
			case "chain":
				data, _ := os.ReadFile(site)
				ca, _ := os.ReadFile(p.dir + "/ca.pem")
				p.write("site.pem", data, ca)
			case "wrong":
				other := p.issue("other.pem", certSpec{cn: "other"})
				data, _ := os.ReadFile(other)
				p.write("site.pem.issuer", data)
			}
			b, err := ParseBindOptions(strings.Fields("ssl crt "+site), nil)
			if err != nil {
				t.Fatal(err)
			}
			g := &Globals{Store: NewStore()}
			bt, err := LoadBindConfig(b, g)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(bt.Warnings, "|"); got != tc.warn {
				t.Errorf("warnings %q, want %q", got, tc.warn)
			}
			got := stapleFrom(t, serveTLS(t, bt.Config))
			if tc.staple && !bytes.Equal(got, resp) || !tc.staple && got != nil {
				t.Errorf("staple of %d bytes, want stapled=%v", len(got), tc.staple)
			}
		})
	}
}

// "set ssl ocsp-response" reaches the next handshakes of every bind
// using the certificate, and is refused for a certificate no bind has.
func TestOCSPSetResponse(t *testing.T) {
	p := newPKI(t)
	site := p.issue("site.pem", certSpec{cn: "site.test"})
	serial := readLeaf(t, site).SerialNumber
	now := time.Now()
	good := p.ocspFor(serial, ocsp.Good, now.Add(-time.Hour), now.Add(time.Hour))
	revoked := p.ocspFor(serial, ocsp.Revoked, now.Add(-time.Minute), now.Add(time.Hour))
	p.write("site.pem.ocsp", good)
	os.Link(p.dir+"/ca.pem", site+".issuer")
	g := &Globals{Store: NewStore()}
	a := serveTLS(t, mustBind(t, "ssl crt "+site, g).Config)
	if got := stapleFrom(t, a); !bytes.Equal(got, good) {
		t.Fatalf("initial staple of %d bytes", len(got))
	}
	// A second bind loads and reloads the shared certificate while the
	// first one serves handshakes.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			// No t.Fatal off the test goroutine.
			if c, err := tls.Dial("tcp", a, &tls.Config{InsecureSkipVerify: true}); err == nil {
				c.Close()
			}
		}
	}()
	bt := mustBind(t, "ssl crt "+site, g)
	for range 3 {
		if err := bt.Reload(); err != nil {
			t.Error(err)
		}
	}
	<-done
	b := serveTLS(t, bt.Config)
	if got := g.Store.OCSPCLI("set", base64.StdEncoding.EncodeToString(revoked), "", false); got != "OCSP Response updated!\n" {
		t.Fatalf("set: %q", got)
	}
	for _, addr := range []string{a, b} {
		if got := stapleFrom(t, addr); !bytes.Equal(got, revoked) {
			t.Errorf("%s: staple of %d bytes, want the new response", addr, len(got))
		}
	}
	other := p.ocspFor(big.NewInt(99), ocsp.Good, now.Add(-time.Hour), now.Add(time.Hour))
	want := "OCSP single response: Certificate ID does not match any certificate or issuer.\n"
	if got := g.Store.OCSPCLI("set", "", base64.StdEncoding.EncodeToString(other)+"\n", true); got != want {
		t.Errorf("set for another certificate: %q, want %q", got, want)
	}
}

func FuzzOCSPResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x01})
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, der []byte) {
		id, st, msg := checkOCSP(der, nil, time.Now())
		if msg == "" && (id == nil || st == nil) {
			t.Fatal("accepted without an id or staple")
		}
		ocspPrint(der)
		ocspKeyOf(der)
	})
}

// The CLI's response text is OpenSSL 3.0's OCSP_RESPONSE_print, which
// "openssl ocsp -resp_text" prints too: responder certificates with the
// usual extensions, escaped names, long serials, responder ids by key
// hash, revocation reasons and response extensions.
func TestOCSPPrintMatchesOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: no OCSP_RESPONSE_print to compare with")
	}
	p := newPKI(t)
	now := time.Now().UTC()
	rk := rsaKey(0)
	tpl := &x509.Certificate{SerialNumber: new(big.Int).SetBytes([]byte{0x8f, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
		Subject:   pkix.Name{CommonName: "resp, inc/x", Organization: []string{"Org+X"}, Country: []string{"FR"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"a.test", "b.test"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("::1")}, EmailAddresses: []string{"x@y.z"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning, x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true, MaxPathLen: 2}
	der, err := x509.CreateCertificate(rand.Reader, tpl, p.caCert, rk.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := x509.ParseCertificate(der)
	nonce := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}, Value: make([]byte, 60)}
	other := pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte("hello world")}
	cases := []struct {
		signer  *x509.Certificate
		key     crypto.Signer
		status  int
		reason  int
		embed   bool
		keyHash bool
		exts    []pkix.Extension
	}{
		{signer: p.caCert, key: p.caKey, status: ocsp.Good},
		{signer: rc, key: rk, status: ocsp.Revoked, reason: ocsp.Superseded, embed: true, keyHash: true, exts: []pkix.Extension{nonce, other}},
		{signer: p.caCert, key: p.caKey, status: ocsp.Revoked, reason: ocsp.Unspecified, embed: true},
		{signer: p.caCert, key: p.caKey, status: ocsp.Unknown, keyHash: true},
	}
	for i, c := range cases {
		r := ocsp.Response{Status: c.status, SerialNumber: big.NewInt(int64(0x1234 + i)), ThisUpdate: now.Add(-time.Hour),
			NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-2 * time.Hour), RevocationReason: c.reason, ExtraExtensions: c.exts}
		if c.embed {
			r.Certificate = c.signer
		}
		if c.keyHash {
			r.ResponderKeyHash = []byte{1}
		}
		resp, err := ocsp.CreateResponse(p.caCert, c.signer, r, c.key)
		if err != nil {
			t.Fatal(err)
		}
		path := p.write("resp.der", resp)
		out, err := exec.Command(bin, "ocsp", "-respin", path, "-resp_text", "-noverify").Output()
		if err != nil {
			t.Fatal(err)
		}
		// HAProxy puts a space on the empty lines.
		want := string(out)
		for strings.Contains(want, "\n\n") {
			want = strings.Replace(want, "\n\n", "\n \n", 1)
		}
		if got := ocspPrint(resp); got != want {
			t.Errorf("case %d:\ngot:\n%s\nopenssl:\n%s", i, got, want)
		}
	}
}
