package runtime_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestH2LimitsAndEditsDifferential holds HTTP/2 requests at HAProxy's
// limits, and heads that rules edit, to HAProxy's answers: HTTP/2 allows
// twice tune.http.maxhdr fields (less the list's end mark) where HTTP/1
// allows maxhdr, a name longer than 255 bytes resets the stream, what
// the h2 layer let through is not judged again by the HTTP/1 parser
// (bytes above 0x7f in the path, blanks around values, under "option
// accept-invalid-http-request" too), headers that rules add go before
// the chunking HAProxy's H1 side adds, an edited head has no header
// count limit (rules may add beyond maxhdr) nor a second check of its
// target, and a Host that rules set gives its authority to the target.
func TestH2LimitsAndEditsDifferential(t *testing.T) {
	many := func(n int, v string) []string {
		var f []string
		for i := 0; i < n; i++ {
			f = append(f, fmt.Sprintf("x-h%d", i), v)
		}
		return f
	}
	req := func(path string, kv ...string) []string {
		return append([]string{":method", "GET", ":scheme", "http", ":path", path, ":authority", "e"}, kv...)
	}
	post := []string{":method", "POST", ":scheme", "http", ":path", "/", ":authority", "e", "x-a", " v "}
	long := strings.Repeat("n", 300)
	h2Cases := []struct {
		name string
		c    h2RandCase
	}{
		{"99 fields", h2RandCase{fields: req("/", many(99, "a")...), es: true}},
		{"110 fields, blanks", h2RandCase{fields: req("/", many(110, "a ")...), es: true}},
		{"150 fields, blanks", h2RandCase{fields: req("/", many(150, " a")...), es: true}},
		{"201 fields", h2RandCase{fields: req("/", many(197, "a")...), es: true}},
		{"202 fields", h2RandCase{fields: req("/", many(198, "a")...), es: true}},
		{"256-byte name", h2RandCase{fields: req("/", strings.Repeat("n", 255), "v"), es: true}},
		{"300-byte name", h2RandCase{fields: req("/", long, " v "), es: true}},
		{"300-byte name, high path", h2RandCase{fields: req("/\xe9", long, " v "), es: true}},
		{"high path, blanks", h2RandCase{fields: req("/\xe9", "x-a", " v "), es: true}},
		{"high path, 110 fields", h2RandCase{fields: req("/\xe9", many(110, "b ")...), es: true}},
		{"high value", h2RandCase{fields: req("/", "x-a", "\xe9 \x01")}},
		{"post without length", h2RandCase{fields: post, data: []int{3}, dataES: true}},
		{"post with length", h2RandCase{fields: append(post, "content-length", "3"), data: []int{3}, dataES: true}},
		{"websocket", h2RandCase{fields: []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/", ":authority", "e", "sec-websocket-version", "13"}}},
		{"150 trailer fields", h2RandCase{fields: req("/"), data: []int{3}, trailers: many(150, "v")}},
		{"big value", h2RandCase{fields: req("/", "x-a", strings.Repeat("v", 14000)), es: true}},
		{"five big values", h2RandCase{fields: req("/", many(5, strings.Repeat("v", 3000))...), es: true}},
		{"other scheme", h2RandCase{fields: []string{":method", "GET", ":scheme", "foo", ":path", "/a", ":authority", "u@e"}, es: true}},
		{"asterisk, no authority", h2RandCase{fields: req("*")[:6], es: true}},
		{"asterisk, empty authority", h2RandCase{fields: append(req("*")[:6], ":authority", ""), es: true}},
	}
	var h1hdrs strings.Builder
	for i := 0; i < 99; i++ {
		fmt.Fprintf(&h1hdrs, "x-h%d: a\r\n", i)
	}
	h1Cases := []struct{ name, req string }{
		{"99 headers", "GET / HTTP/1.1\r\nhost: e\r\n" + h1hdrs.String() + "\r\n"},
		{"1.0 keep-alive", "GET / HTTP/1.0\r\nhost: e\r\nconnection: keep-alive\r\n\r\n"},
		{"chunked post", "POST / HTTP/1.1\r\nhost: e\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"chunked with length", "POST / HTTP/1.1\r\nhost: e\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"absolute", "GET http://u@e:80/a HTTP/1.1\r\nhost: e\r\n\r\n"},
		{"connect", "CONNECT e:443 HTTP/1.1\r\nhost: e:443\r\n\r\n"},
	}
	for _, rules := range []string{
		"",
		" option accept-invalid-http-request",
		" option forwardfor",
		" http-request add-header x-b 2",
		" http-request set-header x-h0 z\n http-response add-header x-r 1",
		// A new Host rewrites a target's authority (its userinfo
		// stays); an empty one fails the rule (500). Fetches do not
		// see a Content-Length that came with a coding.
		" http-request set-header host x\n http-request set-header x-c %%[req.hdr(content-length)]",
		" http-request replace-header host (.*) y\\1",
	} {
		p := startH2Pair(t, rules)
		for _, c := range h2Cases {
			p.h2(t, rules+": "+c.name, c.c)
		}
		for _, c := range h1Cases {
			p.h1(t, rules+": "+c.name, c.req, 0)
		}
		t.Logf("%q: %d of %d agree", rules, p.all-p.diffs, p.all)
	}
}

// TestRewrittenStatusAndTargetDifferential: a rule that gives a bodiless
// answer (204, 304) a status with a body leaves it without one, sent
// chunked and empty to HTTP/1.1 clients as HAProxy's H1 side does; a
// target a rule sets gives its authority to Host (userinfo dropped,
// http_update_host), or fails the rewrite when it has none.
func TestRewrittenStatusAndTargetDifferential(t *testing.T) {
	p := startH2Pair(t, " http-response set-status 201 if { status 204 }\n http-response set-status 200 if { status 304 }\n"+
		" http-request set-uri %%[url,regsub(^/a,/b)]")
	for _, answer := range []int{3, 4} {
		for _, req := range []string{
			"GET /a HTTP/1.1\r\nhost: e\r\n\r\n",
			"GET http://u@e:80/a HTTP/1.1\r\nhost: e\r\n\r\n",
			"GET http:///a HTTP/1.1\r\nhost: e\r\n\r\n",
			"HEAD /a HTTP/1.1\r\nhost: e\r\n\r\n",
			"GET /a HTTP/1.0\r\nhost: e\r\n\r\n",
		} {
			p.h1(t, fmt.Sprintf("answer %d, %q", answer, req), req, answer)
		}
		for _, auth := range []string{"e", "u@e", ""} {
			p.h2(t, fmt.Sprintf("answer %d, HTTP/2 :authority %q", answer, auth), h2RandCase{
				fields: []string{":method", "GET", ":scheme", "http", ":path", "/a", ":authority", auth}, es: true, answer: answer})
		}
	}
	t.Logf("%d of %d agree", p.all-p.diffs, p.all)
}
