package parser

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// The forms of "source" are read into the setting the runtime binds.
func TestSourceForms(t *testing.T) {
	v4 := netip.MustParseAddr
	for _, tc := range []struct {
		line string
		want SourceBind
	}{
		{"source 127.0.0.2", SourceBind{Addr: v4("127.0.0.2")}},
		{"source 127.0.0.2:4000", SourceBind{Addr: v4("127.0.0.2"), PortLow: 4000, PortHigh: 4000}},
		{"source *:4000-4010", SourceBind{Addr: v4("0.0.0.0"), PortLow: 4000, PortHigh: 4010}},
		{"source ipv6@ usesrc client", SourceBind{Addr: netip.IPv6Unspecified(), Usesrc: UsesrcClient}},
		{"source 0.0.0.0 usesrc clientip interface lo", SourceBind{Addr: v4("0.0.0.0"), Usesrc: UsesrcClientIP, Iface: "lo"}},
		{"source 127.0.0.2 usesrc 127.0.0.7:80", SourceBind{Addr: v4("127.0.0.2"), Usesrc: UsesrcAddr, UsesrcAddr: netip.MustParseAddrPort("127.0.0.7:80")}},
		{"source 127.0.0.2 usesrc hdr_ip(x-src)", SourceBind{Addr: v4("127.0.0.2"), Usesrc: UsesrcHdrIP, Hdr: "x-src", HdrOcc: -1}},
		{"source 127.0.0.2 usesrc hdr_ip(x-src,-3)", SourceBind{Addr: v4("127.0.0.2"), Usesrc: UsesrcHdrIP, Hdr: "x-src", HdrOcc: -3}},
		{"source 127.0.0.2 usesrc hdr_ip(x,2) usesrc clientip", SourceBind{Addr: v4("127.0.0.2"), Usesrc: UsesrcClientIP, Hdr: "x", HdrOcc: 2}},
		{"source unix@/tmp/s", SourceBind{}},
	} {
		sb, next, ret, alert, _ := serverSource(strings.Fields(tc.line), 0, "server")
		if ret != "" || alert != nil || sb == nil {
			t.Errorf("%s: refused: %q %+v", tc.line, ret, alert)
			continue
		}
		if next != len(strings.Fields(tc.line)) {
			t.Errorf("%s: read %d words", tc.line, next)
		}
		if !reflect.DeepEqual(*sb, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.line, *sb, tc.want)
		}
	}
}

// FuzzServerSource reads arbitrary words after a server's "source": no
// panic, a setting or a message, and never both.
func FuzzServerSource(f *testing.F) {
	for _, s := range []string{"127.0.0.2", "127.0.0.2:1-2 usesrc client", "0.0.0.0 usesrc hdr_ip(x,-10) interface lo",
		"1.2.3.4:10-5", "127.0.0.2 usesrc 1.1.1.1:1-2", "127.0.0.2 interface", "[::1]:5 usesrc clientip check"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		words := append([]string{"source"}, strings.Fields(in)...)
		for i, w := range words {
			// A host name would be looked up over the network.
			if (i == 1 || i > 1 && words[i-1] == "usesrc") && strings.ContainsAny(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
				!strings.HasPrefix(w, "hdr_ip(") && w != "client" && w != "clientip" {
				return
			}
		}
		sb, next, ret, alert, _ := serverSource(words, 0, "server")
		if (sb != nil) == (ret != "" || alert != nil) {
			t.Fatalf("%q: setting %v, messages %q %v", in, sb, ret, alert)
		}
		if next > len(words) {
			t.Fatalf("%q: read past the line", in)
		}
		if sb != nil && (sb.PortLow > sb.PortHigh || sb.PortHigh > 65535) {
			t.Fatalf("%q: ports %d-%d", in, sb.PortLow, sb.PortHigh)
		}
		indentMsg(ret, 2)
	})
}
