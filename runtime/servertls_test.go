package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/echo"
)

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of the CA certificate
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, file: file}
}

// issue makes a certificate for name signed by the CA, and writes it
// with its key in dir/file.
func (ca *testCA) issue(t *testing.T, dir, file, name string, client bool) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// tlsUpstream is an HTTPS server that answers with what it saw of the
// TLS connection, and counts full handshakes.
type tlsUpstream struct {
	addr       string
	handshakes atomic.Int64
	// resumed counts the requests on resumed TLS sessions.
	resumed atomic.Int64
}

func startTLSUpstream(t *testing.T, cert tls.Certificate, clientCA *testCA) *tlsUpstream {
	t.Helper()
	u := &tlsUpstream{}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven,
		NextProtos: []string{"http/1.1"}}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.cert)
		cfg.ClientCAs = pool
	}
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		u.handshakes.Add(1)
		return nil, nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			// Healthy to checks that name it (check-sni) and ask for
			// http/1.1 (check-alpn).
			if r.TLS.ServerName != "chk.test" || r.TLS.NegotiatedProtocol != "http/1.1" {
				w.WriteHeader(503)
			}
			return
		}
		cn := ""
		if r.TLS.DidResume {
			u.resumed.Add(1)
		}
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "sni=%s cn=%s", r.TLS.ServerName, cn)
		if p := r.TLS.NegotiatedProtocol; p != "" {
			fmt.Fprintf(w, " alpn=%s", p)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return u
}

const serverTLSCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    http-reuse safe
frontend f
    bind %[1]s
    use_backend %%[path,field(2,/)]
backend ok
    server s %[2]s ssl ca-file %[3]s verifyhost upstream.test
backend wrongca
    retries 1
    server s %[2]s ssl verify required ca-file %[4]s
backend none
    server s %[2]s ssl verify none
backend alpn
    server s %[2]s ssl verify none alpn http/1.1
    http-response set-header x-server "%%[ssl_bc] %%[ssl_bc_protocol] %%[ssl_bc_alpn] %%[ssl_bc_is_resumed] %%[ssl_bc_use_keysize] %%[ssl_bc_alg_keysize] %%[ssl_bc_cipher,length]"
backend snistr
    server s %[2]s ssl verify none sni str(named.test)
backend snihost
    server s %[2]s ssl verify none sni req.hdr(host)
backend crt
    server s %[2]s ssl verify none crt %[5]s
backend defsrv
    default-server ssl verify none sni str(default.test)
    server s %[2]s
frontend t
    mode tcp
    bind %[6]s
    default_backend tcpssl
backend tcpssl
    mode tcp
    server s %[2]s ssl verify none sni str(tcp.test)
`

// TestServerTLS sends requests to an HTTPS upstream through gohap and
// haproxy with the same configuration: verification, SNI, client
// certificates.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	_, clientFile := ca.issue(t, dir, "client.pem", "client.test", true)
	up := startTLSUpstream(t, cert, ca)
	cases := []struct {
		path, host string
		status     int
		body       string
	}{
		{"/ok/", "a", 200, "sni= cn="},
		{"/wrongca/", "a", 503, ""},
		{"/none/", "a", 200, "sni= cn="},
		{"/alpn/", "a", 200, "sni= cn= alpn=http/1.1"},
		{"/snistr/", "a", 200, "sni=named.test cn="},
		{"/snihost/", "host.test", 200, "sni=host.test cn="},
		{"/crt/", "a", 200, "sni= cn=client.test"},
		{"/defsrv/", "a", 200, "sni=default.test cn="},
	}
	for _, impl := range []string{"gohap", "haproxy"} {
		t.Run(impl, func(t *testing.T) {
			fe, tcpFe := freePort(t), freePort(t)
			cfg := fmtCfg(serverTLSCfg, fe, up.addr, ca.file, other.file, clientFile, tcpFe)
			if impl == "gohap" {
				startGohap(t, cfg, nil)
			} else {
				startHAProxy(t, cfg, fe)
			}
			// mode tcp: the bytes go through TLS to the server.
			if status, _, body := get(t, tcpFe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); status != 200 || body != "sni=tcp.test cn=" {
				t.Errorf("%s mode tcp: %d %q", impl, status, body)
			}
			for _, c := range cases {
				status, xs, body := get(t, fe, "GET "+c.path+" HTTP/1.1\r\nHost: "+c.host+"\r\nConnection: close\r\n\r\n")
				if status != c.status || c.status == 200 && body != c.body {
					t.Errorf("%s %s: %d %q, want %d %q", impl, c.path, status, body, c.status, c.body)
				}
				// The ssl_bc* fetches on the server connection (the
				// upstream, in this process, takes OpenSSL's first suite).
				if c.path == "/alpn/" && xs != "1 TLSv1.3 http/1.1 0 256 256 22" {
					t.Errorf("%s ssl_bc fetches: %q", impl, xs)
				}
			}
		})
	}
}

// TestServerTLSReuse counts the upstream's handshakes for keep-alive
// traffic: one connection carries the requests of a client, and another
// client reuses it under http-reuse safe; a different SNI opens another.
func TestServerTLSReuse(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	for _, impl := range []string{"gohap", "haproxy"} {
		t.Run(impl, func(t *testing.T) {
			up := startTLSUpstream(t, cert, nil)
			fe := freePort(t)
			cfg := fmtCfg(serverTLSCfg, fe, up.addr, ca.file, ca.file, "x", freePort(t))
			cfg = strings.Replace(cfg, "backend crt\n    server s "+up.addr+" ssl verify none crt x\n", "", 1)
			if impl == "gohap" {
				startGohap(t, cfg, nil)
			} else {
				startHAProxy(t, cfg, fe)
			}
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := 0; i < 5; i++ {
				status, body := keepAliveGet(t, c, "/snihost/", "h1.test")
				if status != 200 || body != "sni=h1.test cn=" {
					t.Fatalf("request %d: %d %q", i, status, body)
				}
			}
			if n := up.handshakes.Load(); n != 1 {
				t.Errorf("%s: %d handshakes for 5 keep-alive requests, want 1", impl, n)
			}
			status, body := keepAliveGet(t, c, "/snihost/", "h2.test")
			if status != 200 || body != "sni=h2.test cn=" {
				t.Fatalf("other sni: %d %q", status, body)
			}
			if n := up.handshakes.Load(); n != 2 {
				t.Errorf("%s: %d handshakes after another SNI, want 2", impl, n)
			}
		})
	}
}

// keepAliveGet sends one request on c and reads its response.
func keepAliveGet(t *testing.T, c net.Conn, path, host string) (int, string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	defer resp.Body.Close()
	b := make([]byte, resp.ContentLength)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// The access log lines of requests to TLS servers agree with haproxy's:
// a verified server, a server whose certificate another CA signed, and a
// server that does not speak TLS (retries, 503, termination flags).
func TestServerTLSLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	up := startTLSUpstream(t, cert, nil)
	plain := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		var b [512]byte
		c.Read(b[:])
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		io.Copy(io.Discard, c)
	})
	silent := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, c)
	})
	reqs := []string{"/ok/", "/wrongca/", "/plain/", "/badhost/", "/silent/"}
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(`global
 log %[1]s local0
defaults
 mode http
 log global
 option httplog
 timeout connect 200ms
 timeout client 5s
 timeout server 2s
 retries 2
frontend fe
 bind %[2]s
 use_backend %%[path,field(2,/)]
backend ok
 server s %[3]s ssl ca-file %[4]s verifyhost upstream.test
backend wrongca
 server s %[3]s ssl ca-file %[5]s
backend plain
 server s %[6]s ssl verify none
backend badhost
 server s %[3]s ssl ca-file %[4]s verifyhost other.test
backend silent
 server s %[7]s ssl verify none
`, sink.addr(), fe, up.addr, ca.file, other.file, plain, silent), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		var got []string
		for _, p := range reqs {
			exchange(t, fe, "GET "+p+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
			l, ok := sink.next(3 * time.Second)
			time.Sleep(50 * time.Millisecond)
			if !ok {
				l = "(no line)"
			}
			got = append(got, p+" => "+maskLog(l))
		}
		return got
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	t.Logf("%d of %d lines agree", sameLines(t, ref, got), len(ref))
}

var activeLeft = regexp.MustCompile(`\d+ active`)

// check-ssl marks a server that does not speak TLS DOWN, with haproxy's
// check status in the server event; an HTTP check goes over TLS, with
// the check-sni name (the upstream is healthy only to that name).
func TestServerTLSCheck(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the events with")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	up := startTLSUpstream(t, cert, nil)
	plain := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, c)
	})
	garbage := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		var b [512]byte
		c.Read(b[:])
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		// Read to the end: no reset, whose timing would show in the
		// check's status.
		io.Copy(io.Discard, c)
	})
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(`global
 log %s local0
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout check 500ms
frontend fe
 bind %s
 default_backend be
backend be
 log global
 option httpchk GET /health
 server tls %s check-ssl check verify none inter 100ms fall 1 rise 1
 server plain %s check check-ssl verify none inter 100ms fall 1 rise 1
 server implied %s ssl check verify none inter 100ms fall 1 rise 1
 server http %s ssl check verify none inter 100ms fall 1 rise 1
 server sni %s ssl check verify none check-sni chk.test check-alpn http/1.1 inter 100ms fall 1 rise 1
`, sink.addr(), fe, up.addr, plain, plain, garbage, up.addr), fe)
		var got []string
		for len(got) < 5 {
			l, ok := sink.next(time.Second)
			if !ok {
				break
			}
			// The order of the events, and so the servers left, is timing.
			l = activeLeft.ReplaceAllString(maskLog(l), "N active")
			got = append(got, checkDuration.ReplaceAllString(l, "check duration: Nms"))
		}
		sort.Strings(got)
		return got
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") || len(ref) != 4 {
		t.Errorf("events:\n haproxy %q\n   gohap %q", ref, got)
	}
}

var (
	echoFixed = echo.FixedResponse
	crlf2     = []byte("\r\n\r\n")
)

// BenchmarkProxyKeepAliveTLSServer is the request path to an "ssl"
// server: a keep-alive client, a kept TLS server connection whose bridge
// copies through a socket pair. The upstream answers a fixed response.
func BenchmarkProxyKeepAliveTLSServer(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 8192)
				n := 0
				for {
					k, err := c.Read(buf[n:])
					if err != nil || n+k == len(buf) {
						return
					}
					n += k
					for i := bytes.Index(buf[:n], crlf2); i >= 0; i = bytes.Index(buf[:n], crlf2) {
						if _, err := c.Write(echoFixed); err != nil {
							return
						}
						n = copy(buf, buf[i+4:n])
					}
				}
			}()
		}
	}()
	fe := freePort(b)
	startGohap(b, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s ssl verify none\n", fe, ln.Addr()), nil)
	req := []byte("GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	roundTrips(b, fe, req, b.N)
}

// TLS sessions to a server are resumed on its next connections, as
// HAProxy does, unless no-ssl-reuse.
func TestServerTLSSessionReuse(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	for _, impl := range []string{"gohap", "haproxy"} {
		for _, reuse := range []string{"", " no-ssl-reuse"} {
			t.Run(impl+reuse, func(t *testing.T) {
				up := startTLSUpstream(t, cert, nil)
				fe := freePort(t)
				cfg := fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse never\n server s1 %s ssl verify none%s\n", fe, up.addr, reuse)
				if impl == "gohap" {
					startGohap(t, cfg, nil)
				} else {
					startHAProxy(t, cfg, fe)
				}
				for i := 0; i < 4; i++ {
					if status, _, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); status != 200 {
						t.Fatalf("request %d: %d", i, status)
					}
				}
				// A TLS 1.3 ticket comes after the handshake: a connection
				// that follows at once may not have it yet, in haproxy too.
				n, hs := up.resumed.Load(), up.handshakes.Load()
				if hs != 4 || reuse == "" && n < 2 || reuse != "" && n != 0 {
					t.Errorf("%d of %d connections resumed", n, hs)
				}
			})
		}
	}
}
