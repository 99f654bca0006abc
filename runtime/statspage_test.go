package runtime_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rawGet sends one request and returns the raw answer, read until the
// connection closes or a complete response is in.
func rawRequest(t *testing.T, addr, method, target, auth, body string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	if auth != "" {
		req += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	}
	if body != "" {
		req += fmt.Sprintf("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", len(body))
	}
	io.WriteString(c, req+"\r\n"+body)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var h strings.Builder
	fmt.Fprintf(&h, "%d\n", resp.StatusCode)
	resp.Header.Write(&h)
	return h.String() + "\n" + string(b)
}

// rawBytes sends a request and returns the bytes received until close.
func rawBytes(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func statsCfg(sock, fe, st string, echos [4]string) string {
	return fmtCfg(`global
    stats socket %s level admin
    node gw1
    description edge proxies
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    description public   "entry <point>"
    default_backend be
backend be
    description the servers
    balance roundrobin
    server s1 %s check inter 100ms
    server s2 %s weight 5
    server s3 %s backup disabled
    server s4 %s maxconn 10 maxqueue 5
listen stats
    bind %s
    stats enable
    stats uri /st
    stats auth admin:pw
    stats realm Hello\ there
    stats refresh 10s
    stats show-node
    stats show-desc
    stats admin if TRUE
`, sock, fe, echos[0], echos[1], echos[2], echos[3], st)
}

// csvBody returns the lines of a CSV answer (after the HTTP head).
func csvLines(t *testing.T, raw string) []string {
	t.Helper()
	_, body, _ := strings.Cut(raw, "\n\n")
	return strings.Split(strings.TrimRight(body, "\n"), "\n")
}

// staticFields are the CSV columns that do not depend on traffic or
// timing.
var staticFields = []string{"pxname", "svname", "slim", "status", "weight", "act", "bck", "qlimit", "pid", "iid",
	"sid", "type", "rate_lim", "check_status", "check_rise", "check_fall", "check_health", "addr", "cookie",
	"mode", "algo", "src_ilim", "uweight", "tracked", "throttle"}

func TestStatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	var echos [4]string
	for i := range echos {
		echos[i] = startEcho(t, fmt.Sprintf("s%d", i+1)).Addr()
	}
	dir := t.TempDir()
	hfe, hst := freePort(t), freePort(t)
	gfe, gst := freePort(t), freePort(t)
	hsock, gsock := filepath.Join(dir, "h.sock"), filepath.Join(dir, "g.sock")
	startHAProxy(t, statsCfg(hsock, hfe, hst, echos), hst)
	startGohap(t, statsCfg(gsock, hfe, hst, echos), map[string]string{hfe: gfe, hst: gst})
	side := gst
	// Both see s1's first check before the comparison.
	waitFor(t, func() bool {
		return strings.Contains(rawRequest(t, hst, "GET", "/st;csv", "admin:pw", ""), ",L4OK,") &&
			strings.Contains(rawRequest(t, side, "GET", "/st;csv", "admin:pw", ""), ",L4OK,")
	})

	t.Run("csv", func(t *testing.T) {
		h := csvLines(t, rawRequest(t, hst, "GET", "/st;csv", "admin:pw", ""))
		g := csvLines(t, rawRequest(t, side, "GET", "/st;csv", "admin:pw", ""))
		if h[0] != g[0] {
			t.Fatalf("CSV header:\nhaproxy %q\ngohap   %q", h[0], g[0])
		}
		if len(h) != len(g) {
			t.Fatalf("CSV lines: haproxy %d, gohap %d\n%s\n--\n%s", len(h), len(g), strings.Join(h, "\n"), strings.Join(g, "\n"))
		}
		names := strings.Split(strings.TrimPrefix(h[0], "# "), ",")
		col := map[string]int{}
		for i, n := range names {
			col[n] = i
		}
		compared := 0
		for i := 1; i < len(h); i++ {
			hf, gf := strings.Split(h[i], ","), strings.Split(g[i], ",")
			if len(hf) != len(gf) {
				t.Fatalf("line %d: %d fields vs %d", i, len(hf), len(gf))
			}
			for _, n := range staticFields {
				if hf[col[n]] != gf[col[n]] {
					t.Errorf("%s/%s %s: haproxy %q, gohap %q", hf[0], hf[1], n, hf[col[n]], gf[col[n]])
				}
				compared++
			}
			// Every column is empty in both or in neither.
			for k := range hf {
				if (hf[k] == "") != (gf[k] == "") && names[k] != "last_chk" && names[k] != "check_duration" {
					t.Errorf("%s/%s %s: haproxy %q, gohap %q", hf[0], hf[1], names[k], hf[k], gf[k])
				}
			}
		}
		t.Logf("%d lines, %d static fields compared", len(h)-1, compared)
	})

	t.Run("html", func(t *testing.T) {
		h := normHTML(rawRequest(t, hst, "GET", "/st", "admin:pw", ""))
		g := normHTML(rawRequest(t, side, "GET", "/st", "admin:pw", ""))
		hl, gl := strings.Split(h, "\n"), strings.Split(g, "\n")
		if len(hl) != len(gl) {
			t.Fatalf("HTML: haproxy %d lines, gohap %d", len(hl), len(gl))
		}
		for i := range hl {
			if hl[i] != gl[i] {
				t.Errorf("HTML line %d:\nhaproxy %s\ngohap   %s", i, hl[i], gl[i])
			}
		}
		t.Logf("%d HTML lines compared", len(hl))
	})

	t.Run("401", func(t *testing.T) {
		req := "GET /st HTTP/1.1\r\nHost: x\r\n\r\n"
		hr := rawBytes(t, hst, req)
		gr := rawBytes(t, side, req)
		if hr != gr {
			t.Fatalf("401:\nhaproxy %q\ngohap   %q", hr, gr)
		}
		if wrong := rawRequest(t, side, "GET", "/st", "admin:bad", ""); !strings.HasPrefix(wrong, "401\n") {
			t.Fatalf("bad password: %q", wrong)
		}
	})

	t.Run("cli", func(t *testing.T) {
		for _, cmd := range []string{"show stat\n", "show info\n", "show stat typed\n", "show info typed\n", "show stat json\n",
			"show info json\n", "show stat 3 4 -1\n", "show stat be 2 -1 typed\n", "show stat nope 1 1\n"} {
			h := cliSend(t, "unix", hsock, cmd)
			g := cliSend(t, "unix", gsock, cmd)
			hn, gn := fieldNames(cmd, h), fieldNames(cmd, g)
			if hn != gn {
				t.Errorf("%s field names:\nhaproxy %s\ngohap   %s", strings.TrimSpace(cmd), hn, gn)
			}
		}
	})

	t.Run("admin", func(t *testing.T) {
		hr := rawRequest(t, hst, "POST", "/st", "admin:pw", "s=s1&action=maint&b=%233")
		gr := rawRequest(t, side, "POST", "/st", "admin:pw", "s=s1&action=maint&b=%233")
		if hr != gr {
			t.Fatalf("POST:\nhaproxy %q\ngohap   %q", hr, gr)
		}
		if !strings.Contains(gr, "Location: /st;st=DONE") {
			t.Fatalf("POST answer: %q", gr)
		}
		for _, addr := range []string{hfe, gfe} {
			for i := 0; i < 6; i++ {
				_, srv, _ := get(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				if srv == "s1" {
					t.Fatalf("%s: request %d went to s1 in maintenance", addr, i)
				}
			}
		}
		s1 := func(addr string) string {
			for _, l := range csvLines(t, rawRequest(t, addr, "GET", "/st;csv", "admin:pw", "")) {
				if strings.HasPrefix(l, "be,s1,") {
					return l
				}
			}
			return ""
		}
		if h, g := s1(hst), s1(side); !strings.Contains(h, ",MAINT,") || !strings.Contains(g, ",MAINT,") {
			t.Fatalf("s1 after maint:\nhaproxy %s\ngohap   %s", h, g)
		}
		// An unknown action is refused with ERRP.
		if r := rawRequest(t, side, "POST", "/st", "admin:pw", "s=s1&action=bogus&b=be"); !strings.Contains(r, ";st=ERRP") {
			t.Fatalf("bad action: %q", r)
		}
	})
}

var (
	rlsSpan   = regexp.MustCompile(`<span class="rls">(\d)</span>`)
	digits    = regexp.MustCompile(`\d+`)
	versionH1 = regexp.MustCompile(`HAProxy version [^<]*`)
)

// normHTML keeps the structure of a page: numbers, which traffic and
// time change, become N, and the version line goes.
func normHTML(s string) string {
	s = versionH1.ReplaceAllString(s, "HAProxy version V")
	s = rlsSpan.ReplaceAllString(s, "$1")
	return digits.ReplaceAllString(s, "N")
}

var typedName = regexp.MustCompile(`^([A-Z]\.\d+\.\d+\.\d+\.[a-z0-9_]+\.\d+|\d+\.[A-Za-z_ -]+\.\d+):(...):([a-z0-9]+):`)

// fieldNames keeps what a CLI answer says of its fields: the CSV
// header, the names of "show info", the key and tags of typed lines, the
// field objects of JSON, or the error.
func fieldNames(cmd, out string) string {
	var b strings.Builder
	switch {
	case strings.Contains(cmd, "json"):
		re := regexp.MustCompile(`"field":\{"pos":\d+,"name":"[^"]+"\}`)
		return strings.Join(re.FindAllString(out, -1), " ")
	case strings.Contains(cmd, "typed"):
		for _, l := range strings.Split(out, "\n") {
			if m := typedName.FindStringSubmatch(l); m != nil {
				b.WriteString(m[1] + ":" + m[2] + ":" + m[3] + " ")
			}
		}
	case strings.HasPrefix(cmd, "show info"):
		for _, l := range strings.Split(out, "\n") {
			if n, _, ok := strings.Cut(l, ":"); ok {
				b.WriteString(n + " ")
			}
		}
	default:
		ls := strings.Split(out, "\n")
		b.WriteString(ls[0])
		for _, l := range ls[1:] {
			if f := strings.SplitN(l, ",", 3); len(f) == 3 {
				b.WriteString(" " + f[0] + "/" + f[1])
			}
		}
	}
	return b.String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatsPageBrowser loads the page in headless Chromium and checks
// the document it builds.
func TestStatsPageBrowser(t *testing.T) {
	bin := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium chromium-driver)")
	}
	up := startEcho(t, "up").Addr()
	fe := freePort(t)
	cfg := fmtCfg(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    default_backend be
backend be
    server up %s
    server down 127.0.0.1:1 check inter 100ms
    server bk %s backup disabled
    stats enable
    stats uri /
    stats refresh 5s
    stats show-legends
    stats admin if TRUE
`, fe, up, up)
	startGohap(t, cfg, nil)
	side := fe
	waitFor(t, func() bool {
		return strings.Contains(rawRequest(t, side, "GET", "/;csv", "", ""), "be,down,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,")
	})
	head := rawRequest(t, side, "GET", "/", "", "")
	if !strings.Contains(head, "Refresh: 5\r\n") {
		t.Fatalf("no refresh header: %.300s", head)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=2000", "--dump-dom", "http://"+side+"/;norefresh")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	done := make(chan struct{})
	var dom []byte
	var err error
	go func() {
		dom, err = cmd.Output()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("chromium did not finish in 60s")
	}
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	d := string(dom)
	for _, want := range []string{
		`<a class="px" href="#fe">fe</a>`, `<a class="px" href="#be">be</a>`,
		`<tr class="frontend">`, `<tr class="backend">`,
		`<tr class="active_no_check">`, `<tr class="active_down">`, `<tr class="maintain">`,
		`href="#be/up"`, `href="#be/down"`, `href="#be/bk"`,
		`>Enable refresh</a>`, `<select name="action">`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("DOM lacks %s", want)
		}
	}
	if n := strings.Count(d, `<th class="pxname"`); n != 2 {
		t.Errorf("%d proxy tables, want 2", n)
	}
}
