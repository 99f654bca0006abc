package parser

import (
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
)

func TestRingModel(t *testing.T) {
	cfg := `global
  log ring@r1 local0
ring r1
  description "my ring"
  format rfc5424
  maxlen 2000
  size 32768
  timeout connect 5s
  timeout server 10s
  server s1 127.0.0.1:6514 log-proto octet-count
  server s2 127.0.0.1:6515
  server s3 127.0.0.1:6516 send-proxy check
  server s4 127.0.0.1:6517 send-proxy-v2 proxy-v2-options crc32c,cert-cn ssl verify none sni str(x) alpn a,b
  server s5 127.0.0.1:6518 proxy-v2-options unique-id
  server s6 127.0.0.1:6519 send-proxy-v2-ssl-cn no-send-proxy-v2-ssl send-proxy no-send-proxy
  server s7 127.0.0.1:6520 ssl verify none check-ssl
ring r2
  maxlen 40000
frontend f
  bind 127.0.0.1:18080
  log ring@r2 local1 info
`
	c, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	r1, r2 := c.RingByName("r1"), c.RingByName("r2")
	if r1 == nil || r2 == nil || len(c.Rings) != 2 {
		t.Fatalf("rings: %+v", c.Rings)
	}
	if r1.Description != "my ring" || r1.Format != logfmt.SyslogRFC5424 || r1.MaxLen != 2000 || r1.Size != 32768 ||
		r1.TimeoutConnect != 5*time.Second || r1.TimeoutServer != 10*time.Second || len(r1.Servers) != 7 {
		t.Errorf("r1: %+v", r1)
	}
	if s := r1.Servers[0]; !s.OctetCount || s.Address != "127.0.0.1:6514" || s.Refused != "" {
		t.Errorf("s1: %+v", s)
	}
	if s := r1.Servers[1]; s.OctetCount || s.Refused != "" {
		t.Errorf("s2: %+v", s)
	}
	// Health checks never run on a ring server: "check" is refused.
	if s := r1.Servers[2]; s.Refused != "check" || s.PP != PPv1 {
		t.Errorf("s3: %+v", s)
	}
	if s := r1.Servers[3]; s.Refused != "" || s.PP != PPv2|PPv2CRC32C|PPv2SSL|PPv2SSLCN ||
		strings.Join(s.TLSWords, " ") != "ssl verify none sni str(x) alpn a,b" {
		t.Errorf("s4: %+v", s)
	}
	// Any flag sends a header: v1 without send-proxy-v2.
	if s := r1.Servers[4]; s.Refused != "" || s.PP != PPv2UniqueID {
		t.Errorf("s5: %+v", s)
	}
	// The no- words clear what they name, as HAProxy's: v2-ssl-cn
	// then no-v2-ssl leaves the CN flag alone.
	if s := r1.Servers[5]; s.Refused != "" || s.PP != PPv2SSLCN {
		t.Errorf("s6: %+v", s)
	}
	if s := r1.Servers[6]; s.Refused != "check-ssl" || strings.Join(s.TLSWords, " ") != "ssl verify none" {
		t.Errorf("s7: %+v", s)
	}
	// maxlen larger than the size is cut to it, with a warning.
	if r2.Description != "r2" || r2.Format != logfmt.SyslogRaw || r2.Size != RingBufSize || r2.MaxLen != RingBufSize {
		t.Errorf("r2: %+v", r2)
	}
	if len(c.Global.Logs) != 1 || c.Global.Logs[0].Target.Kind != logfmt.Ring || c.Global.Logs[0].Target.Path != "r1" {
		t.Errorf("global logs: %+v", c.Global.Logs)
	}
	if l := c.Proxies[0].Log.Targets; len(l) != 1 || l[0].Target.Path != "r2" || l[0].Target.Facility != 17 {
		t.Errorf("proxy logs: %+v", l)
	}
	for _, d := range c.Directives {
		if (d.Section == "ring" || d.Keyword == "log") && d.Support != Supported {
			t.Errorf("%d %s: %v", d.Pos.Line, d.Keyword, d.Support)
		}
	}
	if diags := RingLogDiags(c); len(diags) != 0 {
		t.Errorf("ring refs: %q", diags)
	}
}

// Messages, as HAProxy 2.6 words them.
func TestRingErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"size 0", "parsing [r.cfg:2] : invalid size '0' for new sink buffer."},
		{"size 100", "parsing [r.cfg:2] : ignoring new size '100' that is smaller than current size '16384' for ring 'r'."},
		{"size -5", "parsing [r.cfg:2] : fail to set sink buffer size '16384' for ring 'r'."},
		{"maxlen x", "parsing [r.cfg:2] : invalid size 'x' for new sink buffer."},
		{"maxlen -3", "ring 'r' event max length '4294967293' exceeds size, forced to size '16384'."},
		{"format bogus", "parsing [r.cfg:2] : unknown format 'bogus'."},
		{"description", "parsing [r.cfg:2] : missing ring description text."},
		{"timeout connect", "parsing [r.cfg:2] : 'timeout connect' expects <time> as argument."},
		{"timeout server 10x", "parsing [r.cfg:2]: unexpected character 'x' in argument to <timeout server>."},
		{"timeout server 99999999999", "parsing [r.cfg:2]: timer overflow in argument <99999999999> to <timeout server>, maximum value is 2147483647 ms (~24.8 days)."},
		{"bogus", "parsing [r.cfg:2] : unknown statement 'bogus'."},
		{"server s", "[r.cfg:2] : 'server' expects <name> and <addr>[:<port>] as arguments."},
		{"server s 127.0.0.1:1 log-proto x", "[r.cfg:2] : 'server r/s' : 'log-proto' expects one of 'legacy' or 'octet-count' but got 'x'."},
		{"server s udp@127.0.0.1:1", "[r.cfg:2] : 'server r/s' : dgram-type address not acceptable in 'udp@127.0.0.1:1'"},
		{"server s 127.0.0.1:99999", "[r.cfg:2] : 'server r/s' : invalid port '99999'"},
		{"server s fd@3", "[r.cfg:2] : 'server r/s' : a file descriptor is not acceptable here in 'fd@3'"},
	} {
		cfg := "ring r\n  " + tc.body + "\n"
		_, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(cfg)}}, Options{})
		var got []string
		for _, d := range ds {
			got = append(got, d.Text())
		}
		if !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
	for _, tc := range []struct{ cfg, want string }{
		{"ring\n", "parsing [r.cfg:1] : missing ring name."},
		{"ring a/b\n", "parsing [r.cfg:1] : invalid ring name 'a/b' (character '/' is not permitted)."},
		{"ring buf0\n", "parsing [r.cfg:1] : sink named 'buf0' already exists."},
		{"ring a\nring a\n", "parsing [r.cfg:2] : sink named 'a' already exists."},
		{"ring a/b\n size 10\n", "parsing [r.cfg:2] : 'size' directive not usable with this type of sink."},
		{"ring a/b\n maxlen 10\n", "parsing [r.cfg:2] : unable to set event max length '10'."},
	} {
		_, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(tc.cfg)}}, Options{})
		var got []string
		for _, d := range ds {
			got = append(got, d.Text())
		}
		if !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.cfg, got, tc.want)
		}
	}
}

// The ring references HAProxy checks when it starts.
func TestRingLogDiags(t *testing.T) {
	cfg := `global
  log ring@stdout local0
  log ring@zz local0
ring r1
frontend f
  bind 127.0.0.1:18080
  log ring@stderr local0
  log ring@buf0 local0
  log ring@r1 local0
  log ring@nope local0
`
	c, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := []string{
		"global log server declared in file 'r.cfg' at line 2 uses incompatible ring 'stdout'.",
		"global log server declared in file 'r.cfg' at line 3 uses unknown ring named 'zz'.",
		"log server declared in proxy section 'f' in file 'r.cfg' at line 7 uses incomatible ring named 'stderr'.",
		"log server declared in proxy section 'f' in file 'r.cfg' at line 10 uses unknown ring named 'nope'.",
		"log server declared in proxy section '<HTTPCLIENT>' in file 'r.cfg' at line 2 uses incomatible ring named 'stdout'.",
		"log server declared in proxy section '<HTTPCLIENT>' in file 'r.cfg' at line 3 uses unknown ring named 'zz'.",
	}
	if got := RingLogDiags(c); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzRing parses ring sections with any lines and log ring@ targets: no
// panic, and every diagnostic inside the file.
func FuzzRing(f *testing.F) {
	for _, s := range []string{"size 32768\n maxlen 100\n format rfc5424", "server s 127.0.0.1:1 log-proto octet-count",
		"timeout server 10x\n description", "server s fd@3\nring r\n size -1", "maxlen -3\nglobal\n log ring@r local0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		text := "ring r\n " + body + "\nfrontend f\n bind 127.0.0.1:18080\n log ring@r local0\n"
		lines := strings.Count(text, "\n") + 1
		c, ds := Parse([]Input{{Name: "fuzz.cfg", Data: []byte(text)}}, Options{})
		for _, d := range ds {
			if d.Pos.Line < 0 || d.Pos.Line > lines {
				t.Fatalf("diagnostic outside the file: %+v", d)
			}
		}
		if c != nil {
			for _, r := range c.Rings {
				if r.MaxLen > r.Size || r.Size <= 0 {
					t.Fatalf("ring %s: maxlen %d size %d", r.Name, r.MaxLen, r.Size)
				}
			}
			RingLogDiags(c)
		}
	})
}
