package runtime_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// A TLS or HTTP/2 bind runs its connection's rules once per connection,
// as HAProxy does: tcp-request connection rules before the handshake (a
// rejected client gets none), the counters they track counted once for
// all the streams of an HTTP/2 connection, and sess variables shared by
// those streams.
func TestConnScopeDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the connection rules")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	// ready's bind is the one a start waits for: a probe of tr's would
	// count a connection there.
	sideBySide(t, func(start func(cfg, ready string)) string {
		rej, tr, h2c, ready := freePort(t), freePort(t), freePort(t), freePort(t)
		start(fmtCfg(baseDefaults+`frontend rej
 bind %s ssl crt %s/site.pem
 tcp-request connection reject if { src 127.0.0.1 }
 http-request return status 200
frontend tr
 bind %s ssl crt %s/site.pem alpn h2,http/1.1
 bind %s proto h2
 tcp-request connection track-sc0 src table st
 tcp-request session set-var(sess.s) str(fromsess)
 http-request set-var(sess.x) path if { path /a }
 http-request return status 200 content-type text/plain lf-string "conn=%%[sc0_conn_cnt] sess=%%[sc0_sess_cnt] req=%%[sc0_http_req_cnt] x=%%[var(sess.x)] s=%%[var(sess.s)]"
backend st
 stick-table type ip size 10 store conn_cnt,sess_cnt,http_req_cnt
frontend ready
 bind %s
`, rej, dir, tr, dir, h2c, ready), ready)
		var out []string
		// The rejected client: reset before any handshake.
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", rej, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			out = append(out, "rej: handshake done")
			c.Close()
		} else {
			out = append(out, fmt.Sprintf("rej: reset %v", errors.Is(err, errReset(err))))
		}
		get := func(name string, cl *http.Client, base string) {
			defer cl.CloseIdleConnections()
			for _, p := range []string{"/a", "/b", "/c"} {
				r, err := cl.Get(base + p)
				if err != nil {
					out = append(out, name+" "+err.Error())
					return
				}
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				out = append(out, fmt.Sprintf("%s %s %s %s", name, r.Proto, p, b))
			}
		}
		tlsCfg := &tls.Config{InsecureSkipVerify: true}
		get("h2", &http.Client{Timeout: 3 * time.Second, Transport: &http2.Transport{TLSClientConfig: tlsCfg}}, "https://"+tr)
		get("h1", &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}, "https://"+tr)
		get("h2c", h2cClient(3*time.Second), "http://"+h2c)
		return strings.Join(out, "\n")
	})
}

// errReset is err when it is a connection reset or an end of stream
// before the handshake's answer, the ways a rejected client sees it.
func errReset(err error) error {
	if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "connection reset") {
		return err
	}
	return errors.New("other")
}
