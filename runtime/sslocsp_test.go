package runtime_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspResponse makes a DER OCSP response of ca for serial.
func ocspResponse(t *testing.T, ca *testCA, serial *big.Int, status int, this, next time.Time) []byte {
	t.Helper()
	tpl := ocsp.Response{Status: status, SerialNumber: serial, ThisUpdate: this, NextUpdate: next, Certificate: ca.cert,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}, Value: []byte{4, 4, 1, 2, 3, 4}}}}
	if status == ocsp.Revoked {
		tpl.RevokedAt, tpl.RevocationReason = this, ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(ca.cert, ca.cert, tpl, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// staple is the OCSP response a client asking for one gets from addr.
func staple(t *testing.T, addr string) []byte {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().OCSPResponse
}

// ocspFixture is a CA, a certificate "site" with a <file>.ocsp response
// ("good") and <file>.issuer, another certificate without one, and the
// CLI sides running bind, which takes site then other (fmt verbs 3, 4).
type ocspFixture struct {
	dir, site, other string
	ca               *testCA
	serial           *big.Int
	now              time.Time
	good             []byte
	sides            []cliMapsSide
}

func newOCSPFixture(t *testing.T, bind string, files map[string]string) *ocspFixture {
	t.Helper()
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare OCSP stapling with")
	}
	f := &ocspFixture{dir: t.TempDir(), now: time.Now().UTC().Truncate(time.Second)}
	f.ca = newTestCA(t, f.dir, "ca")
	leaf, site := f.ca.issue(t, f.dir, "site.pem", "site.test", false)
	_, f.other = f.ca.issue(t, f.dir, "other.pem", "other.test", false)
	f.site, f.serial = site, leaf.Leaf.SerialNumber
	f.good = ocspResponse(t, f.ca, f.serial, ocsp.Good, f.now.Add(-time.Hour), f.now.Add(48*time.Hour))
	write := map[string][]byte{site + ".ocsp": f.good, site + ".issuer": mustRead(t, f.ca.file)}
	for name, text := range files {
		write[f.dir+"/"+name] = []byte(strings.ReplaceAll(text, "SITE", site))
	}
	for p, data := range write {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `global
 stats socket %[1]s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen tls
 bind %[2]s ` + bind + `
 http-request return status 200
`
	f.sides = startCLISides(t, func(s *cliMapsSide) string { return fmt.Sprintf(cfg, s.sock, s.fe, f.site, f.other, f.dir) })
	return f
}

// A certificate with a <file>.ocsp response is stapled as HAProxy
// staples it, and the OCSP commands of the CLI answer as HAProxy's:
// listing, details in OpenSSL's text, replacement through "set ssl
// ocsp-response" and through a "set ssl cert <file>.ocsp" transaction.
func TestCLISSLOCSPDifferential(t *testing.T) {
	f := newOCSPFixture(t, "ssl crt %[3]s crt %[4]s", nil)
	ca, site, other, serial, now, good, sides := f.ca, f.site, f.other, f.serial, f.now, f.good, f.sides
	revoked := ocspResponse(t, ca, serial, ocsp.Revoked, now.Add(-30*time.Minute), now.Add(72*time.Hour))
	expired := ocspResponse(t, ca, serial, ocsp.Good, now.Add(-72*time.Hour), now.Add(-48*time.Hour))
	stranger := ocspResponse(t, ca, big.NewInt(12345), ocsp.Good, now.Add(-time.Hour), now.Add(48*time.Hour))
	b64 := func(der []byte) string { return base64.StdEncoding.EncodeToString(der) }
	list := sides[1].send(t, "show ssl ocsp-response\n")
	m := regexp.MustCompile(`Certificate ID key : ([0-9a-f]+)`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no certificate id listed: %q", list)
	}
	key := m[1]
	steps := []struct {
		cmd  string
		want []byte // the staple handshakes get afterwards
	}{
		{cmd: "show ssl ocsp-response\n", want: good},
		{cmd: "show ssl ocsp-response " + key + "\n"},
		{cmd: "show ssl ocsp-response " + key + "00\n"},
		{cmd: "show ssl ocsp-response 3030\n"},
		{cmd: "show ssl ocsp-response " + strings.Repeat("ab", 129) + "\n"},
		{cmd: "show ssl cert " + site + "\n"},
		{cmd: "show ssl cert " + other + "\n"},
		{cmd: "show ssl cert " + site + ".ocsp\n"},
		{cmd: "show ssl cert " + other + ".ocsp\n"},
		{cmd: "set ssl ocsp-response\n"},
		{cmd: "set ssl ocsp-response %%%\n"},
		{cmd: "set ssl ocsp-response aGVsbG8=\n"},
		{cmd: "set ssl ocsp-response " + b64(expired) + "\n"},
		{cmd: "set ssl ocsp-response " + b64(stranger) + "\n", want: good},
		{cmd: "user; set ssl ocsp-response " + b64(revoked) + "\n", want: revoked},
		{cmd: "user; show ssl ocsp-response " + key + "\n"},
		{cmd: "user; show ssl cert " + site + ".ocsp\n"},
		{cmd: "set ssl ocsp-response " + b64(good) + "\n", want: good},
		{cmd: "set ssl ocsp-response " + strings.ToUpper(key) + "\n"},
		{cmd: "show ssl ocsp-response " + strings.ToUpper(key) + "\n"},
		{cmd: "show ssl ocsp-response " + key[1:] + "\n"},
		{cmd: "set ssl ocsp-response <<\n" + b64(revoked) + "\n\n", want: revoked},
		{cmd: "show ssl ocsp-response " + key + "\n"},
		{cmd: "show ssl cert " + site + ".ocsp\n"},
		{cmd: "set ssl cert " + site + ".ocsp <<\n!!\n\n"},
		{cmd: "set ssl cert " + site + ".ocsp <<\n" + b64(good) + "\n\n", want: revoked},
		{cmd: "show ssl cert *" + site + ".ocsp\n"},
		{cmd: "show ssl cert *" + site + "\n"},
		{cmd: "commit ssl cert " + site + "\n", want: good},
		{cmd: "show ssl ocsp-response " + key + "\n"},
		{cmd: "set ssl cert " + site + " <<\n" + string(mustRead(t, site)) + "\n"},
		{cmd: "show ssl cert *" + site + "\n"},
		{cmd: "show ssl cert *" + site + ".ocsp\n"},
		{cmd: "commit ssl cert " + site + "\n", want: []byte{}},
		{cmd: "show ssl ocsp-response\n"},
		{cmd: "user; show ssl ocsp-response\n"},
	}
	for _, st := range steps {
		var got [2]string
		var staples [2][]byte
		for i, s := range sides {
			got[i] = s.send(t, st.cmd)
			if st.want != nil {
				staples[i] = staple(t, s.fe)
			}
		}
		name := strings.SplitN(st.cmd, "\n", 2)[0]
		if got[0] != got[1] {
			t.Errorf("%.80q:\ngohap:\n%s\nhaproxy:\n%s", name, got[1], got[0])
		}
		if st.want != nil && (!bytes.Equal(staples[0], st.want) || !bytes.Equal(staples[1], st.want)) {
			t.Errorf("%.80q: staple gohap %d bytes, haproxy %d bytes, want %d bytes (equal: %v %v)", name,
				len(staples[1]), len(staples[0]), len(st.want), bytes.Equal(staples[1], st.want), bytes.Equal(staples[0], st.want))
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Deleting and adding back a crt-list line of a certificate with an
// OCSP response keeps its entry, as HAProxy 2.6 does.
func TestCLISSLOCSPCrtListDifferential(t *testing.T) {
	f := newOCSPFixture(t, "ssl crt %[4]s crt-list %[5]s/list.txt", map[string]string{"list.txt": "SITE site.test\n"})
	list, site, sides := f.dir+"/list.txt", f.site, f.sides
	for _, cmd := range []string{
		"show ssl ocsp-response\n",
		"del ssl crt-list " + list + " " + site + "\n",
		"show ssl ocsp-response\n",
		"show ssl cert " + site + "\n",
		"add ssl crt-list " + list + " " + site + "\n",
		"show ssl ocsp-response\n",
		"show ssl cert " + site + ".ocsp\n",
	} {
		var got [2]string
		for i, s := range sides {
			got[i] = s.send(t, cmd)
		}
		if got[0] != got[1] {
			t.Errorf("%.80q:\ngohap:\n%s\nhaproxy:\n%s", strings.TrimSpace(cmd), got[1], got[0])
		}
	}
}
