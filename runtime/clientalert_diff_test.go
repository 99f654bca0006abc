package runtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// issueClient makes a client certificate signed by ca, changed by edit,
// on curve.
func (ca *testCA) issueClient(t *testing.T, name string, curve elliptic.Curve, edit func(*x509.Certificate)) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	if edit != nil {
		edit(tpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, c
}

// A bind refusing a client certificate sends the alert OpenSSL maps the
// verification error to (unknown_ca for an untrusted one,
// certificate_expired, certificate_revoked...), not one bad_certificate
// for all: the client's error message names the cause. Under TLS 1.3 the
// client learns of it when it reads.
func TestClientCertAlertDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the alerts")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	ca.issue(t, dir, "srv.pem", "srv.test", false)
	rogue := newTestCA(t, dir, "rogue")
	untrusted, _ := rogue.issue(t, dir, "rogue-client.pem", "intruder", true)
	good, _ := ca.issueClient(t, "good", elliptic.P256(), nil)
	expired, _ := ca.issueClient(t, "expired", elliptic.P256(), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)
	})
	future, _ := ca.issueClient(t, "future", elliptic.P256(), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(2*time.Hour), time.Now().Add(3*time.Hour)
	})
	serverOnly, _ := ca.issueClient(t, "serveronly", elliptic.P256(), func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	revoked, revokedLeaf := ca.issueClient(t, "revoked", elliptic.P256(), nil)
	p384, _ := ca.issueClient(t, "p384", elliptic.P384(), nil)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: revokedLeaf.SerialNumber, RevocationTime: time.Now().Add(-time.Hour)}}}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(dir, "ca.crl")
	os.WriteFile(crl, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600)
	const cfg = `defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %[1]s ssl crt %[4]s/srv.pem ca-file %[5]s verify required ssl-max-ver TLSv1.2
 bind %[2]s ssl crt %[4]s/srv.pem ca-file %[5]s verify required ssl-max-ver TLSv1.2 crl-file %[6]s
 bind %[3]s ssl crt %[4]s/srv.pem ca-file %[5]s verify required ssl-max-ver TLSv1.2 curves P-256
 bind %[7]s ssl crt %[4]s/srv.pem ca-file %[5]s verify required crl-file %[6]s ssl-min-ver TLSv1.3
 http-request return status 200
`
	cases := []struct {
		name string
		bind int
		cert *tls.Certificate
	}{
		{"trusted", 0, &good},
		{"untrusted", 0, &untrusted},
		{"no certificate", 0, nil},
		{"expired", 0, &expired},
		{"not yet valid", 0, &future},
		{"server purpose only", 0, &serverOnly},
		{"revoked", 1, &revoked},
		{"trusted, with a CRL", 1, &good},
		{"curve not allowed", 2, &p384},
		// TLS 1.3: the client learns of the refusal when it reads.
		{"TLS 1.3 trusted", 3, &good},
		{"TLS 1.3 untrusted", 3, &untrusted},
		{"TLS 1.3 no certificate", 3, nil},
		{"TLS 1.3 expired", 3, &expired},
		{"TLS 1.3 revoked", 3, &revoked},
		{"TLS 1.3 server purpose only", 3, &serverOnly},
	}
	probe := func(addr string, cert *tls.Certificate, v13 bool) string {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return "dial: " + err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		max := uint16(tls.VersionTLS12)
		if v13 {
			max = tls.VersionTLS13
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "srv.test", MaxVersion: max,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if cert == nil {
					return &tls.Certificate{}, nil
				}
				return cert, nil
			}})
		if err := tc.Handshake(); err != nil {
			return "handshake: " + err.Error()
		}
		fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		b, err := io.ReadAll(tc)
		if err != nil {
			return "read: " + err.Error()
		}
		if len(b) > 12 {
			b = b[:12]
		}
		return string(b)
	}
	run := func(start func(cfg, addr string)) []string {
		a, b, c, d := freePort(t), freePort(t), freePort(t), freePort(t)
		start(fmt.Sprintf(cfg, a, b, c, dir, ca.file, crl, d), d)
		addrs := []string{a, b, c, d}
		var out []string
		for _, cs := range cases {
			out = append(out, cs.name+": "+probe(addrs[cs.bind], cs.cert, cs.bind == 3))
		}
		return out
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := sameLines(t, ref, got)
	t.Logf("client certificate alerts: %d of %d agree", agree, len(ref))
	for _, want := range []string{"untrusted: handshake: remote error: tls: unknown certificate authority",
		"revoked: handshake: remote error: tls: revoked certificate", "trusted: HTTP/1.1 200",
		"TLS 1.3 untrusted: read: remote error: tls: unknown certificate authority"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
}
