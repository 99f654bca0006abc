package runtime_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Recorder is an HTTP/2 server (prior knowledge) that records, frame
// by frame, what each request stream carries (every field in order,
// DATA lengths, trailers, END_STREAM, RST_STREAM) and answers once the
// request ended with one of h2RecAnswers, chosen by its x-answer field.
type h2Recorder struct {
	addr string
	mu   sync.Mutex
	got  []string
}

// h2RecAnswers are answers as field lists, a body and trailers.
var h2RecAnswers = []struct {
	fields   []string
	body     string
	trailers []string
}{
	{[]string{":status", "200", "content-length", "2"}, "ok", nil},
	{[]string{":status", "204"}, "", nil},
	{[]string{":status", "200", "x-u", " a ", "content-type", "text/plain"}, "streamed", nil},
	{[]string{":status", "404", "content-length", "0"}, "", nil},
	{[]string{":status", "200"}, "body", []string{"x-t", "t"}},
	{[]string{":status", "500", "set-cookie", "a=1", "set-cookie", "b=2"}, "", nil},
	{[]string{":status", "304", "etag", `"x"`}, "", nil},
}

func startH2Recorder(t *testing.T) *h2Recorder {
	rec := &h2Recorder{}
	rec.addr = serveRawH2(t, func(fr *http2.Framer, next func() http2.Frame) {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		dec := hpack.NewDecoder(4096, nil)
		block := func(kv []string) []byte {
			buf.Reset()
			for i := 0; i+1 < len(kv); i += 2 {
				enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
			}
			return append([]byte(nil), buf.Bytes()...)
		}
		answers := map[uint32]int{}
		seen := map[uint32]bool{}
		answer := func(id uint32) {
			a := h2RecAnswers[answers[id]%len(h2RecAnswers)]
			end := a.body == "" && a.trailers == nil
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block(a.fields), EndHeaders: true, EndStream: end})
			if a.body != "" {
				fr.WriteData(id, a.trailers == nil, []byte(a.body))
			}
			if a.trailers != nil {
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block(a.trailers), EndHeaders: true, EndStream: true})
			}
		}
		// A body is recorded whole, with where END_STREAM came: how it
		// is cut into DATA frames is not the message's.
		var body []byte
		inBody := false
		record := func(s string) {
			rec.mu.Lock()
			if inBody {
				rec.got = append(rec.got, fmt.Sprintf("DATA %q", body))
				body, inBody = body[:0], false
			}
			if s != "" {
				rec.got = append(rec.got, s)
			}
			rec.mu.Unlock()
		}
		for f := next(); f != nil; f = next() {
			switch f := f.(type) {
			case *http2.HeadersFrame:
				fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
				var kv []string
				for _, hf := range fields {
					if hf.Name == "x-answer" {
						answers[f.StreamID], _ = strconv.Atoi(hf.Value)
						continue
					}
					kv = append(kv, hf.Name+": "+hf.Value)
				}
				kind := "HEADERS"
				if seen[f.StreamID] {
					kind = "TRAILERS"
				}
				seen[f.StreamID] = true
				record(fmt.Sprintf("%s %q es=%v", kind, kv, f.StreamEnded()))
				if f.StreamEnded() {
					answer(f.StreamID)
				}
			case *http2.DataFrame:
				body, inBody = append(body, f.Data()...), true
				if f.StreamEnded() {
					record("END")
					answer(f.StreamID)
				}
			case *http2.RSTStreamFrame:
				record("RST " + f.ErrCode.String())
			}
		}
	})
	return rec
}

func (r *h2Recorder) take() string {
	r.mu.Lock()
	if len(r.got) > 0 && strings.HasPrefix(r.got[len(r.got)-1], "DATA") {
		// A body whose end has not come.
		r.got = append(r.got, "(no end)")
	}
	defer r.mu.Unlock()
	g := strings.Join(r.got, " | ")
	r.got = nil
	return g
}

// TestH2ToH2RandomDifferential plays random HTTP/2 requests (those of
// TestH2RandomDifferential) through HAProxy and gohap to an HTTP/2
// server, plain and under rules that edit both heads, and compares what
// the client gets and, frame by frame, what the server read: the
// pseudo-headers HAProxy builds (:scheme and :authority from the
// target), the fields in order, the body and trailers. H2H2RAND_SEED
// and H2H2RAND_N choose the draw.
func TestH2ToH2RandomDifferential(t *testing.T) {
	randToH2Server(t, "H2H2RAND", " proto h2", func(r *rand.Rand, feH, feG string) (string, string, string, bool) {
		c := drawH2Case(r)
		c.fields = append(c.fields, "x-answer", strconv.Itoa(c.answer))
		h, g := h2RandExchange(t, feH, c), h2RandExchange(t, feG, c)
		// A stream reset, or left open until the client went, ends at
		// the server as each proxy's scheduling has it.
		return c.String(), h, g, strings.HasPrefix(h, "RST") || h == "(quiet)"
	})
}

// TestH1ToH2RandomDifferential sends the random HTTP/1 requests of
// TestH1RandomDifferential through both proxies to a frame-level HTTP/2
// server, plain and under rules: what the client reads and what the
// server got must be the same. H1H2RAND_SEED and H1H2RAND_N choose the
// draw.
func TestH1ToH2RandomDifferential(t *testing.T) {
	randToH2Server(t, "H1H2RAND", "", func(r *rand.Rand, feH, feG string) (string, string, string, bool) {
		req := drawH1Request(r)
		answer := r.Intn(len(h2RecAnswers))
		if i := strings.IndexByte(req, '\n'); i > 0 {
			// The answer to give, as the request's first field.
			req = req[:i+1] + fmt.Sprintf("x-answer: %d\r\n", answer) + req[i+1:]
		}
		h, g := h1Head(t, feH, req), h1Head(t, feG, req)
		// A request left incomplete ends at the server as each proxy's
		// scheduling has it once the client goes.
		return strconv.Quote(req), h, g, h == ""
	})
}

// randToH2Server runs drawn cases (the seed and count from prefix's
// variables, 60 by default) through HAProxy and gohap, their frontend
// bound with bindOpts, to frame-level HTTP/2 servers, under each of
// randRuleVariants. play sends one case to both frontends and returns
// its description, what each client got, and whether the servers' reads
// may differ then.
func randToH2Server(t *testing.T, prefix, bindOpts string, play func(r *rand.Rand, feH, feG string) (string, string, string, bool)) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	seed, n := randDraw(prefix, 60)
	for _, v := range randRuleVariants() {
		rules := v[0]
		t.Run(v[1], func(t *testing.T) {
			recH, recG := startH2Recorder(t), startH2Recorder(t)
			cfg := baseDefaults + "frontend fe\n bind %s" + bindOpts + "\n" + rules + " default_backend b\nbackend b\n server s1 %s proto h2\n"
			feH, feG := freePort(t), freePort(t)
			startHAProxy(t, fmt.Sprintf(cfg, feH, recH.addr), feH)
			startGohap(t, fmt.Sprintf(cfg, feG, recG.addr), nil)
			r := rand.New(rand.NewSource(seed))
			agree, differ := 0, 0
			for i := 0; i < n; i++ {
				desc, h, g, lenient := play(r, feH, feG)
				time.Sleep(30 * time.Millisecond)
				hu, gu := withoutTeardown(recH.take()), withoutTeardown(recG.take())
				if h == g && (hu == gu || lenient) {
					agree++
					continue
				}
				differ++
				t.Errorf("case %d: %s\n haproxy: %s\n  server got %s\n gohap:   %s\n  server got %s", i, desc, h, hu, g, gu)
			}
			t.Logf("seed %d: %d of %d cases agree", seed, agree, agree+differ)
		})
	}
}

// withoutTeardown drops what a stream of an earlier case may send once
// its client went (an empty DATA ending it, resets): when a proxy sends
// that, after its client's connection closed, is its scheduling's.
func withoutTeardown(rec string) string {
	for _, f := range strings.Split(rec, " | ") {
		if f != `DATA ""` && f != "END" && !strings.HasPrefix(f, "RST ") {
			return rec
		}
	}
	return ""
}

// TestRefusedUpgradeDifferential: an upgrade an HTTP/2 server cannot take
// (it did not offer extended CONNECT) is refused as HAProxy refuses it:
// an HTTP/1 client gets a 502 logged SH and keeps its connection for the
// next request (HAProxy may close it when the server's connection error
// comes first); an HTTP/2 client's stream is reset with REFUSED_STREAM
// and nothing is logged.
func TestRefusedUpgradeDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startH2cServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	run := func(addr string, sink *logSink) []string {
		var out []string
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(c)
		for _, req := range []string{
			"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
		} {
			io.WriteString(c, req)
			rsp, err := http.ReadResponse(br, nil)
			if err != nil {
				out = append(out, "error "+err.Error())
				break
			}
			b, _ := io.ReadAll(rsp.Body)
			out = append(out, fmt.Sprintf("%d close=%v %q", rsp.StatusCode, rsp.Close, b), maskLog(sink.message(time.Second)))
		}
		for _, proto := range []string{"websocket", "foo"} {
			f := []string{":method", "CONNECT", ":scheme", "http", ":path", "/a", ":authority", "h", ":protocol", proto}
			out = append(out, h2RandExchange(t, addr, h2RandCase{fields: f}))
			out = append(out, maskLog(sink.message(300*time.Millisecond)))
		}
		return out
	}
	cfg := "global\n log %s local0\n" + baseDefaults + " log global\n option httplog\nfrontend fe\n bind %s\n default_backend b\nbackend b\n server s1 %s proto h2\n"
	sinkH, sinkG := newLogSink(t), newLogSink(t)
	feH, feG := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, sinkH.addr(), feH, up), feH)
	startGohap(t, fmt.Sprintf(cfg, sinkG.addr(), feG, up), nil)
	// The readiness probes' lines.
	sinkH.drain(300 * time.Millisecond)
	sinkG.drain(300 * time.Millisecond)
	h, g := run(feH, sinkH), run(feG, sinkG)
	if len(h) > 2 && strings.HasPrefix(h[2], "error") && len(g) > 3 && strings.HasPrefix(g[2], "200 ") {
		// HAProxy also closes the connection after the 502 when the
		// server's own error on its connection comes first (a race on
		// its side): then the next request is not compared.
		g = append(g[:2:2], h[2:]...)
	}
	for i := range h {
		if i >= len(g) || h[i] != g[i] {
			t.Errorf("haproxy:\n %s\ngohap:\n %s", strings.Join(h, "\n "), strings.Join(g, "\n "))
			break
		}
	}
}
