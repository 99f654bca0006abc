package runtime_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// drawH1Request draws an HTTP/1 request: request lines in every form,
// framing headers alone, repeated and malformed, odd header lines, and
// bodies that match their framing or not.
func drawH1Request(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(pick(r, []string{"GET", "GET", "POST", "POST", "HEAD", "PUT", "OPTIONS", "CONNECT", "get", "G(T", "DELETE"}))
	b.WriteString(pick(r, []string{" ", " ", " ", "  ", "\t"}))
	b.WriteString(pick(r, []string{"/", "/", "/a?b=c", "*", "http://h/p", "https://h:443/p", "h:443", "/a#f", "/a b", "//x", "/%2e%2e/", "/\xff", "http://u@h/", "http://h:80/x"}))
	b.WriteString(pick(r, []string{" HTTP/1.1", " HTTP/1.1", " HTTP/1.1", " HTTP/1.0", " HTTP/1.2", " http/1.1", "", " HTTP/2.0"}))
	b.WriteString(pick(r, []string{"\r\n", "\r\n", "\r\n", "\n"}))
	if r.Intn(10) != 0 {
		b.WriteString(pick(r, []string{"Host: h\r\n", "Host: h\r\n", "host:h\r\n", "Host: h:80\r\n", "Host: \r\n", "Host: h\r\nHost: h\r\n", "Host: a b\r\n", "Host: h\r\nHost: g\r\n"}))
	}
	lines := []string{
		"Content-Length: 5\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n", "Content-Length: 5, 5\r\n",
		"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: +5\r\n", "Content-Length: 5 \r\n", "Content-Length:\r\n",
		"Content-Length: -1\r\n", "Content-Length: 99999999999999999999\r\n",
		"Transfer-Encoding: chunked\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip, chunked\r\n",
		"Transfer-Encoding: chunked, gzip\r\n", "Transfer-Encoding: identity\r\n", "Transfer-Encoding: xchunked\r\n",
		"Transfer-Encoding : chunked\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"Connection: close\r\n", "Connection: keep-alive\r\n", "Connection: upgrade\r\nUpgrade: foo\r\n",
		"Expect: 100-continue\r\n", "X-A: 1\r\n", "X-A:\r\n", "X-A: a\r\n b\r\n", " X-A: 1\r\n", "X A: 1\r\n",
		"X-A: a\x00b\r\n", ": empty\r\n", "X-A:\t1\t\r\n", "Cookie: a=1\r\nCookie: b=2\r\n", "TE: trailers\r\n",
		"Proxy-Connection: close\r\n", "Keep-Alive: 5\r\n", "X-\xff: 1\r\n", "X-A: \xff\r\n",
	}
	for n := r.Intn(5); n > 0; n-- {
		b.WriteString(pick(r, lines))
	}
	b.WriteString("\r\n")
	b.WriteString(pick(r, []string{"", "", "hello", "5\r\nhello\r\n0\r\n\r\n", "0\r\n\r\n", "5\r\nhel", "zz\r\n", "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", "hellohello", "5;ext\r\nhello\r\n0\r\n\r\n"}))
	return b.String()
}

// TestH1RandomDifferential sends drawn HTTP/1 requests (H1RAND_SEED,
// H1RAND_N: seed 1, 80 by default) on new connections to HAProxy and
// to gohap, each with an upstream that records what it is sent and
// answers one of the drawn answers: the heads the clients get and what
// the servers read must be the same.
func TestH1RandomDifferential(t *testing.T) {
	seed, n := randDraw("H1RAND", 80)
	for _, v := range randRuleVariants() {
		rules, name := v[0], v[1]
		t.Run(name, func(t *testing.T) {
			p := startH2Pair(t, rules)
			r := rand.New(rand.NewSource(seed))
			for i := 0; i < n; i++ {
				req := drawH1Request(r)
				answer := r.Intn(len(h2RandAnswers))
				p.h1(t, fmt.Sprintf("case %d, answer %d: %q", i, answer, req), req, answer)
			}
			t.Logf("seed %d: %d of %d cases agree", seed, p.all-p.diffs, p.all)
		})
	}
}
