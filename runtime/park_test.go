package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// frontGoroutines counts the goroutines serving a TLS connection's
// session from its handshake (Engine.front).
func frontGoroutines() int { return goroutinesIn("runtime.(*Engine).front+") }

// goroutinesIn counts the goroutines with fn (a name and "+") on their
// stack.
func goroutinesIn(fn string) int {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, fn) {
			var k int
			fmt.Sscanf(g, "%d @", &k)
			n += k
		}
	}
	return n
}

// waitFronts waits until n goroutines serve TLS connections.
func waitFronts(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for frontGoroutines() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines serve TLS connections after %v, want %d", frontGoroutines(), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tlsRequest sends a request on c and reads its answer's status.
func tlsRequest(t *testing.T, c net.Conn, br *bufio.Reader, path string) int {
	t.Helper()
	return tlsExchange(t, c, br, path).StatusCode
}

// tlsExchange sends a request on c and reads its answer.
func tlsExchange(t *testing.T, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	rsp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rsp.Body)
	rsp.Body.Close()
	return rsp
}

// An idle TLS connection gives up its goroutine (park.go) and is served
// again when its client sends the next request, closed when its
// keep-alive timeout passes, when the client leaves, on a soft stop and
// on "shutdown session", as a connection waiting in its goroutine.
func TestTLSIdleParks(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := startEcho(t, "up").Addr()
	sock := filepath.Join(dir, "s.sock")
	fe, feKA, feSt, feLog := freePort(t), freePort(t), freePort(t), freePort(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	const defaults = `defaults
 mode http
 timeout connect 1s
 timeout client 60s
 timeout server 60s
`
	e := startGohap(t, fmt.Sprintf(`global
 stats socket %s level admin
`+defaults+`frontend fe
 bind %s ssl crt %s/site.pem
 default_backend be
frontend feka
 timeout http-keep-alive 1500ms
 bind %s ssl crt %s/site.pem
 default_backend be
frontend fest
 bind %s ssl crt %s/site.pem
 tcp-request connection track-sc0 src table st
 http-request set-var(sess.first) path if { path /first }
 http-response set-header X-State "%%[var(sess.first)] %%[sc0_conn_cnt] %%[sc0_http_req_cnt] %%[ssl_fc] %%[ssl_fc_protocol] %%[src] %%[dst_port]"
 default_backend be
backend st
 stick-table type ip size 10 store conn_cnt,http_req_cnt
frontend felog
 bind %s ssl crt %s/site.pem
 log %s local0
 log-format "%%Ti %%r %%ST"
 default_backend be
backend be
 server up %s
`, sock, fe, dir, feKA, dir, feSt, dir, feLog, dir, pc.LocalAddr(), up), nil)
	dial := func(addr string) (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	base := frontGoroutines()
	// parked opens a connection whose first request was answered and
	// which then parked.
	parked := func(addr string) (*tls.Conn, *bufio.Reader) {
		c, br := dial(addr)
		if st := tlsRequest(t, c, br, "/"); st != 200 {
			t.Fatalf("status %d", st)
		}
		waitFronts(t, base, 3*time.Second)
		return c, br
	}

	t.Run("resume", func(t *testing.T) {
		c, br := parked(fe)
		// No stream is listed, as for an idle connection in HAProxy; the
		// session serves the next requests.
		waitSess(t, sock, 0)
		for i := 1; i < 4; i++ {
			if st := tlsRequest(t, c, br, fmt.Sprintf("/%d", i)); st != 200 {
				t.Fatalf("request %d: status %d", i, st)
			}
			time.Sleep(400 * time.Millisecond)
		}
		// The client leaves while parked: the session ends.
		waitFronts(t, base, 3*time.Second)
		c.Close()
		waitSess(t, sock, 0)
	})

	t.Run("state", func(t *testing.T) {
		// What a transaction sees of its session is the same after a
		// park: the session's variables, its tracked counters (still
		// counting), the TLS connection and the addresses.
		c, br := dial(feSt)
		_, port, _ := net.SplitHostPort(feSt)
		state := func(path string) string { return tlsExchange(t, c, br, path).Header.Get("X-State") }
		want := func(n int) string { return fmt.Sprintf("/first 1 %d 1 TLSv1.3 127.0.0.1 %s", n, port) }
		if got := state("/first"); got != want(1) {
			t.Fatalf("first request: X-State %q, want %q", got, want(1))
		}
		if got := state("/second"); got != want(2) {
			t.Fatalf("second request, before any park: X-State %q, want %q", got, want(2))
		}
		waitFronts(t, base, 3*time.Second)
		for n := 3; n < 5; n++ {
			if got := state("/after"); got != want(n) {
				t.Fatalf("request %d, after a park: X-State %q, want %q", n, got, want(n))
			}
			time.Sleep(400 * time.Millisecond)
		}
		c.Close()
		waitSess(t, sock, 0)
	})

	t.Run("server TLS", func(t *testing.T) {
		// A request after a park on the server connection kept for
		// the client (http-reuse never) still sees it as TLS.
		ca := newTestCA(t, dir, "ca")
		cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
		up := startTLSUpstream(t, cert, nil)
		fe2 := freePort(t)
		startGohap(t, fmt.Sprintf(defaults+`frontend fe
 bind %s ssl crt %s/site.pem
 http-response set-header X-BC "%%[ssl_bc] %%[ssl_bc_protocol]"
 default_backend be
backend be
 http-reuse never
 server up %s ssl verify none
`, fe2, dir, up.addr), nil)
		c, br := dial(fe2)
		for i := 0; i < 3; i++ {
			if i > 0 {
				// Long enough to park (parkAfter).
				time.Sleep(400 * time.Millisecond)
			}
			rsp := tlsExchange(t, c, br, "/")
			if got := rsp.Header.Get("X-BC"); rsp.StatusCode != 200 || got != "1 TLSv1.3" {
				t.Fatalf("request %d: status %d, X-BC %q, want 200 and \"1 TLSv1.3\"", i+1, rsp.StatusCode, got)
			}
		}
		if n := up.handshakes.Load(); n != 1 {
			t.Errorf("%d TLS handshakes with the server, want 1: its connection is the client's", n)
		}
	})

	t.Run("log", func(t *testing.T) {
		// The stream after a park starts where the one before ended: its
		// idle time (Ti) spans the park, and its line is its own.
		c, br := parked(feLog)
		time.Sleep(300 * time.Millisecond)
		if st := tlsRequest(t, c, br, "/second"); st != 200 {
			t.Fatalf("status %d", st)
		}
		var lines []string
		buf := make([]byte, 2048)
		for len(lines) < 2 {
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%v after %q", err, lines)
			}
			lines = append(lines, string(buf[:n]))
		}
		var ti int
		var path string
		if i := strings.Index(lines[1], "]: "); i < 0 {
			t.Fatalf("log line %q", lines[1])
		} else if _, err := fmt.Sscanf(lines[1][i+3:], "%d GET %s HTTP/1.1 200", &ti, &path); err != nil || path != "/second" || ti < 400 || ti > 3000 {
			t.Fatalf("second line %q: Ti %d path %q (%v), want Ti of 500 ms or so", lines[1], ti, path, err)
		}
		c.Close()
		waitSess(t, sock, 0)
	})

	t.Run("many", func(t *testing.T) {
		// Clients sending at random around the park delay: parks,
		// wakes and resumes race; every request is answered.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := tls.Dial("tcp", fe, &tls.Config{InsecureSkipVerify: true})
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for j := 0; j < 8; j++ {
					c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := fmt.Fprintf(c, "GET /%d/%d HTTP/1.1\r\nHost: x\r\n\r\n", i, j); err != nil {
						errs <- err
						return
					}
					rsp, err := http.ReadResponse(br, nil)
					if err != nil {
						errs <- fmt.Errorf("client %d request %d: %v", i, j, err)
						return
					}
					io.Copy(io.Discard, rsp.Body)
					rsp.Body.Close()
					time.Sleep(time.Duration(150+(i*37+j*53)%150) * time.Millisecond)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		waitSess(t, sock, 0)
	})

	t.Run("keep-alive timeout", func(t *testing.T) {
		start := time.Now()
		c, br := parked(feKA)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := br.ReadByte()
		if el := time.Since(start); err == nil || isTimeoutErr(err) || el < time.Second || el > 4*time.Second {
			t.Fatalf("read after %v: %v, want the close at 1.5s", el, err)
		}
		waitSess(t, sock, 0)
	})

	t.Run("hard stop", func(t *testing.T) {
		// A hard stop's kill reaches a parked connection.
		fe2 := freePort(t)
		e2 := startGohap(t, fmt.Sprintf(defaults+`frontend fe
 bind %s ssl crt %s/site.pem
 default_backend be
backend be
 server up %s
`, fe2, dir, up), nil)
		c, _ := parked(fe2)
		done := make(chan struct{})
		go func() { e2.Stop(); e2.Wait(); close(done) }()
		if !closedSoon(c) {
			t.Fatal("parked connection still open after a hard stop")
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("engine still running 5s after a hard stop")
		}
	})

	t.Run("soft stop", func(t *testing.T) {
		c, br := parked(fe)
		// An idle connection has stopIdleGrace (5s) to send one more
		// request, not its timeout client (60s).
		start := time.Now()
		e.SoftStop()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := br.ReadByte(); err == nil || isTimeoutErr(err) {
			t.Fatalf("parked connection still open %v after a soft stop: %v", time.Since(start), err)
		}
		waitEngine(t, e, 5*time.Second)
	})
}
