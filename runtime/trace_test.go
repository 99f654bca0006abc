package runtime_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// traceBody is n bytes of a pattern that shows a reordered or dropped
// piece.
func traceBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// traceUpstream answers /cl/N with N bytes and a Content-Length, /ch/N
// with N bytes in chunks, each with the digest and size of the request
// body it read in x-req.
func traceUpstream(t *testing.T) string {
	return serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			in, _ := io.ReadAll(req.Body)
			parts := strings.Split(req.URL.Path, "/")
			n, _ := strconv.Atoi(parts[len(parts)-1])
			body := traceBody(n)
			sum := fmt.Sprintf("%x/%d", sha256.Sum256(in), len(in))
			w := bufio.NewWriter(c)
			if parts[1] == "ch" {
				fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nx-req: %s\r\nTransfer-Encoding: chunked\r\n\r\n", sum)
				for len(body) > 0 {
					k := min(len(body), 3000)
					fmt.Fprintf(w, "%x\r\n%s\r\n", k, body[:k])
					body = body[k:]
				}
				io.WriteString(w, "0\r\n\r\n")
			} else {
				fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nx-req: %s\r\nContent-Length: %d\r\n\r\n%s", sum, len(body), body)
			}
			w.Flush()
		}
	})
}

// traceExchange sends a request with an n-byte body, chunked or not, on
// c and reads the answer: it reports what the server read and what the
// client received.
func traceExchange(t *testing.T, c net.Conn, br *bufio.Reader, path string, n int, chunked bool) string {
	t.Helper()
	body := traceBody(n)
	var head string
	if chunked {
		head = fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", path)
		var b strings.Builder
		for rest := body; len(rest) > 0; {
			k := min(len(rest), 5000)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", k, rest[:k])
			rest = rest[k:]
		}
		b.WriteString("0\r\n\r\n")
		head += b.String()
	} else {
		head = fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", path, n, body)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go io.WriteString(c, head)
	rsp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	got, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := traceBody(len(got))
	return fmt.Sprintf("%s chunked=%v: %d server-read=%s client-got=%d intact=%v", path, chunked, rsp.StatusCode,
		rsp.Header.Get("x-req"), len(got), string(got) == string(want))
}

// With random-forwarding trace filters on both proxies, request and
// response bodies, chunked or with a length, arrive whole and in order,
// as through HAProxy; in TCP mode too, where raw data is forwarded in
// random pieces.
func TestTraceRandomForwardingDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := traceUpstream(t)
	for _, mode := range []string{"http", "tcp"} {
		sideBySide(t, func(start func(cfg, fe string)) string {
			fe := freePort(t)
			start(fmt.Sprintf(diffDefaults+`frontend fe
    mode %s
    bind %s
    filter trace name A random-forwarding quiet
    default_backend b
backend b
    mode %s
    filter trace name B random-forwarding quiet
    server s1 %s
`, mode, fe, mode, up), fe)
			c := dialRaw(t, fe)
			br := bufio.NewReader(c)
			var out []string
			for _, n := range []int{0, 1, 70000, 300000} {
				for _, chunked := range []bool{false, true} {
					for _, kind := range []string{"cl", "ch"} {
						out = append(out, mode+" "+traceExchange(t, c, br, fmt.Sprintf("/%s/%d", kind, n), n, chunked))
					}
				}
			}
			return strings.Join(out, "\n")
		})
	}
}

var (
	traceBinOnce sync.Once
	traceBin     string
	traceBinErr  error
)

// builtGohap builds the gohap binary once for the tests that read what
// the process writes on its own stderr.
func builtGohap(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	traceBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gohap-trace")
		if err != nil {
			traceBinErr = err
			return
		}
		traceBin = filepath.Join(dir, "gohap")
		if out, err := exec.Command("go", "build", "-o", traceBin, "../cmd/gohap").CombinedOutput(); err != nil {
			traceBinErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if traceBinErr != nil {
		t.Fatal(traceBinErr)
	}
	return traceBin
}

var (
	traceLineRE = regexp.MustCompile(`^\d+\.\d{6} \[.{20}\] `)
	traceStrmRE = regexp.MustCompile(`\[strm [^]]*\] `)
	traceOffRE  = regexp.MustCompile(`offset=\d+`)
)

// traceLines waits for the end of a stream and returns the trace
// lines, with times, stream addresses and payload offsets (HTX sizes in
// HAProxy) masked.
func traceLines(t *testing.T, out *lockedBuffer) []string {
	t.Helper()
	return traceLinesAfter(t, out, 1)
}

// traceLinesAfter is traceLines once n streams ended.
func traceLinesAfter(t *testing.T, out *lockedBuffer, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); strings.Count(out.String(), "trace_detach             : filter-type=frontend\n") < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no end of stream in:\n%s", out.String())
		}
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "\t0x") {
			// A hexdump line.
			lines = append(lines, l)
			continue
		}
		if !traceLineRE.MatchString(l) {
			continue
		}
		l = traceLineRE.ReplaceAllStringFunc(l, func(m string) string { return "T " + m[strings.IndexByte(m, '['):] })
		l = traceStrmRE.ReplaceAllString(l, "[strm X] ")
		l = traceOffRE.ReplaceAllString(l, "offset=N")
		// The name is padded: the line ends in spaces.
		if n := len(lines); n > 0 && lines[n-1] == l && strings.HasSuffix(strings.TrimRight(l, " "), "trace_check_timeouts") {
			// HAProxy checks a stream's timeouts at each of its
			// wake-ups, whose count depends on the machine's load
			// (a connect being retried): one line stands for a run.
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// The trace filter writes the callbacks of a request (with a length or
// chunked, payloads counting the data only, and the hexdump of that
// data), from the
// frontend's and the backend's filters, as HAProxy does: same lines, in
// the same order, once times, addresses and buffer offsets are masked;
// so for a request a rule denies and one whose server is down (the
// connection retried once).
func TestTraceLinesDifferential(t *testing.T) {
	up := traceUpstream(t)
	down := freePort(t)
	for _, c := range []struct{ name, req string }{
		{"proxied", "POST /cl/20 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"},
		{"chunked", "POST /ch/20 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\n to\r\n0\r\n\r\n"},
		{"denied", "GET /deny HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"server down", "GET /down HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		traceSideBySide(t, c.name, func(bin string) []string {
			fe, out := startTraced(t, bin, `frontend fe
    bind %s
    filter trace name F hexdump
    http-request deny if { path /deny }
    use_backend down if { path /down }
    default_backend b
backend b
    filter trace
    server s1 %s
backend down
    retries 1
    server s1 %s
`, up, down)
			conn := dialRaw(t, fe)
			conn.Write([]byte(c.req))
			rsp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(rsp.Body)
			return append([]string{rsp.Status}, traceLines(t, out)...)
		})
	}
}

// traceSideBySide runs run against HAProxy, then against the gohap
// binary, and fails when the lines it returns differ.
func traceSideBySide(t *testing.T, name string, run func(bin string) []string) {
	t.Helper()
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	bin := builtGohap(t)
	ref := run(haproxyBin())
	got := run(bin)
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Errorf("%s: haproxy:\n%s\ngohap:\n%s", name, strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
	t.Logf("%s: %d lines:\n%s", name, len(got), strings.Join(got, "\n"))
}

// startTraced runs bin on one thread with the side-by-side defaults and
// sections, whose first verb is the frontend's address; it returns that
// address and what the process prints.
func startTraced(t *testing.T, bin, sections string, a ...any) (string, *lockedBuffer) {
	t.Helper()
	fe := freePort(t)
	return fe, startProcess(t, bin, "global\n    nbthread 1\n"+diffDefaults+fmt.Sprintf(sections, append([]any{fe}, a...)...), fe)
}

// With random-forwarding, a body goes out in pieces: the payload lines
// forward less than they have at least once, and their forwards add up
// to the body.
func TestTraceRandomForwardingPieces(t *testing.T) {
	bin := builtGohap(t)
	up := traceUpstream(t)
	fe := freePort(t)
	out := startProcess(t, bin, fmt.Sprintf(diffDefaults+`listen fe
    bind %s
    filter trace name R random-forwarding
    server s1 %s
`, fe, up), fe)
	c := dialRaw(t, fe)
	br := bufio.NewReader(c)
	if got := traceExchange(t, c, br, "/cl/100000", 100000, false); !strings.Contains(got, "client-got=100000 intact=true") {
		t.Fatalf("answer: %s", got)
	}
	lines := traceLines(t, out)
	re := regexp.MustCompile(`channel=(\w+) .* len=(\d+) - forward=(\d+)`)
	sum := map[string]int{}
	partial := map[string]bool{}
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		f, _ := strconv.Atoi(m[3])
		sum[m[1]] += f
		partial[m[1]] = partial[m[1]] || f < n
	}
	if sum["REQUEST"] != 100000 || !partial["REQUEST"] {
		t.Errorf("request payload: forwarded %d, in pieces %v", sum["REQUEST"], partial["REQUEST"])
	}
	// The response's forwards count its head's bytes out: only the
	// body's length.
	if sum["RESPONSE"] != 100000 || !partial["RESPONSE"] {
		t.Errorf("response payload: forwarded %d, in pieces %v", sum["RESPONSE"], partial["RESPONSE"])
	}
}

// A trace filter runs on HTTP and TCP proxies; the filters gohap does
// not run are refused.
func TestTraceFilterRefusals(t *testing.T) {
	// check opens the SPOE file (and reads no further).
	spoe := filepath.Join(t.TempDir(), "spoe.conf")
	if err := os.WriteFile(spoe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cfg, want string }{
		{"listen l\n mode http\n bind 127.0.0.1:8001\n filter trace name T random-forwarding\n server s 127.0.0.1:1\n", ""},
		{"listen l\n mode tcp\n bind 127.0.0.1:8001\n filter trace\n server s 127.0.0.1:1\n", ""},
		{"listen l\n mode http\n bind 127.0.0.1:8001\n filter spoe config " + spoe + "\n server s 127.0.0.1:1\n", ":4] : 'filter' is not supported by the gohap runtime yet."},
	} {
		inputs, err := parser.ReadInputs([]string{writeCfg(t, c.cfg)})
		if err != nil {
			t.Fatal(err)
		}
		cfg, diags := parser.Parse(inputs, parser.Options{})
		if diags.HasErrors() {
			t.Fatalf("%q: %v", c.cfg, diags)
		}
		_, errs := runtime.Compile(cfg, runtime.Options{})
		got := fmt.Sprint(errs)
		if c.want == "" && len(errs) > 0 || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%q: got %s, want %q", c.cfg, got, c.want)
		}
	}
}

// In TCP mode the trace filter writes the stream's callbacks and a
// tcp_payload line for the data of each direction as HAProxy does. Its
// empty tcp_payload calls, which depend on wake-ups, are left out, and
// the response's start of analysis, which comes before or after the
// request's data as the connection to the server is quicker or not, is
// only counted.
func TestTraceTCPLinesDifferential(t *testing.T) {
	up := traceUpstream(t)
	traceSideBySide(t, "tcp", func(bin string) []string {
		fe, out := startTraced(t, bin, `listen l
    mode tcp
    bind %s
    filter trace name T
    server s1 %s
`, up)
		// The start-up probe's stream ends first; how, HAProxy's timing
		// decides: only the next stream is compared.
		probe := len(traceLinesAfter(t, out, 1))
		conn := dialRaw(t, fe)
		conn.Write([]byte("POST /cl/20 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"))
		rsp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(rsp.Body)
		conn.Close()
		var lines []string
		rspStart := 0
		for _, l := range traceLinesAfter(t, out, 2)[probe:] {
			switch {
			case strings.Contains(l, "trace_tcp_payload") && strings.Contains(l, " len=0 "):
			case strings.Contains(l, "trace_chn_start_analyze  : channel=RESPONSE"):
				rspStart++
			default:
				lines = append(lines, l)
			}
		}
		return append(lines, fmt.Sprint("response analysis started ", rspStart, " time(s)"))
	})
}

// An HTTP/2 request's headers show as HTX holds them: the target
// absolute and the version HTTP/2.0, as HAProxy's trace shows them.
func TestTraceH2LinesDifferential(t *testing.T) {
	up := traceUpstream(t)
	traceSideBySide(t, "h2", func(bin string) []string {
		fe, out := startTraced(t, bin, `frontend fe
    bind %s proto h2
    filter trace name F
    default_backend b
backend b
    server s1 %s
`, up)
		c := h2cClient(3 * time.Second)
		defer c.CloseIdleConnections()
		r, err := c.Get("http://" + fe + "/cl/20?x=1")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(r.Body)
		r.Body.Close()
		var lines []string
		for _, l := range traceLines(t, out) {
			if strings.Contains(l, "trace_http_headers") || strings.Contains(l, "] \t") {
				lines = append(lines, strings.ReplaceAll(l, fe, "FE"))
			}
		}
		return lines
	})
}

// A run of timeout checks (HAProxy pads the callback's name) reads as one
// line: their count follows the machine's load.
func TestTraceLinesCollapseTimeoutChecks(t *testing.T) {
	var out lockedBuffer
	for _, l := range []string{
		"1796488353.526597 [F/fe                ] [strm 0x1(0) 0x0 0x0] trace_check_timeouts     ",
		"1796488353.526598 [F/fe                ] [strm 0x1(0) 0x0 0x0] trace_check_timeouts     ",
		"1796488353.526599 [F/fe                ] [strm 0x1(0) 0x0 0x0] trace_detach             : filter-type=frontend",
	} {
		out.Write([]byte(l + "\n"))
	}
	if got := traceLines(t, &out); len(got) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(got), got)
	}
}
