package runtime_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// set-mark and set-tos mark the packets the proxy sends to the client,
// as ss shows them on the proxy's side of the client connection; the
// same through HAProxy and gohap. wait-for-handshake lets the request
// through (no early data is ever accepted).
func TestSetMarkTOS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_MARK needs root (CAP_NET_ADMIN)")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) not installed: no way to read the socket marks")
	}
	up := startEcho(t, "s1")
	const rules = ` http-request wait-for-handshake
 http-request set-mark 0x2a if { path /m }
 http-request set-tos 16 if { path /m }
`
	run := func(name string, start func(cfg, fe string)) string {
		fe := freePort(t)
		start(fmtCfg(baseDefaults+"frontend fe\n bind %s\n%s default_backend be\nbackend be\n server s1 %s\n", fe, rules, up.Addr()), fe)
		var marks []string
		for _, path := range []string{"/m", "/plain"} {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			io.Copy(io.Discard, resp.Body)
			marks = append(marks, path+" "+resp.Status+" "+socketMarks(t, c.RemoteAddr().String(), c.LocalAddr().String()))
			c.Close()
		}
		return strings.Join(marks, "; ")
	}
	ref := run("haproxy", func(cfg, fe string) {
		if haproxyBin() == "" {
			return
		}
		startHAProxy(t, cfg, fe)
	})
	got := run("gohap", func(cfg, _ string) { startGohap(t, cfg, nil) })
	want := "/m 200 OK fwmark:0x2a tos:0x10; /plain 200 OK tos:0"
	if got != want {
		t.Errorf("gohap: %s, want %s", got, want)
	}
	if haproxyBin() != "" && ref != got {
		t.Errorf("haproxy: %s, gohap: %s", ref, got)
	}
}

var ssMark = regexp.MustCompile(`fwmark:0x[0-9a-f]+|tos:0x[0-9a-f]+|tos:0\b`)

// socketMarks is what ss shows of the mark and TOS of the socket whose
// local address is local and peer peer.
func socketMarks(t *testing.T, local, peer string) string {
	out, err := exec.Command("ss", "-tnie", "--tos", "state", "established").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[2] == local && f[3] == peer {
			return strings.Join(ssMark.FindAllString(l, -1), " ")
		}
	}
	t.Fatalf("no socket %s <-> %s in ss's output", local, peer)
	return ""
}
