package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
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
	// A bundle: no bundle.pem, but bundle.pem.ecdsa.
	if b, err := os.ReadFile(plain); err == nil {
		os.WriteFile(filepath.Join(dir, "bundle.pem.ecdsa"), b, 0o600)
	}
	os.WriteFile(filepath.Join(dir, "list.txt"), []byte(filepath.Join(dir, "bundle.pem")+" x.test\n"), 0o600)
	cases := []struct{ name, words string }{
		{"bundle", "ssl crt " + filepath.Join(dir, "bundle.pem")},
		{"bundle in a crt-list", "ssl crt-list " + filepath.Join(dir, "list.txt")},
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

// TestTLSDHWarningsDifferential: the DH parameter warnings of bind
// certificates (the file's own parameters, ssl-dh-param-file's, the
// 1024-bit default of tune.ssl.default-dh-param), one line per
// certificate and one warning per crt or crt-list argument, are printed
// as haproxy -c prints them, continuation lines included.
func TestTLSDHWarningsDifferential(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	dir := t.TempDir()
	dh := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "dh", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	pair := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...)
	write := func(name string, parts ...[]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Join(parts, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.pem", pair)
	dh1024 := write("dh1024.pem", pair, dh("dh1024.pem"))
	dh2048 := write("dh2048.pem", pair, dh("dh2048.pem"))
	x942 := write("x942.pem", pair, dh("x942-1024.pem"))
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	write("d/a.pem", pair)
	write("d/b.pem", pair, dh("dh1024.pem"))
	list := write("list.txt", []byte(plain+"\n"+dh1024+" [alpn h2]\n"+plain+" x.example\n"))
	globalFile := func(name string) string {
		return "  ssl-dh-param-file " + write("g-"+name, dh(name)) + "\n"
	}
	cases := []struct{ name, global, words string }{
		{"default 1024", "  tune.ssl.default-dh-param 1024\n", "crt " + plain},
		{"default 2048", "  tune.ssl.default-dh-param 2048\n", "crt " + plain},
		{"default below 1024", "  tune.ssl.default-dh-param 512\n", "crt " + plain},
		{"default negative (unsigned)", "  tune.ssl.default-dh-param -3\n", "crt " + plain},
		{"own 1024-bit group", "", "crt " + dh1024},
		{"own 2048-bit group", "  tune.ssl.default-dh-param 1024\n", "crt " + dh2048},
		{"own X9.42 group ignored", "  tune.ssl.default-dh-param 1024\n", "crt " + x942},
		{"global 1024-bit file", globalFile("dh1024.pem") + "  tune.ssl.default-dh-param 1024\n", "crt " + plain},
		{"global 2048-bit file", globalFile("dh2048.pem") + "  tune.ssl.default-dh-param 1024\n", "crt " + plain},
		{"directory", "  tune.ssl.default-dh-param 1024\n", "crt " + filepath.Join(dir, "d")},
		{"crt-list", "  tune.ssl.default-dh-param 1024\n", "crt-list " + list},
		{"two crt", "  tune.ssl.default-dh-param 1024\n", "crt " + plain + " crt " + dh1024},
	}
	full := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "[NOTICE]") {
				keep = append(keep, pidRe.ReplaceAllString(l, "${1}(PID)"))
			}
		}
		return strings.Join(keep, "\n")
	}
	for i, c := range cases {
		cfg := write(fmt.Sprintf("c%d.cfg", i), []byte(fmt.Sprintf("global\n%sdefaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:%d ssl %s\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\n", c.global, 18450+i, c.words)))
		cmd := exec.Command(bin, "-c", "-f", cfg)
		cmd.Dir = dir
		hout, _ := cmd.CombinedOutput()
		var gout bytes.Buffer
		gcode := run([]string{"-c", "--haproxy-compat", "-f", cfg}, &gout, &gout)
		if h, g := full(string(hout)), full(gout.String()); cmd.ProcessState.ExitCode() != gcode || h != g {
			t.Errorf("%s:\nhaproxy %d:\n%s\ngohap %d:\n%s", c.name, cmd.ProcessState.ExitCode(), h, gcode, g)
		}
	}
}
