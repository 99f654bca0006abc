package runtime_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// socks4Proxy is a SOCKS4 proxy for tests: it reads the 16-byte CONNECT
// request HAProxy sends, keeps it, answers with reply as its status (or
// not at all with socks4Silent) and, when it grants the request (0x5A),
// relays to the address asked for.
type socks4Proxy struct {
	addr  string
	conns atomic.Int32
	mu    sync.Mutex
	reqs  [][]byte
}

// socks4Silent makes a proxy that never answers.
const socks4Silent = -1

func startSocks4(t *testing.T, reply int) *socks4Proxy {
	t.Helper()
	p := &socks4Proxy{}
	p.addr = serveRaw(t, func(c net.Conn) {
		p.conns.Add(1)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req := make([]byte, 16)
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		p.mu.Lock()
		p.reqs = append(p.reqs, req)
		p.mu.Unlock()
		if reply == socks4Silent {
			io.Copy(io.Discard, c)
			return
		}
		c.Write([]byte{0, byte(reply), 0, 0, 0, 0, 0, 0})
		if reply != 0x5a {
			return
		}
		ip := netip.AddrFrom4([4]byte(req[4:8]))
		dst := netip.AddrPortFrom(ip, binary.BigEndian.Uint16(req[2:4]))
		up, err := net.DialTimeout("tcp", dst.String(), time.Second)
		if err != nil {
			return
		}
		defer up.Close()
		c.SetDeadline(time.Time{})
		go func() {
			io.Copy(up, c)
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(c, up)
	})
	return p
}

// requests returns the CONNECT requests received so far.
func (p *socks4Proxy) requests() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.reqs...)
}

// socks4Request is the request HAProxy sends for a server at addr.
func socks4Request(t *testing.T, addr string) []byte {
	ap := netip.MustParseAddrPort(addr)
	b := []byte{4, 1, byte(ap.Port() >> 8), byte(ap.Port())}
	ip := ap.Addr().As4()
	return append(append(b, ip[:]...), "HAProxy\x00"...)
}

// checkSocks4Requests fails unless every request the proxy got is the
// one HAProxy sends for upstream.
func checkSocks4Requests(t *testing.T, p *socks4Proxy, upstream string) {
	t.Helper()
	want := socks4Request(t, upstream)
	reqs := p.requests()
	if len(reqs) == 0 {
		t.Fatal("the SOCKS4 proxy got no request")
	}
	for _, r := range reqs {
		if !bytes.Equal(r, want) {
			t.Errorf("SOCKS4 request % x, want % x", r, want)
		}
	}
}

// Traffic to a server with "socks4" goes through the proxy, in mode tcp
// and mode http, and the server's PROXY header comes after the SOCKS4
// handshake, as the server's first bytes.
func TestSocks4Traffic(t *testing.T) {
	echo := startEcho(t, "s1")
	raw := rawEcho(t)
	var ppLine atomic.Value
	pp := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		ppLine.Store(l)
		io.Copy(c, br)
	})
	px := startSocks4(t, 0x5a)
	pxRaw := startSocks4(t, 0x5a)
	pxPP := startSocks4(t, 0x5a)
	feHTTP, feTCP, fePP := freePort(t), freePort(t), freePort(t)
	startGohap(t, fmtCfg(baseDefaults+`
frontend h
    bind %[1]s
    default_backend bh
backend bh
    server s %[4]s socks4 %[5]s
frontend t
    mode tcp
    bind %[2]s
    default_backend bt
backend bt
    mode tcp
    server s %[6]s socks4 %[7]s
frontend p
    mode tcp
    bind %[3]s
    default_backend bp
backend bp
    mode tcp
    server s %[8]s socks4 %[9]s send-proxy
`, feHTTP, feTCP, fePP, echo.Addr(), px.addr, raw, pxRaw.addr, pp, pxPP.addr), nil)

	status, srv, _ := get(t, feHTTP, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if status != 200 || srv != "s1" {
		t.Errorf("http through socks4: status %d from %q", status, srv)
	}
	checkSocks4Requests(t, px, echo.Addr())

	for _, fe := range []string{feTCP, fePP} {
		c, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello\n")
		got, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if got != "hello\n" {
			t.Errorf("tcp through socks4 via %s: got %q (%v)", fe, got, err)
		}
	}
	checkSocks4Requests(t, pxRaw, raw)
	checkSocks4Requests(t, pxPP, pp)
	if l, _ := ppLine.Load().(string); !strings.HasPrefix(l, "PROXY TCP4 127.0.0.1 127.0.0.1 ") {
		t.Errorf("the server's first line is %q, want its PROXY header", l)
	}
}

// A proxy that refuses the request (0x5B) fails the connection as a
// connect failure: retried, then a 503 in mode http and a closed
// connection in mode tcp, logged "SC", as HAProxy does. One that does
// not answer runs into the connect timeout, logged "sC".
func TestSocks4FailuresMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the refusal with")
	}
	echo := startEcho(t, "s1")
	type result struct {
		status      string
		tcpData     string
		tries, logs string
	}
	run := func(reply int, start func(cfg, addr string)) result {
		px := startSocks4(t, reply)
		sink := newLogSink(t)
		feHTTP, feTCP := freePort(t), freePort(t)
		start(fmtCfg(`
defaults
    mode http
    log %[5]s local0
    option dontlognull
    retries 1
    timeout connect 500ms
    timeout client 5s
    timeout server 5s
frontend h
    bind %[1]s
    option httplog
    default_backend bh
backend bh
    server s %[3]s socks4 %[4]s
frontend t
    mode tcp
    bind %[2]s
    option tcplog
    default_backend bt
backend bt
    mode tcp
    server s %[3]s socks4 %[4]s
`, feHTTP, feTCP, echo.Addr(), px.addr, sink.addr()), feHTTP)
		var r result
		resp, _ := exchange(t, feHTTP, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 10*time.Second)
		r.status, _, _ = strings.Cut(resp, "\r\n")
		c, err := net.DialTimeout("tcp", feTCP, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "hello\n")
		b, err := io.ReadAll(c)
		c.Close()
		r.tcpData = fmt.Sprintf("%q err=%v", b, err != nil && !isReset(err))
		var lines []string
		for len(lines) < 2 {
			l, ok := sink.next(5 * time.Second)
			if !ok {
				break
			}
			lines = append(lines, maskLog(l))
		}
		r.logs = strings.Join(lines, "\n")
		r.tries = fmt.Sprint(px.conns.Load())
		checkSocks4Requests(t, px, echo.Addr())
		return r
	}
	for _, reply := range []int{0x5b, socks4Silent} {
		want := run(reply, func(cfg, addr string) { startHAProxy(t, cfg, addr) })
		got := run(reply, func(cfg, _ string) { startGohap(t, cfg, nil) })
		if got != want {
			t.Errorf("SOCKS4 reply %d:\n haproxy: %+v\n gohap:   %+v", reply, want, got)
		}
		if !strings.HasPrefix(want.status, "HTTP/1.1 503") || want.tries != "4" {
			t.Errorf("haproxy, SOCKS4 reply %d: %+v", reply, want)
		}
	}
}

// A health check goes through the server's SOCKS4 proxy with
// check-via-socks4, and with "tcp-check connect via-socks4"; a refusal,
// or no answer, fails it with HAProxy's report. HAProxy appends to that report the
// text of whatever errno its process last left (unclean_errno), such as
// EMSGSIZE from its own log sends: that part is masked on both sides.
func TestSocks4HealthChecksMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the check reports with")
	}
	echo := startEcho(t, "s1")
	raw := rawEcho(t)
	staleErrno := regexp.MustCompile(`(deny the request) \([A-Z][^()]*\)`)
	run := func(start func(cfg, fe string) func() string) (map[string]string, []*socks4Proxy) {
		var b strings.Builder
		fe := freePort(t)
		fmt.Fprintf(&b, "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n timeout check 1s\nfrontend fe\n bind %s\n", fe)
		var okProxies []*socks4Proxy
		for _, c := range []struct{ name, rules, upstream string }{
			{"http", " option httpchk\n", echo.Addr()},
			{"tcp", " option tcp-check\n tcp-check connect via-socks4\n tcp-check send hello\n tcp-check expect string hello\n", raw},
		} {
			ok, ko, to := startSocks4(t, 0x5a), startSocks4(t, 0x5b), startSocks4(t, socks4Silent)
			okProxies = append(okProxies, ok, ko, to)
			via := ""
			if c.name == "http" {
				via = " check-via-socks4"
			}
			for _, p := range []struct {
				sfx string
				px  *socks4Proxy
			}{{"ok", ok}, {"ko", ko}, {"to", to}} {
				fmt.Fprintf(&b, "backend %s_%s\n option log-health-checks\n%s server s %s socks4 %s%s check inter 150ms rise 1 fall 1\n",
					c.name, p.sfx, c.rules, c.upstream, p.px.addr, via)
			}
		}
		out := start(b.String(), fe)
		got := map[string]string{}
		// The loop ends as soon as every report is in; the bound is for a
		// loaded machine.
		for deadline := time.Now().Add(20 * time.Second); len(got) < 6 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			for _, m := range healthRe.FindAllStringSubmatch(out(), -1) {
				got[m[1]+" "+m[2]] = staleErrno.ReplaceAllString(m[3], "$1")
			}
		}
		return got, okProxies
	}
	want, pxs := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	got, gpxs := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	same := 0
	keys := []string{"http_ok/s succeeded", "http_ko/s failed", "http_to/s failed", "tcp_ok/s succeeded", "tcp_ko/s failed", "tcp_to/s failed"}
	for _, k := range keys {
		if want[k] == "" {
			t.Errorf("haproxy gave no report %q: %v", k, want)
		}
		if got[k] != want[k] {
			t.Errorf("%s:\n haproxy: %s\n gohap:   %s", k, want[k], got[k])
		} else {
			same++
		}
	}
	t.Logf("check reports identical to HAProxy: %d/%d", same, len(keys))
	for i, p := range append(pxs, gpxs...) {
		up := echo.Addr()
		if i%6 >= 3 {
			up = raw
		}
		checkSocks4Requests(t, p, up)
	}
}

// The log shows the server's address (%si:%sp), not the SOCKS4 proxy's,
// for connections made and refused, as HAProxy does.
func TestSocks4LogMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	echo := startEcho(t, "s1")
	run := func(start func(cfg, addr string)) string {
		ok, ko := startSocks4(t, 0x5a), startSocks4(t, 0x5b)
		sink := newLogSink(t)
		fes := []string{freePort(t), freePort(t), freePort(t), freePort(t)}
		start(fmtCfg(`
defaults
    log %[1]s local0
    option dontlognull
    retries 0
    log-format "%%f %%b/%%s %%si:%%sp %%ts"
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend h_ok
    mode http
    bind %[2]s
    default_backend bh_ok
frontend h_ko
    mode http
    bind %[3]s
    default_backend bh_ko
frontend t_ok
    mode tcp
    bind %[4]s
    default_backend bt_ok
frontend t_ko
    mode tcp
    bind %[5]s
    # The request is read before the connect fails: dontlognull
    # leaves out a failure that saw no data.
    tcp-request inspect-delay 2s
    tcp-request content accept if { req.len gt 0 }
    default_backend bt_ko
backend bh_ok
    mode http
    server s %[6]s socks4 %[7]s
backend bh_ko
    mode http
    server s %[6]s socks4 %[8]s
backend bt_ok
    mode tcp
    server s %[6]s socks4 %[7]s
backend bt_ko
    mode tcp
    server s %[6]s socks4 %[8]s
`, sink.addr(), fes[0], fes[1], fes[2], fes[3], echo.Addr(), ok.addr, ko.addr), fes[0])
		var lines []string
		for i, fe := range fes {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			if i < 2 {
				io.Copy(io.Discard, c)
			} else {
				// A tunnel ends when the client closes.
				bufio.NewReader(c).ReadString('\n')
			}
			c.Close()
			l, _ := sink.next(5 * time.Second)
			l = strings.ReplaceAll(strings.ReplaceAll(l, ok.addr, "PROXY"), ko.addr, "PROXY")
			lines = append(lines, logHeader.ReplaceAllString(l, ""))
		}
		return strings.Join(lines, "\n")
	}
	want := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != want {
		t.Errorf("log lines:\n haproxy:\n%s\n gohap:\n%s", want, got)
	}
	if !strings.Contains(want, echo.Addr()) {
		t.Errorf("haproxy does not log the server's address:\n%s", want)
	}
}
