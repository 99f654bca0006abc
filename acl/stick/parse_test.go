package stick

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// parseCases are stick-table lines with HAProxy 2.6's diagnostics for them
// (empty when valid), as "haproxy -c" prints them after "config : ".
var parseCases = []struct {
	line string
	want []string
}{
	{"stick-table type ip size 1k", nil},
	{"stick-table type ip size 1k expire 30s store http_req_rate(10s),conn_cur,conn_cnt,gpc0,http_err_rate(10s),bytes_out_rate(10s)", nil},
	{"stick-table type ip size 1k store gpc0,gpc0", []string{"W parsing [F:3]: stick-table: store option 'gpc0' already enabled, ignored."}},
	{"stick-table type ip size 1k store server_name,server_key", []string{"W parsing [F:3]: stick-table: store option 'server_key' already enabled, ignored."}},
	{"stick-table type ip size 1k store foo", []string{"A parsing [F:3] : stick-table: unknown store option 'foo'."}},
	{"stick-table type ip size 1k store conn_rate", []string{"A parsing [F:3] : stick-table: missing argument to store option 'conn_rate'."}},
	{"stick-table type ip size 1k store conn_cnt(3)", []string{"A parsing [F:3] : stick-table: unexpected argument to store option 'conn_cnt'."}},
	{"stick-table type ip size 1k store gpc(0)", []string{"A parsing [F:3] : stick-table: array size is out of allowed range (1-100) for store option 'gpc'."}},
	{"stick-table type ip size 1k store gpc(101)", []string{"A parsing [F:3] : stick-table: array size is out of allowed range (1-100) for store option 'gpc'."}},
	{"stick-table type ip size 1k store gpc(-1)", []string{"A parsing [F:3] : stick-table: array size is out of allowed range (1-100) for store option 'gpc'."}},
	{"stick-table type ip size 1k store gpc(100),gpt(3),gpc_rate(2,1s)", nil},
	{"stick-table type ip size 1k store gpc_rate(3)", []string{"A parsing [F:3] : stick-table: missing argument to store option 'gpc_rate'."}},
	{"stick-table type ip size 1k store gpc_rate(3,10s", []string{"A parsing [F:3] : stick-table: missing closing parenthesis after store option 'gpc_rate'."}},
	{"stick-table type ip size 1k store gpc_rate(2,3,1s)", nil},
	{"stick-table type ip size 1k store conn_rate(10x)", []string{"A parsing [F:3] : stick-table: error when processing store option 'conn_rate'."}},
	{"stick-table type ip size 1k store conn_rate()", []string{"A parsing [F:3] : stick-table: error when processing store option 'conn_rate'."}},
	{"stick-table type ip size 1k store conn_rate(99999999d)", []string{"A parsing [F:3] : stick-table: error when processing store option 'conn_rate'."}},
	{"stick-table type ip size 1k store conn_rate(10s)junk", nil},
	{"stick-table type ip size 1k store conn_rate(10sx)", []string{"W unexpected character 'x' after the timer value '10sx', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."}},
	{"stick-table type ip size 1k store gpc(2),gpc0", []string{"A parsing [F:3] : stick-table: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'."}},
	{"stick-table type ip size 1k store gpt(2),gpt0", []string{"A parsing [F:3] : stick-table: simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'."}},
	{"stick-table type ip size 1k store gpc_rate(2,1s),gpc1_rate(1s)", []string{"A parsing [F:3] : stick-table: simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'."}},
	{"stick-table type ip size 1k store ,gpc0", []string{"A parsing [F:3] : stick-table: unknown store option ''."}},
	{"stick-table type ip size 1k store gpc0,", nil},
	{"stick-table type ip size 1k store", nil},
	{"stick-table type ip", []string{"A parsing [F:3] : stick-table: missing size."}},
	{"stick-table size 1k", []string{"A parsing [F:3] : stick-table: missing type."}},
	{"stick-table type foo size 1k", []string{"A parsing [F:3] : stick-table: unknown type 'foo'."}},
	{"stick-table type", []string{"A parsing [F:3] : stick-table: unknown type ''."}},
	{"stick-table type string len 0 size 1k", []string{"A parsing [F:3] : stick-table: unknown type '0'."}},
	{"stick-table type string len 10x size 1k", nil},
	{"stick-table type binary len 8 size 1m", nil},
	{"stick-table type ip len 5 size 1k", []string{"A parsing [F:3] : stick-table: unknown argument 'len'."}},
	{"stick-table type ip size 1x", []string{"A parsing [F:3] : stick-table: unexpected character 'x' in argument of 'size'."}},
	{"stick-table type ip size 1kb", []string{"A parsing [F:3] : stick-table: unexpected character 'b' in argument of 'size'."}},
	{"stick-table type ip size 5g", []string{"A parsing [F:3] : stick-table: unexpected character 'g' in argument of 'size'."}},
	{"stick-table type ip size", []string{"A parsing [F:3] : stick-table: missing argument after 'size'."}},
	{"stick-table type ip size 0", []string{"A parsing [F:3] : stick-table: missing size."}},
	{"stick-table type ip size 1k expire 99999999d", []string{"A parsing [F:3]: stick-table: timer overflow in argument <99999999d> to <expire>, maximum value is 2147483647 ms (~24.8 days)."}},
	{"stick-table type ip size 1k expire 1us", nil},
	{"stick-table type ip size 1k expire 0", nil},
	{"stick-table type ip size 1k expire 1q", []string{"A parsing [F:3] : stick-table: unexpected character 'q' in argument of 'expire'."}},
	{"stick-table type ip size 1k expire", []string{"A parsing [F:3] : stick-table: missing argument after 'expire'."}},
	{"stick-table type ip size 1k expire 10sx", []string{"W unexpected character 'x' after the timer value '10sx', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."}},
	{"stick-table type ip size 1k srvkey foo", []string{"A parsing [F:3] : stick-table : unknown server key type 'foo'."}},
	{"stick-table type ip size 1k srvkey", []string{"A parsing [F:3] : stick-table : unknown server key type ''."}},
	{"stick-table type ip size 1k srvkey addr nopurge peers p", nil},
	{"stick-table type ip size 1k peers", []string{"A parsing [F:3] : stick-table: missing argument after 'peers'."}},
	{"stick-table type ip size 1k bar", []string{"A parsing [F:3] : stick-table: unknown argument 'bar'."}},
	{"stick-table type ip size 1k write-to x", []string{"A parsing [F:3] : stick-table: unknown argument 'write-to'."}},
}

// render prints msgs as the lines checked above.
func render(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		sev := "A "
		if m.Warning {
			sev = "W "
		}
		switch {
		case m.NoPos:
			out = append(out, sev+m.Text)
		case m.Tight:
			out = append(out, sev+"parsing [F:3]: "+m.Text)
		default:
			out = append(out, sev+"parsing [F:3] : "+m.Text)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		_, msgs := Parse(strings.Fields(c.line), "fe", false)
		if got := render(msgs); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.line, got, c.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	c, msgs := Parse(strings.Fields("stick-table type string len 10 size 2k expire 1m nopurge peers p srvkey addr store gpc_rate(3,5s),http_req_rate(10s),server_id"), "be", false)
	if HasErrors(msgs) {
		t.Fatal(msgs)
	}
	if c.Type != KeyString || c.KeySize != 11 || c.Size != 2048 || c.Expire != 60000 || !c.NoPurge || c.Peers != "p" || c.SrvKey != SrvKeyAddr {
		t.Errorf("config %+v", c)
	}
	if s := c.Store[GPCRate]; !s.On || s.Elems != 3 || s.Period != 5000 {
		t.Errorf("gpc_rate %+v", s)
	}
	if s := c.Store[HTTPReqRate]; !s.On || s.Period != 10000 {
		t.Errorf("http_req_rate %+v", s)
	}
	c, msgs = Parse(strings.Fields("table t type ip size 10 peers x"), "p/t", true)
	if len(msgs) != 1 || msgs[0].Text != "table: unknown argument 'peers'." || c.Name != "p/t" {
		t.Errorf("peers section: %v", msgs)
	}
	if _, msgs = Parse([]string{"stick-table"}, "", false); len(msgs) != 1 || msgs[0].Text != "stick-table: ID not provided." {
		t.Errorf("no id: %v", msgs)
	}
}

// TestParseHAProxy runs haproxy -c on every case and compares its lines.
func TestParseHAProxy(t *testing.T) {
	bin := haproxyBin(t)
	dir := t.TempDir()
	pidRe := regexp.MustCompile(`^\[(ALERT|WARNING)\] +\(\d+\) : config : `)
	for _, c := range parseCases {
		cfg := filepath.Join(dir, "c.cfg")
		// line 3 holds the stick-table line in the expectations
		text := "global\nfrontend fe\n  " + c.line + "\n  mode http\n  timeout client 1s\n"
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
		var got []string
		for _, l := range strings.Split(string(out), "\n") {
			m := pidRe.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			rest := l[len(m[0]):]
			rest = strings.ReplaceAll(rest, cfg+":", "F:")
			if !strings.Contains(rest, "[F:3]") && !strings.HasPrefix(rest, "unexpected character") {
				continue
			}
			got = append(got, m[1][:1]+" "+rest)
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("haproxy on %q:\n got %q\nwant %q", c.line, got, c.want)
		}
	}
}

func haproxyBin(t testing.TB) string {
	bin := os.Getenv("HAPROXY_BIN")
	if bin == "" {
		bin = "haproxy"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Skip("haproxy not found; set HAPROXY_BIN to run the comparison")
	}
	return p
}
