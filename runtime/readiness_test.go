package runtime_test

import (
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

// The next request of a keep-alive client is read when the client's
// socket reports it: these are the cases where it arrives while the
// session is busy elsewhere, which must not leave it unseen. Timeouts
// are long so that a missed request shows as the client's deadline.
func TestNextRequestArrivingWhileBusy(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	cfg := fmtCfg(`
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
frontend fe
    bind %s
    default_backend be
backend be
    server s1 %s
`, fe, s1.Addr())
	startGohap(t, cfg, nil)
	get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n" }
	cases := []struct {
		name  string
		steps []string // sent in turn, 150 ms apart
		want  []string // request lines echoed, in order
	}{
		{"during-server-wait", []string{get("/sleep/300"), get("/b")}, []string{"GET /sleep/300", "GET /b"}},
		{"split-during-server-wait", []string{get("/sleep/500"), "GET /b HT", "TP/1.1\r\nHost: a\r\n\r\n"}, []string{"GET /sleep/500", "GET /b"}},
		{"pipelined", []string{get("/a") + get("/b") + get("/c")}, []string{"GET /a", "GET /b", "GET /c"}},
		{"body-then-get", []string{"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe", "llo" + get("/sleep/200"), get("/c")}, []string{"POST /p", "GET /sleep/200", "GET /c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, fe)
			c.c.SetDeadline(time.Now().Add(10 * time.Second))
			go func() {
				for i, s := range tc.steps {
					if i > 0 {
						time.Sleep(150 * time.Millisecond)
					}
					if _, err := c.c.Write([]byte(s)); err != nil {
						return
					}
				}
			}()
			for i, w := range tc.want {
				method := strings.Fields(w)[0]
				resp, body := c.read(method)
				if resp.StatusCode != 200 || !strings.HasPrefix(body, w+" HTTP/1.1\r\n") {
					t.Fatalf("response %d: %d %q, want the echo of %q", i, resp.StatusCode, body, w)
				}
			}
		})
	}
}

// Many keep-alive clients at once, each with requests arriving as soon
// as the previous answer does: every request is answered, with one P
// (where sessions take their turn in ready order) and with several.
func TestKeepAliveClientsUnderLoad(t *testing.T) {
	t.Run("one-P", func(t *testing.T) {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
		keepAliveLoad(t)
	})
	t.Run("two-Ps", func(t *testing.T) {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
		keepAliveLoad(t)
	})
}

func keepAliveLoad(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n", fe, s1.Addr()), nil)
	const clients, reqs = 32, 200
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			c := dial(t, fe)
			c.c.SetDeadline(time.Now().Add(30 * time.Second))
			for j := 0; j < reqs; j++ {
				p := fmt.Sprintf("/%d/%d", i, j)
				if _, err := c.c.Write([]byte("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
					errs <- err
					return
				}
				resp, err := readResp(c)
				if err != nil {
					errs <- err
					return
				}
				if !strings.HasPrefix(resp, "GET "+p+" ") {
					errs <- fmt.Errorf("client %d request %d: got %q", i, j, resp)
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// readResp reads one response's body, for use outside the test goroutine.
func readResp(c *client) (string, error) {
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A write deadline left by a streamed body must not fail the answer to
// a request that comes after a longer keep-alive pause.
func TestAnswerAfterPauseLongerThanClientTimeout(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, timeoutsCfg(fe, s1.Addr(), "client 500ms", "http-keep-alive 5s"), nil)
	c := dial(t, fe)
	c.send("GET /size/100000 HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := c.read("GET"); resp.StatusCode != 200 || len(body) != 100000 {
		t.Fatalf("first: %d, %d bytes", resp.StatusCode, len(body))
	}
	time.Sleep(1200 * time.Millisecond)
	c.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := c.read("GET"); resp.StatusCode != 200 || !strings.HasPrefix(body, "GET /b ") {
		t.Fatalf("after the pause: %d %q", resp.StatusCode, body)
	}
}

// A client that sends requests without reading the answers fills the
// socket; the write then times out after "timeout client" and the
// connection ends with what the kernel had taken.
func TestBlockedAnswerTimesOut(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	startGohap(t, timeoutsCfg(fe, s1.Addr(), "client 1s"), nil)
	c := dial(t, fe)
	const n, size = 2000, 15000
	var reqs strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&reqs, "GET /size/%d HTTP/1.1\r\nHost: a\r\n\r\n", size)
	}
	go c.c.Write([]byte(reqs.String()))
	// Read nothing until the proxy has had time to give up.
	time.Sleep(3 * time.Second)
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.Copy(io.Discard, c.c)
	if err != nil && !isReset(err) {
		t.Fatalf("%d bytes, then %v; want the connection ended", got, err)
	}
	if got >= n*size {
		t.Fatalf("all %d bytes came: the write never blocked", got)
	}
}

// timeoutsCfg is one frontend and one server with the timeouts given
// ("client 1s"), a connect timeout of 1s and a server timeout of 5s.
func timeoutsCfg(fe, srv string, timeouts ...string) string {
	var b strings.Builder
	b.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\n")
	for _, t := range timeouts {
		b.WriteString("    timeout " + t + "\n")
	}
	fmt.Fprintf(&b, "frontend fe\n    bind %s\n    default_backend be\nbackend be\n    server s1 %s\n", fe, srv)
	return b.String()
}

// A hard stop ends at once the sessions waiting for a slow server, queued
// for a full one, or idle between requests, with one P and with two.
func TestStopEndsBusyQueuedAndIdleSessions(t *testing.T) {
	for _, procs := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d-P", procs), func(t *testing.T) {
			defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(procs))
			s1 := startEcho(t, "s1")
			fe := freePort(t)
			e := startGohap(t, fmtCfg(`
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
frontend fe
    bind %s
    default_backend be
backend be
    server s1 %s maxconn 1
`, fe, s1.Addr()), nil)
			busy, queued, idle := dial(t, fe), dial(t, fe), dial(t, fe)
			idle.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
			idle.read("GET")
			busy.send("GET /sleep/3000 HTTP/1.1\r\nHost: a\r\n\r\n")
			time.Sleep(200 * time.Millisecond)
			queued.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			stopped := make(chan struct{})
			go func() {
				e.Stop()
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				t.Fatal("Stop still running after 5s")
			}
			for name, c := range map[string]*client{"busy": busy, "queued": queued, "idle": idle} {
				c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, err := io.Copy(io.Discard, c.br)
				if err != nil && !isReset(err) {
					t.Errorf("%s client: %v, want the connection closed", name, err)
				}
				if n > 0 {
					t.Errorf("%s client got %d bytes, want none", name, n)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("connections closed after %v", d)
			}
		})
	}
}
