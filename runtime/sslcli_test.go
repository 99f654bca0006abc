package runtime_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sslHeader returns the value of header h in the answer to a request
// sent to fe.
func sslHeader(t *testing.T, fe, h string) string {
	t.Helper()
	c, err := net.Dial("tcp", fe)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	var all []byte
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			break
		}
	}
	status, _, _ := strings.Cut(string(all), "\r\n")
	m := regexp.MustCompile(`(?mi)^` + h + `: (.*)\r$`).FindStringSubmatch(string(all))
	if m == nil {
		return status
	}
	return status + " " + h + "=" + m[1]
}

// The "ssl cert" commands answer as HAProxy's, and a committed
// certificate is the one new handshakes use: the bind's own, and the
// client certificate a server line sends.
func TestCLISSLCertDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	_, site := ca.issue(t, dir, "site.pem", "site.test", false)
	_, other := ca.issue(t, dir, "other.pem", "other.test", false)
	_, cli := ca.issue(t, dir, "cli.pem", "client.test", true)
	_, cli2 := ca.issue(t, dir, "cli2.pem", "client2.test", true)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	certOnly, _, _ := strings.Cut(read(other), "-----BEGIN EC PRIVATE KEY")
	up := startEcho(t, "s1")
	const cfg = `global
 stats socket %[1]s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen clear
 bind %[2]s
 http-response set-header x-f %%[ssl_s_sha1,hex]
 http-reuse never
 server s %[3]s ssl verify none crt %[4]s
listen tls
 bind %[3]s ssl crt %[5]s ca-file %[6]s verify optional
 http-response set-header x-c %%[ssl_c_s_dn(CN)]
 server s %[7]s
`
	sides := startCLISides(t, func(s *cliMapsSide) string {
		return fmt.Sprintf(cfg, s.sock, s.fe, freePort(t), cli, site, ca.file, up.Addr())
	})
	steps := []struct {
		cmd     string
		traffic bool
	}{
		{cmd: "show ssl cert\n", traffic: true},
		{cmd: "show ssl cert " + site + "\n"},
		{cmd: "show ssl cert " + cli + "\n"},
		{cmd: "show ssl cert " + dir + "/nope.pem\n"},
		{cmd: "set ssl cert " + dir + "/nope.pem <<\n" + read(other) + "\n"},
		{cmd: "set ssl cert " + site + "\n"},
		{cmd: "commit ssl cert " + site + "\n"},
		{cmd: "abort ssl cert " + site + "\n"},
		{cmd: "set ssl cert " + site + " <<\nnot a certificate\n\n"},
		{cmd: "set ssl cert " + site + " <<\n" + certOnly + "\n"},
		{cmd: "show ssl cert\n"},
		{cmd: "show ssl cert *" + site + "\n"},
		{cmd: "commit ssl cert " + site + "\n", traffic: true},
		{cmd: "set ssl cert " + site + " <<\n" + read(other) + "\n"},
		{cmd: "set ssl cert " + cli + " <<\n" + read(cli2) + "\n"},
		{cmd: "abort ssl cert " + cli + "\n"},
		{cmd: "commit ssl cert " + site + "\n", traffic: true},
		{cmd: "show ssl cert " + site + "\n"},
		{cmd: "set ssl cert " + cli + " <<\n" + read(cli2) + "\n"},
		{cmd: "commit ssl cert " + cli + "\n", traffic: true},
		{cmd: "new ssl cert " + dir + "/new.pem\n"},
		{cmd: "new ssl cert " + dir + "/new.pem\n"},
		{cmd: "new ssl cert\n"},
		{cmd: "show ssl cert " + dir + "/new.pem\n"},
		{cmd: "set ssl cert " + dir + "/new.pem <<\n" + read(other) + "\n"},
		{cmd: "commit ssl cert " + dir + "/new.pem\n"},
		{cmd: "show ssl cert " + dir + "/new.pem\n"},
		{cmd: "del ssl cert " + site + "\n"},
		{cmd: "del ssl cert " + dir + "/new.pem\n"},
		{cmd: "del ssl cert " + dir + "/new.pem\n"},
		{cmd: "show ssl cert\n"},
		{cmd: "operator; set ssl cert " + site + " <<\n" + read(other) + "\n"},
		{cmd: "operator; show ssl cert\n"},
		{cmd: "user; show ssl cert\n"},
		{cmd: "user; commit ssl cert " + site + "\n"},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			got[i] = cliSend(t, "unix", s.sock, st.cmd)
			if st.traffic {
				got[i] += "=> " + sslHeader(t, s.fe, "x-f") + " / " + sslHeader(t, s.fe, "x-c")
			}
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%q\nhaproxy:\n%q", strings.SplitN(st.cmd, "\n", 2)[0], got[1], got[0])
		}
	}
}

// With ssl-load-extra-del-ext the key of "x.crt" is read from "x.key",
// not "x.crt.key"; a handshake then gets the certificate.
func TestLoadExtraDelExt(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	_, pemPath := ca.issue(t, dir, "site.pem", "site.test", false)
	data, err := os.ReadFile(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	crt, key, _ := strings.Cut(string(data), "-----BEGIN EC PRIVATE KEY")
	os.WriteFile(filepath.Join(dir, "site.crt"), []byte(crt), 0o600)
	os.WriteFile(filepath.Join(dir, "site.key"), []byte("-----BEGIN EC PRIVATE KEY"+key), 0o600)
	fe := freePort(t)
	const cfg = "global\n%s\ndefaults\n mode tcp\n timeout client 1s\n timeout connect 1s\n timeout server 1s\nlisten l\n bind %s ssl crt %s/site.crt\n server s 127.0.0.1:1\n"
	if e := compileErr(t, fmt.Sprintf(cfg, "", fe, dir)); !strings.Contains(e, "No Private Key found in '"+dir+"/site.crt.key'") {
		t.Fatalf("without ssl-load-extra-del-ext: %q", e)
	}
	startGohap(t, fmt.Sprintf(cfg, " ssl-load-extra-del-ext", fe, dir), nil)
	c, err := tls.Dial("tcp", fe, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cn := c.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "site.test" {
		t.Fatalf("served %q", cn)
	}
}

// systemCA is the line of HAProxy's "@system-ca" entry.
var systemCA = regexp.MustCompile(`(?m)^@system-ca - \d+ certificate\(s\)\n`)

// The "ssl ca-file" and "ssl crl-file" commands answer as HAProxy's.
func TestCLISSLCAFileDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	_, site := ca.issue(t, dir, "site.pem", "site.test", false)
	_, revoked := ca.issue(t, dir, "rev.pem", "rev.test", true)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	crl := func(name string, serials ...*x509.Certificate) string {
		var entries []x509.RevocationListEntry
		for _, c := range serials {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Unix(1700000000, 0)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
			ThisUpdate: time.Unix(1700000000, 0), NextUpdate: time.Now().Add(time.Hour).Truncate(time.Hour),
			RevokedCertificateEntries: entries}, ca.cert, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600)
		return p
	}
	revCert, _ := x509.ParseCertificate(func() []byte { b, _ := pem.Decode([]byte(read(revoked))); return b.Bytes }())
	crlEmpty, crlRev := crl("empty.crl"), crl("rev.crl", revCert)
	const cfg = `global
 stats socket %[1]s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen tls
 bind %[2]s ssl crt %[3]s ca-file %[4]s verify optional crl-file %[5]s
 server s %[6]s
listen out
 bind %[7]s
 server s %[2]s ssl ca-file %[8]s verify required
`
	sides := startCLISides(t, func(s *cliMapsSide) string {
		return fmt.Sprintf(cfg, s.sock, freePort(t), site, ca.file, crlEmpty, "127.0.0.1:1", s.fe, other.file)
	})
	steps := []string{
		"show ssl ca-file\n",
		"show ssl ca-file " + ca.file + "\n",
		"show ssl ca-file " + ca.file + ":1\n",
		"show ssl ca-file " + ca.file + ":2\n",
		"show ssl ca-file " + ca.file + ":x\n",
		"show ssl ca-file " + crlEmpty + "\n",
		"show ssl crl-file\n",
		"show ssl crl-file " + crlEmpty + "\n",
		"set ssl ca-file " + ca.file + " <<\nbad\n\n",
		"set ssl ca-file " + dir + "/nope.pem <<\n" + read(other.file) + "\n",
		"set ssl ca-file " + ca.file + " <<\n" + read(ca.file) + read(other.file) + "\n",
		"set ssl ca-file " + other.file + " <<\n" + read(other.file) + "\n",
		"show ssl ca-file\n",
		"show ssl ca-file *" + ca.file + "\n",
		"show ssl ca-file *" + ca.file + ":2\n",
		"commit ssl ca-file " + other.file + "\n",
		"commit ssl ca-file " + ca.file + "\n",
		"show ssl ca-file " + ca.file + "\n",
		"set ssl crl-file " + crlEmpty + " <<\n" + read(crlRev) + "\n",
		"show ssl crl-file\n",
		"show ssl crl-file *" + crlEmpty + "\n",
		"abort ssl crl-file " + crlRev + "\n",
		"abort ssl crl-file " + crlEmpty + "\n",
		"abort ssl crl-file " + crlEmpty + "\n",
		"set ssl crl-file " + crlEmpty + " <<\n" + read(crlRev) + "\n",
		"commit ssl crl-file " + crlEmpty + "\n",
		"show ssl crl-file " + crlEmpty + ":1\n",
		"new ssl ca-file new.pem\n",
		"new ssl ca-file new.pem\n",
		"new ssl crl-file new.crl\n",
		"show ssl ca-file new.pem\n",
		"show ssl crl-file new.crl\n",
		"show ssl ca-file\n",
		"del ssl ca-file new.crl\n",
		"del ssl crl-file new.crl\n",
		"del ssl ca-file new.pem\n",
		"del ssl ca-file new.pem\n",
		"del ssl ca-file " + ca.file + "\n",
		"user; show ssl ca-file\n",
		"operator; new ssl ca-file x.pem\n",
	}
	for _, st := range steps {
		// HAProxy also lists the system's CAs its HTTP client loads.
		h := systemCA.ReplaceAllString(cliSend(t, "unix", sides[0].sock, st), "")
		g := cliSend(t, "unix", sides[1].sock, st)
		if h != g {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", strings.SplitN(st, "\n", 2)[0], g, h)
		}
	}
}

// "show|add|del ssl crt-list" answer as HAProxy's, and an entry added or
// deleted changes what a strict-sni bind answers.
func TestCLISSLCrtListDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	ca.issue(t, dir, "a.pem", "a.test", false)
	ca.issue(t, dir, "b.pem", "b.test", false)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	ca.issue(t, dir, "d/c.pem", "c.test", false)
	os.WriteFile(filepath.Join(dir, "l1.list"), []byte("a.pem a.test\n# comment\nb.pem [verify none alpn h2,http/1.1] b.test !x.b.test\na.pem *.a.test\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "l2.list"), []byte("b.pem\n"), 0o600)
	up := startEcho(t, "s1")
	const cfg = `global
 stats socket %[1]s level admin
 crt-base %[2]s
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen clear
 bind %[3]s
 http-reuse never
 retries 0
 http-response set-header x-f %%[ssl_s_s_dn(CN)]
 server s %[4]s ssl verify none sni str(new.test)
listen l1
 bind %[4]s ssl strict-sni crt-list %[2]s/l1.list
 server s %[5]s
listen l2
 bind %[6]s ssl crt-list %[2]s/l2.list crt %[2]s/d
 server s %[5]s
`
	sides := startCLISides(t, func(s *cliMapsSide) string {
		return fmt.Sprintf(cfg, s.sock, dir, s.fe, freePort(t), up.Addr(), freePort(t))
	})
	steps := []struct {
		cmd     string
		traffic bool
	}{
		{cmd: "show ssl crt-list\n", traffic: true},
		{cmd: "show ssl crt-list " + dir + "/l1.list\n"},
		{cmd: "show ssl crt-list -n " + dir + "/l1.list\n"},
		{cmd: "show ssl crt-list -n\n"},
		{cmd: "show ssl crt-list " + dir + "/d/\n"},
		{cmd: "show ssl crt-list " + dir + "/nope\n"},
		{cmd: "add ssl crt-list " + dir + "/nope a.pem\n"},
		{cmd: "add ssl crt-list " + dir + "/l1.list\n"},
		{cmd: "add ssl crt-list " + dir + "/l1.list nope.pem\n"},
		{cmd: "add ssl crt-list " + dir + "/l1.list <<\nb.pem [verify none allow-0rtt ssl-min-ver TLSv1.2] new.test !x.new.test\n\n", traffic: true},
		{cmd: "add ssl crt-list " + dir + "/l1.list <<\nb.pem [ca-file " + dir + "/ca.pem] new.test\n\n"},
		{cmd: "add ssl crt-list " + dir + "/l2.list a.pem\n"},
		{cmd: "add ssl crt-list " + dir + "/d " + dir + "/a.pem\n"},
		{cmd: "add ssl crt-list " + dir + "/d " + dir + "/d/c.pem\n"},
		{cmd: "show ssl crt-list -n " + dir + "/l1.list\n"},
		{cmd: "show ssl crt-list " + dir + "/l2.list\n"},
		{cmd: "del ssl crt-list " + dir + "/nope a.pem\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/nope.pem\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/d/c.pem\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/a.pem\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/a.pem:2\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/a.pem:x\n"},
		{cmd: "del ssl crt-list " + dir + "/l2.list " + dir + "/b.pem\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/b.pem:5\n", traffic: true},
		{cmd: "del ssl crt-list " + dir + "/l1.list " + dir + "/a.pem:1\n"},
		{cmd: "show ssl crt-list -n " + dir + "/l1.list\n"},
		{cmd: "del ssl crt-list " + dir + "/l1.list\n"},
		{cmd: "operator; show ssl crt-list\n"},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			// The bind lines are in each side's own configuration file.
			got[i] = cfgPath.ReplaceAllString(cliSend(t, "unix", s.sock, st.cmd), "CFG:")
			if st.traffic {
				got[i] += "=> " + sslHeader(t, s.fe, "x-f")
			}
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%q\nhaproxy:\n%q", strings.SplitN(st.cmd, "\n", 2)[0], got[1], got[0])
		}
	}
}

// cfgPath is where a configuration file is named in an answer.
var cfgPath = regexp.MustCompile(`/\S+\.cfg:`)
