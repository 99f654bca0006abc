package echo

import (
	"bytes"
	"net"
)

// FixedResponse is what StartFixed answers.
var FixedResponse = []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")

// StartFixed listens on addr and answers every request head with
// FixedResponse, allocating nothing per request: benchmarks built on it
// measure the proxy in front. Close the listener to stop it.
func StartFixed(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFixed(c)
		}
	}()
	return ln, nil
}

func serveFixed(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 8192)
	n := 0
	for {
		k, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += k
		for {
			i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			if _, err := c.Write(FixedResponse); err != nil {
				return
			}
			n = copy(buf, buf[i+4:n])
		}
		if n == len(buf) {
			return
		}
	}
}
