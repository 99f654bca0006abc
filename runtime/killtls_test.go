package runtime_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// "shutdown session" on a TLS client that reads nothing while a large
// answer is written to it: the CLI answers and the client is cut at
// once, not when the write would have timed out (timeout client 60s).
func TestShutdownSessionTLSWriting(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	body := strings.Repeat("x", 64<<20)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}))
	t.Cleanup(up.Close)
	sock := filepath.Join(dir, "s.sock")
	fe := freePort(t)
	startGohap(t, fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 60s
 timeout server 60s
frontend fe
 bind %s ssl crt %s/site.pem
 default_backend be
backend be
 server up %s
`, sock, fe, dir, strings.TrimPrefix(up.URL, "http://")), nil)
	c, err := tls.Dial("tcp", fe, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	ls := waitSess(t, sock, 1)
	// Let the proxy fill the socket and block in its write.
	time.Sleep(300 * time.Millisecond)
	done := make(chan string, 1)
	go func() { done <- cliSend(t, "unix", sock, "shutdown session "+streamID(ls[0])+"\n") }()
	select {
	case out := <-done:
		if strings.TrimSpace(out) != "" {
			t.Errorf("shutdown session: %q", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown session still blocked after 5s")
	}
	// The client reads what was sent, then the end.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil && strings.Contains(err.Error(), "timeout") || n >= int64(len(body)) {
		t.Errorf("client read %d bytes, then %v", n, err)
	}
}
