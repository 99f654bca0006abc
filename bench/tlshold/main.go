// Command tlshold opens TLS connections to a proxy, sends one HTTP/1.1
// request on each, and holds them idle until it is told to stop, to
// measure what an idle TLS connection costs the proxy.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"io"
	"net/http"
	"time"

	"github.com/gohap/gohap/bench/hold"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18943", "proxy TLS address")
	n := flag.Int("n", 2000, "connections to open")
	par := flag.Int("parallel", 32, "concurrent handshakes")
	flag.Parse()
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	hold.Run(*n, *par, func() (io.Closer, error) {
		c, err := tls.Dial("tcp", *addr, cfg)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		resp, err := func() (*http.Response, error) {
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
				return nil, err
			}
			return http.ReadResponse(bufio.NewReader(c), nil)
		}()
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		c.SetDeadline(time.Time{})
		return c, nil
	})
}
