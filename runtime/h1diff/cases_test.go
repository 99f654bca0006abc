package h1diff

import (
	"fmt"
	"strings"
)

// h1case is one raw exchange: parts are written on one connection (a
// short pause between them), then secondRequest if the connection is
// still open.
type h1case struct {
	name      string
	parts     []string
	resp      string // raw upstream answer to the first request; "" gives okResponse
	respClose bool   // the upstream closes after resp
	variant   string // a key of variants; "" is the default configuration
	noSecond  bool
}

func (c *h1case) upResp() *upResponse {
	if c.resp == "" && !c.respClose {
		return nil
	}
	return &upResponse{raw: c.resp, close: c.respClose}
}

// variants are the global tune settings a case may run under.
var variants = map[string]string{
	"":           "",
	"buf4k":      "tune.bufsize 4096",
	"rewrite4k":  "tune.maxrewrite 4096",
	"maxhdr10":   "tune.http.maxhdr 10",
	"anypayload": "h1-accept-payload-with-any-method",
}

// r joins lines with CRLF and ends the head.
func r(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

// get is an ordinary GET with extra header lines.
func get(path string, hdrs ...string) string {
	return r(append([]string{"GET " + path + " HTTP/1.1", "Host: x"}, hdrs...)...)
}

// post is a POST head with the given framing headers and a raw body.
func post(body string, hdrs ...string) string {
	return r(append([]string{"POST /p HTTP/1.1", "Host: x"}, hdrs...)...) + body
}

// chunked is a POST with Transfer-Encoding: chunked and a raw body.
func chunked(body string) string { return post(body, "Transfer-Encoding: chunked") }

// sized is a GET whose head is exactly total bytes long, padded in one
// X-Big header.
func sized(total int) string {
	base := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \r\n\r\n"
	return strings.Replace(base, "X-Big: ", "X-Big: "+strings.Repeat("a", total-len(base)), 1)
}

// longURI is a GET whose head is exactly total bytes, padded in the path.
func longURI(total int) string {
	base := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	return strings.Replace(base, "GET /", "GET /"+strings.Repeat("u", total-len(base)), 1)
}

// manyHeaders is a GET with n header lines in all, Host included.
func manyHeaders(n int) string {
	lines := []string{"GET / HTTP/1.1", "Host: x"}
	for i := 1; i < n; i++ {
		lines = append(lines, fmt.Sprintf("X-H%d: v", i))
	}
	return r(lines...)
}

// resp builds a case answered by a raw upstream response.
func resp(name, request, raw string, closeAfter bool) h1case {
	return h1case{name: name, parts: []string{request}, resp: raw, respClose: closeAfter}
}

func one(name, raw string) h1case { return h1case{name: name, parts: []string{raw}} }

func split(name string, parts ...string) h1case { return h1case{name: name, parts: parts} }

func variant(v, name, raw string) h1case {
	return h1case{name: name, parts: []string{raw}, variant: v}
}

// smuggle is the request of the issue: a bare LF inside a chunk
// extension, after which a lenient reader sees a second request.
const smuggle = "POST /public HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
	"2;\nxx\r\n2C\r\n0\r\n\r\nGET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"

func allCases() []h1case {
	cs := []h1case{
		// Request line.
		one("rl-basic", get("/")),
		one("rl-method-lower", r("get / HTTP/1.1", "Host: x")),
		one("rl-method-custom", r("FOO / HTTP/1.1", "Host: x")),
		one("rl-method-tchars", r("M!#$%&'*+-.^_`|~ / HTTP/1.1", "Host: x")),
		one("rl-method-paren", r("G(ET / HTTP/1.1", "Host: x")),
		one("rl-method-at", r("G@T / HTTP/1.1", "Host: x")),
		one("rl-method-highbit", r("G\xc3\x89T / HTTP/1.1", "Host: x")),
		one("rl-method-empty", r(" / HTTP/1.1", "Host: x")),
		one("rl-method-nul", r("G\x00T / HTTP/1.1", "Host: x")),
		one("rl-absolute", r("GET http://x/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-host-differs", r("GET http://y/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-no-host", r("GET http://x/abs HTTP/1.1")),
		one("rl-absolute-port", r("GET http://x:80/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-port-differs", r("GET http://x:81/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-https", r("GET https://x/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-userinfo", r("GET http://u@x/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-empty-path", r("GET http://x HTTP/1.1", "Host: x")),
		one("rl-absolute-query-only", r("GET http://x?q=1 HTTP/1.1", "Host: x")),
		one("rl-absolute-upper", r("GET HTTP://X/abs HTTP/1.1", "Host: x")),
		one("rl-absolute-other-scheme", r("GET ftp://x/abs HTTP/1.1", "Host: x")),
		one("rl-authority-get", r("GET x:80 HTTP/1.1", "Host: x:80")),
		one("rl-connect", r("CONNECT x:443 HTTP/1.1", "Host: x:443")),
		one("rl-connect-host-differs", r("CONNECT y:443 HTTP/1.1", "Host: x:443")),
		one("rl-connect-no-host", r("CONNECT x:443 HTTP/1.1")),
		one("rl-connect-path", r("CONNECT /p HTTP/1.1", "Host: x")),
		one("rl-connect-no-port", r("CONNECT x HTTP/1.1", "Host: x")),
		one("rl-asterisk-options", r("OPTIONS * HTTP/1.1", "Host: x")),
		one("rl-asterisk-get", r("GET * HTTP/1.1", "Host: x")),
		one("rl-fragment", r("GET /a#frag HTTP/1.1", "Host: x")),
		one("rl-fragment-absolute", r("GET http://x/a#frag HTTP/1.1", "Host: x")),
		one("rl-path-no-slash", r("GET a/b HTTP/1.1", "Host: x")),
		one("rl-query-only", r("GET ?q=1 HTTP/1.1", "Host: x")),
		one("rl-percent-bad", r("GET /%zz HTTP/1.1", "Host: x")),
		one("rl-uri-highbit", r("GET /\xff HTTP/1.1", "Host: x")),
		one("rl-uri-highbit-no-host", r("GET /\xff HTTP/1.1")),
		one("rl-uri-highbit-http10", r("GET /\xff HTTP/1.0")),
		one("rl-uri-ctl", r("GET /a\x01b HTTP/1.1", "Host: x")),
		one("rl-uri-del", r("GET /a\x7fb HTTP/1.1", "Host: x")),
		one("rl-uri-nul", r("GET /a\x00b HTTP/1.1", "Host: x")),
		one("rl-uri-bare-cr", r("GET /a\rb HTTP/1.1", "Host: x")),
		one("rl-uri-space", r("GET /a b HTTP/1.1", "Host: x")),
		one("rl-uri-quote-brace", r("GET /a\"{}|\\^` HTTP/1.1", "Host: x")),
		one("rl-http09", "GET /\r\n"),
		one("rl-http09-lf", "GET /\n"),
		one("rl-http10", r("GET / HTTP/1.0")),
		one("rl-http10-host", r("GET / HTTP/1.0", "Host: x")),
		one("rl-http10-keepalive", r("GET / HTTP/1.0", "Host: x", "Connection: keep-alive")),
		// An HTTP/1.0 GET, HEAD or DELETE with a body: 413 unless
		// h1-accept-payload-with-any-method.
		one("http10-get-cl", r("GET / HTTP/1.0", "Content-Length: 3")+"abc"),
		one("http10-get-cl0", r("GET / HTTP/1.0", "Content-Length: 0")),
		one("http10-head-chunked", r("HEAD / HTTP/1.0", "Transfer-Encoding: chunked")+"0\r\n\r\n"),
		one("http10-delete-cl", r("DELETE / HTTP/1.0", "Content-Length: 2")+"ab"),
		one("http10-get-te-gzip-chunked", r("GET / HTTP/1.0", "Transfer-Encoding: gzip, chunked")+"0\r\n\r\n"),
		one("http10-post-cl", r("POST / HTTP/1.0", "Content-Length: 3")+"abc"),
		one("http11-get-cl", r("GET / HTTP/1.1", "Host: x", "Content-Length: 3")+"abc"),
		h1case{name: "anypayload-http10-get-cl", parts: []string{r("GET / HTTP/1.0", "Content-Length: 3") + "abc"}, variant: "anypayload"},
		h1case{name: "anypayload-http10-get-te-gzip-chunked", parts: []string{r("GET / HTTP/1.0", "Transfer-Encoding: gzip, chunked") + "0\r\n\r\n"}, variant: "anypayload"},
		one("rl-http12", r("GET / HTTP/1.2", "Host: x")),
		one("rl-http20", r("GET / HTTP/2.0", "Host: x")),
		one("rl-http-lower", r("GET / http/1.1", "Host: x")),
		one("rl-http-1", r("GET / HTTP/1", "Host: x")),
		one("rl-http-1-10", r("GET / HTTP/1.10", "Host: x")),
		one("rl-http-01-1", r("GET / HTTP/01.1", "Host: x")),
		one("rl-http-junk", r("GET / HTTQ/1.1", "Host: x")),
		one("rl-double-space-1", r("GET  / HTTP/1.1", "Host: x")),
		one("rl-double-space-2", r("GET /  HTTP/1.1", "Host: x")),
		one("rl-tab-separators", r("GET\t/\tHTTP/1.1", "Host: x")),
		one("rl-trailing-space", r("GET / HTTP/1.1 ", "Host: x")),
		one("rl-leading-space", r(" GET / HTTP/1.1", "Host: x")),
		one("rl-leading-crlf", "\r\n"+get("/")),
		one("rl-leading-lf", "\n"+get("/")),
		one("rl-bare-lf-end", "GET / HTTP/1.1\nHost: x\r\n\r\n"),
		one("rl-bare-cr-end", "GET / HTTP/1.1\rHost: x\r\n\r\n"),
		one("rl-all-lf", "GET / HTTP/1.1\nHost: x\n\n"),
		one("rl-h2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
		one("rl-pri-http11", r("PRI * HTTP/1.1", "Host: x")),

		// Found by FuzzH1Diff.
		one("fz-one-field-line", "0\r\n\r\x01\r\n"),
		one("fz-chunk-as-request", "5\r\nhello\r\n0\r\n\r\n"),
		one("fz-two-field-line", r("POSTST /HTTP/1.1", "Host: x")),
		one("fz-nul-uri-partial", "POST \x00\x00"),
		one("fz-nul-value-lf", "0 0 HTTP/1.0\nt:k\x00\n\n"),
		one("fz-space-alone", " "),
		one("fz-paren-alone", "("),
		one("fz-scheme-no-slashes", r("GET http:2/x HTTP/1.1", "Host: x")),
		one("fz-path-no-slash-no-host", r("GET a/b HTTP/1.1")),
		one("fz-path-no-slash-host-equal", r("GET x/b HTTP/1.1", "Host: x")),
		one("fz-uri-highbit-no-slash", r("GET h\x90bs HTTP/1.1")),
		one("fz-expect-http10-partial", "POST /p HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nh"),
		one("fz-expect-ctl-http10-partial", "POST /p HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-con\x10inue\r\n\r\nh"),
		one("fz-chunk-size-bare-lf-smuggle", chunked(strings.Repeat("1\r\nz\r\n", 3)+"14\nz\r\n"+strings.Repeat("1\r\nz\r\n", 5)+"0\r\n\r\n")),
		one("fz-path-letter-http10", r("GET C HTTP/1.0", "Host: x")),
		one("fz-absolute-empty-port", r("GET http://x:/abs HTTP/1.1", "Host: x")),
		one("fz-host-ctl-absolute", "GET http://x HTTP/1.1\r\nHost:\x1dx\r\n\r\n"),
		one("fz-host-nul-pipelined", "GET /1 HTTP/1.1\r\nHost:\x00\x04\r\n\r\n"+get("/2")),
		one("fz-host-ff-lf-partial", "POST /p HTTP/1.1\r\nHost: x\f\nContent-Length:   5  \r\n\r\nh"),
		one("fz-te-unknown-then-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chuxked", "Transfer-Encoding: chunked")),
		one("fz-te-list-unknown-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: foo, chunked")),
		one("fz-te-highbit-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: ch\xffnked, chunked")),
		one("fz-version-h-lf", "GET / H\n"),
		one("fz-version-partial-cr", "GET / TTP/1.0\r"),
		one("fz-version-lower-partial", "GET / htt"),
		one("fz-version-p-partial", "GET / p/9999"),
		one("fz-version-digit-lower-partial", "0 0 0a"),
		one("fz-version-digits-lf", "0000 00 0\n"),
		one("fz-uri-highbit-partial", "GET \x87\x87/a"),
		one("fz-absolute-empty-host-port", "GET p://:/s HTTP/1.1\n\n"),
		one("fz-del-uri-lf-end", "GET /abs\x7f\x7f HTTP/1.1\r\n\n\rs"),
		one("fz-host-ctl-lf-cl-partial", "POST /p HTTP/1.1\r\nHost: x\x03\nContent-Length: 3\r\n\r\nh"),
		one("fz-del-partial", "GET \x7f"),
		one("fz-highbit-uri-lf-end", "GET /\x8bbs HTTP/1.1\r\n\n"),
		one("fz-trailer-highbit-name", chunked("5\r\nhello\r\n0\r\n\xff\xffT: a\r\n\r\n")),
		one("fz-trailer-highbit-name-nul", chunked("5\r\nhello\r\n0\r\n\xff\xffT: a\x00b\r\n\r\n")),
		one("fz-del-uri-bad-te", "GET /\x7f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ch\xffnked, chunked\r\n\r\n"),
		one("fz-trailer-cl-dot", chunked("5\r\nhello\r\n0\r\nContent-Length:.5\r\n\r\n")),
		one("fz-trailer-highbit-inside", chunked("5\r\nhello\r\n0\r\nX-TR\xb2ILER: A\r\n\r\n")),
		one("fz-host-ctl-chunked", "POST /p HTTP/1.1\r\nHost: \xb2\x03\xa8*\x1f~iJx\r\nTransfer-Encoding: chunked\r\n\r\n"),

		// Host.
		one("host-ctl", r("GET / HTTP/1.1", "Host: x\x03y")),
		one("host-highbit", r("GET / HTTP/1.1", "Host: x\xb2y")),
		one("host-del", r("GET / HTTP/1.1", "Host: x\x7fy")),
		one("host-absent", r("GET / HTTP/1.1")),
		one("host-two-same", get("/", "Host: x")),
		one("host-two-differ", get("/", "Host: y")),
		one("host-empty", r("GET / HTTP/1.1", "Host:")),
		one("host-empty-http10", r("GET / HTTP/1.0", "Host:")),
		one("host-port", r("GET / HTTP/1.1", "Host: x:8080")),
		one("host-slash", r("GET / HTTP/1.1", "Host: x/y")),
		one("host-space", r("GET / HTTP/1.1", "Host: x y")),
		one("host-comma", r("GET / HTTP/1.1", "Host: x, y")),
		one("host-upper-abs", r("GET http://X/abs HTTP/1.1", "Host: x")),
		one("host-abs-empty-host", r("GET http:///abs HTTP/1.1", "Host: x")),

		// Header syntax.
		one("hdr-obs-fold", get("/", "X-Fold: one", " two")),
		one("hdr-obs-fold-tab", get("/", "X-Fold: one", "\ttwo")),
		one("hdr-obs-fold-first", r("GET / HTTP/1.1", " X-Fold: one", "Host: x")),
		one("hdr-obs-fold-host", r("GET / HTTP/1.1", "Host:", " x")),
		one("hdr-space-before-colon", get("/", "X-A : v")),
		one("hdr-tab-before-colon", get("/", "X-A\t: v")),
		one("hdr-no-colon", get("/", "X-A v")),
		one("hdr-empty-name", get("/", ": v")),
		one("hdr-name-space", get("/", "X A: v")),
		one("hdr-name-paren", get("/", "X(A): v")),
		one("hdr-name-at", get("/", "X@A: v")),
		one("hdr-name-highbit", get("/", "X\xc3\xa9: v")),
		one("hdr-name-nul", get("/", "X\x00A: v")),
		one("hdr-name-bare-cr", get("/", "X\rA: v")),
		one("hdr-value-nul", get("/", "X-A: a\x00b")),
		one("hdr-value-ctl", get("/", "X-A: a\x01b")),
		one("hdr-value-del", get("/", "X-A: a\x7fb")),
		one("hdr-value-highbit", get("/", "X-A: a\xffb")),
		one("hdr-value-vtab", get("/", "X-A: a\x0bb")),
		one("hdr-value-bare-cr", get("/", "X-A: a\rb")),
		one("hdr-value-bare-lf", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n"),
		one("hdr-bare-cr-end", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\r\n\r\n"),
		one("hdr-end-bare-lf", "GET / HTTP/1.1\r\nHost: x\r\n\n"),
		one("hdr-end-bare-cr", "GET / HTTP/1.1\r\nHost: x\r\n\r"),
		one("hdr-value-empty", get("/", "X-A:")),
		one("hdr-value-ows", get("/", "X-A: \t a \t ")),
		one("hdr-value-quoted", get("/", `X-A: "a\"b"`)),
		one("hdr-dup-names", get("/", "X-A: 1", "x-a: 2", "X-A: 3")),
		one("hdr-long-name", get("/", strings.Repeat("N", 2000)+": v")),

		// Content-Length.
		one("cl-basic", post("hello", "Content-Length: 5")),
		one("cl-zero", post("", "Content-Length: 0")),
		one("cl-plus", post("hello", "Content-Length: +5")),
		one("cl-minus", post("hello", "Content-Length: -5")),
		one("cl-leading-zero", post("hello", "Content-Length: 005")),
		one("cl-ows", post("hello", "Content-Length:   5  ")),
		one("cl-space-inside", post("hello", "Content-Length: 5 5")),
		one("cl-list-same", post("hello", "Content-Length: 5, 5")),
		one("cl-list-same-nospace", post("hello", "Content-Length: 5,5")),
		one("cl-list-differ", post("hello!", "Content-Length: 5, 6")),
		one("cl-list-empty-elem", post("hello", "Content-Length: 5,")),
		one("cl-dup-same", post("hello", "Content-Length: 5", "Content-Length: 5")),
		one("cl-dup-differ", post("hello!", "Content-Length: 5", "Content-Length: 6")),
		one("cl-hex", post("hello", "Content-Length: 0x5")),
		one("cl-huge", post("hello", "Content-Length: 99999999999999999999")),
		one("cl-empty", post("hello", "Content-Length:")),
		one("cl-get-body", r("GET / HTTP/1.1", "Host: x", "Content-Length: 5")+"hello"),
		one("cl-short-body", post("hello", "Content-Length: 10")),
		one("cl-long-body", post("hello", "Content-Length: 3")),
		one("cl-body-then-request", post("hello", "Content-Length: 5")+get("/next")),
		one("cl-underscore", post("hello", "Content_Length: 5")),
		one("cl-tab", post("hello", "Content-Length:\t5")),

		// Transfer-Encoding.
		one("te-chunked", chunked("5\r\nhello\r\n0\r\n\r\n")),
		one("te-chunked-cl", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked", "Content-Length: 3")),
		one("te-cl-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Content-Length: 3", "Transfer-Encoding: chunked")),
		one("te-gzip-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: gzip, chunked")),
		one("te-chunked-gzip", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked, gzip")),
		one("te-identity", post("hello", "Transfer-Encoding: identity", "Content-Length: 5")),
		one("te-identity-alone", post("hello", "Transfer-Encoding: identity")),
		one("te-gzip", post("hello", "Transfer-Encoding: gzip")),
		one("te-chunked-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked, chunked")),
		one("te-two-headers", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked")),
		one("te-upper", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: CHUNKED")),
		one("te-ows", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding:   chunked  ")),
		one("te-http10", r("POST /p HTTP/1.0", "Host: x", "Transfer-Encoding: chunked")+"5\r\nhello\r\n0\r\n\r\n"),
		one("te-empty", post("hello", "Transfer-Encoding:", "Content-Length: 5")),
		one("te-trailing-comma", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked,")),
		one("te-vtab", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: \x0bchunked")),
		one("te-obs-fold", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding:", " chunked")),
		one("te-get", r("GET / HTTP/1.1", "Host: x", "Transfer-Encoding: chunked")+"5\r\nhello\r\n0\r\n\r\n"),
		one("te-xchunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: xchunked")),

		// Chunk sizes and extensions.
		one("ck-zero-padded", chunked("005\r\nhello\r\n0\r\n\r\n")),
		one("ck-upper-hex", chunked("A\r\nhelloworld\r\n0\r\n\r\n")),
		one("ck-lower-hex", chunked("a\r\nhelloworld\r\n0\r\n\r\n")),
		one("ck-0x", chunked("0x5\r\nhello\r\n0\r\n\r\n")),
		one("ck-overflow", chunked("10000000000000005\r\nhello\r\n0\r\n\r\n")),
		one("ck-huge", chunked("ffffffffffffffff\r\nhello\r\n0\r\n\r\n")),
		one("ck-space-before", chunked(" 5\r\nhello\r\n0\r\n\r\n")),
		one("ck-space-after", chunked("5 \r\nhello\r\n0\r\n\r\n")),
		one("ck-tab-after", chunked("5\t\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext", chunked("5;foo\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-val", chunked("5;foo=bar\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-quoted", chunked("5;foo=\"b a;r\"\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-ws", chunked("5 ; foo = bar\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-empty", chunked("5;\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-bare-lf", smuggle),
		one("ck-ext-bare-cr", chunked("5;a\rb\r\nhello\r\n0\r\n\r\n")),
		one("ck-ext-nul", chunked("5;a\x00b\r\nhello\r\n0\r\n\r\n")),
		one("ck-size-bare-lf", chunked("5\nhello\r\n0\r\n\r\n")),
		one("ck-size-bare-cr", chunked("5\rhello\r\n0\r\n\r\n")),
		one("ck-data-no-crlf", chunked("5\r\nhelloXX\r\n0\r\n\r\n")),
		one("ck-data-lf", chunked("5\r\nhello\n0\r\n\r\n")),
		one("ck-data-cr", chunked("5\r\nhello\r0\r\n\r\n")),
		one("ck-empty-size", chunked("\r\nhello\r\n0\r\n\r\n")),
		one("ck-negative", chunked("-5\r\nhello\r\n0\r\n\r\n")),
		one("ck-plus", chunked("+5\r\nhello\r\n0\r\n\r\n")),
		one("ck-nonhex", chunked("zz\r\nhello\r\n0\r\n\r\n")),
		one("ck-last-ext", chunked("5\r\nhello\r\n0;foo=bar\r\n\r\n")),
		one("ck-last-zero-padded", chunked("5\r\nhello\r\n000\r\n\r\n")),
		one("ck-last-bare-lf", chunked("5\r\nhello\r\n0\n\r\n")),
		one("ck-end-bare-lf", chunked("5\r\nhello\r\n0\r\n\n")),
		one("ck-two", chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")),
		one("ck-many-small", chunked(strings.Repeat("1\r\nz\r\n", 40)+"0\r\n\r\n")),
		one("ck-short-data", chunked("a\r\nhello")),
		one("ck-no-last", chunked("5\r\nhello\r\n")),
		one("ck-after-junk", chunked("5\r\nhello\r\n0\r\n\r\nXYZ")),
		one("ck-after-bare-lf", chunked("5\r\nhello\r\n0\r\n\r\n\n")),
		one("ck-after-crlf", chunked("5\r\nhello\r\n0\r\n\r\n\r\n")),
		split("ck-split-writes", chunked("5\r\nhe"), "llo\r\n", "6\r", "\n world\r\n0\r\n", "\r\n"),
		split("ck-split-size-line", chunked("5"), "\r\nhello\r\n0\r\n\r\n"),
		split("ck-split-data-crlf", chunked("5\r\nhello\r"), "\n0\r\n\r\n"),
		split("ck-split-trailer", chunked("5\r\nhello\r\n0\r\nX-T:"), " 1\r\n\r\n"),
		split("ck-split-ext-bare-lf", chunked("2;"), "\nxx\r\n2C\r\n0\r\n\r\nGET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"),
		split("ck-split-size-bare-lf", chunked("5"), "\nhello\r\n0\r\n\r\n"),
		split("ck-split-big", chunked("4e20\r\n"+strings.Repeat("b", 7000)), strings.Repeat("b", 7000), strings.Repeat("b", 6000)+"\r\n0\r\n\r\n"),
		split("ck-split-head-body", chunked(""), "5\r\nhello\r\n", "0\r\n\r\n"),
		split("ck-split-last-then-next", chunked("5\r\nhello\r\n0\r\n"), "\r\n"+get("/next")),
		split("cl-split-body", post("hello", "Content-Length: 10"), "world"),
		split("cl-split-body-next", post("hello", "Content-Length: 10"), "world"+get("/next")),
		split("expect-100-chunked-wait", post("", "Transfer-Encoding: chunked", "Expect: 100-continue"), "5\r\nhello\r\n0\r\n\r\n"),
		one("ck-trailer", chunked("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")),
		one("ck-trailers-many", chunked("5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\nx-t: 3\r\n\r\n")),
		one("ck-trailer-obs-fold", chunked("5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n")),
		one("ck-trailer-no-colon", chunked("5\r\nhello\r\n0\r\nX-T 1\r\n\r\n")),
		one("ck-trailer-bare-lf", chunked("5\r\nhello\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n")),
		one("ck-trailer-space-before-colon", chunked("5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n")),
		split("ck-trailer-space-before-colon-split", chunked("5\r\nhello\r\n0\r\n"), "X-T : 1\r\n\r\n"),
		one("ck-trailer-cl", chunked("5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n")),
		one("ck-trailer-nul", chunked("5\r\nhello\r\n0\r\nX-T: a\x00b\r\n\r\n")),
		one("ck-trailer-upper", chunked("5\r\nhello\r\n0\r\nX-TRAILER: A\r\n\r\n")),

		// Pipelining.
		one("pipe-two", get("/1")+get("/2")),
		one("pipe-three", get("/1")+get("/2")+get("/3")),
		one("pipe-post-get", post("hello", "Content-Length: 5")+get("/2")),
		one("pipe-chunked-get", chunked("5\r\nhello\r\n0\r\n\r\n")+get("/2")),
		one("pipe-close-first", get("/1", "Connection: close")+get("/2")),
		split("pipe-split-header", "GET /1 HTTP/1.1\r\nHo", "st: x\r\n", "\r\n"),
		split("pipe-split-crlf", "GET /1 HTTP/1.1\r\nHost: x\r", "\n\r", "\n"),

		// Expect and Connection.
		one("expect-100-cl", post("hello", "Content-Length: 5", "Expect: 100-continue")),
		split("expect-100-cl-wait", post("", "Content-Length: 5", "Expect: 100-continue"), "hello"),
		one("expect-100-chunked", post("5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked", "Expect: 100-continue")),
		one("expect-other", post("hello", "Content-Length: 5", "Expect: foo")),
		one("expect-100-http10", r("POST /p HTTP/1.0", "Host: x", "Content-Length: 5", "Expect: 100-continue")+"hello"),
		one("conn-close", get("/", "Connection: close")),
		one("conn-keepalive", get("/", "Connection: keep-alive")),
		one("conn-close-http10", r("GET / HTTP/1.0", "Host: x", "Connection: close")),
		one("conn-upgrade-ws", get("/", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")),
		one("conn-upgrade-h2c", get("/", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA")),
		one("conn-token", get("/", "Connection: X-Foo", "X-Foo: 1")),
		one("conn-close-upper", get("/", "Connection: CLOSE")),
		one("conn-list", get("/", "Connection: keep-alive, close")),

		// Size limits, default bufsize 16384, maxrewrite 1024, maxhdr 101.
		one("lim-head-15000", sized(15000)),
		one("lim-head-15272", sized(15272)),
		one("lim-head-15273", sized(15273)),
		one("lim-head-15274", sized(15274)),
		one("lim-head-15360", sized(15360)),
		one("lim-head-16384", sized(16384)),
		one("lim-head-17000", sized(17000)),
		one("lim-uri-15277", longURI(15277)),
		one("lim-uri-15278", longURI(15278)),
		one("lim-uri-16000", longURI(16000)),
		one("lim-hdrs-100", manyHeaders(100)),
		one("lim-hdrs-101", manyHeaders(101)),
		one("lim-hdrs-102", manyHeaders(102)),
		one("lim-chunk-big", chunked("7530\r\n"+strings.Repeat("b", 30000)+"\r\n0\r\n\r\n")),
		one("lim-cl-big", post(strings.Repeat("b", 40000), "Content-Length: 40000")),
		variant("buf4k", "buf4k-head-2900", sized(2900)),
		variant("buf4k", "buf4k-head-2985", sized(2985)),
		variant("buf4k", "buf4k-head-2986", sized(2986)),
		variant("buf4k", "buf4k-head-3000", sized(3000)),
		variant("buf4k", "buf4k-head-3072", sized(3072)),
		variant("buf4k", "buf4k-head-3100", sized(3100)),
		variant("buf4k", "buf4k-head-4096", sized(4096)),
		variant("buf4k", "buf4k-head-6000", sized(6000)),
		variant("buf4k", "buf4k-uri-2989", longURI(2989)),
		variant("buf4k", "buf4k-uri-2990", longURI(2990)),
		variant("buf4k", "buf4k-uri-3000", longURI(3000)),
		variant("buf4k", "buf4k-uri-3100", longURI(3100)),
		variant("buf4k", "buf4k-chunk-big", chunked("2710\r\n"+strings.Repeat("b", 10000)+"\r\n0\r\n\r\n")),
		variant("buf4k", "buf4k-trailer-big", chunked("5\r\nhello\r\n0\r\nX-T: "+strings.Repeat("t", 5000)+"\r\n\r\n")),
		variant("rewrite4k", "rewrite4k-head-12000", sized(12000)),
		variant("rewrite4k", "rewrite4k-head-12201", sized(12201)),
		variant("rewrite4k", "rewrite4k-head-12202", sized(12202)),
		variant("rewrite4k", "rewrite4k-head-12288", sized(12288)),
		variant("rewrite4k", "rewrite4k-head-12400", sized(12400)),
		variant("rewrite4k", "rewrite4k-head-15000", sized(15000)),
		variant("maxhdr10", "maxhdr10-hdrs-9", manyHeaders(9)),
		variant("maxhdr10", "maxhdr10-hdrs-10", manyHeaders(10)),
		variant("maxhdr10", "maxhdr10-hdrs-11", manyHeaders(11)),
		variant("maxhdr10", "maxhdr10-trailers-9", chunked("5\r\nhello\r\n0\r\n"+strings.Repeat("X-T: 1\r\n", 9)+"\r\n")),
		variant("maxhdr10", "maxhdr10-trailers-11", chunked("5\r\nhello\r\n0\r\n"+strings.Repeat("X-T: 1\r\n", 11)+"\r\n")),
	}

	// Responses from the upstream.
	const ok2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	cs = append(cs,
		resp("resp-te-cl", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false),
		resp("resp-te-gzip", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz", true),
		resp("resp-te-chunked-gzip", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz", true),
		resp("resp-te-gzip-chunked", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false),
		resp("resp-te-upper", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n", false),
		resp("resp-status-4digit", get("/r"), "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-status-no-reason", get("/r"), "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-status-empty-reason", get("/r"), "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-status-999", get("/r"), "HTTP/1.1 999 X\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-status-099", get("/r"), "HTTP/1.1 099 X\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-status-alpha", get("/r"), "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-version-10", get("/r"), "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-version-20", get("/r"), "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-obs-fold", get("/r"), "HTTP/1.1 200 OK\r\nX-F: a\r\n b\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-chunked-ext", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;foo=bar\r\nok\r\n0\r\n\r\n", false),
		resp("resp-chunked-padded", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n002\r\nok\r\n0\r\n\r\n", false),
		resp("resp-chunked-trailers", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", false),
		resp("resp-chunked-trailer-fold", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n 2\r\n\r\n", false),
		resp("resp-chunked-lf", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\n0\n\n", false),
		resp("resp-chunked-bad-size", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", false),
		resp("resp-truncated-cl", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true),
		resp("resp-truncated-chunked", get("/r"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true),
		resp("resp-truncated-head", get("/r"), "HTTP/1.1 200 OK\r\nContent-Le", true),
		resp("resp-empty-close", get("/r"), "", true),
		resp("resp-no-length", get("/r"), "HTTP/1.1 200 OK\r\n\r\nuntil close", true),
		resp("resp-100-then-200", get("/r"), "HTTP/1.1 100 Continue\r\n\r\n"+ok2, false),
		resp("resp-103-then-200", get("/r"), "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+ok2, false),
		resp("resp-head-cl", r("HEAD / HTTP/1.1", "Host: x"), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false),
		resp("resp-head-chunked", r("HEAD / HTTP/1.1", "Host: x"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false),
		resp("resp-head-with-body", r("HEAD / HTTP/1.1", "Host: x"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-204-body", get("/r"), "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", false),
		resp("resp-204-chunked", get("/r"), "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false),
		resp("resp-304-body", get("/r"), "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello", false),
		resp("resp-cl-dup-differ", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", false),
		resp("resp-cl-list-same", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", false),
		resp("resp-cl-negative", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok", true),
		resp("resp-bare-lf", get("/r"), "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false),
		resp("resp-bare-cr", get("/r"), "HTTP/1.1 200 OK\rX-A: b\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-hdr-no-colon", get("/r"), "HTTP/1.1 200 OK\r\nX-A b\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-hdr-space-colon", get("/r"), "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-hdr-nul", get("/r"), "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-101-no-upgrade", get("/r"), "HTTP/1.1 101 Switching Protocols\r\n\r\nraw", true),
		resp("resp-big-header", get("/r"), "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("h", 20000)+"\r\nContent-Length: 2\r\n\r\nok", false),
		resp("resp-conn-close", get("/r"), "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true),
		h1case{name: "buf4k-resp-header-3000", parts: []string{get("/r")}, variant: "buf4k",
			resp: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("h", 3000) + "\r\nContent-Length: 2\r\n\r\nok"},
		h1case{name: "buf4k-resp-header-6000", parts: []string{get("/r")}, variant: "buf4k",
			resp: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("h", 6000) + "\r\nContent-Length: 2\r\n\r\nok"},
		h1case{name: "maxhdr10-resp-11", parts: []string{get("/r")}, variant: "maxhdr10",
			resp: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-R: 1\r\n", 10) + "Content-Length: 2\r\n\r\nok"},
		resp("resp-extra-after-body", get("/r"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false),
	)
	return cs
}
