package comp

import (
	"strings"
	"testing"

	"github.com/gohap/gohap/runtime/h1"
)

// configs are the "compression" settings the cases use, named after the
// reg-test backends they come from.
var configs = map[string]*Config{
	// reg-tests/compression/basic.vtc be-gzip, etags_conversion.vtc
	"gzip-html-plain": {Algos: []Algo{Gzip}, Types: []string{"text/html", "text/plain"}},
	// vary.vtc be-gzip
	"gzip-plain": {Algos: []Algo{Gzip}, Types: []string{"text/plain"}},
	// basic.vtc be-identity
	"identity": {Algos: []Algo{Identity}},
	// basic.vtc be-gzip-defalte
	"gzip-deflate-offload": {Algos: []Algo{Gzip, Deflate}, Offload: true},
	// the differential test's frontends
	"diff":         {Algos: []Algo{Gzip, Deflate}, Types: []string{"text/plain"}},
	"diff-offload": {Algos: []Algo{Gzip, Deflate}, Types: []string{"text/plain"}, Offload: true},
}

// compCase is a request and the response to it. want is the algorithm
// the response is compressed with, None when it is not.
type compCase struct {
	name   string
	cfg    string
	req    string
	rsp    string
	want   Algo
	dropAE bool
	etag   string // expected ETag after the edits, when the case sets one
}

const (
	plain100 = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
	html100  = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n"
)

func get(hdrs string) string { return "GET / HTTP/1.1\r\nHost: x\r\n" + hdrs + "\r\n" }

func etagRsp(etag string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: " + etag + "\r\nContent-Length: 100\r\n\r\n"
}

// vtcCases are reg-tests/compression/basic.vtc, etags_conversion.vtc and
// vary.vtc, one row per request.
var vtcCases = []compCase{
	{name: "basic c1.1 no accept-encoding", cfg: "gzip-html-plain", req: get(""), rsp: plain100},
	{name: "basic c1.2 Mozilla/4", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\nUser-Agent: Mozilla/4\r\n"), rsp: plain100},
	{name: "basic c1.3 HTTP/1.0 request", cfg: "gzip-html-plain", req: "GET / HTTP/1.0\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n", rsp: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c1.4 HTTP/1.0 response", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c1.5 HEAD", cfg: "gzip-html-plain", req: "HEAD / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n", rsp: plain100},
	{name: "basic c1.6 status 400", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c1.7 already encoded", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: something\r\nContent-Length: 3\r\n\r\n"},
	{name: "basic c1.8 no-transform", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-transform\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c1.9 text/css", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c1.10 multipart", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=\"aaa\"\r\nContent-Length: 100\r\n\r\n"},
	{name: "basic c2.1 length", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: plain100, want: Gzip},
	{name: "basic c2.2 chunked", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n", want: Gzip},
	{name: "basic c3.1 identity", cfg: "identity", req: get(""), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 50000\r\n\r\n", want: Identity},
	{name: "basic c3.2 identity chunked", cfg: "identity", req: get(""), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n", want: Identity},
	{name: "basic c4.1 gzip preferred", cfg: "gzip-deflate-offload", req: get("Accept-Encoding: *;q=0, gzip;q=0.750, deflate;q=0.500\r\n"), rsp: plain100, want: Gzip, dropAE: true},
	{name: "basic c4.2 deflate preferred", cfg: "gzip-deflate-offload", req: get("Accept-Encoding: *;q=0, gzip;q=0.500, deflate;q=0.750\r\n"), rsp: plain100, want: Deflate, dropAE: true},
	{name: "etags strong", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`"123"`), want: Gzip, etag: `W/"123"`},
	{name: "etags weak", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`W/"456"`), want: Gzip, etag: `W/"456"`},
	{name: "etags weak incorrect quoting", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`"W/789"`), want: Gzip, etag: `W/"W/789"`},
	{name: "etags empty strong", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`""`), want: Gzip, etag: `W/""`},
	{name: "etags empty weak", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`W/""`), want: Gzip, etag: `W/""`},
	{name: "etags invalid1", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`"invalid`)},
	{name: "etags invalid2", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`invalid"`)},
	{name: "etags invalid3", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`invalid`)},
	{name: "etags invalid4", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`W/"invalid`)},
	{name: "etags invalid5", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`W/invalid"`)},
	{name: "etags invalid6", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: etagRsp(`W/invalid`)},
	{name: "etags multiple", cfg: "gzip-html-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"one\"\r\nETag: \"two\"\r\nContent-Length: 100\r\n\r\n"},
	{name: "vary plain gzip", cfg: "gzip-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: plain100, want: Gzip},
	{name: "vary plain invalid", cfg: "gzip-plain", req: get("Accept-Encoding: invalid\r\n"), rsp: plain100},
	{name: "vary plain null", cfg: "gzip-plain", req: get(""), rsp: plain100},
	{name: "vary html gzip", cfg: "gzip-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: html100},
	{name: "vary html invalid", cfg: "gzip-plain", req: get("Accept-Encoding: invalid\r\n"), rsp: html100},
	{name: "vary dup etag", cfg: "gzip-plain", req: get("Accept-Encoding: gzip\r\n"), rsp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"123\"\r\nETag: \"123\"\r\nContent-Length: 100\r\n\r\n"},
}

// parseHeads parses a case's request and response heads with runtime/h1.
func parseHeads(t testing.TB, req, rsp string) (Request, Response) {
	t.Helper()
	var qm, sm h1.Msg
	qb, sb := []byte(req), []byte(rsp)
	if err := h1.ParseRequest(qb, &qm, 100); err != nil {
		t.Fatalf("request %q: %v", req, err)
	}
	if err := h1.ParseResponse(sb, &sm, 100); err != nil {
		t.Fatalf("response %q: %v", rsp, err)
	}
	return RequestFromH1(qb, &qm), ResponseFromH1(sb, &sm)
}

// decide runs both decisions for a case.
func decide(t testing.TB, c compCase) (Algo, bool, Edits, bool) {
	cfg := configs[c.cfg]
	q, s := parseHeads(t, c.req, c.rsp)
	a, drop := cfg.SelectRequest(&q)
	e, ok := cfg.SelectResponse(a, &q, &s, Limits{})
	return a, drop, e, ok
}

func TestDecisions(t *testing.T) {
	for _, c := range append(vtcCases, diffCases...) {
		t.Run(c.name, func(t *testing.T) {
			a, drop, e, ok := decide(t, c)
			got := None
			if ok {
				got = a
			}
			if got != c.want {
				t.Fatalf("compressed with %v, want %v", got, c.want)
			}
			if drop != c.dropAE {
				t.Errorf("drop Accept-Encoding = %v, want %v", drop, c.dropAE)
			}
			if !ok {
				return
			}
			etag := ""
			for _, ed := range e.List() {
				if ed.Op == Prefix && ed.Name == "etag" {
					etag = ed.Value
				}
			}
			if c.etag != "" {
				_, s := parseHeads(t, c.req, c.rsp)
				orig := ""
				for _, h := range s.Headers {
					if strings.EqualFold(string(h.Name.Of(s.Buf)), "etag") {
						orig = string(h.Value.Of(s.Buf))
					}
				}
				if etag+orig != c.etag {
					t.Errorf("ETag becomes %q, want %q", etag+orig, c.etag)
				}
			}
		})
	}
}

func TestEdits(t *testing.T) {
	cfg := configs["gzip-html-plain"]
	q, s := parseHeads(t, get("Accept-Encoding: gzip\r\n"), etagRsp(`"1"`))
	a, _ := cfg.SelectRequest(&q)
	e, ok := cfg.SelectResponse(a, &q, &s, Limits{})
	want := []Edit{
		{Remove, "content-length", ""},
		{Add, "transfer-encoding", "chunked"},
		{Prefix, "etag", "W/"},
		{Add, "vary", "Accept-Encoding"},
		{Add, "content-encoding", "gzip"},
	}
	if !ok || len(e.List()) != len(want) {
		t.Fatalf("edits %v %+v", ok, e.List())
	}
	for i, w := range want {
		if e.List()[i] != w {
			t.Errorf("edit %d = %+v, want %+v", i, e.List()[i], w)
		}
	}
	for _, lim := range []Limits{{RateExceeded: true}, {CPUBusy: true}} {
		if _, ok := cfg.SelectResponse(a, &q, &s, lim); ok {
			t.Errorf("compressed under %+v", lim)
		}
	}
}

func TestAcceptEncoding(t *testing.T) {
	cfg := &Config{Algos: []Algo{Gzip, Deflate}}
	raw := &Config{Algos: []Algo{Deflate, RawDeflate}}
	for _, c := range []struct {
		cfg  *Config
		in   string
		want Algo
		q    int
	}{
		{cfg, "gzip", Gzip, 1000},
		{cfg, "GZip", Gzip, 1000},
		{cfg, "gzip ;  q=0.5", Gzip, 500},
		{cfg, "gzip;q=0", None, 0},
		{cfg, "gzip;q=0.0001", None, 0},
		{cfg, "gzip;q=0.001", Gzip, 1},
		{cfg, "gzip;q=1.5", Gzip, 1000},
		{cfg, "gzip;q=.5", Gzip, 1000},
		{cfg, "gzip;level=1;q=0.2", Gzip, 200},
		{cfg, "gzip;Q=0.2", Gzip, 1000},
		{cfg, "gzip;q", Gzip, 1000},
		{cfg, "deflate, gzip", Deflate, 1000},
		{cfg, "deflate;q=0.5, gzip;q=0.6", Gzip, 600},
		{cfg, "deflate;q=0.5,gzip;q=0.5", Deflate, 500},
		// "*" takes the last configured algorithm.
		{cfg, "*", Deflate, 1000},
		{cfg, "*;q=0.1, gzip;q=0.1", Deflate, 100},
		{cfg, "*foo", Deflate, 1000},
		{cfg, "x-gzip, br", None, 0},
		{cfg, "identity", None, 0},
		{cfg, "gzip x", Gzip, 1000},
		{cfg, `"gzip,deflate", gzip`, Gzip, 1000},
		{cfg, ",,, ,gzip", Gzip, 1000},
		{cfg, "", None, 0},
		// Both deflate algorithms answer "deflate": the last one wins.
		{raw, "deflate", RawDeflate, 1000},
		{&Config{Algos: []Algo{Identity, Gzip}}, "identity;q=0.5, gzip;q=0.4", Identity, 500},
	} {
		a, q := c.cfg.AcceptEncoding([]byte(c.in))
		if a != c.want || q != c.q {
			t.Errorf("AcceptEncoding(%q) = %v %d, want %v %d", c.in, a, q, c.want, c.q)
		}
	}
}

func TestMerge(t *testing.T) {
	fe := &Config{Algos: []Algo{Gzip}, Types: []string{"text/plain"}}
	be := &Config{Types: []string{"text/html"}, Offload: true}
	m := Merge(fe, be)
	if len(m.Algos) != 1 || m.Algos[0] != Gzip || len(m.Types) != 1 || m.Types[0] != "text/html" || !m.Offload {
		t.Errorf("Merge = %+v", m)
	}
	if m := Merge(nil, nil); m.Algos != nil || m.Offload {
		t.Errorf("Merge(nil, nil) = %+v", m)
	}
}

func TestParseAlgo(t *testing.T) {
	for _, w := range []string{"identity", "gzip", "deflate", "raw-deflate"} {
		if a, err := ParseAlgo(w); err != nil || a.String() != w {
			t.Errorf("ParseAlgo(%q) = %v, %v", w, a, err)
		}
	}
	if _, err := ParseAlgo("br"); err == nil || err.Error() != "'compression' : 'br' is not a supported algorithm." {
		t.Errorf("ParseAlgo(br) error %v", err)
	}
}
