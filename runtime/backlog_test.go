package runtime_test

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// listenBacklog reads a listening socket's backlog (ss's Send-Q).
func listenBacklog(t *testing.T, addr string) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("ss", "-ltnH", "sport = :"+port).Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		t.Fatalf("ss: %q", out)
	}
	return f[2]
}

// TestListenBacklog: the listen queue is the bind's backlog, else the
// frontend's, else its maxconn, as HAProxy sets it.
func TestListenBacklog(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("HAPROXY_BIN not set and no haproxy on PATH: the differential test needs HAProxy 2.6")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is needed to read a socket's backlog")
	}
	up := startEcho(t, "s1")
	for _, fe := range []string{" maxconn 100\n", " maxconn 100\n backlog 50\n", " maxconn 100\n backlog 50\n bind 127.0.0.2:0 backlog 20\n", ""} {
		ha, gh := freePort(t), freePort(t)
		cfg := "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind %s%s\n default_backend be\nbackend be\n server s1 " + up.Addr() + "\n"
		// The bind option goes on the bind line itself.
		opt, body := "", fe
		if i := strings.Index(fe, " bind 127.0.0.2:0"); i >= 0 {
			opt, body = " backlog 20", fe[:i]
		}
		startHAProxy(t, fmt.Sprintf(cfg, ha, opt+"\n"+body), ha)
		startGohap(t, fmt.Sprintf(cfg, gh, opt+"\n"+body), nil)
		want, got := listenBacklog(t, ha), listenBacklog(t, gh)
		t.Logf("%q: backlog haproxy %s, gohap %s", fe, want, got)
		if want != got {
			t.Errorf("%q: backlog haproxy %s, gohap %s", fe, want, got)
		}
	}
}
