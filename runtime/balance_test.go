package runtime_test

import (
	"bufio"

	"fmt"
	"github.com/gorilla/websocket"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"
)

const balanceCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %[1]s
    use_backend be_%%[req.hdr(x-algo)]
backend be_rr
    balance roundrobin
    server a %[2]s weight 3
    server b %[3]s weight 2
    server c %[4]s weight 1
backend be_static
    balance static-rr
    server a %[2]s weight 3
    server b %[3]s weight 2
    server c %[4]s weight 1
backend be_first
    balance first
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_source
    balance source
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_uri
    balance uri
    server a %[2]s
    server b %[3]s weight 2
    server c %[4]s
backend be_uriwhole
    balance uri whole depth 2
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_uriaval
    balance uri
    hash-type map-based sdbm avalanche
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_hdr
    balance hdr(X-User)
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_param
    balance url_param uid
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_churi
    balance uri
    hash-type consistent
    server a %[2]s
    server b %[3]s weight 2
    server c %[4]s
backend be_chsrc
    balance source
    hash-type consistent
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_chhdr
    balance hdr(X-User)
    hash-type consistent djb2
    server a %[2]s id 10
    server b %[3]s id 3
    server c %[4]s
backend be_chparam
    balance url_param uid
    hash-type consistent wt6 avalanche
    server a %[2]s weight 5
    server b %[3]s
    server c %[4]s
backend be_crc
    balance uri
    hash-type map-based crc32
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_djb2
    balance uri
    hash-type map-based djb2
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_wt6
    balance uri
    hash-type map-based wt6
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_dom
    balance hdr(X-User) use_domain_only
    server a %[2]s
    server b %[3]s
    server c %[4]s
backend be_backup
    server a %[5]s check inter 100ms
    server b %[3]s backup
    server c %[4]s backup
`

type lbReq struct {
	algo, path, hdr string
	src             int // last byte of the 127.0.0.x source address, 0 for default
}

func lbRequests() []lbReq {
	var out []lbReq
	for i := 0; i < 12; i++ {
		out = append(out, lbReq{algo: "rr", path: "/"}, lbReq{algo: "static", path: "/"})
	}
	for i := 0; i < 4; i++ {
		out = append(out, lbReq{algo: "first", path: "/"}, lbReq{algo: "backup", path: "/"})
	}
	for i := 1; i <= 12; i++ {
		out = append(out, lbReq{algo: "source", path: "/", src: i})
	}
	for _, p := range []string{"/", "/a", "/b", "/img/logo.png", "/api/v1/users?id=3", "/api/v1/users?id=4", "/static/app.js", "/x/y/z", "/%C3%A9t%C3%A9", "/\xc3\xa9"} {
		out = append(out, lbReq{algo: "uri", path: p}, lbReq{algo: "uriwhole", path: p}, lbReq{algo: "uriaval", path: p},
			lbReq{algo: "churi", path: p}, lbReq{algo: "crc", path: p}, lbReq{algo: "djb2", path: p}, lbReq{algo: "wt6", path: p})
	}
	for i := 1; i <= 12; i++ {
		out = append(out, lbReq{algo: "chsrc", path: "/", src: i})
	}
	for _, u := range []string{"alice", "bob", "", "carol", "", "dave", "", "eve", "\xe9t\xe9", ""} {
		out = append(out, lbReq{algo: "chhdr", path: "/", hdr: u})
	}
	for _, q := range []string{"/?uid=1", "/?uid=2", "/?x=1&uid=42", "/?uid=abc&y=2", "/?nouid=1", "/?uid=7", "/?uid=8", "/?nouid=2", "/?nouid=3"} {
		out = append(out, lbReq{algo: "chparam", path: q})
	}
	for _, d := range []string{"www.example.com", "example.com", "api.example.com", "localhost", "a.b.c.example.org", "example.org:8080", "www.other.net", ".com", "x."} {
		out = append(out, lbReq{algo: "dom", path: "/", hdr: d})
	}
	for _, u := range []string{"alice", "bob", "carol", "dave", "eve", "mallory, trent", ""} {
		out = append(out, lbReq{algo: "hdr", path: "/", hdr: u})
	}
	for _, q := range []string{"/?uid=1", "/?uid=2", "/?x=1&uid=42", "/?uid=abc&y=2", "/?nouid=1", "/p?uid="} {
		out = append(out, lbReq{algo: "param", path: q})
	}
	return out
}

func lbSend(t *testing.T, addr string, r lbReq) string {
	t.Helper()
	d := net.Dialer{Timeout: time.Second}
	if r.src > 0 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(r.src))}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	h := ""
	if r.hdr != "" {
		h = "X-User: " + r.hdr + "\r\n"
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\nX-Algo: %s\r\n%s\r\n", r.path, r.algo, h)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%v: %v", r, err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Server")
}

// TestDifferentialServerChoice sends the same sequence of requests to
// HAProxy 2.6 and to gohap and compares which server answered each.
func TestDifferentialServerChoice(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string)) []string {
		a, b, c := startEcho(t, "a"), startEcho(t, "b"), startEcho(t, "c")
		fe := freePort(t)
		start(fmtCfg(balanceCfg, fe, a.Addr(), b.Addr(), c.Addr(), freePort(t)), fe)
		// Let the first health check mark the backup backend's active
		// server down.
		time.Sleep(600 * time.Millisecond)
		var got []string
		for _, r := range lbRequests() {
			got = append(got, lbSend(t, fe, r))
		}
		return got
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	reqs := lbRequests()
	perAlgo := map[string][2]int{}
	for i, r := range reqs {
		n := perAlgo[r.algo]
		n[1]++
		if want[i] == got[i] {
			n[0]++
		} else {
			t.Errorf("%s %q (src %d, hdr %q): haproxy chose %s, gohap %s", r.algo, r.path, r.src, r.hdr, want[i], got[i])
		}
		perAlgo[r.algo] = n
	}
	var sum []string
	for _, a := range []string{"rr", "static", "first", "backup", "source", "uri", "uriwhole", "uriaval", "hdr", "param",
		"churi", "chsrc", "chhdr", "chparam", "crc", "djb2", "wt6", "dom"} {
		n := perAlgo[a]
		sum = append(sum, fmt.Sprintf("%s %d/%d", a, n[0], n[1]))
	}
	t.Logf("server choice identical to HAProxy: %s", strings.Join(sum, ", "))
}

// Long WebSocket sessions hold their server slot: leastconn spreads them
// evenly and sends new ones where tunnels have ended.
func TestLeastConnWithWebSockets(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	fe := freePort(t)
	startGohap(t, fmtCfg(baseDefaults+" timeout tunnel 30s\nfrontend fe\n bind %s\n default_backend be\nbackend be\n balance leastconn\n server a %s\n server b %s\n", fe, a.Addr(), b.Addr()), nil)
	open := func() (*websocket.Conn, string) {
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		c, resp, err := d.Dial("ws://"+fe+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, resp.Header.Get("X-Server")
	}
	var onA []*websocket.Conn
	count := map[string]int{}
	for i := 0; i < 10; i++ {
		c, srv := open()
		count[srv]++
		if srv == "a" {
			onA = append(onA, c)
		}
	}
	if count["a"] != 5 || count["b"] != 5 {
		t.Fatalf("10 tunnels: %v", count)
	}
	for _, c := range onA[:3] {
		c.Close()
	}
	// The tunnels end when the proxy sees the close.
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, srv := open(); srv != "a" {
			t.Errorf("new tunnel %d went to %s while a had fewer", i, srv)
		}
	}
}

// option httpchk with http-check expect: a server whose check answers 503
// is taken out, and comes back once its check passes again.
func TestHTTPCheck(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	var healthy atomic.Bool
	checkAddr := serveRaw(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		if healthy.Load() {
			io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK")
		} else {
			io.WriteString(c, "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown")
		}
	})
	_, checkPort, _ := net.SplitHostPort(checkAddr)
	fe := freePort(t)
	core, logs := observer.New(zap.InfoLevel)
	startGohapLog(t, fmtCfg(baseDefaults+`frontend fe
 bind %s
 default_backend be
backend be
 option httpchk GET /health
 http-check expect status 200
 server a %s check inter 50ms
 server b %s check inter 50ms fastinter 20ms downinter 100ms rise 2 fall 1 port %s
`, fe, a.Addr(), b.Addr(), checkPort), nil, zap.New(core))
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	allOn := func(name string) func() bool {
		return func() bool {
			for i := 0; i < 4; i++ {
				if _, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); srv != name {
					return false
				}
			}
			return true
		}
	}
	waitFor("b to be marked down", allOn("a"))
	healthy.Store(true)
	waitFor("b to come back", func() bool {
		_, s1, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		_, s2, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		return s1 == "b" || s2 == "b"
	})
	var all []string
	for _, e := range logs.All() {
		all = append(all, e.Message)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		`Server be/b is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: `,
		`Server be/b is UP, reason: Layer7 check passed, code: 200, check duration: `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
}

const cookieCfgText = `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %[1]s
    use_backend be_ins if { path_beg /ins }
    use_backend be_ind if { path_beg /ind }
    use_backend be_pre if { path_beg /pre }
    use_backend be_rew if { path_beg /rew }
    use_backend be_date if { path_beg /date }
    use_backend be_post if { path_beg /post }
    use_backend be_nock if { path_beg /nock }
    use_backend be_psv if { path_beg /psv }
backend be_date
    cookie SRV insert indirect maxidle 1h maxlife 2h attr "SameSite=Lax" attr Partitioned
    server a %[2]s cookie c1
    server b %[3]s cookie c2
backend be_post
    cookie SRV insert postonly maxidle 30m
    server a %[2]s cookie c1
    server b %[3]s cookie c2
backend be_nock
    cookie SRV insert
    server a %[2]s
backend be_psv
    cookie SRV insert preserve
    server a %[2]s cookie c1
backend be_ins
    cookie SRV insert nocache httponly domain .example.com
    server a %[2]s cookie c1
    server b %[3]s cookie c2
backend be_ind
    cookie SRV insert indirect secure
    server a %[2]s cookie c1
    server b %[3]s cookie c2
backend be_pre
    cookie JSESSIONID prefix
    server a %[2]s cookie c1
    server b %[3]s cookie c2
backend be_rew
    cookie SRV rewrite
    server a %[2]s cookie c1
    server b %[3]s cookie c2
`

const ckB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// ckDate encodes a date as HAProxy dates its cookies: 30 bits of
// 4-second units in 5 base64 characters.
func ckDate(unix int64) string {
	v, out := unix>>2, ""
	for i := 0; i < 5; i++ {
		out += string(ckB64[(v>>24)&0x3f])
		v <<= 6
	}
	return out
}

func ckUndate(s string) int64 {
	var v int64
	for i := 0; i < 5 && i < len(s); i++ {
		v = v<<6 + int64(strings.IndexByte(ckB64, s[i]))
	}
	return v << 2
}

// TestDifferentialCookiePersistence compares cookie insertion, rewriting,
// prefixing and the persistence they give with HAProxy 2.6, with dated
// cookies (maxidle, maxlife), postonly, attr, preserve and servers
// without a cookie.
func TestDifferentialCookiePersistence(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	now := time.Now().Unix()
	cases := []diffCase{
		{"insert-new", 0, req("GET /ins HTTP/1.1", "Host: a"), []string{"GET"}},
		{"insert-known-b", 0, req("GET /ins HTTP/1.1", "Host: a", "Cookie: SRV=c2; other=1"), []string{"GET"}},
		{"insert-known-b-again", 0, req("GET /ins HTTP/1.1", "Host: a", "Cookie: SRV=c2"), []string{"GET"}},
		{"insert-bogus", 0, req("GET /ins HTTP/1.1", "Host: a", "Cookie: SRV=bogus"), []string{"GET"}},
		{"insert-server-sets", 0, req("GET /ins/setck HTTP/1.1", "Host: a"), []string{"GET"}},
		{"indirect-known", 0, req("GET /ind HTTP/1.1", "Host: a", "Cookie: a=1; SRV=c2; b=2"), []string{"GET"}},
		{"indirect-only", 0, req("GET /ind HTTP/1.1", "Host: a", "Cookie: SRV=c1"), []string{"GET"}},
		{"indirect-new", 0, req("GET /ind HTTP/1.1", "Host: a"), []string{"GET"}},
		{"prefix", 0, req("GET /pre/setck HTTP/1.1", "Host: a", "Cookie: JSESSIONID=c2~xyz"), []string{"GET"}},
		{"prefix-new", 0, req("GET /pre/setck HTTP/1.1", "Host: a"), []string{"GET"}},
		{"rewrite", 0, req("GET /rew/setck HTTP/1.1", "Host: a", "Cookie: SRV=c2"), []string{"GET"}},
		{"rewrite-new", 0, req("GET /rew/setck HTTP/1.1", "Host: a"), []string{"GET"}},
		{"keep-alive-persist", 0, req("GET /ins HTTP/1.1", "Host: a", "Cookie: SRV=c1") + req("GET /ins HTTP/1.1", "Host: a", "Cookie: SRV=c1"), []string{"GET", "GET"}},
		{"dated-new", 0, req("GET /date HTTP/1.1", "Host: a"), []string{"GET"}},
		{"dated-fresh", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2|"+ckDate(now-600)+"|"+ckDate(now-1200)), []string{"GET"}},
		{"dated-idle", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2|"+ckDate(now-4000)+"|"+ckDate(now-4000)), []string{"GET"}},
		{"dated-old", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2|"+ckDate(now-600)+"|"+ckDate(now-8000)), []string{"GET"}},
		{"dated-future", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2|"+ckDate(now+90000)), []string{"GET"}},
		{"dated-undated", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2"), []string{"GET"}},
		{"dated-garbage", 0, req("GET /date HTTP/1.1", "Host: a", "Cookie: SRV=c2|!!!!!"), []string{"GET"}},
		{"postonly-get", 0, req("GET /post HTTP/1.1", "Host: a"), []string{"GET"}},
		{"postonly-post", 0, req("POST /post HTTP/1.1", "Host: a", "Content-Length: 0"), []string{"POST"}},
		{"no-server-cookie", 0, req("GET /nock HTTP/1.1", "Host: a"), []string{"GET"}},
		{"preserve-server-sets", 0, req("GET /psv/setck HTTP/1.1", "Host: a"), []string{"GET"}},
		{"preserve-server-silent", 0, req("GET /psv HTTP/1.1", "Host: a"), []string{"GET"}},
	}
	run := func(start func(cfg, fe string)) string {
		a, b := startEcho(t, "a"), startEcho(t, "b")
		fe := freePort(t)
		start(fmtCfg(cookieCfgText, fe, a.Addr(), b.Addr()), fe)
		return fe
	}
	ha := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	gh := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	agree, datedSeen := 0, 0
	// Inserted dates change every 4 seconds: they are compared apart.
	dates := regexp.MustCompile(`\|[A-Za-z0-9+/]{5}`)
	lastSeen := regexp.MustCompile(`(?i)set-cookie: SRV=\w+\|([A-Za-z0-9+/]{5})`)
	for _, c := range cases {
		want, wc := exchange(t, ha, c.raw, c.methods, 3*time.Second)
		got, gc := exchange(t, gh, c.raw, c.methods, 3*time.Second)
		for _, m := range lastSeen.FindAllStringSubmatch(got, -1) {
			datedSeen++
			if d := ckUndate(m[1]); d < time.Now().Unix()-10 || d > time.Now().Unix()+10 {
				t.Errorf("%s: gohap dated its cookie %d, now is %d", c.name, d, time.Now().Unix())
			}
		}
		want, got = dates.ReplaceAllString(want, "|DATE"), dates.ReplaceAllString(got, "|DATE")
		if want != got || wc != gc {
			t.Errorf("%s:\nhaproxy (closed=%v): %q\ngohap   (closed=%v): %q", c.name, wc, want, gc, got)
			continue
		}
		agree++
	}
	if datedSeen < 3 {
		t.Errorf("gohap inserted %d dated cookies, want at least 3", datedSeen)
	}
	t.Logf("cookie persistence: %d/%d exchanges identical to HAProxy, %d dated cookies checked", agree, len(cases), datedSeen)
}

const queueCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout queue 5s
frontend fe
    bind %[1]s
    use_backend be_%%[req.hdr(x-algo)]
backend be_rr
    server a %[2]s maxconn 1 maxqueue 1
backend be_uri
    balance uri
    server a %[2]s maxconn 1 maxqueue 1
backend be_redisp
    balance uri
    option redispatch
    server a %[2]s maxconn 1 maxqueue 1
    server b %[2]s maxconn 1 maxqueue 1
`

// TestServerAndBackendQueues compares with HAProxy how maxqueue applies:
// a request hashed to a full server waits in that server's queue, bounded
// by maxqueue (503 beyond it, even with redispatch); round robin finding
// every server full waits in the backend's queue, which has no bound.
func TestServerAndBackendQueues(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string)) []string {
		a := startEcho(t, "a")
		fe := freePort(t)
		start(fmtCfg(queueCfg, fe, a.Addr()), fe)
		var out []string
		for _, algo := range []string{"rr", "uri", "redisp"} {
			got := make([]string, 4)
			var wg sync.WaitGroup
			for i := range got {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					st, _, _ := get(t, fe, "GET /sleep/300 HTTP/1.1\r\nHost: a\r\nX-Algo: "+algo+"\r\n\r\n")
					got[i] = fmt.Sprintf("%s#%d:%d", algo, i, st)
				}(i)
				time.Sleep(60 * time.Millisecond)
			}
			wg.Wait()
			out = append(out, got...)
		}
		return out
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("statuses differ\nhaproxy: %v\ngohap:   %v", want, got)
	}
	// The expected shape, whatever both answered.
	exp := "rr#0:200 rr#1:200 rr#2:200 rr#3:200 uri#0:200 uri#1:200 uri#2:503 uri#3:503"
	if s := strings.Join(got[:8], " "); s != exp {
		t.Errorf("gohap: %s, want %s", s, exp)
	}
	t.Logf("queue statuses identical to HAProxy: %v", want)
}

const redispatchCfg = `
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind %[1]s
    use_backend %%[req.hdr(x-be)]
backend rr2
    option redispatch
    server d1 %[2]s
    server s1 %[3]s
backend rr1
    option redispatch
    server d1 %[2]s
    server s1 %[3]s backup
backend map
    option redispatch
    balance uri
    server d1 %[2]s
    server s1 %[3]s
backend chash
    option redispatch
    balance uri
    hash-type consistent
    server d1 %[2]s
    server s1 %[3]s
backend chash1
    option redispatch 1
    balance uri
    hash-type consistent
    server d1 %[2]s
    server s1 %[3]s
backend chashm2
    option redispatch -2
    balance uri
    hash-type consistent
    server d1 %[2]s
    server s1 %[3]s
backend noredisp
    retries 1
    server d1 %[2]s
    server s1 %[3]s
`

// TestRedispatchMatchesHAProxy sends requests whose first server refuses
// connections through backends with different redispatch settings, all
// at once, and compares with HAProxy each answer and how many seconds of
// retries it took.
func TestRedispatchMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type req struct{ be, path string }
	var reqs []req
	for _, be := range []string{"rr1", "map", "chash", "chash1", "chashm2"} {
		for i := 0; i < 4; i++ {
			reqs = append(reqs, req{be, fmt.Sprintf("/p%d", i)})
		}
	}
	run := func(start func(cfg, fe string)) []string {
		s1 := startEcho(t, "s1")
		fe := freePort(t)
		start(fmtCfg(redispatchCfg, fe, freePort(t), s1.Addr()), fe)
		// Round robin over two active servers redispatches at once;
		// without redispatch it retries the same server. Round robin
		// depends on the order of requests: these go one at a time.
		var out []string
		for i := 0; i < 4; i++ {
			for _, be := range []string{"rr2", "noredisp"} {
				began := time.Now()
				st, _, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nX-Be: "+be+"\r\n\r\n")
				out = append(out, fmt.Sprintf("%s#%d:%d:%ds", be, i, st, int(time.Since(began).Round(time.Second)/time.Second)))
			}
		}
		res := make([]string, len(reqs))
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Add(1)
			go func(i int, r req) {
				defer wg.Done()
				began := time.Now()
				st, _, _ := get(t, fe, "GET "+r.path+" HTTP/1.1\r\nHost: a\r\nX-Be: "+r.be+"\r\n\r\n")
				res[i] = fmt.Sprintf("%s%s:%d:%ds", r.be, r.path, st, int(time.Since(began).Round(time.Second)/time.Second))
			}(i, r)
		}
		wg.Wait()
		return append(out, res...)
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	same, redispatched := 0, 0
	for i := range want {
		if got[i] == want[i] {
			same++
		} else {
			t.Errorf("haproxy %s, gohap %s", want[i], got[i])
		}
		if strings.Contains(want[i], ":200:") && !strings.HasSuffix(want[i], ":0s") {
			redispatched++
		}
	}
	if redispatched == 0 {
		t.Errorf("no request was redispatched after retries: %v", want)
	}
	t.Logf("redispatch outcomes and delays identical to HAProxy: %d/%d (%d redispatched after retries): %v", same, len(want), redispatched, want)
}

// TestAbortOnClose compares with HAProxy, with and without option
// abortonclose, what happens to a request whose client half-closes or
// resets while it waits in the queue or for its response. HAProxy knows
// of the close when it came with the request ("together": the FIN rides
// on the request's segment), and then abortonclose drops the queued
// request; but not always (3 times out of 4 measured), so that case is
// checked on gohap alone. A close arriving later is not watched for.
func TestAbortOnClose(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string)) []string {
		var mu sync.Mutex
		seen := map[string]bool{}
		srv := serveRaw(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				mu.Lock()
				seen[req.URL.Path] = true
				mu.Unlock()
				if req.URL.Path == "/busy" {
					time.Sleep(500 * time.Millisecond)
				}
				if strings.HasPrefix(req.URL.Path, "/slow") {
					// Wait for the response to be due, noticing whether
					// the proxy closes the connection meanwhile.
					c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
					_, err := br.ReadByte()
					c.SetReadDeadline(time.Time{})
					mu.Lock()
					seen[req.URL.Path+" closed early"] = err == io.EOF || isReset(err)
					mu.Unlock()
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		})
		fe := freePort(t)
		start(fmtCfg(`defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout queue 5s
frontend fe
 bind %[1]s
 use_backend abort if { hdr(x-be) abort }
 default_backend keep
backend abort
 option abortonclose
 server s %[2]s maxconn 1
backend keep
 server s %[2]s maxconn 1
`, fe, srv), fe)
		cases := []string{"abort/together", "keep/together", "abort/fin", "keep/fin", "abort/rst", "keep/rst"}
		out := make([]string, 2*len(cases)-2)
		// The two backends have a slot each: their cases run side by side.
		var wg sync.WaitGroup
		queued := func(i int, cse string) {
			defer wg.Done()
			be, mode, _ := strings.Cut(cse, "/")
			busy := make(chan int, 1)
			go func() {
				st, _, _ := get(t, fe, "GET /busy HTTP/1.1\r\nHost: a\r\nX-Be: "+be+"\r\n\r\n")
				busy <- st
			}()
			time.Sleep(100 * time.Millisecond)
			c, err := net.Dial("tcp", fe)
			if err != nil {
				t.Error(err)
				return
			}
			if mode == "together" {
				// Corked, the request and the FIN leave in one segment.
				rc, _ := c.(*net.TCPConn).SyscallConn()
				rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, 1) })
			}
			fmt.Fprintf(c, "GET /queued-%s HTTP/1.1\r\nHost: a\r\nX-Be: %s\r\n\r\n", cse, be)
			if mode == "fin" {
				time.Sleep(250 * time.Millisecond)
			}
			var got []byte
			if mode == "rst" {
				time.Sleep(50 * time.Millisecond)
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
				time.Sleep(600 * time.Millisecond)
			} else {
				c.(*net.TCPConn).CloseWrite()
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, _ = io.ReadAll(c)
				c.Close()
			}
			answer := "nothing"
			if len(got) > 12 {
				answer = string(got[9:12])
			}
			b := <-busy
			mu.Lock()
			out[i] = fmt.Sprintf("%s: busy %d, queued answered %s, reached server %v", cse, b, answer, seen["/queued-"+cse])
			mu.Unlock()
		}
		for i := 0; i < len(cases); i += 2 {
			wg.Add(2)
			go queued(i, cases[i])
			go queued(i+1, cases[i+1])
			wg.Wait()
		}
		for i, cse := range cases[2:] {
			wg.Add(1)
			go func(i int, cse string) {
				defer wg.Done()
				be, mode, _ := strings.Cut(cse, "/")
				c, err := net.Dial("tcp", fe)
				if err != nil {
					t.Error(err)
					return
				}
				fmt.Fprintf(c, "GET /slow-%s-%s HTTP/1.1\r\nHost: a\r\nX-Be: %s\r\n\r\n", be, mode, be)
				time.Sleep(100 * time.Millisecond)
				if mode == "rst" {
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				} else {
					c.(*net.TCPConn).CloseWrite()
				}
				time.Sleep(600 * time.Millisecond)
				c.Close()
				mu.Lock()
				out[len(cases)+i] = fmt.Sprintf("slow %s: server saw close %v", cse, seen["/slow-"+be+"-"+mode+" closed early"])
				mu.Unlock()
			}(i, cse)
		}
		wg.Wait()
		return out
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if g := got[0]; g != "abort/together: busy 200, queued answered nothing, reached server false" {
		t.Errorf("gohap did not drop the queued request closed with it: %s", g)
	}
	if strings.Join(got[1:], "; ") != strings.Join(want[1:], "; ") {
		t.Errorf("haproxy: %v\ngohap:   %v", want[1:], got[1:])
	}
}

// switchable is a check port that accepts connections while on.
type switchable struct {
	t    *testing.T
	addr string
	ln   net.Listener
}

func newSwitchable(t *testing.T) *switchable {
	sw := &switchable{t: t, addr: freePort(t)}
	sw.set(true)
	t.Cleanup(func() { sw.set(false) })
	return sw
}

func (sw *switchable) set(on bool) {
	if !on {
		if sw.ln != nil {
			sw.ln.Close()
			sw.ln = nil
		}
		return
	}
	if sw.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", sw.addr)
	if err != nil {
		sw.t.Fatal(err)
	}
	sw.ln = ln
	go acceptClose(ln)
}

// TestRoundRobinAfterStateChanges takes servers of weighted round robin
// backends down and up (actives, then all of them so that backups
// serve) and compares with HAProxy the order in which servers answer
// after each change, and where consistent hashing sends URIs.
func TestRoundRobinAfterStateChanges(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string)) []string {
		a, b, c, d, e := startEcho(t, "a"), startEcho(t, "b"), startEcho(t, "c"), startEcho(t, "d"), startEcho(t, "e")
		ca, cb, cc := newSwitchable(t), newSwitchable(t), newSwitchable(t)
		port := func(sw *switchable) string { _, p, _ := net.SplitHostPort(sw.addr); return p }
		fe := freePort(t)
		start(fmtCfg(baseDefaults+`frontend fe
 bind %[1]s
 use_backend all if { hdr(x-be) all }
 use_backend ch if { hdr(x-be) ch }
 default_backend rr
backend rr
 server a %[2]s weight 3 check port %[7]s inter 100ms rise 1 fall 1
 server b %[3]s weight 2 check port %[8]s inter 100ms rise 1 fall 1
 server c %[4]s weight 1 check port %[9]s inter 100ms rise 1 fall 1
 server d %[5]s backup
backend ch
 balance uri
 hash-type consistent
 server a %[2]s weight 3 check port %[7]s inter 100ms rise 1 fall 1
 server b %[3]s weight 2 check port %[8]s inter 100ms rise 1 fall 1
 server c %[4]s weight 1 check port %[9]s inter 100ms rise 1 fall 1
 server d %[5]s backup
backend all
 option allbackups
 server a %[2]s weight 2 check port %[7]s inter 100ms rise 1 fall 1
 server d %[5]s backup weight 2
 server e %[6]s backup
`, fe, a.Addr(), b.Addr(), c.Addr(), d.Addr(), e.Addr(), port(ca), port(cb), port(cc)), fe)
		var out []string
		seq := func(label, be string, n int) {
			var s []string
			for i := 0; i < n; i++ {
				_, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nX-Be: "+be+"\r\n\r\n")
				s = append(s, srv)
			}
			out = append(out, label+": "+strings.Join(s, ""))
			// Where consistent hashing sends twelve URIs at this point.
			s = s[:0]
			for i := 0; i < 12; i++ {
				_, srv, _ := get(t, fe, fmt.Sprintf("GET /u%d HTTP/1.1\r\nHost: x\r\nX-Be: ch\r\n\r\n", i))
				s = append(s, srv)
			}
			out = append(out, label+" (consistent): "+strings.Join(s, ""))
		}
		settle := func() { time.Sleep(700 * time.Millisecond) }
		settle()
		seq("all up", "rr", 13)
		seq("all up (backups backend)", "all", 5)
		cc.set(false)
		settle()
		seq("c down", "rr", 11)
		cc.set(true)
		settle()
		seq("c back", "rr", 13)
		ca.set(false)
		settle()
		seq("a down", "rr", 7)
		seq("a down (backups backend)", "all", 9)
		cb.set(false)
		cc.set(false)
		settle()
		seq("actives down", "rr", 3)
		ca.set(true)
		settle()
		seq("a back", "rr", 5)
		seq("a back (backups backend)", "all", 5)
		return out
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	same := 0
	for i := range want {
		if got[i] == want[i] {
			same++
		} else {
			t.Errorf("haproxy %s\n  gohap %s", want[i], got[i])
		}
	}
	t.Logf("round robin sequences identical to HAProxy: %d/%d\n%s", same, len(want), strings.Join(want, "\n"))
}

// TestAbortOnCloseDuringRetries has a client close while its request
// waits out the turn-around between refused connection attempts: with
// abortonclose HAProxy ends the stream as soon as it sees the close
// (CC, one retry spent), not at the next attempt a second later.
func TestAbortOnCloseDuringRetries(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(t *testing.T, start func(cfg, fe string)) string {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		fe := freePort(t)
		start(fmtCfg(`defaults
 mode http
 option abortonclose
 option dontlognull
 retries 10
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 log %s local0
 log-format "%%ST %%rc %%ts %%b/%%s %%{+Q}r %%Tt"
 default_backend be
backend be
 server s %s
`, fe, pc.LocalAddr(), refusedAddr(t)), fe)
		c, err := net.Dial("tcp", fe)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /gone HTTP/1.1\r\nHost: a\r\n\r\n")
		// Well inside the first one-second turn-around.
		time.Sleep(300 * time.Millisecond)
		c.(*net.TCPConn).CloseWrite()
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2048)
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no log line: %v", err)
		}
		line := strings.TrimSpace(string(buf[:n]))
		if i := strings.Index(line, "]: "); i >= 0 {
			line = line[i+3:]
		}
		// The total time only tells whether the next attempt was awaited.
		i := strings.LastIndexByte(line, ' ')
		if tt, _ := strconv.Atoi(line[i+1:]); tt < 1000 {
			return line[:i] + " Tt<1s"
		}
		return line[:i] + " Tt>=1s"
	}
	var want, got string
	t.Run("haproxy", func(t *testing.T) { want = run(t, func(cfg, fe string) { startHAProxy(t, cfg, fe) }) })
	t.Run("gohap", func(t *testing.T) { got = run(t, func(cfg, _ string) { startGohap(t, cfg, nil) }) })
	if got != want {
		t.Errorf("log line:\nhaproxy: %s\ngohap:   %s", want, got)
	}
	t.Logf("haproxy: %s", want)
}
