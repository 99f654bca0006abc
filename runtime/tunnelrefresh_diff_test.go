package runtime_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestTunnelWriteRefreshesTimeoutDifferential: in a TCP tunnel, data
// sent to a side refreshes that side's read timeout, as in HAProxy: a
// server that keeps talking to a silent client is not cut off at
// "timeout client", in either direction.
func TestTunnelWriteRefreshesTimeoutDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// push sends a byte every 150ms for 1.2s, then closes.
	push := func(c net.Conn) {
		for i := 0; i < 8; i++ {
			if _, err := c.Write([]byte("x")); err != nil {
				break
			}
			time.Sleep(150 * time.Millisecond)
		}
		c.Close()
	}
	for _, dir := range []string{"server talks", "client talks"} {
		run := func(start func(cfg, fe string)) string {
			srv := serveRaw(t, func(c net.Conn) {
				if dir == "server talks" {
					push(c)
					return
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, _ := io.Copy(io.Discard, c)
				fmt.Fprintf(c, "%d", n)
				c.Close()
			})
			fe := freePort(t)
			to := " timeout client 500ms\n timeout server 5s\n"
			if dir == "client talks" {
				to = " timeout client 5s\n timeout server 500ms\n"
			}
			start(fmt.Sprintf("defaults\n mode tcp\n timeout connect 1s\n%sfrontend fe\n bind %s\n default_backend be\nbackend be\n server s %s\n", to, fe, srv), fe)
			c := dialRaw(t, fe)
			if dir == "client talks" {
				push(&halfCloser{c.(*net.TCPConn)})
			}
			b, err := io.ReadAll(c)
			return fmt.Sprintf("%s: got %q, err %v", dir, b, err)
		}
		sideBySide(t, run)
	}
}

// halfCloser makes Close a write shutdown, for the answer to come back.
type halfCloser struct{ *net.TCPConn }

func (h *halfCloser) Close() error { return h.CloseWrite() }
