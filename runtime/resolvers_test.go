package runtime_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// testZone is an in-process DNS server whose answers a test changes:
// A records by name, NXDOMAIN for the names in nx, and SRV records with
// their targets' addresses in the additional section.
type testZone struct {
	mu   sync.Mutex
	a    map[string]string
	nx   map[string]bool
	srv  map[string][]mdns.SRV
	addr string
}

func startZone(t *testing.T) *testZone {
	t.Helper()
	z := &testZone{a: map[string]string{}, nx: map[string]bool{}, srv: map[string][]mdns.SRV{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	s := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(z.serve)}
	go s.ActivateAndServe()
	t.Cleanup(func() { s.Shutdown() })
	return z
}

func (z *testZone) set(f func(z *testZone)) {
	z.mu.Lock()
	defer z.mu.Unlock()
	f(z)
}

func (z *testZone) aRR(name string) []mdns.RR {
	ip, ok := z.a[name]
	if !ok {
		return nil
	}
	hdr := mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 1}
	return []mdns.RR{&mdns.A{Hdr: hdr, A: netip.MustParseAddr(ip).AsSlice()}}
}

func (z *testZone) serve(w mdns.ResponseWriter, q *mdns.Msg) {
	z.mu.Lock()
	defer z.mu.Unlock()
	m := new(mdns.Msg)
	m.SetReply(q)
	qs := q.Question[0]
	switch {
	case z.nx[qs.Name]:
		m.Rcode = mdns.RcodeNameError
	case qs.Qtype == mdns.TypeA:
		m.Answer = z.aRR(qs.Name)
	case qs.Qtype == mdns.TypeSRV:
		for _, r := range z.srv[qs.Name] {
			r := r
			r.Hdr = mdns.RR_Header{Name: qs.Name, Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: 1}
			m.Answer = append(m.Answer, &r)
			m.Extra = append(m.Extra, z.aRR(r.Target)...)
		}
	}
	w.WriteMsg(m)
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Resolutions every 100 ms, each answer held 100 ms: on a loaded
	// machine late answers drop slots for a while, so the bound is
	// generous.
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverState returns the "show servers state" fields of one server:
// address, operational and administrative states, port, FQDN and SRV
// record.
func serverState(t *testing.T, sock, name string) []string {
	t.Helper()
	for _, l := range strings.Split(cliSend(t, "unix", sock, "show servers state\n"), "\n") {
		f := strings.Fields(l)
		if len(f) > 18 && f[3] == name {
			return []string{f[4], f[5], f[6], f[18], f[17], f[19]}
		}
	}
	t.Fatalf("no server %s", name)
	return nil
}

// upstream answers who served a request, or the status when not 200.
func upstream(t *testing.T, fe string) string {
	code, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if code != 200 {
		return fmt.Sprint(code)
	}
	return srv
}

// startDNSGohap runs gohap with a stats socket, a resolvers section on
// z with short timers, and a backend of one server line; it returns the
// socket path and the frontend address.
func startDNSGohap(t *testing.T, z *testZone, server string) (string, string) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	fe := freePort(t)
	startGohap(t, dnsCfg(sock, z.addr, fe, server), nil)
	return sock, fe
}

// dnsCfg is the configuration of startDNSGohap.
func dnsCfg(sock, ns, fe, server string) string {
	return fmt.Sprintf(`global
    stats socket %s level admin
resolvers dns
    nameserver ns1 %s
    timeout resolve 100ms
    timeout retry 100ms
    hold valid 100ms
    hold nx 100ms
    hold other 100ms
`+baseDefaults+`frontend fe
    bind %s
    default_backend be
backend be
    balance roundrobin
    %s
`, sock, ns, fe, server)
}

// twoAddresses starts upstreams "a" on 127.0.0.1 and "b" on 127.0.0.2 on
// one port, and a zone where app.test is 127.0.0.1.
func twoAddresses(t *testing.T) (string, *testZone) {
	a := startEcho(t, "a")
	_, port, _ := net.SplitHostPort(a.Addr())
	b, err := startEchoAt("b", "127.0.0.2:"+port)
	if err != nil {
		t.Skipf("127.0.0.2: %v", err)
	}
	t.Cleanup(b.Close)
	z := startZone(t)
	z.set(func(z *testZone) { z.a["app.test."] = "127.0.0.1" })
	return port, z
}

// TestResolversServerAddress follows a server through DNS changes: its
// first address, a new one, NXDOMAIN (maintenance, 503) and back.
func TestResolversServerAddress(t *testing.T) {
	port, z := twoAddresses(t)
	sock, fe := startDNSGohap(t, z, "server s1 app.test:"+port+" resolvers dns init-addr none resolve-prefer ipv4")

	eventually(t, "the first address", func() bool { return upstream(t, fe) == "a" })
	if st := serverState(t, sock, "s1"); st[0] != "127.0.0.1" || st[2] != "0" || st[4] != "app.test" {
		t.Fatalf("state: %v", st)
	}
	z.set(func(z *testZone) { z.a["app.test."] = "127.0.0.2" })
	eventually(t, "the new address", func() bool { return upstream(t, fe) == "b" })
	if st := serverState(t, sock, "s1"); st[0] != "127.0.0.2" || st[3] != port {
		t.Fatalf("state: %v", st)
	}
	z.set(func(z *testZone) { z.nx["app.test."] = true })
	eventually(t, "maintenance", func() bool { return upstream(t, fe) == "503" })
	// SRV_ADMF_RMAINT, stopped.
	if st := serverState(t, sock, "s1"); st[1] != "0" || st[2] != "32" {
		t.Fatalf("state in maintenance: %v", st)
	}
	z.set(func(z *testZone) { delete(z.nx, "app.test."); z.a["app.test."] = "127.0.0.1" })
	eventually(t, "the way back", func() bool { return upstream(t, fe) == "a" })
	if st := serverState(t, sock, "s1"); st[0] != "127.0.0.1" || st[1] != "2" || st[2] != "0" {
		t.Fatalf("state after: %v", st)
	}
	out := cliSend(t, "unix", sock, "show resolvers dns\n")
	if !strings.HasPrefix(out, "Resolvers section dns\n nameserver ns1:\n  sent:") || strings.Contains(out, "  valid:       0\n") {
		t.Fatalf("show resolvers: %q", out)
	}
	if out := cliSend(t, "unix", sock, "show resolvers nope\n"); out != "Can't find that resolvers section\n\n" {
		t.Fatalf("show resolvers nope: %q", out)
	}
}

// TestResolversTemplateSRV fills server-template slots from an SRV
// record growing from one target to two.
func TestResolversTemplateSRV(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	ap, _ := netip.ParseAddrPort(a.Addr())
	bp, _ := netip.ParseAddrPort(b.Addr())
	z := startZone(t)
	z.set(func(z *testZone) {
		z.a["a.test."], z.a["b.test."] = "127.0.0.1", "127.0.0.1"
		z.srv["_http._tcp.app.test."] = []mdns.SRV{{Target: "a.test.", Port: ap.Port(), Weight: 10}}
	})
	sock, fe := startDNSGohap(t, z, "server-template w 3 _http._tcp.app.test resolvers dns resolve-opts allow-dup-ip")
	served := func() map[string]int {
		seen := map[string]int{}
		for i := 0; i < 6; i++ {
			seen[upstream(t, fe)]++
		}
		return seen
	}
	eventually(t, "one slot", func() bool { s := served(); return s["a"] == 6 })
	if st := serverState(t, sock, "w1"); st[0] != "127.0.0.1" || st[3] != fmt.Sprint(ap.Port()) || st[4] != "a.test" || st[5] != "_http._tcp.app.test" {
		t.Fatalf("w1: %v", st)
	}
	if st := serverState(t, sock, "w2"); st[2] != "32" || st[0] != "-" {
		t.Fatalf("w2 before: %v", st)
	}
	z.set(func(z *testZone) {
		z.srv["_http._tcp.app.test."] = append(z.srv["_http._tcp.app.test."], mdns.SRV{Target: "b.test.", Port: bp.Port(), Weight: 10})
	})
	// Both targets serve; under load a slow answer may briefly drop a
	// slot, so an exact round-robin split is not asked for.
	eventually(t, "two slots", func() bool { s := served(); return s["a"] > 0 && s["b"] > 0 })
	if st := serverState(t, sock, "w2"); st[2] != "0" || st[3] != fmt.Sprint(bp.Port()) || st[4] != "b.test" {
		t.Fatalf("w2 after: %v", st)
	}
	if st := serverState(t, sock, "w3"); st[2] != "32" {
		t.Fatalf("w3: %v", st)
	}
}

// TestResolversDifferential runs haproxy and gohap on one DNS timeline
// and compares, at each step, which upstream answers and the server's
// maintenance state.
func TestResolversDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	port, z := twoAddresses(t)
	server := "server s1 app.test:" + port + " resolvers dns init-addr none resolve-prefer ipv4"
	gsock, gfe := startDNSGohap(t, z, server)
	hsock, hfe := filepath.Join(t.TempDir(), "h.sock"), freePort(t)
	startHAProxy(t, dnsCfg(hsock, z.addr, hfe, server), hfe)

	steps := []struct {
		name   string
		change func(z *testZone)
		want   string
	}{
		{"first address", func(*testZone) {}, "a"},
		{"new address", func(z *testZone) { z.a["app.test."] = "127.0.0.2" }, "b"},
		{"NXDOMAIN", func(z *testZone) { z.nx["app.test."] = true }, "503"},
		{"valid again", func(z *testZone) { delete(z.nx, "app.test."); z.a["app.test."] = "127.0.0.1" }, "a"},
	}
	agree := 0
	for _, st := range steps {
		z.set(st.change)
		eventually(t, "haproxy: "+st.name, func() bool { return upstream(t, hfe) == st.want })
		eventually(t, "gohap: "+st.name, func() bool { return upstream(t, gfe) == st.want })
		h, g := serverState(t, hsock, "s1"), serverState(t, gsock, "s1")
		// Address, operational and administrative states, port, FQDN.
		if strings.Join(h[:5], " ") != strings.Join(g[:5], " ") {
			t.Errorf("%s: haproxy %v, gohap %v", st.name, h, g)
			continue
		}
		agree++
	}
	t.Logf("resolvers differential: %d/%d steps agree", agree, len(steps))
}

// http-request do-resolve looks a name up through a resolvers section
// and stores the address in a variable; a name that does not resolve
// leaves it unset. Compared with HAProxy on the same zone.
func TestDoResolveDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for do-resolve")
	}
	z := startZone(t)
	z.set(func(z *testZone) {
		z.a["app.test."] = "127.0.0.9"
		z.a["other.test."] = "10.1.2.3"
		z.nx["gone.test."] = true
	})
	cfg := `resolvers dns
    nameserver ns1 %s
    timeout resolve 100ms
    timeout retry 100ms
    resolve_retries 2
    hold valid 10s
` + baseDefaults + `frontend fe
    bind %s
    http-request do-resolve(txn.ip,dns,ipv4) hdr(x-name),lower
    http-request return status 200 hdr x-ip "%%[var(txn.ip)]" hdr x-type "%%[var(txn.ip),ipmask(32)]"
`
	names := []string{"app.test", "APP.test", "other.test", "gone.test", ""}
	run := func(start func(cfg, fe string)) []string {
		fe := freePort(t)
		start(fmt.Sprintf(cfg, z.addr, fe), fe)
		var out []string
		for _, n := range names {
			got, _ := exchange(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nX-Name: "+n+"\r\nConnection: close\r\n\r\n", []string{"GET"}, 5*time.Second)
			out = append(out, n+" => "+got)
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	t.Logf("do-resolve: %d of %d answers agree: %q", sameLines(t, ref, got), len(ref), ref)
}

// tcp-request content do-resolve waits for the answer until the
// inspection ends, as HAProxy's action yields until its final call;
// without inspect-delay it does not wait. The variable is logged.
func TestTCPDoResolveDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for do-resolve")
	}
	z := startZone(t)
	z.set(func(z *testZone) {
		z.a["app.test."] = "127.0.0.9"
		z.a["oth.test."] = "10.1.2.3"
		z.nx["nxd.test."] = true
	})
	// The server answers and closes: each session ends, and is logged, at once.
	up := serveRaw(t, func(c net.Conn) {
		b := make([]byte, 64)
		c.Read(b)
		io.WriteString(c, "bye\n")
	})
	cfg := `global
    log %s local0
resolvers dns
    nameserver ns1 %s
    timeout resolve 100ms
    timeout retry 100ms
    resolve_retries 2
    hold valid 10s
defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend waits
    bind %s
    log-format "waits %%[var(sess.ip)]"
    tcp-request inspect-delay 2s
    tcp-request content do-resolve(sess.ip,dns,ipv4) req.payload(0,8) if { req.len ge 8 }
    tcp-request content accept if { req.len ge 8 }
    default_backend b
frontend nowait
    bind %s
    log-format "nowait %%[var(sess.ip)]"
    tcp-request content do-resolve(sess.ip,dns,ipv4) req.payload(0,8)
    default_backend b
backend b
    server s1 %s
`
	run := func(start func(cfg, fe string)) []string {
		sink := newLogSink(t)
		fe, fe2 := freePort(t), freePort(t)
		start(fmt.Sprintf(cfg, sink.addr(), z.addr, fe, fe2, up), fe)
		// The readiness probe's connection is logged too: drop it.
		for {
			if _, ok := sink.next(300 * time.Millisecond); !ok {
				break
			}
		}
		var out []string
		for _, c := range []struct{ addr, payload string }{
			{fe, "app.test"}, {fe, "oth.test"}, {fe, "nxd.test"}, {fe2, "oth.test"},
		} {
			conn, err := net.DialTimeout("tcp", c.addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(conn, c.payload)
			io.ReadAll(conn)
			conn.Close()
			l, ok := sink.next(5 * time.Second)
			if !ok {
				out = append(out, c.payload+" => no log")
				continue
			}
			out = append(out, c.payload+" => "+l[strings.Index(l, "]: ")+3:])
		}
		return out
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	t.Logf("tcp do-resolve: %d of %d answers agree: %q", sameLines(t, ref, got), len(ref), ref)
}
