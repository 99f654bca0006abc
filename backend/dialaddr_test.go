package backend

import (
	"net/netip"
	"testing"
)

// A server's address is parsed once while it stays the same, again once
// it changes; a transparent server's, the client's own, each time.
func TestParseDialAddr(t *testing.T) {
	s := &Server{Name: "s", Addr: "127.0.0.1:8080"}
	ap, err := s.ParseDialAddr(s.DialAddr(netip.AddrPort{}))
	if err != nil || ap != netip.MustParseAddrPort("127.0.0.1:8080") {
		t.Fatalf("first parse: %v %v", ap, err)
	}
	first := s.parsed.Load()
	if ap, _ = s.ParseDialAddr(s.DialAddr(netip.AddrPort{})); ap.Port() != 8080 || s.parsed.Load() != first {
		t.Fatalf("same address parsed again: %v", ap)
	}
	s.SetAddress(netip.MustParseAddr("10.0.0.2"), 9090)
	if ap, _ = s.ParseDialAddr(s.DialAddr(netip.AddrPort{})); ap != netip.MustParseAddrPort("10.0.0.2:9090") {
		t.Fatalf("after the address changed: %v", ap)
	}
	if _, err = s.ParseDialAddr("name.example:80"); err == nil {
		t.Fatal("a name parsed as an address")
	}
	tr := &Server{Name: "t", Transparent: true}
	for _, dst := range []string{"192.0.2.1:80", "192.0.2.2:81"} {
		if ap, _ := tr.ParseDialAddr(tr.DialAddr(netip.MustParseAddrPort(dst))); ap.String() != dst || tr.parsed.Load() != nil {
			t.Fatalf("transparent server toward %s: %v", dst, ap)
		}
	}
}
