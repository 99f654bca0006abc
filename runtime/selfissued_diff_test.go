package runtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSkipSelfIssuedCADifferential: a bind whose PEM file holds the
// leaf, an intermediate and the root sends the three, or, with
// ssl-skip-self-issued-ca, the chain without its root, as HAProxy.
func TestSkipSelfIssuedCADifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "chain.pem")
	writeChainPEM(t, pemFile)
	up := startEcho(t, "s1")
	chain := func(start func(text, addr string), global string) string {
		fe := freePort(t)
		start(fmtCfg(global+"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"frontend fe\n bind %s ssl crt %s\n default_backend be\nbackend be\n server s1 %s\n", fe, pemFile, up.Addr()), fe)
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", fe, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var names []string
		for _, x := range c.ConnectionState().PeerCertificates {
			names = append(names, x.Subject.CommonName)
		}
		return strings.Join(names, " < ")
	}
	for _, global := range []string{"", "global\n ssl-skip-self-issued-ca\n"} {
		want := chain(func(text, addr string) { startHAProxy(t, text, addr) }, global)
		got := chain(func(text, _ string) { startGohap(t, text, nil) }, global)
		if got != want {
			t.Errorf("%q: chain sent: gohap %s, HAProxy %s", global, got, want)
		}
		if n := strings.Count(want, "<"); global == "" && n != 2 || global != "" && n != 1 {
			t.Errorf("%q: HAProxy sent %s", global, want)
		}
	}
}

// writeChainPEM writes a leaf ("leaf.test"), its intermediate and their
// self-signed root, then the leaf's key.
func writeChainPEM(t *testing.T, path string) {
	t.Helper()
	leaf, chain := chainPEMs(t)
	if err := os.WriteFile(path, append(leaf[:len(leaf):len(leaf)], chain...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// chainPEMs returns a leaf ("leaf.test") with its key, and apart its
// intermediate and their self-signed root.
func chainPEMs(t *testing.T) (leafPEM, chainPEM []byte) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rootKey, interKey, leafKey := key(), key(), key()
	mk := func(serial int64, cn string, ca bool, parent *x509.Certificate, pub, signer any) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: ca, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
		if !ca {
			tmpl.DNSNames = []string{cn}
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	root := mk(1, "root", true, nil, &rootKey.PublicKey, rootKey)
	inter := mk(2, "intermediate", true, root, &interKey.PublicKey, rootKey)
	leaf := mk(3, "leaf.test", false, inter, &leafKey.PublicKey, interKey)
	for _, x := range []*x509.Certificate{inter, root} {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})...)
	}
	kd, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	leafPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	leafPEM = append(leafPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
	return leafPEM, chainPEM
}
