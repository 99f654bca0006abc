package runtime_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Requests queued for a full server leave the queue by priority class,
// then by queue time plus priority offset (set-priority-class,
// set-priority-offset), and prio_class/prio_offset read them back:
// HAProxy and gohap serve the same queue in the same order.
func TestQueuePriorityDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the queue order with")
	}
	up := startEcho(t, "s1")
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		cfg := fmt.Sprintf(`defaults
 mode http
 timeout connect 2s
 timeout client 10s
 timeout server 10s
 timeout queue 10s
frontend fe
 bind %s
 http-request set-priority-class req.hdr(x-class) if { req.hdr(x-class) -m found }
 http-request set-priority-offset req.hdr(x-off) if { req.hdr(x-off) -m found }
 http-response set-header x-prio "%%[prio_class]/%%[prio_offset]"
 default_backend b
backend b
 server s1 %s maxconn 1
`, fe, up.Addr())
		start(cfg, fe)
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		send := func(name, hdrs string) {
			defer wg.Done()
			resp, _ := roundTrip(t, fe, "GET /sleep/150 HTTP/1.1\r\nHost: x\r\n"+hdrs+"Connection: close\r\n\r\n")
			mu.Lock()
			order = append(order, name+" "+resp.Header.Get("x-prio"))
			mu.Unlock()
		}
		// The first one holds the server; the others queue one by one.
		for _, r := range []struct{ name, hdrs string }{
			{"first", ""},
			{"b-class5", "x-class: 5\r\n"},
			{"c-class1", "x-class: 1\r\n"},
			{"d-class-3", "x-class: -3\r\n"},
			{"e-class1-early", "x-class: 1\r\nx-off: -5000\r\n"},
			{"f-default", ""},
			{"g-clamped", "x-class: 99999\r\nx-off: 9999999\r\n"},
			{"h-notint", "x-class: abc\r\n"},
		} {
			wg.Add(1)
			go send(r.name, r.hdrs)
			time.Sleep(40 * time.Millisecond)
		}
		wg.Wait()
		return order
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) > 1 && !strings.HasPrefix(got[1], "d-class-3") {
		t.Errorf("class -3 not served first after the one holding the server: %q", got)
	}
}
