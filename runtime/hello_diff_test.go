package runtime_test

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// greaseHello is a TLS 1.2 ClientHello with GREASE values in its
// cipher, extension and curve lists, and an empty extension last.
func greaseHello() []byte {
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	body := u16(nil, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0) // no session id
	ciphers := []int{0x0a0a, 0xc02b, 0xc02c, 0x1301, 0x00ff}
	body = u16(body, 2*len(ciphers))
	for _, c := range ciphers {
		body = u16(body, c)
	}
	body = append(body, 1, 0) // null compression
	var ext []byte
	ext = u16(u16(ext, 0x1a1a), 0)
	ext = u16(u16(u16(ext, 0x000a), 8), 6)
	for _, g := range []int{0x2a2a, 0x001d, 0x0017} {
		ext = u16(ext, g)
	}
	ext = append(u16(u16(ext, 0x000b), 2), 1, 0)
	ext = u16(u16(u16(u16(ext, 0x000d), 4), 2), 0x0403)
	ext = u16(u16(ext, 0x0017), 0)
	body = append(u16(body, len(ext)), ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// The ClientHello capture (tune.ssl.capture-buffer-size) gives the same
// ssl_fc_cipherlist_*, extlist, eclist, ecformats and protocol_hello_id
// values as HAProxy's, GREASE filtered or not, in a buffer that holds
// it all and in one that cuts it, for a handshake that completes and
// for one the client leaves after its ClientHello.
func TestClientHelloCaptureDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the log lines")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	const fields = `v=%[ssl_fc_protocol_hello_id] x=%[ssl_fc_cipherlist_xxh] h=%[ssl_fc_cipherlist_hex] h1=%[ssl_fc_cipherlist_hex(1)] s=%[ssl_fc_cipherlist_str] s1=%[ssl_fc_cipherlist_str(1)] e=%[ssl_fc_extlist_bin,hex] e1=%[ssl_fc_extlist_bin(1),hex] c=%[ssl_fc_eclist_bin,hex] c1=%[ssl_fc_eclist_bin(1),hex] f=%[ssl_fc_ecformats_bin,hex]`
	run := func(start func(cfg, addr string), size int) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(`global
 log %s local0
 tune.ssl.capture-buffer-size %d
defaults
 mode http
 log global
 timeout connect 1s
 timeout client 2s
 timeout server 2s
frontend fe
 bind %s ssl crt %s/site.pem
 log-format "OK %s"
 error-log-format "ERR %s"
 http-request return status 200
`, sink.addr(), size, fe, dir, fields, fields), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		var got []string
		line := func() {
			l, ok := sink.next(2 * time.Second)
			if !ok {
				l = "(no line)"
			}
			got = append(got, maskLog(l))
		}
		for _, cfg := range []*tls.Config{
			{InsecureSkipVerify: true, ServerName: "site.test"},
			{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP384, tls.CurveP256},
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}},
		} {
			c, err := tls.Dial("tcp", fe, cfg)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			c.SetDeadline(time.Now().Add(2 * time.Second))
			io.ReadAll(c)
			c.Close()
			line()
		}
		c, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(greaseHello())
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Read(make([]byte, 1))
		c.Close()
		line()
		return got
	}
	for _, size := range []int{128, 20} {
		ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) }, size)
		got := run(func(cfg, _ string) { startGohap(t, cfg, nil) }, size)
		agree := sameLines(t, ref, got)
		t.Logf("capture of %d bytes: %d of %d lines agree", size, agree, len(ref))
		if size == 128 && !strings.Contains(strings.Join(got, "\n"), "h=0A0AC02BC02C130100FF h1=C02BC02C130100FF") {
			t.Errorf("no GREASE cipher list in %q", got)
		}
	}
}
