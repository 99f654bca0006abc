package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// earlyUpstream answers each request as soon as its head is in, then
// reads the body (and says how many bytes of it came), or closes when
// closeAfter is set.
type earlyUpstream struct {
	ln         net.Listener
	closeAfter bool
	mu         sync.Mutex
	seen       []string
}

func startEarlyUpstream(t *testing.T, closeAfter bool) *earlyUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	u := &earlyUpstream{ln: ln, closeAfter: closeAfter}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	return u
}

func (u *earlyUpstream) note(s string) {
	u.mu.Lock()
	u.seen = append(u.seen, s)
	u.mu.Unlock()
}

func (u *earlyUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if u.closeAfter {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
			u.note(req.Method + " " + req.URL.Path + " (answered, closed)")
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		n, err := io.Copy(io.Discard, req.Body)
		u.note(fmt.Sprintf("%s %s body %d %v", req.Method, req.URL.Path, n, err))
	}
}

func (u *earlyUpstream) take() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.seen
	u.seen = nil
	return s
}

// A server that answers before the request body is whole: HAProxy relays
// the answer at once, then takes the rest of the body (on to the server
// while it reads it, dropped once it is gone) and keeps the client
// connection for the next request. Both proxies must give the client the
// same bytes and the server the same requests and body sizes.
func TestEarlyAnswerDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for early answers")
	}
	body := strings.Repeat("x", 30000)
	heads := map[string]string{
		"length":  "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n" + body[:1000],
		"chunked": "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3E8\r\n" + body[:1000] + "\r\n",
	}
	rests := map[string]string{
		"length":  body[1000:],
		"chunked": "6D60\r\n" + body[1000:29000] + "\r\n0\r\n\r\n",
	}
	for _, framing := range []string{"length", "chunked"} {
		for _, closeAfter := range []bool{false, true} {
			name := fmt.Sprintf("%s close=%v", framing, closeAfter)
			t.Run(name, func(t *testing.T) {
				run := func(start func(cfg, fe string)) (string, []string) {
					up := startEarlyUpstream(t, closeAfter)
					fe := freePort(t)
					start(fmtCfg("defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 1s\nfrontend f\n bind %s\n default_backend b\nbackend b\n server s %s\n", fe, up.ln.Addr()), fe)
					c, err := net.DialTimeout("tcp", fe, time.Second)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					var got strings.Builder
					done := make(chan struct{})
					go func() {
						defer close(done)
						b := make([]byte, 4096)
						for {
							c.SetReadDeadline(time.Now().Add(2 * time.Second))
							n, err := c.Read(b)
							got.Write(b[:n])
							if err != nil || strings.Count(got.String(), "200 OK") == 2 {
								return
							}
						}
					}()
					io.WriteString(c, heads[framing])
					time.Sleep(200 * time.Millisecond)
					io.WriteString(c, rests[framing])
					time.Sleep(200 * time.Millisecond)
					io.WriteString(c, "GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
					<-done
					time.Sleep(100 * time.Millisecond)
					return got.String(), up.take()
				}
				refC, refU := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
				gotC, gotU := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
				if gotC != refC {
					t.Errorf("client got\n%q\nhaproxy's client got\n%q", gotC, refC)
				}
				if strings.Join(gotU, "\n") != strings.Join(refU, "\n") {
					t.Errorf("server saw\n%q\nwith haproxy\n%q", gotU, refU)
				}
			})
		}
	}
}
