package runtime

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzFCGIHead reads arbitrary bytes as an application's CGI head and
// as a request head the engine sends: no input may panic, and a head
// found lies inside the input.
func FuzzFCGIHead(f *testing.F) {
	f.Add([]byte("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nbody"))
	f.Add([]byte("Location: /x\n\n"))
	f.Add([]byte("GET /a?b HTTP/1.1\r\nhost: x\r\n:fcgi-x: y\r\n::src: 1.2.3.4:5\r\ncontent-length: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if end, n := cgiHeadEnd(data); end >= 0 {
			if end+n > len(data) {
				t.Fatalf("head end %d+%d beyond %d", end, n, len(data))
			}
			if h := parseCGIHead(data[:end]); h != nil && h.code == 0 {
				t.Fatal("no status")
			}
		}
		var req fcgiRequest
		if req.read(bufio.NewReader(bytes.NewReader(data))) == nil {
			f := &fcgiApp{docroot: "/d", index: "i"}
			f.encodeParams(&req, 0, nil)
		}
	})
}
