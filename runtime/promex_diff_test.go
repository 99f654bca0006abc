package runtime_test

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// promexCfg: an HTTP frontend tracking its clients in a stick table, a
// backend with a server up, one whose check fails and one disabled, one
// with an HTTP check, a
// TCP pair (the HTTP-only metrics skip it) and the exporter, whose
// answers go through http-after-response.
const promexCfg = `global
    maxconn 500
` + baseDefaults + `frontend fe
    bind %s
    http-request track-sc0 src table st
    default_backend be
backend be
    server s1 %s check inter 100 rise 1 fall 1
    server s2 %s check inter 100 rise 1 fall 1 weight 50
    server s3 %s disabled
frontend tfe
    mode tcp
    bind %s
    maxconn 70
    default_backend tbe
backend tbe
    mode tcp
    server t1 %s maxconn 9
backend st
    stick-table type ip size 100 expire 30s store http_req_cnt
backend hc
    option httpchk GET /
    server h1 %s check inter 100 rise 1 fall 1
frontend prometheus
    bind %s
    http-request use-service prometheus-exporter if { path /metrics }
    http-after-response set-header x-after %%[fe_name]
    no log
`

// promexMasked are the metrics whose values depend on time, on the
// machine or on the process rather than on the traffic, and the
// counters gohap's statistics keep otherwise than HAProxy's (the stats
// page and "show stat" report the same): their lines are compared by
// name and labels only. The expression is matched against the name
// and labels.
var promexMasked = regexp.MustCompile(`^haproxy_process_|` +
	`_(seconds|seconds_total|rate|rate_max|bytes_in_total|bytes_out_total)$|` +
	// max_sessions: gohap reports the current count as the maximum.
	`_max_sessions$|` +
	// Checks: failures before the first success and idle-connection
	// needs are counted otherwise.
	`_check_failures_total$|_check_up_down_total$|_need_connections_current$|` +
	// gohap's checks keep no layer 7 status code: NaN for L7OK.
	`_check_code$|` +
	// Server connections kept idle after the answers: counted in
	// HAProxy's pools only.
	`_idle_connections_current$|` +
	// The exporter's own frontend carries the scrapes that wait for the
	// checks to settle, as many as that takes on each side. Besides,
	// HAProxy counts the start-up probe's empty connection as a failed
	// request answered 4xx (gohap's statistics do not), and the
	// exporter's own request when it starts (gohap when it ends).
	`^haproxy_frontend_[a-z_]+\{proxy="prometheus"`)

type promexSide struct{ fe, prom string }

func startPromexPair(t *testing.T) (ha, gh promexSide) {
	t.Helper()
	setup := func(start func(cfg, prom string)) promexSide {
		s1 := startEcho(t, "s1")
		// Nothing listens on port 1, whereas a port freePort found free
		// may be taken by the next listener of the test.
		down := "127.0.0.1:1"
		fe, tfe, prom := freePort(t), freePort(t), freePort(t)
		start(fmtCfg(promexCfg, fe, s1.Addr(), down, s1.Addr(), tfe, s1.Addr(), s1.Addr(), prom), prom)
		return promexSide{fe, prom}
	}
	ha = setup(func(cfg, prom string) { startHAProxy(t, cfg, prom) })
	gh = setup(func(cfg, prom string) {
		startGohap(t, cfg, nil)
		// startHAProxy waits with an empty connection: the same here.
		if c, err := net.DialTimeout("tcp", prom, time.Second); err == nil {
			c.Close()
		}
	})
	for _, s := range []promexSide{ha, gh} {
		waitMetric(t, s.prom, `haproxy_server_status{proxy="be",server="s2",state="DOWN"} 1`)
		waitMetric(t, s.prom, `haproxy_server_status{proxy="be",server="s1",state="UP"} 1`)
		waitMetric(t, s.prom, `haproxy_server_check_status{proxy="hc",server="h1",state="L7OK"} 1`)
	}
	return ha, gh
}

// scrape sends one request to the exporter on a new connection and
// returns the answer's head and its dechunked body.
func scrape(t *testing.T, addr, raw string) (head, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	b, _ := io.ReadAll(c)
	s := string(b)
	i := strings.Index(s, "\r\n\r\n")
	if i < 0 {
		t.Fatalf("%s: no answer head in %q", addr, s)
	}
	head, body = s[:i+4], s[i+4:]
	if strings.Contains(head, "transfer-encoding: chunked") {
		body = strings.TrimSuffix(strings.TrimPrefix(dechunk("transfer-encoding: chunked\r\n\r\n"+body),
			"transfer-encoding: chunked\r\n\r\n<chunked "), ">")
	}
	return head, body
}

func metricsGet(target string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"
}

func waitMetric(t *testing.T, addr, line string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := scrape(t, addr, metricsGet("/metrics?scope=server"))
		if strings.Contains(body, "\n"+line+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q in\n%s", addr, line, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// series splits a metric line into its name with labels and its value.
func series(l string) (key, val string) {
	i := strings.LastIndexByte(l, ' ')
	return l[:i], l[i+1:]
}

func promexName(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		return key[:i]
	}
	return key
}

// comparePromex compares two dumps: the HELP and TYPE lines byte for
// byte, the series (names and labels) in order, and the values but for
// the masked metrics.
func comparePromex(t *testing.T, what, want, got string) (r promexAgreement) {
	t.Helper()
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	if len(wl) != len(gl) {
		t.Errorf("%s: %d lines, haproxy %d\nhaproxy:\n%s\ngohap:\n%s", what, len(gl), len(wl), want, got)
		r.bad++
		return
	}
	for i := range wl {
		w, g := wl[i], gl[i]
		if w == "" && g == "" {
			continue
		}
		r.lines++
		if strings.HasPrefix(w, "#") || strings.HasPrefix(g, "#") {
			if w != g {
				t.Errorf("%s: header line %d: %q, haproxy %q", what, i+1, g, w)
				r.bad++
			} else {
				r.same++
			}
			continue
		}
		wk, wv := series(w)
		gk, gv := series(g)
		// build_info's label is the package's version string.
		if strings.HasPrefix(wk, "haproxy_process_build_info{") {
			wk, gk = "haproxy_process_build_info", "haproxy_process_build_info"
		}
		if wk != gk {
			t.Errorf("%s: line %d: %q, haproxy %q", what, i+1, g, w)
			r.bad++
			continue
		}
		if wv == gv {
			r.same++
		}
		if promexMasked.MatchString(promexName(wk)) || promexMasked.MatchString(wk) {
			continue
		}
		r.unmasked++
		if wv != gv {
			t.Errorf("%s: %s = %s, haproxy %s", what, gk, gv, wv)
			r.bad++
			continue
		}
		r.unmaskedSame++
	}
	return
}

// promexAgreement counts the lines of two dumps: all of them, those
// identical, those whose values are compared and those equal, and the
// differences reported.
type promexAgreement struct{ lines, same, unmasked, unmaskedSame, bad int }

// The exporter's dump, side by side with HAProxy's after the same
// traffic: the same metric names, HELP and TYPE lines, labels and
// order, and the same values where they do not depend on time.
func TestPromexDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the exporter")
	}
	ha, gh := startPromexPair(t)
	for _, s := range []promexSide{ha, gh} {
		for i := 0; i < 5; i++ {
			if st, srv, _ := get(t, s.fe, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || srv != "s1" {
				t.Fatalf("%s: status %d from %q", s.fe, st, srv)
			}
		}
	}
	hh, hb := scrape(t, ha.prom, metricsGet("/metrics"))
	gh2, gb := scrape(t, gh.prom, metricsGet("/metrics"))
	if hh != gh2 {
		t.Errorf("answer head %q, haproxy %q", gh2, hh)
	}
	names := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "# HELP ") {
				out = append(out, strings.Fields(l)[2])
			}
		}
		return out
	}
	if hn, gn := names(hb), names(gb); strings.Join(hn, " ") != strings.Join(gn, " ") {
		t.Errorf("metric names differ:\ngohap   %v\nhaproxy %v", gn, hn)
	} else {
		t.Logf("exporter: %d metric names, the same as HAProxy's", len(hn))
	}
	// Prometheus' own parser reads both dumps the same for the metrics
	// that do not move between the two scrapes.
	if err := testutil.ScrapeAndCompare("http://"+gh.prom+"/metrics", strings.NewReader(hb),
		"haproxy_process_nbproc", "haproxy_process_stopping", "haproxy_frontend_status", "haproxy_frontend_limit_sessions",
		"haproxy_backend_status", "haproxy_backend_weight", "haproxy_backend_active_servers", "haproxy_backend_backup_servers",
		"haproxy_backend_agg_server_status", "haproxy_backend_agg_check_status", "haproxy_backend_http_requests_total",
		"haproxy_server_status", "haproxy_server_weight", "haproxy_server_uweight", "haproxy_server_check_status",
		"haproxy_server_limit_sessions", "haproxy_server_queue_limit", "haproxy_server_loadbalanced_total",
		"haproxy_sticktable_size", "haproxy_sticktable_used"); err != nil {
		t.Errorf("parsed dumps differ: %v", err)
	}
	r := comparePromex(t, "/metrics", hb, gb)
	t.Logf("exporter: %d of %d lines identical to HAProxy's; %d of %d unmasked lines identical", r.same, r.lines, r.unmaskedSame, r.unmasked)
	for _, want := range []string{
		`haproxy_frontend_http_responses_total{proxy="fe",code="2xx"} 5`,
		`haproxy_backend_http_requests_total{proxy="be"} 5`,
		`haproxy_server_loadbalanced_total{proxy="be",server="s1"} 5`,
		`haproxy_server_weight{proxy="be",server="s2"} 50`,
		`haproxy_server_status{proxy="be",server="s3",state="MAINT"} 1`,
		`haproxy_frontend_limit_sessions{proxy="tfe"} 70`,
		`haproxy_server_limit_sessions{proxy="tbe",server="t1"} 9`,
		`haproxy_sticktable_used{name="st",type="ip"} 1`,
		`haproxy_server_check_status{proxy="hc",server="h1",state="L7OK"} 1`,
		`haproxy_frontend_http_requests_total{proxy="fe"} 5`,
	} {
		if !strings.Contains(gb, "\n"+want+"\n") {
			t.Errorf("gohap's dump lacks %q", want)
		}
	}
}

// scope= and no-maint select the metrics as HAProxy's exporter does; a
// query it cannot read gets its 400 page; HEAD gets the head alone.
func TestPromexScopesDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the exporter")
	}
	ha, gh := startPromexPair(t)
	reqs := []string{
		metricsGet("/metrics?scope=global"),
		metricsGet("/metrics?scope=frontend"),
		metricsGet("/metrics?scope=backend&scope=server"),
		metricsGet("/metrics?scope=server&no-maint"),
		metricsGet("/metrics?no-maint=1&scope=server"),
		metricsGet("/metrics?scope=sticktable"),
		metricsGet("/metrics?sc%6fpe=stick%74able&other"),
		metricsGet("/metrics?scope=listener"),
		metricsGet("/metrics?scope=server&scope="),
		metricsGet("/metrics?scope=*"),
		metricsGet("/metrics?scope=none"),
		metricsGet("/metrics?scope=bad"),
		metricsGet("/metrics?scope"),
		metricsGet("/metrics?scope=frontend&x=a=b"),
		metricsGet("/metrics?scope=%zz"),
		"HEAD /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
		"GET /metrics?scope=sticktable HTTP/1.0\r\n\r\n",
	}
	total, agree := 0, 0
	for _, raw := range reqs {
		what := strings.SplitN(raw, "\r\n", 2)[0]
		hh, hb := scrape(t, ha.prom, raw)
		gh2, gb := scrape(t, gh.prom, raw)
		total++
		if hh != gh2 {
			t.Errorf("%s: head %q, haproxy %q", what, gh2, hh)
			continue
		}
		if strings.HasPrefix(hh, "HTTP/1.1 400") {
			if hb != gb {
				t.Errorf("%s: body %q, haproxy %q", what, gb, hb)
				continue
			}
			agree++
			continue
		}
		r := comparePromex(t, what, hb, gb)
		t.Logf("%s: %d of %d lines identical", what, r.same, r.lines)
		if r.bad == 0 {
			agree++
		}
	}
	t.Logf("exporter queries: %d of %d answered as HAProxy does", agree, total)

	// Keep-alive: two scrapes on one connection, HTTP/1.1 then HTTP/1.0
	// asking for keep-alive; the connection stays open after both.
	two := "GET /metrics?scope=sticktable HTTP/1.1\r\nHost: m\r\n\r\n" +
		"GET /metrics?scope=sticktable HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	want, wantClosed := exchange(t, ha.prom, two, []string{"GET", "GET"}, 3*time.Second)
	got, gotClosed := exchange(t, gh.prom, two, []string{"GET", "GET"}, 3*time.Second)
	if dechunk(want) != dechunk(got) || wantClosed != gotClosed {
		t.Errorf("keep-alive scrapes differ\nhaproxy (closed=%v):\n%q\ngohap (closed=%v):\n%q", wantClosed, want, gotClosed, got)
	}
}

// The exporter's requests are logged as HAProxy logs them: the frontend
// as backend, "<PROMEX>" as server, zero timers, "LR" termination flags
// and the byte count of HAProxy's internal message (no chunk framing;
// the 400 page's connection header; HEAD counts the dump it drops), in
// a frontend and in a backend.
func TestPromexLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the exporter's log lines")
	}
	reqs := []string{
		metricsGet("/metrics?scope="),
		metricsGet("/metrics?scope=sticktable"),
		metricsGet("/metrics?scope=bad"),
		"HEAD /metrics?scope=sticktable HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
		"GET /metrics?scope=sticktable HTTP/1.0\r\n\r\n",
		metricsGet("/in-backend?scope=sticktable"),
	}
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg(`global
 log %s local0
`+baseDefaults+` log global
 option httplog
frontend prometheus
 bind %s
 http-request use-service prometheus-exporter if { path_beg /metrics }
 default_backend pbe
backend pbe
 http-request use-service prometheus-exporter
 server down 127.0.0.1:1
backend st
 stick-table type string len 8 size 10
`, sink.addr(), fe), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		var got []string
		for _, raw := range reqs {
			exchange(t, fe, raw, []string{"GET"}, 3*time.Second)
			l, ok := sink.next(500 * time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			if !ok {
				l = "(no line)"
			}
			got = append(got, strings.SplitN(raw, "\r\n", 2)[0]+" => "+maskLog(l))
		}
		return got
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for _, l := range got {
		if strings.Contains(l, "(no line)") {
			t.Errorf("%s", l)
		}
	}
	t.Logf("exporter log lines: %d of %d agree with haproxy", sameLines(t, ref, got), len(ref))
}
