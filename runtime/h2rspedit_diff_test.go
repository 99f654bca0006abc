package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// TestH2ServerAnswerEditsDifferential: an HTTP/2 server's answer without
// a length goes to an HTTP/1 client chunked, and HAProxy's H1 side adds
// that chunking when the head ends: after the headers that response
// rules or a cookie insert added, after the connection header. The
// answer's head is not held to tune.http.maxhdr: HAProxy's HTTP/2 layer
// allows twice as many fields.
func TestH2ServerAnswerEditsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	addr := startH2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-U", "1")
		if r.URL.Path == "/many" {
			for i := 0; i < 120; i++ {
				w.Header().Set(fmt.Sprintf("X-M%d", i), "m")
			}
		}
		if r.URL.Path == "/len" {
			w.Header().Set("Content-Length", "3")
		}
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		io.WriteString(w, "abc")
	})
	all, agree := 0, 0
	for _, rules := range []string{
		"",
		" http-response add-header x-r 1",
		" http-response set-header x-u 2\n http-response add-header x-r 1",
		" cookie SRV insert",
		" http-response add-header x-r 1\n option http-server-close",
	} {
		cfg := baseDefaults + "listen l\n bind %s\n" + rules + "\n server s1 %s proto h2 cookie c1\n"
		hp, gp := freePort(t), freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, hp, addr), hp)
		startGohap(t, fmt.Sprintf(cfg, gp, addr), nil)
		for _, req := range []string{
			"GET / HTTP/1.1\r\nhost: e\r\naccept-encoding: gzip\r\n\r\n",
			"GET /len HTTP/1.1\r\nhost: e\r\n\r\n",
			"GET /many HTTP/1.1\r\nhost: e\r\n\r\n",
			"GET / HTTP/1.0\r\nhost: e\r\nconnection: keep-alive\r\n\r\n",
		} {
			all++
			hr, gr := h1Head(t, hp, req), h1Head(t, gp, req)
			if hr != gr {
				t.Errorf("%q, %q:\n haproxy: %s\n gohap:   %s", rules, req, hr, gr)
				continue
			}
			agree++
		}
	}
	t.Logf("%d of %d agree", agree, all)
}

// TestH2FieldCountsDifferential: how many fields a message may carry
// through HTTP/2 on either side, with HAProxy's default tune.http.maxhdr
// and a smaller one. A block received decodes into a list twice maxhdr
// long (more is a COMPRESSION_ERROR on the connection); a message sent
// may have maxhdr less one header fields (more resets the stream); a
// stream that gets no answer at all is refused (REFUSED_STREAM), which
// lets the client retry it.
func TestH2FieldCountsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	addr := startH2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/%d", &n)
		for i := 0; i < n; i++ {
			w.Header().Set(fmt.Sprintf("X-M%d", i), "m")
		}
		io.WriteString(w, "abc")
	})
	// A server answering an HTTP/1 request with as many fields as asked.
	h1up := startH2RandUpstream(t)
	all, agree := 0, 0
	for _, c := range []struct {
		global string
		counts []int
	}{
		{"", []int{97, 98, 99, 100, 120, 196, 197, 198, 199}},
		{"global\n tune.http.maxhdr 50\n", []int{46, 47, 48, 49, 60, 94, 95, 96, 97}},
	} {
		cfg := c.global + baseDefaults + "frontend fe\n bind %s proto h2\n use_backend h1 if { path_beg /h1 }\n default_backend h2\n" +
			"backend h2\n server s1 %s proto h2\nbackend h1\n server s1 %s\n"
		hp, gp := freePort(t), freePort(t)
		startHAProxy(t, fmt.Sprintf(cfg, hp, addr, h1up.addr), hp)
		startGohap(t, fmt.Sprintf(cfg, gp, addr, h1up.addr), nil)
		cut := func(s string) string {
			if len(s) > 120 {
				return s[:120] + "..."
			}
			return s
		}
		for _, n := range c.counts {
			for _, kind := range []string{"answer", "request"} {
				// The answer's count: the server adds content-type
				// and content-length to the n asked for.
				rc := h2RandCase{fields: []string{":method", "GET", ":scheme", "http", ":path", fmt.Sprintf("/%d", n), ":authority", "e"}, es: true}
				if kind == "request" {
					rc.fields[5] = "/h1"
					for i := 0; i < n; i++ {
						rc.fields = append(rc.fields, fmt.Sprintf("x-r%d", i), "r")
					}
				}
				all++
				hr, gr := h2RandExchange(t, hp, rc), h2RandExchange(t, gp, rc)
				h1up.take(0)
				if hr != gr {
					t.Errorf("%q, %s with %d fields:\n haproxy: %s\n gohap:   %s", c.global, kind, n, cut(hr), cut(gr))
					continue
				}
				agree++
			}
		}
	}
	t.Logf("%d of %d agree", agree, all)
}

// startH2cServer serves h over HTTP/2 with prior knowledge (h2c) and
// returns its address. Its answers carry no Date (two proxies' runs
// would differ) and a text/plain type, as Go would sniff it.
func startH2cServer(t *testing.T, h http.HandlerFunc) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header().Set("Content-Type", "text/plain")
		h(w, r)
	}), &http2.Server{})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestH2ToH2RequestsDifferential: an HTTP/2 request to an HTTP/2 server
// goes as HAProxy sends it: values with their blanks, bytes above 0x7f
// in the path, up to tune.http.maxhdr less one header fields; a request
// HTTP/2 cannot carry to the server (more fields) is refused to its
// client at once (REFUSED_STREAM), not left waiting for an answer.
func TestH2ToH2RequestsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	got := make(chan string, 1)
	addr := startH2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		var ks []string
		for k, v := range r.Header {
			ks = append(ks, fmt.Sprintf("%s=%q", k, v))
		}
		sort.Strings(ks)
		got <- fmt.Sprintf("%s %q %s %s", r.Method, r.RequestURI, r.Host, strings.Join(ks, " "))
	})
	cfg := baseDefaults + "listen l\n bind %s proto h2\n server s1 %s proto h2\n"
	hp, gp := freePort(t), freePort(t)
	startHAProxy(t, fmt.Sprintf(cfg, hp, addr), hp)
	startGohap(t, fmt.Sprintf(cfg, gp, addr), nil)
	req := func(path string, kv ...string) []string {
		return append([]string{":method", "GET", ":scheme", "http", ":path", path, ":authority", "e"}, kv...)
	}
	many := func(n int) []string {
		var f []string
		for i := 0; i < n; i++ {
			f = append(f, fmt.Sprintf("x-h%d", i), "a")
		}
		return f
	}
	// received is what the server got, or "" when nothing came.
	received := func() string {
		select {
		case s := <-got:
			return s
		case <-time.After(300 * time.Millisecond):
			return ""
		}
	}
	all, agree := 0, 0
	for _, c := range []struct {
		name   string
		fields []string
	}{
		{"high byte in path", req("/\xe9")},
		{"blanks around a value", req("/a", "x-a", " v ")},
		{"te trailers", req("/a", "te", "trailers")},
		{"98 fields", req("/a", many(98)...)},
		{"99 fields", req("/a", many(99)...)},
		{"150 fields", req("/a", many(150)...)},
	} {
		rc := h2RandCase{fields: c.fields, es: true}
		all++
		h := h2RandExchange(t, hp, rc)
		hs := received()
		g := h2RandExchange(t, gp, rc)
		gs := received()
		if h != g || hs != gs {
			t.Errorf("%s:\n haproxy: %s\n  server got %.300s\n gohap:   %s\n  server got %.300s", c.name, h, hs, g, gs)
			continue
		}
		agree++
	}
	t.Logf("%d of %d agree", agree, all)
}
