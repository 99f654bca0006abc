package comp

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohap/gohap/examples/freeport"
)

func haproxyBin(t testing.TB) string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	t.Skip("no HAProxy (set HAPROXY_BIN or install /usr/sbin/haproxy): nothing to compare with")
	return ""
}

func freePort(t testing.TB) string {
	// freeport's ports are handed once across the test binaries: haproxy
	// binds with SO_REUSEPORT.
	a, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testBody is the body every compressible response carries.
var testBody = []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 3)[:100])

// upstream answers request /N with case N's response head and a body
// framed as the head says, and records the Accept-Encoding headers it got.
type upstream struct {
	mu  sync.Mutex
	ae  map[int][]string
	rsp []string
}

func (u *upstream) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(f[1], "/"))
	var ae []string
	for {
		h, err := r.ReadString('\n')
		if err != nil || h == "\r\n" {
			break
		}
		if name, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, "accept-encoding") {
			ae = append(ae, strings.TrimSpace(v))
		}
	}
	u.mu.Lock()
	u.ae[n] = ae
	u.mu.Unlock()
	head := u.rsp[n]
	io.WriteString(c, head)
	if f[0] == "HEAD" {
		return
	}
	switch {
	case strings.Contains(head, "Transfer-Encoding: chunked"):
		io.WriteString(c, "20\r\n")
		c.Write(testBody[:32])
		io.WriteString(c, "\r\n44\r\n")
		c.Write(testBody[32:])
		io.WriteString(c, "\r\n0\r\n\r\n")
	case strings.Contains(head, "Content-Length: 0\r\n"):
	default:
		c.Write(testBody)
	}
}

// haproxyAnswer is a response as HAProxy sent it: its header lines
// (lower-cased names) and its decoded body.
type haproxyAnswer struct {
	hdrs map[string][]string
	body []byte
}

func fetch(t *testing.T, addr, req string) haproxyAnswer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, req)
	raw, _ := io.ReadAll(c)
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	a := haproxyAnswer{hdrs: map[string][]string{}}
	for _, l := range strings.Split(string(head), "\r\n")[1:] {
		name, v, _ := strings.Cut(l, ":")
		name = strings.ToLower(name)
		a.hdrs[name] = append(a.hdrs[name], strings.TrimSpace(v))
	}
	if len(a.hdrs["transfer-encoding"]) > 0 {
		body, _ = io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
	}
	a.body = body
	return a
}

// expectedHeaders applies a case's decision to the upstream response and
// returns the headers the comparison looks at.
func expectedHeaders(t *testing.T, c compCase) map[string][]string {
	_, _, e, ok := decide(t, c)
	_, s := parseHeads(t, c.req, c.rsp)
	out := map[string][]string{}
	for _, h := range s.Headers {
		name := strings.ToLower(string(h.Name.Of(s.Buf)))
		if compared[name] {
			out[name] = append(out[name], string(h.Value.Of(s.Buf)))
		}
	}
	if !ok {
		return out
	}
	for _, ed := range e.List() {
		switch ed.Op {
		case Add:
			out[ed.Name] = append(out[ed.Name], ed.Value)
		case Remove:
			delete(out, ed.Name)
		case Prefix:
			out[ed.Name][0] = ed.Value + out[ed.Name][0]
		}
	}
	return out
}

// compared are the headers compression touches.
var compared = map[string]bool{"content-encoding": true, "vary": true, "etag": true, "content-length": true, "transfer-encoding": true}

func TestAgainstHAProxy(t *testing.T) {
	bin := haproxyBin(t)
	u := &upstream{ae: map[int][]string{}}
	for _, c := range diffCases {
		u.rsp = append(u.rsp, c.rsp)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	fe, feOff := freePort(t), freePort(t)
	cfg := `
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    http-reuse never
frontend diff
    bind ` + fe + `
    compression algo gzip deflate
    compression type text/plain
    default_backend up
frontend diff-offload
    bind ` + feOff + `
    compression algo gzip deflate
    compression type text/plain
    compression offload
    default_backend up
backend up
    server s ` + l.Addr().String() + `
`
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	cmd := exec.Command(bin, "-db", "-f", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := net.Dial("tcp", feOff); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	pool := NewPool(DefaultLevel)
	agree := 0
	for i, c := range diffCases {
		addr := fe
		if c.cfg == "diff-offload" {
			addr = feOff
		}
		// Ask for /i and close after the response.
		req := strings.Replace(c.req, " / ", " /"+strconv.Itoa(i)+" ", 1)
		req = strings.Replace(req, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
		got := fetch(t, addr, req)
		ok := true
		want := expectedHeaders(t, c)
		for name := range compared {
			if strings.Join(got.hdrs[name], "|") != strings.Join(want[name], "|") {
				t.Errorf("%s: %s: haproxy %q, decided %q", c.name, name, got.hdrs[name], want[name])
				ok = false
			}
		}
		u.mu.Lock()
		sawAE := len(u.ae[i]) > 0
		u.mu.Unlock()
		if hadAE := strings.Contains(c.req, "Accept-Encoding"); hadAE && sawAE == c.dropAE {
			t.Errorf("%s: server got Accept-Encoding %v, decided drop %v", c.name, sawAE, c.dropAE)
			ok = false
		}
		if c.want != None && !strings.HasPrefix(c.req, "HEAD") {
			// HAProxy's body and ours must both decode to the original.
			body := testBody
			if strings.Contains(c.rsp, "Content-Length: 0\r\n") {
				body = nil
			}
			if dec, err := decode(c.want, got.body); err != nil || !bytes.Equal(dec, body) {
				t.Errorf("%s: haproxy body does not decode to the original: %v", c.name, err)
				ok = false
			}
			enc, _ := pool.Get(c.want)
			mine, _ := enc.Write(nil, body)
			mine, _ = enc.Flush(mine)
			mine, _ = enc.Close(mine)
			pool.Put(enc)
			if dec, err := decode(c.want, mine); err != nil || !bytes.Equal(dec, body) {
				t.Errorf("%s: our body does not decode to the original: %v", c.name, err)
				ok = false
			}
		}
		if ok {
			agree++
		}
	}
	t.Logf("decisions agree with HAProxy on %d/%d request/response pairs", agree, len(diffCases))
}

// decode undoes algorithm a with the standard library's decoders. An empty
// input decodes to nothing, as HAProxy sends no bytes for an empty body.
func decode(a Algo, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var r io.Reader
	var err error
	switch a {
	case Gzip:
		r, err = gzip.NewReader(bytes.NewReader(b))
	case Deflate:
		r, err = zlib.NewReader(bytes.NewReader(b))
	case RawDeflate:
		r = flate.NewReader(bytes.NewReader(b))
	default:
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(r)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}
