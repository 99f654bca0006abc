package stick

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The HAProxy differential: the same request sequence goes through haproxy
// and is replayed into Tables at the dates haproxy itself reports (the
// date(0,ms) fetch, which is now_ms with a single thread), then the
// counters the fetches return and the "show table" lines are compared.

const diffMain = "stick-table type ip size 1k expire 30s store http_req_rate(10s),conn_cur,conn_cnt,gpc0,http_err_rate(10s),bytes_out_rate(10s),http_req_cnt,http_err_cnt,bytes_out_cnt"
const diffShort = "stick-table type ip size 1k expire 3s store http_req_rate(1s),conn_rate(1500ms),gpc0_rate(700ms),gpc0,http_err_cnt,http_err_rate(900ms)"

// fetchFmt are the header names and the fetches haproxy fills them with.
var fetchFmt = []struct{ name, expr string }{
	{"r", "sc_http_req_rate(0)"}, {"c", "sc_conn_cur(0)"}, {"n", "sc_conn_cnt(0)"},
	{"g", "sc_get_gpc0(0)"}, {"e", "sc_http_err_rate(0)"}, {"b", "sc_bytes_out_rate(0)"},
	{"r1", "sc_http_req_rate(1)"}, {"q1", "sc_conn_rate(1)"}, {"g1", "sc_gpc0_rate(1)"},
	{"e1", "sc_http_err_rate(1)"},
}

// diffStep is one request: its path and the pause before it.
type diffStep struct {
	path  string
	pause time.Duration
}

func diffSteps() []diffStep {
	paths := []string{"/ret", "/inc", "/ok", "/missing"}
	var steps []diffStep
	x := uint32(12345)
	for i := 0; i < 44; i++ {
		x = x*1103515245 + 12345
		steps = append(steps, diffStep{path: paths[(x>>8)%4], pause: time.Duration(40+(x>>12)%560) * time.Millisecond})
	}
	return steps
}

func TestHAProxyDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 20 seconds")
	}
	bin := haproxyBin(t)
	dir := t.TempDir()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("t1", r.Header.Get("X-T1"))
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
		io.WriteString(w, "hello from the server\n")
	}))
	defer srv.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sock := filepath.Join(dir, "s.sock")
	var hdrs []string
	for _, f := range fetchFmt {
		hdrs = append(hdrs, fmt.Sprintf("%s %%[%s]", f.name, f.expr))
	}
	cfg := fmt.Sprintf(`global
  nbthread 1
  stats socket %s level admin
defaults
  mode http
  timeout client 10s
  timeout server 10s
  timeout connect 10s
frontend fe
  bind 127.0.0.1:%d
  %s
  http-request track-sc0 src
  http-request track-sc1 src table st1
  http-request sc-inc-gpc0(0) if { path_beg /inc }
  http-request sc-inc-gpc0(1) if { path_beg /inc }
  http-request return status 200 hdr t %%[date(0,ms)] hdr %s if { path_beg /ret } or { path_beg /inc }
  http-request set-header X-T1 %%[date(0,ms)]
  http-response set-header t %%[date(0,ms)]
  http-response set-header %s
  default_backend be
backend be
  server s1 %s
backend st1
  %s
`, sock, port, diffMain, strings.Join(hdrs, " hdr "), strings.Join(hdrs, "\n  http-response set-header "), srv.Listener.Addr(), diffShort)
	cfgPath := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("haproxy did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	clk := newClock(0)
	var set Tables
	mainCfg, _ := Parse(strings.Fields(diffMain), "fe", false)
	shortCfg, _ := Parse(strings.Fields(diffShort), "st1", false)
	fe, st1 := New(mainCfg, clk.now), New(shortCfg, clk.now)
	set.Add(fe)
	set.Add(st1)
	key := ip4("127.0.0.1")

	cli := func(cmd string) string {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "%s\n", cmd)
		b, _ := io.ReadAll(c)
		return strings.TrimSuffix(string(b), "\n")
	}
	shows, showOK := 0, 0
	nowMS := func() uint32 { return uint32(time.Now().UnixMilli()) }

	client := &http.Client{}
	defer client.CloseIdleConnections()
	var lastBytes uint64
	compared, agreed := 0, 0
	for i, st := range diffSteps() {
		time.Sleep(st.pause)
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, st.path))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tResp := parseMS(t, resp.Header.Get("t"))
		tTrack := tResp
		backend := st.path == "/ok" || st.path == "/missing"
		if backend {
			tTrack = parseMS(t, resp.Header.Get("t1"))
		}
		// replay: track-sc0/1 count the request at tTrack
		clk.set(tTrack)
		e0, e1 := fe.Track(&key), st1.Track(&key)
		e0.IncHTTPReq()
		e1.IncHTTPReq()
		if st.path == "/inc" {
			e0.IncGPC0()
			e1.IncGPC0()
		}
		clk.set(tResp)
		if resp.StatusCode == 404 {
			e0.IncHTTPErr()
			e1.IncHTTPErr()
		}
		for _, f := range fetchFmt {
			e, dt := e0, DataType(0)
			switch f.name {
			case "r", "r1":
				dt = HTTPReqRate
			case "c":
				dt = ConnCur
			case "n":
				dt = ConnCnt
			case "g":
				dt = GPC0
			case "e", "e1":
				dt = HTTPErrRate
			case "b":
				dt = BytesOutRate
			case "q1":
				dt = ConnRate
			case "g1":
				dt = GPC0Rate
			}
			if strings.HasSuffix(f.name, "1") {
				e = e1
			}
			want, _ := e.Value(dt, 0)
			compared++
			if got := resp.Header.Get(f.name); got != strconv.FormatInt(want, 10) {
				t.Logf("request %d %s at %d: %s = %s, replay %d", i, st.path, tResp, f.expr, got, want)
			} else {
				agreed++
			}
		}
		// The stream ends (conn_cur drops, fe is touched) after the
		// response left, at a date the client cannot see: it is found from
		// fe's exp= and the dates around the dump. st1, not touched at the
		// end (it stores no conn_cur), is dumped after fe, possibly a few
		// milliseconds later: its exp= and last touch tell when.
		before := nowMS()
		out := cli("show table fe; show table st1")
		after := nowMS()
		blocks := strings.SplitN(out, "\n\n", 2)
		if len(blocks) != 2 {
			t.Fatalf("show table: %q", out)
		}
		exp0, exp1 := uint32(fieldValue(blocks[0], "exp")), uint32(fieldValue(blocks[1], "exp"))
		date0 := min(max(tResp+30000-exp0, before), after)
		tEnd := date0 + exp0 - 30000
		// HAProxy's now_ms runs up to 1 ms behind the date the client
		// reads, as for st1's dump below.
		if int32(tEnd-tResp) < -1 {
			t.Errorf("request %d: response at %d, stream end at %d", i, tResp, tEnd)
		}
		clk.set(tEnd)
		total := fieldValue(out, "bytes_out_cnt")
		e0.AddBytesOut(total - lastBytes)
		lastBytes = total
		e0.StopCounters()
		e1.StopCounters()
		e0.Release()
		e1.Release()
		// date(0,ms) reads HAProxy's date, entries are stamped with now_ms,
		// which adds a sub-millisecond offset: st1's dump may seem to come
		// up to 1 ms before fe's.
		date1 := e1.Expire() - exp1
		if int32(date1-date0) < -1 {
			t.Errorf("request %d: st1 dumped at %d, before fe at %d", i, date1, date0)
		}
		for _, d := range []struct {
			name, got string
			date      uint32
		}{{"fe", blocks[0], date0}, {"st1", blocks[1], date1}} {
			clk.set(d.date)
			shows++
			if want := set.Command([]string{"show", "table", d.name}, true); lines(d.got) != lines(want) {
				t.Logf("request %d: show table %s at %d, stream end %d:\nhaproxy %s\ngohap   %s", i, d.name, d.date, tEnd, lines(d.got), lines(want))
			} else {
				showOK++
			}
		}
	}
	// after st1's expiry its entry is gone on both sides
	time.Sleep(3200 * time.Millisecond)
	before := nowMS()
	shows++
	got := cli("show table st1")
	clk.set(before)
	if want := set.Command([]string{"show", "table", "st1"}, true); lines(got) != lines(want) {
		t.Errorf("after expiry:\nhaproxy %q\ngohap   %q", got, want)
	} else {
		showOK++
	}
	t.Logf("fetch values: %d/%d agree; show table dumps: %d/%d agree", agreed, compared, showOK, shows)
	// The replay infers HAProxy's instants from what it shows; on a loaded
	// machine an inference can be a millisecond off, so a few misses are
	// tolerated (each is logged above).
	if float64(agreed) < 0.97*float64(compared) || float64(showOK) < 0.9*float64(shows) {
		t.Errorf("too many disagreements: fetch values %d/%d, show table dumps %d/%d", agreed, compared, showOK, shows)
	}
}

func parseMS(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("date header %q: %v", s, err)
	}
	return uint32(v)
}

// fieldValue reads "name=value" from the first entry line of a dump.
func fieldValue(dump, name string) uint64 {
	sc := bufio.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if v, ok := strings.CutPrefix(f, name+"="); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				return n
			}
		}
	}
	return 0
}
