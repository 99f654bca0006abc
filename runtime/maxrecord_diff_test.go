package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// tlsRecordOverhead is what TLS 1.3 adds to a record's plaintext: the
// content type and the AEAD tag.
const tlsRecordOverhead = 17

// recordProfile sums up the sizes of the application records of a
// response: whether all are within limit, or how many bytes went out in
// records within it before the first larger one (capped).
func recordProfile(sizes []int, limit int) (profile string, capped int) {
	for _, s := range sizes {
		if p := s - tlsRecordOverhead; p > limit {
			// HAProxy judges streaming on its reads, gohap on its
			// writes: the amount capped differs a little.
			return "capped at first, then full records", capped
		} else {
			capped += p
		}
	}
	return fmt.Sprintf("all within %d", limit), capped
}

// tune.ssl.maxrecord bounds the records of a response until it streams
// (three full buffers in a row), and over HTTP/2; tune.ssl.hard-maxrecord
// bounds them all.
func TestMaxRecordDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the record sizes")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	ca.issue(t, dir, "srv.pem", "srv.test", false)
	small, big := bytes.Repeat([]byte("s"), 5000), bytes.Repeat([]byte("0123456789"), 30000)
	up := bodyUpstream(t, map[string][]byte{"/small": small, "/big": big})
	const cfg = `global
 %s
defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s ssl crt %s/srv.pem alpn h2,http/1.1
 default_backend be
backend be
 server s %s
`
	h1 := func(addr, path string) []int { return h1Records(t, addr, path, nil) }
	h2get := func(addr, path string) []int {
		var tap *recordTap
		tr := &http2.Transport{DialTLS: func(network, a string, cfg *tls.Config) (net.Conn, error) {
			c, err := net.DialTimeout(network, a, 2*time.Second)
			if err != nil {
				return nil, err
			}
			tap = &recordTap{Conn: c}
			tc := tls.Client(tap, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
			return tc, tc.Handshake()
		}}
		defer tr.CloseIdleConnections()
		cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		// Two requests on one connection, the second measured: HAProxy
		// sends its first answer in full records, the TLS handshake
		// still ending when it first writes.
		skip := 0
		for i := 0; i < 2; i++ {
			if tap != nil {
				skip = len(tap.sizes)
			}
			r, err := cl.Get("https://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		var out []int
		for _, s := range tap.sizes[skip:] {
			if s > 1000 {
				out = append(out, s)
			}
		}
		return out
	}
	run := func(start func(cfg, addr string), tune string, limit int) []string {
		a := freePort(t)
		start(fmt.Sprintf(cfg, tune, a, dir, up), a)
		var out []string
		for _, c := range []struct {
			name  string
			sizes []int
		}{{"HTTP/1.1, 5 kB", h1(a, "/small")}, {"HTTP/1.1, 300 kB", h1(a, "/big")}, {"HTTP/2, 300 kB", h2get(a, "/big")}} {
			p, capped := recordProfile(c.sizes, limit)
			if strings.HasPrefix(p, "capped") && (capped < 16<<10 || capped > 64<<10) {
				p += fmt.Sprintf(" (capped for %d bytes)", capped)
			}
			out = append(out, tune+", "+c.name+": "+p)
		}
		return out
	}
	var ref, got []string
	for _, c := range []struct {
		tune  string
		limit int
	}{{"tune.ssl.maxrecord 1419", 1419}, {"tune.ssl.hard-maxrecord 4000", 4000}} {
		ref = append(ref, run(func(cfg, addr string) { startHAProxy(t, cfg, addr) }, c.tune, c.limit)...)
		got = append(got, run(func(cfg, _ string) { startGohap(t, cfg, nil) }, c.tune, c.limit)...)
	}
	// HAProxy's HTTP/2 mux sends the first two buffers of each
	// response in full records, then bounded ones; gohap bounds them all.
	known := func(l string) bool { return strings.Contains(l, "HTTP/2") && strings.Contains(l, "maxrecord 1419") }
	var refK, gotK []string
	for i := range ref {
		if known(ref[i]) {
			if !strings.HasSuffix(got[i], "all within 1419") {
				t.Errorf("gohap: %s", got[i])
			}
			continue
		}
		refK, gotK = append(refK, ref[i]), append(gotK, got[i])
	}
	agree := sameLines(t, refK, gotK)
	t.Logf("record sizes: %d of %d agree:\n%s", agree, len(refK), strings.Join(got, "\n"))
}

// bodyUpstream answers each GET with the body of its path.
func bodyUpstream(t *testing.T, bodies map[string][]byte) string {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			r.Body.Close()
			body := bodies[r.URL.Path]
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
			c.Write(body)
		}
	})
}

// h1Records gets path over HTTPS/1.1 and returns the sizes of the records
// the response came in; the body must be want when want is set.
func h1Records(t *testing.T, addr, path string, want []byte) []int {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	tap := &recordTap{Conn: c}
	tc := tls.Client(tap, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	// Only the response's records: the handshake's come before.
	fmt.Fprintf(tc, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path)
	skip := len(tap.sizes)
	r, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	if want != nil && !bytes.Equal(got, want) {
		t.Fatalf("body of %d bytes", len(got))
	}
	return tap.sizes[skip:]
}

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
	up := bodyUpstream(t, map[string][]byte{"/": body})
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
	// big counts the records of more than 1000 bytes of the response.
	big := func(addr string) int {
		sizes := h1Records(t, addr, "/", body)
		t.Logf("%s: records %v", addr, sizes)
		n := 0
		for _, s := range sizes {
			if s > 1000 {
				n++
			}
		}
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
