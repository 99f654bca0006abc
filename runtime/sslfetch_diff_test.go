package runtime_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The certificate fetches ssl_c_* (the client's), ssl_f_* (the
// frontend's own) and ssl_s_* (the server's) give what HAProxy gives, for
// the chain of a client certificate sent by a server line, read through a
// second proxy that speaks TLS to the first.
func TestCertFetchesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the certificate fetches")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	_, srvPem := ca.issue(t, dir, "srv.pem", "srv.test", false)
	_, cliPem := ca.issue(t, dir, "cli.pem", "client.test", true)
	// The client sends its chain with the CA: ssl_c_chain_der leaves
	// the client's own certificate out.
	cliData, _ := os.ReadFile(cliPem)
	caData, _ := os.ReadFile(ca.file)
	chained := filepath.Join(dir, "chain.pem")
	os.WriteFile(chained, append(cliData, caData...), 0o600)
	up := startEcho(t, "s1")
	var fetches []string
	for _, p := range []string{"ssl_c_", "ssl_f_"} {
		for _, f := range []string{"der,hex", "sha1,hex", "serial,hex", "notafter", "notbefore", "sig_alg", "key_alg", "version",
			"s_dn", "i_dn", "s_dn(cn)", "i_dn(CN,-1)", "s_dn(O,2)"} {
			fetches = append(fetches, p+f)
		}
	}
	fetches = append(fetches, "ssl_c_chain_der,hex", "ssl_c_used", "ssl_c_verify", "ssl_c_err", "ssl_c_ca_err", "ssl_c_ca_err_depth", "ssl_fc_has_early", "ssl_fc_err", "fc_err", "fc_err_str")
	var rules strings.Builder
	for i, f := range fetches {
		rules.WriteString(fmtCfg(" http-response set-header x-f%d %%[%s]\n", i, f))
	}
	var srvRules strings.Builder
	for i, f := range []string{"sha1,hex", "s_dn", "i_dn", "notafter", "key_alg", "sig_alg", "der,hex", "chain_der,hex", "version", "serial,hex"} {
		srvRules.WriteString(fmtCfg(" http-response set-header x-s%d %%[ssl_s_%s]\n", i, f))
	}
	run := func(start func(cfg, fe string)) map[string]string {
		fe, tlsAddr := freePort(t), freePort(t)
		start(fmtCfg(`defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen clear
 bind %s
%s server s %s ssl verify none crt %s
listen tls
 bind %s ssl crt %s ca-file %s verify optional
%s server s %s
`, fe, srvRules.String(), tlsAddr, chained, tlsAddr, srvPem, ca.file, rules.String(), up.Addr()), fe)
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
		var all []byte
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
		}
		out := map[string]string{}
		for _, l := range strings.Split(string(all), "\r\n") {
			if k, v, ok := strings.Cut(l, ": "); ok && strings.HasPrefix(k, "x-") {
				out[k] = v
			}
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if len(ref) < len(fetches) {
		t.Fatalf("haproxy answered %d headers of %d: %v", len(ref), len(fetches), ref)
	}
	t.Logf("%d headers compared", len(ref))
	for k, v := range ref {
		if got[k] != v {
			t.Errorf("%s: haproxy %q, gohap %q", k, v, got[k])
		}
	}
	for k, v := range got {
		if _, ok := ref[k]; !ok {
			t.Errorf("%s: gohap %q, haproxy nothing", k, v)
		}
	}
}
