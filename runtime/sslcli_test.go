package runtime_test

import (
	"crypto/tls"
	"fmt"
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
	type side struct{ sock, fe string }
	var sides []side
	for _, name := range []string{"haproxy", "gohap"} {
		s := side{sock: filepath.Join(t.TempDir(), "s.sock"), fe: freePort(t)}
		text := fmt.Sprintf(cfg, s.sock, s.fe, freePort(t), cli, site, ca.file, up.Addr())
		if name == "haproxy" {
			startHAProxy(t, text, s.fe)
		} else {
			startGohap(t, text, nil)
		}
		sides = append(sides, s)
	}
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
