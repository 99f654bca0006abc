package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestH1CaseAdjustDifferential: h1-case-adjust (and its file) changes the
// case of the header names sent to the clients of a frontend with
// "option h1-case-adjust-bogus-client" and to the servers of a backend
// with "option h1-case-adjust-bogus-server". The header names the server
// reads and those the client reads agree with HAProxy's, for proxied
// exchanges and for answers the proxy makes itself.
func TestH1CaseAdjustDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	file := filepath.Join(t.TempDir(), "case.map")
	if err := os.WriteFile(file, []byte("# names\n\n  x-custom   X-CUSTOM  \nserver Server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	global := "global\n    h1-case-adjust content-length Content-Length\n    h1-case-adjust content-type Content-Type\n" +
		"    h1-case-adjust x-forwarded-for X-Forwarded-For\n    h1-case-adjust connection Connection\n    h1-case-adjust Host HOST\n    h1-case-adjust-file " + file + "\n"
	cases := []struct {
		name, defaults, fe, be, path string
	}{
		{"none", "", "", "", "/"},
		{"client", "", "option h1-case-adjust-bogus-client", "", "/"},
		{"server", "", "", "option h1-case-adjust-bogus-server", "/"},
		{"both-from-defaults", "option h1-case-adjust-bogus-client\n    option h1-case-adjust-bogus-server", "", "", "/"},
		{"defaults-then-no", "option h1-case-adjust-bogus-client\n    option h1-case-adjust-bogus-server", "no option h1-case-adjust-bogus-client", "no option h1-case-adjust-bogus-server", "/"},
		{"client-close", "", "option h1-case-adjust-bogus-client\n    option httpclose", "", "/"},
		{"client-own-answer", "", "option h1-case-adjust-bogus-client\n    http-request return status 200 content-type text/plain string ok hdr x-custom v", "", "/"},
		{"client-redirect", "", "option h1-case-adjust-bogus-client\n    http-request redirect location /x", "", "/"},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sideBySide(t, func(start func(cfg, fe string)) string {
				return caseRun(t, global, c.defaults, c.fe, c.be, c.path, start)
			})
		})
	}
}

// caseRun sends one request with mixed-case headers through the proxy
// and gives the header names the server and the client read.
func caseRun(t *testing.T, global, defaults, fe, be, path string, start func(cfg, fe string)) string {
	var mu sync.Mutex
	var seen []string
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		names := headNames(br)
		if names == nil {
			return
		}
		io.CopyN(io.Discard, br, 2)
		mu.Lock()
		seen = names
		mu.Unlock()
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Custom: 1\r\nSERVER: up\r\nContent-Length: 2\r\n\r\nok")
	})
	addr := freePort(t)
	start(fmt.Sprintf(`%s%s    %s
frontend f
    bind %s
    option forwardfor
    %s
    default_backend b
backend b
    %s
    server s1 %s
`, global, diffDefaults, defaults, addr, fe, be, up), addr)
	c := dialRaw(t, addr)
	io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: a\r\nCONTENT-TYPE: text/plain\r\nX-Custom: 2\r\nContent-Length: 2\r\n\r\nhi")
	got := headNames(bufio.NewReader(c))
	mu.Lock()
	defer mu.Unlock()
	return "server read " + strings.Join(seen, ",") + " | client read " + strings.Join(got, ",")
}

// headNames reads a head and gives its header names as written.
func headNames(br *bufio.Reader) []string {
	if _, err := br.ReadString('\n'); err != nil {
		return nil
	}
	names := []string{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			return names
		}
		name, _, _ := strings.Cut(l, ":")
		names = append(names, name)
	}
}
