package runtime_test

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// A TLS 1.3 client that offers Go's three suites gets the one HAProxy
// picks: TLS_AES_256_GCM_SHA384 by default (OpenSSL's order, the
// server's preference), the first of a ciphersuites list's order.
func TestTLS13SuiteOrderDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the suite chosen")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	suite := func(addr string) string {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		return tls.CipherSuiteName(c.ConnectionState().CipherSuite)
	}
	// The default comes last: the process is left with it.
	for _, suites := range []string{"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", ""} {
		opt := ""
		if suites != "" {
			opt = " ciphersuites " + suites
		}
		fe := freePort(t)
		cfg := fmtCfg("defaults\n mode http\n timeout client 2s\n timeout server 2s\n timeout connect 1s\nfrontend fe\n bind %s ssl crt %s/site.pem%s\n http-request return status 200\n", fe, dir, opt)
		startHAProxy(t, cfg, fe)
		want := suite(fe)
		fe2 := freePort(t)
		e := startGohap(t, strings.Replace(cfg, fe, fe2, 1), nil)
		if got := suite(fe2); got != want {
			t.Errorf("ciphersuites %q: gohap %s, haproxy %s", suites, got, want)
		}
		e.Stop()
		e.Wait()
	}
}

// Go has one TLS 1.3 order per process: lines asking for two are
// refused, at the one compiled second (backends come first); a server's
// checks over TLS count too.
func TestTLS13SuiteOrderConflict(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	const head = `defaults
 mode http
 timeout client 1s
 timeout server 1s
 timeout connect 1s
frontend a
 bind 127.0.0.1:1 ssl crt %[1]s/site.pem ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
 bind 127.0.0.1:2 ssl crt %[1]s/site.pem
 default_backend b
backend b
`
	want := "parsing [c.cfg:7] : ciphersuites 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256' : Go's TLS 1.3 takes one suite order per process, and 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256' is another line's; it is not supported by the gohap runtime yet."
	for _, srv := range []string{" server s 127.0.0.1:3 ssl verify none", " server s 127.0.0.1:3 check check-ssl verify none"} {
		text := fmtCfg(head+srv+" ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256\n", dir)
		if g := compileErrors(t, text); g != want {
			t.Errorf("%s:\n%q\nwant %q", srv, g, want)
		}
	}
}

// compileErrors compiles text as c.cfg and joins the runtime's errors.
func compileErrors(t *testing.T, text string) string {
	t.Helper()
	cfg, ds := parser.Parse([]parser.Input{{Name: "c.cfg", Data: []byte(text)}}, parser.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	_, errs := runtime.Compile(cfg, runtime.Options{})
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	return strings.Join(got, "; ")
}
