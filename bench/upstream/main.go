// Command upstream is the benchmark's server side: a fixed-response HTTP
// server that allocates nothing per request, a server that reads request
// bodies (Content-Length or chunked) and can answer chunked, and an
// HTTP/WebSocket echo.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gohap/gohap/examples/echo"
)

func main() {
	httpAddr := flag.String("http", "127.0.0.1:18901", "fixed-response HTTP address")
	wsAddr := flag.String("ws", "127.0.0.1:18902", "WebSocket echo address")
	bodyAddr := flag.String("body", "", "body-reading HTTP address (none if empty)")
	flag.Parse()
	ln, err := echo.StartFixed(*httpAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	defer ln.Close()
	ws, err := echo.Start("ws", *wsAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	defer ws.Close()
	if *bodyAddr != "" {
		bl, err := startBody(*bodyAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "upstream:", err)
			os.Exit(1)
		}
		defer bl.Close()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
