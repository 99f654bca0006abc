package runtime_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

var ssUsers = regexp.MustCompile(`pid=(\d+),fd=(\d+)`)

// listenerFastOpen reads TCP_FASTOPEN (the Fast Open queue length, 0 when
// off) on the socket listening on port, in whichever process holds it.
func listenerFastOpen(t *testing.T, port string) int {
	t.Helper()
	fd := socketOf(t, "-ltnpH", "sport = :"+port)
	defer unix.Close(fd)
	q, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// socketOf is a copy of the socket ss lists first with these options
// and filter, in whichever process holds it (pidfd_getfd needs root);
// the caller closes it.
func socketOf(t *testing.T, opts, filter string) int {
	t.Helper()
	out, err := exec.Command("ss", opts, filter).Output()
	if err != nil {
		t.Skip("ss not available:", err)
	}
	m := ssUsers.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no socket for %s: %q", filter, out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	fd, _ := strconv.Atoi(string(m[2]))
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Skip("pidfd_open:", err)
	}
	defer unix.Close(pfd)
	dup, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		t.Skip("pidfd_getfd (needs root):", err)
	}
	return dup
}

// "bind ... tfo" turns TCP Fast Open on with the listen backlog as its
// queue, as HAProxy does; without it the socket has none.
func TestBindTFO(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading another socket's options needs root")
	}
	up := startEcho(t, "s1")
	cfg := baseDefaults + "frontend fe\n bind %s%s\n default_backend be\nbackend be\n server s1 %s\n"
	port := func(a string) string { return a[len("127.0.0.1:"):] }
	for _, c := range []struct {
		opts string
		want int
	}{{" tfo backlog 77", 77}, {"", 0}} {
		fe := freePort(t)
		startGohap(t, fmtCfg(cfg, fe, c.opts, up.Addr()), nil)
		if got := listenerFastOpen(t, port(fe)); got != c.want {
			t.Errorf("gohap bind%s: TCP_FASTOPEN %d, want %d", c.opts, got, c.want)
		}
		if haproxyBin() != "" {
			fe := freePort(t)
			startHAProxy(t, fmtCfg(cfg, fe, c.opts, up.Addr()), fe)
			if got := listenerFastOpen(t, port(fe)); got != c.want {
				t.Errorf("haproxy bind%s: TCP_FASTOPEN %d, want %d", c.opts, got, c.want)
			}
		}
	}
}
