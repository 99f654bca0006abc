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
	slow := serveRaw(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			time.Sleep(20 * time.Millisecond)
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"); err != nil {
				return
			}
		}
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
 bind %s
 use_backend be_slow if { path_beg /slow }
 default_backend be_fast
backend be_slow
 server s %s
backend be_fast
 server f %s
`, sock, fe, slow, fast), nil)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var fastOK, slowCut atomic.Int64
	fail := make(chan string, 1)
	report := func(s string) {
		select {
		case fail <- s:
		default:
		}
	}
	exchange := func(path string, closeConn bool) (string, error) {
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		hdr := ""
		if closeConn {
			hdr = "Connection: close\r\n"
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path, hdr)
		b, err := io.ReadAll(c)
		if !closeConn && len(b) > 0 {
			err = nil
		}
		return string(b), err
	}
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := exchange("/fast", true)
				if err != nil || !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.HasSuffix(out, "\r\n\r\nok") {
					report(fmt.Sprintf("fast request: %q, %v", out, err))
					return
				}
				fastOK.Add(1)
			}
		}()
	}
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if out, _ := exchange("/slow", true); !strings.HasSuffix(out, "slow") {
					slowCut.Add(1)
				}
			}
		}()
	}
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
	if fastOK.Load() == 0 || slowCut.Load() == 0 {
		t.Fatalf("%d fast requests answered, %d slow ones cut: the test did not run", fastOK.Load(), slowCut.Load())
	}
	t.Logf("%d fast requests answered, %d slow ones cut", fastOK.Load(), slowCut.Load())
}
