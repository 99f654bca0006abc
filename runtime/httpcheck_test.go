package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// checkServer answers HTTP check requests with bad for its first nBad
// connections and good afterwards; each answer is chosen by the path. It
// records the requests it received.
type checkServer struct {
	addr string
	mu   sync.Mutex
	reqs map[string]bool
}

func startCheckServer(t *testing.T, nBad int32, answer func(path string, good bool) string) *checkServer {
	t.Helper()
	cs := &checkServer{reqs: map[string]bool{}}
	var n atomic.Int32
	cs.addr = serveRaw(t, func(c net.Conn) {
		good := n.Add(1) > nBad
		c.SetDeadline(time.Now().Add(2 * time.Second))
		br := bufio.NewReader(c)
		var req strings.Builder
		cl := 0
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			req.WriteString(l)
			if strings.HasPrefix(strings.ToLower(l), "content-length:") {
				fmt.Sscan(strings.TrimSpace(l[15:]), &cl)
			}
			if l == "\r\n" {
				break
			}
		}
		body := make([]byte, cl)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		req.Write(body)
		path := ""
		if line := strings.SplitN(req.String(), " ", 3); len(line) > 1 {
			path = line[1]
		}
		cs.mu.Lock()
		// The server's port differs from run to run (send-state).
		cs.reqs[stateportRe.ReplaceAllString(req.String(), "port=N;")] = true
		cs.mu.Unlock()
		c.Write([]byte(answer(path, good)))
	})
	return cs
}

var stateportRe = regexp.MustCompile(`port=[0-9]+;`)

func (cs *checkServer) requests() string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []string
	for r := range cs.reqs {
		out = append(out, fmt.Sprintf("%q", r))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func httpAnswer(status, headers, body string) string {
	return fmt.Sprintf("HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s", status, headers, len(body), body)
}

// TestHTTPChecksMatchHAProxy compares with HAProxy the requests that
// option httpchk and http-check send write, and the DOWN and UP reports
// of the http-check expect rules, against servers failing their first
// check and passing the next ones.
func TestHTTPChecksMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	simple := func(bad, good string) func(string, bool) string {
		return func(_ string, g bool) string {
			if g {
				return good
			}
			return bad
		}
	}
	ok200 := httpAnswer("200 OK", "X-Ok: yes\r\n", "ok")
	cases := []struct {
		name, rules string
		nBad        int32
		answer      func(string, bool) string
		viaPort     bool // the server line points at a closed port
	}{
		{"string", "option httpchk\n http-check expect string nope", 1, simple(ok200, httpAnswer("200 OK", "", "nope here")), false},
		{"hdrvalue", "option httpchk\n http-check expect hdr name x-ok value no", 1, simple(ok200, httpAnswer("200 OK", "X-Ok: maybe, no\r\n", "ok")), false},
		{"hdrmissing", "option httpchk\n http-check expect status 200\n http-check expect hdr name x-missing", 1, simple(ok200, httpAnswer("200 OK", "X-Missing: 1\r\n", "")), false},
		{"notstatus", "option httpchk\n http-check expect ! status 200", 1, simple(ok200, httpAnswer("500 Internal Server Error", "", "")), false},
		{"rstring", "option httpchk\n http-check expect rstring ^n", 1, simple(ok200, httpAnswer("200 OK", "", "nope")), false},
		{"range", "option httpchk\n http-check expect status 300-399", 1, simple(ok200, httpAnswer("302 Found", "", "")), false},
		{"twosteps", "option httpchk\n http-check connect\n http-check send meth GET uri /a\n http-check expect status 200\n http-check connect\n http-check send meth GET uri /b\n http-check expect status 201", 2,
			func(path string, good bool) string {
				if path == "/b" && good {
					return httpAnswer("201 Created", "", "")
				}
				return ok200
			}, false},
		{"port", "option httpchk\n http-check connect port %[2]s\n http-check send meth GET uri /a ver HTTP/1.1 hdr Host example.com\n http-check expect hdr name -m beg x-o value -m sub e\n http-check expect string nope comment \"body check\"", 1,
			simple(ok200, httpAnswer("200 OK", "X-Ok: yes\r\n", "nope")), true},
		{"notstring", "option httpchk\n http-check expect ! string ok", 1, simple(ok200, httpAnswer("200 OK", "", "fine")), false},
		{"rstatus", "option httpchk\n http-check expect rstatus ^3", 1, simple(ok200, httpAnswer("301 Moved Permanently", "", "")), false},
		{"legacy", "option httpchk HEAD /y HTTP/1.1\\r\\nHost:\\ www.example.com", 1, simple(httpAnswer("503 Service Unavailable", "", ""), ok200), false},
		{"sendbody", "option httpchk GET /x HTTP/1.1\n http-check send hdr Host h2 body hello", 1, simple(httpAnswer("404 Not Found", "", ""), ok200), false},
		{"lf", "option httpchk\n http-check set-var(check.p) str(/lf)\n http-check send meth GET uri-lf %[var(check.p)] ver HTTP/1.1 hdr x-srv %[srv_name] hdr x-none %[var(check.none)] body-lf be=%[be_name]\n http-check expect status 200", 1,
			simple(httpAnswer("500 Internal Server Error", "", ""), ok200), false},
		{"state", "option httpchk GET /s HTTP/1.1\n http-check send-state", 1, simple(httpAnswer("503 Service Unavailable", "", ""), ok200), false},
		{"addr", "option httpchk\n http-check connect addr 127.0.0.1:%[2]s\n http-check send meth GET uri /a\n http-check expect status 200\n http-check connect addr 127.0.0.1 port %[2]s\n http-check unset-var(check.x)\n http-check send meth GET uri /b", 1,
			simple(httpAnswer("500 Internal Server Error", "", ""), ok200), true},
		{"hdrlf", "option httpchk\n http-check set-var(check.h) str(x-ok)\n http-check expect hdr name-lf %[var(check.h)] value-lf -m sub %[str(ye)]", 1,
			simple(httpAnswer("200 OK", "X-Ok: no\r\n", ""), ok200), false},
		{"on-error", "option httpchk\n http-check expect status 200 on-error \"bad %[res.hdr(x-why)]\" error-status L7RSP comment c", 1,
			simple(httpAnswer("500 Internal Server Error", "X-Why: boom\r\n", ""), ok200), false},
		{"on-success", "option httpchk\n http-check expect status 200 on-success \"fine %[res.hdr(x-ok)]\" status-code int(299)", 1,
			simple(httpAnswer("500 Internal Server Error", "", ""), ok200), false},
		{"string-lf", "option httpchk\n http-check set-var(check.w) str(nope)\n http-check expect string-lf %[var(check.w)]", 1,
			simple(ok200, httpAnswer("200 OK", "", "nope here")), false},
		{"empty", "option httpchk", 1, simple("", ok200), false},
		{"nobody", "option httpchk\n http-check expect ! string nope comment c", 1, simple(httpAnswer("200 OK", "", ""), ok200), false},
		{"garbage", "option httpchk", 1, simple("hello there\r\n\r\n", ok200), false},
		{"resvar", "option httpchk\n http-check expect status 200\n http-check set-var(check.n) res.hdr(x-name)\n http-check expect !hdr name-lf %[var(check.n)]", 1,
			simple(httpAnswer("200 OK", "X-Name: x-name\r\n", ""), httpAnswer("200 OK", "X-Name: x-other\r\n", "")), false},
	}
	type result struct{ reports, requests map[string]string }
	run := func(start func(cfg, fe string) func() string) result {
		fe := freePort(t)
		var b strings.Builder
		fmt.Fprintf(&b, "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n timeout check 1s\n")
		fmt.Fprintf(&b, "frontend fe\n bind %s\n default_backend be_%s\n", fe, cases[0].name)
		servers := map[string]*checkServer{}
		for _, c := range cases {
			cs := startCheckServer(t, c.nBad, c.answer)
			servers[c.name] = cs
			addr := cs.addr
			_, port, _ := net.SplitHostPort(addr)
			if c.viaPort {
				addr = "127.0.0.1:1"
			}
			rules := strings.ReplaceAll(c.rules, "%[2]s", port)
			fmt.Fprintf(&b, "backend be_%s\n %s\n server s %s check inter 150ms rise 1 fall 1\n", c.name, rules, addr)
		}
		out := start(b.String(), fe)
		res := result{map[string]string{}, map[string]string{}}
		// Every report comes within a second or two; a loaded machine
		// may take longer, and the loop ends as soon as all are in.
		deadline := time.Now().Add(20 * time.Second)
		for len(res.reports) < 2*len(cases) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			for _, m := range reportRe.FindAllStringSubmatch(out(), -1) {
				res.reports[m[1]+" "+m[2]] = m[3]
			}
		}
		for name, cs := range servers {
			res.requests[name] = cs.requests()
		}
		return res
	}
	want := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	got := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	same, total := 0, 0
	for _, c := range cases {
		total++
		if got.requests[c.name] == want.requests[c.name] {
			same++
		} else {
			t.Errorf("%s requests:\n haproxy: %s\n gohap:   %s", c.name, want.requests[c.name], got.requests[c.name])
		}
		for _, st := range []string{"DOWN", "UP"} {
			k := "be_" + c.name + "/s " + st
			total++
			if want.reports[k] == "" {
				t.Errorf("%s: haproxy reported nothing", k)
				continue
			}
			if got.reports[k] == want.reports[k] {
				same++
			} else {
				t.Errorf("%s:\n haproxy: %s\n gohap:   %s", k, want.reports[k], got.reports[k])
			}
		}
	}
	t.Logf("HTTP check requests and reports identical to HAProxy: %d/%d", same, total)
}

// TestDisableOn404MatchesHAProxy walks servers through 200, 404 and 503
// check answers with http-check disable-on-404 and compares with HAProxy
// the logged state changes and where requests go.
func TestDisableOn404MatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// Each server answers its checks by phase: phases advance together.
	phases := []string{"200", "404", "200", "503", "404", "200"}
	run := func(start func(cfg, fe string) func() string) []string {
		var phase, seen atomic.Int32
		answer := func(_ string, _ bool) string {
			seen.Add(1)
			switch phases[phase.Load()] {
			case "404":
				return httpAnswer("404 Not Found", "", "")
			case "503":
				return httpAnswer("503 Service Unavailable", "", "")
			}
			return httpAnswer("200 OK", "", "")
		}
		chk := startCheckServer(t, 0, answer)
		a, b := startEcho(t, "a"), startEcho(t, "b")
		_, port, _ := net.SplitHostPort(chk.addr)
		fe := freePort(t)
		out := start(fmtCfg(baseDefaults+`frontend fe
 bind %[1]s
 default_backend be
backend be
 option httpchk GET /health
 http-check disable-on-404
 cookie SRV insert indirect
 server a %[2]s check port %[4]s inter 100ms rise 1 fall 1 cookie ca
 server b %[3]s cookie cb
`, fe, a.Addr(), b.Addr(), port), fe)
		var res []string
		for i := range phases {
			phase.Store(int32(i))
			// Three checks answered in this phase, however slow the
			// machine: rise and fall are 1, so the state has settled.
			seen.Store(0)
			for deadline := time.Now().Add(10 * time.Second); seen.Load() < 3 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			// Where new requests go, and where a request persisted to a
			// goes.
			_, s1, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			_, s2, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			_, sp, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=ca\r\n\r\n")
			res = append(res, fmt.Sprintf("%s: new %s%s, persisted %s", phases[i], s1, s2, sp))
		}
		for _, l := range stateLineRe.FindAllString(out(), -1) {
			res = append(res, durationRe.ReplaceAllString(strings.TrimSuffix(l, "."), "check duration: Nms"))
		}
		return res
	}
	want := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	t.Logf("haproxy:\n%s", strings.Join(want, "\n"))
	got := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gohap:\n%s", strings.Join(got, "\n"))
	}
}

// TestH2ChecksMatchHAProxy runs HTTP checks over HTTP/2 (check-proto h2,
// and a server's proto h2) against a cleartext HTTP/2 server failing
// its first check of each backend, and compares with HAProxy the
// requests it receives and the DOWN and UP reports.
func TestH2ChecksMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type result struct {
		reports  map[string]string
		requests []string
	}
	run := func(start func(cfg, fe string) func() string) result {
		var mu sync.Mutex
		seen := map[string]bool{}
		hits := map[string]int{}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.Method+" "+r.URL.Path+" "+r.Proto+" host="+r.Host+" te="+r.Header.Get("Te")] = true
			hits[r.URL.Path]++
			n := hits[r.URL.Path]
			mu.Unlock()
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok"))
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h2c.NewHandler(h, &http2.Server{})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		fe := freePort(t)
		cfg := fmtCfg(`defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 timeout check 1s
frontend fe
 bind %[1]s
 default_backend be_checkproto
backend be_checkproto
 option httpchk GET /cp HTTP/1.1
 server s %[2]s check check-proto h2 inter 150ms rise 1 fall 1
backend be_proto
 option httpchk
 http-check send meth GET uri /p hdr x-a b
 server s %[2]s proto h2 check inter 150ms rise 1 fall 1
`, fe, ln.Addr().String())
		out := start(cfg, fe)
		res := result{reports: map[string]string{}}
		deadline := time.Now().Add(20 * time.Second)
		for len(res.reports) < 4 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			for _, m := range reportRe.FindAllStringSubmatch(out(), -1) {
				res.reports[m[1]+" "+m[2]] = m[3]
			}
		}
		mu.Lock()
		for r := range seen {
			res.requests = append(res.requests, r)
		}
		mu.Unlock()
		sort.Strings(res.requests)
		return res
	}
	want := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	got := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	if len(want.reports) != 4 {
		t.Fatalf("haproxy reported %v", want.reports)
	}
	for k, w := range want.reports {
		if got.reports[k] != w {
			t.Errorf("%s:\n haproxy: %s\n gohap:   %s", k, w, got.reports[k])
		}
	}
	if w, g := strings.Join(want.requests, "\n"), strings.Join(got.requests, "\n"); w != g {
		t.Errorf("requests:\nhaproxy:\n%s\ngohap:\n%s", w, g)
	}
}

var condHealthRe = regexp.MustCompile(`Health check for server (\S+) (conditionally succeeded|succeeded|failed), reason: (.*?), check duration`)

// TestHTTPCheckOptionsInheritedMatchHAProxy: disable-on-404 and
// send-state are proxy options, inherited from defaults by a backend
// with rules of its own, as HAProxy's are; and own rules without a send
// rule send no request at all, as in HAProxy.
func TestHTTPCheckOptionsInheritedMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	var servers []*checkServer
	same, total := compareReports(t, condHealthRe, "500ms", 3, func(b *strings.Builder) {
		cs := startCheckServer(t, 1, func(_ string, good bool) string {
			if good {
				return httpAnswer("200 OK", "", "")
			}
			return httpAnswer("404 Not Found", "", "")
		})
		quiet := startCheckServer(t, 0, func(string, bool) string { return httpAnswer("200 OK", "", "") })
		servers = append(servers, cs, quiet)
		fmt.Fprintf(b, "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n timeout check 500ms\n"+
			" option httpchk GET /d HTTP/1.1\n http-check disable-on-404\n http-check send-state\n"+
			"backend be_own\n option log-health-checks\n http-check send meth GET uri /own\n http-check expect status 200-399\n"+
			" server s %s check inter 150ms rise 1 fall 1\n"+
			"backend be_nosend\n option log-health-checks\n http-check expect status 200-399\n"+
			" server s %s check inter 150ms rise 1 fall 1\n", cs.addr, quiet.addr)
	})
	t.Logf("inherited check options' reports identical to HAProxy: %d/%d", same, total)
	for i := 0; i < 2; i++ {
		want, got := servers[i].requests(), servers[i+2].requests()
		if want != got {
			t.Errorf("requests:\n haproxy: %s\n gohap:   %s", want, got)
		}
	}
	if !strings.Contains(servers[0].requests(), "x-haproxy-server-state") {
		t.Errorf("send-state was not inherited: %s", servers[0].requests())
	}
}
