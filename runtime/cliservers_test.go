package runtime_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// cliServersCfg has a backend with dynamic weights, one with static
// weights and a tracking server.
const cliServersCfg = `global
    stats socket %[1]s level admin
` + baseDefaults + `frontend fe
    bind %[2]s
    default_backend be1
backend be1
    server a %[3]s weight 10 check inter 60s
    server b %[4]s weight 20
    server t %[3]s track a
backend be2
    balance source
    server s %[3]s weight 4
`

// checkFields masks srv_check_status, srv_check_result and
// srv_check_health of "show servers state" lines, once sinceChange has.
var checkFields = regexp.MustCompile(`(?m)^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+ T) \d+ \d+ \d+ `)

// clockTime masks the time of day of "show errors".
var clockTime = regexp.MustCompile(`:\d\d:\d\d:\d\d\.\d{3}\]`)

// servedBy returns the x-server header of n requests, sorted: the
// share each server gets, not round robin's order once a server comes
// back from drain, which gohap does not place as HAProxy does.
func servedBy(t *testing.T, fe string, n int) string {
	var out []string
	cl := &http.Client{Timeout: 3 * time.Second}
	for i := 0; i < n; i++ {
		resp, err := cl.Get("http://" + fe + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		out = append(out, resp.Header.Get("X-Server"))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestCLIServersDifferential: "set server", "set weight" and "get
// weight" answer as HAProxy 2.6's, change "show servers state" as they
// do there, and the traffic follows the servers' states.
func TestCLIServersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	a, b := startEcho(t, "a"), startEcho(t, "b")
	var sides []cliMapsSide
	var hout *lockedBuffer
	var glog func() string
	for _, name := range []string{"haproxy", "gohap"} {
		s := cliMapsSide{name: name, sock: filepath.Join(t.TempDir(), "s.sock"), fe: freePort(t)}
		text := fmt.Sprintf(cliServersCfg, s.sock, s.fe, a.Addr(), b.Addr())
		if name == "haproxy" {
			hout = startHAProxyOut(t, text, s.fe)
			waitUnixSocket(s.sock)
		} else {
			glog = startGohapOut(t, text)
		}
		sides = append(sides, s)
	}
	steps := []struct {
		cmd     string
		traffic bool
	}{
		{cmd: "get weight be1/a\n"},
		{cmd: "get weight be1/#2\n"},
		{cmd: "get weight be1\n"},
		{cmd: "get weight nope/a\n"},
		{cmd: "get weight be1/nope\n"},
		{cmd: "set weight be1/a 50%; get weight be1/a\n"},
		{cmd: "set weight be1/a 300\n"},
		{cmd: "set weight be1/a -1%\n"},
		{cmd: "set weight be1/a x\n"},
		{cmd: "set weight be1/a 5x\n"},
		{cmd: "set weight be1/a\n"},
		{cmd: "set server be1/a weight 0; get weight be1/a\n", traffic: true},
		{cmd: "set server be1/a weight 100%; get weight be1/a\n"},
		{cmd: "set server be2/s weight 3\n"},
		{cmd: "set server be2/s weight 0%; get weight be2/s; set weight be2/s 4\n"},
		{cmd: "set server be1/b state maint\n", traffic: true},
		{cmd: "show servers state be1\n"},
		{cmd: "set server be1/b state drain\n", traffic: true},
		{cmd: "show servers state be1\n"},
		{cmd: "set server be1/b state ready\n", traffic: true},
		{cmd: "set server be1/b state nope\n"},
		{cmd: "set server be1/a health down\n", traffic: true},
		{cmd: "show servers state be1\n"},
		{cmd: "set server be1/a health stopping; show servers state be1\n"},
		{cmd: "set server be1/a health up\n", traffic: true},
		{cmd: "set server be1/t health down\n"},
		{cmd: "set server be1/a health nope\n"},
		{cmd: "set server be1/a nope\n"},
		{cmd: "set server be1/a\n"},
		{cmd: "set server be1\n"},
		{cmd: "operator; set server be1/a state maint\n"},
		{cmd: "user; set weight be1/a 1\n"},
		{cmd: "user; get weight be1/a\n"},
		{cmd: "show errors\n"},
		{cmd: "show errors fe\n"},
		{cmd: "show errors be2 request\n"},
		{cmd: "show errors 3 response\n"},
		{cmd: "show errors nope\n"},
		{cmd: "user; show errors\n"},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			// The health check's status, result and health depend on when
			// its first run happened.
			got[i] = checkFields.ReplaceAllString(sinceChange.ReplaceAllString(s.send(t, st.cmd), "$1 T "), "$1 C C C ")
			got[i] = clockTime.ReplaceAllString(got[i], ":HH:MM:SS.mmm]")
			if st.traffic {
				got[i] += "=> " + servedBy(t, s.fe, 6)
			}
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", st.cmd, got[1], got[0])
		}
	}
	// The changes are logged in HAProxy's words, in the same order.
	var hl, gl []string
	for _, m := range haproxyEvent.FindAllStringSubmatch(hout.String(), -1) {
		hl = append(hl, m[1])
	}
	for _, m := range strings.Split(glog(), "\n") {
		if strings.HasPrefix(m, "Server ") || strings.HasPrefix(m, "backend ") {
			gl = append(gl, m)
		}
	}
	if h, g := strings.Join(hl, "\n"), strings.Join(gl, "\n"); h != g || !strings.Contains(g, "changed from CLI") {
		t.Errorf("events:\ngohap:\n%s\nhaproxy:\n%s", g, h)
	}
}
