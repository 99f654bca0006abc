package h1

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Eight bytes at a time: the scans and case folds of every header line,
// which a byte loop does in several instructions per byte.

const (
	ones = 0x0101010101010101
	lo7  = 0x7f7f7f7f7f7f7f7f
	high = 0x8080808080808080
)

// zeroBytes has the high bit set in the lowest byte of x that is zero;
// bytes above it may be flagged wrongly (a borrow), none below.
func zeroBytes(x uint64) uint64 { return (x - ones) &^ x & high }

// lowerWord lowers the ASCII capitals among x's bytes.
func lowerWord(x uint64) uint64 {
	h := x & lo7
	ge := h + ones*(0x80-'A')   // high bit set where h >= 'A'
	gt := h + ones*(0x80-'Z'-1) // high bit set where h > 'Z'
	return x | (ge&^gt&^x&high)>>2
}

// text is what the word-wide helpers read: a buffer or a string.
type text interface{ ~[]byte | ~string }

// le64 reads 8 bytes of s, little-endian (one load).
func le64[T text](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32[T text](s T) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load reads s, shorter than 8 bytes, into the low bytes of a word
// whose high bytes are zero: two overlapping 4-byte loads, or three byte
// loads (the same byte may come twice to the same place).
func load[T text](s T) uint64 {
	if n := len(s); n >= 4 {
		return uint64(le32(s)) | uint64(le32(s[n-4:]))<<(8*(n-4))
	} else if n > 0 {
		return uint64(s[0]) | uint64(s[n/2])<<(8*(n/2)) | uint64(s[n-1])<<(8*(n-1))
	}
	return 0
}

// lowBytes has the high bit of each of a short load's n bytes.
func lowBytes(n int) uint64 { return high & (1<<(8*uint(n)) - 1) }

// crlf flags the CR and LF bytes of x (see zeroBytes).
func crlf(x uint64) uint64 { return zeroBytes(x^ones*'\r') | zeroBytes(x^ones*'\n') }

// LineStop returns the index of the first CR or LF in buf at or after p,
// or len(buf).
func LineStop(buf []byte, p int) int {
	for ; p+8 <= len(buf); p += 8 {
		// The lowest flag of each mask is exact, and a wrong one lies
		// above an exact one of its own mask.
		if m := crlf(le64(buf[p:])); m != 0 {
			return p + bits.TrailingZeros64(m)>>3
		}
	}
	if p >= len(buf) {
		return len(buf)
	}
	n := len(buf) - p
	if m := crlf(load(buf[p:])) & lowBytes(n); m != 0 {
		return p + bits.TrailingZeros64(m)>>3
	}
	return len(buf)
}

// HasCtlCRLF reports NUL, CR or LF in s.
func HasCtlCRLF(s string) bool {
	n := len(s)
	if n < 8 {
		x := load(s)
		return (zeroBytes(x)|crlf(x))&lowBytes(n) != 0
	}
	for i := 0; i+8 <= n; i += 8 {
		x := le64(s[i:])
		if zeroBytes(x)|crlf(x) != 0 {
			return true
		}
	}
	x := le64(s[n-8:])
	return zeroBytes(x)|crlf(x) != 0
}

// EqualFold compares b with a lower-case ASCII string, ignoring case.
// The length test inlines: most names differ in length.
func EqualFold(b []byte, lower string) bool { return len(b) == len(lower) && equalFold(b, lower) }

func equalFold(b []byte, lower string) bool {
	n := len(b)
	if n < 8 {
		return lowerWord(load(b)) == load(lower)
	}
	for i := 0; i+8 <= n; i += 8 {
		if lowerWord(le64(b[i:])) != le64(lower[i:]) {
			return false
		}
	}
	return lowerWord(le64(b[n-8:])) == le64(lower[n-8:])
}

// AppendLower appends b to dst with its ASCII capitals lowered. Words are
// read from b and written lowered: reading back what a copy just stored
// would stall on the stores.
func AppendLower(dst, b []byte) []byte { return appendLower(dst, b) }

// AppendLowerString is AppendLower for a string.
func AppendLowerString(dst []byte, s string) []byte { return appendLower(dst, s) }

func appendLower[T text](dst []byte, s T) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	d := dst[n:]
	switch m := len(s); {
	case m >= 8:
		for i := 0; i+8 <= m; i += 8 {
			binary.LittleEndian.PutUint64(d[i:], lowerWord(le64(s[i:])))
		}
		binary.LittleEndian.PutUint64(d[m-8:], lowerWord(le64(s[m-8:])))
	case m >= 4:
		binary.LittleEndian.PutUint32(d, uint32(lowerWord(uint64(le32(s)))))
		binary.LittleEndian.PutUint32(d[m-4:], uint32(lowerWord(uint64(le32(s[m-4:])))))
	default:
		for i := 0; i < m; i++ {
			c := s[i]
			if c-'A' < 26 {
				c += 'a' - 'A'
			}
			d[i] = c
		}
	}
	return dst
}
