package runtime_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// ppFront takes the client's PROXY header and relays with its own to
// the back proxy; ppBack takes that header and shows what it learnt: in
// mode http as headers the echo upstream returns, in mode tcp as a
// header of its own to an upstream that returns every byte it got.
const ppFront = `
defaults
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend h1
    mode http
    bind %[1]s accept-proxy
    default_backend b1
backend b1
    mode http
    server s %[3]s send-proxy
frontend h2
    mode http
    bind %[2]s accept-proxy
    default_backend b2
backend b2
    mode http
    server s %[4]s send-proxy-v2 proxy-v2-options authority,crc32c
frontend t
    mode tcp
    bind %[5]s accept-proxy
    default_backend bt
backend bt
    mode tcp
    server s %[6]s send-proxy-v2
`

const ppBack = `
defaults
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend h
    mode http
    bind %[1]s accept-proxy
    bind %[2]s accept-proxy
    http-request set-header x-pp "%%[src]:%%[src_port]>%%[dst]:%%[dst_port]"
    default_backend b
backend b
    mode http
    server s %[4]s
frontend t
    mode tcp
    bind %[3]s accept-proxy
    default_backend bt
backend bt
    mode tcp
    server s %[5]s send-proxy
`

// rawEcho returns to each connection every byte it receives.
func rawEcho(t *testing.T) string {
	return serveRaw(t, func(c net.Conn) { io.Copy(c, c) })
}

// ppChain starts the back proxy and the front proxy, each in haproxy
// or gohap, and returns the front's three addresses.
func ppChain(t *testing.T, frontGohap, backGohap bool, echo, raw string) [3]string {
	back := [3]string{freePort(t), freePort(t), freePort(t)}
	cfg := fmtCfg(ppBack, back[0], back[1], back[2], echo, raw)
	if backGohap {
		startGohap(t, cfg, nil)
	} else {
		startHAProxy(t, cfg, back[0])
	}
	front := [3]string{freePort(t), freePort(t), freePort(t)}
	cfg = fmtCfg(ppFront, front[0], front[1], back[0], back[1], front[2], back[2])
	if frontGohap {
		startGohap(t, cfg, nil)
	} else {
		startHAProxy(t, cfg, front[0])
	}
	return front
}

// v2Header is a PROXY v2 header from 192.0.2.1:1000 to 198.51.100.2:80
// with an authority TLV.
func v2Header() string {
	b, _ := hex.DecodeString("0d0a0d0a000d0a515549540a" + "21" + "11" + "0014" + "c0000201" + "c6336402" + "03e8" + "0050" + "020005" + hex.EncodeToString([]byte("a.com")))
	return string(b)
}

type ppCase struct {
	name string
	fe   int
	raw  string
}

var ppCases = []ppCase{
	{"v1 to http", 0, "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\nGET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{"v1 tcp6 to http", 0, "PROXY TCP6 2001:db8::1 2001:db8::2 1000 443\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{"v2 with authority", 1, v2Header() + "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{"v2 in tcp mode", 2, v2Header() + "hello"},
	{"v1 in tcp mode", 2, "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\nhello"},
	{"not a header", 0, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"bad v1", 0, "PROXY TCP4 192.0.2.1 198.51.100.2 1000\r\nGET / HTTP/1.1\r\n\r\n"},
	{"truncated", 0, "PROXY TCP4 192.0.2.1 "},
}

// ppExchange sends raw, then reads until the connection closes.
func ppExchange(t *testing.T, addr, raw string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, raw)
	if strings.HasSuffix(raw, "hello") {
		c.(*net.TCPConn).CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		return fmt.Sprintf("%q (error)", b)
	}
	return fmt.Sprintf("%q", b)
}

// TestDifferentialProxyProtocol runs the chain client → front → back →
// upstream with every mix of haproxy and gohap, and compares what comes
// back (what the back proxy and the upstream saw) with haproxy on both
// ends.
func TestDifferentialProxyProtocol(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	echo, raw := startEcho(t, "s1").Addr(), rawEcho(t)
	ref := ppChain(t, false, false, echo, raw)
	agree, total := 0, 0
	for _, mix := range []struct {
		name        string
		front, back bool
	}{{"haproxy→gohap", false, true}, {"gohap→haproxy", true, false}, {"gohap→gohap", true, true}} {
		got := ppChain(t, mix.front, mix.back, echo, raw)
		for _, c := range ppCases {
			total++
			want, have := ppExchange(t, ref[c.fe], c.raw), ppExchange(t, got[c.fe], c.raw)
			if want != have {
				t.Errorf("%s, %s:\nhaproxy: %s\ngohap:   %s", mix.name, c.name, want, have)
				continue
			}
			agree++
		}
	}
	t.Logf("differential PROXY protocol: %d/%d exchanges identical to HAProxy", agree, total)
}

// TestDifferentialProxyProtocolCheck compares the first bytes of the
// health checks of servers with check-send-proxy: v1 carries the check
// connection's own addresses, v2 is a LOCAL header.
func TestDifferentialProxyProtocolCheck(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(name string) string {
		return serveRaw(t, func(c net.Conn) {
			c.SetReadDeadline(time.Now().Add(time.Second))
			b := make([]byte, 256)
			n, _ := io.ReadAtLeast(c, b, 16)
			if n == 0 {
				// A check cut short on a loaded machine says nothing
				// of what a check sends.
				return
			}
			mu.Lock()
			seen[name] = append(seen[name], string(b[:n]))
			mu.Unlock()
		})
	}
	cfg := `
defaults
    mode tcp
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    timeout check 1s
frontend fe
    bind %s
    default_backend be
backend be
    server v1 %s check inter 100ms check-send-proxy
    server v2 %s check inter 100ms send-proxy-v2
`
	run := func(prefix string, start func(cfg, fe string)) {
		fe := freePort(t)
		start(fmtCfg(cfg, fe, record(prefix+"v1"), record(prefix+"v2")), fe)
		time.Sleep(1200 * time.Millisecond)
	}
	run("h", func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	run("g", func(cfg, _ string) { startGohap(t, cfg, nil) })
	mu.Lock()
	defer mu.Unlock()
	for _, srv := range []string{"v1", "v2"} {
		h, g := seen["h"+srv], seen["g"+srv]
		if len(h) == 0 || len(g) == 0 {
			t.Errorf("%s: no check seen (haproxy %d, gohap %d)", srv, len(h), len(g))
			continue
		}
		// v1 lines differ by the checks' source ports only.
		norm := func(s string) string {
			if f := strings.Fields(s); len(f) == 6 && f[0] == "PROXY" {
				return strings.Join(f[:4], " ")
			}
			return s
		}
		if norm(h[0]) != norm(g[0]) || !bytes.Equal([]byte(h[0][len(h[0])-2:]), []byte(g[0][len(g[0])-2:])) {
			t.Errorf("%s: haproxy's check sent %q, gohap's %q", srv, h[0], g[0])
		}
	}
}

// ppWordsCfg routes /N to backend bN, whose server line carries the
// PROXY words of case N; the client's own PROXY header fixes the
// addresses the servers' headers carry.
const ppWordsHead = `
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind %[1]s accept-proxy
    bind %[2]s
    http-request return status 200 if { dst_port %[3]s }
`

// ppPreamble answers each request with what came before its request
// line, in hex: the PROXY header the proxy sent, if any.
func ppPreamble(t *testing.T) string {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		var got []byte
		buf := make([]byte, 4096)
		// A v2 signature holds a blank line: the request's ends it.
		for i := bytes.Index(got, []byte("GET ")); i < 0 || !bytes.Contains(got[i:], []byte("\r\n\r\n")); i = bytes.Index(got, []byte("GET ")) {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		pre := hex.EncodeToString(got[:bytes.Index(got, []byte("GET "))])
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s", len(pre), pre)
	})
}

// The server PROXY words send-proxy-v2-ssl, send-proxy-v2-ssl-cn, their
// no- forms, no-backup, and proxy-v2-options alone (a v1 header, as
// connect_server sends for any flag without v2), over default-server
// lines too, make the server connections start as HAProxy's do.
func TestDifferentialServerProxyWords(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	srv := ppPreamble(t)
	other := startEcho(t, "other").Addr()
	// Each backend's lines; SRV is the recording server, OTHER an echo.
	cases := []string{
		"server s SRV proxy-v2-options crc32c",
		"server s SRV send-proxy-v2-ssl",
		// Only a ring's forwarder reads log-proto.
		"server s SRV send-proxy-v2 log-proto octet-count",
		"server s SRV send-proxy-v2-ssl-cn",
		"server s SRV send-proxy-v2 no-send-proxy-v2-ssl",
		"server s SRV send-proxy-v2-ssl-cn no-send-proxy-v2-ssl",
		"server s SRV send-proxy-v2-ssl-cn no-send-proxy-v2-ssl-cn send-proxy-v2",
		"default-server send-proxy-v2-ssl-cn\n    server s SRV",
		"default-server send-proxy-v2-ssl-cn\n    server s SRV no-send-proxy-v2-ssl-cn",
		"default-server send-proxy-v2-ssl\n    server s SRV no-send-proxy-v2-ssl send-proxy",
		"default-server send-proxy-v2-ssl proxy-v2-options authority\n    server s SRV no-send-proxy-v2-ssl",
		// The backup server of the default-server line takes no traffic
		// while "other" is up; no-backup puts it back.
		"default-server backup\n    server s SRV send-proxy-v2-ssl\n    server other OTHER no-backup",
		"default-server backup\n    server s SRV no-backup send-proxy-v2-ssl\n    server other OTHER no-backup",
	}
	var b strings.Builder
	for i := range cases {
		fmt.Fprintf(&b, "    use_backend b%d if { path /%d }\n", i, i)
	}
	for i, c := range cases {
		fmt.Fprintf(&b, "backend b%d\n    %s\n", i, strings.NewReplacer("SRV", srv, "OTHER", other).Replace(c))
	}
	run := func(gohap bool) []string {
		fe, ready := freePort(t), freePort(t)
		_, port, _ := net.SplitHostPort(ready)
		cfg := fmtCfg(ppWordsHead, fe, ready, port) + b.String()
		if gohap {
			startGohap(t, cfg, nil)
		} else {
			startHAProxy(t, cfg, ready)
		}
		var out []string
		for i := range cases {
			req := fmt.Sprintf("PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\nGET /%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", i)
			resp := ppExchange(t, fe, req)
			if j := strings.Index(resp, `\r\n\r\n`); j >= 0 {
				resp = resp[j+8:]
			}
			out = append(out, resp)
		}
		return out
	}
	want, got := run(false), run(true)
	agree := 0
	for i, c := range cases {
		if want[i] != got[i] {
			t.Errorf("%q:\nhaproxy: %s\ngohap:   %s", c, want[i], got[i])
			continue
		}
		agree++
	}
	t.Logf("server PROXY words: %d/%d cases identical to HAProxy", agree, len(cases))
}
