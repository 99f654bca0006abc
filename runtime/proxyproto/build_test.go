package proxyproto

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

func TestAppendV1(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		src, dst netip.AddrPort
		want     string
	}{
		{ap("1.2.3.4:5"), ap("6.7.8.9:10"), "PROXY TCP4 1.2.3.4 6.7.8.9 5 10\r\n"},
		{ap("[2001:db8::1]:65535"), ap("[::1]:0"), "PROXY TCP6 2001:db8::1 ::1 65535 0\r\n"},
		// Mixed families: the IPv4 side is mapped, as v4tov6 does.
		{ap("1.2.3.4:5"), ap("[::1]:6"), "PROXY TCP6 ::ffff:1.2.3.4 ::1 5 6\r\n"},
		{ap("[2001:db8::1]:5"), ap("10.0.0.1:6"), "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 5 6\r\n"},
		// glibc's inet_ntop writes IPv4-compatible addresses dotted.
		{ap("[::1.2.3.4]:1"), ap("[::1.2.0.0]:2"), "PROXY TCP6 ::1.2.3.4 ::1.2.0.0 1 2\r\n"},
		{ap("[::]:1"), ap("[1::]:2"), "PROXY TCP6 :: 1:: 1 2\r\n"},
		{ap("[1:0:0:2:0:0:0:3]:1"), ap("[1:0:2:0:3:0:4:0]:2"), "PROXY TCP6 1:0:0:2::3 1:0:2:0:3:0:4:0 1 2\r\n"},
		{ap("[::ffff:0.0.0.0]:1"), ap("[::ffff:1.2.3.4]:2"), "PROXY TCP6 ::ffff:0.0.0.0 ::ffff:1.2.3.4 1 2\r\n"},
		{netip.AddrPort{}, ap("1.2.3.4:5"), "PROXY UNKNOWN\r\n"},
		{ap("1.2.3.4:5"), netip.AddrPort{}, "PROXY UNKNOWN\r\n"},
	} {
		if got := string(AppendV1(nil, c.src, c.dst)); got != c.want {
			t.Errorf("AppendV1(%v, %v) = %q, want %q", c.src, c.dst, got, c.want)
		}
	}
}

func TestAppendV2(t *testing.T) {
	ap := netip.MustParseAddrPort
	sig := hex.EncodeToString([]byte(signature))
	for _, c := range []struct {
		name string
		v    V2
		want string
	}{
		{"tcp4", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80")},
			sig + "2111000c" + "01020304" + "05060708" + "3039" + "0050"},
		{"tcp6 mixed", V2{Src: ap("1.2.3.4:1"), Dst: ap("[::1]:2")},
			sig + "21210024" + "00000000000000000000ffff01020304" + "00000000000000000000000000000001" + "0001" + "0002"},
		{"local", V2{Src: ap("1.2.3.4:1"), Dst: ap("5.6.7.8:2"), Local: true}, sig + "20000000"},
		{"unix is local", V2{}, sig + "20000000"},
		{"local keeps TLVs", V2{Local: true, Options: OptCRC32C}, sig + "20000007" + "030004a9b87e8f"},
		{"crc32c", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"), Options: OptCRC32C},
			sig + "21110013" + "010203040506070830390050" + "030004" + "5af116b6"},
		{"order", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"), Options: OptUniqueID | OptAuthority,
			ALPN: []byte("h2"), Authority: []byte("a"), UniqueID: []byte{}, NetNS: []byte("n")},
			sig + "2111001c" + "010203040506070830390050" + "0100026832020001610500003000016e"},
		{"options gate values", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"), Authority: []byte("a"), UniqueID: []byte("u")},
			sig + "2111000c" + "010203040506070830390050"},
		{"ssl plain client", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"), Options: OptSSL},
			sig + "21110014" + "010203040506070830390050" + "2000050000000000"},
		{"ssl client", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"),
			Options: OptSSL | OptCertCN | OptCertKey | OptCertSig | OptSSLCipher,
			SSL: &ClientSSLInfo{CertSess: true, CertConn: true, Verify: 0x0102, Version: []byte("v"), CN: []byte("c"),
				KeyAlg: []byte("k"), SigAlg: []byte("s"), Cipher: []byte("x")}},
			sig + "21110028" + "010203040506070830390050" + "2000190700000102" + "21000176" + "22000163" + "2500016b" + "24000173" + "23000178"},
		{"ssl sub-TLVs need their option", V2{Src: ap("1.2.3.4:12345"), Dst: ap("5.6.7.8:80"), Options: OptSSL,
			SSL: &ClientSSLInfo{Version: []byte("v"), CN: []byte("c")}},
			sig + "21110018" + "010203040506070830390050" + "2000090100000000" + "21000176"},
	} {
		got := hex.EncodeToString(AppendV2(nil, &c.v))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
			continue
		}
		// Whatever is built parses back to the same addresses.
		raw, _ := hex.DecodeString(got)
		h, n, err := Parse(raw)
		if err != nil || n != len(raw) {
			t.Errorf("%s: Parse = %v, %d of %d", c.name, err, n, len(raw))
		}
		if h.Command == Proxy && (h.Src.Addr().Unmap() != c.v.Src.Addr().Unmap() || h.Dst.Port() != c.v.Dst.Port()) {
			t.Errorf("%s: parsed %v -> %v", c.name, h.Src, h.Dst)
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Options
		err  string
	}{
		{"ssl", OptSSL, ""},
		{"cert-cn,ssl-cipher,cert-sig,cert-key", OptSSL | OptCertCN | OptSSLCipher | OptCertSig | OptCertKey, ""},
		{"authority,crc32c,unique-id", OptAuthority | OptCRC32C | OptUniqueID, ""},
		{"crc32c,bogus", OptCRC32C, "'bogus' : proxy v2 option not implemented"},
		{"ssl,", OptSSL, "'' : proxy v2 option not implemented"},
	} {
		got, err := ParseOptions(c.in)
		if got != c.want || errText(err) != c.err {
			t.Errorf("ParseOptions(%q) = %b, %v; want %b, %q", c.in, got, err, c.want, c.err)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	src, dst := netip.MustParseAddrPort("[2001:db8::1]:1234"), netip.MustParseAddrPort("10.0.0.1:80")
	v := &V2{Src: src, Dst: dst, Options: OptCRC32C | OptUniqueID | OptAuthority, Authority: []byte("example.com"), UniqueID: []byte("id")}
	if a := testing.AllocsPerRun(100, func() {
		buf = AppendV1(buf[:0], src, dst)
		buf = AppendV2(buf[:0], v)
	}); a != 0 {
		t.Errorf("AppendV1+AppendV2 allocate %v times", a)
	}
	if !bytes.HasPrefix(buf, []byte(signature)) {
		t.Errorf("AppendV2 output % x", buf)
	}
}

func BenchmarkAppendV1(b *testing.B) {
	buf := make([]byte, 0, 128)
	src, dst := netip.MustParseAddrPort("192.168.100.200:56324"), netip.MustParseAddrPort("10.0.0.1:443")
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendV1(buf[:0], src, dst)
	}
}

func BenchmarkAppendV2(b *testing.B) {
	buf := make([]byte, 0, 256)
	v := &V2{Src: netip.MustParseAddrPort("192.168.100.200:56324"), Dst: netip.MustParseAddrPort("10.0.0.1:443"),
		Options: OptCRC32C | OptUniqueID, UniqueID: []byte("7F000001:DC04_0A000001:01BB_65A1B2C3_0001")}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendV2(buf[:0], v)
	}
}
