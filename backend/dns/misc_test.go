package dns

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXXH32(t *testing.T) {
	for _, c := range []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0x02cc5d05},
		{"a", 0, 0x550d7456},
		{"abc", 0, 0x32d153ff},
		{"Nobody inspects the spammish repetition", 0, 0xe2293b2f},
	} {
		if got := xxh32([]byte(c.in), c.seed); got != c.want {
			t.Errorf("xxh32(%q, %d) = %#x, want %#x", c.in, c.seed, got, c.want)
		}
	}
}

func TestShowResolvers(t *testing.T) {
	if out, ok := ShowResolvers(nil, ""); !ok || out != "No resolvers found\n" {
		t.Fatalf("%q", out)
	}
	z := newZone(t)
	r := newResolver(t, fastSection(z))
	if out, ok := ShowResolvers([]*Resolver{r}, "nope"); ok || out != "Can't find that resolvers section\n" {
		t.Fatalf("%q", out)
	}
	out, _ := ShowResolvers([]*Resolver{r}, "r")
	want := "Resolvers section r\n nameserver ns1:\n" +
		"  sent:        0\n  snd_error:   0\n  valid:       0\n  update:      0\n" +
		"  cname:       0\n  cname_error: 0\n  any_err:     0\n  nx:          0\n" +
		"  timeout:     0\n  refused:     0\n  other:       0\n  invalid:     0\n" +
		"  too_big:     0\n  truncated:   0\n  outdated:    0\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestInitAddr(t *testing.T) {
	fail := func(string) (netip.Addr, error) { return netip.Addr{}, errors.New("nx") }
	ok := func(string) (netip.Addr, error) { return netip.MustParseAddr("10.0.0.9"), nil }
	none, _ := ParseInitAddr("none")
	res, err := InitAddr(nil, "app.test", "", true, fail)
	if err != nil || !res.Maint || res.Warning != "could not resolve address 'app.test', disabling server." {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err = InitAddr(nil, "app.test", "", false, fail); err == nil || err.Error() != "could not resolve address 'app.test'." {
		t.Fatalf("%v", err)
	}
	if res, err = InitAddr(none, "app.test", "", true, ok); err != nil || !res.Maint || res.Warning != "" {
		t.Fatalf("%+v %v", res, err)
	}
	m, _ := ParseInitAddr("last,libc,192.0.2.1")
	if res, _ = InitAddr(m, "app.test", "", true, fail); res.Addr.String() != "192.0.2.1" ||
		res.Warning != "could not resolve address 'app.test', falling back to configured address." {
		t.Fatalf("%+v", res)
	}
	if res, _ = InitAddr(m, "app.test", "10.1.1.1", true, fail); res.Addr.String() != "10.1.1.1" {
		t.Fatalf("%+v", res)
	}
	libc, _ := ParseInitAddr("libc")
	if _, err = InitAddr(libc, "_http._tcp.app.test", "", true, ok); err == nil || err.Error() != "no method found to resolve address '_http._tcp.app.test'." {
		t.Fatalf("%v", err)
	}
	if _, err = ParseInitAddr("last,bogus"); err == nil {
		t.Fatal("bogus method accepted")
	}
}

func TestParseResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("search x\nnameserver 10.0.0.53\nnameserver\nnameserver bad\nnameserver 10.0.0.53\nnameserverx 1.1.1.1\nnameserver fd00::53\n"), 0o644)
	ns, warns, err := ParseResolvConf(p, nil)
	if err != nil || len(ns) != 2 || ns[0].Addr.String() != "10.0.0.53:53" || ns[1].ID != "fd00::53" {
		t.Fatalf("%+v %v", ns, err)
	}
	if len(warns) != 3 || !strings.Contains(warns[0], ":3] : nameserver line is missing address.") ||
		!strings.Contains(warns[1], "address 'bad' could not be recognized") || !strings.Contains(warns[2], "duplicate") {
		t.Fatalf("%q", warns)
	}
	if _, _, err := ParseResolvConf(filepath.Join(t.TempDir(), "none"), nil); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestQueryFormat(t *testing.T) {
	q, err := buildQuery(0x1234, typeA, "app.test.", 512)
	if err != nil {
		t.Fatal(err)
	}
	// Header, question and the OPT record HAProxy appends.
	want := "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01" +
		"\x03app\x04test\x00\x00\x01\x00\x01" +
		"\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00"
	if string(q) != want {
		t.Fatalf("query %x\nwant  %x", q, want)
	}
}
