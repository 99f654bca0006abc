// Command upstream is the benchmark's server side: a fixed-response HTTP
// server that allocates nothing per request, a server that reads request
// bodies (Content-Length or chunked) and can answer chunked, an
// HTTP/WebSocket echo, and a UDP syslog sink that counts what it gets.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/gohap/gohap/examples/echo"
)

func main() {
	httpAddr := flag.String("http", "127.0.0.1:18901", "fixed-response HTTP address")
	wsAddr := flag.String("ws", "127.0.0.1:18902", "WebSocket echo address")
	bodyAddr := flag.String("body", "", "body-reading HTTP address (none if empty)")
	syslogAddr := flag.String("syslog", "", "UDP syslog sink address (none if empty)")
	flag.Parse()
	if *syslogAddr != "" {
		if err := startSink(*syslogAddr); err != nil {
			fmt.Fprintln(os.Stderr, "upstream:", err)
			os.Exit(1)
		}
	}
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
	if *syslogAddr != "" {
		fmt.Fprintf(os.Stderr, "syslog lines received: %d\n", sinkLines.Load())
	}
}

var sinkLines atomic.Int64

// startSink reads syslog datagrams and counts them, so that the proxies
// under test send to a live socket.
func startSink(addr string) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return err
	}
	c.SetReadBuffer(4 << 20)
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			sinkLines.Add(1)
		}
	}()
	return nil
}
