package logging

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseTargetFields(t *testing.T) {
	cases := []struct {
		line string
		want TargetConfig
	}{
		{"log 127.0.0.1 local0", TargetConfig{Kind: UDP, Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:514"), MaxLen: 1024, Facility: 16, Level: LevelDebug}},
		{"log udp6@[::1]:1514 len 200 format rfc5424 user info err", TargetConfig{Kind: UDP, Network: "udp6", Addr: netip.MustParseAddrPort("[::1]:1514"), MaxLen: 200, Format: SyslogRFC5424, Facility: 1, Level: LevelInfo, MinLevel: LevelErr}},
		{"log /dev/log local7", TargetConfig{Kind: UnixDgram, Network: "unixgram", Path: "/dev/log", MaxLen: 1024, Facility: 23, Level: LevelDebug}},
		{"log stdout format raw daemon", TargetConfig{Kind: FD, FD: 1, MaxLen: 1024, Format: SyslogRaw, Facility: 3, Level: LevelDebug}},
		{"log stderr local0", TargetConfig{Kind: FD, FD: 2, MaxLen: 1024, Facility: 16, Level: LevelDebug}},
		{"log tcp@10.0.0.1:601 local0", TargetConfig{Kind: Stream, Network: "tcp", Addr: netip.MustParseAddrPort("10.0.0.1:601"), MaxLen: 1024, Facility: 16, Level: LevelDebug}},
		{"log syslog.example:1514 local0", TargetConfig{Kind: UDP, Network: "udp", Host: "syslog.example", Port: 1514, MaxLen: 1024, Facility: 16, Level: LevelDebug}},
		{"log ring@buf local0", TargetConfig{Kind: Ring, Path: "buf", MaxLen: 1024, Facility: 16, Level: LevelDebug}},
		{"log global", TargetConfig{Global: true}},
	}
	for _, c := range cases {
		got, err := ParseTarget(strings.Fields(c.line))
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		got.Raw = ""
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
}

// logLines are "log" arguments checked against haproxy -c in the global
// section ("" means accepted).
var logLines = []string{
	"127.0.0.1 local0",
	"127.0.0.1:1514 len 80 format rfc5424 sample 1-2,5:6 local0 info notice",
	"1.2.3.4:99999 local0",
	"foo@bar local0",
	"127.0.0.1 len 10 local0",
	"127.0.0.1 len 65536 local0",
	"127.0.0.1 len abc local0",
	"127.0.0.1 len local0",
	"127.0.0.1 format bogus local0",
	"127.0.0.1 format local0",
	"127.0.0.1 bogusfac",
	"127.0.0.1 local0 bogus",
	"127.0.0.1 local0 info bogus",
	"127.0.0.1 local0 info err extra",
	"127.0.0.1 format raw len 100 local0",
	"127.0.0.1 sample 1:0 local0",
	"127.0.0.1 sample 2-1:5 local0",
	"127.0.0.1 sample 1-3,2:5 local0",
	"127.0.0.1 sample 1-3:2 local0",
	"127.0.0.1 sample 1 local0",
	"127.0.0.1 sample :5 local0",
	"127.0.0.1 sample 1,,2:5 local0",
	"127.0.0.1 sample 0:5 local0",
	"127.0.0.1 sample 1:5x local0",
	"127.0.0.1",
	"global",
	"127.0.0.1:abc local0",
	"127.0.0.1:1-5 local0",
	"127.0.0.1:+5 local0",
	"fd@x local0",
	"fd@ local0",
	"udp@ local0",
	"udp4@127.0.0.1:514 local0",
	"ipv6@::1 local0",
	"[::1]:514 local0",
	"unix@/tmp/x.sock local0",
	"stdout format short daemon",
	"stderr local0 info",
	"tcp@127.0.0.1:6514 local0",
	"ring@foo local0",
}

var logAlertRe = regexp.MustCompile(`(?s)parsing \[[^]]*:2\] : log : (.*?)\n\[`)

func TestDifferentialParseTarget(t *testing.T) {
	if _, err := os.Stat(haproxyBin); err != nil {
		t.Skip("haproxy not installed at " + haproxyBin + ": differential test skipped")
	}
	dir := t.TempDir()
	agreed := 0
	for _, line := range logLines {
		cfg := fmt.Sprintf("global\n  log %s\nfrontend fe\n  mode http\n  bind 127.0.0.1:18080\n  log global\n  timeout client 1s\n", line)
		p := filepath.Join(dir, "g.cfg")
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, _ := exec.CommandContext(ctx, haproxyBin, "-c", "-f", p).CombinedOutput()
		cancel()
		want, rejected := "", false
		if m := logAlertRe.FindSubmatch(out); m != nil {
			want, rejected = string(m[1]), true
		} else if strings.Contains(string(out), "ALERT") && !strings.Contains(string(out), "ring") {
			t.Fatalf("%q: unexpected haproxy output:\n%s", line, out)
		}
		_, err := ParseGlobalTarget(append([]string{"log"}, strings.Fields(line)...))
		switch {
		case !rejected && err != nil:
			t.Errorf("%q: haproxy accepts, we say %q", line, err)
		case rejected && err == nil:
			t.Errorf("%q: haproxy says %q, we accept", line, want)
		case rejected && err.Error() != want:
			t.Errorf("%q:\n haproxy: %q\n gohap:   %q", line, want, err.Error())
		default:
			agreed++
		}
	}
	t.Logf("%d/%d log lines agree with haproxy -c", agreed, len(logLines))
}
