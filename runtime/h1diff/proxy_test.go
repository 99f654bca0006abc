package h1diff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// timeouts keep every wait short; the client side reads are bounded by
// quiet periods well below them.
type timeouts struct {
	request, keepAlive, client, server string
}

var suiteTimeouts = timeouts{request: "1s", keepAlive: "1s", client: "1s", server: "1s"}

// proxyConfig renders a configuration with one frontend per slot, each
// sending everything to its own upstream. binds[i] is the bind address
// of slot i.
func proxyConfig(tune string, to timeouts, binds []string, ups []*upstream) string {
	var b strings.Builder
	b.WriteString("global\n    maxconn 2000\n")
	for _, l := range strings.Split(tune, ";") {
		if l = strings.TrimSpace(l); l != "" {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	fmt.Fprintf(&b, `defaults
    mode http
    timeout connect 1s
    timeout client %s
    timeout server %s
    timeout http-request %s
    timeout http-keep-alive %s
    http-reuse never
`, to.client, to.server, to.request, to.keepAlive)
	for i := range binds {
		fmt.Fprintf(&b, "frontend fe%d\n    bind %s\n    default_backend be%d\n", i, binds[i], i)
		fmt.Fprintf(&b, "backend be%d\n    server s%d %s\n", i, i, ups[i].addr())
	}
	return b.String()
}

func writeCfg(dir, text string) (string, error) {
	p := filepath.Join(dir, "haproxy.cfg")
	return p, os.WriteFile(p, []byte(text), 0o644)
}

// instance is one proxy (HAProxy or gohap) running a slot configuration.
type instance struct {
	addrs []string
	ups   []*upstream
	stop  func()
}

// prepare starts one upstream per slot, picks the bind addresses and
// writes the configuration; it returns the instance (stop closes the
// upstreams) and the configuration's path. The bind addresses stay
// reserved by listeners until release is called, right before the proxy
// binds them, so that no upstream of this process takes one meanwhile.
func prepare(dir, tune string, to timeouts, slots int) (in *instance, path string, release func(), err error) {
	in = &instance{}
	var held []net.Listener
	release = func() {
		for _, l := range held {
			l.Close()
		}
		held = nil
	}
	in.stop = func() {
		release()
		for _, u := range in.ups {
			u.close()
		}
	}
	for i := 0; i < slots; i++ {
		u, err := startUpstream()
		if err != nil {
			in.stop()
			return nil, "", nil, err
		}
		in.ups = append(in.ups, u)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			in.stop()
			return nil, "", nil, err
		}
		held = append(held, l)
		in.addrs = append(in.addrs, l.Addr().String())
	}
	path, err = writeCfg(dir, proxyConfig(tune, to, in.addrs, in.ups))
	if err != nil {
		in.stop()
		return nil, "", nil, err
	}
	return in, path, release, nil
}

// startHAProxy runs bin -db on a slot configuration and waits until
// every frontend accepts connections.
func startHAProxy(bin, dir, tune string, to timeouts, slots int) (*instance, error) {
	in, p, release, err := prepare(dir, tune, to, slots)
	if err != nil {
		return nil, err
	}
	closeUps := in.stop
	release()
	cmd := exec.Command(bin, "-db", "-f", p)
	// HAProxy dies with the test process, even one the fuzzer kills.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer // read only after Wait
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		closeUps()
		return nil, err
	}
	in.stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		closeUps()
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, a := range in.addrs {
		for {
			c, err := net.DialTimeout("tcp", a, 100*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				in.stop()
				return nil, fmt.Errorf("haproxy did not listen on %s: %s", a, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return in, nil
}

// startGohap compiles and runs the same slot configuration in-process.
func startGohap(dir, tune string, to timeouts, slots int) (*instance, error) {
	in, p, release, err := prepare(dir, tune, to, slots)
	if err != nil {
		return nil, err
	}
	release()
	e, err := compileAndStart(p)
	if err != nil {
		in.stop()
		return nil, err
	}
	closeUps := in.stop
	in.stop = func() {
		e.Stop()
		e.Wait()
		closeUps()
	}
	for i, want := range in.addrs {
		if got := e.Addrs(fmt.Sprintf("fe%d", i)); len(got) != 1 || got[0] != want {
			in.stop()
			return nil, fmt.Errorf("gohap: frontend fe%d listens on %v, not %s", i, got, want)
		}
	}
	return in, nil
}

func compileAndStart(path string) (*runtime.Engine, error) {
	inputs, err := parser.ReadInputs([]string{path})
	if err != nil {
		return nil, err
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		return nil, fmt.Errorf("gohap config: %v", diags)
	}
	g, errs := runtime.Compile(cfg, runtime.Options{})
	if len(errs) > 0 {
		return nil, fmt.Errorf("gohap compile: %v", errs)
	}
	e := runtime.NewEngine(g, nil)
	if err := e.Start(); err != nil {
		return nil, err
	}
	return e, nil
}

// outcome is everything one run of a case produced.
type outcome struct {
	Received []byte    // bytes the client received, in order
	After1   string    // connection state after the raw request: open, fin, rst
	Sent2    bool      // whether the second request was written
	Final    string    // connection state at the end
	Events   []upEvent // what the upstream parsed
	Lingered bool      // an upstream connection was still open at the end
}

// readQuiet reads from c until it has been silent for quiet, the peer
// closed, or max elapsed. It returns "open", "fin" or "rst".
func readQuiet(c net.Conn, buf *bytes.Buffer, quiet, max time.Duration) string {
	end := time.Now().Add(max)
	p := make([]byte, 32<<10)
	for {
		d := time.Now().Add(quiet)
		if d.After(end) {
			d = end
		}
		c.SetReadDeadline(d)
		n, err := c.Read(p)
		buf.Write(p[:n])
		if err == nil {
			continue
		}
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return "open"
		case errors.Is(err, io.EOF):
			return "fin"
		case errors.Is(err, syscall.ECONNRESET):
			return "rst"
		default:
			return "err"
		}
	}
}

// secondRequest follows every case's raw bytes on the same connection.
const secondRequest = "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"

// quiet is how long the client waits for more bytes before it decides
// that the proxy has answered all it will answer for now.
const quiet = 300 * time.Millisecond

// run sends a case through addr, whose upstream is up.
func run(addr string, up *upstream, c *h1case) (outcome, error) {
	var o outcome
	up.reset(c.upResp())
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return o, err
	}
	defer conn.Close()
	var got bytes.Buffer
	for i, p := range c.parts {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(conn, p); err != nil {
			break
		}
	}
	o.After1 = readQuiet(conn, &got, quiet, 3*time.Second)
	o.Final = o.After1
	if o.After1 == "open" && !c.noSecond {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(conn, secondRequest); err == nil {
			o.Sent2 = true
			o.Final = readQuiet(conn, &got, quiet, 3*time.Second)
		}
	}
	conn.Close()
	o.Received = got.Bytes()
	o.Lingered = !up.idle(2 * time.Second)
	o.Events = up.snapshot()
	return o, nil
}

// client renders what the client saw, with chunked bodies decoded
// (chunk boundaries are HAProxy's buffer boundaries, not behaviour).
func (o *outcome) client() string {
	var b strings.Builder
	fmt.Fprintf(&b, "after raw: %s, second sent: %v, end: %s\n", o.After1, o.Sent2, o.Final)
	if o.Lingered {
		b.WriteString("a server connection was still open 2s after the client closed\n")
	}
	b.WriteString(normResponses(o.Received))
	return b.String()
}

// upstreamLog renders the upstream's log in compared form.
func (o *outcome) upstreamLog() string {
	var b strings.Builder
	for _, e := range o.Events {
		b.WriteString(e.key())
		b.WriteByte('\n')
	}
	return b.String()
}

// normResponses splits the received bytes into responses where it can,
// decoding chunked bodies; anything it cannot split is kept as is.
func normResponses(p []byte) string {
	var b strings.Builder
	s := string(p)
	for s != "" {
		i := strings.Index(s, "\r\n\r\n")
		if !strings.HasPrefix(s, "HTTP/") || i < 0 {
			fmt.Fprintf(&b, "raw %q\n", s)
			break
		}
		head := s[:i+4]
		rest := s[i+4:]
		fmt.Fprintf(&b, "head %q\n", head)
		lower := strings.ToLower(head)
		if m := clRE.FindStringSubmatch(lower); m != nil && !strings.Contains(lower, "\ntransfer-encoding:") {
			n, _ := strconv.Atoi(m[1])
			if n <= len(rest) && (n == 0 || !strings.HasPrefix(rest, "HTTP/")) {
				fmt.Fprintf(&b, "body %q\n", rest[:n])
				s = rest[n:]
				continue
			}
		}
		if !strings.Contains(lower, "\ntransfer-encoding: chunked\r\n") {
			s = rest
			continue
		}
		data, trailers, n, ok := dechunk(rest)
		if !ok {
			s = rest
			continue
		}
		fmt.Fprintf(&b, "chunked body %q trailers %q\n", data, trailers)
		s = rest[n:]
	}
	return b.String()
}

var clRE = regexp.MustCompile(`\ncontent-length: *(\d{1,9})\r\n`)

// dechunk decodes a chunked body at the start of s; n is its length.
func dechunk(s string) (data, trailers string, n int, ok bool) {
	var d strings.Builder
	pos := 0
	for {
		e := strings.Index(s[pos:], "\r\n")
		if e < 0 {
			return "", "", 0, false
		}
		line := s[pos : pos+e]
		size, _, _ := strings.Cut(line, ";")
		var sz int
		if _, err := fmt.Sscanf(size, "%x", &sz); err != nil || sz < 0 {
			return "", "", 0, false
		}
		pos += e + 2
		if sz == 0 {
			break
		}
		if pos+sz+2 > len(s) || s[pos+sz:pos+sz+2] != "\r\n" {
			return "", "", 0, false
		}
		d.WriteString(s[pos : pos+sz])
		pos += sz + 2
	}
	t := strings.Index(s[pos:], "\r\n\r\n")
	if strings.HasPrefix(s[pos:], "\r\n") {
		return d.String(), "", pos + 2, true
	}
	if t < 0 {
		return "", "", 0, false
	}
	return d.String(), s[pos : pos+t], pos + t + 4, true
}
