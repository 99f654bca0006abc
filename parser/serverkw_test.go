package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The TLS options of server lines are kept in order after those of the
// default-server lines, and are no longer refused.
func TestServerTLSWords(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `global
 ca-base ` + dir + `
backend be
 default-server ssl verify none sni str(a)
 server a 127.0.0.1:1
 server b 127.0.0.1:1 no-ssl check-ssl weight 3 ca-file x.pem verify required
 default-server check-sni s.test
 server c 127.0.0.1:1 crt c.pem no-tlsv10 ssl-min-ver TLSv1.2
`
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := []string{
		"ssl verify none sni str(a)",
		"ssl verify none sni str(a) no-ssl check-ssl ca-file x.pem verify required",
		"ssl verify none sni str(a) check-sni s.test crt c.pem no-tlsv10 ssl-min-ver TLSv1.2",
	}
	for i, s := range c.Proxies[0].Servers {
		if got := strings.Join(s.Settings.TLSWords, " "); got != want[i] || s.Settings.Unsupported != "" {
			t.Errorf("server %s: %q (unsupported %q), want %q", s.Name, got, s.Settings.Unsupported, want[i])
		}
	}
	if w := c.Proxies[0].Servers[1].Settings.Weight; w != 3 {
		t.Errorf("weight after TLS words: %d", w)
	}
}

// Bad arguments of server TLS options are refused at parse time with
// HAProxy's messages.
func TestServerTLSOptionErrors(t *testing.T) {
	for opts, want := range map[string]string{
		"ssl verify bogus":      "[p.cfg:2] : 'server be/s' : 'verify' : unknown verify method 'bogus', only 'none' and 'required' are supported.",
		"ssl verify":            "[p.cfg:2] : 'server be/s' : 'verify' : missing verify method.",
		"ssl ca-file":           "[p.cfg:2] : 'server be/s' : 'ca-file' : missing CAfile path.",
		"ssl alpn":              "[p.cfg:2] : 'server be/s' : 'alpn' : missing the comma-delimited ALPN protocol suite.",
		"ssl ssl-min-ver TLSv9": "[p.cfg:2] : 'server be/s' : 'TLSv9' : unknown ssl/tls version.",
		"ssl sni":               "[p.cfg:2] : 'server be/s' : 'sni' : missing sni expression.",
		"ssl ca-file /nonexist": "[p.cfg:2] : 'server be/s' : Couldn't open the ca-file '/nonexist' (No such file or directory).",
		"ssl ca-file /dev/null": "[p.cfg:2] : 'server be/s' : Couldn't open the ca-file '/dev/null' (no certificate or crl found).",
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server s 127.0.0.1:1 " + opts + "\n")}}, Options{})
		if !ds.HasErrors() || ds[0].Text() != want {
			t.Errorf("%s: %v, want %q", opts, ds, want)
		}
	}
}

// "proto" and "ws" are read, inherited from default-server, and their
// bad values refused with HAProxy's messages.
func TestServerProtoWS(t *testing.T) {
	cfg := "backend be\n default-server proto h2\n server a 127.0.0.1:1\n server b 127.0.0.1:1 proto h1 ws h2\n"
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	for i, want := range [][2]string{{"h2", ""}, {"h1", "h2"}} {
		st := c.Proxies[0].Servers[i].Settings
		if st.Proto != want[0] || st.WS != want[1] || st.Unsupported != "" {
			t.Errorf("server %d: proto %q ws %q (unsupported %q), want %v", i, st.Proto, st.WS, st.Unsupported, want)
		}
	}
	for opts, want := range map[string]string{
		"proto bogus": "[p.cfg:2] : 'server be/s' : 'proto' :  unknown MUX protocol 'bogus'.",
		"proto":       "[p.cfg:2] : 'server be/s' : 'proto' : missing value.",
		"ws h3":       "[p.cfg:2] : 'server be/s' : 'ws' has to be 'auto', 'h1' or 'h2'.",
		"ws":          "[p.cfg:2] : 'server be/s' : 'ws' has to be 'auto', 'h1' or 'h2'.",
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server s 127.0.0.1:1 " + opts + "\n")}}, Options{})
		if !ds.HasErrors() || ds[0].Text() != want {
			t.Errorf("%s: %v, want %q", opts, ds, want)
		}
	}
}

func TestServerPoolMaxConn(t *testing.T) {
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server a 127.0.0.1:1\n server b 127.0.0.1:1 pool-max-conn 3\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if a, b := c.Proxies[0].Servers[0].Settings.PoolMaxConn, c.Proxies[0].Servers[1].Settings.PoolMaxConn; a != -1 || b != 3 {
		t.Errorf("pool-max-conn %d and %d, want -1 and 3", a, b)
	}
	for opts, want := range map[string]string{
		"pool-max-conn -2": "[p.cfg:2] : 'server be/s' : 'pool-max-conn' must be >= -1.",
		"pool-max-conn":    "[p.cfg:2] : 'server be/s' : 'pool-max-conn' expects <value> as argument..",
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server s 127.0.0.1:1 " + opts + "\n")}}, Options{})
		if !ds.HasErrors() || ds[0].Text() != want {
			t.Errorf("%s: %v, want %q", opts, ds, want)
		}
	}
}

// "max-reuse", "tcp-ut" and "tfo" with HAProxy's values and messages.
func TestServerReuseAndSocketOptions(t *testing.T) {
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n default-server tfo\n server a 127.0.0.1:1\n" +
		" server b 127.0.0.1:1 max-reuse 3 tcp-ut 1500 no-tfo\n server c 127.0.0.1:1 max-reuse abc tcp-ut 2s\n server d 127.0.0.1:1 tcp-ut 10us\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var got []string
	for _, s := range c.Proxies[0].Servers {
		st := s.Settings
		got = append(got, fmt.Sprintf("%s:%d/%v/%v/%q", s.Name, st.MaxReuse, st.TCPUserTimeout, st.TFO, st.Unsupported))
	}
	if want := `a:-1/0s/true/"" b:3/1.5s/false/"" c:0/2s/true/"" d:-1/1ms/true/""`; strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
	for opts, want := range map[string]string{
		"max-reuse":   "[p.cfg:2] : 'server be/s' : 'max-reuse' expects <value> as argument..",
		"tcp-ut":      "[p.cfg:2] : 'server be/s' : 'tcp-ut' : missing TCP User Timeout value.",
		"tcp-ut 5x":   "[p.cfg:2] : 'server be/s' : 'tcp-ut' : expects a positive delay in milliseconds.",
		"tcp-ut 30d":  "[p.cfg:2] : 'server be/s' : timer overflow in argument '30d' to 'tcp-ut' (maximum value is 2147483647 ms or ~24.8 days).",
		"tcp-ut -1":   "[p.cfg:2] : 'server be/s' : 'tcp-ut' : expects a positive delay in milliseconds.",
		"max-reuse 1": "",
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server s 127.0.0.1:1 " + opts + "\n")}}, Options{})
		if want == "" && ds.HasErrors() || want != "" && (!ds.HasErrors() || ds[0].Text() != want) {
			t.Errorf("%s: %v, want %q", opts, ds, want)
		}
	}
}
