package runtime_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// runnerGoroutines counts the goroutines waiting as idle session runners.
func runnerGoroutines() int { return goroutinesIn("runtime.(*Engine).runner+") }

// The goroutines that served sessions and wait for the next one end
// with the engine.
func TestIdleRunnersEndWithEngine(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(up.Close)
	fe := freePort(t)
	before := runnerGoroutines()
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
	idle := runnerGoroutines() - before
	if idle < 1 {
		t.Fatalf("no runner waits after 10 connections")
	}
	e.Stop()
	e.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for runnerGoroutines() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d runners still wait after the engine stopped (%d did before)", runnerGoroutines()-before, idle)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
