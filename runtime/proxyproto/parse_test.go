package proxyproto

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"testing"
)

// hapAddr formats an address and port as HAProxy's %[src]:%[src_port].
func hapAddr(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	var b []byte
	if a := ap.Addr(); a.Is4() {
		b = a.AppendTo(b)
	} else {
		b = appendNtop6(b, a.As16())
	}
	return string(b) + ":" + strconv.Itoa(int(ap.Port()))
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			h, n, err := Parse([]byte(c.in))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil {
				return
			}
			if n != c.n {
				t.Errorf("n = %d, want %d", n, c.n)
			}
			if got := hapAddr(h.Src); got != c.src {
				t.Errorf("src = %q, want %q", got, c.src)
			}
			if got := hapAddr(h.Dst); got != c.dst {
				t.Errorf("dst = %q, want %q", got, c.dst)
			}
			if got := hex.EncodeToString(h.Authority); got != c.auth {
				t.Errorf("authority = %q, want %q", got, c.auth)
			}
			if got := hex.EncodeToString(h.UniqueID); got != c.uid {
				t.Errorf("unique-id = %q, want %q", got, c.uid)
			}
		})
	}
}

func TestParseTLVs(t *testing.T) {
	h, _, err := Parse([]byte(v2(0x21, 0x11, addr4Block,
		tlv(TypeALPN, "h2"), tlv(TypeNetNS, "ns1"), tlv(0xe5, "raw"),
		tlv(TypeSSL, "\x07\x00\x00\x00\x0a"+string(tlv(SubSSLVersion, "TLSv1.3"))+string(tlv(SubSSLCN, "cn"))+
			string(tlv(SubSSLCipher, "c"))+string(tlv(SubSSLSigAlg, "s"))+string(tlv(SubSSLKeyAlg, "k"))))))
	if err != nil {
		t.Fatal(err)
	}
	if string(h.ALPN) != "h2" || string(h.NetNS) != "ns1" {
		t.Errorf("ALPN %q NetNS %q", h.ALPN, h.NetNS)
	}
	s := h.SSL
	if !s.Present || s.Client != 7 || s.Verify != 10 || string(s.Version) != "TLSv1.3" || string(s.CN) != "cn" ||
		string(s.Cipher) != "c" || string(s.SigAlg) != "s" || string(s.KeyAlg) != "k" {
		t.Errorf("SSL = %+v", s)
	}
	var types []byte
	for rest := h.TLVs; ; {
		t, r, ok := NextTLV(rest)
		if !ok {
			break
		}
		types, rest = append(types, t.Type), r
	}
	if string(types) != "\x01\x30\xe5\x20" {
		t.Errorf("TLV types % x", types)
	}
}

func TestParseAllocs(t *testing.T) {
	ins := [][]byte{
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\n"),
		[]byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"),
		[]byte(crcHdr),
		[]byte(v2(0x21, 0x21, addr6Block, tlv(TypeAuthority, "example.com"))),
	}
	for _, in := range ins {
		if a := testing.AllocsPerRun(100, func() { Parse(in) }); a != 0 {
			t.Errorf("Parse(%q) allocates %v times", in, a)
		}
	}
}

func BenchmarkParseV1(b *testing.B) {
	in := []byte("PROXY TCP4 192.168.100.200 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n")
	b.ReportAllocs()
	for b.Loop() {
		Parse(in)
	}
}

func BenchmarkParseV2(b *testing.B) {
	in := []byte(crcHdr)
	b.ReportAllocs()
	for b.Loop() {
		Parse(in)
	}
}
