package parser

import (
	"strconv"
	"testing"
)

// strtol0 reads as C's strtol(s, &end, 0) does.
func TestStrtol0(t *testing.T) {
	for _, c := range []struct {
		in  string
		v   int64
		end int
	}{
		{"12", 12, 2}, {"-1", -1, 2}, {"+4", 4, 2}, {"0x1f", 31, 4}, {"0X1F", 31, 4}, {"017", 15, 3},
		{"019", 1, 2}, {"0xg", 0, 1}, {"12x", 12, 2}, {"-abc", 0, 0}, {"", 0, 0}, {" 7", 7, 2},
		{"99999999999999999999", 1<<63 - 1, 20}, {"-99999999999999999999", -1 << 63, 21},
		{"-9223372036854775808", -1 << 63, 20}, {"9223372036854775808", 1<<63 - 1, 19},
	} {
		v, end := strtol0(c.in)
		if v != c.v || end != c.end {
			t.Errorf("%q: %d %d, want %d %d", c.in, v, end, c.v, c.end)
		}
	}
}

// A word strtol0 reads whole within range is the number Go reads in base 0.
func FuzzStrtol0(f *testing.F) {
	for _, s := range []string{"0", "-1", "0x10", "010", "12x", "+", "0x", "-0x8000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, end := strtol0(s)
		if end < 0 || end > len(s) {
			t.Fatalf("%q: end %d", s, end)
		}
		if end != len(s) || end == 0 || s[0] == ' ' || s[0] < ' ' {
			return
		}
		w := s
		if len(w) > 1 && w[0] == '0' && w[1] >= '0' && w[1] <= '9' {
			w = "0o" + w[1:]
		} else if len(w) > 2 && (w[0] == '-' || w[0] == '+') && w[1] == '0' && w[2] >= '0' && w[2] <= '9' {
			w = w[:1] + "0o" + w[2:]
		}
		g, err := strconv.ParseInt(w, 0, 64)
		if err == nil && g != v {
			t.Fatalf("%q: %d, strconv %d", s, v, g)
		}
	})
}
