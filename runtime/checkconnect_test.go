package runtime_test

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// With "timeout check", a check connects within min(timeout connect,
// inter) and "timeout check" bounds what follows, as HAProxy does: a
// server whose accept queue is full (its SYNs are dropped) fails its
// check on the connect timeout, not after "timeout check".
func TestCheckConnectTimeout(t *testing.T) {
	addr := fullBacklog(t)
	cfg := fmt.Sprintf(`defaults
 mode http
 timeout connect 150ms
 timeout check 3s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %%s
 default_backend be
backend be
 server s %s check inter 10s fall 1 rise 1
`, addr)
	line := regexp.MustCompile(`Server be/s is DOWN, reason: ([^,]*), check duration: (\d+)ms`)
	run := func(name string) (string, int) {
		fe := freePort(t)
		var out func() string
		if name == "haproxy" {
			out = startHAProxyOut(t, fmt.Sprintf(cfg, fe), fe).String
		} else {
			out = startGohapOut(t, fmt.Sprintf(cfg, fe))
		}
		for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if m := line.FindStringSubmatch(out()); m != nil {
				ms, _ := strconv.Atoi(m[2])
				return m[1], ms
			}
		}
		t.Fatalf("%s: no failed check within 4 s:\n%q", name, out())
		return "", 0
	}
	hReason, hMs := run("haproxy")
	gReason, gMs := run("gohap")
	if gReason != hReason || hReason != "Layer4 timeout" {
		t.Errorf("reason: gohap %q, haproxy %q, want Layer4 timeout", gReason, hReason)
	}
	// The connect timeout (150 ms), far from "timeout check" (3 s).
	if gMs < 100 || gMs > 1000 || hMs < 100 || hMs > 1000 {
		t.Errorf("check duration: gohap %d ms, haproxy %d ms, want about 150", gMs, hMs)
	}
}

// fullBacklog listens on a loopback port with a backlog of 0 and fills
// its accept queue: connecting there again hangs, the SYN dropped.
func fullBacklog(t *testing.T) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*unix.SockaddrInet4).Port)
	// Fill the queue until a connect no longer completes.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			if !strings.Contains(err.Error(), "timeout") {
				t.Fatal(err)
			}
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the accept queue never filled")
	return ""
}
