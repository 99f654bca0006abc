package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdlePoolFDRatioDifferential: a connection is kept idle only while
// the process holds fewer descriptors than tune.pool-high-fd-ratio (25%)
// of maxsock. With maxconn 10, six clients held open while their answers
// come one after the other leave at most one server connection idle,
// where a pool that ignores the descriptors would keep the six; with
// few descriptors in use a connection is kept and reused.
func TestIdlePoolFDRatioDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	run := func(start func(cfg, fe string)) string {
		var open, accepted, arrivals atomic.Int64
		up := serveRaw(t, func(c net.Conn) {
			accepted.Add(1)
			open.Add(1)
			defer open.Add(-1)
			br := bufio.NewReader(c)
			for {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				if req.URL.Path == "/burst" {
					// Answers 100 ms apart, in arrival order.
					time.Sleep(time.Duration(200+100*arrivals.Add(1)) * time.Millisecond)
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		})
		fe := freePort(t)
		start(fmtCfg("global\n maxconn 10\n nbthread 1\n"+baseDefaults+" http-reuse always\n"+
			"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, up), fe)
		var wg sync.WaitGroup
		var clients []net.Conn
		var mu sync.Mutex
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", fe, time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, "GET /burst HTTP/1.1\r\nHost: a\r\n\r\n")
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					io.Copy(io.Discard, resp.Body)
				}
			}()
		}
		wg.Wait()
		time.Sleep(200 * time.Millisecond)
		afterBurst := open.Load()
		for _, c := range clients {
			c.Close()
		}
		time.Sleep(200 * time.Millisecond)
		before := accepted.Load()
		for range 3 {
			exchange(t, fe, "GET /one HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", []string{"GET"}, 3*time.Second)
			time.Sleep(50 * time.Millisecond)
		}
		// The three sequential ones share at most one new connection.
		return fmt.Sprintf("idle after the burst <= 1: %v; new connections for three clients one after the other <= 1: %v",
			afterBurst <= 1, accepted.Load()-before <= 1)
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != want {
		t.Errorf("gohap: %s\nhaproxy: %s", got, want)
	}
	if want != "idle after the burst <= 1: true; new connections for three clients one after the other <= 1: true" {
		t.Errorf("haproxy: %s", want)
	}
}
