package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestStreamCountersDifferential: show stat counts streams, requests
// and responses on the frontend, backend and server rows as HAProxy
// does, whoever answers: a server (2xx, 4xx, an invalid answer), a
// frontend's or a backend's rule, a tcp-request content reject, a
// server refusing connections (each retry a session), a backend with
// no server left, and a request HAProxy cannot parse.
func TestStreamCountersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// HAProxy's start is waited for with a connection closed at once,
	// which it counts as a failed request: gohap gets the same.
	g := streamCountRun(t, func(cfg, fe string) {
		startGohap(t, cfg, nil)
		dialRaw(t, fe).Close()
	})
	h := streamCountRun(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	// On a loaded machine HAProxy's counts vary between runs: the
	// tcp-request content reject counts as a response of another status
	// (hrsp_other) in most runs and not at all in some (about 1 in 18),
	// and the 503 of the backend with no server was once left out of the
	// frontend's and the backend's counts. A run that differs is run
	// again; gohap's counts are the same in every run.
	for try := 0; try < 2 && g != h; try++ {
		h = streamCountRun(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	}
	if g != h {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", g, h)
	}
}

func streamCountRun(t *testing.T, start func(cfg, fe string)) string {
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		switch r.URL.Path {
		case "/nf":
			io.WriteString(c, "HTTP/1.1 404 NF\r\ncontent-length: 0\r\n\r\n")
		case "/rd":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nx-deny: 1\r\ncontent-length: 0\r\n\r\n")
		case "/bad":
			io.WriteString(c, "HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n")
		default:
			io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
		}
	})
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
%s    retries 2
frontend f
    bind %s
    tcp-request inspect-delay 1s
    tcp-request content reject if { req.hdr(x-r) 1 }
    http-request deny if { path /fd }
    use_backend down if { path /down }
    use_backend none if { path /none }
    default_backend b
backend b
    http-request deny if { path /bd }
    http-request return status 200 if { path /br }
    http-request redirect location /x if { path /brd }
    http-response deny if { res.hdr(x-deny) 1 }
    server s %s
backend down
    server d %s
backend none
    server n %s disabled
`, sock, diffDefaults, fe, up, freePort(t), up), fe)
	send := func(raw string) {
		c := dialRaw(t, fe)
		io.WriteString(c, raw)
		io.ReadAll(c)
	}
	for _, p := range []string{"/ok", "/nf", "/rd", "/bad", "/fd", "/bd", "/br", "/brd", "/down", "/none"} {
		send("GET " + p + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	}
	send("GET /ok HTTP/1.1\r\nHost: a\r\nx-r: 1\r\nConnection: close\r\n\r\n")
	send("GET /ok HTTP/1.1\r\nHost: a\r\nBad Header: x\r\nConnection: close\r\n\r\n")
	out := cliSend(t, "unix", sock, "show stat\n")
	cols := strings.Fields("stot req_tot hrsp_1xx hrsp_2xx hrsp_3xx hrsp_4xx hrsp_5xx hrsp_other dreq dresp ereq econ eresp wretr wredis cli_abrt srv_abrt")
	var rows []string
	for _, k := range [][2]string{{"f", "FRONTEND"}, {"b", "s"}, {"b", "BACKEND"}, {"down", "d"}, {"down", "BACKEND"}, {"none", "n"}, {"none", "BACKEND"}} {
		r := statRow(out, k[0], k[1])
		if r == nil {
			t.Fatalf("no %s/%s row in:\n%s", k[0], k[1], out)
		}
		row := k[0] + "/" + k[1]
		for _, c := range cols {
			row += " " + c + "=" + r[c]
		}
		rows = append(rows, row)
	}
	return strings.Join(rows, "\n")
}
