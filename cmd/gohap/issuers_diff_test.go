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
)

// TestIssuersChainPathCheckDifferential: issuers-chain-path's alerts on
// its argument, and its warnings on the files it leaves out (no
// certificate, no SubjectKeyIdentifier, a duplicate), as haproxy -c.
func TestIssuersChainPathCheckDifferential(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	dir := t.TempDir()
	iss := filepath.Join(dir, "iss")
	os.MkdirAll(filepath.Join(iss, "sub"), 0o755)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.test"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	os.WriteFile(filepath.Join(iss, "a-ca.pem"), ca, 0o644)
	os.WriteFile(filepath.Join(iss, "b-dup.pem"), ca, 0o644)
	os.WriteFile(filepath.Join(iss, "c-junk.pem"), []byte("junk\n"), 0o644)
	noSKID := writeSelfSigned(t, dir)
	os.Rename(noSKID, filepath.Join(iss, "d-noskid.pem"))
	cases := map[string]string{
		"load":    " issuers-chain-path " + iss + "/\n",
		"twice":   " issuers-chain-path " + iss + "\n issuers-chain-path " + iss + "//\n",
		"args":    " issuers-chain-path " + iss + " x\n issuers-chain-path " + filepath.Join(dir, "none") + "\n issuers-chain-path " + filepath.Join(iss, "a-ca.pem") + "\n issuers-chain-path\n",
		"unknown": "",
	}
	for name, global := range cases {
		cfg := filepath.Join(dir, name+".cfg")
		os.WriteFile(cfg, []byte(fmt.Sprintf("global\n%sdefaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind 127.0.0.1:8080\n", global)), 0o644)
		h := runHAProxy(t, bin, dir, cfg)
		g := runGohap(dir, cfg)
		if h.code != g.code || strings.Join(h.lines, "\n") != strings.Join(g.lines, "\n") {
			t.Errorf("%s: exit %d (haproxy) vs %d (gohap)\nhaproxy:\n%s\ngohap:\n%s", name, h.code, g.code, strings.Join(h.lines, "\n"), strings.Join(g.lines, "\n"))
		}
		if name == "load" && len(h.lines) != 3 {
			t.Errorf("load: haproxy's lines %q", h.lines)
		}
	}
}
