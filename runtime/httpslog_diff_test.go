package runtime_test

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// option httpslog: the same lines as HAProxy's, once masked, for a TLS
// connection and for a plain one (whose TLS fields are "-").
func TestHTTPSLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the log lines")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe, plain := freePort(t), freePort(t)
		start(fmtCfg(`global
 log %s local0
defaults
 mode http
 log global
 option httpslog
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s ssl crt %s/site.pem
 bind %s
 default_backend be
backend be
 server s1 %s
`, sink.addr(), fe, dir, plain, up.Addr()), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		var got []string
		for i, addr := range []string{fe, plain} {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			var rw io.ReadWriter = c
			if i == 0 {
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test",
					// One suite offered: the servers' own preferences differ.
					MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
				if err := tc.Handshake(); err != nil {
					t.Fatal(err)
				}
				rw = tc
			}
			io.WriteString(rw, "GET /size/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			io.ReadAll(rw)
			c.Close()
			l, ok := sink.next(time.Second)
			if !ok {
				l = "(no line)"
			}
			got = append(got, maskLog(l))
			time.Sleep(50 * time.Millisecond)
		}
		return got
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if agree := sameLines(t, ref, got); agree != len(ref) {
		t.Logf("httpslog: %d of %d lines agree", agree, len(ref))
	}
	if !strings.Contains(strings.Join(got, "\n"), "site.test/TLSv1.2/ECDHE-ECDSA-AES128-GCM-SHA256") {
		t.Errorf("no TLS fields in %q", got)
	}
}
