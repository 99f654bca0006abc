package runtime_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// spliceUpstream answers "POST /" by checking the body it read and
// sending a content-length body, "GET /close" with a close-delimited
// body, "GET /stall" with a content-length body cut short by a pause.
func spliceUpstream(t *testing.T, body []byte) string {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		r, err := http.ReadRequest(br)
		for err == nil && r.URL.Path == "/" {
			// Keep-alive: POST / may come again on this connection.
			got, _ := io.ReadAll(r.Body)
			status := "200 OK"
			if !bytes.Equal(got, body) {
				status = "400 Bad Body"
			}
			fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n", status, len(body))
			c.Write(body)
			r, err = http.ReadRequest(br)
		}
		if err != nil {
			return
		}
		switch r.URL.Path {
		case "/close":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			c.Write(body)
		case "/stall":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
			c.Write(body[:len(body)/4])
			time.Sleep(3 * time.Second)
		}
	})
}

// spliceExchange sends one request and returns the status line, the
// body read until the connection ends and how it ended.
func spliceExchange(t *testing.T, addr, head string, body []byte) (string, []byte, string) {
	t.Helper()
	c := dialRaw(t, addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, head)
		c.Write(body)
	}()
	br := bufio.NewReader(c)
	status, _ := br.ReadString('\n')
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	got, err := io.ReadAll(br)
	end := "eof"
	switch {
	case isReset(err):
		end = "reset"
	case isTimeoutErr(err):
		end = "hang"
	case err != nil:
		end = err.Error()
	}
	return strings.TrimSpace(status), got, end
}

var totalSplicedRe = regexp.MustCompile(`(?m)^TotalSplicdedBytesOut: (\d+)$`)

var splicedRe = regexp.MustCompile(`(?m)^([FB])\.\d+\.\d+\.\d+\.h1_spliced_bytes_(in|out)\.1:MCP:u64:(\d+)$`)

// splicedCounters reads the h1 spliced counters of show stat typed as
// "F in>0 F out=0 ..." for the one proxy.
func splicedCounters(t *testing.T, sock string) string {
	out := cliSend(t, "unix", sock, "show stat typed\n")
	var words []string
	for _, m := range splicedRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseUint(m[3], 10, 64)
		cmp := "=0"
		if v > 0 {
			cmp = ">0"
		}
		words = append(words, m[1]+" "+m[2]+cmp)
	}
	return strings.Join(words, " ")
}

// TestSpliceBodies forwards a 1 MiB request body, a 1 MiB content-length
// answer and a 1 MiB close-delimited answer through splice-request and
// splice-response proxies: the bytes arrive whole and in order, and the
// h1 spliced counters move on the same sides as HAProxy's.
func TestSpliceBodies(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	run := func(t *testing.T, start func(cfg, fe string)) string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		li1, li2 := freePort(t), freePort(t)
		start(spliceHead(sock)+fmt.Sprintf(` option splice-request
 option splice-response
listen li1
 bind %s
 server s %s
listen li2
 bind %s
 server s %s
`, li1, up, li2, up), li1)
		waitListen(t, li2)
		status, got, end := spliceExchange(t, li1, fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body)), body)
		if status != "HTTP/1.1 200 OK" || !bytes.Equal(got, body) || end != "eof" {
			t.Errorf("li1: %q, %d bytes (intact %v), %s", status, len(got), bytes.Equal(got, body), end)
		}
		st1 := splicedCounters(t, sock)
		status, got, end = spliceExchange(t, li2, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n", nil)
		if status != "HTTP/1.1 200 OK" || !bytes.Equal(got, body) || end != "eof" {
			t.Errorf("li2: %q, %d bytes (intact %v), %s", status, len(got), bytes.Equal(got, body), end)
		}
		all := splicedCounters(t, sock)
		info := "info=0"
		if m := totalSplicedRe.FindStringSubmatch(cliSend(t, "unix", sock, "show info\n")); m != nil && m[1] != "0" {
			info = "info>0"
		}
		return "li1: " + st1 + " | all: " + all + " | " + info
	}
	spliceDiff(t, "li1: F in>0 F out>0 B in>0 B out>0 F in=0 F out=0 B in=0 B out=0 | all: F in>0 F out>0 B in>0 B out>0 F in=0 F out>0 B in>0 B out=0 | info>0", run)
}

// TestSpliceTimeout: a server that stops in the middle of a body hits
// timeout server the same way with splice-response as without it: the
// client gets the same bytes and the same end.
func TestSpliceTimeout(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	run := func(opt string) (string, string) {
		fe := freePort(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		startGohap(t, fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout client 5s
 timeout server 300ms
 timeout connect 5s
%s
listen li
 bind %s
 server s %s
`, sock, opt, fe, up), nil)
		status, got, end := spliceExchange(t, fe, "GET /stall HTTP/1.1\r\nHost: x\r\n\r\n", nil)
		return fmt.Sprintf("%s, %d bytes (prefix intact %v), %s", status, len(got), bytes.Equal(got, body[:len(got)]), end),
			splicedCounters(t, sock)
	}
	plain, plainCnt := run("")
	spliced, splicedCnt := run(" option splice-response")
	if plainCnt != "F in=0 F out=0 B in=0 B out=0" || splicedCnt != "F in=0 F out>0 B in>0 B out=0" {
		t.Errorf("spliced counters: without splice %s, with splice %s", plainCnt, splicedCnt)
	}
	if plain != spliced {
		t.Errorf("timeout mid-body:\n without splice %s\n with splice    %s", plain, spliced)
	}
	if !strings.Contains(plain, fmt.Sprintf("%d bytes", len(body)/4)) {
		t.Errorf("timeout mid-body: %s, want %d bytes", plain, len(body)/4)
	}
}

// waitListen waits, bounded, until addr accepts connections.
func waitListen(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not accept connections", addr)
}

// TestSpliceNoSplice: -dS (Options.NoSplice) keeps every body in user
// space whatever the options say.
func TestSpliceNoSplice(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	inputs, err := parser.ReadInputs([]string{writeCfg(t, spliceHead(sock)+fmt.Sprintf(` option splice-response
listen li
 bind %s
 server s %s
`, fe, up))})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, errs := runtime.Compile(cfg, runtime.Options{NoSplice: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := runtime.NewEngine(g, nil)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(); e.Wait() })
	status, got, end := spliceExchange(t, fe, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n", nil)
	if status != "HTTP/1.1 200 OK" || !bytes.Equal(got, body) || end != "eof" {
		t.Errorf("%q, %d bytes (intact %v), %s", status, len(got), bytes.Equal(got, body), end)
	}
	if c := splicedCounters(t, sock); c != "F in=0 F out=0 B in=0 B out=0" {
		t.Errorf("spliced counters with NoSplice: %s", c)
	}
}

// TestSpliceAuto: option splice-auto alone splices no HTTP/1 body, as
// HAProxy 2.6 splices none: a fast 1 MiB close-delimited answer goes
// through the buffers.
func TestSpliceAuto(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	spliceDiff(t, "F in=0 F out=0 B in=0 B out=0", closeAnswerRun(up, body, "", " option splice-auto\n"))
}

// TestSpliceKeepAlive: after spliced bodies, the client connection and
// the server connection carry the next exchanges intact.
func TestSpliceKeepAlive(t *testing.T) {
	for _, opts := range []string{"", " option splice-request\n option splice-response"} {
		spliceKeepAlive(t, opts)
	}
}

func spliceKeepAlive(t *testing.T, opts string) {
	body := traceBody(300 << 10)
	up := spliceUpstream(t, body)
	fe := freePort(t)
	startGohap(t, fmt.Sprintf(`defaults
 mode http
 timeout client 5s
 timeout server 5s
 timeout connect 5s
%s
listen li
 bind %s
 server s %s
`, opts, fe, up), nil)
	c := dialRaw(t, fe)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		go func() {
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
			c.Write(body)
		}()
		rsp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%q, exchange %d: %v", opts, i, err)
		}
		got, err := io.ReadAll(rsp.Body)
		if rsp.StatusCode != 200 || err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%q, exchange %d: %d, %d bytes (intact %v), %v", opts, i, rsp.StatusCode, len(got), bytes.Equal(got, body), err)
		}
	}
}

// TestSpliceTLS: a TLS client connection never splices, in either
// direction, as in HAProxy, whose TLS layer has no pipe operations.
func TestSpliceTLS(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	dir := t.TempDir()
	crt := writeCert(t, dir, "site.pem", "site.test")
	run := func(t *testing.T, start func(cfg, fe string)) string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		start(spliceHead(sock)+fmt.Sprintf(` option splice-request
 option splice-response
listen li
 bind %s ssl crt %s
 server s %s
`, fe, crt, up), fe)
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", fe, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
			c.Write(body)
		}()
		rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rsp.Body)
		if rsp.StatusCode != 200 || err != nil || !bytes.Equal(got, body) {
			t.Errorf("%d, %d bytes (intact %v), %v", rsp.StatusCode, len(got), bytes.Equal(got, body), err)
		}
		return splicedCounters(t, sock)
	}
	spliceDiff(t, "F in=0 F out=0 B in=0 B out=0", run)
}

// BenchmarkSpliceBody relays 1 MiB content-length answers on a
// keep-alive connection, copied through the buffers or spliced.
func BenchmarkSpliceBody(b *testing.B) {
	body := traceBody(1 << 20)
	rsp := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))), body...)
	up := serveRaw(b, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			if _, err := c.Write(rsp); err != nil {
				return
			}
		}
	})
	for _, mode := range []struct{ name, opt string }{{"copy", ""}, {"splice", " option splice-response"}} {
		b.Run(mode.name, func(b *testing.B) {
			fe := freePort(b)
			startGohap(b, fmt.Sprintf("defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n%s\nlisten li\n bind %s\n server s %s\n",
				mode.opt, fe, up), nil)
			c, err := net.Dial("tcp", fe)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Write(req)
				for {
					l, err := br.ReadSlice('\n')
					if err != nil {
						b.Fatal(err)
					}
					if len(l) == 2 {
						break
					}
				}
				if _, err := br.Discard(len(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSpliceUpgrade: after a 101 answer the tunnel's data is spliced
// both ways with splice-request and splice-response, and counted on the
// same sides as HAProxy counts it.
func TestSpliceUpgrade(t *testing.T) {
	down, up := traceBody(1<<20), traceBody(1<<19)
	srv := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n")
		got := make([]byte, len(up))
		if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, up) {
			return
		}
		c.Write(down)
	})
	run := func(t *testing.T, start func(cfg, fe string)) string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		start(spliceHead(sock)+fmt.Sprintf(` timeout tunnel 5s
 option splice-request
 option splice-response
listen li
 bind %s
 server s %s
`, fe, srv), fe)
		c := dialRaw(t, fe)
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n")
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l == "\r\n" {
				break
			}
		}
		c.Write(up)
		got, err := io.ReadAll(br)
		if !bytes.Equal(got, down) {
			t.Errorf("%d bytes (intact %v), %v", len(got), bytes.Equal(got, down), err)
		}
		return splicedCounters(t, sock)
	}
	spliceDiff(t, "F in>0 F out>0 B in>0 B out>0", run)
}

// spliceDiff runs a case against gohap, checks what it reports, then
// against HAProxy, whose report must be the same.
func spliceDiff(t *testing.T, want string, run func(t *testing.T, start func(cfg, fe string)) string) {
	t.Helper()
	if g := run(t, func(cfg, fe string) { startGohap(t, cfg, nil) }); g != want {
		t.Errorf("gohap:\n got %s\nwant %s", g, want)
	}
	if haproxyBin() == "" {
		t.Skip("HAPROXY_BIN not set: no comparison with HAProxy")
	}
	if h := run(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) }); h != want {
		t.Errorf("haproxy:\n got %s\nwant %s", h, want)
	}
}

// spliceHead starts the configurations of these tests: a stats socket
// and HTTP defaults.
func spliceHead(sock string) string {
	return "global\n stats socket " + sock + " level admin\ndefaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n"
}

// TestSpliceGlobalSettings: the global "nosplice" keeps every body in
// user space, as -dS does; "tune.pipesize" and "maxpipes" leave bodies
// spliced, whole, through pipes of that size, as in HAProxy.
func TestSpliceGlobalSettings(t *testing.T) {
	body := traceBody(1 << 20)
	up := spliceUpstream(t, body)
	for _, c := range []struct{ global, want string }{
		{" nosplice\n", "F in=0 F out=0 B in=0 B out=0"},
		{" tune.pipesize 16384\n maxpipes 2\n", "F in=0 F out>0 B in>0 B out=0"},
	} {
		spliceDiff(t, c.want, closeAnswerRun(up, body, c.global, " option splice-response\n"))
	}
}

// closeAnswerRun is a spliceDiff run: a proxy with the global lines and
// defaults options given fetches a close-delimited answer, checked
// whole, and reports its spliced counters.
func closeAnswerRun(up string, body []byte, global, options string) func(t *testing.T, start func(cfg, fe string)) string {
	return func(t *testing.T, start func(cfg, fe string)) string {
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		head := strings.Replace(spliceHead(sock), "global\n", "global\n"+global, 1)
		start(head+options+fmt.Sprintf("listen li\n bind %s\n server s %s\n", fe, up), fe)
		status, got, end := spliceExchange(t, fe, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n", nil)
		if status != "HTTP/1.1 200 OK" || !bytes.Equal(got, body) || end != "eof" {
			t.Errorf("%q, %d bytes (intact %v), %s", status, len(got), bytes.Equal(got, body), end)
		}
		return splicedCounters(t, sock)
	}
}

// TestSpliceTCPMode: a TCP-mode stream goes through kernel pipes with
// option splice-request and splice-response, as in HAProxy: whole and in
// order both ways, counted in show info's TotalSplicdedBytesOut, and not
// in the h1 module's counters, which TCP mode does not use. Without the
// options, or with splice-auto alone, nothing is spliced.
func TestSpliceTCPMode(t *testing.T) {
	body := traceBody(1 << 20)
	// The upstream reads the whole upload, then sends it back and closes.
	up := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, len(body))
		if _, err := io.ReadFull(c, got); err != nil {
			return
		}
		c.Write(got)
	})
	for _, c := range []struct{ opts, want string }{
		{" option splice-request\n option splice-response\n", "F in=0 F out=0 B in=0 B out=0 | info>0"},
		{" option splice-response\n", "F in=0 F out=0 B in=0 B out=0 | info>0"},
		{"", "F in=0 F out=0 B in=0 B out=0 | info=0"},
		// Neither finds this one-megabyte exchange a fast streamer.
		{" option splice-auto\n", "F in=0 F out=0 B in=0 B out=0 | info=0"},
	} {
		spliceDiff(t, c.want, func(t *testing.T, start func(cfg, fe string)) string {
			sock := filepath.Join(t.TempDir(), "s.sock")
			fe := freePort(t)
			head := strings.Replace(spliceHead(sock), " mode http\n", " mode tcp\n", 1)
			start(head+c.opts+fmt.Sprintf("listen li\n bind %s\n server s %s\n", fe, up), fe)
			conn := dialRaw(t, fe)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			go conn.Write(body)
			got := make([]byte, len(body))
			if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, body) {
				t.Errorf("%q: echo intact %v, %v", c.opts, bytes.Equal(got, body), err)
			}
			info := "info=0"
			if m := totalSplicedRe.FindStringSubmatch(cliSend(t, "unix", sock, "show info\n")); m != nil && m[1] != "0" {
				info = "info>0"
			}
			return splicedCounters(t, sock) + " | " + info
		})
	}
}
