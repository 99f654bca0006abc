package dns

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

const haproxyBin = "/usr/sbin/haproxy"

// lockedBuffer collects haproxy's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type haproxy struct {
	sock   string
	stderr *lockedBuffer
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startHAProxy runs haproxy in the foreground with cfg (where SOCK and PORT
// are replaced) until the test ends.
func startHAProxy(t *testing.T, cfg string) *haproxy {
	t.Helper()
	dir := t.TempDir()
	h := &haproxy{sock: filepath.Join(dir, "sock"), stderr: &lockedBuffer{}}
	cfg = strings.NewReplacer("SOCK", h.sock, "PORT", strconv.Itoa(freePort(t))).Replace(cfg)
	path := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxyBin, "-db", "-f", path)
	cmd.Stderr = h.stderr
	cmd.Stdout = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := h.cli("show info"); err == nil {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy did not start:\n%s", h.stderr)
	return nil
}

func (h *haproxy) cli(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", h.sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "%s\n", cmd)
	var b bytes.Buffer
	_, err = b.ReadFrom(c)
	return b.String(), err
}

// states parses "show servers state be" into name -> State, with the
// address as HAProxy prints it.
func (h *haproxy) states(t *testing.T) map[string]string {
	t.Helper()
	out, err := h.cli("show servers state be")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 20 || strings.HasPrefix(f[0], "#") {
			continue
		}
		admin, _ := strconv.Atoi(f[6])
		// srv_addr, RMAINT bit of srv_admin_state, srv_uweight, srv_fqdn, srv_port
		m[f[3]] = describeServer(f[4], admin&0x20 != 0, f[7], f[17], f[18])
	}
	return m
}

func describeServer(addr string, maint bool, weight, fqdn, port string) string {
	return fmt.Sprintf("addr=%s maint=%v weight=%s fqdn=%s port=%s", addr, maint, weight, fqdn, port)
}

// ours renders our states the way states renders HAProxy's, given the
// configured weight and port of servers DNS does not set.
func ours(s State, cfgWeight int, cfgPort int, tmpl bool) string {
	addr := "-"
	if s.Addr.IsValid() {
		addr = s.Addr.String()
	}
	w, port, fqdn := cfgWeight, cfgPort, s.Hostname
	if tmpl {
		if s.Weight >= 0 {
			w = s.Weight
		}
		port = s.Port
	}
	if fqdn == "" {
		fqdn = "-"
	}
	return describeServer(addr, s.Maint, strconv.Itoa(w), fqdn, strconv.Itoa(port))
}

func TestHAProxyDifferential(t *testing.T) {
	if _, err := os.Stat(haproxyBin); err != nil {
		t.Skipf("%s not available: differential test skipped", haproxyBin)
	}
	z := newZone(t)
	const srvName = "_http._tcp.app.test."
	z.set(func(z *zone) {
		z.a["app.test."] = []string{"10.0.0.1"}
		z.a["a.test."] = []string{"10.0.1.1"}
		z.a["b.test."] = []string{"10.0.1.2"}
		z.a["c.test."] = []string{"10.0.1.3"}
		z.srv[srvName] = []mdns.SRV{srvRR("a.test.", 8080, 10), srvRR("b.test.", 8081, 512)}
	})
	cfg := fmt.Sprintf(`global
    stats socket SOCK level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
resolvers r
    nameserver ns1 %s
    timeout resolve 100ms
    timeout retry 100ms
    hold valid 1s
    hold nx 300ms
    hold other 300ms
    hold refused 300ms
    hold timeout 300ms
frontend fe
    bind 127.0.0.1:PORT
    default_backend be
backend be
    server s1 app.test:80 resolvers r init-addr none resolve-prefer ipv4
    server-template srv 3 _http._tcp.app.test resolvers r init-addr none resolve-prefer ipv4
`, z.addr)
	hp := startHAProxy(t, cfg)

	sec := fastSection(z)
	sec.TimeoutResolve, sec.TimeoutRetry = 100*time.Millisecond, 100*time.Millisecond
	r := newResolver(t, sec)
	init := hp.states(t)
	t.Logf("haproxy at start: %v", init)
	s1, u1 := subscribe(t, r, "app.test", Options{Prefer: IPv4, Maint: true})
	ts, ch := newTemplate(t, r, srvName, 3)

	steps := []struct {
		name string
		f    func(z *zone)
	}{
		{"initial", func(z *zone) {}},
		{"address change and SRV growth", func(z *zone) {
			z.a["app.test."] = []string{"10.0.0.2"}
			z.srv[srvName] = append(z.srv[srvName], srvRR("c.test.", 8082, 0))
		}},
		{"target address change", func(z *zone) { z.a["b.test."] = []string{"10.0.1.22"} }},
		{"NX and SRV shrink", func(z *zone) {
			z.rcode["app.test."] = mdns.RcodeNameError
			z.srv[srvName] = z.srv[srvName][1:2]
		}},
		{"back, additional records", func(z *zone) {
			delete(z.rcode, "app.test.")
			z.a["app.test."] = []string{"10.0.0.3"}
			z.extra = true
			z.srv[srvName] = []mdns.SRV{srvRR("b.test.", 8081, 300), srvRR("c.test.", 9000, 65535)}
		}},
		{"refused", func(z *zone) { z.rcode["app.test."] = mdns.RcodeRefused }},
		{"SRV NX", func(z *zone) {
			delete(z.rcode, "app.test.")
			z.rcode[srvName] = mdns.RcodeNameError
		}},
	}
	agree, total := 0, 0
	for _, st := range steps {
		z.set(st.f)
		var hs map[string]string
		var mine map[string]string
		// Let both sides go past the holds and retries, then allow a
		// little more time for convergence.
		time.Sleep(time.Second)
		deadline := time.Now().Add(time.Second)
		for {
			time.Sleep(100 * time.Millisecond)
			hs = hp.states(t)
			mine = map[string]string{"s1": ours(s1.State(), 1, 80, false)}
			for i, s := range ts.States() {
				mine[fmt.Sprintf("srv%d", i+1)] = ours(s, 1, 0, true)
			}
			same := true
			for k, v := range mine {
				if hs[k] != v {
					same = false
				}
			}
			if same || time.Now().After(deadline) {
				break
			}
		}
		for _, k := range []string{"s1", "srv1", "srv2", "srv3"} {
			total++
			if hs[k] == mine[k] {
				agree++
			} else {
				t.Errorf("%s: %s\n haproxy: %s\n    ours: %s", st.name, k, hs[k], mine[k])
			}
		}
	}
	t.Logf("HAProxy agreement: %d/%d server states", agree, total)

	var mine []string
	for len(u1) > 0 {
		mine = append(mine, logLines(<-u1)...)
	}
	for len(ch) > 0 {
		mine = append(mine, logLines((<-ch).u)...)
	}
	theirs := haproxyLogLines(hp.stderr.String())
	missing, extra := diffMultiset(theirs, mine)
	t.Logf("HAProxy agreement: %d/%d DNS log lines", len(theirs)-len(missing), len(theirs))
	// Counters depend on timing; the layout must be the same.
	theirShow, err := hp.cli("show resolvers")
	if err != nil {
		t.Fatal(err)
	}
	myShow, _ := ShowResolvers([]*Resolver{r}, "")
	digits := func(s string) string {
		return strings.TrimSpace(strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return 'N'
			}
			return c
		}, s))
	}
	if !strings.Contains(digits(theirShow), digits(myShow)) {
		t.Errorf("show resolvers layout\nhaproxy:\n%s\nours:\n%s", theirShow, myShow)
	}
	t.Logf("haproxy show resolvers:\n%s\nours:\n%s", theirShow, myShow)
	if len(missing)+len(extra) > 0 {
		t.Errorf("log lines differ\nonly haproxy: %q\nonly ours: %q\nhaproxy stderr:\n%s", missing, extra, hp.stderr)
	}
}

// logLines renders an update as the warnings HAProxy prints for it; the
// backend's part of the maintenance line (". N active ...") is left out.
func logLines(u Update) []string {
	switch u.Kind {
	case KindAddr:
		return []string{u.Log}
	case KindMaint:
		return []string{MaintLog(false, false, "be", u.Server, u.Cause)}
	case KindReady:
		out := []string{ResolvesAgainLog(false, "be", u.Server, u.State.Hostname, true, false, false)}
		if u.Log != "" {
			out = append(out, u.Log)
		}
		return out
	}
	return nil
}

// haproxyLogLines extracts the DNS related warnings from haproxy's stderr.
func haproxyLogLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		i := strings.Index(l, ") : ")
		if !strings.HasPrefix(l, "[WARNING]") || i < 0 {
			continue
		}
		l = strings.TrimSuffix(l[i+4:], ".")
		if j := strings.Index(l, "). "); j >= 0 && strings.Contains(l, "for maintenance (") {
			l = l[:j+1]
		}
		out = append(out, l)
	}
	return out
}

func diffMultiset(a, b []string) (onlyA, onlyB []string) {
	n := map[string]int{}
	for _, x := range a {
		n[x]++
	}
	for _, x := range b {
		n[x]--
	}
	for x, c := range n {
		for ; c > 0; c-- {
			onlyA = append(onlyA, x)
		}
		for ; c < 0; c++ {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}
