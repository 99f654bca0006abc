package runtime_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// dynServersCfg has a round robin backend, where servers can be added,
// a static one, where they cannot, and a TCP one.
const dynServersCfg = `global
    stats socket %[1]s level admin
` + baseDefaults + `frontend fe
    bind %[2]s
    default_backend be1
backend be1
    http-reuse never
    server a %[3]s check inter 60s
    server b %[4]s
    server t %[3]s track a
backend be2
    balance static-rr
    server s %[3]s
    server g %[3]s agent-check agent-port 9 agent-inter 60s
    server m 127.0.0.1
backend be3
    mode tcp
backend be4
`

// TestDynamicServersDifferential: "add server", "del server", "enable
// health|agent" and "set server ... addr|fqdn|ssl" answer as HAProxy
// 2.6's, and the traffic goes to the added server once enabled, leaves
// a deleted one and follows a new address.
func TestDynamicServersDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	a, b, c := startEcho(t, "a"), startEcho(t, "b"), startEcho(t, "c")
	var sides []cliMapsSide
	for _, name := range []string{"haproxy", "gohap"} {
		s := cliMapsSide{name: name, sock: filepath.Join(t.TempDir(), "s.sock"), fe: freePort(t)}
		text := fmt.Sprintf(dynServersCfg, s.sock, s.fe, a.Addr(), b.Addr())
		if name == "haproxy" {
			startHAProxyOut(t, text, s.fe)
		} else {
			startGohapOut(t, text)
		}
		sides = append(sides, s)
	}
	_, bPort, _ := strings.Cut(b.Addr(), ":")
	_, cPort, _ := strings.Cut(c.Addr(), ":")
	steps := []struct {
		cmd     string
		traffic bool
	}{
		{cmd: "add server be1/c " + c.Addr() + "\n", traffic: true},
		{cmd: "enable server be1/c\n", traffic: true},
		{cmd: "add server be1/c " + c.Addr() + "\n"},
		{cmd: "add server be1/x\n"},
		{cmd: "add server be1\n"},
		{cmd: "add server nope/x " + c.Addr() + "\n"},
		{cmd: "add server be2/x " + c.Addr() + "\n"},
		{cmd: "add server be3/x " + c.Addr() + " proto h2\n"},
		{cmd: "add server be1/x " + c.Addr() + " cookie k\n"},
		{cmd: "add server be1/x " + c.Addr() + " resolvers r\n"},
		{cmd: "add server be1/x " + c.Addr() + " chek\n"},
		{cmd: "add server be1/x " + c.Addr() + " weight 300\n"},
		{cmd: "add server be1/x " + c.Addr() + " inter\n"},
		{cmd: "add server be1/x " + c.Addr() + " track nope/a\n"},
		{cmd: "add server be1/x " + c.Addr() + " track be1/nope\n"},
		{cmd: "add server be1/x " + c.Addr() + " track b\n"},
		{cmd: "add server be1/x " + c.Addr() + " check track a\n"},
		{cmd: "add server be1/d " + c.Addr() + " track be1/a weight 2\n"},
		{cmd: "add server be1/x " + c.Addr() + " track be1/d\n"},
		{cmd: "add server be1/x " + c.Addr() + " track be1/t\n"},
		{cmd: "operator; add server be1/y " + c.Addr() + "\n"},
		{cmd: "add server be4/k1 " + c.Addr() + " weight 0\n"},
		{cmd: "add server be4/k2 " + c.Addr() + " maxconn 5 backup disabled\n"},
		{cmd: "add server be4/k3 " + c.Addr() + " check inter 1s proto h2 send-proxy-v2\n"},
		{cmd: "add server be4/k4 " + c.Addr() + " agent-check\n"},
		{cmd: "add server be4/k5 " + c.Addr() + " ssl verify none id 50 enabled\n"},
		{cmd: "add server be4/k6 " + c.Addr() + " id 50\n"},
		{cmd: "add server be4/k7 nope.invalid:80\n"},
		{cmd: "add server be4/k8 127.0.0.1\n"},
		{cmd: "add server be4/k9 " + c.Addr() + " non-stick\n"},
		{cmd: "add server be4/k10 " + c.Addr() + " init-addr none\n"},
		{cmd: "add server be4/k12 " + c.Addr() + " slowstart 10s minconn 2 maxqueue 3 on-marked-down shutdown-sessions\n"},
		{cmd: "show servers state be4\n"},
		{cmd: "disable server be4/k1; disable server be4/k2; disable server be4/k3; disable server be4/k5; disable server be4/k7; disable server be4/k8; disable server be4/k12\n"},
		{cmd: "del server be4/k1; del server be4/k2; del server be4/k3; del server be4/k4; del server be4/k5; del server be4/k6; del server be4/k7; del server be4/k8; del server be4/k12\n"},
		{cmd: "enable health be1/b\n"},
		{cmd: "enable agent be1/b\n"},
		{cmd: "disable health be1/a; disable agent be1/a; enable health be1/a\n"},
		{cmd: "enable health be1/nope\n"},
		{cmd: "del server be1/c\n"},
		{cmd: "disable server be1/c; del server be1/c\n", traffic: true},
		{cmd: "del server be1/c\n"},
		{cmd: "del server nope/c\n"},
		{cmd: "del server be1\n"},
		{cmd: "del server be1/a\n"},
		{cmd: "disable server be1/b; del server be1/b; enable server be1/b\n", traffic: true},
		{cmd: "set server be1/b addr 127.0.0.1 port " + cPort + "\n", traffic: true},
		{cmd: "set server be1/b addr 127.0.0.1 port " + bPort + "\n", traffic: true},
		{cmd: "set server be1/b addr 127.0.0.1\n"},
		{cmd: "set server be1/b addr nope\n"},
		{cmd: "set server be1/b addr\n"},
		{cmd: "set server be1/b fqdn foo.example\n"},
		{cmd: "set server be1/b fqdn\n"},
		{cmd: "set server be2/m addr 127.0.0.2 port 5; show servers state be2\n"},
		{cmd: "set server be2/s addr ::1 port x; set server be2/s addr 127.0.0.1 port +1; show servers state be2\n"},
		{cmd: "set server be2/s addr 127.0.0.1 port 70000; show servers state be2\n"},
		{cmd: "set server be1/b ssl on\n"},
		{cmd: "set server be1/d ssl on\n"},
		{cmd: "set server be1/a check-port 99; show servers state be1\n"},
		{cmd: "set server be1/a check-port 0; set server be1/a check-port x; set server be1/a check-port 70000\n"},
		{cmd: "set server be1/a check-port\n"},
		{cmd: "set server be1/a check-addr 127.0.0.2 port 5; show servers state be1\n"},
		{cmd: "set server be1/a check-addr nope\n"},
		{cmd: "set server be1/a check-addr\n"},
		{cmd: "set server be1/b check-port 5\n"},
		{cmd: "set server be1/a agent-send x\n"},
		{cmd: "set server be1/a agent-port 5\n"},
		{cmd: "set server be2/g agent-addr 127.0.0.3; set server be2/g agent-port 7; set server be2/g agent-send foo\n"},
		{cmd: "show servers state be2\n"},
		{cmd: "set server be2/g agent down; show servers state be2\n"},
		{cmd: "set server be2/g agent up; set server be2/g agent nope; set server be1/a agent up; show servers state be2\n"},
		{cmd: "set server be2/g agent-addr x; set server be2/g agent-port -1; set server be2/g agent-addr\n"},
		{cmd: "disable agent be2/g; set server be2/g agent-port 8\n"},
		{cmd: "show servers state be1\n"},
		{cmd: "disable server be1/x; del server be1/x; disable server be1/t; del server be1/t\n"},
		{cmd: "disable server be1/d; del server be1/d; show servers state be1\n", traffic: true},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			got[i] = checkFields.ReplaceAllString(sinceChange.ReplaceAllString(s.send(t, st.cmd), "$1 T "), "$1 C C C ")
			if st.traffic {
				got[i] += "=> " + servedByClose(t, s.fe, 6)
			}
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", st.cmd, got[1], got[0])
		}
	}
}

// servedByClose is servedBy with a connection per request, for no
// server connection to outlive its request.
func servedByClose(t *testing.T, fe string, n int) string {
	var out []string
	cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
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

const dynTLSCfg = `
global
    stats socket %[3]s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend f
    bind %[1]s
    use_backend %%[path,field(2,/)]
backend def
    default-server ssl verify none
    server s %[2]s no-ssl
backend dyn
    balance roundrobin
`

// TestDynamicServersTLS: "set server ... ssl on|off" makes the
// server's connections speak TLS or not, and a server added with "ssl"
// speaks TLS, in gohap as in HAProxy.
func TestDynamicServersTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	cert, _ := ca.issue(t, dir, "srv.pem", "upstream.test", false)
	up := startTLSUpstream(t, cert, nil)
	impls := []string{"gohap"}
	if haproxyBin() != "" {
		impls = append(impls, "haproxy")
	}
	for _, impl := range impls {
		t.Run(impl, func(t *testing.T) {
			fe, sock := freePort(t), filepath.Join(t.TempDir(), "s.sock")
			cfg := fmtCfg(dynTLSCfg, fe, up.addr, sock)
			if impl == "gohap" {
				startGohap(t, cfg, nil)
			} else {
				startHAProxy(t, cfg, fe)
			}
			cli := func(cmd string) string { return cliSend(t, "unix", sock, cmd+"\n") }
			req := func(path string) (int, string) {
				status, _, body := get(t, fe, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
				return status, body
			}
			steps := []struct {
				cmd, path string
				status    int
				body      string
			}{
				// Plain HTTP to a TLS server: the Go server answers 400.
				{"", "/def/", 400, ""},
				{"set server def/s ssl on", "/def/", 200, "sni= cn="},
				{"set server def/s ssl off", "/def/", 400, ""},
				{"set server def/s ssl on", "/def/", 200, "sni= cn="},
				{"add server dyn/d " + up.addr + " ssl verify none", "/dyn/", 503, ""},
				{"enable server dyn/d", "/dyn/", 200, "sni= cn="},
				{"disable server dyn/d; del server dyn/d", "/dyn/", 503, ""},
			}
			for _, st := range steps {
				if st.cmd != "" {
					cli(st.cmd)
				}
				status, body := req(st.path)
				if status != st.status || st.status == 200 && body != st.body {
					t.Errorf("%s after %q: %d %q, want %d %q", impl, st.cmd, status, body, st.status, st.body)
				}
			}
		})
	}
}

// TestDynamicServersUnderTraffic adds, enables, disables and deletes
// servers while clients send requests: every request is answered by a
// server of the backend, added servers take some, and a deleted one
// takes none afterwards.
func TestDynamicServersUnderTraffic(t *testing.T) {
	a, c := startEcho(t, "a"), startEcho(t, "c")
	sock, fe := filepath.Join(t.TempDir(), "s.sock"), freePort(t)
	startGohap(t, fmt.Sprintf(`global
    stats socket %s level admin
`+baseDefaults+`frontend fe
    bind %s
    default_backend be
backend be
    server a %s
`, sock, fe, a.Addr()), nil)
	cli := func(cmd string) string { return cliSend(t, "unix", sock, cmd+"\n") }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	// pause holds the clients while a server is deleted: a request that
	// ends after "disable server" leaves an idle connection, which "del
	// server" refuses until it is purged.
	var pause sync.RWMutex
	seen := map[string]int{}
	var fails []string
	var once sync.Once
	end := func() { once.Do(func() { close(stop); wg.Wait() }) }
	t.Cleanup(end)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A connection per request: a kept-alive client holds its
			// server connection, which "del server" counts.
			cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				pause.RLock()
				resp, err := cl.Get("http://" + fe + "/")
				pause.RUnlock()
				mu.Lock()
				if err != nil {
					fails = append(fails, err.Error())
				} else {
					resp.Body.Close()
					seen[resp.Header.Get("X-Server")]++
					if resp.StatusCode != 200 {
						fails = append(fails, resp.Status)
					}
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for i := range 10 {
		name := fmt.Sprintf("be/c%d", i)
		if got := cli("add server " + name + " " + c.Addr()); got != "New server registered.\n\n" {
			t.Fatalf("add server %s: %q", name, got)
		}
		cli("enable server " + name)
		time.Sleep(20 * time.Millisecond)
		cli("show stat; show servers state")
		pause.Lock()
		// Let the sessions of the last requests end.
		time.Sleep(20 * time.Millisecond)
		cli("disable server " + name)
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := cli("del server " + name)
			if got == "Server deleted.\n" {
				break
			}
			if !strings.Contains(got, "still has connections") || time.Now().After(deadline) {
				pause.Unlock()
				t.Fatalf("del server %s: %q", name, got)
			}
			time.Sleep(10 * time.Millisecond)
		}
		pause.Unlock()
	}
	mu.Lock()
	before := seen["c"]
	mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	end()
	if len(fails) > 0 {
		t.Errorf("failed requests: %v", fails[:min(len(fails), 5)])
	}
	if before == 0 || seen["c"] != before || seen["a"] == 0 {
		t.Errorf("served: %v (c before the end: %d)", seen, before)
	}
	if got := cli("show servers state be"); strings.Count(got, "\n") != 4 {
		t.Errorf("servers left:\n%s", got)
	}
}
