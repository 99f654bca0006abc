package runtime_test

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsErrCfg has a TLS bind and one that requires a client certificate
// from a CA, both logging with httplog.
const tlsErrCfg = `
global
    log %[1]s local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend tls
    bind %[2]s ssl crt %[5]s/site.pem
    http-request return status 200
frontend mtls
    bind %[3]s ssl crt %[5]s/site.pem verify required ca-file %[5]s/ca.pem
    http-request return status 200
frontend ready
    bind %[4]s
    no log
    http-request return status 200
`

// TestTLSHandshakeErrorLogDifferential: a TLS handshake that fails is
// logged as HAProxy's session_kill_embryonic logs it, with its reason
// (closed, timed out, not TLS, no or an untrusted client certificate),
// and a good one leads to the request's line.
func TestTLSHandshakeErrorLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	writeCert(t, dir, "ca.pem", "ca.test")
	other := writeCert(t, dir, "other.pem", "client.test")
	clientCert, err := tls.LoadX509KeyPair(other, other)
	if err != nil {
		t.Fatal(err)
	}
	sides := startLogPair(t, 3, func(sink string, p []string) string {
		return fmtCfg(tlsErrCfg, sink, p[0], p[1], p[2], dir)
	})
	// A ClientHello record header announcing more than what follows.
	partial := "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + strings.Repeat("\x00", 10)
	cases := []struct {
		name string
		fe   int
		run  func(c net.Conn)
	}{
		{"closed at once", 0, func(c net.Conn) { c.(*net.TCPConn).CloseWrite(); io.ReadAll(c) }},
		{"not TLS", 0, func(c net.Conn) { io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); io.ReadAll(c) }},
		{"nothing sent", 0, func(c net.Conn) { io.ReadAll(c) }},
		{"cut hello", 0, func(c net.Conn) { io.WriteString(c, partial); c.(*net.TCPConn).CloseWrite(); io.ReadAll(c) }},
		{"good", 0, func(c net.Conn) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test"})
			io.WriteString(tc, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			io.ReadAll(tc)
		}},
		{"no client certificate", 1, func(c net.Conn) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", MaxVersion: tls.VersionTLS12})
			tc.Handshake()
			io.ReadAll(tc)
		}},
		{"untrusted client certificate", 1, func(c net.Conn) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", MaxVersion: tls.VersionTLS12,
				Certificates: []tls.Certificate{clientCert}})
			tc.Handshake()
			io.ReadAll(tc)
		}},
	}
	agreed := 0
	for _, c := range cases {
		var got [2]string
		for i := range sides {
			conn, err := net.DialTimeout("tcp", sides[i].ports[c.fe], time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(4 * time.Second))
			c.run(conn)
			conn.Close()
			line, ok := sides[i].sink.next(3 * time.Second)
			if !ok {
				line = "(no log line)"
			}
			got[i] = maskLog(line)
		}
		if got[0] != got[1] {
			t.Errorf("%s:\nhaproxy: %s\ngohap:   %s", c.name, got[0], got[1])
			continue
		}
		agreed++
	}
	t.Logf("TLS handshake cases logged as HAProxy logs them: %d/%d", agreed, len(cases))
}
