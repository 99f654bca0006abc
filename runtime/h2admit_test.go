package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The admission of HTTP/2 streams never holds back streams because
// others wait for their server: a hundred and fifty streams all reach an
// upstream that answers none until all are there. (runtime/h2's tests
// check how: the limit applies only while goroutines wait for the CPU,
// and long waits stop counting; the count of the limit's give-ways is
// process-wide, and other tests' streams move it.)
func TestH2StreamsWaitingForServerAdmitted(t *testing.T) {
	const n = 150
	var mu sync.Mutex
	in := 0
	all := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if in++; in == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s proto h2\n default_backend be\nbackend be\n server s1 %s\n", fe, ln.Addr().String()), nil)
	var wg sync.WaitGroup
	fails := make(chan error, n)
	for c := 0; c < n; c += 50 {
		cl := h2cClient(10 * time.Second)
		defer cl.CloseIdleConnections()
		for i := c; i < c+50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r, err := cl.Get(fmt.Sprintf("http://%s/%d", fe, i))
				if err != nil {
					fails <- err
					return
				}
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if r.StatusCode != 200 || string(b) != "ok" {
					fails <- fmt.Errorf("%d %q", r.StatusCode, b)
				}
			}(i)
		}
	}
	wg.Wait()
	close(fails)
	for err := range fails {
		t.Fatal(err)
	}
	select {
	case <-all:
	default:
		t.Fatal("the streams did not all reach the server at once")
	}
}
