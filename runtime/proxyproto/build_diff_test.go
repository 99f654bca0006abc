package proxyproto

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// captured is the PROXY header a server received and the peer it saw.
type captured struct {
	hdr  []byte
	peer netip.AddrPort
	self netip.AddrPort
}

// captureServer listens on a free port, reads the PROXY header of every
// connection, answers an HTTP request if one follows, and reports the header.
func captureServer(t *testing.T) (string, chan captured) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan captured, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveCapture(c, ch)
		}
	}()
	return l.Addr().String(), ch
}

func serveCapture(c net.Conn, ch chan captured) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	var hdr []byte
	if p, err := r.Peek(5); err != nil {
		return
	} else if string(p) == "PROXY" {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		hdr = append(hdr, line...)
	} else {
		fixed := make([]byte, 16)
		if _, err := io.ReadFull(r, fixed); err != nil {
			return
		}
		rest := make([]byte, int(fixed[14])<<8|int(fixed[15]))
		if _, err := io.ReadFull(r, rest); err != nil {
			return
		}
		hdr = append(fixed, rest...)
	}
	ch <- captured{hdr: hdr, peer: netip.MustParseAddrPort(c.RemoteAddr().String()), self: netip.MustParseAddrPort(c.LocalAddr().String())}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
	}
}

// request sends prefix and an HTTP request to addr over network and waits
// for the answer. It returns the client's address.
func request(t *testing.T, network, addr string, prefix []byte, hdrs string) netip.AddrPort {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	req := append(append([]byte{}, prefix...), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+hdrs+"\r\n"...)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, c)
	ap, _ := netip.ParseAddrPort(c.LocalAddr().String())
	return ap
}

func nextCapture(t *testing.T, ch chan captured) captured {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(3 * time.Second):
		t.Fatal("no PROXY header reached the server")
		return captured{}
	}
}

// checkCapture is the next capture whose PROXY header is addressed to
// the capturing server itself, as a health check's is. Test binaries run
// at once and reuse each other's ports: another test's proxy forwarding
// to a port this server now holds sends the header of its own client,
// whose destination is that proxy's frontend.
func checkCapture(t *testing.T, ch chan captured) captured {
	t.Helper()
	for range 5 {
		c := nextCapture(t, ch)
		if h, _, err := Parse(c.hdr); err == nil && h.Dst.IsValid() && h.Dst != c.self {
			t.Logf("skipped a header addressed to %s, not this server (%s)", h.Dst, c.self)
			continue
		}
		return c
	}
	t.Fatal("no PROXY header addressed to the server reached it")
	return captured{}
}

// TestBuildAgainstHAProxy runs haproxy in front of a capturing server with
// send-proxy, send-proxy-v2 and proxy-v2-options, and compares every header
// it sends with what AppendV1/AppendV2 build from the same facts.
func TestBuildAgainstHAProxy(t *testing.T) {
	haproxyBin(t)
	srv, ch := captureServer(t)
	ports := make([]string, 7)
	for i := range ports {
		ports[i] = freePort(t)
	}
	sock := filepath.Join(t.TempDir(), "fe.sock")
	const uidFormat = `%{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt`
	cfg := `
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend v1
    bind ` + ports[0] + `
    bind unix@` + sock + `
    default_backend v1
frontend v2
    bind ` + ports[1] + `
    default_backend v2
frontend v2opts
    bind ` + ports[2] + `
    unique-id-format ` + uidFormat + `
    default_backend v2opts
frontend v1pp
    bind ` + ports[3] + ` accept-proxy
    default_backend v1
frontend v2pp
    bind ` + ports[4] + ` accept-proxy
    unique-id-format ` + uidFormat + `
    default_backend v2opts
frontend v1mixed
    bind ` + ports[5] + `
    http-request set-src hdr(x-src)
    default_backend v1
frontend v2mixed
    bind ` + ports[6] + `
    http-request set-src hdr(x-src)
    default_backend v2
frontend v2unix
    bind unix@` + sock + `2
    default_backend v2
backend v1
    server s ` + srv + ` send-proxy
backend v2
    server s ` + srv + ` send-proxy-v2
backend v2opts
    server s ` + srv + ` send-proxy-v2 proxy-v2-options crc32c,authority,unique-id
`
	startHAProxy(t, cfg, ports[0])
	ap := netip.MustParseAddrPort
	fe := func(i int) netip.AddrPort { return ap(ports[i]) }
	agree, total := 0, 0
	check := func(name string, got captured, want []byte) {
		t.Helper()
		total++
		if !bytes.Equal(got.hdr, want) {
			t.Errorf("%s:\nhaproxy % x\nbuilt   % x", name, got.hdr, want)
			return
		}
		agree++
	}
	cl := request(t, "tcp", ports[0], nil, "")
	check("send-proxy tcp4", nextCapture(t, ch), AppendV1(nil, cl, fe(0)))

	request(t, "unix", sock, nil, "")
	check("send-proxy from unix socket", nextCapture(t, ch), AppendV1(nil, netip.AddrPort{}, netip.AddrPort{}))

	cl = request(t, "tcp", ports[1], nil, "")
	check("send-proxy-v2 tcp4", nextCapture(t, ch), AppendV2(nil, &V2{Src: cl, Dst: fe(1)}))

	request(t, "unix", sock+"2", nil, "")
	check("send-proxy-v2 from unix socket", nextCapture(t, ch), AppendV2(nil, &V2{}))

	uidRe := func(src, dst netip.AddrPort) *regexp.Regexp {
		hexAddr := func(a netip.AddrPort) string {
			return fmt.Sprintf("%X:%04X", a.Addr().As4(), a.Port())
		}
		return regexp.MustCompile("^" + hexAddr(src) + "_" + hexAddr(dst) + "_[0-9A-F]{8}_[0-9A-F]{4}$")
	}
	// The unique ID holds a date and a request counter: take it from
	// haproxy's header once checked against the format.
	optsCase := func(name string, got captured, v V2, re *regexp.Regexp) {
		h, _, err := Parse(got.hdr)
		if err != nil {
			t.Errorf("%s: haproxy's header does not parse: %v", name, err)
		}
		if re != nil && !re.Match(h.UniqueID) {
			t.Errorf("%s: unique-id %q does not match %s", name, h.UniqueID, re)
		}
		v.Options = OptCRC32C | OptAuthority | OptUniqueID
		v.UniqueID = h.UniqueID
		check(name, got, AppendV2(nil, &v))
	}
	cl = request(t, "tcp", ports[2], nil, "")
	optsCase("send-proxy-v2 crc32c,authority,unique-id", nextCapture(t, ch), V2{Src: cl, Dst: fe(2)}, uidRe(cl, fe(2)))

	for _, c := range []struct{ src, dst netip.AddrPort }{
		{ap("10.1.2.3:4567"), ap("10.9.8.7:80")},
		{ap("[2001:db8::1]:1"), ap("[2001:db8::ffff:1.2.3.4]:65535")},
		{ap("[::1.2.3.4]:1"), ap("[::]:2")},
	} {
		request(t, "tcp", ports[3], AppendV1(nil, c.src, c.dst), "")
		check("accept-proxy then send-proxy "+c.src.String(), nextCapture(t, ch), AppendV1(nil, c.src, c.dst))
	}
	for _, c := range []struct {
		src, dst netip.AddrPort
		auth     string
	}{
		{ap("10.1.2.3:4567"), ap("10.9.8.7:80"), "example.com"},
		{ap("[2001:db8::1]:1"), ap("[2001:db8::2]:2"), ""},
		{ap("1.1.1.1:1"), ap("2.2.2.2:2"), "-"},
	} {
		in := &V2{Src: c.src, Dst: c.dst, Options: OptAuthority}
		if c.auth != "-" {
			in.Authority = []byte(c.auth)
		}
		request(t, "tcp", ports[4], AppendV2(nil, in), "")
		var re *regexp.Regexp
		if c.src.Addr().Is4() {
			re = uidRe(c.src, c.dst)
		}
		optsCase("accept-proxy then send-proxy-v2 authority "+c.auth, nextCapture(t, ch), V2{Src: c.src, Dst: c.dst, Authority: in.Authority}, re)
	}
	for _, src := range []string{"2001:db8::5", "::ffff:9.9.9.9"} {
		request(t, "tcp", ports[5], nil, "x-src: "+src+"\r\n")
		got := nextCapture(t, ch)
		// set-src keeps the client's port.
		h, _, _ := Parse(got.hdr)
		check("set-src "+src+" then send-proxy", got, AppendV1(nil, netip.AddrPortFrom(netip.MustParseAddr(src), h.Src.Port()), fe(5)))
		request(t, "tcp", ports[6], nil, "x-src: "+src+"\r\n")
		got = nextCapture(t, ch)
		h, _, _ = Parse(got.hdr)
		check("set-src "+src+" then send-proxy-v2", got, AppendV2(nil, &V2{Src: netip.AddrPortFrom(netip.MustParseAddr(src), h.Src.Port()), Dst: fe(6)}))
	}
	t.Logf("AppendV1/AppendV2 agree with HAProxy on %d/%d headers", agree, total)
}

// TestCheckHeadersAgainstHAProxy compares the headers health checks send:
// v1 with the check connection's own addresses, v2 as LOCAL.
func TestCheckHeadersAgainstHAProxy(t *testing.T) {
	haproxyBin(t)
	srv1, ch1 := captureServer(t)
	srv2, ch2 := captureServer(t)
	port := freePort(t)
	startHAProxy(t, `
defaults
    mode tcp
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen l
    bind `+port+`
    server a `+srv1+` send-proxy check inter 200ms
    server b `+srv2+` send-proxy-v2 proxy-v2-options crc32c,unique-id,authority check inter 200ms
`, port)
	c1 := checkCapture(t, ch1)
	if want := AppendV1(nil, c1.peer, c1.self); !bytes.Equal(c1.hdr, want) {
		t.Errorf("v1 check header %q, built %q", c1.hdr, want)
	}
	c2 := checkCapture(t, ch2)
	if want := AppendV2(nil, &V2{Local: true, Options: OptCRC32C | OptUniqueID | OptAuthority}); !bytes.Equal(c2.hdr, want) {
		t.Errorf("v2 check header % x, built % x", c2.hdr, want)
	}
}
