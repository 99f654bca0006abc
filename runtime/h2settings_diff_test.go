package runtime_test

import (
	"encoding/hex"
	"io"
	"net"
	"testing"
	"time"
)

// TestH2SettingsDifferential: the SETTINGS frame that opens an HTTP/2
// connection, to a client and to a server (push disabled first), as
// HAProxy sends them: RFC 8441's ENABLE_CONNECT_PROTOCOL unless
// h2-workaround-bogus-websocket-clients, then the tune.h2.* values that
// differ from the protocol's defaults.
func TestH2SettingsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases := []struct{ name, global string }{
		{"default", ""},
		{"workaround", "global\n h2-workaround-bogus-websocket-clients\n"},
		{"tuned", "global\n tune.h2.max-concurrent-streams 7\n tune.h2.initial-window-size 100000\n tune.h2.header-table-size 8192\n"},
		// The largest frame is a buffer: tune.bufsize, unless
		// tune.h2.max-frame-size is smaller.
		{"bufsize", "global\n tune.bufsize 32768\n"},
		{"bufsize-mfs", "global\n tune.bufsize 65536\n tune.h2.max-frame-size 20000\n"},
		{"mfs-over-bufsize", "global\n tune.h2.max-frame-size 40000\n"},
	}
	// firstFrame reads a connection's preface (when it has one) and
	// the frame after it, as hex.
	firstFrame := func(c net.Conn, preface bool) string {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if preface {
			if _, err := io.ReadFull(c, make([]byte, 24)); err != nil {
				return "preface: " + err.Error()
			}
		}
		h := make([]byte, 9)
		if _, err := io.ReadFull(c, h); err != nil {
			return "frame: " + err.Error()
		}
		p := make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
		if _, err := io.ReadFull(c, p); err != nil {
			return "payload: " + err.Error()
		}
		return hex.EncodeToString(h) + " " + hex.EncodeToString(p)
	}
	run := func(t *testing.T, global string, start func(text, addr string)) (client, server string) {
		up, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer up.Close()
		got := make(chan string, 1)
		go func() {
			c, err := up.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			got <- firstFrame(c, true)
		}()
		fe, h2fe := freePort(t), freePort(t)
		start(global+"defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n"+
			fmtCfg("listen l\n bind %s\n bind %s proto h2\n server s %s proto h2\n", fe, h2fe, up.Addr()), fe)
		c, err := net.DialTimeout("tcp", h2fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
		client = firstFrame(c, false)
		c.Close()
		// A request through the proxy makes it connect to the server.
		r, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		io.WriteString(r, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case server = <-got:
		case <-time.After(5 * time.Second):
			server = "no connection to the server"
		}
		return client, server
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc, hs := run(t, tc.global, func(text, addr string) { startHAProxy(t, text, addr) })
			gc, gs := run(t, tc.global, func(text, _ string) { startGohap(t, text, nil) })
			if gc != hc {
				t.Errorf("to a client: gohap %s, HAProxy %s", gc, hc)
			}
			if gs != hs {
				t.Errorf("to a server: gohap %s, HAProxy %s", gs, hs)
			}
		})
	}
}
