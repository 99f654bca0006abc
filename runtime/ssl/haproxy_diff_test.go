package ssl

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/examples/freeport"
)

func freePort(t *testing.T) string {
	t.Helper()
	// Not a port from 127.0.0.1:0: haproxy binds with SO_REUSEPORT, and
	// the same port handed twice (here or to another test binary) would
	// share its clients between two frontends.
	a, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startHAProxy runs haproxy in the foreground on cfg until the test ends
// and waits until every address accepts connections.
func startHAProxy(t *testing.T, cfg string, addrs ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o600)
	cmd := exec.Command("haproxy", "-db", "-f", path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, a := range addrs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", a, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("haproxy did not listen on %s: %s", a, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// serveInfo answers each handshake with the fetch values computed by
// this package, as the HAProxy frontends answer with http-request return.
func serveInfo(t *testing.T, bt *BindTLS) string {
	t.Helper()
	return serveConns(t, bt.Config, func(tc *tls.Conn) {
		if tc.Handshake() != nil {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(tc))
		if err != nil {
			return
		}
		req.Body.Close()
		cs := tc.ConnectionState()
		ci := NewConnInfo(cs)
		dn := ""
		if len(cs.PeerCertificates) > 0 {
			b, _ := sDN.Append(nil, &acl.Txn{TLS: &acl.TLSInfo{Peer: cs.PeerCertificates}})
			dn = string(b)
		}
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nx: %s\r\nc: %s\r\np: %s\r\na: %s\r\ndn: %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", ci.SNI, ci.Cipher, ci.Protocol, ci.ALPN, dn)
	})
}

// sDN renders the client certificate's subject as ssl_c_s_dn.
var sDN, _ = acl.CompileSample("ssl_c_s_dn")

// probe performs one handshake and, when http is set, one request; it
// returns a comparable summary.
func probe(addr string, cfg *tls.Config, http1 bool) string {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return "handshake refused"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	cs := c.ConnectionState()
	out := fmt.Sprintf("cert=%s proto=%s cipher=%s alpn=%q", leafCN(cs), ProtocolName(cs.Version), CipherName(cs.CipherSuite), cs.NegotiatedProtocol)
	if !http1 {
		return out
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nhost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return out + " request failed"
	}
	resp.Body.Close()
	for _, h := range []string{"x", "c", "p", "a", "dn"} {
		out += fmt.Sprintf(" %s=%q", h, resp.Header.Get(h))
	}
	return out
}

func TestHandshakesMatchHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy binary not found: no differential handshakes")
	}
	p := newPKI(t)
	p.issue("certs/01-default.pem", certSpec{cn: "default.test"})
	p.issue("certs/02-wild.pem", certSpec{cn: "*.example.com", ecdsa: true})
	p.issue("certs/03-b.pem", certSpec{cn: "b-cn", dns: []string{"b.example.com", "B2.Example.org"}})
	p.issue("certs/04-wildrsa.pem", certSpec{cn: "wildrsa", dns: []string{"*.example.com"}, rsaIndex: 1})
	def := p.issue("def.pem", certSpec{cn: "listdef", rsaIndex: 2})
	wild := p.issue("wild.pem", certSpec{cn: "listwild", dns: []string{"*.example.com"}, ecdsa: true})
	other := p.issue("other.pem", certSpec{cn: "listother", rsaIndex: 3})
	list := p.write("list", []byte(def+"\n"+wild+" [alpn h2,http/1.1] *.example.com !bad.example.com\n"+other+" [alpn http/1.1] bad.example.com other.test\n"))
	list2 := p.write("list2", []byte(def+"\n"+other+" [ciphers ECDHE-RSA-AES128-GCM-SHA256 ssl-max-ver TLSv1.2] other.test\n"))
	client := p.issue("client.pem", certSpec{cn: "client1", client: true, ecdsa: true})
	ca := filepath.Join(p.dir, "ca.pem")
	lines := []string{
		"ssl crt " + p.dir + "/certs alpn h2,http/1.1",
		"ssl strict-sni crt-list " + list,
		"ssl crt " + p.dir + "/certs ca-file " + ca + " verify optional ssl-max-ver TLSv1.2 ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256",
		"ssl crt-list " + list2 + " ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
	}
	cfg := "global\n  log stdout local0\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n"
	var hap, ours []string
	for i, words := range lines {
		a := freePort(t)
		hap = append(hap, a)
		cfg += fmt.Sprintf("frontend f%d\n  bind %s %s\n  http-request return status 200 hdr x %%[ssl_fc_sni] hdr c %%[ssl_fc_cipher] hdr p %%[ssl_fc_protocol] hdr a %%[ssl_fc_alpn] hdr dn %%[ssl_c_s_dn]\n", i, a, words)
		ours = append(ours, serveInfo(t, mustBind(t, words, nil)))
	}
	startHAProxy(t, cfg, hap...)
	kp, err := tls.LoadX509KeyPair(client, client)
	if err != nil {
		t.Fatal(err)
	}
	rsaOnly := func(sni string) *tls.Config {
		return &tls.Config{ServerName: sni, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}}
	}
	plain := func(sni string, protos ...string) *tls.Config {
		return &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: protos}
	}
	cases := []struct {
		name  string
		fe    int
		cfg   *tls.Config
		http1 bool
	}{
		{"exact RSA vs wildcard ECDSA", 0, plain("b.example.com"), false},
		{"exact name, RSA-only client", 0, rsaOnly("b.example.com"), false},
		{"second SAN, upper case", 0, plain("B2.EXAMPLE.ORG"), false},
		{"wildcard, ECDSA client", 0, plain("x.example.com"), false},
		{"wildcard, RSA-only client", 0, rsaOnly("x.example.com"), false},
		{"two labels below wildcard", 0, plain("a.b.example.com"), false},
		{"unknown name", 0, plain("unknown.test"), false},
		{"no SNI", 0, plain(""), false},
		{"ALPN h2 preferred by server", 0, plain("x.example.com", "http/1.1", "h2"), false},
		{"ALPN no overlap", 0, plain("x.example.com", "spdy/3"), false},
		{"fetch strings TLS 1.3", 0, plain("b.example.com", "http/1.1"), true},
		{"fetch strings TLS 1.2", 0, rsaOnly("b2.example.org"), true},
		{"crt-list wildcard line", 1, plain("x.example.com", "h2", "http/1.1"), false},
		{"crt-list negative filter", 1, plain("bad.example.com", "h2", "http/1.1"), false},
		{"crt-list exact filter", 1, plain("other.test", "h2", "http/1.1"), false},
		{"strict-sni unknown name", 1, plain("nomatch.test"), false},
		{"strict-sni without SNI", 1, plain(""), false},
		{"server cipher preference", 2, rsaOnly("b.example.com"), false},
		{"server cipher preference, ECDSA", 2, &tls.Config{ServerName: "x.example.com", InsecureSkipVerify: true}, false},
		{"client certificate DN", 2, &tls.Config{ServerName: "b.example.com", InsecureSkipVerify: true, Certificates: []tls.Certificate{kp}}, true},
		{"crt-list line ciphers and max version", 3, plain("other.test"), false},
		{"bind ciphers on the default certificate", 3, rsaOnly("x.test"), false},
		{"no client certificate", 2, &tls.Config{ServerName: "x.example.com", InsecureSkipVerify: true}, true},
	}
	agree := 0
	for _, c := range cases {
		want := probe(hap[c.fe], c.cfg, c.http1)
		got := probe(ours[c.fe], c.cfg, c.http1)
		if c.name == "client certificate DN" && !strings.Contains(got, `dn="/C=FR/O=HAProxy Test/CN=client1"`) {
			t.Errorf("%s: no DN in %s", c.name, got)
		}
		if got != want {
			t.Errorf("%s:\n  ours    %s\n  haproxy %s", c.name, got, want)
			continue
		}
		agree++
	}
	t.Logf("handshakes agreeing with haproxy: %d/%d", agree, len(cases))
}
