package runtime_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cipCfg has a bind taking NetScaler Client IP headers, connection rules
// asking for a PROXY header from one source and for a CIP header from
// all, a bind taking both headers, and a tcp-mode bind with another
// magic number; each HTTP frontend answers with the addresses it read.
const cipCfg = `
global
    log %[1]s local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend cip
    # CLI options on a proxy's bind change nothing.
    bind %[2]s accept-netscaler-cip 1234 level admin severity-output number expose-fd listeners
    http-request return status 200 content-type text/plain lf-string "%%[src]:%%[src_port]>%%[dst]:%%[dst_port]"
frontend rulepp
    bind %[3]s
    tcp-request connection expect-proxy layer4 if { src 127.0.0.2 }
    http-request return status 200 content-type text/plain lf-string "%%[src]:%%[src_port]>%%[dst]:%%[dst_port]"
frontend rulecip
    bind %[4]s
    tcp-request connection expect-netscaler-cip layer4
    http-request return status 200 content-type text/plain lf-string "%%[src]:%%[src_port]>%%[dst]:%%[dst_port]"
frontend both
    bind %[5]s accept-netscaler-cip 1234 accept-proxy
    http-request return status 200 content-type text/plain lf-string "%%[src]:%%[src_port]>%%[dst]:%%[dst_port]"
frontend tcp
    mode tcp
    option tcplog
    bind %[6]s accept-netscaler-cip 77
    default_backend echo
backend echo
    mode tcp
    server s %[7]s
frontend ready
    bind %[8]s
    no log
    http-request return status 200
`

var loopPorts = regexp.MustCompile(`(127\.0\.0\.\d+):\d+`)

// cipIPv4 is an IPv4 header (ihl words) and a TCP header from src to dst.
func cipIPv4(src, dst string, proto byte, ihl int) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	h := make([]byte, ihl*4+20)
	h[0], h[9] = 0x40|byte(ihl), proto
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)))
	s4, d4 := s.Addr().As4(), d.Addr().As4()
	copy(h[12:], s4[:])
	copy(h[16:], d4[:])
	binary.BigEndian.PutUint16(h[ihl*4:], s.Port())
	binary.BigEndian.PutUint16(h[ihl*4+2:], d.Port())
	return h
}

// cipIPv6 is an IPv6 header and a TCP header from src to dst.
func cipIPv6(src, dst string, next byte) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	h := make([]byte, 60)
	h[0], h[6] = 0x60, next
	binary.BigEndian.PutUint16(h[4:], 20)
	s16, d16 := s.Addr().As16(), d.Addr().As16()
	copy(h[8:], s16[:])
	copy(h[24:], d16[:])
	binary.BigEndian.PutUint16(h[40:], s.Port())
	binary.BigEndian.PutUint16(h[42:], d.Port())
	return h
}

// cipLegacy and cipStd frame an IP header in the two forms of the
// protocol, with the length field given.
func cipLegacy(magic uint32, ip []byte, n int) string {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return string(append(b, ip...))
}

func cipStd(magic uint32, typ byte, ip []byte, n int) string {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ip)+12))
	b = append(b, typ, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	return string(append(b, ip...))
}

// cipExchange sends raw from src (empty: any loopback address; raw
// empty: a FIN at once; raw "-": nothing), then reads until the
// connection ends, and says how it ended.
func cipExchange(t *testing.T, addr, src, raw string) string {
	t.Helper()
	d := net.Dialer{Timeout: time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(4 * time.Second))
	switch raw {
	case "":
		c.(*net.TCPConn).CloseWrite()
	case "-":
	default:
		io.WriteString(c, raw)
	}
	b, err := io.ReadAll(c)
	end := "FIN"
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		end = "RST"
	case err != nil:
		end = err.Error()
	}
	if i := strings.Index(string(b), "\r\n\r\n"); i > 0 && strings.HasPrefix(string(b), "HTTP/") {
		b = append(b[:strings.Index(string(b), "\r\n")], b[i:]...)
	}
	return fmt.Sprintf("%q %s", b, end)
}

// logSide is one proxy of a side-by-side log comparison: its log sink
// and its listening ports.
type logSide struct {
	sink  *logSink
	ports []string
}

// startLogPair starts HAProxy (sides[0]) and gohap (sides[1]) on the
// configuration cfg(sink address, ports), each with n ports of its own;
// HAProxy's readiness probe goes to the last port, where nothing logs.
func startLogPair(t *testing.T, n int, cfg func(sink string, ports []string) string) (sides [2]logSide) {
	for i := range sides {
		s := &sides[i]
		s.sink = newLogSink(t)
		for range n {
			s.ports = append(s.ports, freePort(t))
		}
		text := cfg(s.sink.addr(), s.ports)
		if i == 0 {
			startHAProxy(t, text, s.ports[n-1])
		} else {
			startGohap(t, text, nil)
		}
	}
	return sides
}

// TestNetScalerCIPDifferential: "accept-netscaler-cip", "tcp-request
// connection expect-netscaler-cip" and "expect-proxy" read the client's
// addresses from the headers, refuse bad ones and log the connection
// errors as HAProxy 2.6 does: the answers, how the connections end and
// the log lines agree.
func TestNetScalerCIPDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare NetScaler CIP handling with")
	}
	echo := rawEcho(t)
	sides := startLogPair(t, 6, func(sink string, p []string) string {
		return fmtCfg(cipCfg, sink, p[0], p[1], p[2], p[3], p[4], echo, p[5])
	})
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	v4 := cipIPv4("10.1.2.3:1111", "10.9.9.9:80", 6, 5)
	v6 := cipIPv6("[2001:db8::1]:3333", "[2001:db8::2]:443", 6)
	cases := []struct {
		name string
		fe   int
		src  string
		raw  string
	}{
		{"legacy ipv4", 0, "", cipLegacy(1234, v4, len(v4)) + req},
		{"standard ipv4", 0, "", cipStd(1234, 0, v4, len(v4)) + req},
		{"legacy ipv6", 0, "", cipLegacy(1234, v6, len(v6)) + req},
		{"standard ipv6", 0, "", cipStd(1234, 0, v6, len(v6)) + req},
		{"ip options", 0, "", cipLegacy(1234, cipIPv4("10.1.2.5:1555", "10.9.9.9:80", 6, 6), 44) + req},
		{"bad magic", 0, "", cipLegacy(1235, v4, len(v4)) + req},
		{"bad type", 0, "", cipStd(1234, 1, v4, len(v4)) + req},
		{"udp", 0, "", cipLegacy(1234, cipIPv4("10.1.2.3:1111", "10.9.9.9:80", 17, 5), 40) + req},
		{"ipv6 not tcp", 0, "", cipLegacy(1234, cipIPv6("[2001:db8::1]:1", "[2001:db8::2]:2", 17), 60) + req},
		{"ip version 5", 0, "", cipLegacy(1234, append([]byte{0x50}, make([]byte, 39)...), 40) + req},
		{"short", 0, "", cipLegacy(1234, v4, 20)[:10]},
		{"truncated", 0, "", cipLegacy(1234, v4, len(v4))[:30]},
		{"length beyond the data", 0, "", cipLegacy(1234, v4, 400) + req},
		{"length shorter than the headers", 0, "", cipStd(1234, 0, v4, 0) + req},
		{"not a header", 0, "", req},
		{"closed at once", 0, "", ""},
		{"nothing sent", 0, "", "-"},
		{"rule: no header wanted", 1, "127.0.0.1", req},
		{"rule: PROXY header", 1, "127.0.0.2", "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\n" + req},
		{"rule: PROXY header missing", 1, "127.0.0.2", req},
		{"rule: CIP magic 0", 2, "", cipLegacy(0, v4, len(v4)) + req},
		{"rule: CIP magic 1234", 2, "", cipLegacy(1234, v4, len(v4)) + req},
		{"both headers", 3, "", cipLegacy(1234, v4, len(v4)) + "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\n" + req},
		{"CIP, then no PROXY header", 3, "", cipLegacy(1234, v4, len(v4)) + req},
		{"CIP, then closed", 3, "", cipLegacy(1234, v4, len(v4))},
		{"both: nothing sent", 3, "", "-"},
		{"tcp mode", 4, "", cipStd(77, 0, v6, len(v6)) + "hello"},
	}
	agreed := 0
	for _, c := range cases {
		var got [2]string
		for i := range sides {
			s := &sides[i]
			out := cipExchange(t, s.ports[c.fe], c.src, c.raw)
			line, ok := s.sink.next(3 * time.Second)
			if !ok {
				line = "(no log line)"
			}
			got[i] = loopPorts.ReplaceAllString(out+"\n"+maskLog(line), "$1:PORT")
		}
		if got[0] != got[1] {
			t.Errorf("%s:\nhaproxy: %s\ngohap:   %s", c.name, got[0], got[1])
			continue
		}
		agreed++
	}
	t.Logf("NetScaler CIP and PROXY header cases agreeing with HAProxy: %d/%d", agreed, len(cases))
}
