package acl

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/gohap/gohap/runtime/h1"
)

func eval(t *testing.T, tx *Txn, expr string) (string, bool) {
	t.Helper()
	s, err := CompileSample(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	b, ok := s.Append(nil, tx)
	return string(b), ok
}

// From reg-tests/http-rules/map_regm_with_backref.vtc.
func TestMapRegmBackref(t *testing.T) {
	for host, want := range map[string]string{"example.org": "example_AND_org", "www.example.org": "www.example_AND_org"} {
		tx := txn(t, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
		tx.Vars = &Vars{}
		s, _ := CompileSample("req.hdr(Host)")
		s.SetVar(tx, ScopeTxn, "host", 0)
		for _, e := range []string{`req.hdr(Host),map_regm(testdata/map_regm_with_backref.map,"unknown")`,
			`var(txn.host),map_regm(testdata/map_regm_with_backref.map,"unknown")`} {
			if got, _ := eval(t, tx, e); got != want {
				t.Errorf("%s with %s: %q, want %q", e, host, got, want)
			}
		}
	}
}

func TestMaps(t *testing.T) {
	tx := txn(t, req)
	cases := []struct{ expr, want string }{
		{"str(example.com),map(testdata/hosts.map)", "backend_a"},
		{"str(www.example.com),map_str(testdata/hosts.map,def)", "backend b with spaces"},
		{"str(nope),map_str(testdata/hosts.map,def)", "def"},
		{"str(foo.net),map_beg(testdata/hosts.map)", "be_foo"},
		{"str(a.foo.net),map_dom(testdata/hosts.map)", "be_foo"},
		{"str(10.1.2.3),map_ip(testdata/ips.map)", "net10_1"},
		{"str(10.2.2.3),map_ip(testdata/ips.map)", "net10"},
		{"src,map_ip(testdata/ips.map,x)", "net10_1"},
		{"str(192.168.1.1),map_ip(testdata/ips.map)", "one"},
	}
	for _, c := range cases {
		if got, _ := eval(t, tx, c.expr); got != c.want {
			t.Errorf("%s: %q, want %q", c.expr, got, c.want)
		}
	}
	if _, ok := eval(t, tx, "str(nope),map(testdata/hosts.map)"); ok {
		t.Error("map without default must fail on a miss")
	}
}

// The registry shares a file between its users and updates them all.
func TestMapsRegistry(t *testing.T) {
	ctx := &Context{Maps: NewMaps()}
	a, err := CompileSampleWith("req.hdr(host),lower,map_str(testdata/hosts.map,none)", ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, err := CompileWith("req.hdr(host)", []string{"-M", "-f", "testdata/hosts.map"}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx := txn(t, "GET / HTTP/1.1\r\nHost: New.Example\r\n\r\n")
	if b, _ := a.Append(nil, tx); string(b) != "none" || e.Match(tx) {
		t.Fatalf("before add: %q %v", b, e.Match(tx))
	}
	r := ctx.Maps.Lookup("testdata/hosts.map")
	if r == nil {
		t.Fatal("no reference")
	}
	if err := r.Add("new.example", "be_new"); err != nil {
		t.Fatal(err)
	}
	if b, _ := a.Append(nil, tx); string(b) != "be_new" {
		t.Errorf("after add: %q", b)
	}
	tx2 := txn(t, "GET / HTTP/1.1\r\nHost: new.example\r\n\r\n")
	if !e.Match(tx2) {
		t.Error("acl -M -f must see the added entry")
	}
	if ok, _ := r.Set("new.example", "be_set"); !ok {
		t.Error("set map found nothing")
	}
	if b, _ := a.Append(nil, tx); string(b) != "be_set" {
		t.Errorf("after set: %q", b)
	}
	show := string(r.AppendShow(nil))
	if !strings.Contains(show, " new.example be_set\n") || !strings.HasPrefix(show, "0x1 example.com backend_a\n") {
		t.Errorf("show map:\n%s", show)
	}
	g := r.Get("new.example")
	if len(g) != 2 || !g[0].Found || g[0].Value != "be_set" {
		t.Errorf("get map: %+v", g)
	}
	if !r.Del("new.example") {
		t.Error("del map found nothing")
	}
	if b, _ := a.Append(nil, tx); string(b) != "none" {
		t.Errorf("after del: %q", b)
	}
	r.Clear()
	if len(r.Entries()) != 0 {
		t.Error("clear map left entries")
	}
	// Readers run while a writer updates.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			_ = r.Add("x", "y")
			r.Del("x")
		}
	}()
	tx3 := txn(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for i := 0; i < 200; i++ {
		a.Append(nil, tx3)
	}
	wg.Wait()
	// ACL pattern files and show acl.
	e2, err := CompileWith("path", []string{"-m", "beg", "-f", "testdata/paths.acl"}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !e2.Match(txn(t, "GET /static/x HTTP/1.1\r\n\r\n")) || e2.Match(txn(t, "GET /other HTTP/1.1\r\n\r\n")) {
		t.Error("pattern file match")
	}
	if s := string(ctx.Maps.Lookup("testdata/paths.acl").AppendShow(nil)); s != "0x1 /api\n0x2 /static\n" {
		t.Errorf("show acl: %q", s)
	}
	if _, err := CompileWith("path", []string{"-u", "7", "/x"}, ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Maps.Lookup("#7") == nil {
		t.Error("-u id not registered")
	}
	if _, err := CompileWith("path", []string{"-u", "7", "/y"}, ctx); err == nil || err.Error() != "the id is already used" {
		t.Errorf("duplicate -u: %v", err)
	}
}

// From reg-tests/sample_fetches/cond_set_var.vtc.
func TestSetVarConditions(t *testing.T) {
	tx := &Txn{Vars: &Vars{}}
	set := func(name, expr string, conds ...string) {
		t.Helper()
		c, err := ParseVarConds(conds)
		if err != nil {
			t.Fatal(err)
		}
		sc, n, _ := ParseVarName(name)
		s, err := CompileSample(expr)
		if err != nil {
			t.Fatal(err)
		}
		s.SetVar(tx, sc, n, c)
	}
	get := func(name string) string {
		sc, n, _ := ParseVarName(name)
		v, ok := tx.Vars.Value(sc, n)
		if !ok {
			return "<unset>"
		}
		return string(appendValue(nil, &v))
	}
	// Each step sets a variable under conditions; want is its value after.
	steps := []struct {
		name, expr string
		conds      []string
		want       string
	}{
		{"res.a", "str(toto)", []string{"ifexists"}, "<unset>"},
		{"res.b", "str(toto)", []string{"ifnotexists"}, "toto"},
		{"res.e", "str(ifempty_res)", nil, "ifempty_res"},
		{"res.ei", "int(5)", nil, "5"},
		{"res.e", "bin(746F746F)", []string{"ifempty"}, "ifempty_res"},
		{"res.ei", "str(toto)", []string{"ifempty"}, "5"},
		{"res.e", "str()", []string{"ifempty"}, ""},
		{"res.ei", "int(7)", []string{"ifempty"}, "5"},
		{"res.n", "str(x)", nil, "x"},
		{"res.n", "str()", []string{"ifnotempty"}, "x"},
		{"res.ni", "int(6)", []string{"ifnotempty"}, "6"},
		{"res.s", "int(123)", []string{"ifset"}, "<unset>"},
		{"res.u", "int(1)", []string{"ifnotset"}, "1"},
		{"res.u", "int(2)", []string{"ifnotset"}, "1"},
		{"res.g", "int(10)", nil, "10"},
		{"res.g", "int(5)", []string{"ifgt"}, "5"},
		{"res.g", "int(50)", []string{"ifgt"}, "5"},
		{"res.g", "int(1)", []string{"iflt"}, "5"},
		{"res.g", "int(9)", []string{"iflt"}, "9"},
	}
	for i, st := range steps {
		set(st.name, st.expr, st.conds...)
		if got := get(st.name); got != st.want {
			t.Errorf("step %d: %s %s %v: %q, want %q", i, st.name, st.expr, st.conds, got, st.want)
		}
	}
	if _, err := ParseVarConds([]string{"ifwhatever"}); err == nil || err.Error() != `unknown condition "ifwhatever"` {
		t.Errorf("bad condition: %v", err)
	}
	// The set-var converter stores and passes the sample on.
	if got, _ := eval(t, tx, "str(abc),set-var(txn.c),upper"); got != "ABC" || get("txn.c") != "abc" {
		t.Errorf("set-var converter: %s %s", got, get("txn.c"))
	}
	// var() keeps the type: an int var adds.
	if got, _ := eval(t, tx, "var(res.g),add(1)"); got != "10" {
		t.Errorf("typed var: %s", got)
	}
	if got, _ := eval(t, tx, "var(txn.none,dflt)"); got != "dflt" {
		t.Errorf("var default: %s", got)
	}
}

// From reg-tests/sample_fetches/cook.vtc.
func TestCookies(t *testing.T) {
	tx := txn(t, "GET / HTTP/1.1\r\nHost: x\r\nCookie: count=1\r\nCookie: count=2, other=3; count=4\r\n\r\n")
	for expr, want := range map[string]string{
		"req.cook_cnt(count)": "3", "req.cook_cnt()": "4", "req.cook(count)": "4",
		"req.cook()": "1", "req.cook_val(count)": "4", "cook(other)": "3",
	} {
		if got, _ := eval(t, tx, expr); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
	rsp := txn(t, "GET / HTTP/1.1\r\n\r\n")
	rsp.RspBuf = []byte("HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/\r\nSet-Cookie: lang=fr\r\n\r\n")
	// Reuse the request parser's layout through a tiny response parse.
	var m = parseRsp(t, rsp.RspBuf)
	rsp.Rsp = m
	if got, _ := eval(t, rsp, "res.cook(sid)"); got != "abc" {
		t.Errorf("res.cook: %q", got)
	}
	// As http_extract_cookie_value, attributes after the first pair count.
	if got, _ := eval(t, rsp, "res.cook_cnt"); got != "3" {
		t.Errorf("res.cook_cnt: %q", got)
	}
}

func TestPayload(t *testing.T) {
	tx := &Txn{Payload: []byte("\x00\x05hello world")}
	s, _ := CompileSample("req.len")
	v, ok := s.Eval(tx)
	if !ok || v.I != 13 || !v.MayChange {
		t.Errorf("req.len: %+v %v", v, ok)
	}
	if got, _ := eval(t, tx, "req.payload(2,5)"); got != "hello" {
		t.Errorf("req.payload: %q", got)
	}
	if got, _ := eval(t, tx, "req.payload_lv(0,2)"); got != "hello" {
		t.Errorf("req.payload_lv: %q", got)
	}
	if got, _ := eval(t, tx, "req.payload(0,4),hex"); got != "00056865" {
		t.Errorf("req.payload,hex: %q", got)
	}
	p, _ := CompileSample("req.payload(10,10)")
	if v, ok := p.Eval(tx); ok || !v.MayChange {
		t.Errorf("beyond the buffer must be a miss that may change: %v %v", ok, v.MayChange)
	}
	set := NewSet()
	if err := set.Add("long", "req.len", []string{"ge", "20"}); err != nil {
		t.Fatal(err)
	}
	c, _ := set.ParseCond([]string{"if", "long"})
	if ok, miss := c.Exec(tx); ok || !miss {
		t.Errorf("partial buffer: ok=%v miss=%v", ok, miss)
	}
	tx.Final = true
	if ok, miss := c.Exec(tx); ok || miss {
		t.Errorf("final buffer: ok=%v miss=%v", ok, miss)
	}
}

// TestSSLSNI feeds a real ClientHello to req.ssl_sni.
func TestSSLSNI(t *testing.T) {
	cl, sv := net.Pipe()
	go func() {
		c := tls.Client(cl, &tls.Config{ServerName: "sni.example.org", InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	buf := make([]byte, 4096)
	n := 0
	for n < 5 || n < 5+int(buf[3])<<8+int(buf[4]) {
		k, err := sv.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	sv.Close()
	cl.Close()
	tx := &Txn{Payload: buf[:n]}
	for expr, want := range map[string]string{"req.ssl_sni": "sni.example.org", "req.ssl_hello_type": "1", "req.ssl_ver": "196611"} {
		if got, _ := eval(t, tx, expr); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
	part := &Txn{Payload: buf[:20]}
	s, _ := CompileSample("req.ssl_sni")
	if v, ok := s.Eval(part); ok || !v.MayChange {
		t.Error("a partial hello must ask for more data")
	}
	rdp := &Txn{Payload: []byte("\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=user1\r\n")}
	if got, _ := eval(t, rdp, "req.rdp_cookie(mstshash)"); got != "user1" {
		t.Errorf("rdp_cookie: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"", "missing fetch method"},
		{"nosuch", "unknown fetch method 'nosuch'"},
		{"str(a),nosuch", "unknown converter 'nosuch'"},
		{"str(a),lower(x)", "invalid arg 1 in converter 'lower' : expected ')' before 'x)'"},
		{"str(a),field(0,.)", "invalid args in converter 'field' : Unexpected value 0 for index"},
		{"str(a),add(x)", "invalid args in converter 'add' : expects an integer or a variable name"},
		{"str(a),base64(", "invalid arg 1 in converter 'base64' : expected ')'"},
		{"int", "fetch method 'int' : expected type 'integer' at position 1, but got nothing"},
		{"int(x)", "fetch method 'int' : failed to parse 'x' as type 'integer' at position 1"},
		{"str(a) lower", "missing comma after fetch keyword 'str'"},
		{"bool(1),ipmask(24)", "converter 'ipmask' cannot be applied"},
		{"str(a),regsub(a,b,x)", "invalid args in converter 'regsub' : invalid regex flag 'x', only 'i' and 'g' are supported"},
	}
	for _, c := range cases {
		_, err := CompileSample(c.expr)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.expr, err, c.want)
		}
	}
	for _, e := range []string{"ssl_fc_session_id", "str(a),aes_gcm_dec(128,txn.nonce,Zm9v,txn.aead)"} {
		if _, err := CompileSample(e); !errors.Is(err, ErrNotImplemented) {
			t.Errorf("%s: %v, want ErrNotImplemented", e, err)
		}
	}
}

func TestACLConverters(t *testing.T) {
	tx := txn(t, req)
	cases := []struct {
		fetch string
		args  []string
		want  bool
	}{
		{"req.hdr(host),lower", []string{"ws.example.com:8080"}, true},
		{"req.hdr(host),field(1,:)", []string{"ws.example.com"}, true},
		{"req.hdr(host),length", []string{"gt", "10"}, true},
		{"req.hdr(host),length", []string{"19"}, true},
		{"hdr_beg(host),upper", []string{"WS.EXAMPLE.COM:8080"}, true},
		{"str(abc),hex", []string{"-m", "beg", "6162"}, true},
		{"src,ipmask(16)", []string{"10.1.0.0"}, true},
		{"str(abc)", []string{"-m", "bin", "616263"}, true},
		{"int(3),odd", nil, true},
		{"int(4),odd", nil, false},
		{"method", []string{"GET"}, true},
	}
	for _, c := range cases {
		e, err := Compile(c.fetch, c.args)
		if err != nil {
			t.Errorf("%s: %v", c.fetch, err)
			continue
		}
		if got := e.Match(tx); got != c.want {
			t.Errorf("%s %v: %v, want %v", c.fetch, c.args, got, c.want)
		}
	}
}

func TestHTTPAuth(t *testing.T) {
	ul, err := NewUserlist("L", []User{
		{Name: "alice", Password: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", Groups: []string{"admin"}},
		{Name: "bob", Password: "secret", Insecure: true},
	}, []Group{{Name: "ops", Users: []string{"bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewUserlist("X", []User{{Name: "c", Password: "abJnggxhB/yJU"}}, nil); !errors.Is(err, ErrNotImplemented) {
		t.Errorf("DES hash: %v", err)
	}
	ctx := &Context{Userlists: map[string]*Userlist{"L": ul}}
	set := NewSetWith(ctx)
	if err := set.Add("auth", "http_auth(L)", nil); err != nil {
		t.Fatal(err)
	}
	if err := set.Add("ops", "http_auth_group(L)", []string{"ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := CompileSampleWith("http_auth(nope)", ctx); err == nil || !strings.Contains(err.Error(), "unable to find userlist 'nope'") {
		t.Errorf("unknown userlist: %v", err)
	}
	auth, _ := set.ParseCond([]string{"if", "auth"})
	ops, _ := set.ParseCond([]string{"if", "ops"})
	for _, c := range []struct {
		cred      string
		auth, ops bool
	}{{"alice:Hello world!", true, false}, {"alice:bad", false, false}, {"bob:secret", true, true}, {"eve:x", false, false}} {
		tx := txn(t, "GET / HTTP/1.1\r\nAuthorization: Basic "+string(appendBase64(nil, []byte(c.cred), b64Std, true))+"\r\n\r\n")
		if auth.Eval(tx) != c.auth || ops.Eval(tx) != c.ops {
			t.Errorf("%s: auth %v ops %v", c.cred, auth.Eval(tx), ops.Eval(tx))
		}
		if c.auth {
			u, _ := eval(t, tx, "http_auth_user")
			if !strings.HasPrefix(c.cred, u+":") {
				t.Errorf("http_auth_user: %q", u)
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	ctx := &Context{Maps: NewMaps()}
	tx := txn(t, "GET / HTTP/1.1\r\nHost: WWW.Example.COM\r\nX: some value\r\n\r\n")
	for _, expr := range []string{"req.hdr(host),lower,map_str(testdata/hosts.map,def)", "req.hdr(x),base64,hex",
		"req.hdr(x),digest(sha256),hex,lower", "req.cook_cnt(a),add(3)", "var(txn.x,d),concat(a,txn.y,b)"} {
		s, err := CompileSampleWith(expr, ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Vars = &Vars{}
		tx.Vars.Set(ScopeTxn, "y", []byte("yy"))
		var dst []byte
		s.Append(dst[:0], tx)
		n := testing.AllocsPerRun(100, func() {
			dst, _ = s.Append(dst[:0], tx)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per run", expr, n)
		}
	}
	e, _ := CompileWith("req.hdr(host),lower", []string{"-m", "end", ".com"}, ctx)
	if n := testing.AllocsPerRun(100, func() { e.Match(tx) }); n != 0 {
		t.Errorf("acl with converter: %v allocations", n)
	}
}

func BenchmarkSampleMapChain(b *testing.B) {
	s, err := CompileSample("req.hdr(host),lower,map_str(testdata/hosts.map,def)")
	if err != nil {
		b.Fatal(err)
	}
	tx := txn(b, "GET / HTTP/1.1\r\nHost: WWW.Example.COM\r\n\r\n")
	var dst []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst, _ = s.Append(dst[:0], tx)
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range diffExprs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		smp, err := CompileSample(s)
		if err != nil {
			return
		}
		tx := txn(t, req)
		tx.Vars = &Vars{}
		tx.Payload = []byte("\x16\x03\x01\x00\x05\x01")
		smp.Append(nil, tx)
	})
}

func parseRsp(t *testing.T, buf []byte) *h1.Msg {
	t.Helper()
	m := &h1.Msg{Headers: make([]h1.Header, 0, 16)}
	if err := h1.ParseResponse(buf, m, 16); err != nil {
		t.Fatal(err)
	}
	return m
}
