package logging

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
)

const haproxyBin = "/usr/sbin/haproxy"

// collector gathers the datagrams one UDP socket receives.
type collector struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
	err  error
	done chan struct{}
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf := make([]byte, 70000)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				c.err = err
				return
			}
			c.mu.Lock()
			c.got = append(c.got, append([]byte(nil), buf[:n]...))
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-c.done })
	return c
}

func (c *collector) addr() string { return c.conn.LocalAddr().String() }

// wait returns the datagrams once n arrived or the deadline passed.
func (c *collector) wait(n int, d time.Duration) [][]byte {
	end := time.Now().Add(d)
	for {
		c.mu.Lock()
		got := append([][]byte(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(end) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *collector) reset() {
	c.mu.Lock()
	c.got = nil
	c.mu.Unlock()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var (
	legacyTime = regexp.MustCompile(`[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} `)
	isoTime    = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{2}:[0-9]{2} `)
)

func maskDates(b []byte) string {
	s := legacyTime.ReplaceAllString(string(b), "<DATE> ")
	return isoTime.ReplaceAllString(s, "<ISO> ")
}

// The deterministic part of a stream's log line when HAProxy answers with
// "http-request return".
const diffFormat = `txt %f %b %s %ST %ts %tsc %ci:%cp %fi:%fp %{+X}ci:%{+X}cp %bi:%bp %si:%sp %bc/%sc/%rc %sq/%bq %hr %hs %hrl %{+Q}hsl ` +
	`%{+Q}r %HM %HU %HP %HPO %HQ %HV %{+Q,+E}HU %rt %lc %{+X}rt %H %pid %ID %{+Q}ID %CC %{+Q}CS %{+Q}f end`

const diffSD = `[x@1 fe="%{+E}f" u="%{+E}HU"]`

const uniqueIDFormat = `%{+X}o%ci:%cp_%rt`

func TestDifferentialLogger(t *testing.T) {
	if _, err := os.Stat(haproxyBin); err != nil {
		t.Skip("haproxy not installed at " + haproxyBin + ": differential test skipped")
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// Each target line is sent to its own socket, by haproxy then by us.
	lines := []string{
		"local0",
		"format local local1",
		"format rfc3164 local2 info",
		"format rfc5424 local3",
		"format priority local4",
		"format short local5",
		"format timed local6",
		"format iso local7",
		"format raw user",
		"len 90 format rfc5424 local0",
		"len 100 local1",
		"format raw sample 2:3 local0",
		"format short sample 1,3-4:5 daemon",
		"format short local2 notice",
		"format priority local3 debug debug",
	}
	theirs := make([]*collector, len(lines))
	ours := make([]*collector, len(lines))
	var logs strings.Builder
	for i, l := range lines {
		theirs[i], ours[i] = newCollector(t), newCollector(t)
		fmt.Fprintf(&logs, "  log %s %s\n", theirs[i].addr(), l)
	}
	port := freePort(t)
	cfg := fmt.Sprintf(`global
%s  log-send-hostname myhost
  log-tag mytag
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 5s
frontend fe
  bind 127.0.0.1:%d
  log global
  option accept-invalid-http-request
  option dontlognull
  capture request header Host len 32
  capture request header X-Missing len 8
  capture request header User-Agent len 5
  capture response header Server len 10
  unique-id-format '%s'
  log-format '%s'
  log-format-sd '%s'
  http-request return status 203
`, logs.String(), port, uniqueIDFormat, diffFormat, diffSD)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, haproxyBin, "-db", "-f", cfgPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	front := fmt.Sprintf("127.0.0.1:%d", port)
	if !waitListen(front, 5*time.Second) {
		t.Fatalf("haproxy did not listen:\n%s", stderr.String())
	}

	reqLines := []string{
		`GET /a"b]c\d/%41?x=1&y="q" HTTP/1.1`,
		`GET http://h.example/p/q?z HTTP/1.1`,
		`GET /plain HTTP/1.1`,
	}
	hosts := []string{"h{1}|\xe9#", "example.org:8080", ""}
	var clients []netip.AddrPort
	for i, rl := range reqLines {
		req := rl + "\r\n"
		if hosts[i] != "" {
			req += "Host: " + hosts[i] + "\r\n"
		}
		req += "User-Agent: agent-long\r\n\r\n"
		ap, err := roundTrip(front, req)
		if err != nil {
			t.Fatalf("request %d: %v\n%s", i, err, stderr.String())
		}
		clients = append(clients, ap)
		// HAProxy logs when the stream ends: wait for this line so that
		// the log order is the request order.
		if n := len(theirs[0].wait(i+1, 3*time.Second)); n != i+1 {
			t.Fatalf("request %d: haproxy sent %d lines", i, n)
		}
	}

	// Expected counts per target: 3 requests, sampling and level filters.
	want := []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 2, 0, 3}
	got := make([][][]byte, len(lines))
	for i := range lines {
		got[i] = theirs[i].wait(want[i], 3*time.Second)
	}
	time.Sleep(200 * time.Millisecond) // catch extra datagrams
	for i := range lines {
		got[i] = theirs[i].wait(0, 0)
		if len(got[i]) != want[i] {
			t.Fatalf("haproxy sent %d lines to %q, want %d: %q", len(got[i]), lines[i], want[i], got[i])
		}
	}

	// Now the same lines through our Logger.
	var targets []TargetConfig
	for i, l := range lines {
		tc, err := ParseGlobalTarget(append([]string{"log", ours[i].addr()}, strings.Fields(l)...))
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		targets = append(targets, tc)
	}
	lg, err := New(targets, Options{Hostname: "myhost", Tag: "mytag", PID: cmd.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	main := mustCompile(t, diffFormat, logfmt.LogFormatFlags)
	sd := mustCompile(t, diffSD, logfmt.LogFormatFlags)
	uid := mustCompile(t, uniqueIDFormat, logfmt.UniqueIDFlags)
	frontAP := netip.MustParseAddrPort(front)
	for i, rl := range reqLines {
		var hostHdr []byte
		if hosts[i] != "" {
			hostHdr = []byte(hosts[i])
		}
		r := &Record{
			FrontendName: "fe", BackendName: "fe", Status: 203,
			Flags: SFErrLocal | SFFinstR, HasTxn: true,
			Client: clients[i], Frontend: frontAP,
			ReqCaps:     [][]byte{hostHdr, nil, []byte("agent")},
			ResCaps:     [][]byte{nil},
			RequestLine: []byte(rl),
			ReqCounter:  uint32(i), LogCount: uint32(i),
			Hostname: host, PID: cmd.Process.Pid,
		}
		r.UniqueID = uid.Append(nil, r)
		msg := main.Append(nil, r)
		sdb := sd.Append(nil, r)
		lg.Emit(LevelInfo, -1, msg, sdb)
	}
	compared := 0
	defer func() { t.Logf("%d lines on %d targets compared with haproxy", compared, len(lines)) }()
	for i := range lines {
		mine := ours[i].wait(want[i], 10*time.Second)
		time.Sleep(50 * time.Millisecond)
		mine = ours[i].wait(0, 0)
		if len(mine) != len(got[i]) {
			t.Errorf("%q: we sent %d lines, haproxy %d (dropped %d, queued %d, read error %v, target %v)", lines[i], len(mine), len(got[i]), lg.Dropped(), len(lg.targets[i].q), ours[i].err, lg.targets[i].cfg.Addr)
			continue
		}
		for j := range mine {
			h, m := maskDates(got[i][j]), maskDates(mine[j])
			if h != m {
				t.Errorf("%q line %d:\nhaproxy: %q\ngohap:   %q", lines[i], j, h, m)
			}
			compared++
		}
	}
}

func waitListen(addr string, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// roundTrip sends one raw request, reads the response head and returns the
// client address used.
func roundTrip(addr, req string) (netip.AddrPort, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		return netip.AddrPort{}, err
	}
	st, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return netip.AddrPort{}, err
	}
	if !strings.Contains(st, " 203") {
		return netip.AddrPort{}, fmt.Errorf("status line %q", st)
	}
	return netip.MustParseAddrPort(c.LocalAddr().String()), nil
}

func mustCompile(t testing.TB, s string, flags logfmt.Opt) *Format {
	t.Helper()
	nodes, err := logfmt.ParseWith(s, logfmt.Options{HTTP: true, Flags: flags})
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	f, err := Compile(nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
