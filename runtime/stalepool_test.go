package runtime_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// finServer is a server that answers each request on a connection with
// 200, then ends its side of the connection (FIN) once it has been idle
// for idle, and keeps reading: a request that still comes on such a
// connection is counted in late, then the connection is closed.
type finServer struct {
	addr string
	idle time.Duration
	// ended receives one value each time the server ends a connection.
	ended chan struct{}
	mu    sync.Mutex
	late  []string
}

func startFinServer(t *testing.T, idle time.Duration) *finServer {
	h := &finServer{idle: idle, ended: make(chan struct{}, 64)}
	h.addr = serveRaw(t, func(c net.Conn) { h.serve(c.(*net.TCPConn)) })
	return h
}

func (h *finServer) serve(c *net.TCPConn) {
	br := bufio.NewReader(c)
	ended := false
	for {
		if !ended {
			c.SetReadDeadline(time.Now().Add(h.idle))
		} else {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && !ended {
				c.CloseWrite()
				ended = true
				h.ended <- struct{}{}
				continue
			}
			return
		}
		io.Copy(io.Discard, req.Body)
		if ended {
			h.mu.Lock()
			h.late = append(h.late, req.Method)
			h.mu.Unlock()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}
}

func (h *finServer) lateRequests() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.late, " ")
}

// TestStalePooledConnection: an idle server connection the server ended
// (FIN) is found ended when it is taken again, and the request goes on a
// new connection, with or without a body. A request sent on it would
// wait for an answer that never comes: the end came before the send, so
// the socket reports nothing new after it. The server, which keeps
// reading after its FIN as a lingering close does, sees any such request.
func TestStalePooledConnection(t *testing.T) {
	up := startFinServer(t, 20*time.Millisecond)
	fe := freePort(t)
	startGohap(t, fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse always\n server s1 %s\n", fe, up.addr), nil)
	do := func(req string) string {
		c := dialRaw(t, fe)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			return err.Error()
		}
		rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err.Error()
		}
		rsp.Body.Close()
		return rsp.Status
	}
	for _, req := range []string{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"} {
		for i := range 4 {
			if got := do(req); got != "200 OK" {
				t.Fatalf("%.4s %d: %s, want 200 OK", req, i, got)
			}
			// The server ends the pooled connection meanwhile; its FIN
			// is on gohap's socket well before the next request.
			select {
			case <-up.ended:
			case <-time.After(5 * time.Second):
				t.Fatalf("%.4s %d: the server did not end its connection", req, i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := up.lateRequests(); got != "" {
		t.Fatalf("requests sent on ended connections: %q, want none", got)
	}
}
