package logfmt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const haproxyBin = "/usr/sbin/haproxy"

// testFetches and testConvs stand in for the owner's sample engine: only
// the names the differential table uses.
var testFetches = map[string]bool{"src": true, "dst": true, "fc_err": true, "ssl_fc_sni": true, "ssl_fc_err": true,
	"ssl_c_err": true, "ssl_c_ca_err": true, "ssl_fc_is_resumed": true, "path": true, "capture.req.hdr": true, "int": true, "str": true}
var testConvs = map[string]bool{"lower": true, "upper": true, "hex": true, "base64": true}

func testSample(text string) (int, error) {
	n, err := ScanExpr(text)
	if err != nil {
		return 0, err
	}
	words := topWords(text[:n])
	if !testFetches[words[0]] {
		return 0, fmt.Errorf("unknown fetch method '%s'", words[0])
	}
	for _, c := range words[1:] {
		if !testConvs[c] {
			return 0, fmt.Errorf("unknown converter '%s'", c)
		}
	}
	if words[0] == "path" {
		// what HAProxy says of request-header fetches at log time
		return 0, Verbatim(fmt.Sprintf("sample fetch <%s> may not be reliably used here because it needs 'HTTP request headers' which is not available here", text))
	}
	return n, nil
}

// topWords returns the keywords of an expression ScanExpr accepted.
func topWords(e string) []string {
	var out []string
	for i := 0; i < len(e); {
		for i < len(e) && e[i] == ',' {
			i++
		}
		b := i
		for i < len(e) && isIDChar(e[i]) {
			i++
		}
		out = append(out, e[b:i])
		i, _ = scanArgs(e, i)
	}
	return out
}

var alertRe = regexp.MustCompile(`failed to parse log-format : (.*)\.\n`)

// haproxyCheck runs "haproxy -c" on a frontend using format and returns
// the log-format error text, "" when the configuration is accepted.
func haproxyCheck(t *testing.T, dir, format string, http bool) (string, bool) {
	mode := "tcp"
	if http {
		mode = "http"
	}
	cfg := fmt.Sprintf(`global
  log 127.0.0.1:5514 local0
defaults
  mode %s
  timeout client 1s
  timeout server 1s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:18080
  log global
  log-format '%s'
  default_backend be
backend be
  server s1 127.0.0.1:1
`, mode, strings.ReplaceAll(format, "'", `'\''`))
	p := filepath.Join(dir, "c.cfg")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, haproxyBin, "-c", "-f", p).CombinedOutput()
	if m := alertRe.FindSubmatch(out); m != nil {
		return string(m[1]), false
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running haproxy: %v", err)
	}
	if err != nil {
		t.Fatalf("haproxy rejected %q for another reason:\n%s", format, out)
	}
	return "", true
}

var diffFormats = []struct {
	f    string
	http bool
}{
	{HTTPLog, true}, {HTTPSLog, true}, {HTTPLogCLF, true}, {TCPLog, false}, {TCPLog, true},
	{"%foo", true}, {"%[src", true}, {"%{+Q}", true}, {"%5", true}, {"% x", true},
	{"%\tx", true}, {"%r", false}, {"%HM %HU", false}, {"%[nosuch]", true}, {"abc %", true},
	{"%{+Q", true}, {"%[src,lower", true}, {"%[src)", true}, {"%[src]x%[dst]", true}, {"%%", true},
	{"100%% sure", true}, {"%-x", true}, {"%{+Q,+X}ci:%{+X}cp", true}, {"%{+Q}o %f %{-Q}b", true}, {"%{+E}[src]", true},
	{"%[src,nosuchconv]", true}, {"%[src,]", true}, {"%[]", true}, {"%[", true}, {"%{", true},
	{"%{}f", true}, {"%{+Q}5", true}, {"%{}", true}, {"%ci%cp%Tw", false}, {"%Tq", false},
	{"%Ta %Ti %Tr %TR", false}, {"%CC", false}, {"%trg", false}, {"%tsc %ts", false}, {"text only", true},
	{"   leading and  trailing   ", true}, {"%[capture.req.hdr(0),lower] %{+Q}[path]", true}, {"%[str(a),upper]", true}, {"%[str(\"x)\")]", true}, {"%[src()", true},
	{"%[src]]", true}, {"%[src] %[src", true}, {"%bi:%bp %si:%sp", false}, {"%{+Q}hrl %{+Q}hsl", true}, {"%ID %H %pid %lc %rt", true},
	{"%ABC", true}, {"%t%T%Tl%Ts%ms", true}, {"%[src]\x01", true}, {"%[src\x01]", true}, {"%sslv/%sslc", true},
}

func TestDifferentialParse(t *testing.T) {
	if _, err := os.Stat(haproxyBin); err != nil {
		t.Skip("haproxy not installed at " + haproxyBin + ": differential test skipped")
	}
	dir := t.TempDir()
	agreed := 0
	for _, c := range diffFormats {
		want, ok := haproxyCheck(t, dir, c.f, c.http)
		_, err := ParseWith(c.f, Options{HTTP: c.http, Flags: LogFormatFlags, Sample: testSample})
		switch {
		case ok && err != nil:
			t.Errorf("%q (http=%v): haproxy accepts, Parse: %v", c.f, c.http, err)
		case !ok && err == nil:
			t.Errorf("%q (http=%v): haproxy rejects with %q, Parse accepts", c.f, c.http, want)
		case !ok && err.Error() != want:
			t.Errorf("%q (http=%v):\n haproxy: %q\n Parse:   %q", c.f, c.http, want, err.Error())
		default:
			agreed++
		}
	}
	t.Logf("%d/%d format strings agree with haproxy -c", agreed, len(diffFormats))
}
