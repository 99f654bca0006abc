package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBodyServer(t *testing.T) {
	ln, err := startBody("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ck := "4;a=b\r\nabcd\r\n000A\r\n0123456789\r\n3;x;y=\"z\"\r\nxyz\r\n0\r\n"
	for _, tc := range []struct {
		name, req string
		status    []int // one per response, then the connection must close
		closed    bool
	}{
		{"chunked ext and trailer, keep-alive",
			"POST /u?len=17 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + ck + "t: v\r\n\r\n" +
				"POST /u?len=17 HTTP/1.1\r\nHost: x\r\ntransfer-encoding: Chunked\r\n\r\n" + ck + "\r\n" +
				"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n",
			[]int{200, 200, 200}, false},
		{"content-length", "POST /u?len=3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", []int{200, 200}, false},
		{"wrong length", "POST /u?len=16 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + ck + "\r\n", []int{400}, true},
		{"bare LF size line", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\nabcd\r\n0\r\n\r\n", []int{400}, true},
		{"bad hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4g\r\nabcd\r\n0\r\n\r\n", []int{400}, true},
		{"missing CRLF after data", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdX\r\n0\r\n\r\n", []int{400}, true},
		{"TE and CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", []int{400}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tc.req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for i, want := range tc.status {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("response %d body: %v", i, err)
				}
				if resp.StatusCode != want {
					t.Fatalf("response %d: status %d, want %d", i, resp.StatusCode, want)
				}
				if strings.Contains(tc.req, "/chunked") && i == len(tc.status)-1 && len(body) != 4096 {
					t.Fatalf("chunked response body %d bytes", len(body))
				}
			}
			if tc.closed {
				if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
					t.Fatalf("connection still open after the 400")
				}
			}
		})
	}
}
