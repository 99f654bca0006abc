package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// "max-reuse N" lets a connection to an HTTP/2 server carry N streams
// after its first (0: one stream, never reused); HAProxy 2.6's HTTP/1
// connections ignore it. Five keep-alive requests through "http-reuse
// always" open as many server connections as through HAProxy.
func TestServerMaxReuseDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	const k = 5
	var out []string
	for _, proto := range []string{"h1", "h2"} {
		for _, opt := range []string{"", " max-reuse -1", " max-reuse 0", " max-reuse 1", " max-reuse 2"} {
			sideBySide(t, func(start func(cfg, fe string)) string {
				var conns func() int
				var up string
				if proto == "h2" {
					u := startH2C(t, 0)
					up, conns = u.addr, u.connCount
				} else {
					var mu sync.Mutex
					var log []string
					n := 0
					up = recordingUpstream(t, &mu, &log, func(conn int, r *http.Request) string {
						n = max(n, conn)
						return ""
					}, nil)
					conns = func() int {
						mu.Lock()
						defer mu.Unlock()
						return n
					}
				}
				fe := freePort(t)
				start(fmt.Sprintf(diffDefaults+`frontend fe
    bind %s
    default_backend b
backend b
    http-reuse always
    server s1 %s proto %s%s
`, fe, up, proto, opt), fe)
				c := dialRaw(t, fe)
				br := bufio.NewReader(c)
				codes := ""
				for i := 0; i < k; i++ {
					fmt.Fprintf(c, "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
					rsp, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatalf("%s%s request %d: %v", proto, opt, i, err)
					}
					io.ReadAll(rsp.Body)
					codes += fmt.Sprint(" ", rsp.StatusCode)
				}
				r := fmt.Sprintf("%s%s:%s, %d server connections", proto, opt, codes, conns())
				out = append(out, r)
				return r
			})
		}
	}
	t.Logf("\n%s", strings.Join(out, "\n"))
}

// serverSockOpts reads TCP_USER_TIMEOUT and TCP_FASTOPEN_CONNECT on the
// socket connected to port, in whichever process holds it (pidfd_getfd
// needs root).
func serverSockOpts(t *testing.T, port string) string {
	t.Helper()
	fd := socketOf(t, "-tnpH", "dport = :"+port)
	defer unix.Close(fd)
	ut, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	if err != nil {
		t.Fatal(err)
	}
	tfo, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("TCP_USER_TIMEOUT=%d TCP_FASTOPEN_CONNECT=%d", ut, tfo)
}

// "tcp-ut" sets TCP_USER_TIMEOUT on the connections to the server, and
// "tfo" what HAProxy 2.6 sets for it, read back on the socket kept after
// a request, side by side with HAProxy's.
func TestServerSockOptsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	if os.Geteuid() != 0 {
		t.Skip("reading another socket's options needs root")
	}
	var out []string
	for _, opt := range []string{"", " tcp-ut 3s", " tcp-ut 1500", " tfo", " tcp-ut 20s tfo", " tcp-ut 10us"} {
		sideBySide(t, func(start func(cfg, fe string)) string {
			up := serveRequests(t, func(c net.Conn, r *http.Request) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			})
			fe := freePort(t)
			start(fmt.Sprintf(diffDefaults+`frontend fe
    bind %s
    default_backend b
backend b
    server s1 %s%s
`, fe, up, opt), fe)
			c := dialRaw(t, fe)
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(rsp.Body)
			// The client connection stays: the server's is kept with it.
			r := fmt.Sprintf("server s1%s: %d %s", opt, rsp.StatusCode, serverSockOpts(t, up[strings.LastIndexByte(up, ':')+1:]))
			out = append(out, r)
			return r
		})
	}
	t.Logf("\n%s", strings.Join(out, "\n"))
}
