// Command wshold opens WebSocket connections through a proxy and holds
// them idle until it is told to stop, to measure what an idle tunnel
// costs the proxy.
package main

import (
	"flag"
	"io"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gohap/gohap/bench/hold"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18900", "proxy address")
	n := flag.Int("n", 9000, "tunnels to open")
	par := flag.Int("parallel", 64, "concurrent handshakes")
	flag.Parse()
	hold.Run(*n, *par, func() (io.Closer, error) {
		d := websocket.Dialer{HandshakeTimeout: 20 * time.Second}
		c, _, err := d.Dial("ws://"+*addr+"/", nil)
		if err != nil {
			return nil, err
		}
		// Each tunnel carries one message, then stays idle.
		c.WriteMessage(websocket.TextMessage, []byte("hi"))
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		c.ReadMessage()
		c.SetReadDeadline(time.Time{})
		return c, nil
	})
}
