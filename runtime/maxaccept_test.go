package runtime_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tune.maxaccept: connections waiting in the backlog when the accept
// loop starts are taken maxaccept at a time, with a yield to the
// sessions in between (HAProxy's default is 4; -1 lifts the limit), and
// every one of them is served.
func TestMaxAcceptYields(t *testing.T) {
	up := startEcho(t, "up")
	const pending = 12
	for _, c := range []struct {
		setting string
		yields  int64
	}{
		{"", pending / 4},
		{" tune.maxaccept 3\n", pending / 3},
		{" tune.maxaccept 1\n", pending},
		{" tune.maxaccept -1\n", 0},
	} {
		fe := freePort(t)
		text := fmtCfg("global\n%sdefaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\nfrontend f\n bind %s\n default_backend b\nbackend b\n server s %s\n",
			c.setting, fe, up.Addr())
		e := newGohap(t, text, nil, nil)
		if err := e.Bind(); err != nil {
			t.Fatal(err)
		}
		// Bound, not yet accepting: the kernel completes the clients'
		// handshakes into the backlog.
		conns := make([]net.Conn, pending)
		for i := range conns {
			nc, err := net.DialTimeout("tcp", fe, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(nc, "GET /%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i)
			conns[i] = nc
		}
		e.Serve()
		for i, nc := range conns {
			b, err := io.ReadAll(nc)
			if err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200") {
				t.Errorf("%q connection %d: %v %q", c.setting, i, err, b)
			}
		}
		if got := e.AcceptYields(); got != c.yields {
			t.Errorf("%q: %d yields for %d connections waiting, want %d", c.setting, got, pending, c.yields)
		}
		e.Stop()
		e.Wait()
	}
}
