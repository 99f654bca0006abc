package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sourceSeen runs a configuration whose backend "be" has one server at
// %[1]s, sends three requests from clientIP (with SO_REUSEADDR when
// reuse, so that usesrc client may bind the client's own port), waits
// for a health check, and tells where the server saw each kind of
// connection come from: the address, and whether the port was the
// client's, one of 29000-29010, or another. The range is below the
// kernel's ephemeral ports (32768 and up by default), where no other
// connection's port can fall.
func sourceSeen(t *testing.T, start func(cfg, fe string), mode, be, clientIP string, reuse bool, hdr string) string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	clientPorts := map[string]bool{}
	trafficDone, checkDone := make(chan struct{}, 8), make(chan struct{}, 1)
	srv := serveRaw(t, func(c net.Conn) {
		host, port, _ := net.SplitHostPort(c.RemoteAddr().String())
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 4096)
		n, _ := c.Read(b)
		var kind string
		switch req := string(b[:n]); {
		case strings.Contains(req, "GET /traffic"):
			kind = "traffic"
		case strings.Contains(req, "GET /check"), strings.Contains(req, "CHECK"):
			kind = "check"
		default:
			// A TCP frontend passes on the harness's readiness probe.
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
		// Until the proxy closes the connection, which frees its source
		// port for the next one.
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, c)
		done := trafficDone
		if kind == "check" {
			done = checkDone
		}
		defer func() {
			select {
			case done <- struct{}{}:
			default:
			}
		}()
		p, _ := strconv.Atoi(port)
		mu.Lock()
		defer mu.Unlock()
		class := "any port"
		switch {
		case p >= 29000 && p <= 29010:
			class = "range port"
		case clientPorts[port] && kind == "traffic":
			// A check never takes the client's port; one whose
			// ephemeral port a client used before is a coincidence.
			class = "client port"
		}
		seen[kind+" from "+host+" "+class] = true
	})
	fe := freePort(t)
	chk := " option httpchk GET /check\n"
	if mode == "tcp" {
		chk = " option tcp-check\n tcp-check send CHECK\\r\\n\n"
	}
	start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n mode %[3]s\n bind %[2]s\n default_backend be\nbackend be\n mode %[3]s\n"+chk+be, srv, fe, mode), fe)
	d := net.Dialer{Timeout: time.Second}
	if clientIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(clientIP)}
	}
	if reuse {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
		}
	}
	// Traffic starts after a first check, so that a fixed source port
	// is not held by a check when a request needs it.
	select {
	case <-checkDone:
	case <-time.After(3 * time.Second):
	}
	var statuses []string
	for range 3 {
		c, err := d.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(c.LocalAddr().String())
		mu.Lock()
		clientPorts[port] = true
		mu.Unlock()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /traffic HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n", hdr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			statuses = append(statuses, "no response")
		} else {
			statuses = append(statuses, strconv.Itoa(resp.StatusCode))
			resp.Body.Close()
		}
		c.Close()
		if err == nil && resp.StatusCode == 200 {
			select {
			case <-trafficDone:
			case <-time.After(3 * time.Second):
			}
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		checked := false
		for k := range seen {
			checked = checked || strings.HasPrefix(k, "check")
		}
		mu.Unlock()
		if checked || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for k := range seen {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return "status " + strings.Join(slices.Compact(statuses), ",") + ": " + strings.Join(kinds, ", ")
}

// The forms of "source", on the backend and as a server option: what
// the server sees of traffic and health checks, HAProxy alongside.
func TestSourceForms(t *testing.T) {
	cases := []struct {
		name, mode, be, clientIP string
		reuse                    bool
		hdr, want                string
	}{
		{name: "backend", be: " source 127.0.0.2\n server s %[1]s check inter 100ms\n",
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.2 any port"},
		{name: "server option wins", be: " source 127.0.0.2\n server s %[1]s check inter 100ms source 127.0.0.3\n",
			want: "status 200: check from 127.0.0.3 any port, traffic from 127.0.0.3 any port"},
		{name: "default-server", be: " source 127.0.0.2\n default-server source 127.0.0.4\n server s %[1]s check inter 100ms\n",
			want: "status 200: check from 127.0.0.4 any port, traffic from 127.0.0.4 any port"},
		{name: "port range", be: " server s %[1]s check inter 100ms source 127.0.0.2:29000-29010\n",
			want: "status 200: check from 127.0.0.2 range port, traffic from 127.0.0.2 range port"},
		// A check holding the port fails a request's connect(), retried
		// at once as in HAProxy: the next check comes after the traffic.
		{name: "backend port", be: " source 127.0.0.2:29005\n server s %[1]s check inter 1s\n",
			want: "status 200: check from 127.0.0.2 range port, traffic from 127.0.0.2 range port"},
		{name: "usesrc clientip", be: " source 0.0.0.0 usesrc clientip\n server s %[1]s check inter 100ms\n", clientIP: "127.0.0.5",
			want: "status 200: check from 127.0.0.1 any port, traffic from 127.0.0.5 any port"},
		{name: "usesrc clientip tcp", mode: "tcp", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc clientip\n", clientIP: "127.0.0.5",
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.5 any port"},
		{name: "usesrc client", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc client\n", clientIP: "127.0.0.6", reuse: true,
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.6 client port"},
		{name: "usesrc address", be: " source 127.0.0.2 usesrc 127.0.0.7\n server s %[1]s check inter 100ms\n",
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.7 any port"},
		{name: "usesrc address port", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc 127.0.0.7:29009\n",
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.7 range port"},
		{name: "usesrc hdr_ip last", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip(x-src)\n",
			hdr: "X-Src: 127.0.0.8, 127.0.0.9\r\n", want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.9 any port"},
		{name: "usesrc hdr_ip first", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip(x-src,1)\n",
			hdr: "X-Src: 127.0.0.8\r\nX-Src: 127.0.0.9\r\n", want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.8 any port"},
		{name: "usesrc hdr_ip any header", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip()\n",
			hdr: "X-Src: 127.0.0.8\r\n", want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.8 any port"},
		{name: "usesrc hdr_ip missing", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip(x-src)\n",
			want: "status 500: check from 127.0.0.2 any port"},
		{name: "usesrc hdr_ip occ 0", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip(x-src,0)\n",
			hdr: "X-Src: 127.0.0.8\r\n", want: "status 500: check from 127.0.0.2 any port"},
		{name: "usesrc hdr_ip tcp", mode: "tcp", be: " server s %[1]s check inter 100ms source 127.0.0.2 usesrc hdr_ip(x-src)\n",
			hdr: "X-Src: 127.0.0.8\r\n", want: "status no response: check from 127.0.0.2 any port"},
		{name: "interface", be: " server s %[1]s check inter 100ms source 127.0.0.2 interface lo\n",
			want: "status 200: check from 127.0.0.2 any port, traffic from 127.0.0.2 any port"},
		{name: "unix source binds nothing", be: " source 127.0.0.2\n server s %[1]s check inter 100ms source unix@/nonexistent\n",
			want: "status 200: check from 127.0.0.1 any port, traffic from 127.0.0.1 any port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == "" {
				mode = "http"
			}
			got := sourceSeen(t, func(cfg, _ string) { startGohap(t, cfg, nil) }, mode, tc.be, tc.clientIP, tc.reuse, tc.hdr)
			if got != tc.want {
				t.Errorf("gohap: %s, want %s", got, tc.want)
			}
			if haproxyBin() == "" {
				t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
			}
			if ref := sourceSeen(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) }, mode, tc.be, tc.clientIP, tc.reuse, tc.hdr); ref != got {
				t.Errorf("gohap: %s, haproxy: %s", got, ref)
			}
		})
	}
}

// A transparent connection carries only its client's requests: with
// http-reuse always, a second client from another address gets its own
// connection from its own address, as HAProxy keys its idle connections
// by their source.
func TestSourceUsesrcReuse(t *testing.T) {
	run := func(start func(cfg, fe string)) string {
		var mu sync.Mutex
		var seen []string
		srv := serveRaw(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				mu.Lock()
				seen = append(seen, req.URL.Path+" from "+host)
				mu.Unlock()
				io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
			}
		})
		fe := freePort(t)
		start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n http-reuse always\n source 0.0.0.0 usesrc clientip\n server s %s\n", fe, srv), fe)
		for _, ip := range []string{"127.0.0.5", "127.0.0.6", "127.0.0.5"} {
			d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
			c, err := d.Dial("tcp", fe)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", ip)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("client %s: %v", ip, err)
			}
			resp.Body.Close()
			c.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(seen, ", ")
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if want := "/127.0.0.5 from 127.0.0.5, /127.0.0.6 from 127.0.0.6, /127.0.0.5 from 127.0.0.5"; got != want {
		t.Errorf("gohap: %s, want %s", got, want)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
	if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); ref != got {
		t.Errorf("gohap: %s, haproxy: %s", got, ref)
	}
}

// The agent check is connected to from the server's source too.
func TestSourceAgent(t *testing.T) {
	run := func(start func(cfg, fe string)) string {
		seen := make(chan string, 16)
		agent := serveRaw(t, func(c net.Conn) {
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			select {
			case seen <- host:
			default:
			}
			io.WriteString(c, "up\n")
		})
		_, aport, _ := net.SplitHostPort(agent)
		fe := freePort(t)
		start(fmtCfg("global\n nbthread 1\n"+baseDefaults+"frontend fe\n bind %s\n default_backend be\nbackend be\n source 127.0.0.2\n server s 127.0.0.1:9 agent-check agent-port %s agent-inter 100ms source 127.0.0.3\n", fe, aport), fe)
		select {
		case h := <-seen:
			return h
		case <-time.After(3 * time.Second):
			return "no agent check"
		}
	}
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != "127.0.0.3" {
		t.Errorf("gohap: agent check from %s, want 127.0.0.3", got)
	}
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
	if ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }); ref != got {
		t.Errorf("gohap: agent check from %s, haproxy from %s", got, ref)
	}
}

var (
	rangeConns       = regexp.MustCompile(` A/F/\d+/\d+/(\+?\d+) `)
	srcCheckDuration = regexp.MustCompile(`check duration: \d+ms`)
)

// rangeRun is what one proxy did with a source port range scenario.
type rangeRun struct {
	// seen is each request the server got and the port it came from,
	// closed the requests whose connection the proxy closed;
	// statuses the answer to each request; alerts what went to the
	// standard error about the source or connect(); logs the syslog
	// lines, masked and sorted.
	seen, closed, statuses, alerts, logs []string
}

// runPortRange runs backend body be (%[1]s the server) behind frontend
// "fe" with httplog to a syslog sink, and sends the requests of steps in
// turn: "hold NAME" leaves a request the server holds until "free NAME"
// lets it answer (and its answer is read); "get NAME" is a request
// answered at once. start starts the proxy and returns what it printed.
func runPortRange(t *testing.T, start func(cfg, fe string) func() string, be string, steps []string) rangeRun {
	t.Helper()
	var mu sync.Mutex
	var run rangeRun
	gates := map[string]chan struct{}{}
	gate := func(name string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if gates[name] == nil {
			gates[name] = make(chan struct{})
		}
		return gates[name]
	}
	srv := serveRaw(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		name := strings.TrimPrefix(req.URL.Path, "/")
		_, port, _ := net.SplitHostPort(c.RemoteAddr().String())
		mu.Lock()
		run.seen = append(run.seen, name+" from "+port)
		mu.Unlock()
		if strings.HasPrefix(name, "hold") {
			select {
			case <-gate(name):
			case <-time.After(5 * time.Second):
			}
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
		// Until the proxy closes the connection, which frees its port.
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, c)
		mu.Lock()
		run.closed = append(run.closed, name)
		mu.Unlock()
	})
	sink := newLogSink(t)
	fe := freePort(t)
	out := start(fmtCfg("global\n nbthread 1\n log %[3]s local0\n"+baseDefaults+" log global\n option httplog\n option dontlognull\nfrontend fe\n bind %[2]s\n default_backend be\nbackend be\n"+be, srv, fe, sink.addr()), fe)
	send := func(name string) chan string {
		got := make(chan string, 1)
		go func() {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				got <- "no connection"
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(8 * time.Second))
			fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", name)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				got <- name + " no response"
				return
			}
			resp.Body.Close()
			got <- name + " " + strconv.Itoa(resp.StatusCode)
		}()
		return got
	}
	seenCount := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range run.seen {
			if strings.HasPrefix(s, name+" ") {
				return true
			}
		}
		return false
	}
	// waitClosed waits until the proxy closed the server connection of
	// request name, if the server got it: its port is free for the next.
	waitClosed := func(name string) {
		for deadline := time.Now().Add(3 * time.Second); seenCount(name) && time.Now().Before(deadline); {
			mu.Lock()
			done := slices.Contains(run.closed, name)
			mu.Unlock()
			if done {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	held := map[string]chan string{}
	for _, step := range steps {
		verb, name, _ := strings.Cut(step, " ")
		switch verb {
		case "hold":
			held[name] = send(name)
			// The server has it before the next step.
			for deadline := time.Now().Add(3 * time.Second); !seenCount(name) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		case "free":
			close(gate(name))
			run.statuses = append(run.statuses, <-held[name])
			waitClosed(name)
		case "get":
			run.statuses = append(run.statuses, <-send(name))
			waitClosed(name)
		}
	}
	// Every request is logged, after its alerts.
	for n := 0; n < len(run.statuses); {
		l, ok := sink.next(3 * time.Second)
		if !ok {
			break
		}
		if strings.Contains(l, "] fe be/") {
			n++
		}
		// The backend and server connection counts depend on when each
		// proxy ends the held streams; the retries stay compared.
		run.logs = append(run.logs, rangeConns.ReplaceAllString(maskLog(strings.TrimSpace(l)), " A/F/B/S/$1 "))
	}
	slices.Sort(run.logs)
	for deadline := time.Now().Add(2 * time.Second); ; {
		run.alerts = run.alerts[:0]
		for _, l := range strings.Split(out(), "\n") {
			if i := strings.Index(l, "Cannot bind"); i >= 0 {
				run.alerts = append(run.alerts, l[i:])
			} else if i := strings.Index(l, "Connect() failed"); i >= 0 {
				run.alerts = append(run.alerts, l[i:])
			}
		}
		emerg := 0
		for _, l := range run.logs {
			if strings.Contains(l, "Cannot bind") || strings.Contains(l, "Connect() failed") {
				emerg++
			}
		}
		if len(run.alerts) >= emerg || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return run
}

// A server's source port range gives each connection a port of its own
// until the connection closes: a connection finding all of them taken
// fails (503, SC, retried at once, with HAProxy's alert and emergency log
// line each time), and freed ports go out again in the order they came
// back. A range copied from a default-server or the first server of a
// server-template has one slot more each time, as HAProxy's copy makes
// it: the port after the range, then a zero that reads as an empty
// range once. A source that cannot be bound, and a fixed
// source port already connected to the server, fail as in HAProxy.
func TestSourcePortRange(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare with")
	}
	gohap := func(t *testing.T) func(cfg, fe string) func() string {
		return func(cfg, _ string) func() string { return startGohapOut(t, cfg) }
	}
	haproxy := func(t *testing.T) func(cfg, fe string) func() string {
		return func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String }
	}
	// Below the kernel's ephemeral ports and above freePort's.
	cases := []struct {
		name, be string
		steps    []string
	}{
		{"exhausted then reused", " server s %[1]s source 127.0.0.1:32700-32701\n",
			[]string{"hold hold1", "hold hold2", "get third", "free hold1", "free hold2", "get q1", "get q2", "get q3"}},
		{"freed ports in turn", " server s %[1]s source 127.0.0.1:32700-32702\n",
			[]string{"hold hold1", "get q1", "get q2", "get q3", "get q4", "free hold1", "get q5"}},
		{"default-server range", " default-server source 127.0.0.1:32700-32701\n server s %[1]s\n",
			[]string{"hold hold1", "hold hold2", "hold hold3", "get fourth", "free hold1", "free hold2", "free hold3", "get q1"}},
		{"template range", " server-template s 2 %[1]s source 127.0.0.1:32700-32701\n",
			[]string{"get q1", "get q2", "get q3", "get q4", "get q5", "get q6"}},
		{"template range from default-server", " default-server source 127.0.0.1:32700-32701\n server-template s 2 %[1]s\n",
			[]string{"get q1", "get q2", "get q3", "get q4", "get q5", "get q6", "get q7", "get q8", "get q9", "get q10"}},
		{"range not bound", " server s %[1]s source 192.0.2.1:32700-32701\n",
			[]string{"get a", "get b"}},
		{"fixed port in use", " source 127.0.0.1:32705\n server s %[1]s\n",
			[]string{"hold hold1", "get second", "free hold1", "get third"}},
	}
	agreed := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runPortRange(t, gohap(t), tc.be, tc.steps)
			want := runPortRange(t, haproxy(t), tc.be, tc.steps)
			ok := true
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"server saw", got.seen, want.seen}, {"answers", got.statuses, want.statuses},
				{"alerts", got.alerts, want.alerts}, {"log lines", got.logs, want.logs}} {
				if !slices.Equal(c.got, c.want) {
					ok = false
					t.Errorf("%s:\ngohap   %q\nhaproxy %q", c.what, c.got, c.want)
				}
			}
			if ok {
				agreed++
			}
		})
	}
	t.Logf("port range scenarios agreeing with HAProxy: %d/%d", agreed, len(cases))
}

// A health check whose source cannot be bound fails as in HAProxy: the
// alert and emergency line of each attempt, and the server going down
// with HAProxy's reason, with a port range and without.
func TestSourceCheckBindFailure(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare with")
	}
	run := func(source string, start func(cfg, fe string) func() string) (string, string) {
		sink := newLogSink(t)
		srv := serveRaw(t, func(net.Conn) {})
		fe := freePort(t)
		out := start(fmtCfg("global\n nbthread 1\n log %[3]s local0\n"+baseDefaults+" log global\nfrontend fe\n bind %[2]s\n default_backend be\nbackend be\n server s %[1]s check inter 100ms fall 1 source %[4]s\n", srv, fe, sink.addr(), source), fe)
		// Up to the line saying the server is down, after the first
		// check's alert.
		var down string
		for down == "" {
			l, ok := sink.next(3 * time.Second)
			if !ok {
				break
			}
			if strings.Contains(l, "is DOWN") {
				down = maskLog(strings.TrimSpace(l))
			}
		}
		// The check duration is a timer.
		down = srcCheckDuration.ReplaceAllString(down, "check duration: Nms")
		// The alert goes to stderr, whose pipe may be read after the
		// log line came.
		alert := ""
		for end := time.Now().Add(2 * time.Second); alert == "" && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			for _, l := range strings.Split(out(), "\n") {
				if i := strings.Index(l, "Cannot bind"); i >= 0 {
					alert = l[i:]
					break
				}
			}
		}
		return down, alert
	}
	gohap := func(cfg, _ string) func() string { return startGohapOut(t, cfg) }
	haproxy := func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String }
	agreed := 0
	sources := []string{"192.0.2.1", "192.0.2.1:32720-32721"}
	for _, src := range sources {
		gd, ga := run(src, gohap)
		hd, ha := run(src, haproxy)
		if gd != hd || ga != ha || hd == "" {
			t.Errorf("source %s:\ngohap   %q %q\nhaproxy %q %q", src, gd, ga, hd, ha)
			continue
		}
		agreed++
	}
	t.Logf("check bind failures agreeing with HAProxy: %d/%d", agreed, len(sources))
}
