package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAcceptInvalidResponseDifferential: a response whose header names
// hold bytes outside HTTP's token set is a 502 unless the backend has
// "option accept-invalid-http-response", which lets any byte but a colon
// through. The status and the header lines the client reads agree with
// HAProxy's.
func TestAcceptInvalidResponseDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	names := []string{"X Bad", "x@y", "x\x80z", "[a]", "x\"q", "x\tt", "x\x01c", "x\x7fd", "ok-name"}
	for _, opt := range []string{"", "option accept-invalid-http-response", "no option accept-invalid-http-response"} {
		for _, name := range names {
			opt, name := opt, name
			t.Run(fmt.Sprintf("%q/%q", opt, name), func(t *testing.T) {
				t.Parallel()
				rsp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + name + ": v\r\n\r\nok"
				g := badRspRun(t, opt, rsp, func(cfg, fe string) { startGohap(t, cfg, nil) })
				h := badRspRun(t, opt, rsp, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
				t.Logf("%s", h)
				if g != h {
					t.Errorf("gohap:   %s\nhaproxy: %s", g, h)
				}
			})
		}
	}
}

func badRspRun(t *testing.T, opt, rsp string, start func(cfg, fe string)) string {
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, rsp)
	})
	addr := freePort(t)
	// The option is the defaults' in the backend, which "no option" can
	// turn off there.
	start(fmt.Sprintf("%s    option accept-invalid-http-response\nfrontend f\n    bind %s\n    default_backend b\nbackend b\n    %s\n    server s1 %s\n",
		diffDefaults, addr, opt, up), addr)
	c := dialRaw(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			lines = append(lines, "EOF")
			break
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	return fmt.Sprintf("%q", lines)
}
