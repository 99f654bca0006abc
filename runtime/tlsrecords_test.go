package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// recordTap counts the TLS records read through it, and their sizes.
type recordTap struct {
	net.Conn
	buf   []byte
	sizes []int
}

func (r *recordTap) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.buf = append(r.buf, p[:n]...)
	for len(r.buf) >= 5 {
		l := int(r.buf[3])<<8 | int(r.buf[4])
		if len(r.buf) < 5+l {
			break
		}
		r.sizes = append(r.sizes, l)
		r.buf = r.buf[5+l:]
	}
	return n, err
}

// A response leaves a bind in full TLS records, as OpenSSL writes them,
// not in crypto/tls's default records, which start at one TCP segment
// and grow: a 60 kB body takes four records, not nine.
func TestTLSRecordSizes(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	ca.issue(t, dir, "srv.pem", "srv.test", false)
	body := bytes.Repeat([]byte("0123456789"), 6000)
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			r.Body.Close()
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	const cfg = `defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s ssl crt %s/srv.pem
 default_backend be
backend be
 server s %s
`
	// big counts the records of more than 1000 bytes of a response.
	big := func(addr string) int {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		tap := &recordTap{Conn: c}
		tc := tls.Client(tap, &tls.Config{InsecureSkipVerify: true})
		fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(r.Body); !bytes.Equal(got, body) {
			t.Fatalf("body of %d bytes", len(got))
		}
		n := 0
		for _, s := range tap.sizes {
			if s > 1000 {
				n++
			}
		}
		t.Logf("%s: records %v", addr, tap.sizes)
		return n
	}
	a := freePort(t)
	startGohap(t, fmt.Sprintf(cfg, a, dir, up), nil)
	got := big(a)
	if got > 5 {
		t.Errorf("gohap sent the 60 kB body in %d records, want full records (4 or 5)", got)
	}
	if haproxyBin() != "" {
		h := freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, h, dir, up), h)
		if want := big(h); got > want+1 {
			t.Errorf("gohap: %d records, haproxy %d", got, want)
		}
	}
}
