package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyView is what one side of a handshake knows of it: the randoms and
// the lines of crypto/tls's key log.
type keyView struct {
	mu     sync.Mutex
	cr, sr string
	log    map[string]string // label -> secret, hex
}

func (k *keyView) Write(line []byte) (int, error) {
	f := strings.Fields(string(line))
	if len(f) == 3 {
		k.mu.Lock()
		k.log[f[0]], k.cr = f[2], strings.ToUpper(f[1])
		k.mu.Unlock()
	}
	return len(line), nil
}

// helloTap records the random of the first hello read (client side) or
// written (server side) on a connection.
type helloTap struct {
	net.Conn
	k     *keyView
	read  bool
	first []byte
}

func (h *helloTap) grab(p []byte) {
	if len(h.first) < 43 {
		h.first = append(h.first, p[:min(len(p), 43-len(h.first))]...)
		if len(h.first) == 43 && h.first[0] == 22 && h.first[5] == 2 {
			h.k.mu.Lock()
			h.k.sr = strings.ToUpper(hex.EncodeToString(h.first[11:43]))
			h.k.mu.Unlock()
		}
	}
}

func (h *helloTap) Read(p []byte) (int, error) {
	n, err := h.Conn.Read(p)
	if h.read {
		h.grab(p[:n])
	}
	return n, err
}

func (h *helloTap) Write(p []byte) (int, error) {
	if !h.read {
		h.grab(p)
	}
	return h.Conn.Write(p)
}

// judge says how each value the proxy gave matches what the test's side
// of the handshake knows: "ok", "-" when absent, or "WRONG".
func judge(got map[string]string, want map[string]string, names ...string) string {
	var out []string
	for _, n := range names {
		g, w := got[n], want[n]
		switch {
		case g == "":
			out = append(out, n+"=-")
		case strings.EqualFold(g, w):
			out = append(out, n+"=ok")
		default:
			out = append(out, n+"=WRONG")
		}
	}
	return strings.Join(out, " ")
}

// The randoms and secrets behind a key log: ssl_fc_client_random,
// ssl_fc_server_random, ssl_fc_session_key (TLS 1.2's master secret) and,
// with tune.ssl.keylog on, the TLS 1.3 traffic secrets, as the client
// knows them; ssl_bc_client_random, ssl_bc_server_random and
// ssl_bc_session_key as the server knows them. The same checks run
// against HAProxy and gohap.
func TestTLSKeysDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the key fetches")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srvCert, _ := ca.issue(t, dir, "srv.pem", "srv.test", false)
	upstream := startKeyUpstream(t, srvCert)
	const cfg = `global
%[1]s
defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %[2]s ssl crt %[4]s/srv.pem
 http-request return status 200 hdr cr %%[ssl_fc_client_random,hex] hdr sr %%[ssl_fc_server_random,hex] hdr sk %%[ssl_fc_session_key,hex] hdr chs %%[ssl_fc_client_handshake_traffic_secret] hdr shs %%[ssl_fc_server_handshake_traffic_secret] hdr c0 %%[ssl_fc_client_traffic_secret_0] hdr s0 %%[ssl_fc_server_traffic_secret_0] hdr ce %%[ssl_fc_client_early_traffic_secret] hdr ee %%[ssl_fc_early_exporter_secret]
listen back
 bind %[3]s
 http-response set-header bcr %%[ssl_bc_client_random,hex]
 http-response set-header bsr %%[ssl_bc_server_random,hex]
 http-response set-header bsk %%[ssl_bc_session_key,hex]
 server s12 %[5]s ssl verify none ssl-max-ver TLSv1.2
listen back13
 bind %[6]s
 http-response set-header bcr %%[ssl_bc_client_random,hex]
 http-response set-header bsr %%[ssl_bc_server_random,hex]
 server s13 %[5]s ssl verify none
`
	front := func(addr string, vers uint16) string {
		k := &keyView{log: map[string]string{}}
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return "dial: " + err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		tc := tls.Client(&helloTap{Conn: c, k: k, read: true}, &tls.Config{InsecureSkipVerify: true, MaxVersion: vers, KeyLogWriter: k})
		fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			return "request: " + err.Error()
		}
		got := map[string]string{}
		for _, h := range []string{"cr", "sr", "sk", "chs", "shs", "c0", "s0", "ce", "ee"} {
			got[h] = r.Header.Get(h)
		}
		want := map[string]string{"cr": k.cr, "sr": k.sr, "sk": k.log["CLIENT_RANDOM"],
			"chs": k.log["CLIENT_HANDSHAKE_TRAFFIC_SECRET"], "shs": k.log["SERVER_HANDSHAKE_TRAFFIC_SECRET"],
			"c0": k.log["CLIENT_TRAFFIC_SECRET_0"], "s0": k.log["SERVER_TRAFFIC_SECRET_0"]}
		names := []string{"cr", "sr", "chs", "shs", "c0", "s0", "ce", "ee"}
		if vers == tls.VersionTLS12 {
			// Go gives no TLS 1.3 session's resumption secret, which
			// HAProxy's ssl_fc_session_key shows.
			names = append(names, "sk")
		}
		return judge(got, want, names...)
	}
	back := func(addr string, names ...string) string {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return "dial: " + err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "request: " + err.Error()
		}
		got := map[string]string{"cr": r.Header.Get("bcr"), "sr": r.Header.Get("bsr"), "sk": r.Header.Get("bsk")}
		want := map[string]string{"cr": r.Header.Get("ucr"), "sr": r.Header.Get("usr"), "sk": r.Header.Get("usk")}
		return judge(got, want, names...)
	}
	run := func(start func(cfg, addr string), keylog string) []string {
		a, b, c := freePort(t), freePort(t), freePort(t)
		start(fmt.Sprintf(cfg, keylog, a, b, dir, upstream, c), c)
		return []string{
			"TLS 1.3: " + front(a, tls.VersionTLS13),
			"TLS 1.2: " + front(a, tls.VersionTLS12),
			"server, TLS 1.2: " + back(b, "cr", "sr", "sk"),
			// Go gives no TLS 1.3 session key here either.
			"server, TLS 1.3: " + back(c, "cr", "sr"),
		}
	}
	for _, keylog := range []string{"tune.ssl.keylog on", "tune.ssl.keylog off"} {
		ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) }, keylog)
		got := run(func(cfg, _ string) { startGohap(t, cfg, nil) }, keylog)
		agree := sameLines(t, ref, got)
		t.Logf("%s: %d of %d agree:\n%s", keylog, agree, len(ref), strings.Join(got, "\n"))
		all := strings.Join(got, "\n")
		if strings.Contains(all, "WRONG") || (keylog == "tune.ssl.keylog on" && !strings.Contains(all, "c0=ok s0=ok")) {
			t.Errorf("%s:\n%s", keylog, all)
		}
	}
}

// startKeyUpstream serves HTTPS with cert and answers each request with
// what it knows of its connection's handshake: ucr and usr, the randoms,
// and usk, the TLS 1.2 master secret.
func startKeyUpstream(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		k := &keyView{log: map[string]string{}}
		tc := tls.Server(&helloTap{Conn: c, k: k}, &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: k})
		br := bufio.NewReader(tc)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			req.Body.Close()
			var b bytes.Buffer
			fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nucr: %s\r\nusr: %s\r\nusk: %s\r\ncontent-length: 0\r\n\r\n", k.cr, k.sr, k.log["CLIENT_RANDOM"])
			tc.Write(b.Bytes())
		}
	})
}
