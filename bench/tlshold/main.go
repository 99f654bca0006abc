// Command tlshold opens TLS connections to a proxy, sends one HTTP/1.1
// request on each (one HTTP/2 stream with -h2), and holds them idle until
// it is told to stop, to measure what an idle TLS connection costs the
// proxy.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"io"
	"net/http"
	"time"

	"golang.org/x/net/http2"

	"github.com/gohap/gohap/bench/hold"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18943", "proxy TLS address")
	n := flag.Int("n", 2000, "connections to open")
	par := flag.Int("parallel", 32, "concurrent handshakes")
	h2 := flag.Bool("h2", false, "speak HTTP/2 (ALPN h2)")
	flag.Parse()
	if *h2 {
		holdH2(*addr, *n, *par)
		return
	}
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

// holdH2 holds HTTP/2 connections, each idle after one stream.
func holdH2(addr string, n, par int) {
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	tr := &http2.Transport{}
	hold.Run(n, par, func() (io.Closer, error) {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return nil, err
		}
		cc, err := tr.NewClientConn(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		req, _ := http.NewRequest("GET", "https://bench/", nil)
		resp, err := cc.RoundTrip(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			cc.Close()
			return nil, err
		}
		return cc, nil
	})
}
