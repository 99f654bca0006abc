package parser

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenSep = "----- diagnostics -----\n"

// render prints diagnostics the way cmd/gohap does, without pid and label
// padding, so golden files stay readable.
func render(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s: %s\n", d.Severity, d.Text())
		for _, l := range d.Detail {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestGolden parses each testdata/golden/*.txt configuration (the text
// before the separator) in default and compat mode and compares the
// diagnostics with the text after it.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg, want, ok := strings.Cut(string(b), goldenSep)
		if !ok {
			t.Fatalf("%s: no separator", f)
		}
		var got strings.Builder
		for _, compat := range []bool{false, true} {
			_, ds := Parse([]Input{{Name: "t.cfg", Data: []byte(cfg)}}, Options{Compat: compat, LookupEnv: testEnv().base})
			fmt.Fprintf(&got, "# compat=%v\n%s", compat, render(ds))
		}
		if *update {
			if err := os.WriteFile(f, []byte(cfg+goldenSep+got.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got.String() != want {
			t.Errorf("%s: diagnostics differ\n--- got\n%s--- want\n%s", f, got.String(), want)
		}
	}
}

// TestKeywordLines checks good and bad lines for keywords: each case is a
// line placed in a section, and the substring expected in the diagnostics
// ("" = no diagnostic).
func TestKeywordLines(t *testing.T) {
	cases := []struct{ section, line, want string }{
		{"global", "maxconn 4096", ""},
		{"global", "maxconn", "'maxconn' expects an integer argument."},
		{"global", "maxconn 1 2", "'maxconn' cannot handle unexpected argument '2'."},
		{"global", "daemon", ""},
		{"global", "user nosuchuser-gohap", "cannot find user id for 'nosuchuser-gohap' (0:Success)"},
		{"global", "group root", ""},
		{"global", "lua-load /nonexistent/x.lua", "error in Lua file '/nonexistent/x.lua': cannot open /nonexistent/x.lua: No such file or directory"},
		{"global", "stats socket ./x.sock", "'stats socket' : missing port specification in './x.sock'"},
		{"global", "tune.bufsize 16384", ""},
		{"global", "nbproc 1", "'nbproc' is legacy 1.x syntax"},
		{"global", "frob 1", "unknown keyword 'frob' in 'global' section"},
		{"global", "no daemon", "negation/default currently supported only for options"},
		{"frontend fe", "bind 127.0.0.1:8080", ""},
		{"frontend fe", "bind [::1]:8080,127.0.0.1:8081", ""},
		{"frontend fe", "bind 127.0.0.1", "'bind' : missing port specification in '127.0.0.1'"},
		{"frontend fe", "bind", "'bind' expects {<path>|[addr1]:port1[-end1]}"},
		{"frontend fe", "bind quic4@:443", "QUIC is not compiled in"},
		{"frontend fe", "bind :443 ssl crt /nonexistent.pem", "unable to stat SSL certificate from file '/nonexistent.pem' : No such file or directory."},
		{"frontend fe", "bind unix@/tmp/x.sock", ""},
		{"defaults", "bind :80", "'bind' not allowed in 'defaults' section."},
		{"frontend fe", "mode http", ""},
		{"frontend fe", "mode udp", "unknown proxy mode 'udp'."},
		{"frontend fe", "mode health", "'mode health' doesn't exist anymore."},
		{"frontend fe", "timeout client 5s", ""},
		{"frontend fe", "timeout client 5x", "unexpected character 'x' in 'timeout client'"},
		{"frontend fe", "timeout client", "'timeout client' expects an integer value (in milliseconds)"},
		{"frontend fe", "timeout client 30d", "timer overflow in argument '30d' to 'timeout client'"},
		{"frontend fe", "timeout client 5s 6s", "unexpected extra argument '6s' after value '5s'"},
		{"frontend fe", "timeout nope 1s", "'timeout' supports 'client', 'server'"},
		{"frontend fe", "timeout server 1s", "'timeout server' will be ignored because frontend 'fe' has no backend capability"},
		{"backend be", "timeout client 1s", "'timeout client' will be ignored because backend 'be' has no frontend capability"},
		{"frontend fe", "clitimeout 5000", "'clitimeout' is legacy 1.x syntax"},
		{"frontend fe", "balance roundrobin", "'balance' ignored because frontend 'fe' has no backend capability."},
		{"backend be", "balance roundrobin", ""},
		{"backend be", "balance bogus", "balance only supports 'roundrobin', 'static-rr'"},
		{"backend be", "server s1 127.0.0.1:80 check", ""},
		{"backend be", "server s1", "'server' expects <name> and <addr>[:<port>] as arguments."},
		{"frontend fe", "server s1 1.2.3.4:80", "'server' not allowed because frontend 'fe' has no backend capability."},
		{"frontend fe", "acl a path_beg /a", ""},
		{"frontend fe", "acl a! path_beg /a", "character '!' is not permitted in acl name 'a!'."},
		{"frontend fe", "use_backend be if nope", "no such ACL : 'nope'"},
		{"frontend fe", "use_backend be if TRUE", ""},
		{"frontend fe", "use_backend be foo", "unexpected keyword 'foo' after switching rule"},
		{"frontend fe", "use_backend", "'use_backend' expects a backend name."},
		{"frontend fe", "default_backend", "'default_backend' expects a backend name."},
		{"frontend fe", "option forwardfor", ""},
		{"frontend fe", "no option forwardfor", "negation/default is not supported for option 'forwardfor'."},
		{"frontend fe", "option httpclosee", "unknown option 'httpclosee'; did you mean 'httpclose' maybe ?"},
		{"frontend fe", "option forceclose", "'option forceclose' is legacy 1.x syntax"},
		{"frontend fe", "option", "'option' expects an option name."},
		{"frontend fe", "reqadd X-Foo:\\ bar", "'reqadd' is legacy 1.x syntax"},
		{"frontend fe", "retriez 3", "unknown keyword 'retriez' in 'frontend' section; did you mean 'retries' maybe ?"},
		{"frontend fe", "http-error status 429 lf-file /nonexistent/429.http", "http-error : error opening file '/nonexistent/429.http'"},
		{"resolvers dns", "nameserver [fd12::10]:53", "'nameserver' expects <name> and <addr>[:<port>] as arguments."},
		{"resolvers dns", "nameserver ns1 127.0.0.1:53", ""},
	}
	for _, c := range cases {
		cfg := c.section + "\n    " + c.line + "\n"
		_, ds := Parse([]Input{{Name: "k.cfg", Data: []byte(cfg)}}, Options{})
		got := render(ds)
		if c.want == "" {
			if got != "" {
				t.Errorf("[%s] %q: unexpected diagnostics:\n%s", c.section, c.line, got)
			}
			continue
		}
		if !strings.Contains(got, c.want) || !strings.Contains(got, "k.cfg:2]") {
			t.Errorf("[%s] %q: want %q at k.cfg:2, got:\n%s", c.section, c.line, c.want, got)
		}
	}
}

func TestTooManyFatalErrorsStops(t *testing.T) {
	var b strings.Builder
	b.WriteString("frontend fe\n")
	for i := 0; i < 80; i++ {
		b.WriteString(" nonsense\n")
	}
	_, ds := Parse([]Input{{Name: "m.cfg", Data: []byte(b.String())}}, Options{})
	if n := len(ds); n != maxFatal {
		t.Errorf("%d diagnostics, want %d", n, maxFatal)
	}
}

func TestDefaultsInheritance(t *testing.T) {
	cfg := "defaults\n mode http\n timeout client 5s\n option forwardfor\n balance leastconn\n" +
		"frontend fe\n bind :80\n default_backend be\n" +
		"defaults named\n mode tcp\n" +
		"backend be\n server s 127.0.0.1:1\n" +
		"backend be2 from named\n"
	c, ds := Parse([]Input{{Name: "d.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	fe, be, be2 := c.Proxies[0], c.Proxies[1], c.Proxies[2]
	if fe.Mode != "http" || fe.Timeouts["client"].Seconds() != 5 || !fe.Options["forwardfor"] {
		t.Errorf("frontend did not inherit: %+v", fe)
	}
	// A new defaults section resets what later proxies inherit.
	if be.Mode != "tcp" || len(be.Balance) != 0 || be.Options["forwardfor"] {
		t.Errorf("backend should inherit the second defaults: mode %s balance %v", be.Mode, be.Balance)
	}
	if be2.From != "named" || be2.Mode != "tcp" {
		t.Errorf("be2: %+v", be2)
	}
	if len(c.Files) != 1 || len(c.Files[0].Lines) != 13 || c.Files[0].Lines[1].Raw != " mode http\n" {
		t.Errorf("AST does not keep the lines: %d", len(c.Files[0].Lines))
	}
}

// A file of many more tokens than one grammar run takes gives every line,
// in order, with its words and positions, across the chunk boundaries.
func TestParseTokensAcrossChunks(t *testing.T) {
	var b strings.Builder
	const n = 5000
	for i := 1; i <= n; i++ {
		switch i % 4 {
		case 0:
			b.WriteString("\n")
		case 1:
			fmt.Fprintf(&b, "    # comment %d\n", i)
		default:
			fmt.Fprintf(&b, "  w%d %s x\n", i, strings.Repeat("a ", i%7))
		}
	}
	toks := (&lexState{env: newEnv(nil)}).lexFile("big.cfg", []byte(b.String())).toks
	if len(toks) < 3*chunkTokens {
		t.Fatalf("only %d tokens: the file must span several chunks", len(toks))
	}
	f, err := parseTokens(toks)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Lines) != n {
		t.Fatalf("%d lines, want %d", len(f.Lines), n)
	}
	for i, l := range f.Lines {
		if l.Pos.Line != i+1 {
			t.Fatalf("line %d has position %d", i+1, l.Pos.Line)
		}
		if (i+1)%4 >= 2 {
			want := append([]string{fmt.Sprintf("w%d", i+1)}, append(strings.Fields(strings.Repeat("a ", (i+1)%7)), "x")...)
			if got := l.Args(); strings.Join(got, " ") != strings.Join(want, " ") || l.Words[0].Pos.Column != 3 {
				t.Fatalf("line %d: words %q at column %d, want %q at 3", i+1, got, l.Words[0].Pos.Column, want)
			}
		} else if len(l.Words) != 0 {
			t.Fatalf("line %d: words %q, want none", i+1, l.Args())
		}
	}
}
