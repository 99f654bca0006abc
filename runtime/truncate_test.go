package runtime_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawServer answers every connection's first read with resp, then
// closes it.
func rawServer(t *testing.T, resp string) string {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 4096)
		c.Read(b)
		c.Write([]byte(resp))
	})
}

// fetchEnd sends one request and says how the connection ended: "fin",
// "rst" or "open", with the bytes received.
func fetchEnd(t *testing.T, addr string) (string, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	switch {
	case err == nil:
		return "fin", string(b)
	case errors.Is(err, syscall.ECONNRESET):
		return "rst", string(b)
	}
	return "open", string(b)
}

// TestTruncatedBodyEndsWithFIN: a server that closes before the end of
// its body makes HAProxy close the client connection with a FIN after
// forwarding what came; gohap must do the same, a reset can make the
// client drop the data it already received.
func TestTruncatedBodyEndsWithFIN(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("HAPROXY_BIN not set and no haproxy on PATH: the differential test needs HAProxy 2.6")
	}
	for _, resp := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
	} {
		srv := rawServer(t, resp)
		cfg := "defaults\n mode http\n timeout connect 1s\n timeout client 2s\n timeout server 2s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 " + srv + "\n"
		ha, gh := freePort(t), freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, ha), ha)
		startGohap(t, fmt.Sprintf(cfg, gh), nil)
		wantEnd, want := fetchEnd(t, ha)
		gotEnd, got := fetchEnd(t, gh)
		if wantEnd != gotEnd || want != got {
			t.Errorf("%q:\nhaproxy %s %q\ngohap   %s %q", resp, wantEnd, want, gotEnd, got)
		}
	}
}

// TestEarlyAnswerDuringUpload: a server that refuses an upload before
// its body is sent (413 here) is answered to the client at once, while
// the client still holds the rest of the body, as HAProxy does; the
// connection then stays open for the rest of the body.
func TestEarlyAnswerDuringUpload(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("HAPROXY_BIN not set and no haproxy on PATH: the differential test needs HAProxy 2.6")
	}
	srv := rawServer(t, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	cfg := "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 " + srv + "\n"
	ha, gh := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, ha), ha)
	startGohap(t, fmt.Sprintf(cfg, gh), nil)
	upload := func(addr string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789"))
		c.SetReadDeadline(time.Now().Add(time.Second))
		b, err := io.ReadAll(c)
		end := "closed"
		if errors.Is(err, os.ErrDeadlineExceeded) {
			end = "still open"
		}
		return fmt.Sprintf("%q, %s", b, end)
	}
	want, got := upload(ha), upload(gh)
	if got != want {
		t.Errorf("haproxy %s\ngohap   %s", want, got)
	}
}
