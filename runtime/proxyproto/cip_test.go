package proxyproto

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

type cipCase struct {
	name     string
	in       []byte
	magic    uint32
	src, dst string
	n        int
	err      error
}

func cipV4(proto byte) []byte {
	h := make([]byte, 40)
	h[0], h[9] = 0x45, proto
	copy(h[12:], []byte{10, 1, 2, 3})
	copy(h[16:], []byte{10, 9, 9, 9})
	binary.BigEndian.PutUint16(h[20:], 1111)
	binary.BigEndian.PutUint16(h[22:], 80)
	return h
}

func cipV6() []byte {
	h := make([]byte, 60)
	h[0], h[6] = 0x60, 6
	a := netip.MustParseAddr("2001:db8::1").As16()
	copy(h[8:], a[:])
	a = netip.MustParseAddr("2001:db8::2").As16()
	copy(h[24:], a[:])
	binary.BigEndian.PutUint16(h[40:], 3333)
	binary.BigEndian.PutUint16(h[42:], 443)
	return h
}

func legacy(magic uint32, n int, ip []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	return append(binary.BigEndian.AppendUint32(b, uint32(n)), ip...)
}

func standard(magic uint32, typ byte, n int, ip []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(n+12))
	b = append(b, typ, 0)
	return append(binary.BigEndian.AppendUint16(b, uint16(n)), ip...)
}

var cipCases = []cipCase{
	{"legacy v4", legacy(7, 40, cipV4(6)), 7, "10.1.2.3:1111", "10.9.9.9:80", 48, nil},
	{"legacy v4 and data", append(legacy(7, 40, cipV4(6)), "GET"...), 7, "10.1.2.3:1111", "10.9.9.9:80", 48, nil},
	{"standard v4", standard(7, 0, 40, cipV4(6)), 7, "10.1.2.3:1111", "10.9.9.9:80", 52, nil},
	{"legacy v6", legacy(0, 60, cipV6()), 0, "[2001:db8::1]:3333", "[2001:db8::2]:443", 68, nil},
	{"standard v6", standard(9, 0, 60, cipV6()), 9, "[2001:db8::1]:3333", "[2001:db8::2]:443", 72, nil},
	// The length is only compared with what was read: 0 takes just the
	// framing, and one past the data fails as the second read would.
	{"standard, length 0", standard(7, 0, 0, cipV4(6)), 7, "10.1.2.3:1111", "10.9.9.9:80", 12, nil},
	{"legacy, length beyond", legacy(7, 45, cipV4(6)), 7, "", "", 0, ErrCIPAbort},
	{"bad magic", legacy(8, 40, cipV4(6)), 7, "", "", 0, ErrCIPBadMagic},
	{"short", legacy(7, 40, cipV4(6))[:11], 7, "", "", 0, ErrCIPTruncated},
	{"unknown form", standard(7, 1, 40, cipV4(6)), 7, "", "", 0, ErrCIPBadProto},
	{"udp", legacy(7, 40, cipV4(17)), 7, "", "", 0, ErrCIPBadProto},
	{"v4 truncated", legacy(7, 40, cipV4(6))[:39], 7, "", "", 0, ErrCIPTruncated},
	{"v6 truncated", legacy(7, 60, cipV6())[:59], 7, "", "", 0, ErrCIPTruncated},
	{"below an IP header", legacy(7, 40, cipV4(6))[:19], 7, "", "", 0, ErrCIPTruncated},
}

// ParseCIP reads the forms conn_recv_netscaler_cip reads, with its
// errors and its length checks.
func TestParseCIP(t *testing.T) {
	for _, c := range cipCases {
		src, dst, n, err := ParseCIP(c.in, c.magic)
		if err != c.err || n != c.n {
			t.Errorf("%s: n %d err %v, want %d %v", c.name, n, err, c.n, c.err)
			continue
		}
		if err == nil && (src.String() != c.src || dst.String() != c.dst) {
			t.Errorf("%s: %v > %v, want %s > %s", c.name, src, dst, c.src, c.dst)
		}
	}
}
