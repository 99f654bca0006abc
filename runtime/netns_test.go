package runtime_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/examples/echo"
	"github.com/gohap/gohap/runtime/proxyproto"
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

// nsEchoPair starts echo servers on the same loopback address inside
// the namespace ("inside") and outside ("outside"), until the test ends;
// it returns the inside one.
func nsEchoPair(t *testing.T, ns *backend.NetNS) *echo.Server {
	var inside *echo.Server
	var err error
	if derr := ns.Do(func() { inside, err = echo.Start("inside", "127.0.0.1:0") }); derr != nil || err != nil {
		t.Fatal(derr, err)
	}
	t.Cleanup(func() { inside.Close() })
	outside, err := echo.Start("outside", inside.Addr())
	if err != nil {
		t.Skipf("the address %s is taken outside the namespace: %v", inside.Addr(), err)
	}
	t.Cleanup(func() { outside.Close() })
	return inside
}

// TestNamespaces: a server's "namespace" makes its connections and
// checks in that network namespace, and a bind's "namespace" listens
// there: the same loopback address reaches a different socket, as in
// HAProxy.
func TestNamespaces(t *testing.T) {
	ns := testNetNS(t)
	inside := nsEchoPair(t, ns)
	var err error
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

// TestNamespaceFromProxyHeader: a server's "namespace *" connects in the
// namespace the client's PROXY header names when the configuration
// knows it (a namespace_list entry), in the process's own otherwise, and
// a server's PROXY v2 header carries the client connection's namespace
// (NETNS TLV), as HAProxy does.
func TestNamespaceFromProxyHeader(t *testing.T) {
	ns := testNetNS(t)
	inside := nsEchoPair(t, ns)
	raw := ppPreamble(t)
	hdr := func(netns string) string {
		v := proxyproto.V2{Src: netip.MustParseAddrPort("192.0.2.1:1000"), Dst: netip.MustParseAddrPort("198.51.100.2:80")}
		if netns != "" {
			v.NetNS = []byte(netns)
		}
		return string(proxyproto.AppendV2(nil, &v))
	}
	req := "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	cases := []struct {
		fe  int
		pre string
	}{
		{0, hdr(ns.Name)},
		{0, hdr("")},
		{0, hdr("gohap-unknown")},
		{0, "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\n"},
		{1, hdr(ns.Name)},
		{1, hdr("gohap-unknown")},
		{1, "PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\n"},
	}
	run := func(gohap bool) []string {
		fe, fe2 := freePort(t), freePort(t)
		cfg := fmtCfg("namespace_list\n namespace %s\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"frontend fe\n bind %s accept-proxy\n default_backend be\nbackend be\n server s %s namespace *\n"+
			"frontend fe2\n bind %s accept-proxy\n default_backend be2\nbackend be2\n server s %s send-proxy-v2\n",
			ns.Name, fe, inside.Addr(), fe2, raw)
		if gohap {
			startGohap(t, cfg, nil)
		} else {
			startHAProxy(t, cfg, fe2)
		}
		var out []string
		for _, c := range cases {
			resp := ppExchange(t, []string{fe, fe2}[c.fe], c.pre+req)
			if c.fe == 0 {
				_, resp, _ = strings.Cut(strings.ToLower(resp), "x-server: ")
				resp, _, _ = strings.Cut(resp, `\r\n`)
			} else if _, b, ok := strings.Cut(resp, `\r\n\r\n`); ok {
				resp = b
			}
			out = append(out, resp)
		}
		return out
	}
	got := run(true)
	name := hex.EncodeToString([]byte(ns.Name))
	want := []string{"inside", "outside", "outside", "outside", name, "", ""}
	for i := range want {
		if !strings.Contains(got[i], want[i]) || i >= 5 && strings.Contains(got[i], "30"+fmt.Sprintf("%04x", len(ns.Name))+name) {
			t.Errorf("case %d: gohap %q, want %q", i, got[i], want[i])
		}
	}
	if haproxyBin() != "" {
		ref := run(false)
		for i := range ref {
			if ref[i] != got[i] {
				t.Errorf("case %d:\nhaproxy: %s\ngohap:   %s", i, ref[i], got[i])
			}
		}
	}
}
