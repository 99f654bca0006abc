package h2

import (
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http2"
)

// startWSUpstream runs an HTTP/1.1 WebSocket echo server.
func startWSUpstream(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(mt, append([]byte("echo:"), msg...))
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// wsFrame builds a masked client text frame.
func wsFrame(payload string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{0x81, 0x80 | byte(len(payload))}
	b = append(b, mask[:]...)
	for i := 0; i < len(payload); i++ {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

// WebSocket over HTTP/2 (RFC 8441) through ServeConn to an HTTP/1.1
// WebSocket server: the 101 becomes a 200 and DATA carries the frames.
func TestExtendedConnectWebSocket(t *testing.T) {
	addr := startServer(t, nil, forwarder(startWSUpstream(t)))
	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	rc.handshake()
	rc.headers(1, false, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
		":path", "/ws", ":authority", "example.com", "sec-websocket-version", "13")
	rc.flush()
	status := ""
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			t.Fatalf("status %q, read: %v", status, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				rc.fr.WriteSettingsAck()
				rc.flush()
			}
		case *http2.HeadersFrame:
			rc.last = rc.last[:0]
			rc.dec.Write(f.HeaderBlockFragment())
			for _, h := range rc.last {
				if h.Name == ":status" {
					status = h.Value
				}
				if h.Name == "upgrade" || h.Name == "connection" {
					t.Errorf("connection-specific header %q sent", h.Name)
				}
			}
			if status != "200" || f.StreamEnded() {
				t.Fatalf("status %q end %v", status, f.StreamEnded())
			}
			rc.data(1, false, string(wsFrame("hello")))
			rc.flush()
		case *http2.DataFrame:
			got = append(got, f.Data()...)
			// Server frame: unmasked text, length, payload.
			if len(got) >= 2 && len(got) >= 2+int(got[1]) {
				if got[0] != 0x81 || !bytes.Equal(got[2:2+got[1]], []byte("echo:hello")) {
					t.Fatalf("frame %q", got)
				}
				// The client ends its side; the tunnel closes.
				rc.data(1, true, "")
				rc.flush()
				return
			}
		case *http2.RSTStreamFrame:
			t.Fatalf("RST %v", f.ErrCode)
		}
	}
	t.Fatal("no echo")
}
