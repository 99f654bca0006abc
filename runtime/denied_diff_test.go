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

// TestDeniedCountersDifferential: show stat's dreq and dresp count what
// http-request deny and tarpit (the frontend's and the backend's),
// http-response deny, and tcp-request content reject refused, on the
// frontend, backend and server rows as HAProxy counts them.
func TestDeniedCountersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	sideBySide(t, func(start func(cfg, fe string)) string { return deniedRun(t, start) })
}

func deniedRun(t *testing.T, start func(cfg, fe string)) string {
	up := serveRequests(t, func(c net.Conn, _ *http.Request) {
		c.Write([]byte("HTTP/1.1 404 NF\r\ncontent-length: 0\r\n\r\n"))
	})
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	start(fmt.Sprintf(`global
    stats socket %s level admin
%sfrontend f
    bind %s
    http-request deny if { path /d }
    http-request tarpit if { path /t }
    http-response deny if { status 404 }
    tcp-request content reject if { req.hdr(x-r) 1 }
    default_backend b
backend b
    timeout tarpit 100ms
    http-request deny if { path /bd }
    server s %s
`, sock, diffDefaults, fe, up), fe)
	for _, r := range [][2]string{{"/d", ""}, {"/t", ""}, {"/bd", ""}, {"/x", ""}, {"/y", "x-r: 1\r\n"}} {
		c := dialRaw(t, fe)
		io.WriteString(c, "GET "+r[0]+" HTTP/1.1\r\nHost: a\r\n"+r[1]+"Connection: close\r\n\r\n")
		io.ReadAll(c)
	}
	out := cliSend(t, "unix", sock, "show stat\n")
	var rows []string
	for _, k := range [][2]string{{"f", "FRONTEND"}, {"b", "s"}, {"b", "BACKEND"}} {
		r := statRow(out, k[0], k[1])
		rows = append(rows, fmt.Sprintf("%s/%s dreq=%s dresp=%s", k[0], k[1], r["dreq"], r["dresp"]))
	}
	return strings.Join(rows, " ")
}
