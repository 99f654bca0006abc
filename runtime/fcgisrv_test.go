package runtime_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	hfcgi "github.com/gohap/gohap/runtime/fcgi"
)

// fcgiApp is a FastCGI application (Go's net/http/fcgi) whose
// connections are read through a recorder: each request's parameters,
// as they came on the wire, go to params in order.
type fcgiApp struct {
	ln     net.Listener
	params chan []string
	// begins gets the flags of each BEGIN_REQUEST.
	begins chan byte
	mu     sync.Mutex
	conns  int
	// getValues counts GET_VALUES records; ids are the request ids of
	// the BEGIN_REQUEST records, in order.
	getValues int
	ids       []int
}

func startFCGIApp(t *testing.T) *fcgiApp {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &fcgiApp{ln: ln, params: make(chan []string, 64), begins: make(chan byte, 64)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-App", "go")
		switch {
		case r.Method == "HEAD":
			// HAProxy fails or not a HEAD response with a body
			// depending on how its records arrive.
			return
		case strings.HasPrefix(r.URL.Path, "/missing"):
			w.WriteHeader(404)
		case strings.HasPrefix(r.URL.Path, "/moved"):
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(302)
		case strings.HasPrefix(r.URL.Path, "/slow"):
			time.Sleep(300 * time.Millisecond)
		case strings.HasPrefix(r.URL.Path, "/upload"):
			fmt.Fprintf(w, "len=%d sum=%x", len(body), sha256.Sum256(body))
			return
		case strings.HasPrefix(r.URL.Path, "/big"):
			w.Write([]byte(strings.Repeat("0123456789abcdef", 3000)))
			return
		}
		fmt.Fprintf(w, "%s %s body=%q", r.Method, r.URL.String(), body)
	})
	go fcgi.Serve(recListener{ln, a}, h)
	t.Cleanup(func() { ln.Close() })
	return a
}

type recListener struct {
	net.Listener
	a *fcgiApp
}

func (l recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.a.mu.Lock()
	l.a.conns++
	l.a.mu.Unlock()
	return &recConn{Conn: c, a: l.a}, nil
}

// recConn decodes the PARAMS records the application reads.
type recConn struct {
	net.Conn
	a      *fcgiApp
	buf    []byte
	params []byte
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.buf = append(c.buf, p[:n]...)
	for len(c.buf) >= 8 {
		l, pad := int(binary.BigEndian.Uint16(c.buf[4:])), int(c.buf[6])
		if len(c.buf) < 8+l+pad {
			break
		}
		typ, content := c.buf[1], c.buf[8:8+l]
		if typ == 1 && l == 8 {
			c.a.mu.Lock()
			c.a.ids = append(c.a.ids, int(binary.BigEndian.Uint16(c.buf[2:])))
			c.a.mu.Unlock()
			c.a.begins <- content[2]
		}
		if typ == 9 {
			c.a.mu.Lock()
			c.a.getValues++
			c.a.mu.Unlock()
		}
		if typ == 4 {
			if l == 0 {
				c.a.params <- decodeParams(c.params)
				c.params = nil
			} else {
				c.params = append(c.params, content...)
			}
		}
		c.buf = c.buf[8+l+pad:]
	}
	return n, err
}

func decodeParams(b []byte) []string {
	var out []string
	length := func() int {
		if b[0]&0x80 == 0 {
			n := int(b[0])
			b = b[1:]
			return n
		}
		n := int(binary.BigEndian.Uint32(b) & 0x7fffffff)
		b = b[4:]
		return n
	}
	for len(b) > 0 {
		nl := length()
		vl := length()
		out = append(out, string(b[:nl])+"="+string(b[nl:nl+vl]))
		b = b[nl+vl:]
	}
	return out
}

// next returns the parameters of the next request the application got.
func (a *fcgiApp) next(t *testing.T) []string {
	select {
	case p := <-a.params:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("the application got no request")
		return nil
	}
}

// fcgiCfg is a frontend on fe sending everything to a backend whose
// server at srv runs the fcgi-app named app, whose lines follow.
func fcgiCfg(fe, srv, app, lines string) string {
	return fmt.Sprintf(`defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 use-fcgi-app %s
 http-request set-header X-Docroot %%[fcgi.docroot]
 server s %s proto fcgi
fcgi-app %s
%s`, fe, app, srv, app, lines)
}

const fcgiTestApp = ` docroot /var/www/html
 index index.php
 path-info ^(/.+\.php)(/.*)?$
 set-param X_FROM_HAP %[req.hdr(x-in)] if { req.hdr(x-in) -m found }
 set-param REDIRECT_STATUS 200
 set-param INDEX-FILE %[fcgi.index]
 pass-header Authorization if { path_beg /auth }
`

var fcgiTestRequests = []string{
	"GET /index.php?a=1&b=%%20 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
	"GET /dir/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /script.php/extra/p%%41th?q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /post.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello=world",
	"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	"GET /auth/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\nConnection: close\r\n\r\n",
	"GET /other HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\nProxy: p\r\nConnection: close\r\n\r\n",
	"GET /set HTTP/1.1\r\nHost: x\r\nX-In: from client\r\nX-Dash-Name: 1\r\nX_Under: 1\r\nConnection: close\r\n\r\n",
	"HEAD /index.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /moved HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /old HTTP/1.0\r\nHost: x\r\n\r\n",
	"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" + strings.Repeat("u", 100000),
	"POST /upload/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
		strings.Repeat("3e8\r\n"+strings.Repeat("c", 1000)+"\r\n", 5) + "0\r\n\r\n",
	"POST /upload/big-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
		strings.Repeat("2710\r\n"+strings.Repeat("c", 10000)+"\r\n", 5) + "0\r\n\r\n",
}

// fcgiExchange sends a raw request and returns what the client got and
// what the application saw, ports and versions masked.
func fcgiExchange(t *testing.T, addr, raw string, app *fcgiApp, head bool) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	method := "GET"
	if head {
		method = "HEAD"
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%.80q: reading response: %v", raw, err)
	}
	body, _ := io.ReadAll(resp.Body)
	var hdrs []string
	for k, v := range resp.Header {
		// Whether the length or chunks frame the body depends on how
		// the application's records arrive (HAProxy gives the length
		// when the end came with the head); Connection is the engine's
		// answer to HTTP/1.0 clients.
		if k == "Date" || k == "Content-Length" || k == "Connection" {
			continue
		}
		hdrs = append(hdrs, k+": "+strings.Join(v, ","))
	}
	sort.Strings(hdrs)
	var params []string
	var seen []string
	if resp.Header.Get("X-App") != "" {
		// Answered by the application, not by the proxy.
		seen = app.next(t)
	}
	for _, p := range seen {
		switch {
		case strings.HasPrefix(p, "REMOTE_PORT="), strings.HasPrefix(p, "SERVER_PORT="):
			p = p[:strings.IndexByte(p, '=')+1] + "*"
		case strings.HasPrefix(p, "SERVER_SOFTWARE=HAProxy 2.6.12"):
			p = "SERVER_SOFTWARE=HAProxy 2.6.12*"
		}
		params = append(params, p)
	}
	return fmt.Sprintf("%s %d\n%s\nbody=%q\nparams:\n%s", resp.Proto, resp.StatusCode,
		strings.Join(hdrs, "\n"), body, strings.Join(params, "\n"))
}

// HAProxy and gohap give a FastCGI application the same parameters for
// the same requests, and the client the same responses.
func TestFCGIDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the FastCGI exchange with")
	}
	app := startFCGIApp(t)
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fcgiCfg(fe, app.ln.Addr().String(), "app", fcgiTestApp), fe)
		var out []string
		for _, r := range fcgiTestRequests {
			r = strings.ReplaceAll(r, "%%", "%")
			out = append(out, fcgiExchange(t, fe, r, app, strings.HasPrefix(r, "HEAD")))
		}
		return out
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %.80q:\ngohap:\n%s\nhaproxy:\n%s", fcgiTestRequests[i], got[i], want[i])
		}
	}
	if all := strings.Join(got, "\n"); strings.Contains(all, "HTTP_X_UNDER") || !strings.Contains(all, "HTTP_X_DASH_NAME=1") {
		// A FastCGI backend deletes header names with '_' by default.
		t.Errorf("header names not restricted:\n%s", all)
	}
	for _, w := range []string{"SCRIPT_NAME=/dir/index.php", "PATH_INFO=/extra/pAth", "QUERY_STRING=a=1&b=%20",
		"CONTENT_LENGTH=11", "/post.php body=\\\"hello=world\\\"", "HTTP_AUTHORIZATION=Basic dTpw",
		"X_FROM_HAP=from client", "HTTP_X_DOCROOT=/var/www/html", "INDEX_FILE=index.php", "HTTP/1.1 404", "HTTP/1.1 302"} {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("no %q in gohap's exchanges:\n%s", w, strings.Join(got, "\n\n"))
		}
	}
}

// keep-conn asks the application to keep its connection (FCGI_KEEP_CONN)
// and the connection carries the next requests of the client; without
// it each request has its own connection. HAProxy does the same.
func TestFCGIKeepConnDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the FastCGI connections with")
	}
	for _, opt := range []string{"option keep-conn", "no option keep-conn"} {
		var conns int
		run := func(start func(cfg, fe string)) string {
			app := startFCGIApp(t)
			fe := freePort(t)
			start(fcgiCfg(fe, app.ln.Addr().String(), "app", " docroot /srv\n "+opt+"\n"), fe)
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			var out []string
			for i := 0; i < 3; i++ {
				fmt.Fprintf(c, "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("%s: request %d: %v", opt, i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				app.next(t)
				out = append(out, fmt.Sprintf("%d %s flags=%d", resp.StatusCode, body, <-app.begins))
			}
			app.mu.Lock()
			defer app.mu.Unlock()
			conns = app.conns
			return strings.Join(out, "; ")
		}
		got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
		gotConns := conns
		want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		if got != want {
			t.Errorf("%s:\ngohap:   %s\nhaproxy: %s", opt, got, want)
		}
		// HAProxy may open a second connection when the next request
		// comes before it read END_REQUEST; gohap reads it first.
		keep := opt == "option keep-conn"
		if keep && (gotConns != 1 || conns > 3) || !keep && (gotConns != 3 || conns != 3) {
			t.Errorf("%s: %d connections with gohap, %d with haproxy", opt, gotConns, conns)
		}
		if flag := fmt.Sprintf("flags=%d", map[bool]int{true: 1}[keep]); !strings.Contains(got, flag) {
			t.Errorf("%s: no %s in %s", opt, flag, got)
		}
	}
}

// An HTTP/2 client's request reaches the application as HAProxy sends
// it: SERVER_PROTOCOL names HTTP/2.0, the fields become HTTP_* params.
func TestFCGIH2ClientDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the FastCGI exchange with")
	}
	app := startFCGIApp(t)
	run := func(start func(cfg, fe string)) string {
		fe := freePort(t)
		cfg := strings.Replace(fcgiCfg(fe, app.ln.Addr().String(), "app", fcgiTestApp), " bind "+fe, " bind "+fe+" proto h2", 1)
		start(cfg, fe)
		c := h2cClient(5 * time.Second)
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("POST", "http://"+fe+"/h2.php/more?x=1", strings.NewReader("payload"))
		req.Header.Set("X-In", "h2 client")
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var params []string
		for _, p := range app.next(t) {
			if strings.HasPrefix(p, "REMOTE_PORT=") || strings.HasPrefix(p, "SERVER_PORT=") || strings.HasPrefix(p, "HTTP_HOST=") ||
				strings.HasPrefix(p, "SERVER_NAME=") || strings.HasPrefix(p, "SERVER_SOFTWARE=") {
				p = p[:strings.IndexByte(p, '=')+1] + "*"
			}
			params = append(params, p)
		}
		sort.Strings(params)
		return fmt.Sprintf("%s %d %s\n%s", r.Proto, r.StatusCode, strings.ReplaceAll(string(body), fe, "FE"), strings.Join(params, "\n"))
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if got != want {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
	}
	if !strings.Contains(got, "SERVER_PROTOCOL=HTTP/2.0") {
		t.Errorf("no HTTP/2.0 in:\n%s", got)
	}
}

// set-param may replace the parameters HAProxy computes; a path that
// does not decode fails the request. Side by side with HAProxy.
func TestFCGISetParamOverrideDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the FastCGI exchange with")
	}
	app := startFCGIApp(t)
	lines := ` docroot /srv
 index index.php
 set-param SCRIPT_NAME /forced.php if { path_beg /force }
 set-param DOCUMENT_ROOT /other if { path_beg /root }
 set-param QUERY_STRING fixed if { path_beg /qs }
 set-param REQUEST_METHOD PUT if { path_beg /meth }
 set-param Lower-Case v
`
	reqs := []string{
		"GET /force/x?y=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /root/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /qs/a?b=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /meth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /bad%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /after HTTP/1.1\r\nConnection: close\r\n\r\n",
	}
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fcgiCfg(fe, app.ln.Addr().String(), "app", lines), fe)
		var out []string
		for _, r := range reqs {
			resp, body := roundTrip(t, fe, r)
			res := fmt.Sprintf("%d %s", resp.StatusCode, strings.ReplaceAll(body, fe, "FE"))
			if resp.StatusCode == 200 {
				var params []string
				for _, p := range app.next(t) {
					if strings.HasPrefix(p, "REMOTE_PORT=") || strings.HasPrefix(p, "SERVER_PORT=") || strings.HasPrefix(p, "SERVER_SOFTWARE=") || strings.HasPrefix(p, "SERVER_NAME=") {
						p = p[:strings.IndexByte(p, '=')+1] + "*"
					}
					params = append(params, p)
				}
				res += "\n" + strings.Join(params, "\n")
			}
			out = append(out, res)
		}
		return out
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %q:\ngohap:\n%s\nhaproxy:\n%s", reqs[i], got[i], want[i])
		}
	}
}

// With get-values the application is asked whether it multiplexes; Go's
// says so, and with max-reqs and http-reuse always requests of several
// clients share one connection with distinct request ids.
func TestFCGIMultiplexDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the FastCGI connections with")
	}
	run := func(start func(cfg, fe string)) (string, int, []int) {
		app := startFCGIApp(t)
		fe := freePort(t)
		cfg := fcgiCfg(fe, app.ln.Addr().String(), "app", " docroot /srv\n option get-values\n option max-reqs 10\n")
		start(strings.Replace(cfg, " use-fcgi-app app\n", " use-fcgi-app app\n http-reuse always\n", 1), fe)
		var out []string
		_, body := roundTrip(t, fe, "GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		app.next(t)
		<-app.begins
		out = append(out, body)
		var wg sync.WaitGroup
		res := make([]string, 3)
		for i := range res {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", fe, time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "GET /slow/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i)
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					res[i] = err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				res[i] = fmt.Sprintf("%d %s", resp.StatusCode, b)
			}(i)
		}
		wg.Wait()
		for range res {
			app.next(t)
			<-app.begins
		}
		app.mu.Lock()
		defer app.mu.Unlock()
		return strings.Join(append(out, res...), "\n"), app.conns, append([]int(nil), app.ids...)
	}
	got, gotConns, gotIDs := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want, conns, ids := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if got != want {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
	}
	t.Logf("connections: gohap %d (ids %v), haproxy %d (ids %v)", gotConns, gotIDs, conns, ids)
	// HAProxy shares too, but how much depends on when each request
	// comes; gohap puts all of them on the first connection.
	if gotConns != 1 || conns >= 4 {
		t.Errorf("connections: gohap %d, want 1; haproxy %d, want fewer than requests", gotConns, conns)
	}
	if gotIDs[0] != 1 || ids[0] != 1 {
		t.Errorf("first request ids: gohap %v, haproxy %v", gotIDs, ids)
	}
	seen := map[int]bool{}
	for _, id := range gotIDs[1:] {
		seen[id] = true
	}
	if len(seen) != 3 {
		t.Errorf("concurrent requests did not have distinct ids: %v", gotIDs)
	}
}

// serveRawFCGI answers every request of every connection with what
// answer writes (records after BEGIN_REQUEST..empty STDIN), keeping the
// connection when asked.
func serveRawFCGI(t *testing.T, answer func(id uint16) []byte) string {
	return serveRaw(t, func(c net.Conn) {
		rd := hfcgi.NewReader(c)
		for {
			h, b, err := rd.Next()
			if err != nil {
				return
			}
			if h.Type == hfcgi.TypeStdin && len(b) == 0 {
				if _, err := c.Write(answer(h.ID)); err != nil {
					return
				}
			}
		}
	})
}

// What the application writes to STDERR goes to the log-stderr targets,
// tagged with the application's name, at level err, as HAProxy sends it.
func TestFCGIStderrDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	app := serveRawFCGI(t, func(id uint16) []byte {
		out := hfcgi.AppendStream(nil, hfcgi.TypeStderr, id, []byte("something failed\n"))
		out = hfcgi.AppendStream(out, hfcgi.TypeStdout, id, []byte("Status: 503 Busy\r\nContent-Type: text/plain\r\n\r\nbusy"))
		out = hfcgi.AppendStream(out, hfcgi.TypeStdout, id, nil)
		out = hfcgi.AppendHeader(out, hfcgi.TypeEndRequest, id, 8, 0)
		return append(out, 0, 0, 0, 0, hfcgi.RequestComplete, 0, 0, 0)
	})
	head := regexp.MustCompile(`^(<[0-9]+>).* (errapp)\[[0-9]+\]: `)
	run := func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fcgiCfg(fe, app, "errapp", " docroot /srv\n log-stderr "+sink.addr()+" local1\n"), fe)
		resp, body := roundTrip(t, fe, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		l, ok := sink.next(5 * time.Second)
		if !ok {
			return fmt.Sprintf("%d %s: no log line", resp.StatusCode, body)
		}
		return fmt.Sprintf("%d %s %s: %q", resp.StatusCode, resp.Status, body, head.ReplaceAllString(l, "$1$2[pid]: "))
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if got != want || !strings.Contains(got, "<139>errapp[pid]: something failed") {
		t.Errorf("gohap:   %s\nhaproxy: %s", got, want)
	}
}
