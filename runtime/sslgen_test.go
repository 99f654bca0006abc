package runtime_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// generate-certificates: a name no certificate of the bind has gets one
// made by the ca-sign-file CA as HAProxy makes it (the CA's subject with
// the name as a last CN, the name as SAN, the bind's default key, signed
// with SHA-256); a known name, or none, gets the bind's own.
func TestGenerateCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "signer")
	_, site := ca.issue(t, dir, "site.pem", "site.test", false)
	kd, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	caData, _ := os.ReadFile(ca.file)
	sign := filepath.Join(dir, "sign.pem")
	os.WriteFile(sign, append(caData, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...), 0o600)
	fe := freePort(t)
	startGohap(t, fmt.Sprintf("defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nlisten gen\n bind %s ssl generate-certificates crt %s ca-sign-file %s\n server s 127.0.0.1:1\n", fe, site, sign), nil)
	leaf := func(name string) *x509.Certificate {
		c, err := tls.Dial("tcp", fe, &tls.Config{InsecureSkipVerify: true, ServerName: name})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0]
	}
	own := leaf("site.test")
	if own.Subject.CommonName != "site.test" || leaf("").Subject.CommonName != "site.test" {
		t.Fatalf("known name or none: served %q", own.Subject.CommonName)
	}
	gen := leaf("other.test")
	if err := gen.CheckSignatureFrom(ca.cert); err != nil {
		t.Fatalf("generated certificate not signed by the CA: %v", err)
	}
	names := gen.Subject.Names
	if len(names) != 2 || names[0].Value != "signer" || names[1].Value != "other.test" {
		t.Errorf("subject %v, want the CA's CN then other.test", names)
	}
	if len(gen.DNSNames) != 1 || gen.DNSNames[0] != "other.test" || gen.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("SAN %v, signature %v", gen.DNSNames, gen.SignatureAlgorithm)
	}
	if !bytes.Equal(gen.RawSubjectPublicKeyInfo, own.RawSubjectPublicKeyInfo) {
		t.Error("the generated certificate does not carry the default certificate's key")
	}
	if again := leaf("other.test"); !bytes.Equal(again.Raw, gen.Raw) {
		t.Error("a name's certificate is made again instead of kept")
	}
}
