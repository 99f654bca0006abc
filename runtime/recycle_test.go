package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ended sessions are recycled for the next connections. "shutdown
// sessions server" kills the streams of one server over and over while
// other clients come and go on another server: a kill must only ever
// reach the streams it was aimed at, never a connection that got a
// recycled session meanwhile.
func TestRecycledSessionsAndKills(t *testing.T) {
	fe, sock := recycleProxy(t, "")
	exchange := func(path string) (string, error) {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		b, err := io.ReadAll(c)
		return string(b), err
	}
	recycleRun(t, sock, exchange, func(out string) bool {
		return strings.HasPrefix(out, "HTTP/1.1 200") && strings.HasSuffix(out, "\r\n\r\nok")
	})
}

// The same with HTTP/2 streams, each served by a session, the slow ones
// killed while the fast ones share their connections.
func TestRecycledSessionsAndKillsH2(t *testing.T) {
	fe, sock := recycleProxy(t, " proto h2")
	c := h2cClient(5 * time.Second)
	defer c.CloseIdleConnections()
	exchange := func(path string) (string, error) {
		r, err := c.Get("http://" + fe + path)
		if err != nil {
			return "", err
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		return r.Status + " " + string(b), err
	}
	recycleRun(t, sock, exchange, func(out string) bool { return out == "200 OK ok" })
}

// recycleProxy starts a proxy whose /slow requests go to a server that
// answers after 20 ms and the others to a fixed one; it returns the
// frontend's and the stats socket's addresses.
func recycleProxy(t *testing.T, bindOpts string) (string, string) {
	slow := serveRequests(t, func(c net.Conn, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
	})
	fast := fixedUpstream(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	fe := freePort(t)
	startGohap(t, fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s%s
 use_backend be_slow if { path_beg /slow }
 default_backend be_fast
backend be_slow
 server s %s
backend be_fast
 server f %s
`, sock, fe, bindOpts, slow, fast), nil)
	return fe, sock
}

// recycleRun has six clients send fast requests and three slow ones
// while the CLI kills the slow server's streams, for 1.5 s; every fast
// answer must be whole (fastOK).
func recycleRun(t *testing.T, sock string, exchange func(path string) (string, error), fastOK func(string) bool) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var answered, slowCut atomic.Int64
	fail := make(chan string, 1)
	report := func(s string) {
		select {
		case fail <- s:
		default:
		}
	}
	// spawn runs n clients, each calling body until the test stops or
	// body says to.
	spawn := func(n int, body func() bool) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if !body() {
						return
					}
				}
			}()
		}
	}
	spawn(6, func() bool {
		out, err := exchange("/fast")
		if err != nil || !fastOK(out) {
			report(fmt.Sprintf("fast request: %q, %v", out, err))
			return false
		}
		answered.Add(1)
		return true
	})
	spawn(3, func() bool {
		if out, _ := exchange("/slow"); !strings.HasSuffix(out, "slow") {
			slowCut.Add(1)
		}
		return true
	})
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		cliSend(t, "unix", sock, "shutdown sessions server be_slow/s\n")
		time.Sleep(3 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	select {
	case s := <-fail:
		t.Fatal(s)
	default:
	}
	if answered.Load() == 0 || slowCut.Load() == 0 {
		t.Fatalf("%d fast requests answered, %d slow ones cut: the test did not run", answered.Load(), slowCut.Load())
	}
	t.Logf("%d fast requests answered, %d slow ones cut", answered.Load(), slowCut.Load())
}

// A connection that gets a recycled session starts from nothing: the
// session variables an earlier connection set are not seen.
func TestRecycledSessionStartsClean(t *testing.T) {
	up := fixedUpstream(t)
	fe := freePort(t)
	startGohap(t, fmt.Sprintf(`defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 http-request set-var(sess.who) req.hdr(x-who) if { req.hdr(x-who) -m found }
 http-response set-header x-who "%%[var(sess.who)]"
 default_backend be
backend be
 server s %s
`, fe, up), nil)
	get := func(c net.Conn, hdr string) string {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n%s\r\n", hdr)
		rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, rsp.Body)
		rsp.Body.Close()
		return rsp.Header.Get("x-who")
	}
	for i := 0; i < 50; i++ {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if i%2 == 0 {
			// The variable lives as long as the connection.
			if a, b := get(c, "x-who: alice\r\n"), get(c, ""); a != "alice" || b != "alice" {
				t.Fatalf("connection %d: x-who %q then %q, want alice twice", i, a, b)
			}
		} else if w := get(c, ""); w != "" {
			t.Fatalf("connection %d, after one that set sess.who: x-who %q", i, w)
		}
		c.Close()
		// Let the session end before the next connection comes.
		time.Sleep(2 * time.Millisecond)
	}
}
