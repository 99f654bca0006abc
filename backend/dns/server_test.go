package dns

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// zone is an in-process DNS server whose records tests change over time.
type zone struct {
	mu       sync.Mutex
	a        map[string][]string // "name." -> addresses, A and AAAA mixed
	cname    map[string]string
	srv      map[string][]mdns.SRV
	extra    bool           // add A/AAAA of SRV targets in the additional section
	rcode    map[string]int // forced rcode per name
	drop     bool           // answer nothing
	truncate bool           // set TC on every answer
	badID    bool           // answer with another id
	big      int            // pad answers with this many extra A records
	queries  map[uint16]int // per query type

	udp, tcp *mdns.Server
	addr     netip.AddrPort
}

func newZone(t *testing.T) *zone {
	t.Helper()
	z := &zone{a: map[string][]string{}, cname: map[string]string{}, srv: map[string][]mdns.SRV{},
		rcode: map[string]int{}, queries: map[uint16]int{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		t.Skipf("tcp port %d busy: %v", port, err)
	}
	z.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	h := mdns.HandlerFunc(z.serve)
	z.udp = &mdns.Server{PacketConn: pc, Handler: h}
	z.tcp = &mdns.Server{Listener: ln, Handler: h}
	go z.udp.ActivateAndServe()
	go z.tcp.ActivateAndServe()
	t.Cleanup(func() {
		z.udp.Shutdown()
		z.tcp.Shutdown()
	})
	return z
}

func (z *zone) set(f func(z *zone)) {
	z.mu.Lock()
	defer z.mu.Unlock()
	f(z)
}

func (z *zone) count(qtype uint16) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.queries[qtype]
}

func (z *zone) addrRRs(name string, qtype uint16) []mdns.RR {
	var out []mdns.RR
	for _, s := range z.a[name] {
		ip := netip.MustParseAddr(s)
		hdr := mdns.RR_Header{Name: name, Class: mdns.ClassINET, Ttl: 1}
		switch {
		case ip.Is4() && qtype == mdns.TypeA:
			hdr.Rrtype = mdns.TypeA
			out = append(out, &mdns.A{Hdr: hdr, A: ip.AsSlice()})
		case ip.Is6() && qtype == mdns.TypeAAAA:
			hdr.Rrtype = mdns.TypeAAAA
			out = append(out, &mdns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
		}
	}
	return out
}

func (z *zone) serve(w mdns.ResponseWriter, q *mdns.Msg) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(q.Question) != 1 {
		return
	}
	qs := q.Question[0]
	z.queries[qs.Qtype]++
	if z.drop {
		return
	}
	m := new(mdns.Msg)
	m.SetReply(q)
	name := qs.Name
	if rc, ok := z.rcode[name]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	for i := 0; i < 8; i++ {
		target, ok := z.cname[name]
		if !ok {
			break
		}
		m.Answer = append(m.Answer, &mdns.CNAME{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: 1}, Target: target})
		name = target
	}
	switch qs.Qtype {
	case mdns.TypeA, mdns.TypeAAAA:
		m.Answer = append(m.Answer, z.addrRRs(name, qs.Qtype)...)
		for i := 0; i < z.big; i++ {
			m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 1}, A: net.IPv4(10, 9, byte(i>>8), byte(i))})
		}
	case mdns.TypeSRV:
		for _, s := range z.srv[name] {
			s := s
			s.Hdr = mdns.RR_Header{Name: name, Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: 1}
			m.Answer = append(m.Answer, &s)
			if z.extra {
				m.Extra = append(m.Extra, z.addrRRs(s.Target, mdns.TypeA)...)
				m.Extra = append(m.Extra, z.addrRRs(s.Target, mdns.TypeAAAA)...)
			}
		}
	}
	m.Truncated = z.truncate
	if z.badID {
		m.Id++
	}
	w.WriteMsg(m)
}

func dur(d time.Duration) *time.Duration { return &d }

// fastSection is a section with short timers so that tests finish quickly.
func fastSection(z *zone) Section {
	return Section{
		Name:           "r",
		Nameservers:    []Nameserver{{ID: "ns1", Addr: z.addr}},
		TimeoutResolve: 40 * time.Millisecond,
		TimeoutRetry:   40 * time.Millisecond,
		HoldValid:      dur(time.Second),
		HoldNX:         dur(300 * time.Millisecond),
		HoldOther:      dur(300 * time.Millisecond),
		HoldRefused:    dur(300 * time.Millisecond),
		HoldTimeout:    dur(300 * time.Millisecond),
	}
}

func newResolver(t *testing.T, sec Section) *Resolver {
	t.Helper()
	r, err := New(sec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// updates collects the updates of one server.
type updates chan Update

func (u updates) fn(x Update) { u <- x }

// next waits for an update of the given kind, failing after 3s. Updates of
// other kinds are returned to the caller through skipped.
func (u updates) next(t *testing.T, kind Kind) Update {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case x := <-u:
			if x.Kind == kind {
				return x
			}
		case <-deadline:
			t.Fatalf("no %s update within 3s", kind)
		}
	}
}

// none checks that no update of kind arrives within d.
func (u updates) none(t *testing.T, kind Kind, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case x := <-u:
			if x.Kind == kind {
				t.Fatalf("unexpected %s update: %+v", kind, x)
			}
		case <-deadline:
			return
		}
	}
}

func subscribe(t *testing.T, r *Resolver, host string, opts Options) (*Server, updates) {
	t.Helper()
	u := make(updates, 256)
	if opts.Backend == "" {
		opts.Backend = "be"
	}
	if opts.Server == "" {
		opts.Server = "s1"
	}
	s, err := r.Subscribe(host, opts, u.fn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, u
}

func TestAddressChangeIPv4(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1"} })
	r := newResolver(t, fastSection(z))
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4, Maint: true})
	x := u.next(t, KindAddr)
	if x.State.Addr != netip.MustParseAddr("10.0.0.1") || x.Log != "be/s1 changed its IP from (none) to 10.0.0.1 by r/ns1" {
		t.Fatalf("first update %+v", x)
	}
	x = u.next(t, KindReady)
	if x.Log != "Server be/s1 administratively READY thanks to valid DNS answer" || x.State.Maint {
		t.Fatalf("ready update %+v", x)
	}
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.2"} })
	x = u.next(t, KindAddr)
	if x.Log != "be/s1 changed its IP from 10.0.0.1 to 10.0.0.2 by r/ns1" {
		t.Fatalf("change %+v", x)
	}
	if z.count(mdns.TypeAAAA) != 0 {
		t.Fatalf("AAAA queried with resolve-prefer ipv4")
	}
	st := r.Stats()[0]
	if st.Valid < 2 || st.Update != 2 || st.Sent < st.Valid {
		t.Fatalf("counters %+v", st)
	}
}

// With the default IPv6 preference and only an A record, the empty AAAA
// answer counts as any_err and the A fallback is used.
func TestFallbackToA(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1"} })
	r := newResolver(t, fastSection(z))
	_, u := subscribe(t, r, "APP.test.", Options{})
	if x := u.next(t, KindAddr); x.State.Addr.String() != "10.0.0.1" {
		t.Fatalf("%+v", x)
	}
	if z.count(mdns.TypeAAAA) == 0 || r.Stats()[0].AnyErr == 0 {
		t.Fatalf("no AAAA first: %d, %+v", z.count(mdns.TypeAAAA), r.Stats()[0])
	}
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1", "fd00::1"} })
	if x := u.next(t, KindAddr); x.State.Addr.String() != "fd00::1" {
		t.Fatalf("IPv6 not preferred: %+v", x)
	}
}

// holdCase puts the zone in an error state and checks that the server keeps
// its address for the hold period, then goes to maintenance with cause.
func holdCase(t *testing.T, breakZone func(z *zone), cause string, counter func(Counters) uint64) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1"} })
	r := newResolver(t, fastSection(z))
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4})
	u.next(t, KindAddr)
	start := time.Now()
	z.set(breakZone)
	x := u.next(t, KindMaint)
	if held := time.Since(start); held < 250*time.Millisecond {
		t.Fatalf("maintenance after %v, before hold", held)
	}
	if x.Cause != cause || x.State.Addr.IsValid() || !x.State.Maint {
		t.Fatalf("maint update %+v", x)
	}
	if counter != nil && counter(r.Stats()[0].Counters) == 0 {
		t.Fatalf("counter not incremented: %+v", r.Stats()[0])
	}
	z.set(func(z *zone) {
		z.rcode = map[string]int{}
		z.drop, z.truncate, z.badID, z.big = false, false, false, 0
		z.a["app.test."] = []string{"10.0.0.3"}
	})
	if x := u.next(t, KindAddr); x.Log != "be/s1 changed its IP from (none) to 10.0.0.3 by r/ns1" {
		t.Fatalf("back %+v", x)
	}
	u.next(t, KindReady)
}

func TestHoldNX(t *testing.T) {
	holdCase(t, func(z *zone) { z.rcode["app.test."] = mdns.RcodeNameError }, CauseNX,
		func(c Counters) uint64 { return c.NX })
}

func TestHoldRefused(t *testing.T) {
	holdCase(t, func(z *zone) { z.rcode["app.test."] = mdns.RcodeRefused }, CauseRefused,
		func(c Counters) uint64 { return c.Refused })
}

func TestHoldServfail(t *testing.T) {
	holdCase(t, func(z *zone) { z.rcode["app.test."] = mdns.RcodeServerFailure }, CauseOther,
		func(c Counters) uint64 { return c.Other })
}

func TestHoldTimeout(t *testing.T) {
	holdCase(t, func(z *zone) { z.drop = true }, CauseTimeout, nil)
}

func TestHoldTruncated(t *testing.T) {
	holdCase(t, func(z *zone) { z.truncate = true }, CauseOther,
		func(c Counters) uint64 { return c.Truncated })
}

func TestHoldOutdatedIDs(t *testing.T) {
	holdCase(t, func(z *zone) { z.badID = true }, CauseTimeout,
		func(c Counters) uint64 { return c.Outdated })
}

func TestTooBig(t *testing.T) {
	holdCase(t, func(z *zone) { z.big = 40 }, CauseTimeout,
		func(c Counters) uint64 { return c.TooBig })
}

func TestCNAMEChain(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) {
		z.cname["app.test."] = "mid.test."
		z.cname["mid.test."] = "real.test."
		z.a["real.test."] = []string{"10.1.1.1"}
	})
	r := newResolver(t, fastSection(z))
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4})
	if x := u.next(t, KindAddr); x.State.Addr.String() != "10.1.1.1" {
		t.Fatalf("%+v", x)
	}
	// A chain ending on a CNAME is a CNAME error.
	z.set(func(z *zone) { delete(z.a, "real.test.") })
	if x := u.next(t, KindMaint); x.Cause != CauseOther {
		t.Fatalf("%+v", x)
	}
	if r.Stats()[0].CNAMEError == 0 {
		t.Fatalf("%+v", r.Stats()[0])
	}
}

// Two servers of one backend on the same name pick different addresses.
func TestPreventDupIP(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1", "10.0.0.2"} })
	r := newResolver(t, fastSection(z))
	_, u1 := subscribe(t, r, "app.test", Options{Prefer: IPv4, Server: "s1"})
	_, u2 := subscribe(t, r, "app.test", Options{Prefer: IPv4, Server: "s2"})
	a1, a2 := u1.next(t, KindAddr), u2.next(t, KindAddr)
	if a1.State.Addr == a2.State.Addr {
		t.Fatalf("both servers on %v", a1.State.Addr)
	}
	if !strings.HasSuffix(a1.Log, "by r/ns1") && !strings.HasSuffix(a2.Log, "by r/ns1") {
		t.Fatalf("no update attributed to the nameserver: %q %q", a1.Log, a2.Log)
	}
	if !strings.HasSuffix(a1.Log, "by "+UpdaterCache) && !strings.HasSuffix(a2.Log, "by "+UpdaterCache) {
		t.Fatalf("second requester not served from cache: %q %q", a1.Log, a2.Log)
	}
	u1.none(t, KindAddr, 200*time.Millisecond)
}

func TestResolveNet(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1", "192.168.1.1", "172.16.0.1"} })
	r := newResolver(t, fastSection(z))
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4, Nets: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}})
	if x := u.next(t, KindAddr); x.State.Addr.String() != "192.168.1.1" {
		t.Fatalf("%+v", x)
	}
}

func TestTCPNameserver(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.7"} })
	sec := fastSection(z)
	ns, err := ParseNameserver("tcp1", "tcp@"+z.addr.String())
	if err != nil || !ns.TCP {
		t.Fatal(ns, err)
	}
	sec.Nameservers = []Nameserver{ns}
	r := newResolver(t, sec)
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4})
	if x := u.next(t, KindAddr); x.Log != "be/s1 changed its IP from (none) to 10.0.0.7 by r/tcp1" {
		t.Fatalf("%+v", x)
	}
}
