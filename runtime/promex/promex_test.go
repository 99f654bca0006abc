package promex

import (
	"strings"
	"testing"

	"github.com/gohap/gohap/runtime/stats"
)

// The query strings HAProxy 2.6.12's exporter accepts, and those it
// answers 400 (checked against the reference binary).
func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		target  string
		scopes  int
		noMaint bool
		ok      bool
	}{
		{"/metrics", ScopeAll, false, true},
		{"/metrics?", ScopeAll, false, true},
		{"/metrics?scope=global", ScopeGlobal, false, true},
		{"/metrics?scope=backend&scope=server", ScopeBackend | ScopeServer, false, true},
		{"/metrics?scope=server&no-maint", ScopeServer, true, true},
		{"/metrics?no-maint=whatever", ScopeAll, true, true},
		{"/metrics?scope=server&scope=", 0, false, true},
		{"/metrics?scope=&scope=frontend", ScopeFrontend, false, true},
		{"/metrics?scope=*", ScopeAll, false, true},
		{"/metrics?scope=*x", ScopeAll, false, true},
		{"/metrics?sc%6fpe=stick%74able&other", ScopeStickTable, false, true},
		{"/metrics?scope=global%00junk", ScopeGlobal, false, true},
		{"/metrics?scope=listener", ScopeListener, false, true},
		{"/metrics?foo=bar", ScopeAll, false, true},
		{"/metrics?&&", ScopeAll, false, true},
		{"/metrics?scope=none", 0, false, false},
		{"/metrics?scope=Global", 0, false, false},
		{"/metrics?scope", 0, false, false},
		{"/metrics?scope=frontend&x=a=b", 0, false, false},
		{"/metrics?scope=%zz", 0, false, false},
		{"/metrics?scope=glob%6", 0, false, false},
		{"/metrics?scope=glo+bal", 0, false, false},
	} {
		q, ok := ParseQuery(c.target)
		if ok != c.ok || ok && (q.Scopes != c.scopes || q.NoMaint != c.noMaint) {
			t.Errorf("%s: %+v %v, want scopes %#x no-maint %v ok %v", c.target, q, ok, c.scopes, c.noMaint, c.ok)
		}
	}
}

// An empty field is NaN, a missing metric has no header, a name's
// header comes once before its first line, averages are in seconds.
func TestRender(t *testing.T) {
	snap := &stats.Snapshot{Proxies: []stats.Proxy{{Name: "be", ID: 2, Mode: "tcp",
		Backend: &stats.BackendStats{Up: true, Traffic: stats.Traffic{RTime: 12}},
		Servers: []stats.ServerStats{{Name: "a", ID: 1, Status: "UP", Weight: 1, UWeight: 1,
			Check: &stats.Check{Status: "L7OK", Code: -1, Duration: -1}},
			{Name: "b", ID: 2, Status: "MAINT", InMaint: true},
			{Name: "p", ID: 3, Status: "DRAIN", Check: &stats.Check{Status: "L4OK", Code: -1, Duration: 5, Paused: true}}}}}}
	out := string(Render(nil, snap, []Table{{Name: "t", Type: "ip", Size: 10, Used: 3}, {Name: "z", Type: "ip"}},
		Query{Scopes: ScopeBackend | ScopeServer | ScopeStickTable, NoMaint: true}))
	for _, want := range []string{
		"# HELP haproxy_backend_status Current status of the service, per state label value.\n# TYPE haproxy_backend_status gauge\n" +
			"haproxy_backend_status{proxy=\"be\",state=\"DOWN\"} 0\nhaproxy_backend_status{proxy=\"be\",state=\"UP\"} 1\n",
		"haproxy_backend_response_time_average_seconds{proxy=\"be\"} 0.012000\n",
		"haproxy_server_limit_sessions{proxy=\"be\",server=\"a\"} NaN\n",
		"haproxy_backend_agg_server_status{proxy=\"be\",state=\"MAINT\"} 1\n",
		"haproxy_server_status{proxy=\"be\",server=\"a\",state=\"UP\"} 1\n",
		"haproxy_sticktable_used{name=\"t\",type=\"ip\"} 3\n",
		"haproxy_server_check_code{proxy=\"be\",server=\"a\"} NaN\n",
		"haproxy_server_check_status{proxy=\"be\",server=\"a\",state=\"L7OK\"} 1\n",
		"haproxy_server_status{proxy=\"be\",server=\"p\",state=\"DRAIN\"} 1\n",
		"haproxy_server_check_duration_seconds{proxy=\"be\",server=\"p\"} 0.005000\n",
		"haproxy_backend_agg_check_status{proxy=\"be\",state=\"L4OK\"} 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	for _, not := range []string{"server=\"b\"", "http_responses_total", "check_status{proxy=\"be\",server=\"p\"", "check_code{proxy=\"be\",server=\"p\"",
		"check_duration_seconds{proxy=\"be\",server=\"a\"", "name=\"z\"", "haproxy_process_"} {
		if strings.Contains(out, not) {
			t.Errorf("%q in\n%s", not, out)
		}
	}
	if n := strings.Count(out, "# HELP haproxy_server_status "); n != 1 {
		t.Errorf("%d headers for haproxy_server_status", n)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"/metrics?scope=global&no-maint", "/?scope=%41", "/?a=b=c", "/?scope=*&#x", "/?%", "/?+=+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		q, ok := ParseQuery(target)
		if ok && q.Scopes&^ScopeAll != 0 {
			t.Errorf("%q: scopes %#x", target, q.Scopes)
		}
	})
}
