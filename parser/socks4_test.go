package parser

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// socks4Forms are "socks4" arguments, good and bad, with the message
// HAProxy 2.6 gives for the bad ones ("" for none).
var socks4Forms = []struct{ arg, msg string }{
	{"", "'server be/s' : 'socks4' expects <addr>:<port> as argument.."},
	{"1.2.3.4", "'server be/s' : 'socks4 1.2.3.4' : missing port specification in '1.2.3.4'."},
	{"1.2.3.4:0", "'server be/s' : 'socks4 1.2.3.4:0' : invalid port '0'."},
	{"1.2.3.4:99999", "'server be/s' : 'socks4 1.2.3.4:99999' : invalid port '99999'."},
	{"1.2.3.4:+5", "'server be/s' : 'socks4 1.2.3.4:+5' : port offset not permitted here in '1.2.3.4:+5'."},
	{"1.2.3.4:1-5", "'server be/s' : 'socks4 1.2.3.4:1-5' : port range not permitted here in '1.2.3.4:1-5'."},
	{"1.2.3.4:x", "'server be/s' : \n  'socks4 1.2.3.4:x' : invalid character 'x' in port number 'x' in '1.2.3.4:x'\n  \n."},
	{"nosuchhost.invalid:1080", "'server be/s' : \n  'socks4 nosuchhost.invalid:1080' : invalid address: 'nosuchhost.invalid' in 'nosuchhost.invalid:1080'\n  \n."},
	{"fd@3", "'server be/s' : \n  'socks4 fd@3' : a file descriptor is not acceptable here in 'fd@3'\n  \n."},
	{"udp@1.2.3.4:1", "'server be/s' : \n  'socks4 udp@1.2.3.4:1' : dgram-type address not acceptable in 'udp@1.2.3.4:1'\n  \n."},
	{"1.2.3.4:1080", ""},
	{"ipv6@::1:1080", ""},
	{"[::1]:1080", ""},
	{"127.1:1080", ""},
	{"unix@/tmp/x", ""},
	{"abns@foo", ""},
	{"localhost:1080", ""},
}

// The "socks4" option's address is checked with HAProxy's messages and
// read into the typed model.
func TestSocks4Option(t *testing.T) {
	for _, f := range socks4Forms {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("backend be\n server s 127.0.0.1:1 socks4 " + f.arg + "\n")}}, Options{})
		got := ""
		if len(ds) > 0 {
			got = ds[0].Text()
		}
		want := ""
		if f.msg != "" {
			want = "[p.cfg:2] : " + f.msg
		}
		if got != want {
			t.Errorf("socks4 %q:\n got %q\nwant %q", f.arg, got, want)
		}
	}
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(`backend be
 default-server socks4 10.0.0.1:1080 check-via-socks4
 server a 127.0.0.1:1
 server b 127.0.0.1:1 socks4 [::1]:1081
 server c 127.0.0.1:1 socks4 unix@/run/s4
 server d 127.0.0.1:1 socks4 abns@s4
 server e 127.0.0.1:1 socks4 127.1:1082
`)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := []Socks4Addr{
		{AddrPort: netip.MustParseAddrPort("10.0.0.1:1080")},
		{AddrPort: netip.MustParseAddrPort("[::1]:1081")},
		{Path: "/run/s4"},
		{Path: "s4", Abstract: true},
		{AddrPort: netip.MustParseAddrPort("127.0.0.1:1082")},
	}
	for i, s := range c.Proxies[0].Servers {
		st := s.Settings
		if st.Socks4 != want[i] || !st.CheckViaSocks4 || st.Unsupported != "" {
			t.Errorf("server %s: %+v via %v (unsupported %q), want %+v", s.Name, st.Socks4, st.CheckViaSocks4, st.Unsupported, want[i])
		}
	}
	// HAProxy does not take socks4 on "add server"; check-via-socks4 it
	// does.
	if _, msg := DynamicServer("d", []string{"127.0.0.1:1", "socks4", "127.0.0.1:1080"}); msg != "'socks4' option is not accepted for dynamic server" {
		t.Errorf("add server with socks4: %q", msg)
	}
	if s, msg := DynamicServer("d", []string{"127.0.0.1:1", "check-via-socks4"}); s == nil || !s.Settings.CheckViaSocks4 {
		t.Errorf("add server with check-via-socks4: %q", msg)
	}
}

// The messages about "socks4" addresses are HAProxy's, byte for byte.
func TestSocks4MessagesMatchHAProxy(t *testing.T) {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		t.Skip("HAPROXY_BIN not set: no reference to compare the messages with")
	}
	pid := regexp.MustCompile(`\(\d+\)`)
	same := 0
	for _, f := range socks4Forms {
		cfg := "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nbackend be\n server s 127.0.0.1:1 socks4 " + f.arg + "\n"
		p := filepath.Join(t.TempDir(), "p.cfg")
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", "-f", p)
		cmd.Dir = filepath.Dir(p)
		out, _ := cmd.CombinedOutput()
		want := ""
		if i := strings.Index(string(out), "[ALERT]"); i >= 0 {
			rest := string(out[i:])
			want, _, _ = strings.Cut(pid.ReplaceAllString(rest, "(PID)"), "\n[ALERT]")
		}
		_, ds := Parse([]Input{{Name: p, Data: []byte(cfg)}}, Options{})
		got := ""
		if len(ds) > 0 {
			got = "[ALERT]    (PID) : config : " + ds[0].Text()
		}
		if got != want {
			t.Errorf("socks4 %q:\n haproxy: %q\n gohap:   %q", f.arg, want, got)
		} else {
			same++
		}
	}
	t.Logf("socks4 messages identical to HAProxy: %d/%d", same, len(socks4Forms))
}

// indentMsg is indent_msg: one line loses its newline, several are
// indented on lines of their own.
func TestIndentMsg(t *testing.T) {
	for in, want := range map[string]string{
		"a":         "a",
		"a\n":       "a",
		"a\n\n":     "\n  a\n  \n",
		"a\nb":      "\n  a\n  b",
		"\n\na\nbc": "\n  a\n  bc",
	} {
		if got := indentMsg(in, 2); got != want {
			t.Errorf("indentMsg(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSocks4Address checks and reads arbitrary "socks4" addresses: no
// panic, and an address the check accepts and that names no host is
// read into a proxy address.
func FuzzSocks4Address(f *testing.F) {
	for _, s := range socks4Forms {
		f.Add(s.arg)
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%"
	f.Fuzz(func(t *testing.T, a string) {
		if _, _, unix := UnixAddress(a); !unix {
			// A host name would be looked up over the network.
			h, _, _ := splitHostPort(a[strings.LastIndexByte(a, '@')+1:])
			if h != "" && h != "*" && !isIP(h) && !isInetAton(h) {
				return
			}
		}
		msg := checkSocks4Address(a)
		addr := readSocks4Addr(a)
		indentMsg(msg, 2)
		if msg != "" || strings.ContainsAny(a, letters) {
			return
		}
		if !addr.IsSet() && !strings.HasPrefix(a, "sockpair@") {
			t.Errorf("%q accepted but not read", a)
		}
	})
}
