package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestTLSBindCheckDifferential: the TLS errors and warnings of bind lines
// (OCSP files, missing certificates, verify without a CA) are printed as
// haproxy -c prints them, at parse time or after, with its exit code.
func TestTLSBindCheckDifferential(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name string, blocks ...*pem.Block) string {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	caPEM := &pem.Block{Type: "CERTIFICATE", Bytes: caDER}
	write("ca.pem", caPEM)
	leaf := func(name string, serial int64) string {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(24 * time.Hour), DNSNames: []string{name}}
		der, _ := x509.CreateCertificate(rand.Reader, tpl, ca, &k.PublicKey, caKey)
		kd, _ := x509.MarshalPKCS8PrivateKey(k)
		return write(name+".pem", &pem.Block{Type: "CERTIFICATE", Bytes: der}, &pem.Block{Type: "PRIVATE KEY", Bytes: kd})
	}
	ocspFile := func(cert string, serial int64, status int, next time.Time) {
		der, err := ocsp.CreateResponse(ca, ca, ocsp.Response{Status: status, SerialNumber: big.NewInt(serial),
			ThisUpdate: now.Add(-time.Minute), NextUpdate: next}, caKey)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(cert+".ocsp", der, 0o600)
		os.WriteFile(cert+".issuer", pem.EncodeToMemory(caPEM), 0o600)
	}
	unknown := leaf("unknown", 10)
	ocspFile(unknown, 10, ocsp.Unknown, now.Add(time.Hour))
	expired := leaf("expired", 11)
	ocspFile(expired, 11, ocsp.Good, now.Add(-time.Second))
	other := leaf("other", 12)
	ocspFile(other, 99, ocsp.Good, now.Add(time.Hour))
	good := leaf("good", 13)
	ocspFile(good, 13, ocsp.Good, now.Add(time.Hour))
	junk := leaf("junk", 14)
	os.WriteFile(junk+".ocsp", []byte("junk"), 0o600)
	plain := leaf("plain", 15)
	cases := []struct{ name, words string }{
		{"ocsp unknown status", "ssl crt " + unknown},
		{"ocsp expired", "ssl crt " + expired},
		{"ocsp other certificate", "ssl crt " + other},
		{"ocsp good", "ssl crt " + good},
		{"ocsp without issuer", "ssl crt " + junk},
		{"two warnings", "ssl crt " + unknown + " crt " + expired},
		{"no certificate", "ssl"},
		{"verify without CA", "ssl crt " + plain + " verify required"},
		{"missing file", "ssl crt " + filepath.Join(dir, "nope.pem")},
	}
	for i, c := range cases {
		cfg := filepath.Join(dir, fmt.Sprintf("c%d.cfg", i))
		os.WriteFile(cfg, []byte(fmt.Sprintf("defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:%d %s\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\n", 18400+i, c.words)), 0o600)
		h := runHAProxy(t, bin, dir, cfg)
		g := runGohap(dir, cfg)
		if h.code != g.code || strings.Join(h.lines, "\n") != strings.Join(g.lines, "\n") {
			t.Errorf("%s:\nhaproxy %d %q\ngohap   %d %q", c.name, h.code, h.lines, g.code, g.lines)
		}
	}
}
