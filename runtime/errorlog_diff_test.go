package runtime_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// errorLogCfg logs, with an error-log-format, the connections that fail
// before carrying a stream: TLS handshakes on three binds, and requests
// the HTTP/1 parser refuses on a plain one, whose served requests keep
// the log-format.
const errorLogCfg = `global
 log %[1]s local0
defaults
 mode http
 log global
 timeout connect 1s
 timeout client 3s
 timeout server 3s
frontend fe
 bind %[2]s ssl crt %[6]s/srv.pem ciphers ECDHE-ECDSA-AES256-GCM-SHA384 ssl-max-ver TLSv1.2 strict-sni
 bind %[3]s ssl crt %[6]s/srv.pem ca-file %[7]s verify required ssl-max-ver TLSv1.2
 bind %[4]s ssl crt %[6]s/srv.pem ssl-min-ver TLSv1.3
 bind %[5]s
 log-format "OK %%ci:%%cp %%ft %%ST %%[fc_err]:%%{+Q}[fc_err_str]"
 error-log-format "ERR %%ci:%%cp [%%tr] %%ft %%b/%%s %%Th/%%Ti/%%TR/%%Tw/%%Tt %%ST %%tsc %%ac/%%fc/%%bc/%%sc/%%rc %%{+Q}r %%[fc_err]:%%{+Q}[fc_err_str] %%[ssl_fc_err,hex]:%%{+Q}[ssl_fc_err_str] sni=%%[ssl_fc_sni] %%sslv/%%sslc dn=%%{+Q}[ssl_c_s_dn] e=%%[ssl_c_err]/%%[ssl_c_ca_err]"
 http-request return status 200
`

// The lines of error-log-format are HAProxy's for each way a client can
// fail: closing, speaking HTTP or noise to a TLS port, no common cipher
// or version, an unknown name with strict-sni, no certificate or an
// untrusted one, a ClientHello cut short; on a plain bind, a request the
// parser refuses. A served request keeps the log-format.
func TestErrorLogFormatDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the log lines")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	ca.issue(t, dir, "srv.pem", "srv.test", false)
	rogue := newTestCA(t, dir, "rogue")
	bad, _ := rogue.issue(t, dir, "bad.pem", "intruder", true)

	dialTLS := func(addr string, cfg *tls.Config) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if cfg.ServerName == "" {
			cfg.ServerName = "srv.test"
		}
		cfg.InsecureSkipVerify = true
		tc := tls.Client(c, cfg)
		if tc.Handshake() == nil {
			// A failure the server finds after the client's side of
			// the handshake shows when the client reads.
			tc.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
			io.ReadAll(tc)
		}
	}
	raw := func(addr, data string) { sendHalf(t, addr, data) }
	type step struct {
		name string
		run  func(a, b, c, plain string)
	}
	steps := []step{
		{"close", func(a, _, _, _ string) { raw(a, "") }},
		{"http", func(a, _, _, _ string) { raw(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") }},
		{"noise", func(a, _, _, _ string) { raw(a, strings.Repeat("\xff\x00", 100)) }},
		{"cut hello", func(a, _, _, _ string) { raw(a, "\x16\x03\x01\x00\xff\x01\x00") }},
		{"no cipher", func(a, _, _, _ string) {
			dialTLS(a, &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
		}},
		{"strict-sni", func(a, _, _, _ string) { dialTLS(a, &tls.Config{ServerName: "nope.test"}) }},
		{"version", func(_, _, c, _ string) { dialTLS(c, &tls.Config{MaxVersion: tls.VersionTLS12}) }},
		{"no certificate", func(_, b, _, _ string) { dialTLS(b, &tls.Config{}) }},
		{"untrusted certificate", func(_, b, _, _ string) {
			dialTLS(b, &tls.Config{GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &bad, nil }})
		}},
		// The client keeps its side open: HAProxy's state would be CR
		// if it saw the shutdown before logging.
		{"bad request", func(_, _, _, p string) {
			exchange(t, p, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", []string{"GET"}, 2*time.Second)
		}},
		{"served", func(_, _, _, p string) { raw(p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") }},
	}
	run := func(start func(cfg, addr string)) []string {
		sink := newLogSink(t)
		a, b, c, plain := freePort(t), freePort(t), freePort(t), freePort(t)
		start(fmtCfg(errorLogCfg, sink.addr(), a, b, c, plain, dir, ca.file), plain)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		var got []string
		for _, s := range steps {
			s.run(a, b, c, plain)
			l, ok := sink.next(2 * time.Second)
			if !ok {
				l = "(no line)"
			}
			got = append(got, s.name+": "+maskLog(l))
		}
		return got
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := sameLines(t, ref, got)
	t.Logf("error-log-format: %d of %d lines agree", agree, len(ref))
	for _, want := range []string{`34:"SSL handshake failure" 000000000A0000C1:"error:0A0000C1:SSL routines::no shared cipher"`,
		`31:"SSL client certificate not trusted" 000000000A000086:`, `dn="/CN=intruder" e=20/0`, "OK 127.0.0.1:PORT fe 200 0:\"Success\""} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("no %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
}

// bc_err and the ssl_bc_err fetches report why the handshake with a
// server failed, as HAProxy's: an untrusted certificate, one for another
// name (the SNI sent, or verifyhost's), an alert from the server, a
// server that does not speak TLS or closes; no server connection after
// a refused connect. An alert after a TLS 1.3 handshake (the client
// certificate refused) is an "SSL fatal error".
func TestBackendConnErrorDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the log lines")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	srvCert, _ := ca.issue(t, dir, "srv.pem", "srv.test", false)
	_, rogueFile := other.issue(t, dir, "rogue.pem", "rogue", true)
	up := startTLSUpstream(t, srvCert, ca)
	// A server that asks for a client certificate from its CA.
	strict := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: poolOf(ca)}
	strictLn, err := tls.Listen("tcp", "127.0.0.1:0", strict)
	if err != nil {
		t.Fatal(err)
	}
	go (&http.Server{Handler: http.NotFoundHandler(), ErrorLog: quietLog()}).Serve(strictLn)
	t.Cleanup(func() { strictLn.Close() })
	// One that closes once it read the ClientHello, one that answers
	// it in HTTP.
	closer := serveOnce(t, "")
	plain := serveOnce(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	echo := startEcho(t, "plain")
	refused := freePort(t)
	cfg := `global
 log %[1]s local0
defaults
 mode http
 log global
 timeout connect 1s
 timeout client 3s
 timeout server 3s
 retries 0
frontend f
 bind %[2]s
 log-format "%%HP bc=%%[bc_err]:%%{+Q}[bc_err_str] sbc=%%[ssl_bc_err,hex]:%%{+Q}[ssl_bc_err_str] %%ST %%ts %%b/%%s"
 use_backend %%[path,field(2,/)]
backend untrusted
 server s %[3]s ssl verify required ca-file %[8]s
backend mismatch
 server s %[3]s ssl verify required ca-file %[9]s sni str(other.test)
backend verifyhost
 server s %[3]s ssl verify required ca-file %[9]s verifyhost other.test
backend ok
 server s %[3]s ssl verify required ca-file %[9]s sni str(srv.test)
backend clientcert
 server s %[4]s ssl verify none crt %[10]s force-tlsv12
backend clientcert13
 server s %[4]s ssl verify none crt %[10]s force-tlsv13
backend plain
 server s %[5]s ssl verify none
backend closer
 server s %[6]s ssl verify none
backend refused
 server s %[7]s ssl verify none
backend cleartext
 server s %[11]s
`
	paths := []string{"untrusted", "mismatch", "verifyhost", "ok", "clientcert", "clientcert13", "plain", "closer", "refused", "cleartext"}
	run := func(start func(cfg, addr string)) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(cfg, sink.addr(), fe, up.addr, strictLn.Addr().String(), plain, closer, refused,
			other.file, ca.file, rogueFile, echo.Addr()), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		client := &http.Client{Timeout: 3 * time.Second}
		var got []string
		for _, p := range paths {
			if r, err := client.Get("http://" + fe + "/" + p); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			l, ok := sink.next(2 * time.Second)
			if !ok {
				l = "(no line)"
			}
			if p == "clientcert13" {
				// Whether the alert comes while the stream still
				// connects (503 SC) or once it sent the request (502
				// SH) depends on HAProxy's scheduling.
				l = anyStatus.ReplaceAllString(l, " STATUS ")
			}
			got = append(got, maskLog(l))
		}
		return got
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree := sameLines(t, ref, got)
	t.Logf("bc_err: %d of %d lines agree", agree, len(ref))
	for _, want := range []string{`/mismatch bc=33:"Server presented an SSL certificate different from the expected one" sbc=000000000A000086:`,
		`/verifyhost bc=32:`, `/clientcert13 bc=43:"SSL fatal error" sbc=000000000A000418:`, `/ok bc=0:"Success" sbc=0000000000000000:"" 200`, `/refused bc=-:"" sbc=-:""`} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("no %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func poolOf(ca *testCA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// Without a log format, HAProxy logs "Connect from" per stream: for each
// request of an HTTP connection, none for one that made no request, one
// for each TCP connection; dontlognull does not drop them.
func TestConnectLineDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the log lines")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, addr string)) []string {
		sink := newLogSink(t)
		web, tcp := freePort(t), freePort(t)
		start(fmtCfg(`global
 log %s local0
defaults
 log global
 option dontlognull
 timeout connect 1s
 timeout client 3s
 timeout server 3s
frontend web
 mode http
 bind %s
 default_backend be
frontend tcp
 mode tcp
 bind %s
 default_backend be
backend be
 mode http
 server s1 %s
`, sink.addr(), web, tcp, up.Addr()), web)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		send := func(addr, data string) { sendHalf(t, addr, data) }
		// Two requests in a row on one connection, each once the
		// previous one is answered (HAProxy's count for pipelined ones
		// depends on its timing).
		c, err := net.DialTimeout("tcp", web, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(c)
		for _, close := range []bool{false, true} {
			req, _ := http.NewRequest("GET", "http://a/", nil)
			req.Close = close
			req.Write(c)
			if r, err := http.ReadResponse(br, req); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}
		c.Close()
		send(web, "GET / HTTP/1.1\r\nBad Header\r\n\r\n")
		send(web, "")
		send(tcp, "")
		var got []string
		for l, ok := sink.next(time.Second); ok; l, ok = sink.next(500 * time.Millisecond) {
			got = append(got, maskLog(l))
		}
		return got
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if len(got) != len(ref) {
		t.Errorf("%d lines, haproxy %d:\n%s\nhaproxy:\n%s", len(got), len(ref), strings.Join(got, ""), strings.Join(ref, ""))
	}
	sameLines(t, ref, got)
	if len(ref) != 3 {
		t.Errorf("haproxy sent %d lines, the test expects 3", len(ref))
	}
}

var anyStatus = regexp.MustCompile(` (502 SH|503 SC) `)

// serveOnce is a server that reads once from each connection, answers
// reply and closes; it returns the address.
func serveOnce(t *testing.T, reply string) string {
	return serveRaw(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		io.WriteString(c, reply)
	})
}

// sendHalf sends data, shuts the writing side and reads until the end.
func sendHalf(t *testing.T, addr, data string) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, data)
	c.(*net.TCPConn).CloseWrite()
	io.ReadAll(c)
}
