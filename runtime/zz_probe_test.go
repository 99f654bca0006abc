package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestZZHeadKeepAlive(t *testing.T) {
	recH, recG := startH2Recorder(t), startH2Recorder(t)
	cfg := baseDefaults + "frontend fe\n bind %s\n default_backend b\nbackend b\n server s1 %s proto h2\n"
	feH, feG := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, feH, recH.addr), feH)
	startGohap(t, fmt.Sprintf(cfg, feG, recG.addr), nil)
	for _, a := range []string{feH, feG} {
		c, _ := net.Dial("tcp", a)
		c.SetDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(c)
		for _, m := range []string{"HEAD", "GET", "HEAD", "GET"} {
			fmt.Fprintf(c, "%s / HTTP/1.1\r\nhost: h\r\nx-answer: 4\r\n\r\n", m)
			rsp, err := http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				t.Logf("%s %s: %v", a, m, err)
				break
			}
			b, _ := io.ReadAll(rsp.Body)
			t.Logf("%s %s: %d %v %q", a, m, rsp.StatusCode, rsp.Header, b)
		}
		c.Close()
		t.Logf("server: %s / %s", recH.take(), recG.take())
	}
}
