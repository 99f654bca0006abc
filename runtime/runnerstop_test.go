package runtime_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gohap/gohap/runtime"
)

// The goroutines that served sessions and wait for the next one end
// with the engine. The counts are the engine's own: other tests' engines
// start and stop runners meanwhile.
func TestIdleRunnersEndWithEngine(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(up.Close)
	fe := freePort(t)
	e := startGohap(t, fmt.Sprintf("defaults\n mode http\n timeout connect 1s\n timeout client 2s\n timeout server 2s\n"+
		"frontend f\n bind %s\n default_backend b\nbackend b\n server s %s\n", fe, up.Listener.Addr()), nil)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	for i := 0; i < 10; i++ {
		resp, err := client.Get("http://" + fe + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A runner goes idle once its session has ended, after the answer.
	eventually(t, "a runner waiting after 10 connections", func() bool { return runtime.IdleRunners(e) >= 1 })
	idle := runtime.IdleRunners(e)
	e.Stop()
	e.Wait()
	eventually(t, fmt.Sprintf("no runner left after the engine stopped (%d waited)", idle), func() bool {
		return runtime.Runners(e) == 0 && runtime.IdleRunners(e) == 0
	})
}
