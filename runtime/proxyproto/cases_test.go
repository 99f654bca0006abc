package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// parseCase is one input for Parse, used by the table test and sent to
// HAProxy by the differential test. want is "" for an accepted header
// and the error text otherwise; src/dst are the addresses taken, in
// HAProxy's %[src]:%[src_port] form, empty when the socket's stay.
type parseCase struct {
	name     string
	in       string
	want     error
	n        int
	src, dst string
	auth     string
	uid      string
}

// v2 builds a v2 header: command byte, family byte, address block, TLVs.
func v2(cmd, fam byte, addr []byte, tlvs ...[]byte) string {
	b := []byte(signature)
	b = append(b, cmd, fam, 0, 0)
	b = append(b, addr...)
	for _, t := range tlvs {
		b = append(b, t...)
	}
	binary.BigEndian.PutUint16(b[14:], uint16(len(b)-16))
	return string(b)
}

func tlv(typ byte, v string) []byte {
	return append([]byte{typ, byte(len(v) >> 8), byte(len(v))}, v...)
}

// withCRC fills in the CRC32C TLV at offset at of header h.
func withCRC(h string, at int) string {
	b := []byte(h)
	binary.BigEndian.PutUint32(b[at:], crc32.Checksum(b, castagnoli))
	return string(b)
}

var addr4Block = []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x30, 0x39, 0x00, 0x50}

var addr6Block = func() []byte {
	b := make([]byte, 36)
	b[0], b[1], b[15] = 0x20, 0x01, 1
	b[16], b[17], b[31] = 0x20, 0x01, 2
	b[32], b[33], b[34], b[35] = 0, 1, 0xff, 0xff
	return b
}()

var (
	crcHdr = withCRC(v2(0x21, 0x11, addr4Block, tlv(TypeCRC32C, "\x00\x00\x00\x00")), 31)
	// HAProxy zeroes each CRC32C value as it checks it: the second one
	// covers both zeroed, the first one covers the second's value.
	crcTwoHdr = func() string {
		h := []byte(v2(0x21, 0x11, addr4Block, tlv(TypeCRC32C, "\x00\x00\x00\x00"), tlv(TypeCRC32C, "\x00\x00\x00\x00")))
		binary.BigEndian.PutUint32(h[38:], crc32.Checksum(h, castagnoli))
		binary.BigEndian.PutUint32(h[31:], crc32.Checksum(h, castagnoli))
		return string(h)
	}()
	crcBadHdr = func() string { b := []byte(crcHdr); b[31] ^= 1; return string(b) }()
)

// parseCases are the header cases, from doc/proxy-protocol.txt, the
// reg-test connection/proxy_protocol_tlv_validation.vtc (c1..c4) and
// HAProxy's parser branches. Expectations were checked against HAProxy 2.6.
var parseCases = []parseCase{
	// v1 TCP4
	{name: "v1 tcp4", in: "PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\n", n: 36, src: "1.2.3.4:111", dst: "5.6.7.8:222"},
	{name: "v1 tcp4 extremes", in: "PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n", n: 44, src: "255.255.255.255:65535", dst: "0.0.0.0:0"},
	{name: "v1 tcp4 octet over 255 carries", in: "PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n", n: 34, src: "1.2.6.231:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 two groups", in: "PROXY TCP4 1.2 5.6.7.8 1 2\r\n", n: 28, src: "1.2.0.0:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 leading zeros", in: "PROXY TCP4 01.02.03.004 5.6.7.8 1 2\r\n", n: 37, src: "1.2.3.4:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 four digits", in: "PROXY TCP4 1234.2.3.4 5.6.7.8 1 2\r\n", n: 35, src: "234.2.3.4:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 empty group", in: "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", n: 31, src: "1.0.3.4:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 empty address", in: "PROXY TCP4  5.6.7.8 1 2\r\n", n: 25, src: "0.0.0.0:1", dst: "5.6.7.8:2"},
	{name: "v1 tcp4 five groups", in: "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 double space", in: "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 port wraps", in: "PROXY TCP4 1.2.3.4 5.6.7.8 65537 4294967297\r\n", n: 45, src: "1.2.3.4:1", dst: "5.6.7.8:1"},
	{name: "v1 tcp4 empty ports", in: "PROXY TCP4 1.2.3.4 5.6.7.8  \r\n", n: 30, src: "1.2.3.4:0", dst: "5.6.7.8:0"},
	{name: "v1 tcp4 negative port", in: "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 plus port", in: "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 bare LF", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 trailing space", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", want: ErrBadHeader},
	{name: "v1 tcp4 missing port", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 ipv6 address", in: "PROXY TCP4 ::1 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 hex", in: "PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp4 CR alone", in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\r\n", want: ErrBadHeader},
	// v1 TCP6
	{name: "v1 tcp6 loopback", in: "PROXY TCP6 ::1 ::1 1 2\r\n", n: 24, src: "::1:1", dst: "::1:2"},
	{name: "v1 tcp6 global", in: "PROXY TCP6 2001:db8::1 2001:DB8:0:0:0:0:0:2 65535 443\r\n", n: 55, src: "2001:db8::1:65535", dst: "2001:db8::2:443"},
	{name: "v1 tcp6 mapped and compat", in: "PROXY TCP6 ::ffff:1.2.3.4 ::1.2.3.4 1 2\r\n", n: 41, src: "::ffff:1.2.3.4:1", dst: "::1.2.3.4:2"},
	{name: "v1 tcp6 extra word", in: "PROXY TCP6 ::1 ::1 1 2 extra\r\n", n: 30, src: "::1:1", dst: "::1:2"},
	{name: "v1 tcp6 glued word", in: "PROXY TCP6 ::1 ::1 1 2extra\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 empty port", in: "PROXY TCP6 ::1 ::1  2\r\n", n: 23, src: "::1:0", dst: "::1:2"},
	{name: "v1 tcp6 long port", in: "PROXY TCP6 ::1 ::1 00000000000000000000000000000000000000000000000000000000000000000000000000000000001 2\r\n", n: 106, src: "::1:1", dst: "::1:2"},
	{name: "v1 tcp6 ipv4 address", in: "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 zone", in: "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 five hex digits", in: "PROXY TCP6 ::00001 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 two ellipses", in: "PROXY TCP6 1::2::3 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 embedded leading zero", in: "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 three fields", in: "PROXY TCP6 ::1 ::1 1\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 CR without LF", in: "PROXY TCP6 ::1 ::1 1 2\rX\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 bad port", in: "PROXY TCP6 ::1 ::1 1x 2\r\n", want: ErrBadHeader},
	{name: "v1 tcp6 NUL ends address", in: "PROXY TCP6 ::1\x00zz ::2 1 2\r\n", n: 27, src: "::1:1", dst: "::2:2"},
	// v1 other protocols
	{name: "v1 unknown", in: "PROXY UNKNOWN\r\n", n: 15},
	{name: "v1 unknown with addresses", in: "PROXY UNKNOWN ::1 ::1 1 2\r\n", want: ErrBadProto},
	{name: "v1 tcp5", in: "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", want: ErrBadProto},
	{name: "v1 two spaces", in: "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", want: ErrBadProto},
	{name: "v1 lower case", in: "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", want: ErrNotHeader},
	{name: "http request", in: "GET / HTTP/1.0\r\n\r\n", want: ErrNotHeader},
	{name: "v1 truncated", in: "PROXY TCP4 1.2.3.4 5.6", want: ErrIncomplete},
	{name: "v1 truncated tcp6", in: "PROXY TCP6 ::1 ::1 1 2", want: ErrIncomplete},
	{name: "short", in: "PROX", want: ErrIncomplete},
	{name: "v1 cut in the protocol", in: "PROXY UNK", want: ErrBadProto},
	{name: "v1 cut after the protocol", in: "PROXY TCP4", want: ErrBadProto},
	// v2
	{name: "v2 tcp4", in: v2(0x21, 0x11, addr4Block), n: 28, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 tcp6", in: v2(0x21, 0x21, addr6Block), n: 52, src: "2001::1:1", dst: "2001::2:65535"},
	{name: "v2 local", in: v2(0x20, 0x00, nil), n: 16},
	{name: "v2 local family ignored", in: v2(0x20, 0x11, addr4Block), n: 28},
	{name: "v2 local TLVs not read", in: v2(0x20, 0x00, nil, []byte{0x02, 0xff, 0xff}), n: 19},
	{name: "v2 version 1", in: v2(0x11, 0x11, addr4Block), want: ErrNotHeader},
	{name: "v2 command 2", in: v2(0x22, 0x11, addr4Block), want: ErrBadHeader},
	{name: "v2 udp4", in: v2(0x21, 0x12, addr4Block), want: ErrBadHeader},
	{name: "v2 proxy unspec", in: v2(0x21, 0x00, nil), want: ErrBadHeader},
	{name: "v2 unix", in: v2(0x21, 0x31, make([]byte, 216)), want: ErrBadHeader},
	{name: "v2 tcp4 short block", in: v2(0x21, 0x11, addr4Block[:11]), want: ErrBadHeader},
	{name: "v2 tcp6 short block", in: v2(0x21, 0x21, addr6Block[:35]), want: ErrBadHeader},
	{name: "v2 signature only", in: signature, want: ErrIncomplete},
	{name: "v2 truncated", in: v2(0x21, 0x11, addr4Block)[:20], want: ErrIncomplete},
	{name: "vtc c1 authority", in: v2(0x21, 0x11, []byte{127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57}, tlv(TypeAuthority, "12345")), n: 36, src: "127.0.0.1:42", dst: "127.0.0.1:1337", auth: "3132333435"},
	{name: "vtc c3 TLV past the end", in: withLen(v2(0x21, 0x11, []byte{127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57}, []byte("\x02\x00\x0a1234512345")), 20), want: ErrBadHeader},
	{name: "vtc c4 TLV short of the end", in: withLen(v2(0x21, 0x11, []byte{127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57}, []byte("\x02\x00\x041234")), 20) + "GET / HTTP/1.0\r\n\r\n", want: ErrBadHeader},
	{name: "v2 authority 255", in: v2(0x21, 0x11, addr4Block, tlv(TypeAuthority, strings.Repeat("a", 255))), n: 286, src: "1.2.3.4:12345", dst: "5.6.7.8:80", auth: strings.Repeat("61", 255)},
	{name: "v2 authority 256", in: v2(0x21, 0x11, addr4Block, tlv(TypeAuthority, strings.Repeat("a", 256))), want: ErrBadHeader},
	{name: "v2 unique-id 128", in: v2(0x21, 0x11, addr4Block, tlv(TypeUniqueID, strings.Repeat("u", 128))), n: 159, src: "1.2.3.4:12345", dst: "5.6.7.8:80", uid: strings.Repeat("75", 128)},
	{name: "v2 unique-id 129", in: v2(0x21, 0x11, addr4Block, tlv(TypeUniqueID, strings.Repeat("u", 129))), want: ErrBadHeader},
	{name: "v2 crc32c", in: crcHdr, n: 35, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 two crc32c", in: crcTwoHdr, n: 42, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 crc32c wrong", in: crcBadHdr, want: ErrBadHeader},
	{name: "v2 crc32c length 5", in: v2(0x21, 0x11, addr4Block, tlv(TypeCRC32C, "\x00\x00\x00\x00\x00")), want: ErrBadHeader},
	{name: "v2 unknown and noop TLVs", in: v2(0x21, 0x11, addr4Block, tlv(0xe0, "x"), tlv(TypeNoop, "\x00\x00"), tlv(TypeALPN, "h2")), n: 42, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 ssl TLV", in: v2(0x21, 0x11, addr4Block, tlv(TypeSSL, "\x07\x00\x00\x00\x00"+string(tlv(SubSSLVersion, "TLSv1.3"))+string(tlv(SubSSLCN, "cn")))), n: 51, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 malformed ssl TLV", in: v2(0x21, 0x11, addr4Block, tlv(TypeSSL, "\x01\x00")), n: 33, src: "1.2.3.4:12345", dst: "5.6.7.8:80"},
	{name: "v2 TLV header cut", in: v2(0x21, 0x11, addr4Block, []byte{0x04, 0x00}), want: ErrBadHeader},
	{name: "v2 tcp6 with authority and unique-id", in: v2(0x21, 0x21, addr6Block, tlv(TypeAuthority, "example.com"), tlv(TypeUniqueID, "")), n: 69, src: "2001::1:1", dst: "2001::2:65535", auth: "6578616d706c652e636f6d"},
}

// withLen overwrites the v2 length field of h.
func withLen(h string, n int) string {
	b := []byte(h)
	binary.BigEndian.PutUint16(b[14:], uint16(n))
	return string(b)
}
