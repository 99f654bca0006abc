package runtime_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// clientHello returns the first bytes a TLS client offering alpn sends.
func clientHello(t *testing.T, sni string, alpn []string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true})
		c.Handshake()
	}()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	return buf[:n]
}

// req.ssl_alpn reads the protocols a ClientHello offers, each of them
// for an ACL, and req.ssl_sni its server name: a TCP frontend routes on
// them as HAProxy does.
func TestSSLALPNDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	named := func(name string) string {
		return serveRaw(t, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			b := make([]byte, 4096)
			c.Read(b)
			io.WriteString(c, name)
		})
	}
	h2, sni, other := named("h2"), named("sni"), named("other")
	cases := []string{"h2", "http/1.1,h2", "http/1.1", "", "spdy/3,x,y,h2", "elsewhere"}
	hellos := map[string][]byte{}
	for _, l := range cases {
		var alpn []string
		name := "x.example"
		switch l {
		case "elsewhere":
			name = "y.example"
		case "":
		default:
			alpn = strings.Split(l, ",")
		}
		hellos[l] = clientHello(t, name, alpn)
	}
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmt.Sprintf(`defaults
 mode tcp
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 tcp-request inspect-delay 2s
 tcp-request content accept if { req.len gt 0 }
 use_backend h2 if { req.ssl_alpn h2 }
 use_backend sni if { req.ssl_sni -i X.example }
 default_backend other
backend h2
 server s %s
backend sni
 server s %s
backend other
 server s %s
`, fe, h2, sni, other), fe)
		var out []string
		for _, l := range cases {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write(hellos[l])
			b, _ := io.ReadAll(c)
			c.Close()
			out = append(out, fmt.Sprintf("%q -> %s", l, b))
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") || !strings.Contains(got[1], "-> h2") || !strings.Contains(got[2], "-> sni") {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
}
