package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// scriptServer answers the Nth request it receives as script[N] says,
// the last step repeating: a status ("200", "503"...), "close" (FIN
// without an answer), "reset", "junk" (an answer that does not parse) or
// "sleep" (nothing until the proxy gives up). Every answer closes its
// connection. It records the requests it read.
type scriptServer struct {
	addr   string
	mu     sync.Mutex
	script []string
	seen   []string
}

func startScript(t *testing.T, script ...string) *scriptServer {
	t.Helper()
	ss := &scriptServer{script: script}
	ss.addr = serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		ss.mu.Lock()
		n := len(ss.seen)
		ss.seen = append(ss.seen, req.Method+" "+req.URL.Path+" "+string(body))
		step := ss.script[min(n, len(ss.script)-1)]
		ss.mu.Unlock()
		switch step {
		case "close":
			return
		case "reset":
			c.(*net.TCPConn).SetLinger(0)
			return
		case "junk":
			io.WriteString(c, "this is not http\r\n\r\n")
		case "partial":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-")
		case "sleep":
			time.Sleep(time.Second)
		default:
			io.WriteString(c, "HTTP/1.1 "+step+" X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		}
	})
	return ss
}

func (ss *scriptServer) requests() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]string(nil), ss.seen...)
}

// TestRetryOnDifferential: "retry-on" sends a request again when its
// answer fails as the keyword says, with the retries the connection's
// own share, "option redispatch" moving it to another server, and
// "disable-l7-retry" turning it off; what the client gets, what each
// server sees and the log line (%rc with its "+") agree with HAProxy's.
func TestRetryOnDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type scenario struct {
		name    string
		be      string     // backend lines
		scripts [][]string // one per server
		req     string
	}
	get := "GET /r HTTP/1.1\r\nHost: a\r\n\r\n"
	cases := []scenario{
		{"503-all", "retry-on 503", [][]string{{"503"}}, get},
		{"503-then-200", "retry-on 503", [][]string{{"503", "200"}}, get},
		{"retries-1", "retries 1\n    retry-on 503", [][]string{{"503"}}, get},
		{"retries-0", "retries 0\n    retry-on 503", [][]string{{"503"}}, get},
		{"redispatch", "option redispatch\n    retry-on 503", [][]string{{"503"}, {"200"}}, get},
		{"no-redispatch", "retry-on 503", [][]string{{"503", "200"}, {"200"}}, get},
		{"empty", "retry-on empty-response", [][]string{{"close", "200"}}, get},
		{"empty-off", "retry-on 503", [][]string{{"close", "200"}}, get},
		{"reset", "retry-on empty-response", [][]string{{"reset", "200"}}, get},
		{"junk", "retry-on junk-response", [][]string{{"junk", "200"}}, get},
		{"junk-off", "retry-on empty-response", [][]string{{"junk", "200"}}, get},
		{"timeout", "timeout server 300ms\n    retry-on response-timeout", [][]string{{"sleep", "200"}}, get},
		{"disabled", "retry-on 503\n    http-request disable-l7-retry if { path /r }", [][]string{{"503", "200"}}, get},
		{"default", "", [][]string{{"503", "200"}}, get},
		{"all-retryable-404", "retry-on all-retryable-errors", [][]string{{"404", "200"}}, get},
		{"all-retryable-500", "retry-on all-retryable-errors", [][]string{{"500", "502", "504", "200"}}, get},
		{"status-list", "retry-on 401 403 404 408 425 501", [][]string{{"401", "403", "404", "200"}}, get},
		{"partial-junk", "retry-on junk-response", [][]string{{"partial", "200"}}, get},
		{"partial-empty", "retry-on empty-response", [][]string{{"partial", "200"}}, get},
		{"refused-default", "timeout connect 100ms", [][]string{{"refuse"}}, get},
		{"refused-none", "timeout connect 100ms\n    retry-on none", [][]string{{"refuse"}}, get},
		{"refused-503-only", "timeout connect 100ms\n    retry-on 503", [][]string{{"refuse"}}, get},
		{"refused-redispatch", "timeout connect 100ms\n    option redispatch", [][]string{{"refuse"}, {"200"}}, get},
		{"refused-redispatch-l7", "timeout connect 100ms\n    option redispatch\n    retry-on conn-failure 503", [][]string{{"503"}, {"refuse"}}, get},
		{"post", "retry-on 503", [][]string{{"503", "200"}}, "POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
	}
	run := func(t *testing.T, sc scenario, start func(cfg, fe string)) (answer string, seen [][]string, logLine string) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		var servers []*scriptServer
		var lines []string
		for i, s := range sc.scripts {
			if s[0] == "refuse" {
				lines = append(lines, fmt.Sprintf("    server s%d %s", i+1, refusedAddr(t)))
				continue
			}
			ss := startScript(t, s...)
			servers = append(servers, ss)
			lines = append(lines, fmt.Sprintf("    server s%d %s", i+1, ss.addr))
		}
		fe := freePort(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		start(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 3s
frontend f
    bind %s
    log %s local0
    log-format "%%ST %%rc %%ts %%s"
    option dontlognull
    default_backend b
backend b
    %s
%s
`, sock, fe, pc.LocalAddr(), sc.be, strings.Join(lines, "\n")), fe)
		c, err := net.DialTimeout("tcp", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, sc.req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answer = "error " + err.Error()
		} else {
			answer = strconv.Itoa(resp.StatusCode)
			resp.Body.Close()
		}
		pc.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 2048)
		if n, _, err := pc.ReadFrom(buf); err == nil {
			logLine = string(buf[:n])
			if i := strings.Index(logLine, "]: "); i >= 0 {
				logLine = strings.TrimSpace(logLine[i+3:])
			}
		}
		for _, ss := range servers {
			seen = append(seen, ss.requests())
		}
		// The retry and redispatch counters of the backend and servers.
		logLine += " |" + retryCounters(cliSend(t, "unix", sock, "show stat\n"))
		return
	}
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ga, gs, gl := run(t, sc, func(cfg, fe string) { startGohap(t, cfg, nil) })
			ha, hs, hl := run(t, sc, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			if ga != ha || fmt.Sprint(gs) != fmt.Sprint(hs) || gl != hl {
				t.Errorf("gohap: %s %q log %q\nhaproxy: %s %q log %q", ga, gs, gl, ha, hs, hl)
			}
		})
	}
}

// retryCounters picks wretr and wredis of proxy b's rows from "show stat".
func retryCounters(out string) string {
	var kv []string
	for _, r := range statRows(out) {
		if r["pxname"] == "b" {
			kv = append(kv, r["svname"]+":"+r["wretr"]+"/"+r["wredis"])
		}
	}
	return strings.Join(kv, " ")
}

// refusedAddr is a loopback address that refuses connections for the
// whole test: its port is held by a socket bound without listening, so
// nothing else can take it.
func refusedAddr(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
}
