// Command wshold opens WebSocket connections through a proxy and holds
// them idle until it is told to stop, to measure what an idle tunnel
// costs the proxy.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18900", "proxy address")
	n := flag.Int("n", 9000, "tunnels to open")
	par := flag.Int("parallel", 64, "concurrent handshakes")
	flag.Parse()
	conns := make([]*websocket.Conn, *n)
	sem := make(chan struct{}, *par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := 0; i < *n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			d := websocket.Dialer{HandshakeTimeout: 20 * time.Second}
			c, _, err := d.Dial("ws://"+*addr+"/", nil)
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	// Every tunnel carries one message, then stays idle.
	for _, c := range conns {
		if c != nil {
			c.WriteMessage(websocket.TextMessage, []byte("hi"))
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			c.ReadMessage()
		}
	}
	fmt.Printf("ready %d %d\n", *n-failed, failed)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
