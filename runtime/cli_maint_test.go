package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maintCfg has health-checked servers that stay up and that go down,
// servers tracking them (in the backend and from another one), a
// "disabled" checked server and its tracker, and a checked backup.
const maintCfg = `global
    stats socket %[1]s level admin
` + baseDefaults + `frontend fe
    bind %[2]s
    default_backend be1
backend be1
    server up %[3]s check inter 100ms
    server down %[4]s check inter 100ms rise 3 fall 2
    server trk %[3]s track be1/up
    server trkd %[3]s track down
    server plain %[3]s
    server dis %[3]s check inter 100ms disabled
    server trkdis %[3]s track dis
    server bk %[3]s backup check inter 100ms
backend be2
    server t2 %[3]s track be1/up
`

// haproxyEvent is a server event line HAProxy prints on stderr.
var haproxyEvent = regexp.MustCompile(`(?m)^\[(?:WARNING|ALERT|NOTICE)\] +\(\d+\) : ((?:Backup )?Server .*|backend .*)$`)

// eventsByServer groups event lines by the server or backend they name,
// in order, with check durations masked: checks of different servers
// interleave differently from one run to the next.
func eventsByServer(lines []string) map[string][]string {
	dur := regexp.MustCompile(`check duration: \d+ms`)
	out := map[string][]string{}
	for _, l := range lines {
		f := strings.Fields(strings.TrimPrefix(l, "Backup "))
		if len(f) < 2 {
			continue
		}
		out[f[1]] = append(out[f[1]], dur.ReplaceAllString(l, "check duration: Nms"))
	}
	return out
}

// pausedHealth masks the check health of a server whose checks are
// paused by maintenance: a check in flight when the server entered it
// still counts (HAProxy's set_server_check_status, and gohap's), so the
// health is 0 or, now and then on either side, 1.
func pausedHealth(state string) string {
	lines := strings.Split(state, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 14 || f[12] != "1" {
			continue
		}
		admin, err1 := strconv.Atoi(f[6])
		chk, err2 := strconv.Atoi(f[13])
		if err1 == nil && err2 == nil && admin&1 != 0 && chk&0x08 != 0 {
			f[12] = "0"
			lines[i] = strings.Join(f, " ")
		}
	}
	return strings.Join(lines, "\n")
}

// TestCLIMaintDifferential: with health-checked and tracking servers,
// "show servers state" reports what HAProxy 2.6 reports (the seconds
// since the last change aside), "disable server" and "enable server"
// answer as HAProxy does, errors and permissions included, and the
// servers go in and out of maintenance with HAProxy's log lines.
func TestCLIMaintDifferential(t *testing.T) {
	if os.Getenv("HAPROXY_BIN") == "" {
		t.Skip("HAPROXY_BIN is not set: no HAProxy to compare the CLI with")
	}
	echo := startEcho(t, "a")
	down := freePort(t)
	hsock := filepath.Join(t.TempDir(), "h.sock")
	fe := freePort(t)
	hout := startHAProxyOut(t, fmt.Sprintf(maintCfg, hsock, fe, echo.Addr(), down), fe)
	gsock := filepath.Join(t.TempDir(), "g.sock")
	glog := startGohapOut(t, fmt.Sprintf(maintCfg, gsock, freePort(t), echo.Addr(), down))
	mask := func(s string) string { return pausedHealth(sinceChange.ReplaceAllString(s, "$1 T ")) }
	// settle waits until both report the same state, or fails.
	settle := func(step string) {
		t.Helper()
		var h, g string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			h = mask(cliSend(t, "unix", hsock, "show servers state\n"))
			g = mask(cliSend(t, "unix", gsock, "show servers state\n"))
			if h == g {
				return
			}
		}
		t.Fatalf("after %s:\ngohap:\n%s\nhaproxy:\n%s", step, g, h)
	}
	// waitDown waits until both have marked be1/down down, its check
	// failing, for the counts of later reports not to depend on when.
	waitDown := func(step string) {
		t.Helper()
		for _, sock := range []string{hsock, gsock} {
			// Checks start spread over their interval: "up" and "bk"
			// must have passed one, or a server put in maintenance
			// first would keep its initial check status on one side.
			ready := func() bool {
				st := mask(cliSend(t, "unix", sock, "show servers state be1\n"))
				return strings.Contains(st, " down 127.0.0.1 0 ") && (step != "start" ||
					strings.Contains(st, " up 127.0.0.1 2 0 1 1 T 6 3 ") &&
						strings.Contains(st, " bk 127.0.0.1 2 0 1 1 T 6 3 "))
			}
			for deadline := time.Now().Add(3 * time.Second); !ready(); {
				if time.Now().After(deadline) {
					t.Fatalf("after %s: be1/down is not down on %s", step, sock)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		settle(step)
	}
	waitDown("start")
	for _, req := range []string{
		"disable server be1/up\n",
		"disable server be1/down\n",
		"disable server be1/plain\n",
		"disable server be1/bk\n",
		"disable server be1/trk\n",
		"disable server be1/dis\n",
		"disable server be1/up\n",
		"disable server nope/x\n",
		"disable server be1/x\n",
		"disable server be1/#99\n",
		"disable server fe/up\n",
		"disable server be1\n",
		"disable server\n",
		"disable server /up\n",
		"disable server be1/\n",
		"user; disable server be1/up\n",
		"operator; enable server be1/up\n",
		"enable server be1/trk\n",
		"enable server be1/up\n",
		"enable server be1/plain\n",
		"enable server be1/down\n",
		"enable server be1/dis\n",
		"enable server be1/#8\n",
		"enable server be1/up\n",
		"enable server #3/#99\n",
		"enable server #4/#1\n",
	} {
		want, got := cliSend(t, "unix", hsock, req), cliSend(t, "unix", gsock, req)
		if got != want {
			t.Errorf("%q:\ngohap:\n%q\nhaproxy:\n%q", req, got, want)
		}
		settle(req)
		if req == "enable server be1/down\n" {
			// It comes back up at once, and goes down on its next check.
			waitDown(req)
		}
	}
	var hl, gl []string
	for _, m := range haproxyEvent.FindAllStringSubmatch(hout.String(), -1) {
		hl = append(hl, m[1])
	}
	for _, m := range strings.Split(glog(), "\n") {
		if strings.HasPrefix(m, "Server ") || strings.HasPrefix(m, "Backup Server ") || strings.HasPrefix(m, "backend ") {
			gl = append(gl, m)
		}
	}
	// The CLI's changes come in HAProxy's order, trackers last
	// registered first.
	cliOnly := func(l []string) string {
		var out []string
		for _, x := range l {
			if strings.Contains(x, "maintenance") || strings.Contains(x, "no server available") {
				out = append(out, x)
			}
		}
		return strings.Join(out, "\n")
	}
	if h, g := cliOnly(hl), cliOnly(gl); h != g {
		t.Errorf("maintenance events:\nhaproxy:\n%s\ngohap:\n%s", h, g)
	}
	w, g := eventsByServer(hl), eventsByServer(gl)
	if len(w) < 8 {
		t.Errorf("HAProxy logged events for only %d servers: %v", len(w), w)
	}
	for k := range w {
		if strings.Join(w[k], "\n") != strings.Join(g[k], "\n") {
			t.Errorf("%s:\nhaproxy:\n%s\ngohap:\n%s", k, strings.Join(w[k], "\n"), strings.Join(g[k], "\n"))
		}
	}
	for k := range g {
		if w[k] == nil {
			t.Errorf("%s: gohap only:\n%s", k, strings.Join(g[k], "\n"))
		}
	}
	help := cliSend(t, "unix", hsock, "help\n")
	for _, l := range strings.Split(cliSend(t, "unix", gsock, "help\n"), "\n") {
		if !strings.Contains(help, l+"\n") {
			t.Errorf("help line %q is not HAProxy's", l)
		}
	}
}

// TestCLIDisableServerRoutes: after "disable server" the next requests
// go to the other server, and after "enable server" the server takes
// requests again, at once, a checked one included.
func TestCLIDisableServerRoutes(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	sock := filepath.Join(t.TempDir(), "g.sock")
	fe := freePort(t)
	startGohap(t, fmt.Sprintf(`global
    stats socket %s level admin
`+baseDefaults+`frontend fe
    bind %s
    default_backend be
backend be
    balance roundrobin
    server a %s check inter 100ms
    server b %s
`, sock, fe, a.Addr(), b.Addr()), nil)
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	served := func(n int) map[string]int {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			_, srv, _ := get(t, fe, req)
			seen[srv]++
		}
		return seen
	}
	if seen := served(4); seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("before: %v", seen)
	}
	if got := cliSend(t, "unix", sock, "disable server be/a\n"); got != "\n" {
		t.Fatalf("disable: %q", got)
	}
	if seen := served(6); seen["a"] != 0 {
		t.Fatalf("after disable server: %v", seen)
	}
	if got := cliSend(t, "unix", sock, "enable server be/a\n"); got != "\n" {
		t.Fatalf("enable: %q", got)
	}
	if seen := served(4); seen["a"] == 0 {
		t.Fatalf("after enable server: %v", seen)
	}
	// A level below admin may not.
	if got := cliSend(t, "unix", sock, "operator; disable server be/a\n"); got != "\nPermission denied\n\n" {
		t.Fatalf("operator: %q", got)
	}
	if seen := served(4); seen["a"] == 0 {
		t.Fatalf("after a refused disable: %v", seen)
	}
}
