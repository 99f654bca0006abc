package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The byte counts of show stat (bin, bout) on every row, as HAProxy
// counts them: what its channels carry, the same figures as a stream's
// %U and %B, over bodies of each framing, answers made by rules (one
// replacing the server's, which counts too), a
// server's error, an HTTP/2 stream and a tcp-mode stream.
func TestByteCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/chunked":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
		case "/trailers":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: v1\r\nX-Other:  v2 \r\n\r\n")
		case "/gz":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("compressible ", 8)+"abcd")
		case "/ws":
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
			buf := make([]byte, 5)
			io.ReadFull(c, buf)
			io.WriteString(c, "world!")
			c.Close()
		case "/500":
			io.WriteString(c, "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok")
		case "/404":
			io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nnot found")
		default:
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Long-Header-Name: some value\r\n\r\nhello world")
		}
	})
	tcpUp := startEcho(t, "t").Addr()
	sideBySide(t, func(start func(cfg, fe string)) string {
		tfe, rfe := freePort(t), freePort(t)
		fe, sock := startStatsFE(t, start, ` http-request track-sc0 src table st
backend st
 stick-table type ip size 10 expire 1m store bytes_in_cnt,bytes_out_cnt
backend tst
 stick-table type ip size 10 expire 1m store bytes_in_cnt,bytes_out_cnt
backend be
 http-response deny if { status 500 }
 compression algo gzip
 compression type text/plain
 server s1 %s
frontend rules
 bind %s
 option socket-stats
 http-request return status 200 content-type text/plain string "from a rule" if { path /r }
 http-request deny if { path /d }
 default_backend be
frontend tcp
 mode tcp
 bind %s
 tcp-request connection track-sc1 src table tst
 default_backend tbe
backend tbe
 mode tcp
 server t1 %s
`, up, rfe, tfe, tcpUp)
		reqs := []string{
			"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n",
			"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789",
			"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
			"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /404 HTTP/1.0\r\n\r\n",
			"GET /500 HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\n\r\n",
			"POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nab\r\n0\r\nX-Req-Trailer: yes\r\n\r\n",
			"GET /gz HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
		}
		for _, r := range reqs {
			roundTrip(t, fe, r)
		}
		for _, r := range []string{"GET /r HTTP/1.1\r\nHost: x\r\n\r\n", "GET /d HTTP/1.1\r\nHost: x\r\n\r\n"} {
			roundTrip(t, rfe, r)
		}
		res, err := h2cClient(5 * time.Second).Get("http://" + fe + "/h2")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ws, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ws.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(ws, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		head := make([]byte, 0, 256)
		for !strings.Contains(string(head), "\r\n\r\n") {
			b := make([]byte, 1)
			if _, err := ws.Read(b); err != nil {
				t.Fatal(err)
			}
			head = append(head, b...)
		}
		io.WriteString(ws, "hello")
		io.ReadAll(ws)
		ws.Close()
		c, err := net.DialTimeout("tcp", tfe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "ping\n")
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
		c.Close()
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), "bin", "bout", "scur")
			if !strings.Contains(strings.Join(rows, "\n"), "scur=1") || time.Now().After(deadline) {
				break
			}
		}
		for _, tb := range []string{"st", "tst"} {
			for _, l := range strings.Split(cliSend(t, "unix", sock, "show table "+tb+"\n"), "\n") {
				if i := strings.Index(l, " bytes_in_cnt="); i >= 0 {
					rows = append(rows, tb+l[i:])
				}
			}
		}
		return fmt.Sprint(strings.Join(rows, "\n"))
	})
}
