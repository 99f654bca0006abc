package h1

import (
	"bytes"
	"strings"
	"testing"
)

// The byte loops the word-at-a-time helpers stand for.

func naiveLineStop(buf []byte, p int) int {
	for p < len(buf) && buf[p] != '\r' && buf[p] != '\n' {
		p++
	}
	return p
}

func naiveHasCtlCRLF(s string) bool { return strings.ContainsAny(s, "\x00\r\n") }

func naiveLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func checkWords(t *testing.T, b []byte) {
	for p := 0; p <= len(b); p++ {
		if got, want := LineStop(b, p), naiveLineStop(b, p); got != want {
			t.Fatalf("LineStop(%q, %d) = %d, want %d", b, p, got, want)
		}
	}
	if got, want := HasCtlCRLF(string(b)), naiveHasCtlCRLF(string(b)); got != want {
		t.Fatalf("HasCtlCRLF(%q) = %v, want %v", b, got, want)
	}
	low := naiveLower(b)
	if got := AppendLower([]byte("x"), b); !bytes.Equal(got[1:], low) || got[0] != 'x' {
		t.Fatalf("AppendLower(%q) = %q, want %q", b, got[1:], low)
	}
	if got := AppendLowerString(nil, string(b)); !bytes.Equal(got, low) {
		t.Fatalf("AppendLowerString(%q) = %q, want %q", b, got, low)
	}
	if !EqualFold(b, string(low)) {
		t.Fatalf("EqualFold(%q, %q) = false", b, low)
	}
	// Any other byte, in any place, makes them differ.
	for i := range low {
		for _, c := range []byte{low[i] ^ 0x20, low[i] ^ 0x80, low[i] + 1, 0} {
			if c == low[i] || c >= 'A' && c <= 'Z' {
				continue
			}
			other := append([]byte(nil), low...)
			other[i] = c
			if EqualFold(b, string(other)) {
				t.Fatalf("EqualFold(%q, %q) = true", b, other)
			}
		}
	}
}

func TestWords(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	cases := [][]byte{
		nil, []byte("a"), []byte("Content-Length"), []byte("X-Forwarded-For: 10.0.0.1\r\n"),
		[]byte("value with\rCR inside and more"), []byte("0123456\n89abcdef\r"),
		[]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x01\r"), []byte("@[`{ AZaz\x7f\xc1\xda\xdb"),
		all,
	}
	for _, b := range cases {
		checkWords(t, b)
	}
	// Every byte at every offset of a word, on a neutral background.
	for n := 1; n <= 17; n++ {
		for c := 0; c < 256; c++ {
			for i := 0; i < n; i++ {
				b := []byte(strings.Repeat("q", n))
				b[i] = byte(c)
				checkWords(t, b)
				b = []byte(strings.Repeat("Q", n))
				b[i] = byte(c)
				checkWords(t, b)
			}
		}
	}
}

func FuzzWords(f *testing.F) {
	f.Add([]byte("Transfer-Encoding: chunked\r\n"))
	f.Add([]byte("\r\r\n\n\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"))
	f.Fuzz(func(t *testing.T, b []byte) { checkWords(t, b) })
}

// BenchmarkAppendLower lowers the names of a usual answer into an output
// buffer, as they go to an HTTP/2 client or an HTTP/1 server.
func BenchmarkAppendLower(b *testing.B) {
	names := [][]byte{[]byte("Content-Type"), []byte("Content-Length"), []byte("Date"), []byte("Server"),
		[]byte("Cache-Control"), []byte("ETag"), []byte("Vary"), []byte("X-Request-Id")}
	out := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		out = out[:0]
		for _, n := range names {
			out = AppendLower(out, n)
		}
	}
}
