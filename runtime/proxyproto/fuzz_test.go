package proxyproto

import (
	"bytes"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or claim more bytes
// than it was given, and that accepted addresses survive a rebuild.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		h, n, err := Parse(b)
		if !bytes.Equal(in, b) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n = %d", err, n)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		if !h.Src.IsValid() {
			return
		}
		var out []byte
		if h.Version == 1 {
			out = AppendV1(nil, h.Src, h.Dst)
		} else {
			out = AppendV2(nil, &V2{Src: h.Src, Dst: h.Dst})
		}
		h2, n2, err := Parse(out)
		if err != nil || n2 != len(out) || h2.Src != h.Src || h2.Dst != h.Dst {
			t.Fatalf("rebuilt %q parses as %v %v -> %v (%v)", out, err, h2.Src, h2.Dst, h.Src)
		}
	})
}

// FuzzParseCIP checks that no input makes ParseCIP panic or claim more
// bytes than it was given, and that accepted headers give addresses of
// the IP version they announce.
func FuzzParseCIP(f *testing.F) {
	for _, c := range cipCases {
		f.Add(c.in, c.magic)
	}
	f.Fuzz(func(t *testing.T, b []byte, magic uint32) {
		in := bytes.Clone(b)
		src, dst, n, err := ParseCIP(b, magic)
		if !bytes.Equal(in, b) {
			t.Fatal("ParseCIP modified its input")
		}
		if err != nil {
			if n != 0 || src.IsValid() || dst.IsValid() {
				t.Fatalf("error %v with n = %d, %v %v", err, n, src, dst)
			}
			return
		}
		if n < 8 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		if src.Addr().Is4() != dst.Addr().Is4() {
			t.Fatalf("mixed families %v %v", src, dst)
		}
	})
}
