package runtime_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

// Everything that would change traffic and is not implemented must stop
// the runtime with the line that asks for it.
func TestCompileRefusesWhatItDoesNotRun(t *testing.T) {
	head := "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
	// want "-" means the configuration must compile.
	cases := []struct{ cfg, want string }{
		{"frontend fe\n bind 127.0.0.1:8001\n http-request set-nice 10\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n option http-buffer-request\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"backend be\n server s 127.0.0.1:1\ndefaults named\n mode http\n http-request set-header x-a b\nfrontend fe from named\n bind 127.0.0.1:8001\n default_backend be\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n bind 127.0.0.1:8002 npn http/1.1\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", ":8] : bind option 'npn' is not supported"},
		{"frontend fe\n bind 127.0.0.1:8001 npn h2\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", ":7] : bind option 'npn' is not supported"},
		{"frontend fe\n bind 127.0.0.1:8001 accept-proxy\n default_backend be\nbackend be\n server s 127.0.0.1:1 send-proxy-v2 proxy-v2-options crc32c check-send-proxy\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option tcp-check\n tcp-check connect\n tcp-check connect port 81\n server s 127.0.0.1:1 check check-send-proxy\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option tcp-check\n tcp-check connect via-socks4\n server s 127.0.0.1:1 check socks4 127.0.0.1:2 check-via-socks4\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n balance rdp-cookie\n server s 127.0.0.1:1\n", "-"},
		{"global\n ssl-load-extra-files all\nfrontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"global\n ssl-load-extra-files key ocsp\nfrontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "'ssl-load-extra-files' is not supported"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n balance rdp-cookie foo\n server s 127.0.0.1:1\n", "'balance rdp-cookie foo' in backend 'be' is not supported"},
		{"frontend fe\n bind 127.0.0.1:8001\n tcp-request inspect-delay 1s\n tcp-request content accept\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n mode tcp\n tcp-request content accept if RDP_COOKIE\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1 ssl verify none allow-0rtt\n", ":10] : 'server be/s' : 'allow-0rtt' : allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data"},
		// Without TLS to the server there is no early data to send.
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1 allow-0rtt\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server x 127.0.0.1:1 check\n server s 127.0.0.1:1 track be/x on-marked-down shutdown-sessions\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1 slowstart 10s check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n acl x ssl_fc_session_id\n use_backend be if x\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", ":8] : acl 'x': fetch method 'ssl_fc_session_id': not implemented"},
		{"frontend fe\n mode tcp\n bind 127.0.0.1:8001\n use_backend be if { src 10.0.0.0/8 }\n default_backend be\nbackend be\n mode tcp\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n mode tcp\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n server s 127.0.0.1:1\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option tcp-check\n tcp-check connect\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG\n tcp-check send-binary 0a0b\n tcp-check expect ! rstring ^-ERR\n server s 127.0.0.1:1 check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option redis-check\n server s 127.0.0.1:1 check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option tcp-check\n tcp-check expect string-lf x\n server s 127.0.0.1:1 check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option httpchk\n http-check connect ssl\n server s 127.0.0.1:1 check\n", "'http-check connect ssl' is not supported"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option mysql-check user haproxy\n server s 127.0.0.1:1 check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n option spop-check\n server s 127.0.0.1:1 check\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n balance uri\n hash-type consistent djb2\n hash-balance-factor 150\n server s 127.0.0.1:1 id 4 maxqueue 3 maxconn 2\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n cookie SRV insert maxidle 30m\n server s 127.0.0.1:1 cookie a\n", "-"},
		{"frontend fe\n bind 127.0.0.1:8001\n default_backend be\nbackend be\n cookie SRV insert dynamic\n server s 127.0.0.1:1\n", "-"},
	}
	for i, c := range cases {
		inputs, err := parser.ReadInputs([]string{writeCfg(t, head+c.cfg)})
		if err != nil {
			t.Fatal(err)
		}
		cfg, diags := parser.Parse(inputs, parser.Options{})
		if diags.HasErrors() {
			t.Fatalf("case %d: %v", i, diags)
		}
		_, errs := runtime.Compile(cfg, runtime.Options{})
		got := fmt.Sprint(errs)
		if c.want == "-" {
			if len(errs) != 0 {
				t.Errorf("case %d: refused a supported config: %s", i, got)
			}
			continue
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("case %d: want %q in %s", i, c.want, got)
		}
	}
}

func TestServerTemplate(t *testing.T) {
	s1 := startEcho(t, "s1")
	fe := freePort(t)
	e := startGohap(t, fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n server-template web 2-4 %s weight 2\n", fe, s1.Addr()), nil)
	for i := 0; i < 6; i++ {
		if st, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); st != 200 || srv != "s1" {
			t.Fatalf("request %d: %d %s", i, st, srv)
		}
	}
	snap := e.Snapshot()
	var got []string
	for _, s := range snap[0].Servers {
		got = append(got, fmt.Sprintf("%s:%d:%d", s.Name, s.Weight, s.Total))
	}
	if strings.Join(got, " ") != "web2:2:2 web3:2:2 web4:2:2" {
		t.Errorf("servers %v", got)
	}
}

// 'gohap check' reports what 'gohap run' would refuse, keywords and
// forms alike, each once.
func TestCheckReportsRuntimeRefusals(t *testing.T) {
	text := "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n" +
		"frontend fe\n bind 127.0.0.1:8001\n bind 127.0.0.1:8002 npn http/1.1\n default_backend be\n" +
		"backend be\n cookie SRV insert dynamic\n server s 127.0.0.1:1 ssl verify none allow-0rtt\n"
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res := runtime.Check(cfg, runtime.CheckOptions{})
	var got []string
	for _, d := range res.Diags {
		if d.Hint == "unsupported" {
			got = append(got, fmt.Sprintf("%d %s", d.Pos.Line, d.Msg))
		}
	}
	want := []string{
		"8 bind option 'npn' is not supported by the gohap runtime yet; 'gohap run' will refuse this configuration.",
		"12 'server be/s' : 'allow-0rtt' : allow-0rtt is not supported: Go's TLS stack sends no TLS 1.3 early data; 'gohap run' will refuse this configuration.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Diags.HasErrors() {
		t.Errorf("notices must not be errors: %v", res.Diags)
	}
}
