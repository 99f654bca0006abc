package runtime

import (
	"bufio"
	"regexp"
	"strings"
	"testing"
)

// BenchmarkFCGIRequest reads a request head as the engine sends it to
// a FastCGI server and encodes its parameters.
func BenchmarkFCGIRequest(b *testing.B) {
	b.ReportAllocs()
	f := &fcgiApp{docroot: "/var/www", index: "index.php", pathInfo: regexp.MustCompile(`^(/.+\.php)(/.*)?$`),
		version: "HAProxy 2.6.12", pass: []fcgiPassRules{{name: []byte("authorization")}}}
	head := "GET /index.php/a/b?x=1 HTTP/1.1\r\nhost: example.com\r\nuser-agent: bench\r\naccept: */*\r\n" +
		"authorization: Basic x\r\n:fcgi-remote_user: u\r\n::src: 127.0.0.1:4000\r\n::dst: 127.0.0.1:80\r\n\r\n"
	src := strings.NewReader(head)
	br := bufio.NewReaderSize(src, 16384)
	var req fcgiRequest
	var dst []byte
	for i := 0; i < b.N; i++ {
		src.Reset(head)
		br.Reset(src)
		if err := req.read(br); err != nil {
			b.Fatal(err)
		}
		out, ok := f.encodeParams(&req, 0, dst[:0])
		if !ok {
			b.Fatal("not encoded")
		}
		dst = out
	}
}
