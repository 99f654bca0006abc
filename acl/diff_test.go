package acl

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// diffRequest is what both the real haproxy and the engine evaluate.
const diffRequest = "GET /a/b/c.html?x=1&y=two&x=3 HTTP/1.1\r\nHost: www.Example.com\r\n" +
	"Cookie: a=1; b=2; a=3\r\nX-Test: Hello World\r\nX-Num: 42\r\nX-Ip: 192.168.10.77\r\n" +
	"Accept-Language: fr;q=0.8, en-US;q=0.9, de\r\nX-Json: {\"a\":{\"b\":[1,2.5,\"s\\u00e9\"]},\"t\":true,\"n\":123456789,\"my.key\":\"dot\",\"my\":{\"key\":\"nested\"}}\r\n\r\n"

// diffVars are set by set-var rules before the expressions run.
var diffVars = []struct{ name, expr string }{
	{"txn.n", "int(7)"},
	{"txn.s", "str(abc)"},
	{"txn.key", "str(c2VjcmV0)"},
	{"txn.hash", "str(hello)"},
	{"txn.ip", "ipv4(10.1.2.3)"},
	{"txn.alg", "str(HS256)"},
	{"txn.jwtkey", "str(secret)"},
}

// diffExprs are compared byte for byte with haproxy's answer.
var diffExprs = []string{
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_header_query",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_payload_query",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_header_query('$.alg')",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_payload_query('$.n',int)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_payload_query('$.nope')",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(HS256,secret)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(HS256,wrong)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(txn.alg,txn.jwtkey)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(HS384,secret)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(RS256,/nonexistent.pem)",
	"str(eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.),jwt_verify(none,x)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(none,x)",
	"str(a.b.c.d),jwt_verify(HS256,secret)",
	"str(a.b),jwt_verify(HS256,secret)",
	"str(a.b.),jwt_verify(HS256,secret)",
	"str(eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyIsIm4iOjd9.vChb_4dCp6yGIGqvgYoej_Wq51Cwx4hLywzOuDDZ_UE),jwt_verify(RS256,x)",
	"str(foo),base64",
	"str(Zm9v),b64dec",
	"str(f?o>),ub64enc",
	"str(Zj9vPg),ub64dec",
	"str(foo),hex",
	"str(666F6F),hex2i",
	"str(AbC),lower",
	"str(AbC),upper",
	"str(hello),length",
	"var(txn.hash),digest(sha1),hex,lower",
	"var(txn.hash),digest(md5),hex",
	"var(txn.hash),digest(sha256),hex",
	"var(txn.hash),sha2(224),hex",
	"var(txn.hash),sha2(512),base64",
	"var(txn.hash),sha1,hex",
	"var(txn.hash),hmac(sha256,c2VjcmV0),hex",
	"var(txn.hash),hmac(sha1,txn.key),base64",
	"str(a%20b+c),url_dec",
	"str(a%20b+c),url_dec(1)",
	"str(a b&c=d/é),url_enc",
	"str(/bla+%20?foo%3Dbar%2B42+42%20),url_dec",
	"str(/bla+%20?foo%3Dbar%2B42+42%20),url_dec(1)",
	"str(foo=bar+42 42 ),url_enc",
	"str(foo=bar+42 42 ),url_enc,url_dec,url_enc(query)",
	"str(%zz%4%41%),url_dec",
	"str(a%00b),url_dec,length",
	"str(a<b/c),json",
	"req.hdr(x-json),json_query('$.a.b[1]')",
	"req.hdr(x-json),json_query('$.a.b[2]')",
	"req.hdr(x-json),json_query('$.n',int)",
	"req.hdr(x-json),json_query('$.n')",
	"req.hdr(x-json),json_query('$.t')",
	"req.fhdr(x-json),json_query($.my\\.key)",
	"req.fhdr(x-json),json_query('$.my.key')",
	"req.fhdr(x-json),json_query($.m\\y.\\k\\ey)",
	"str(a.b.c.d),field(2,.)",
	"str(a.b.c.d),field(-2,.)",
	"str(a.b.c.d),field(2,.,2)",
	"str(a..b..c),word(2,.)",
	"str(a..b..c),word(-1,.)",
	"str(abc),add_item(-,txn.s,suf)",
	"str(),add_item(-,txn.s)",
	"str(x),concat(<,txn.s,>)",
	"str(abc),strcmp(txn.s)",
	"str(abd),strcmp(txn.s)",
	"var(txn.ip),ipmask(16)",
	"src,ipmask(24)",
	"str(abc),secure_memcmp(txn.s)",
	"str(abcd),be2dec(-,2)",
	"str(abcde),be2dec(-,2,1)",
	"str(abcde),be2hex(:,2)",
	"str(abcde),be2hex",
	"int(1),iif(yes,no)",
	"int(0),iif(yes,no)",
	"int(5),add(txn.n)",
	"int(5),sub(3),mul(4),div(3),mod(5)",
	"int(5),neg,cpl",
	"int(6),and(3),or(8),xor(1)",
	"int(3),odd",
	"int(3),even",
	"int(0),not",
	"int(9),bool",
	"str(hello),crc32",
	"str(hello),crc32c",
	"str(hello),djb2",
	"str(hello),sdbm",
	"str(hello),wt6",
	"str(hello),crc32(1)",
	"str(hello),crc32c(1)",
	"str(hello),djb2(1)",
	"str(hello),sdbm(1)",
	"str(hello),wt6(1)",
	"str(hello world),djb2(1)",
	"str(abc),sdbm(1)",
	"str(hello),xxh32",
	"str(hello),xxh32(5)",
	"str(hello),xxh64",
	"str(hello),xxh64(5)",
	"str(hello),xxh3",
	"str(hello),xxh3(5)",
	"str(),xxh3",
	"str(ab),xxh3(-3)",
	"req.hdr(x-json),xxh3",
	"req.hdrs,xxh3(7)",
	"int(1500000000),utime(%Y-%m-%d %H:%M:%S)",
	"int(1500000000),utime(%a %b %e %j %U %W %y,3600)",
	"int(1500000000),http_date",
	"int(1500000000123),http_date(0,ms)",
	"str(hello world),regsub(o,0,g)",
	"str(hello world),regsub(^h,J)",
	"str(hello world),regsub(L,x,ig)",
	"str(  ab  ),ltrim( ),rtrim( )",
	"bin(616263),hex",
	"bin(610062),length",
	"req.hdr(accept-language),language(de;en-US;fr)",
	"req.hdr(accept-language),language(es,nl)",
	"req.cook(a)",
	"req.cook(b)",
	"req.cook_cnt(a)",
	"req.cook_cnt()",
	"req.cook_val(a),add(1)",
	"req.hdr(x-test)",
	"req.hdr_cnt",
	"req.hdr_names",
	"req.hdr_names(;)",
	"req.hdr_ip(x-ip),ipmask(8)",
	"req.hdr_val(x-num),mul(2)",
	"path",
	"pathq",
	"query",
	"url",
	"base",
	"base32",
	"url32",
	"base32+src,hex",
	"url32+src,hex",
	"url_param(x)",
	"urlp(y)",
	"urlp_val(x)",
	"method",
	"req.ver",
	"capture.req.method",
	"capture.req.uri",
	"capture.req.ver",
	"int(-3),add(2),abs",
	"ipv6(2001:db8::1),ipmask(8,64)",
	"ipv6(::ffff:1.2.3.4)",
	"ipv6(::2)",
	"ipv4(1.2.3.4),hex",
	"int(258),htonl,hex",
	"str(ab\\r\\ncd),cut_crlf",
	"bool(1),iif(t,f)",
	"str(a:b),bytes(1)",
	"str(abcdef),bytes(1,3)",
	"int(12),map_int(/dev/null,none)",
	"str(17),add(1)",
	"str(x17),add(1)",
	"str(5),bool",
	"req.len",
	"req_len",
}

// dial connects to a port of startHAProxyFDs. Its socket listens before
// haproxy runs, so the answer may wait for haproxy's start: a large
// configuration on a loaded machine takes seconds.
func dial(t *testing.T, port int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	return c
}

// fetchHeaders sends diffRequest and adds the answer's headers to got.
func fetchHeaders(t *testing.T, port int, got map[string]string) (local, remote string) {
	c := dial(t, port)
	defer c.Close()
	if _, err := c.Write([]byte(diffRequest)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			got[strings.ToLower(k)] = v
		}
	}
	return c.LocalAddr().String(), c.RemoteAddr().String()
}

func haproxyBin() string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	return "/usr/sbin/haproxy"
}

// TestDifferentialHAProxy runs diffExprs through haproxy's
// "http-request return ... hdr" and through the engine.
func TestDifferentialHAProxy(t *testing.T) {
	diffCompare(t, diffVars, diffExprs)
}

// diffCompare sets vars then evaluates exprs in haproxy and in the
// engine, on diffRequest, and reports every difference.
func diffCompare(t *testing.T, vars []struct{ name, expr string }, exprs []string) {
	t.Helper()
	bin := haproxyBin()
	if _, err := os.Stat(bin); err != nil {
		t.Skip("haproxy not installed")
	}
	dir := t.TempDir()
	var ok []string
	refused := haproxyRefuses(t, bin, dir, exprs)
	for i, e := range exprs {
		// Expressions haproxy -c refuses must be refused here too.
		if refused[i] {
			if _, err := CompileSample(e); err == nil {
				t.Errorf("%s: haproxy refuses it, the engine compiles it", e)
			}
			continue
		}
		ok = append(ok, e)
	}
	ports := startDiffHAProxy(t, bin, dir, vars, ok)
	got := map[string]string{}
	var local, remote string
	for _, port := range ports {
		local, remote = fetchHeaders(t, port, got)
	}
	tx := txn(t, diffRequest)
	tx.Src = mustAddrPort(local)
	tx.Dst = mustAddrPort(remote)
	tx.Vars = &Vars{}
	for _, v := range vars {
		sc, n, _ := ParseVarName(v.name)
		s, err := CompileSample(v.expr)
		if err != nil {
			t.Fatal(err)
		}
		s.SetVar(tx, sc, n, 0)
	}
	for i, e := range ok {
		want := got[fmt.Sprintf("x-%d", i)]
		s, err := CompileSample(e)
		if err != nil {
			t.Errorf("%s: haproxy accepts it: %v", e, err)
			continue
		}
		b, _ := s.Append(nil, tx)
		if g := "<" + string(b) + ">"; g != want {
			t.Errorf("%s: got %q, haproxy %q", e, g, want)
		}
	}
}

// startDiffHAProxy runs haproxy with a frontend per 18 of exprs (a line
// holds at most 64 words), each setting vars and returning the
// expressions' values as headers, and returns the frontends' ports.
func startDiffHAProxy(t *testing.T, bin, dir string, vars []struct{ name, expr string }, exprs []string) []int {
	t.Helper()
	const per = 18
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global\n  setenv TESTENV envval\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n")
	var ports []int
	var files []*os.File
	for i := 0; i < len(exprs); i += per {
		port, f := inheritedListener(t)
		ports = append(ports, port)
		files = append(files, f)
		fmt.Fprintf(&cfg, "frontend fe%d\n  bind fd@%d\n", i, 2+len(files))
		for _, v := range vars {
			fmt.Fprintf(&cfg, "  http-request set-var(%s) %s\n", v.name, v.expr)
		}
		cfg.WriteString("  http-request return status 200")
		for j := i; j < len(exprs) && j < i+per; j++ {
			fmt.Fprintf(&cfg, " hdr x-%d \"<%%[%s]>\"", j, cfgQuote(exprs[j]))
		}
		cfg.WriteString("\n")
	}
	path := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DIFF_KEEP") != "" {
		_ = os.WriteFile(os.Getenv("DIFF_KEEP"), []byte(cfg.String()), 0o644)
	}
	startHAProxyFDs(t, bin, path, files)
	return ports
}

// inheritedListener opens a listening socket on a free loopback port,
// for haproxy to inherit as "bind fd@N" (startHAProxyFDs): a port chosen
// free and released before haproxy bound it could be taken by another
// test meanwhile.
func inheritedListener(t *testing.T) (int, *os.File) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // File is a duplicate: the socket stays open
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr().(*net.TCPAddr).Port, f
}

// startHAProxyFDs runs "haproxy -db -f path" with files as its
// descriptors 3 and up (files[k] is fd@3+k), and closes this process's
// copies. Their sockets listen already, so a connection waits in the
// backlog until haproxy runs. haproxy's output is shown when the test
// fails.
func startHAProxyFDs(t *testing.T, bin, path string, files []*os.File) {
	t.Helper()
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.ExtraFiles = files
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Start()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy's output:\n%s", stderr.String())
		}
	})
}

// haproxyRefuses checks all expressions in one "haproxy -c" run, one
// rule a line, and reports those whose line has an alert.
func haproxyRefuses(t *testing.T, bin, dir string, exprs []string) map[int]bool {
	cfg := "defaults\n  mode http\nfrontend fe\n  bind 127.0.0.1:65000\n  http-request set-var(txn.n) int(1)\n"
	const first = 6
	for _, e := range exprs {
		cfg += "  http-request set-header x \"%[" + cfgQuote(e) + "]\"\n"
	}
	p := filepath.Join(dir, "c.cfg")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, "-c", "-f", p).CombinedOutput()
	bad := map[int]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		i := strings.Index(l, "c.cfg:")
		if i < 0 || !strings.Contains(l, "ALERT") {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(l[i+6:], "%d", &n); err == nil && n >= first {
			bad[n-first] = true
		}
	}
	return bad
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// cfgQuote escapes what a double-quoted configuration word expands.
func cfgQuote(e string) string { return strings.ReplaceAll(e, "$", "\\$") }
