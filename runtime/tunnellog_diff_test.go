package runtime_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A stream that became a tunnel (a WebSocket upgrade, mode tcp) is logged
// when the tunnel ends, as HAProxy logs a stream: its bytes include the
// tunnel's, its flags its end, and the backend counts it (%bc, scur)
// while it lasts. An upgraded HTTP/1 stream ends with its server's side,
// a mode tcp one waits for its client.
func TestTunnelLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	// /close answers the upgrade, echoes one read and closes; /hold
	// answers it and holds the connection for 3 s.
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		b := make([]byte, 5)
		io.ReadFull(c, b)
		io.WriteString(c, "world!")
		if r.URL.Path == "/hold" {
			time.Sleep(3 * time.Second)
		}
		c.Close()
	})
	tcpUp := serveRaw(t, func(c net.Conn) {
		c.Read(make([]byte, 16))
		io.WriteString(c, "world!")
		c.Close()
	})
	upgrade := func(fe, path string) net.Conn {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(4 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", res, err)
		}
		io.WriteString(c, "hello")
		if b, _ := io.ReadAll(io.LimitReader(br, 6)); string(b) != "world!" {
			t.Fatalf("tunnel read %q", b)
		}
		return c
	}
	// Tt is 0 for an end within 150 ms, else 1.
	coarse := func(l string) string {
		f := strings.Fields(l)
		if len(f) > 0 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				f[0] = strconv.Itoa(min(v/150, 1))
			}
		}
		return strings.Join(f, " ")
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		tfe := freePort(t)
		logs := " option dontlognull\n log " + sink.addr() + " local0\n log-format \"%%Tt %%HU %%ts %%U %%B %%fc/%%bc/%%sc\"\n"
		tcpLogs := " log " + sink.addr() + " local0\n log-format \"%%Tt %%ts %%U %%B %%fc/%%bc/%%sc\"\n"
		fe, sock := startStatsFE(t, start, logs+`backend be
 timeout tunnel 500ms
 server s1 %s
frontend tcp
 mode tcp
 bind %s
`+tcpLogs+` default_backend tbe
backend tbe
 mode tcp
 server t1 %s
`, up, tfe, tcpUp)
		var out []string
		line := func() { out = append(out, coarse(sink.message(3*time.Second))) }
		// The server closes: the stream ends then, with the client's
		// connection, though the client waits 300 ms more.
		c := upgrade(fe, "/close")
		line()
		time.Sleep(300 * time.Millisecond)
		c.Close()
		// The client closes first and the server holds on: the tunnel
		// timeout ends the stream, while another one is in its tunnel;
		// show stat counts both on the backend meanwhile.
		c1, c2 := upgrade(fe, "/hold"), upgrade(fe, "/hold")
		out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), "scur")[1:]...)
		// c2 keeps its tunnel busy past c1's timeout: eight bytes, one
		// every 100 ms, the same count on both proxies.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 8 {
				time.Sleep(100 * time.Millisecond)
				io.WriteString(c2, "x")
			}
		}()
		c1.Close()
		line()
		<-done
		c2.Close()
		line()
		// Mode tcp: the server closes, the stream waits for the client.
		tc, err := net.DialTimeout("tcp", tfe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tc.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(tc, "hello")
		io.ReadAll(tc)
		out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), "scur")[1:]...)
		time.Sleep(200 * time.Millisecond)
		tc.Close()
		line()
		return strings.Join(out, "\n")
	})
}
