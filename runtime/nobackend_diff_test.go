package runtime_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// A TCP frontend without a backend closes a connection whose data it
// read: the client sees the end of the stream, not a reset, as with
// HAProxy (ssl-hello-chk reports "empty response" against it).
func TestTCPNoBackendCloseDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the close")
	}
	run := func(start func(cfg, fe string)) string {
		fe := freePort(t)
		// One session per second: the connection after the first one
		// is accepted once its data is in.
		start(fmt.Sprintf("defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n rate-limit sessions 1\n", fe), fe)
		first, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		c, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "\x16\x03\x01\x00\x05hello")
		b, err := io.ReadAll(c)
		switch {
		case isReset(err):
			return "reset"
		case err != nil:
			return err.Error()
		}
		return fmt.Sprintf("eof after %d bytes", len(b))
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("haproxy %q, gohap %q", ref, got)
	}
}
