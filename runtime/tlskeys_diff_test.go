package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
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

// helloTap records the randoms of the hellos on a connection, each from
// the first record going its way: a resumption writes no key log line
// to take the client's from.
type helloTap struct {
	net.Conn
	k    *keyView
	read bool // the client side: the ServerHello is read
	// in and out are the starts of the first records read and written.
	in, out []byte
}

// grab keeps the start of a first record in buf and, once it holds a
// hello of type typ, that hello's random in dst.
func (h *helloTap) grab(buf *[]byte, p []byte, typ byte, dst *string) {
	if len(*buf) < 43 {
		*buf = append(*buf, p[:min(len(p), 43-len(*buf))]...)
		if b := *buf; len(b) == 43 && b[0] == 22 && b[5] == typ {
			h.k.mu.Lock()
			*dst = strings.ToUpper(hex.EncodeToString(b[11:43]))
			h.k.mu.Unlock()
		}
	}
}

func (h *helloTap) Read(p []byte) (int, error) {
	n, err := h.Conn.Read(p)
	if h.read {
		h.grab(&h.in, p[:n], 2, &h.k.sr)
	} else {
		h.grab(&h.in, p[:n], 1, &h.k.cr)
	}
	return n, err
}

func (h *helloTap) Write(p []byte) (int, error) {
	if h.read {
		h.grab(&h.out, p, 1, &h.k.cr)
	} else {
		h.grab(&h.out, p, 2, &h.k.sr)
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
	// A client's sessions, and the master secret of its last full TLS
	// 1.2 handshake, which a resumption keeps.
	type client struct {
		cache  tls.ClientSessionCache
		master string
	}
	front := func(addr string, vers uint16, cl *client) string {
		k := &keyView{log: map[string]string{}}
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return "dial: " + err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		tc := tls.Client(&helloTap{Conn: c, k: k, read: true}, &tls.Config{InsecureSkipVerify: true, MaxVersion: vers, KeyLogWriter: k, ClientSessionCache: cl.cache})
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
		resumed := tc.ConnectionState().DidResume
		switch {
		case vers == tls.VersionTLS13:
			// The PSK of the last ticket the client was given.
			want["sk"] = ticketSecret(cl.cache, addr)
		case resumed:
			want["sk"] = cl.master
		default:
			cl.master = want["sk"]
		}
		names := []string{"cr", "sr", "chs", "shs", "c0", "s0", "ce", "ee", "sk"}
		if resumed {
			// A resumption has no handshake traffic secrets to
			// compare beyond the client's own log.
			return "resumed " + judge(got, want, names...)
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
		c13 := &client{cache: tls.NewLRUClientSessionCache(4)}
		c12 := &client{cache: tls.NewLRUClientSessionCache(4)}
		return []string{
			"TLS 1.3: " + front(a, tls.VersionTLS13, c13),
			"TLS 1.3, again: " + front(a, tls.VersionTLS13, c13),
			"TLS 1.2: " + front(a, tls.VersionTLS12, c12),
			"TLS 1.2, again: " + front(a, tls.VersionTLS12, c12),
			"server, TLS 1.2: " + back(b, "cr", "sr", "sk"),
			"server, TLS 1.2, again: " + back(b, "cr", "sr", "sk"),
			"server, TLS 1.2, third: " + back(b, "cr", "sr", "sk"),
			// Go's client takes a TLS 1.3 ticket after its handshake,
			// when the key tap has ended: no session key here.
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
	var ticketKey [32]byte
	rand.Read(ticketKey[:])
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		k := &keyView{log: map[string]string{}}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: k, SessionTicketKey: ticketKey}
		// A resumed session's master secret is in its ticket.
		var resumed string
		cfg.UnwrapSession = func(id []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
			ss, err := cfg.DecryptTicket(id, cs)
			if ss != nil {
				resumed = stateSecret(ss)
			}
			return ss, err
		}
		tc := tls.Server(&helloTap{Conn: c, k: k}, cfg)
		br := bufio.NewReader(tc)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			req.Body.Close()
			sk := k.log["CLIENT_RANDOM"]
			if tc.ConnectionState().DidResume {
				sk = resumed
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nucr: %s\r\nusr: %s\r\nusk: %s\r\ncontent-length: 0\r\n\r\n", k.cr, k.sr, sk)
			tc.Write(b.Bytes())
		}
	})
}

// stateSecret is the secret of a session in hex, read from crypto/tls's
// encoding of it: version, type, suite, creation time, then the secret
// with a length byte.
func stateSecret(ss *tls.SessionState) string {
	b, err := ss.Bytes()
	if err != nil || len(b) < 14 || len(b) < 14+int(b[13]) {
		return ""
	}
	return hex.EncodeToString(b[14 : 14+int(b[13])])
}

// ticketSecret is the secret of the session cache keeps for addr.
func ticketSecret(cache tls.ClientSessionCache, addr string) string {
	st, ok := cache.Get(addr)
	if !ok || st == nil {
		return ""
	}
	_, ss, err := st.ResumptionState()
	if err != nil || ss == nil {
		return ""
	}
	return stateSecret(ss)
}
