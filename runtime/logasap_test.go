package runtime_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// With option logasap the line goes out once the response head is in,
// while the body is still on its way; without it, only once it is over.
func TestLogASAPBeforeBody(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"))
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		c.Write([]byte("cd"))
	})
	for _, asap := range []bool{true, false} {
		sink := newLogSink(t)
		fe := freePort(t)
		opt := ""
		if asap {
			opt = " option logasap\n"
		}
		startGohap(t, fmtCfg("global\n log %s local0\ndefaults\n mode http\n log global\n option httplog\n timeout connect 1s\n timeout client 10s\n timeout server 10s\nfrontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n",
			sink.addr(), fe, opt, srv), nil)
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		l, ok := sink.next(2 * time.Second)
		c.Close()
		if asap && (!ok || !strings.Contains(l, " 200 +")) {
			t.Fatalf("logasap: want the line before the body is over, with '+' bytes; got %q (%v)", l, ok)
		}
		if !asap && ok {
			t.Fatalf("without logasap: a line before the stream ended: %q", l)
		}
	}
}
