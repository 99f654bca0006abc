package runtime_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Bodies cut short, as HAProxy logs and counts them: a server that closes
// or stalls in its response body (SD, sD), a client that leaves while
// its response is sent (CD) or in its
// request body (CD) or stalls in it, which the client's timeout does not
// end but the server's does (504, sH), a broken chunk; the termination
// flags, status and bytes of each line, and eresp, cli_abrt and srv_abrt
// on the backends and their servers.
func TestBodyAbortsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := cutShortUpstream(t)
	cases := []struct {
		req  string
		wait time.Duration // before the client closes
	}{
		{"GET /close HTTP/1.1\r\nHost: x\r\n\r\n", 300 * time.Millisecond},
		{"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n", 600 * time.Millisecond},
		{"GET /badchunk HTTP/1.1\r\nHost: x\r\n\r\n", 400 * time.Millisecond},
		{"GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 300 * time.Millisecond},
		{"GET /delay HTTP/1.1\r\nHost: x\r\n\r\n", 100 * time.Millisecond},
		{"POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 100 * time.Millisecond},
		{"POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 600 * time.Millisecond},
		{"GET /fast/stall HTTP/1.1\r\nHost: x\r\n\r\n", 600 * time.Millisecond},
		{"POST /fast/stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 600 * time.Millisecond},
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fe, sock := startStatsFE(t, start, ` timeout client 300ms
 option dontlognull
 log %s local0
 log-format "%%HM %%HU %%ST %%tsc %%U"
  use_backend fast if { path_beg /fast }
backend be
 timeout server 3s
 server s1 %s
backend fast
 timeout server 300ms
 server s1 %s
`, sink.addr(), up, up)
		var out []string
		for _, c := range cases {
			conn, err := net.DialTimeout("tcp", fe, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, c.req)
			time.Sleep(c.wait)
			conn.Close()
			out = append(out, sink.message(2*time.Second))
		}
		out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), "eresp", "cli_abrt", "srv_abrt", "hrsp_2xx", "hrsp_4xx", "hrsp_other")[1:]...)
		return strings.Join(out, "\n")
	})
}

// cutShortUpstream is an upstream whose answers are cut short, by path
// (a leading /fast ignored): /close sends part of its body and closes,
// /stall does so a second later, /badchunk sends a bad chunk, /big a 4
// MiB body, /delay answers after 400 ms; others answer at once.
func cutShortUpstream(t *testing.T) string {
	return serveRequests(t, func(c net.Conn, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/fast") {
		case "/close":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nok")
			c.Close()
		case "/stall":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nok")
			time.Sleep(time.Second)
			c.Close()
		case "/delay":
			time.Sleep(400 * time.Millisecond)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		case "/big":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n")
			c.Write(make([]byte, 4<<20))
		case "/badchunk":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n")
			time.Sleep(200 * time.Millisecond)
			c.Close()
		default:
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
}
