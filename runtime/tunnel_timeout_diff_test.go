package runtime_test

import (
	"errors"
	"io"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// endOf tells how a side's reads ended: FIN, RST or still open, with how
// much of what the other side pushed it got.
func endOf(c net.Conn, who string, pushed int, wait time.Duration) string {
	c.SetReadDeadline(time.Now().Add(wait))
	n := 0
	b := make([]byte, 256)
	for {
		k, err := c.Read(b)
		n += k
		if err == nil {
			continue
		}
		amount := "none"
		switch {
		case n > 0 && n >= pushed:
			amount = "all"
		case n > 0:
			amount = "some"
		}
		return who + " " + endKind(err) + " " + amount
	}
}

func endKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		return "FIN"
	case errors.As(err, &ne) && ne.Timeout():
		return "open"
	case errors.Is(err, syscall.ECONNRESET):
		return "RST"
	}
	return err.Error()
}

var termStateRe = regexp.MustCompile(` ([-A-Za-z]{2,4}) \d+/\d+/\d+/\d+/\d+ `)

// TestTunnelTimeoutHalfCloseDifferential compares, side by side with
// HAProxy, what each end of a TCP tunnel sees when a read timeout
// expires: the side that timed out is read no more and the other end gets
// a FIN, the tunnel going on the other way; "timeout tunnel" resets the
// server. "option independent-streams" stops writes from refreshing the
// written side's read timeout, in tunnels and for an HTTP request body.
func TestTunnelTimeoutHalfCloseDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare with")
	}
	const pushes, every = 8, 80 * time.Millisecond
	type scenario struct {
		name, timeouts   string
		srvPush, cliPush bool
		http             bool
	}
	scenarios := []scenario{
		{name: "client-timeout", timeouts: "timeout client 300ms\n timeout server 5s"},
		{name: "server-timeout", timeouts: "timeout client 5s\n timeout server 300ms"},
		{name: "both-timeouts", timeouts: "timeout client 300ms\n timeout server 300ms"},
		{name: "tunnel-timeout", timeouts: "timeout client 5s\n timeout server 5s\n timeout tunnel 300ms"},
		{name: "server-pushes", timeouts: "timeout client 300ms\n timeout server 5s", srvPush: true},
		{name: "server-pushes-independent", timeouts: "timeout client 300ms\n timeout server 5s\n option independent-streams", srvPush: true},
		{name: "client-pushes", timeouts: "timeout client 5s\n timeout server 300ms", cliPush: true},
		{name: "client-pushes-independent", timeouts: "timeout client 5s\n timeout server 300ms\n option independent-streams", cliPush: true},
		{name: "http-upload", timeouts: "timeout client 5s\n timeout server 300ms", cliPush: true, http: true},
		{name: "http-upload-independent", timeouts: "timeout client 5s\n timeout server 300ms\n option independent-streams", cliPush: true, http: true},
	}
	push := func(c net.Conn, chunk string, stop <-chan struct{}) {
		for i := 0; i < pushes; i++ {
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
	}
	run := func(sc scenario, start func(cfg, fe string)) string {
		up, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer up.Close()
		sink := newLogSink(t)
		fe := freePort(t)
		mode, logOpt := "tcp", "tcplog"
		if sc.http {
			mode, logOpt = "http", "httplog"
		}
		start(fmtCfg("global\n log %s local0\ndefaults\n mode %s\n log global\n option %s\n timeout connect 1s\n %s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server s1 %s\n",
			sink.addr(), mode, logOpt, sc.timeouts, fe, up.Addr()), fe)
		// What the start's readiness probe left: its server connection
		// (mode tcp) and its log line.
		up.(*net.TCPListener).SetDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			x, err := up.Accept()
			if err != nil {
				break
			}
			x.Close()
		}
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		c := dialRaw(t, fe)
		defer c.Close()
		if sc.http {
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
		}
		up.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		s, err := up.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var mu sync.Mutex
		var events []string
		note := func(e string) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			// The server: pushes if asked, reads until its side ends,
			// then closes a little later.
			defer wg.Done()
			if sc.srvPush {
				go func() {
					push(s, "x", stop)
					s.(*net.TCPConn).CloseWrite()
				}()
			}
			if sc.http {
				// It answers once the body is whole, if it gets it.
				s.SetReadDeadline(time.Now().Add(3 * time.Second))
				var got []byte
				b := make([]byte, 4096)
				for !strings.HasSuffix(string(got), "0\r\n\r\n") {
					n, err := s.Read(b)
					got = append(got, b[:n]...)
					if err != nil {
						note("server " + endKind(err) + " before the body's end")
						return
					}
				}
				io.WriteString(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				note("server answered")
				return
			}
			note(endOf(s, "server", pushes, 3*time.Second))
			time.Sleep(200 * time.Millisecond)
			s.Close()
		}()
		go func() {
			defer wg.Done()
			if sc.cliPush {
				chunk := "x"
				if sc.http {
					chunk = "1\r\nx\r\n"
				}
				push(c, chunk, stop)
				if sc.http {
					io.WriteString(c, "0\r\n\r\n")
				} else {
					c.(*net.TCPConn).CloseWrite()
				}
			}
		}()
		if sc.http {
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			b := make([]byte, 4096)
			n, _ := c.Read(b)
			line, _, _ := strings.Cut(string(b[:n]), "\r\n")
			if line == "" {
				line = "nothing"
			}
			note("client got " + line)
		} else {
			note(endOf(c, "client", pushes, 3*time.Second))
			c.Close()
		}
		close(stop)
		wg.Wait()
		l, ok := sink.next(3 * time.Second)
		st := "(no log)"
		if m := termStateRe.FindStringSubmatch(l); ok && m != nil {
			st = m[1]
		}
		sort.Strings(events)
		return strings.Join(events, ", ") + "; log " + st
	}
	same := 0
	for _, sc := range scenarios {
		ref := run(sc, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		got := run(sc, func(cfg, _ string) { startGohap(t, cfg, nil) })
		if got != ref {
			t.Errorf("%s:\n haproxy %s\n   gohap %s", sc.name, ref, got)
			continue
		}
		same++
		t.Logf("%s: both %s", sc.name, ref)
	}
	t.Logf("tunnel timeout scenarios agreeing with HAProxy: %d/%d", same, len(scenarios))
}
