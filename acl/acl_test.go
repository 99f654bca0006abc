package acl

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gohap/gohap/runtime/h1"
)

func txn(t testing.TB, req string) *Txn {
	t.Helper()
	buf := []byte(req)
	m := &h1.Msg{Headers: make([]h1.Header, 0, 101)}
	if err := h1.ParseRequest(buf, m, 101); err != nil {
		t.Fatalf("parse %q: %v", req, err)
	}
	return &Txn{Buf: buf, Req: m,
		Src: netip.MustParseAddrPort("10.1.2.3:40000"),
		Dst: netip.MustParseAddrPort("127.0.0.1:8080")}
}

const req = "GET /chat/room?id=42&name=Bob HTTP/1.1\r\nHost: ws.example.com:8080\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nX-List: a, b,c\r\nX-List: d\r\nContent-Length: 0\r\n\r\n"

func TestExprMatches(t *testing.T) {
	tx := txn(t, req)
	cases := []struct {
		fetch string
		args  []string
		want  bool
	}{
		{"hdr(Upgrade)", []string{"-i", "websocket"}, true},
		{"hdr(Upgrade)", []string{"websocket"}, false},
		{"hdr_beg(Host)", []string{"-i", "ws"}, true},
		{"hdr_beg(host)", []string{"www"}, false},
		{"hdr_end(host)", []string{":8080"}, true},
		{"hdr_sub(host)", []string{"example"}, true},
		{"hdr_dom(host)", []string{"example"}, true},
		{"hdr_dom(host)", []string{"exam"}, false},
		{"hdr_reg(host)", []string{`^ws\.`}, true},
		{"hdr_len(host)", []string{"19"}, true},
		{"hdr_cnt(x-list)", []string{"4"}, true},
		{"hdr(x-list,-1)", []string{"d"}, true},
		{"hdr(x-list,2)", []string{"b"}, true},
		{"req.fhdr(x-list,1)", []string{"a, b,c"}, true},
		{"hdr_found(upgrade)", nil, true},
		{"hdr_found(nope)", nil, false},
		{"hdr_val(content-length)", []string{"eq", "0"}, true},
		{"path", []string{"/chat/room"}, true},
		{"path_beg", []string{"/chat"}, true},
		{"path_end", []string{"room"}, true},
		{"path_dir", []string{"chat"}, true},
		{"path_dir", []string{"cha"}, false},
		{"path_len", []string{"gt", "5"}, true},
		{"path_reg", []string{"^/chat/[a-z]+$"}, true},
		{"url", []string{"/chat/room?id=42&name=Bob"}, true},
		{"url_sub", []string{"name="}, true},
		{"base", []string{"ws.example.com:8080/chat/room"}, true},
		{"query", []string{"id=42&name=Bob"}, true},
		{"url_param(name)", []string{"Bob"}, true},
		{"urlp(id)", []string{"40:50"}, false}, // urlp is a string fetch
		{"urlp_val(id)", []string{"40:50"}, true},
		{"method", []string{"GET"}, true},
		{"method", []string{"POST"}, false},
		{"req.ver", []string{"1.1"}, true},
		{"src", []string{"10.0.0.0/8"}, true},
		{"src", []string{"192.168.0.0/16", "10.1.2.4"}, false},
		{"dst", []string{"127.0.0.1"}, true},
		{"dst_port", []string{"8080"}, true},
		{"src_port", []string{"ge", "1024"}, true},
		{"hdr(host)", []string{"-m", "beg", "ws."}, true},
		{"hdr(host)", []string{"-m", "found"}, true},
		{"hdr(host)", []string{"-m", "len", "19"}, true},
		{"hdr(host)", []string{"--", "-i"}, false},
	}
	for _, c := range cases {
		e, err := Compile(c.fetch, c.args)
		if err != nil {
			t.Errorf("%s %v: %v", c.fetch, c.args, err)
			continue
		}
		if got := e.Match(tx); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.fetch, c.args, got, c.want)
		}
	}
}

func TestPatternFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts.lst")
	if err := os.WriteFile(f, []byte("# hosts\nwww.example.com:8080\n\nws.example.com:8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Compile("hdr(host)", []string{"-f", f})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Match(txn(t, req)) {
		t.Fatal("pattern from file did not match")
	}
	if _, err := Compile("hdr(host)", []string{"-f", f + ".missing"}); err == nil {
		t.Fatal("missing pattern file accepted")
	}
}

func TestConditions(t *testing.T) {
	s := NewSet()
	add := func(name, fetch string, args ...string) {
		if err := s.Add(name, fetch, args); err != nil {
			t.Fatal(err)
		}
	}
	add("is_websocket", "hdr(Upgrade)", "-i", "WebSocket")
	add("is_websocket", "hdr_beg(Host)", "-i", "ws")
	add("is_post", "method", "POST")
	add("local", "src", "10.0.0.0/8")
	tx := txn(t, req)
	cases := []struct {
		cond string
		want bool
	}{
		{"if is_websocket", true},
		{"unless is_websocket", false},
		{"if is_post", false},
		{"if is_post || is_websocket", true},
		{"if is_post or local", true},
		{"if is_websocket !local", false},
		{"if is_websocket local", true},
		{"if !is_post", true},
		{"if { method GET } local", true},
		{"if { hdr(host) -i nope } || METH_GET", true},
		{"if HTTP_1.1 TRUE", true},
		{"if FALSE", false},
		{"if LOCALHOST", false},
		// parse_acl_cond's forms: no term, a lone "!", empty groups.
		{"if", false},
		{"unless", true},
		{"if !", false},
		{"if ! TRUE", false},
		{"if || TRUE", true},
		{"if FALSE ||", false},
		{"if FALSE OR TRUE", true},
		{"if !{ method POST }", true},
	}
	for _, c := range cases {
		cond, err := s.ParseCond(splitWords(c.cond))
		if err != nil {
			t.Errorf("%s: %v", c.cond, err)
			continue
		}
		if got := cond.Eval(tx); got != c.want {
			t.Errorf("%s = %v, want %v", c.cond, got, c.want)
		}
	}
	for _, bad := range []string{"when x", "if unknown_acl", "if { method }x", "if { method", "if { }"} {
		if _, err := s.ParseCond(splitWords(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var nilCond *Cond
	if !nilCond.Eval(tx) {
		t.Error("nil condition must be true")
	}
}

func TestNotImplemented(t *testing.T) {
	for _, f := range []string{"ssl_fc_session_id", "hdr(host),aes_gcm_dec(128,txn.nonce,Zm9v,txn.aead)"} {
		_, err := Compile(f, []string{"x"})
		if !errors.Is(err, ErrNotImplemented) {
			t.Errorf("%s: %v, want ErrNotImplemented", f, err)
		}
	}
}

func splitWords(s string) []string {
	var out []string
	w := ""
	for _, c := range s + " " {
		if c == ' ' {
			if w != "" {
				out = append(out, w)
			}
			w = ""
			continue
		}
		w += string(c)
	}
	return out
}

func BenchmarkCondEval(b *testing.B) {
	s := NewSet()
	_ = s.Add("is_websocket", "hdr(Upgrade)", []string{"-i", "WebSocket"})
	_ = s.Add("is_websocket", "hdr_beg(Host)", []string{"-i", "ws"})
	_ = s.Add("api", "path_beg", []string{"/api", "/v1"})
	cond, err := s.ParseCond([]string{"if", "is_websocket", "||", "api", "!LOCALHOST"})
	if err != nil {
		b.Fatal(err)
	}
	tx := txn(b, "GET /v1/x HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: b\r\n\r\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !cond.Eval(tx) {
			b.Fatal("no match")
		}
	}
}

// "!" glued to an anonymous ACL's brace negates it, as in the common
// "redirect scheme https if !{ ssl_fc }".
func TestNegatedAnonymousACL(t *testing.T) {
	set := NewSet()
	c, err := set.ParseCond([]string{"if", "!{", "ssl_fc", "}"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Eval(&Txn{}) {
		t.Errorf("!{ ssl_fc } is false without TLS")
	}
	if c.Eval(&Txn{TLS: &TLSInfo{Protocol: "TLSv1.3"}}) {
		t.Errorf("!{ ssl_fc } is true with TLS")
	}
}
