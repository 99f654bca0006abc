package runtime_test

import (
	"io"
	"strings"
	"testing"
	"time"
)

// A TCP frontend's stream becomes an HTTP one with "tcp-request content
// switch-mode http", or when it is handed to an HTTP backend: the first
// request keeps what the TCP rules set, later ones run them as HTTP
// streams; HTTP/2 prior knowledge works after the switch; "proto h1"
// refuses the HTTP/2 preface and "proto none" cannot switch. Compared
// with HAProxy.
func TestTCPToHTTPUpgradeDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the upgrade")
	}
	up := startEcho(t, "s1")
	cfg := `defaults
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe1
 mode tcp
 bind %s
 tcp-request inspect-delay 1s
 tcp-request content set-var(req.mode) internal.strm.is_htx,iif(http,tcp)
 tcp-request content switch-mode http if HTTP
 tcp-request content reject
 http-request set-header x-mode %%[var(req.mode)]
 http-request set-header x-name %%[fe_name]
 default_backend be
frontend fe2
 mode tcp
 bind %s
 default_backend be
frontend fe3
 mode tcp
 bind %s
 tcp-request inspect-delay 1s
 tcp-request content switch-mode http proto h1 if HTTP
 default_backend be
frontend fe4
 mode tcp
 bind %s proto none
 tcp-request inspect-delay 1s
 tcp-request content switch-mode http if HTTP
 default_backend be
backend be
 mode http
 http-request set-header x-name %%[be_name] unless { req.fhdr(x-name) -m found }
 http-request set-var-fmt(txn.got) "%%[req.fhdr(x-mode)] %%[req.fhdr(x-name)]"
 http-response set-header x-got "%%[var(txn.got)]"
 server s1 %s
`
	run := func(start func(cfg, fe string)) []string {
		fe1, fe2, fe3, fe4 := freePort(t), freePort(t), freePort(t), freePort(t)
		start(fmtCfg(cfg, fe1, fe2, fe3, fe4, up.Addr()), fe1)
		var out []string
		two := "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		for _, fe := range []string{fe1, fe2} {
			got, _ := exchange(t, fe, two, []string{"GET", "GET"}, 3*time.Second)
			var xs []string
			for _, l := range strings.Split(got, "\r\n") {
				if strings.HasPrefix(l, "x-got:") || strings.HasPrefix(l, "HTTP/1.1") {
					xs = append(xs, l)
				}
			}
			out = append(out, strings.Join(xs, " | "))
		}
		h2c := h2cClient(3 * time.Second)
		for i := 0; i < 2; i++ {
			r, err := h2c.Get("http://" + fe1 + "/h2")
			if err != nil {
				out = append(out, "h2: "+err.Error())
				continue
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			out = append(out, r.Proto+" "+r.Status+" "+r.Header.Get("x-got"))
		}
		h2c.CloseIdleConnections()
		for _, fe := range []string{fe3, fe4} {
			got, _ := exchange(t, fe, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []string{"GET"}, 2*time.Second)
			out = append(out, strings.SplitN(got, "\r\n", 2)[0])
			got, _ = exchange(t, fe, "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 2*time.Second)
			out = append(out, strings.SplitN(got, "\r\n", 2)[0])
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	t.Logf("upgrade: %d of %d answers agree with haproxy: %q", sameLines(t, ref, got), len(ref), ref)
}
