package runtime_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rdpRequest is the start of an RDP client's X.224 connection request
// with a cookie line, as mstsc sends it.
func rdpRequest(cookie string) []byte {
	body := "Cookie: " + cookie + "\r\n\x01\x00\x08\x00\x03\x00\x00\x00"
	n := 11 + len(body)
	b := []byte{0x03, 0x00, byte(n >> 8), byte(n), byte(n - 5), 0xe0, 0, 0, 0, 0, 0}
	return append(b, body...)
}

// rdpServer reads what the client sent and answers with its name.
func rdpServer(t *testing.T, name string) string {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		io.WriteString(c, name)
	})
}

// rdpMsts encodes a server address as a session broker's msts cookie.
func rdpMsts(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host).To4()
	p, _ := strconv.Atoi(port)
	return fmt.Sprintf("msts=%d.%d.0000", binary.LittleEndian.Uint32(ip), uint16(p)>>8|uint16(p)<<8)
}

// TestRDPCookieMatchesHAProxy balances RDP connection requests with
// "balance rdp-cookie", "persist rdp-cookie" and the inspection that
// waits for the cookie, and compares with HAProxy which server answered
// each, including requests split over several segments.
func TestRDPCookieMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type rdpCase struct {
		name  string
		parts [][]byte
	}
	run := func(start func(cfg, fe string), cases func(b string) []rdpCase) []string {
		a, b, c := rdpServer(t, "a"), rdpServer(t, "b"), rdpServer(t, "c")
		fe := freePort(t)
		start(fmtCfg(`defaults
 mode tcp
 timeout connect 1s
 timeout client 5s
 timeout server 5s
listen rdp
 bind %s
 tcp-request inspect-delay 500ms
 tcp-request content accept if RDP_COOKIE
 persist rdp-cookie
 balance rdp-cookie
 server a %s
 server b %s
 server c %s
`, fe, a, b, c), fe)
		var out []string
		for _, cs := range cases(b) {
			conn, err := net.Dial("tcp", fe)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(4 * time.Second))
			for i, p := range cs.parts {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				conn.Write(p)
			}
			got, _ := io.ReadAll(conn)
			conn.Close()
			out = append(out, cs.name+":"+string(got))
		}
		return out
	}
	cases := func(b string) []rdpCase {
		var cs []rdpCase
		for _, u := range []string{"alice", "bob", "carol", "dave", "eve", "mallory", "trent", "alice"} {
			cs = append(cs, rdpCase{"user " + u, [][]byte{rdpRequest("mstshash=" + u)}})
		}
		split := rdpRequest("mstshash=bob")
		cs = append(cs, rdpCase{"split bob", [][]byte{split[:14], split[14:25], split[25:]}})
		cs = append(cs, rdpCase{"broker to b", [][]byte{rdpRequest(rdpMsts(b))}})
		for i := 0; i < 3; i++ {
			cs = append(cs, rdpCase{"not rdp " + strconv.Itoa(i), [][]byte{[]byte("GET / HTTP/1.0\r\n\r\n")}})
		}
		return cs
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }, cases)
	got := run(func(cfg, fe string) {
		startGohap(t, cfg, nil)
		// startHAProxy's readiness probe is a connection without data,
		// which round robin gives a server: gohap gets one as well.
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}, cases)
	same := 0
	for i := range want {
		if got[i] == want[i] {
			same++
		} else {
			t.Errorf("haproxy %s, gohap %s", want[i], got[i])
		}
	}
	if !strings.Contains(strings.Join(want, " "), "broker to b:b") {
		t.Errorf("haproxy did not persist the broker cookie: %v", want)
	}
	t.Logf("RDP server choices identical to HAProxy: %d/%d: %v", same, len(want), want)
}
