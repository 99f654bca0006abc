package runtime

import (
	"bytes"
	"testing"
)

func scanAll(b []byte, step int) (n int, done bool, err error) {
	var cs chunkScanner
	for off := 0; off < len(b); {
		end := min(off+step, len(b))
		k, d, e := cs.scan(b[off:end])
		n += k
		if e != nil || d {
			return n, d, e
		}
		off += k
	}
	return n, false, nil
}

func TestChunkScanner(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		done bool
		bad  bool
	}{
		{"5\r\nhello\r\n0\r\n\r\nNEXT", 15, true, false},
		{"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", 33, true, false},
		{"A\r\n0123456789\r\n0\r\n\r\n", 20, true, false},
		{"5 \r\nhello\r\n0\r\n\r\n", 16, true, false},
		{"5\nhello\n0\n\n", 11, true, false},
		{"zz\r\n", 0, false, true},
		{"5\r\nhelloX\r\n", 8, false, true},
		{"ffffffffffffffff0\r\n", 15, false, true},
		{"5\r\nhel", 6, false, false},
		{"\r\n", 0, false, true},
	}
	for _, c := range cases {
		for _, step := range []int{1, 2, 3, 7, 1 << 20} {
			n, done, err := scanAll([]byte(c.in), step)
			if n != c.n || done != c.done || (err != nil) != c.bad {
				t.Errorf("%q step %d: n=%d done=%v err=%v, want n=%d done=%v bad=%v", c.in, step, n, done, err, c.n, c.done, c.bad)
			}
		}
	}
}

// FuzzChunkScanner checks that the end of a chunked body is found at the
// same byte however the stream is split, which is what keeps both hops
// agreeing on message boundaries.
func FuzzChunkScanner(f *testing.F) {
	for _, s := range []string{"5\r\nhello\r\n0\r\n\r\n", "1;a=b\r\nx\r\n0\r\nT: 1\r\n\r\n", "ff\r\n", "0\n\n", "5\r\nhelloX"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		n1, d1, e1 := scanAll(data, len(data)+1)
		n2, d2, e2 := scanAll(data, int(step%16)+1)
		if n1 != n2 || d1 != d2 || (e1 != nil) != (e2 != nil) {
			t.Fatalf("split changes the result: %d %v %v vs %d %v %v", n1, d1, e1, n2, d2, e2)
		}
		if n1 > len(data) {
			t.Fatalf("consumed %d of %d", n1, len(data))
		}
		if d1 && !bytes.HasSuffix(data[:n1], []byte("\n")) {
			t.Fatalf("body ends without a line end: %q", data[:n1])
		}
	})
}
