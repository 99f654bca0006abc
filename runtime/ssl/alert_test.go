package ssl

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// haproxyAlerts runs "haproxy -c" on cfg and returns its ALERT bodies and
// the bare lines that follow them, without the closing summary lines.
func haproxyAlerts(t *testing.T, cfg string) []string {
	t.Helper()
	out, _ := exec.Command("haproxy", "-c", "-f", cfg).CombinedOutput()
	prefix := regexp.MustCompile(`^\[ALERT\] +\(\d+\) : config : `)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "[NOTICE]"), strings.HasPrefix(l, "[WARNING]"), strings.Contains(l, "Error(s) found in configuration file"), strings.Contains(l, "Fatal errors found in configuration"), l == "Configuration file is valid":
			continue
		}
		lines = append(lines, prefix.ReplaceAllString(l, ""))
	}
	return lines
}

func TestAlertsMatchHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy binary not found: the alert texts cannot be compared")
	}
	p := newPKI(t)
	full := p.issue("full.pem", certSpec{cn: "full"})
	apart := p.issue("apart.pem", certSpec{cn: "apart", keyApart: true})
	leaf := readLeaf(t, full)
	noKey := p.write("nokey.pem", pemBlock("CERTIFICATE", leaf.Raw))
	other := p.issue("other.pem", certSpec{cn: "other", rsaIndex: 1})
	otherData, _ := os.ReadFile(other)
	fullData, _ := os.ReadFile(full)
	certOnly := string(fullData[:strings.Index(string(fullData), "-----BEGIN PRIVATE KEY")])
	keyOnly := string(otherData[strings.Index(string(otherData), "-----BEGIN PRIVATE KEY"):])
	mismatch := p.write("mismatch.pem", []byte(certOnly+keyOnly))
	garbage := p.write("garbage.pem", []byte("garbage\n"))
	badKey := p.write("badkey.pem", []byte(certOnly))
	p.write("badkey.pem.key", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	empty := filepath.Join(p.dir, "empty")
	os.Mkdir(empty, 0o755)
	list := func(name, body string) string { return p.write(name, []byte(body)) }
	ca := filepath.Join(p.dir, "ca.pem")
	cases := []struct{ name, words string }{
		{"missing file", "ssl crt /nonexistent/x.pem"},
		{"no private key", "ssl crt " + noKey},
		{"key apart", "ssl crt " + apart},
		{"bad .key", "ssl crt " + badKey},
		{"key mismatch", "ssl crt " + mismatch},
		{"not a certificate", "ssl crt " + garbage},
		{"empty directory", "ssl crt " + empty},
		{"missing crt argument", "ssl crt"},
		{"unknown verify", "ssl crt " + full + " verify foo"},
		{"unknown ssl-min-ver", "ssl crt " + full + " ssl-min-ver TLSv9"},
		{"missing ssl-max-ver", "ssl crt " + full + " ssl-max-ver"},
		{"verify without CA", "ssl crt " + full + " verify required"},
		{"bad ciphers", "ssl crt " + full + " ciphers FOO"},
		{"bad ciphersuites", "ssl crt " + full + " ciphersuites FOO"},
		{"bad curves", "ssl crt " + full + " curves FOO"},
		{"bad ecdhe", "ssl crt " + full + " ecdhe FOO"},
		{"two bad settings", "ssl crt " + full + " ciphers FOO curves BAR"},
		{"missing ca-file", "ssl crt " + full + " ca-file /nonexistent/ca.pem"},
		{"empty ca-file", "ssl crt " + full + " ca-file " + garbage},
		{"missing crl-file", "ssl crt " + full + " ca-file " + ca + " crl-file /nonexistent/crl.pem"},
		{"all versions disabled", "ssl crt " + full + " no-tlsv12 no-tlsv13"},
		{"ignore-err range", "ssl crt " + full + " crt-ignore-err 64"},
		{"missing crt-list", "ssl crt-list /nonexistent/list"},
		{"crt-list unknown keyword", "ssl crt-list " + list("l1", full+" [foo bar]\n")},
		{"crt-list missing [", "ssl crt-list " + list("l2", full+" alpn h2]\n")},
		{"crt-list starts with [", "ssl crt-list " + list("l3", "[alpn h2] "+full+"\n")},
		{"crt-list two [", "ssl crt-list " + list("l4", full+" [alpn h2] [verify none]\n")},
		{"crt-list args out of brackets", "ssl crt-list " + list("l5", full+" [alpn]\n")},
		{"crt-list bad verify", "ssl crt-list " + list("l6", full+" [verify bad]\n")},
		{"crt-list bad version", "ssl crt-list " + list("l7", full+" [ssl-min-ver bad]\n")},
		{"crt-list missing cert", "ssl crt-list " + list("l8", "#c\n\n"+full+"\n/nonexistent/y.pem\n")},
		{"crt-list no key", "ssl crt-list " + list("l9", noKey+"\n")},
		{"crt-list missing LF", "ssl crt-list " + list("l10", full)},
		{"crt-list bad ciphers", "ssl crt-list " + list("l11", full+" [ciphers FOO]\n")},
		{"crt-list bad ciphers twice", "ssl crt-list " + list("l12", full+" [ciphers FOO]\n"+other+" [ciphers BAR]\n")},
		{"crt-list line with bind ciphers", "ssl crt-list " + list("l13", full+"\n"+other+"\n") + " ciphers FOO"},
		{"crt-list empty", "ssl crt-list " + list("l14", "# nothing\n")},
		{"crt-list bad ca-file", "ssl crt-list " + list("l15", full+" [ca-file /nonexistent/ca]\n")},
	}
	agree := 0
	for _, c := range cases {
		cfg := p.write("t.cfg", []byte("global\n  log stdout local0\ndefaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:8443 "+c.words+"\n"))
		want := haproxyAlerts(t, cfg)
		var got []string
		b, err := ParseBindOptions(strings.Fields(c.words), nil)
		if err == nil {
			_, err = LoadBindConfig(b, nil)
		}
		var e *Error
		switch {
		case err == nil:
		case errors.As(err, &e):
			alerts, bare := e.Alert(Site{File: cfg, Line: 9, Section: "frontend", Proxy: "f", Bind: "127.0.0.1:8443"})
			for _, a := range alerts {
				got = append(got, strings.Split(a, "\n")...)
			}
			got = append(got, bare...)
		default:
			got = []string{"non-HAProxy error: " + err.Error()}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, want)
			continue
		}
		agree++
	}
	t.Logf("alert texts identical to haproxy -c: %d/%d", agree, len(cases))
}

// A bind refusing a client certificate sends OpenSSL's alert for the
// cause, in clear before TLS 1.3 and sealed again under each TLS 1.3
// suite's key.
func TestRefusalAlerts(t *testing.T) {
	p := newPKI(t)
	crt := p.issue("srv.pem", certSpec{cn: "srv.test", ecdsa: true})
	expiredFile := p.issue("expired.pem", certSpec{cn: "late", client: true, ecdsa: true, expired: true})
	rogue := newPKI(t)
	untrustedFile := rogue.issue("rogue.pem", certSpec{cn: "rogue", client: true, ecdsa: true})
	bt := mustBind(t, "ssl crt "+crt+" ca-file "+filepath.Join(p.dir, "ca.pem")+" verify required", nil)
	addr := serveRaw(t, func(c net.Conn) {
		tc, _ := bt.Server(c)
		tc.Handshake()
	})
	try := func(certFile string, vers uint16) string {
		kp, err := tls.LoadX509KeyPair(certFile, certFile)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: vers, MinVersion: vers,
			Certificates: []tls.Certificate{kp}})
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err.Error()
	}
	defer UseTLS13Order(OpenSSLTLS13Order)
	for _, first := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256} {
		order := []uint16{first}
		for _, s := range OpenSSLTLS13Order {
			if s != first {
				order = append(order, s)
			}
		}
		UseTLS13Order(order)
		for _, c := range []struct {
			file string
			vers uint16
			want string
		}{
			{untrustedFile, tls.VersionTLS13, "unknown certificate authority"},
			{expiredFile, tls.VersionTLS13, "expired certificate"},
			{untrustedFile, tls.VersionTLS12, "unknown certificate authority"},
		} {
			if got := try(c.file, c.vers); !strings.Contains(got, "remote error: tls: "+c.want) {
				t.Errorf("%s first, %x: %q, want the alert %q", tls.CipherSuiteName(first), c.vers, got, c.want)
			}
		}
	}
}
