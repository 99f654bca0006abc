package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// %rt numbers the streams as HAProxy's global.req_count: a connection's
// first stream comes with it, a keep-alive connection's next one with
// the next request (a connection closed after its answers takes no
// number more), pipelined requests and HTTP/2 streams each one.
func TestRequestCounterDifferential(t *testing.T) {
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	sideBySide(t, func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg("global\n log %s local0\n"+baseDefaults+"frontend fe\n bind %s\n log global\n log-format \"%%rt %%r %%ST\"\n default_backend be\nbackend be\n server s %s\n", sink.addr(), fe, up), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		send := func(raw string) {
			c := dialRaw(t, fe)
			io.WriteString(c, raw)
			io.ReadAll(c)
			c.Close()
		}
		send("GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		send("GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		// A connection closed before any byte: its stream reports it.
		dialRaw(t, fe).Close()
		time.Sleep(100 * time.Millisecond)
		// Keep-alive, then the client closes: no stream after the second.
		c := dialRaw(t, fe)
		for _, p := range []string{"/ka1", "/ka2"} {
			io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
			b := make([]byte, 4096)
			for got := ""; !strings.HasSuffix(got, "ok"); {
				n, err := c.Read(b)
				if err != nil {
					t.Fatal(err)
				}
				got += string(b[:n])
			}
		}
		c.Close()
		send("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		cl := h2cClient(3 * time.Second)
		defer cl.CloseIdleConnections()
		var lines []string
		for _, p := range []string{"/h2a", "/h2b"} {
			r, err := cl.Get("http://" + fe + p)
			if err != nil {
				lines = append(lines, err.Error())
				continue
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		send("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		// Numbered from the first line's: HAProxy's start counts the
		// connection startHAProxy made to see it listen.
		first := -1
		for l, ok := sink.next(2 * time.Second); ok; l, ok = sink.next(300 * time.Millisecond) {
			l = maskLog(l)
			_, rest, _ := strings.Cut(l, ": ")
			num, text, _ := strings.Cut(rest, " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				lines = append(lines, l)
				continue
			}
			if first < 0 {
				first = n
			}
			lines = append(lines, fmt.Sprintf("%d %s", n-first, strings.TrimSpace(text)))
		}
		// Each stream logs as it ends: an HTTP/2 stream's line may come
		// after the next connection's.
		sort.SliceStable(lines, func(i, j int) bool { return lineNum(lines[i]) < lineNum(lines[j]) })
		return strings.Join(lines, "\n")
	})
}

// lineNum is the stream number a line starts with, -1 for none.
func lineNum(l string) int {
	num, _, _ := strings.Cut(l, " ")
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}
