package ring

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The PROXY header goes first on each connection, before the framed
// messages, and again on the connection that follows a close by the
// server.
func TestForwarderProxyHeader(t *testing.T) {
	r := New(4096)
	rc := listen(t, "127.0.0.1:0")
	hdr := []byte("PROXY UNKNOWN\r\n")
	f := Forward(r, Target{Network: "tcp", Addr: rc.ln.Addr().String(), OctetCount: true, Proxy: hdr})
	defer f.Close()
	r.Write(1000, nil, []byte("one"))
	c := rc.next(t)
	if l := readLine(t, c); l != string(hdr) {
		t.Fatalf("first line %q", l)
	}
	if m := readFrame(t, c); m != "one" {
		t.Fatalf("got %q", m)
	}
	c.Close()
	c2 := rc.next(t)
	r.Write(1000, nil, []byte("two"))
	if l := readLine(t, c2); l != string(hdr) {
		t.Fatalf("first line after reconnect %q", l)
	}
	if m := readFrame(t, c2); m != "two" {
		t.Fatalf("after reconnect: %q", m)
	}
}

// testCert is net/http/httptest's certificate for example.com.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	defer srv.Close()
	return srv.TLS.Certificates[0]
}

// With TLS the PROXY header comes in clear, then the handshake (with the
// SNI and ALPN of the settings), then the messages inside TLS. A server
// that fails the handshake is tried again; one that closes a connection
// gets a new handshake.
func TestForwarderTLS(t *testing.T) {
	r := New(4096)
	rc := listen(t, "127.0.0.1:0")
	hdr := []byte("PROXY UNKNOWN\r\n")
	var calls atomic.Int32
	f := Forward(r, Target{Network: "tcp", Addr: rc.ln.Addr().String(), Proxy: hdr, Connect: 2 * time.Second,
		TLS: func() *tls.Config {
			calls.Add(1)
			return &tls.Config{InsecureSkipVerify: true, ServerName: "example.com", NextProtos: []string{"syslog"}}
		}})
	defer f.Close()
	r.Write(1000, nil, []byte("<134>hello"))
	// The first server is no TLS server: it closes after the header.
	c := rc.next(t)
	if l := readLine(t, c); l != string(hdr) {
		t.Fatalf("first line %q", l)
	}
	c.Close()
	cert := testCert(t)
	accept := func() (*tls.Conn, *bufio.Reader) {
		t.Helper()
		c := rc.next(t)
		// The header is read byte by byte: the handshake follows it.
		var line []byte
		b := make([]byte, 1)
		for len(line) < 2 || string(line[len(line)-2:]) != "\r\n" {
			if _, err := io.ReadFull(c.Conn, b); err != nil {
				t.Fatalf("header: %v (%q)", err, line)
			}
			line = append(line, b[0])
		}
		if string(line) != string(hdr) {
			t.Fatalf("header %q", line)
		}
		var sni string
		tc := tls.Server(c.Conn, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"syslog"},
			GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) { sni = h.ServerName; return nil, nil }})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if sni != "example.com" || tc.ConnectionState().NegotiatedProtocol != "syslog" {
			t.Fatalf("sni %q alpn %q", sni, tc.ConnectionState().NegotiatedProtocol)
		}
		return tc, bufio.NewReader(tc)
	}
	tc, br := accept()
	if l, err := br.ReadString('\n'); err != nil || l != "<134>hello\n" {
		t.Fatalf("got %q, %v", l, err)
	}
	waitSent(t, f, 1)
	tc.Close()
	tc2, br2 := accept()
	defer tc2.Close()
	r.Write(1000, nil, []byte("again"))
	if l, err := br2.ReadString('\n'); err != nil || l != "again\n" {
		t.Fatalf("after reconnect: %q, %v", l, err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d TLS settings asked for, want one per connection (3)", calls.Load())
	}
}
