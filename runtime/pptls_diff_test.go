package runtime_test

import (
	"fmt"
	"testing"
)

// A PROXY header read before a TLS handshake (bind ... ssl accept-proxy)
// gives its TLVs to the streams of the connection: fc_pp_unique_id sees
// the unique id a server line sent, with an ALPN name HAProxy has no mux
// for offered by the sender, as HAProxy does.
func TestProxyHeaderBeforeTLSDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	cert := writeCert(t, t.TempDir(), "c.pem", "localhost")
	run := func(start func(cfg, fe string)) string {
		fe, recv := freePort(t), freePort(t)
		start(fmt.Sprintf(`defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
 unique-id-format TEST-%%[req.hdr(in)]
listen sender
 bind %s
 server r %s send-proxy-v2 proxy-v2-options unique-id ssl alpn XXX verify none
listen receiver
 bind %s ssl crt %s accept-proxy
 http-request set-var(txn.id) fc_pp_unique_id
 http-after-response set-header x-id %%[var(txn.id)]
 http-request return status 200
`, fe, recv, recv, cert), fe)
		r, _ := roundTrip(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nin: foo\r\nConnection: close\r\n\r\n")
		return fmt.Sprintf("%d %q", r.StatusCode, r.Header.Get("x-id"))
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref || ref != `200 "TEST-foo"` {
		t.Errorf("haproxy %s, gohap %s", ref, got)
	}
}
