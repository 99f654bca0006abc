package parser

import (
	"reflect"
	"strings"
	"testing"
)

// Check rules are read once into fields; forms the runtime does not run
// carry its message.
func TestParseCheckRule(t *testing.T) {
	for _, c := range []struct {
		line string
		want CheckRule
	}{
		{"http-check connect port 8080 linger comment c1", CheckRule{Action: "connect", Port: "8080", Linger: true, Comment: "c1"}},
		{"http-check connect ssl", CheckRule{Action: "connect", Refused: "'http-check connect ssl' is not supported by the gohap runtime yet."}},
		{"http-check send meth GET uri /h ver HTTP/1.1 hdr Host x body b", CheckRule{Action: "send",
			Send: CheckSend{Meth: "GET", URI: "/h", Ver: "HTTP/1.1", Body: "b", Hdrs: [][2]string{{"Host", "x"}}}}},
		{"http-check send uri-lf /%[src] body-lf %[srv_name]", CheckRule{Action: "send", Send: CheckSend{URI: "/%[src]", URILF: true, Body: "%[srv_name]", BodyLF: true}}},
		{"http-check set-var(check.x) str(a)", CheckRule{Action: "set-var", Var: "check.x", Expr: "str(a)"}},
		{"http-check unset-var(check.x)", CheckRule{Action: "unset-var", Var: "check.x"}},
		{"http-check connect addr 127.0.0.1 port 81 proto h2", CheckRule{Action: "connect", Addr: "127.0.0.1", Port: "81", Proto: "h2"}},
		{"http-check expect hdr name-lf %[var(check.n)] value-lf -m sub x", CheckRule{Action: "expect",
			Expect: CheckExpect{Match: "hdr", HdrName: "%[var(check.n)]", NameLF: true, HdrValueMeth: "sub", HdrValue: "x", ValueLF: true, HasValue: true}}},
		{"tcp-check expect min-recv 5 ! rstring ^e", CheckRule{Action: "expect", Expect: CheckExpect{Neg: true, Match: "rstring", Pattern: "^e", MinRecv: 5, HasMinRecv: true}}},
		{"http-check expect ! rstatus ^5 comment bad", CheckRule{Action: "expect", Comment: "bad", Expect: CheckExpect{Neg: true, Match: "rstatus", Pattern: "^5"}}},
		{"http-check expect hdr name -m beg x- value -m sub y full", CheckRule{Action: "expect",
			Expect: CheckExpect{Match: "hdr", HdrNameMeth: "beg", HdrName: "x-", HdrValueMeth: "sub", HdrValue: "y", HasValue: true, Full: true}}},
		{"tcp-check send PING\\r\\n", CheckRule{Action: "send", Data: []byte("PING\\r\\n")}},
		{"tcp-check send-binary 0a0B", CheckRule{Action: "send-binary", Data: []byte{0x0a, 0x0b}}},
		{"tcp-check send-binary 0a0", CheckRule{Action: "send-binary", Refused: "'tcp-check send-binary': expects one even-length hexadecimal string"}},
		{"tcp-check expect ! binary ff comment z", CheckRule{Action: "expect", Comment: "z", Expect: CheckExpect{Neg: true, Match: "binary", Pattern: "ff", Binary: []byte{0xff}}}},
		{"tcp-check expect rbinary ff", CheckRule{Action: "expect", Expect: CheckExpect{Match: "rbinary", Pattern: "ff"}}},
		{"tcp-check expect string ok error-status L7STS on-error %[res.payload(0,2)] ok-status l6ok tout-status L4TOUT on-success yes status-code int(3)",
			CheckRule{Action: "expect", Expect: CheckExpect{Match: "string", Pattern: "ok", ErrStatus: "L7STS", OnError: "%[res.payload(0,2)]",
				OkStatus: "L6OK", ToutStatus: "L4TOUT", OnSuccess: "yes", StatusCode: "int(3)"}}},
		{"tcp-check expect string ok error-status L9", CheckRule{Action: "expect",
			Refused: "'tcp-check expect' : 'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'L9')."}},
		{"http-check expect string-lf %[var(check.b)] on-error nope", CheckRule{Action: "expect", Expect: CheckExpect{Match: "string-lf", Pattern: "%[var(check.b)]", OnError: "nope"}}},
		{"tcp-check send-lf %[src]", CheckRule{Action: "send-lf", Data: []byte("%[src]"), LF: true}},
	} {
		w := strings.Fields(c.line)
		got := parseCheckRule(Pos{}, w[0], w[1:])
		c.want.Keyword, c.want.Text = w[0], strings.Join(w[1:], " ")
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.line, *got, c.want)
		}
	}
}

// The arguments of the check options are read when the option is set and
// inherited with it.
func TestCheckOptions(t *testing.T) {
	cfg, ds := Parse([]Input{{Name: "c.cfg", Data: []byte("defaults\n mode http\n option httpchk GET /h HTTP/1.0\\r\\nHost:\\ x\nbackend a\n option smtpchk EHLO d\nbackend b\n option mysql-check user u pre-41\nbackend c\n option pgsql-check user p\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	a := cfg.Proxies[0]
	if s := a.CheckOpts.HTTPChk; s == nil || s.Meth != "GET" || s.URI != "/h" || s.Ver != "HTTP/1.0" || !reflect.DeepEqual(s.Hdrs, [][2]string{{"Host", "x"}}) {
		t.Errorf("httpchk: %+v", s)
	}
	if a.CheckOpts.SMTPHello != "EHLO d" || cfg.Proxies[1].CheckOpts.MySQLUser != "u" || !cfg.Proxies[1].CheckOpts.MySQLPre41 || cfg.Proxies[2].CheckOpts.PgSQLUser != "p" {
		t.Errorf("check options: %+v %+v %+v", a.CheckOpts, cfg.Proxies[1].CheckOpts, cfg.Proxies[2].CheckOpts)
	}
	if cfg.Proxies[1].CheckOpts.HTTPChk != a.CheckOpts.HTTPChk {
		t.Errorf("the inherited httpchk request is not shared")
	}
}

// As HAProxy builds check rule sets: a proxy's own option httpchk drops
// the rules of its defaults; its own rules without it start from the
// default request.
func TestHTTPCheckRuleSets(t *testing.T) {
	cfg, ds := Parse([]Input{{Name: "c.cfg", Data: []byte("defaults\n mode http\n option httpchk GET /status HTTP/1.1\n http-check send hdr Host h\n" +
		"backend own-option\n option httpchk\nbackend inherit\nbackend own-rules\n http-check send hdr Host o\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := cfg.Proxies
	if s := p[0].CheckOpts.HTTPChk; s.Meth != "OPTIONS" || len(p[0].HTTPChecks) != 0 {
		t.Errorf("own option: %+v, %d rules", s, len(p[0].HTTPChecks))
	}
	if s := p[1].CheckOpts.HTTPChk; s.URI != "/status" || len(p[1].HTTPChecks) != 1 {
		t.Errorf("inherited: %+v, %d rules", s, len(p[1].HTTPChecks))
	}
	if s := p[2].CheckOpts.HTTPChk; s.Meth != "OPTIONS" || s.URI != "/" || len(p[2].HTTPChecks) != 1 || p[2].HTTPChecks[0].Send.Hdrs[0][1] != "o" {
		t.Errorf("own rules: %+v, %+v", s, p[2].HTTPChecks)
	}
}
