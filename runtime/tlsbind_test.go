package runtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// writeCert writes a self-signed certificate and its key for name into
// one PEM file in dir.
func writeCert(t *testing.T, dir, file, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TLS on a bind, HTTP/1.1 and HTTP/2 by ALPN, and HTTP/2 without TLS on
// a "proto h2" bind, with the global TLS and HTTP/2 settings applied.
func TestTLSAndHTTP2Binds(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	s1 := startEcho(t, "s1")
	fe, fe2, fe3 := freePort(t), freePort(t), freePort(t)
	startGohap(t, fmtCfg(`global
 crt-base %s
 ca-base %s
 ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305
 ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
 ssl-default-bind-curves X25519:P-256
 ssl-default-bind-options ssl-min-ver TLSv1.2
 ssl-default-server-ciphers ECDHE-ECDSA-AES128-GCM-SHA256
 ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
 ssl-default-server-options ssl-min-ver TLSv1.2
 tune.ssl.cachesize 1000
 tune.h2.header-table-size 4096
 tune.h2.initial-window-size 65535
 tune.h2.max-concurrent-streams 50
 tune.h2.max-frame-size 16384
`+baseDefaults+`frontend fe
 mode http
 bind %s ssl crt site.pem alpn h2,http/1.1
 bind %s proto h2
 bind %s
 http-request redirect scheme https if !{ ssl_fc } { path /secure }
 http-request return status 200 hdr x-ssl %%[ssl_fc] hdr x-tls "%%[ssl_fc_sni] %%[ssl_fc_protocol] %%[ssl_fc_alpn]" if { path /ssl }
 default_backend b1
backend b1
 mode http
 server s1 %s
`, dir, dir, fe, fe2, fe3, s1.Addr()), nil)
	get := func(c *http.Client, url string) *http.Response {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	tc := &tls.Config{InsecureSkipVerify: true, ServerName: "site.test"}
	h1 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: false,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	if r := get(h1, "https://"+fe+"/"); r.StatusCode != 200 || r.Header.Get("X-Server") != "s1" || r.ProtoMajor != 1 {
		t.Errorf("https/1.1: %s %s from %q", r.Proto, r.Status, r.Header.Get("X-Server"))
	} else if r.TLS.Version < tls.VersionTLS12 || r.TLS.PeerCertificates[0].Subject.CommonName != "site.test" {
		t.Errorf("https/1.1: version %x, certificate %q", r.TLS.Version, r.TLS.PeerCertificates[0].Subject.CommonName)
	}
	h2c := &http.Client{Timeout: 5 * time.Second, Transport: &http2.Transport{TLSClientConfig: tc}}
	for i := 0; i < 3; i++ {
		if r := get(h2c, "https://"+fe+"/x"); r.StatusCode != 200 || r.Header.Get("X-Server") != "s1" || r.ProtoMajor != 2 {
			t.Errorf("h2 over TLS: %s %s from %q", r.Proto, r.Status, r.Header.Get("X-Server"))
		}
	}
	plain := h2cClient(5 * time.Second)
	if r := get(plain, "http://"+fe2+"/y"); r.StatusCode != 200 || r.Header.Get("X-Server") != "s1" || r.ProtoMajor != 2 {
		t.Errorf("h2c: %s %s from %q", r.Proto, r.Status, r.Header.Get("X-Server"))
	}
	// A plain HTTP/1 bind switches to HTTP/2 on the preface, as HAProxy.
	for i := 0; i < 2; i++ {
		if r := get(plain, "http://"+fe3+"/z"); r.StatusCode != 200 || r.Header.Get("X-Server") != "s1" || r.ProtoMajor != 2 {
			t.Errorf("h2c on an HTTP/1 bind: %s %s from %q", r.Proto, r.Status, r.Header.Get("X-Server"))
		}
	}
	// The ssl_* fetches see the client's TLS layer.
	if r := get(h2c, "https://"+fe+"/ssl"); r.Header.Get("X-Ssl") != "1" || r.Header.Get("X-Tls") != "site.test TLSv1.3 h2" {
		t.Errorf("ssl fetches over TLS: x-ssl %q, x-tls %q", r.Header.Get("X-Ssl"), r.Header.Get("X-Tls"))
	}
	if r := get(plain, "http://"+fe2+"/ssl"); r.Header.Get("X-Ssl") != "0" {
		t.Errorf("ssl_fc on a plain bind: %q", r.Header.Get("X-Ssl"))
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if r := get(noRedirect, "http://"+fe3+"/secure"); r.StatusCode != 302 || r.Header.Get("Location") != "https://"+fe3+"/secure" {
		t.Errorf("redirect scheme https if !{ ssl_fc }: %s to %q", r.Status, r.Header.Get("Location"))
	}
	// ssl-default-bind-options ssl-min-ver TLSv1.2: an older client is
	// refused.
	old := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}
	if c, err := tls.Dial("tcp", fe, old); err == nil {
		c.Close()
		t.Errorf("a TLS 1.1 client was accepted")
	}
}
