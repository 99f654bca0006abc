package runtime_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// With option socket-stats, "show stat" has a line per listener after
// the frontend's (its name or sock-<id>, its connections, status, id and
// address) and the exporter has its haproxy_listener_* metrics: as
// HAProxy's, once the byte counts, which HAProxy counts on its internal
// message form, are masked.
func TestListenerStatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the listener lines")
	}
	dir := t.TempDir()
	run := func(name string, start func(cfg, fe string)) (string, string) {
		fe, fe2, prom := freePort(t), freePort(t), freePort(t)
		sock := filepath.Join(dir, name+".sock")
		start(fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s name web1
 bind %s
 option socket-stats
 http-request return status 200
frontend metrics
 bind %s
 http-request use-service prometheus-exporter
`, sock, fe, fe2, prom), prom)
		for _, a := range []string{fe, fe2, fe2} {
			get(t, a, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		}
		var rows []string
		// The last connection counts as current until the proxy has
		// seen it close, which under load may take a moment.
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			busy := false
			rows = rows[:0]
			for _, l := range strings.Split(cliSend(t, "unix", sock, "show stat\n"), "\n") {
				if f := strings.Split(l, ","); len(f) > 32 && f[32] == "3" {
					busy = busy || f[4] != "0"
					// smax, bin, bout; the address's port.
					f[5], f[8], f[9] = "M", "B", "B"
					rows = append(rows, regexp.MustCompile(`:\d+$`).ReplaceAllString(strings.Join(f, ","), ":PORT"))
					rows[len(rows)-1] = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(rows[len(rows)-1], "127.0.0.1:PORT")
				}
			}
			if !busy || time.Now().After(deadline) {
				break
			}
		}
		_, _, body := get(t, prom, "GET /metrics?scope=listener HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		var metrics []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "haproxy_listener_") {
				name, val, _ := strings.Cut(l, "} ")
				if strings.Contains(name, "bytes_") || strings.Contains(name, "max_sessions") {
					val = "N"
				}
				metrics = append(metrics, name+"} "+val)
			}
		}
		return strings.Join(rows, "\n"), strings.Join(metrics, "\n")
	}
	refRows, refMetrics := run("h", func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gotRows, gotMetrics := run("g", func(cfg, _ string) { startGohap(t, cfg, nil) })
	if gotRows != refRows {
		t.Errorf("show stat listener lines:\nhaproxy:\n%s\ngohap:\n%s", refRows, gotRows)
	}
	if gotMetrics != refMetrics {
		t.Errorf("listener metrics:\nhaproxy:\n%s\ngohap:\n%s", refMetrics, gotMetrics)
	}
	if !strings.Contains(gotRows, "fe,sock-2,") || !strings.Contains(gotMetrics, `haproxy_listener_sessions_total{proxy="fe",listener="sock-2"} 2`) {
		t.Errorf("no second listener with its two connections:\n%s\n%s", gotRows, gotMetrics)
	}
}
