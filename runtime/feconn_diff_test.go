package runtime_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// A frontend's counts as HAProxy keeps them: an HTTP/2 connection is one
// connection and one session whatever its streams (fe_conn seen by
// concurrent streams, scur, smax, stot, the session and connection
// rates), and the requests the frontend answers itself (return,
// redirect, auth, monitor-uri) count as intercepted, those a backend's
// rules answer do not.
func TestFrontendCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	slow := serveRequests(t, func(c net.Conn, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	// Under load HAProxy has been seen with one session more at once
	// (smax 4), its own timing.
	sideBySideTries(t, 3, func(start func(cfg, ready string)) string {
		fe, ready := freePort(t), freePort(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		start(fmtCfg(`global
 stats socket %s level admin
`+baseDefaults+`frontend fe
 bind %s ssl crt %s/site.pem alpn h2,http/1.1
 monitor-uri /mon
 http-request redirect location /x if { path /r }
 http-request auth if { path /auth }
 http-request return status 200 if { path /a }
 http-response set-header x-fc %%[fe_conn]
 default_backend be
backend be
 http-request return status 201 if { path /b }
 server up %s
frontend ready
 bind %s
`, sock, fe, dir, slow, ready), ready)
		var out []string
		tlsCfg := &tls.Config{InsecureSkipVerify: true}
		// One HTTP/2 connection carries every request: a transport's pool
		// might dial a second one, which smax would count.
		raw, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", fe, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := (&http2.Transport{}).NewClientConn(raw)
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		h2c := &http.Client{Timeout: 5 * time.Second, Transport: cc}
		status := func(cl *http.Client, path string) string {
			r, err := cl.Get("https://" + fe + path)
			if err != nil {
				return path + " " + err.Error()
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			return fmt.Sprintf("%s %s %d fc=%s", path, r.Proto, r.StatusCode, r.Header.Get("x-fc"))
		}
		out = append(out, status(h2c, "/a"))
		var mu sync.Mutex
		var wg sync.WaitGroup
		var slowOut []string
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := status(h2c, "/slow")
				mu.Lock()
				slowOut = append(slowOut, s)
				mu.Unlock()
			}()
		}
		wg.Wait()
		sort.Strings(slowOut)
		out = append(out, slowOut...)
		for _, p := range []string{"/b", "/r", "/auth", "/mon"} {
			out = append(out, status(h2c, p))
		}
		// The HTTP/2 connection stays open meanwhile: two at once.
		// One connection only: a request must not dial a second one while
		// the first is on its way back to the idle pool.
		h1c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxConnsPerHost: 1}}
		for _, p := range []string{"/a", "/b"} {
			out = append(out, status(h1c, p))
		}
		// A third at once that fails its handshake: a connection
		// (conn_tot, its rate, smax), not a session.
		bad := dialRaw(t, fe)
		io.WriteString(bad, "GET / HTTP/1.0\r\n\r\n")
		io.ReadAll(bad)
		bad.Close()
		h1c.CloseIdleConnections()
		cc.Close()
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), "scur", "smax", "stot", "rate_max", "conn_rate_max", "conn_tot", "req_tot", "intercepted", "ssl_failed_handshake")
			if strings.HasPrefix(rows[0], "fe,FRONTEND scur=0 ") || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(append(out, rows[0]), "\n")
	})
}

// A backend's and its servers' counts as HAProxy keeps them: the most
// streams and queued requests at once (smax, qmax; the backend's qcur
// and qmax are its own queue's), and lbtot the servers balancing chose,
// not persistence (use-server) nor a request the backend's rules
// answered.
func TestBackendCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	slow := func() string {
		return serveRequests(t, func(c net.Conn, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		})
	}
	s1, s2 := slow(), slow()
	sideBySide(t, func(start func(cfg, fe string)) string {
		fe, sock := startStatsFE(t, start, `backend be
 balance roundrobin
 http-reuse never
 use-server s1 if { path /s1 }
 http-request return status 201 if { path /b }
 server s1 %s maxconn 1
 server s2 %s maxconn 1
`, s1, s2)
		var wg sync.WaitGroup
		get := func(path string) {
			defer wg.Done()
			get(t, fe, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		}
		// Four at once on two servers of one slot each: two wait in
		// the backend's queue.
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go get("/")
			time.Sleep(20 * time.Millisecond)
		}
		wg.Wait()
		wg.Add(2)
		get("/b")
		get("/s1")
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), "qcur", "qmax", "scur", "smax", "stot", "lbtot")
			if len(rows) == 4 && strings.Contains(rows[3], "scur=0 ") || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(rows[1:], "\n")
	})
}

// chkdown counts a server's transitions from running to stopped (a
// failing check, maintenance) and a backend's losses of its last server,
// as HAProxy's down_trans.
func TestCheckDownCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dead, live := freePort(t), startEcho(t, "live").Addr()
	sideBySide(t, func(start func(cfg, fe string)) string {
		fe := freePort(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		start(fmtCfg(`global
 stats socket %s level admin
`+baseDefaults+`frontend fe
 bind %s
 default_backend gone
backend gone
 server d %s check inter 100ms fall 2
backend kept
 server l %s
 server m %s check inter 100ms
`, sock, fe, dead, live, live), fe)
		waitUnixSocket(sock)
		cliSend(t, "unix", sock, "disable server kept/m\n")
		var rows []string
		for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), "status", "chkdown")
			if strings.Contains(strings.Join(rows, "\n"), "gone,d status=DOWN") || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(rows[1:], "\n")
	})
}

// show info's counts as HAProxy keeps them: CumConns counts sessions
// (an HTTP/2 connection once, each stats socket connection), CumReq the
// streams (one per request, none for a keep-alive connection's close,
// one per stats socket connection), the stats sockets are listeners and
// their connections jobs. Compared as the change over some traffic.
func TestShowInfoCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	sideBySide(t, func(start func(cfg, fe string)) string {
		fe, sock := startStatsFE(t, start, "backend be\n server s %s\n", up)
		fields := []string{"CurrConns", "CumConns", "CumReq", "Listeners", "Jobs"}
		info := func() map[string]int {
			m := map[string]int{}
			for _, l := range strings.Split(cliSend(t, "unix", sock, "show info\n"), "\n") {
				k, v, _ := strings.Cut(l, ": ")
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					m[k] = n
				}
			}
			return m
		}
		// The connection a start made to see the proxy listen may be
		// accepted late: counted from when only the polls count.
		before := info()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			next := info()
			settled := next["CumConns"]-before["CumConns"] == 1
			before = next
			if settled {
				break
			}
		}
		c := dialRaw(t, fe)
		io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
		c.Close()
		cl := h2cClient(3 * time.Second)
		for _, p := range []string{"/a", "/b"} {
			if r, err := cl.Get("http://" + fe + p); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}
		cl.CloseIdleConnections()
		var out []string
		for polls, deadline := 0, time.Now().Add(3*time.Second); ; time.Sleep(20 * time.Millisecond) {
			after := info()
			out = out[:0]
			for _, f := range fields {
				if f == "CurrConns" || f == "Listeners" || f == "Jobs" {
					out = append(out, fmt.Sprintf("%s=%d", f, after[f]))
				} else {
					// Each earlier poll was one more stats socket
					// connection and stream.
					out = append(out, fmt.Sprintf("%s+%d", f, after[f]-before[f]-polls))
				}
			}
			polls++
			if after["CurrConns"] == 0 || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(out, " ")
	})
}

// startStatsFE starts, with start, a stats socket and a frontend fe on a
// new port whose default backend is be, then body (formatted with args);
// it returns fe's address and the socket's path.
func startStatsFE(t *testing.T, start func(cfg, fe string), body string, args ...any) (fe, sock string) {
	fe = freePort(t)
	sock = filepath.Join(t.TempDir(), "s.sock")
	start(fmtCfg("global\n stats socket %s level admin\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\n"+body, append([]any{sock, fe}, args...)...), fe)
	// HAProxy may bind the socket after the frontend.
	waitUnixSocket(sock)
	return fe, sock
}

// A server's connections as HAProxy counts them: idle ones (srv_icur),
// not yet safe (idle_conn_cur) or safe for any request (safe_conn_cur,
// after a client's second request), in use (used_conn_cur, a slow
// request in flight), the estimate of those needed (need_conn_est), and
// pool-max-conn (src_ilim).
func TestIdleConnCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(400 * time.Millisecond)
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	cols := []string{"srv_icur", "src_ilim", "idle_conn_cur", "safe_conn_cur", "used_conn_cur", "need_conn_est"}
	sideBySide(t, func(start func(cfg, fe string)) string {
		// One thread: HAProxy keeps each thread's first idle connection.
		fe, sock := freePort(t), filepath.Join(t.TempDir(), "s.sock")
		start(fmtCfg("global\n nbthread 1\n stats socket %s level admin\n"+baseDefaults+`frontend fe
 bind %s
 default_backend be
backend be
 balance first
 server s1 %s
 server s2 %s pool-max-conn 0
`, sock, fe, up, up), fe)
		waitUnixSocket(sock)
		var out []string
		show := func() {
			out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), cols...)[1:3]...)
		}
		for i := 0; i < 3; i++ {
			get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		}
		show()
		// A client's second request makes its connection safe.
		c := dial(t, fe)
		for i := 0; i < 2; i++ {
			c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.read("GET")
		}
		show()
		// In use while a slow request is served.
		c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(150 * time.Millisecond)
		show()
		c.read("GET")
		return strings.Join(out, "\n")
	})
}

// Connection attempts as HAProxy counts them: each one a server's
// connect and session (stot, connect, need_conn_est), a retry on the
// same server (wretr) or on another (wredis), the last failure a failed
// connection (econ); and the backends' h1 module: a connection per
// attempt, a stream per request, the server sockets' bytes.
func TestRetryCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := serveRequests(t, func(c net.Conn, r *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	dead := freePort(t)
	sideBySide(t, func(start func(cfg, fe string)) string {
		// One thread: HAProxy keeps each thread's first idle connection.
		fe, sock := freePort(t), filepath.Join(t.TempDir(), "s.sock")
		start(fmtCfg("global\n nbthread 1\n stats socket %s level admin\n"+baseDefaults+`frontend fe
 bind %s
 default_backend be
 use_backend gone if { path /gone }
 use_backend ka if { path /ka }
backend ka
 server s1 %s
backend be
 retries 2
 option redispatch 1
 balance roundrobin
 server s1 %s
 server s2 %s
backend gone
 retries 2
 server d %s
`, sock, fe, up, up, dead, dead), fe)
		waitUnixSocket(sock)
		for _, p := range []string{"/", "/a", "/b", "/c", "/gone"} {
			get(t, fe, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		}
		// A keep-alive client's requests: streams on reused connections.
		c := dial(t, fe)
		for i := 0; i < 3; i++ {
			c.send("POST /ka HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
			c.read("POST")
		}
		// Redispatched from the refusing server, a client's later
		// request takes the other one's idle connection.
		c2 := dial(t, fe)
		for i := 0; i < 4; i++ {
			c2.send("GET /kb HTTP/1.1\r\nHost: x\r\n\r\n")
			c2.read("GET")
		}
		// The last stream counts once it ended, after its answer.
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), "stot", "lbtot", "connect", "econ", "wretr", "wredis", "need_conn_est",
				"h1_open_connections", "h1_open_streams", "h1_total_connections", "h1_total_streams", "h1_bytes_in", "h1_bytes_out")
			if strings.Contains(strings.Join(rows, "\n"), "gone,d stot=3 lbtot=1 connect=3 econ=1") && strings.Contains(strings.Join(rows, "\n"), "ka,BACKEND stot=3") && strings.Contains(strings.Join(rows, "\n"), "h1_total_connections=1 h1_total_streams=3") && strings.Contains(strings.Join(rows, "\n"), "h1_total_connections=12 h1_total_streams=15") || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(rows[1:], "\n")
	})
}
