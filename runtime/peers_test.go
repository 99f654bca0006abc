package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

func checkDiagTexts(t *testing.T, text string) []string {
	t.Helper()
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := parser.Parse(inputs, parser.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var out []string
	for _, d := range runtime.Check(cfg, runtime.CheckOptions{}).Diags {
		out = append(out, d.Msg)
	}
	return out
}

// check_config_validity's peers checks.
func TestPeersCheck(t *testing.T) {
	got := strings.Join(checkDiagTexts(t, "global\n localpeer a\npeers p\n peer b 127.0.0.1:1\npeers e\nbackend x\n stick-table type ip size 1 peers nope\nbackend y\n stick-table type ip size 1 peers e\n"), "\n")
	for _, want := range []string{
		"Proxy 'x': unable to find sync peers 'nope'.",
		"Proxy 'y': unable to find local peer 'a' in peers section 'e'.",
		"Removing incomplete section 'peers p' (no peer named 'a').",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	// A disabled section is silently not used.
	got = strings.Join(checkDiagTexts(t, "global\n localpeer a\npeers p\n disabled\n peer a 127.0.0.1:1\nbackend y\n stick-table type ip size 1 peers p\n"), "\n")
	if strings.Contains(got, "peers") {
		t.Errorf("disabled section: %s", got)
	}
}

// What the runtime does not run in a peers section is refused.
func TestPeersRefused(t *testing.T) {
	for _, line := range []string{"server b 127.0.0.1:1 check", "default-server weight 10", "log 127.0.0.1:514 local0", "bind 127.0.0.1:2 accept-proxy"} {
		got := compileErr(t, "global\n localpeer a\npeers p\n server a\n "+line+"\n")
		if !strings.Contains(got, "is not supported by the gohap runtime yet") {
			t.Errorf("%s: %q", line, got)
		}
	}
}

// Two gohap nodes share a table the traffic fills: a request tracked on
// one node shows on the other with its counters.
func TestPeersTrafficTwoGohap(t *testing.T) {
	pa, pb, fa, fb, ca, cb := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	up := startEcho(t, "up")
	cfg := func(local, cli, peers, fe string) string {
		return fmtCfg(`global
    localpeer %s
    stats socket ipv4@%s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
peers p
%s
frontend fe
    bind %s
    http-request track-sc0 path table be
    http-request sc-inc-gpc0(0)
    default_backend be
backend be
    stick-table type string len 32 size 100 expire 1m peers p store gpc0,http_req_cnt,http_req_rate(10s)
    server s %s
`, local, cli, peers, fe, up.Addr())
	}
	ea := startGohap(t, cfg("a", ca, "    bind "+pa+"\n    server a\n    server b "+pb, fa), nil)
	eb := startGohap(t, cfg("b", cb, "    server a "+pa+"\n    bind "+pb+"\n    server b", fb), nil)
	// Each node learns the other's table once at startup, values and
	// all, as HAProxy's do: an entry that changes meanwhile is set back
	// to the value taught. Two new nodes each teach a partial table and
	// wait out the 5s resync timeout; the traffic comes after.
	synced := time.Now().Add(10 * time.Second)
	for !(ea.PeersResynced() && eb.PeersResynced()) {
		if time.Now().After(synced) {
			t.Fatal("the peers did not resync within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		if code, _, _ := get(t, fa, "GET /shared HTTP/1.1\r\nHost: x\r\n\r\n"); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = cliSend(t, "tcp", cb, "show table be\n")
		if strings.Contains(out, "key=/shared use=0 exp=") && strings.Contains(out, "gpc0=3 http_req_cnt=3 http_req_rate(10000)=3") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node b: %s", out)
}

// An in-process reload hands the shared tables to the new engine through
// the local peer, with their expiry dates, as a reloaded HAProxy's old
// process teaches the new one.
func TestPeersReloadHandOver(t *testing.T) {
	pa, ca := freePort(t), freePort(t)
	text := fmtCfg(`global
    localpeer a
    stats socket ipv4@%s level admin
peers p
    peer a %s
    peer b 127.0.0.1:1
backend be
    stick-table type ip size 10 expire 30s peers p store gpc0,server_id
`, ca, pa)
	old := startGohap(t, text, nil)
	cliSend(t, "tcp", ca, "set table be key 10.1.1.1 data.gpc0 7 data.server_id 2\n")
	time.Sleep(1500 * time.Millisecond)
	inputs, err := parser.ReadInputs([]string{writeCfg(t, text)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := parser.Parse(inputs, parser.Options{})
	g, errs := runtime.Compile(cfg, runtime.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	next := runtime.NewEngine(g, nil)
	next.TakeOver(old)
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		next.Stop()
		next.Wait()
	})
	old.Retire()
	deadline := time.Now().Add(3 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = cliSend(t, "tcp", ca, "show table be\n")
		if line, exp, ok := peersEntry(t, ca, "be", "10.1.1.1"); ok && line == "key=10.1.1.1 use=0 server_id=2 gpc0=7" {
			if exp > 29000 || exp < 25000 {
				t.Errorf("exp=%d, want the former engine's date", exp)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("new engine: %s", out)
}
