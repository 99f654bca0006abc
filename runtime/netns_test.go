package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/examples/echo"
)

// testNetNS makes a network namespace with its loopback up, removed at
// the end; the test is skipped where namespaces cannot be made.
func testNetNS(t *testing.T) *backend.NetNS {
	name := fmt.Sprintf("gohaptest%d", time.Now().UnixNano()%1000000)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here (ip netns add: %v %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v %s", err, out)
	}
	ns, err := backend.OpenNetNS(name)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestNamespaces: a server's "namespace" makes its connections and
// checks in that network namespace, and a bind's "namespace" listens
// there: the same loopback address reaches a different socket, as in
// HAProxy.
func TestNamespaces(t *testing.T) {
	ns := testNetNS(t)
	// The same address in both namespaces, a different server behind it.
	var inside *echo.Server
	var err error
	if derr := ns.Do(func() { inside, err = echo.Start("inside", "127.0.0.1:0") }); derr != nil || err != nil {
		t.Fatal(derr, err)
	}
	defer inside.Close()
	outside, err := echo.Start("outside", inside.Addr())
	if err != nil {
		t.Skipf("the address %s is taken outside the namespace: %v", inside.Addr(), err)
	}
	defer outside.Close()
	// An address only the namespace serves, for the checks.
	var only *echo.Server
	if derr := ns.Do(func() { only, err = echo.Start("only-inside", "127.0.0.1:0") }); derr != nil || err != nil {
		t.Fatal(derr, err)
	}
	defer only.Close()
	get := func(dial func() (net.Conn, error), path string) string {
		c, err := dial()
		if err != nil {
			return "dial: " + err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "read: " + err.Error()
		}
		rsp.Body.Close()
		return rsp.Status + " from " + rsp.Header.Get("X-Server")
	}
	run := func(start func(cfg, fe string)) []string {
		fe, feNS := freePort(t), freePort(t)
		cfg := fmtCfg("global\n stats socket %s/s.sock level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"frontend fe\n bind %s\n bind %s namespace %s\n use_backend chk if { path /chk }\n default_backend be\n"+
			"backend be\n server s1 %s namespace %s\n"+
			"backend chk\n server c1 %s namespace %s check inter 100ms\n server c2 %s check inter 100ms\n",
			t.TempDir(), fe, feNS, ns.Name, inside.Addr(), ns.Name, only.Addr(), ns.Name, only.Addr())
		start(cfg, fe)
		out := []string{"host: " + get(func() (net.Conn, error) { return net.DialTimeout("tcp", fe, time.Second) }, "/")}
		var nsAns string
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			ns.Do(func() {
				nsAns = get(func() (net.Conn, error) { return net.DialTimeout("tcp", feNS, time.Second) }, "/")
			})
			if !strings.HasPrefix(nsAns, "dial") {
				break
			}
		}
		out = append(out, "from the namespace: "+nsAns)
		out = append(out, "host to the namespace's bind: "+strings.SplitN(get(func() (net.Conn, error) { return net.DialTimeout("tcp", feNS, time.Second) }, "/"), ":", 2)[0])
		// c1 is checked in the namespace (UP), c2 outside (DOWN): every
		// request goes to c1 once the checks are in.
		time.Sleep(700 * time.Millisecond)
		for range 3 {
			out = append(out, "checked: "+get(func() (net.Conn, error) { return net.DialTimeout("tcp", fe, time.Second) }, "/chk"))
		}
		return out
	}
	want := []string{"host: 200 OK from inside", "from the namespace: 200 OK from inside", "host to the namespace's bind: dial",
		"checked: 200 OK from only-inside", "checked: 200 OK from only-inside", "checked: 200 OK from only-inside"}
	check := func(who string, got []string) {
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", who, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if haproxyBin() != "" {
		check("haproxy", run(func(cfg, fe string) { startHAProxy(t, cfg, fe) }))
	}
	check("gohap", run(func(cfg, _ string) { startGohap(t, cfg, nil) }))
}
