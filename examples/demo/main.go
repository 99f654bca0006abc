// Command demo runs the upstream servers of examples/seed/haproxy.cfg on
// loopback: an HTTP echo as the config's 127.0.0.1:8080 and an HTTP and
// WebSocket echo for its targetserver:7777.
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
	www := flag.String("www", "127.0.0.1:8080", "address of the plain HTTP upstream")
	socket := flag.String("socket", "127.0.0.1:7777", "address of the WebSocket upstream")
	flag.Parse()
	for _, u := range []struct{ name, addr string }{{"www", *www}, {"socket", *socket}} {
		s, err := echo.Start(u.name, u.addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		defer s.Close()
		fmt.Fprintf(os.Stderr, "demo: upstream %s listening on %s\n", u.name, s.Addr())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
