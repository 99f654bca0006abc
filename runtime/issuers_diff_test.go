package runtime_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIssuersChainPathDifferential: a bind's certificate file without a
// chain is sent with the chain of the issuers-chain-path file whose first
// certificate issued it (the root left out under ssl-skip-self-issued-ca),
// and "show ssl cert" names that file, as HAProxy does.
func TestIssuersChainPathDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	dir := t.TempDir()
	leaf, chain := chainPEMs(t)
	_, other := chainPEMs(t)
	iss := filepath.Join(dir, "issuers")
	os.Mkdir(iss, 0o700)
	os.Mkdir(filepath.Join(iss, "sub"), 0o700)
	for name, b := range map[string][]byte{"leaf.pem": leaf, "issuers/a-other.pem": other, "issuers/b-chain.pem": chain, "issuers/c-junk.pem": []byte("junk\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	leafFile := filepath.Join(dir, "leaf.pem")
	up := startEcho(t, "s1")
	for _, global := range []string{"", " ssl-skip-self-issued-ca\n"} {
		sides := startCLISides(t, func(s *cliMapsSide) string {
			return fmt.Sprintf("global\n stats socket %s level admin\n issuers-chain-path %s/\n%sdefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
				"frontend fe\n bind %s ssl crt %s\n default_backend be\nbackend be\n server s1 %s\n", s.sock, iss, global, s.fe, leafFile, up.Addr())
		})
		var got [2]string
		for i, s := range sides {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", s.fe, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range c.ConnectionState().PeerCertificates {
				names = append(names, x.Subject.CommonName)
			}
			c.Close()
			got[i] = strings.Join(names, " < ") + "\n" + s.send(t, "show ssl cert "+leafFile+"\n")
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", global, got[1], got[0])
		}
		want := "leaf.test < intermediate < root\n"
		if global != "" {
			want = "leaf.test < intermediate\n"
		}
		if !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], "Chain Filename: "+iss+"/b-chain.pem\n") {
			t.Errorf("%q: haproxy:\n%s", global, got[0])
		}
	}
}
