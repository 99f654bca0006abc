package runtime_test

import (
	"net"
	"strings"
	"testing"
)

// A server written in one of inet_aton's short forms is an IPv4 address,
// as HAProxy's getaddrinfo reads it: 127.1 and 0x7f000001 reach the
// upstream on 127.0.0.1.
func TestServerInetAtonAddress(t *testing.T) {
	up := startEcho(t, "up")
	_, port, _ := net.SplitHostPort(up.Addr())
	fe := freePort(t)
	startGohap(t, diffDefaults+
		"frontend fe\n bind "+fe+"\n default_backend be\n"+
		"backend be\n balance roundrobin\n server a 127.1:"+port+"\n server b 0x7f000001:"+port+"\n", nil)
	for i := 0; i < 4; i++ {
		status, server, body := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if status != 200 || server != "up" || !strings.HasPrefix(body, "GET / ") {
			t.Fatalf("request %d: %d from %q: %q", i, status, server, body)
		}
	}
}
