package logging

import (
	"net/netip"
	"testing"
	"time"
)

// The line matches HAProxy 2.6's for a bad PROXY header, with the
// listener named or numbered.
func TestAppendConnError(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 56, 47, 682e6, time.Local)
	c := netip.MustParseAddrPort("127.0.0.1:41540")
	got := string(AppendConnError(nil, c, false, at, "fe", "", 1, "Truncated PROXY protocol header received"))
	if want := "127.0.0.1:41540 [02/Dec/2026:03:56:47.682] fe/1: Truncated PROXY protocol header received"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = string(AppendConnError(nil, netip.AddrPort{}, false, at, "fe", "named", 2, "x"))
	if want := "unknown [02/Dec/2026:03:56:47.682] fe/named: x"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
