package acl

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/acl/stick"
)

// The stick-table differential: haproxy tracks each request with
// track-sc0/sc1 and answers the expressions below in headers; the same
// tracking is replayed on Tables and the expressions are evaluated here.
// Rate periods are longer than the test, so rates equal counts on both
// sides whatever the timing.

var stickDiffTables = []string{
	"fe: stick-table type ip size 100 expire 60s store conn_cur,conn_cnt,conn_rate(60s),http_req_cnt,http_req_rate(60s),gpc0,gpc0_rate(60s),http_err_cnt,gpt0",
	"st2: stick-table type ip size 50 store gpc(2),gpc_rate(2,60s),http_req_cnt,conn_cur",
	"st3: stick-table type ip size 20 store gpc0,conn_cnt",
	"st4: stick-table type string len 12 size 20 store http_req_cnt,gpt(3)",
}

var stickDiffExprs = []string{
	"sc0_conn_cur", "sc0_conn_cnt", "sc0_conn_rate", "sc0_http_req_cnt",
	"sc0_http_req_rate", "sc_http_req_rate(0)", "sc_conn_cur(1)", "sc0_get_gpc0",
	"sc0_gpc0_rate", "sc0_trackers", "sc0_tracked", "sc1_tracked", "sc2_tracked",
	"sc_tracked(1,st3)", "sc2_conn_cur", "sc0_kbytes_in", "sc0_http_err_cnt",
	"sc0_get_gpt0", "sc1_get_gpc0", "sc1_gpc0_rate", "sc_get_gpc(1,1)",
	"sc_gpc_rate(0,1)", "sc1_http_req_cnt", "sc1_conn_cur", "sc1_get_gpt0",
	"sc0_get_gpc0(st2)", "sc1_get_gpc0(fe)", "sc0_trackers(st2)", "sc0_conn_cur(st3)",
	"src_conn_cur", "src_http_req_cnt", "src_get_gpc0(st2)", "src_conn_cnt(st3)",
	"src_get_gpc(1,st2)", "src_http_req_rate(st3)", "src_kbytes_out",
	"src,table_http_req_cnt", "src,table_gpc0(st2)", "src,table_gpc(1,st2)",
	"src,in_table(st3)", "str(1.2.3.4),in_table", "str(127.0.0.1),table_conn_cnt",
	"table_cnt", "table_avl", "table_cnt(st3)", "table_avl(st2)", "table_cnt(st4)",
	"src,table_trackers", "src,table_trackers(st2)", "src,table_conn_cur(st3)",
	"src,table_gpc0_rate(st2)", "src,table_server_id", "ipv4(10.9.9.9),table_conn_cnt",
	"int(7),table_conn_cnt", "src_inc_gpc0(st3)", "src_get_gpc0(st3)",
	"src_updt_conn_cnt(st3)", "src,table_conn_cnt(st3)", "src_clr_gpc0(st3)",
	"src_inc_gpc(1,st2)", "src_clr_gpc(1,st2)", "sc_inc_gpc0(1)", "sc1_inc_gpc0(st3)",
	"req.hdr(host),table_http_req_cnt(st4)", "req.hdr(host),in_table(st4)",
	"str(other),table_gpt(2,st4)", "req.hdr(host),table_gpt(2,st4)", "req.hdr(host),table_gpt(5,st4)",
	"sc2_http_req_cnt", "sc2_http_req_cnt(st4)", "sc2_get_gpt0",
}

// stickDiffPaths are requested in turn; /inc also runs sc-inc-gpc0(0) and
// sc-inc-gpc(1,1), /t2 tracks sc2 on the Host header in st4.
var stickDiffPaths = []string{"/a", "/inc", "/a", "/t2", "/inc", "/inc", "/t2", "/a"}

func TestStickDifferentialHAProxy(t *testing.T) {
	bin := haproxyBin()
	if _, err := os.Stat(bin); err != nil {
		t.Skip("haproxy not installed")
	}
	dir := t.TempDir()
	// haproxy inherits the listening socket (fd@3): no port is released
	// for another test to take before it binds.
	port, lf := inheritedListener(t)
	const bindAt = "@BIND@"
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n")
	fmt.Fprintf(&cfg, "frontend fe\n  bind %s\n  %s\n", bindAt, strings.SplitN(stickDiffTables[0], ": ", 2)[1])
	cfg.WriteString("  http-request track-sc0 src\n  http-request track-sc1 src table st2\n")
	cfg.WriteString("  http-request track-sc2 req.hdr(host) table st4 if { path /t2 }\n")
	cfg.WriteString("  http-request sc-inc-gpc0(0) if { path /inc }\n  http-request sc-inc-gpc(1,1) if { path /inc }\n")
	cfg.WriteString("  http-request sc-set-gpt(2,2) 42 if { path /t2 }\n")
	// Lines are short: the expressions go in turn into set-var-fmt
	// rules, which the return rule sends back.
	const per = 12
	for i := 0; i < len(stickDiffExprs); i += per {
		fmt.Fprintf(&cfg, "  http-request set-var-fmt(txn.h%d) \"", i)
		for j := i; j < len(stickDiffExprs) && j < i+per; j++ {
			fmt.Fprintf(&cfg, "%%[%s]|", cfgQuote(stickDiffExprs[j]))
		}
		cfg.WriteString("\"\n")
	}
	cfg.WriteString("  http-request return status 200")
	for i := 0; i < len(stickDiffExprs); i += per {
		fmt.Fprintf(&cfg, " hdr x-%d %%[var(txn.h%d)]", i, i)
	}
	cfg.WriteString("\n")
	for _, l := range stickDiffTables[1:] {
		name, def, _ := strings.Cut(l, ": ")
		fmt.Fprintf(&cfg, "backend %s\n  %s\n", name, def)
	}
	// The check reads the configuration with an address bind, which
	// "-c" accepts without the inherited descriptor.
	check, path := filepath.Join(dir, "c.cfg"), filepath.Join(dir, "h.cfg")
	checkText := strings.Replace(cfg.String(), bindAt, fmt.Sprintf("127.0.0.1:%d", port), 1)
	if err := os.WriteFile(check, []byte(checkText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(cfg.String(), bindAt, "fd@3", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", check).CombinedOutput(); err != nil {
		lf.Close()
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, checkText)
	}
	startHAProxyFDs(t, bin, path, []*os.File{lf})

	clk := &stickClock{ms: 1000}
	ctx := &Context{Proxy: "fe", Tables: stickTables(t, clk, stickDiffTables...)}
	var exprs []*Sample
	for _, e := range stickDiffExprs {
		s, err := CompileSampleWith(e, ctx)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		exprs = append(exprs, s)
	}
	fe, st2, st4 := ctx.Tables.Table("fe"), ctx.Tables.Table("st2"), ctx.Tables.Table("st4")
	host, err := CompileSample("req.hdr(host)")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	compared, agreed := 0, 0
	for n, p := range stickDiffPaths {
		got := map[string]string{}
		var resp *http.Response
		for try := 0; ; try++ {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, p), nil)
			req.Host = "www.example.com"
			if resp, err = client.Do(req); err == nil {
				break
			}
			if try > 50 {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for i := 0; i < len(stickDiffExprs); i += per {
			vals := strings.Split(resp.Header.Get(fmt.Sprintf("x-%d", i)), "|")
			for j := i; j < len(stickDiffExprs) && j < i+per; j++ {
				if j-i < len(vals) {
					got[stickDiffExprs[j]] = vals[j-i]
				}
			}
		}

		// the same rules, replayed
		tx := txn(t, "GET "+p+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
		tx.Src = netip.MustParseAddrPort("127.0.0.1:40000")
		k, _ := stick.IPKey(stick.KeyIP, tx.Src.Addr())
		e0 := fe.Track(&k)
		tx.TrackSC(0, fe, e0)
		e0.IncHTTPReq()
		e1 := st2.Track(&k)
		tx.TrackSC(1, st2, e1)
		e1.IncHTTPReq()
		if p == "/t2" {
			hk, _ := host.Key(tx, st4)
			e2 := st4.Track(&hk)
			tx.TrackSC(2, st4, e2)
			e2.IncHTTPReq()
			e2.SetGPT(2, 42)
		}
		if p == "/inc" {
			e0.IncGPC0()
			e1.IncGPC(1)
		}
		for i, s := range exprs {
			b, ok := s.Append(nil, tx)
			want := string(b)
			if !ok {
				want = ""
			}
			compared++
			if h := got[stickDiffExprs[i]]; h != want {
				t.Errorf("request %d %s: %s: haproxy %q, engine %q", n, p, stickDiffExprs[i], h, want)
			} else {
				agreed++
			}
		}
		tx.ReleaseTracked()
		// let haproxy end the stream before the next connection
		time.Sleep(30 * time.Millisecond)
	}
	t.Logf("stick fetches: %d/%d values agree", agreed, compared)
}
