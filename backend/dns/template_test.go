package dns

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

type slotUpdate struct {
	slot int
	u    Update
}

func newTemplate(t *testing.T, r *Resolver, name string, n int) (*TemplateSet, chan slotUpdate) {
	t.Helper()
	ch := make(chan slotUpdate, 1024)
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("srv%d", i))
	}
	ts, err := r.Template(name, Options{Backend: "be", Prefer: IPv4, Maint: true}, names, func(slot int, u Update) {
		ch <- slotUpdate{slot, u}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	return ts, ch
}

// settle waits until the slot states equal want (a sorted description of
// the slots in service) or fails after 3s.
func settle(t *testing.T, ts *TemplateSet, want string) []State {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	var got string
	var st []State
	for time.Now().Before(deadline) {
		st = ts.States()
		got = describe(st)
		if got == want {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("slots:\n got %s\nwant %s", got, want)
	return nil
}

func describe(st []State) string {
	var up []string
	maint := 0
	for _, s := range st {
		if s.Maint {
			maint++
			continue
		}
		up = append(up, fmt.Sprintf("%s=%s:%d/%d", s.Hostname, s.Addr, s.Port, s.Weight))
	}
	sort.Strings(up)
	return fmt.Sprintf("%s maint=%d", strings.Join(up, ","), maint)
}

func srvRR(target string, port, weight uint16) mdns.SRV {
	return mdns.SRV{Priority: 1, Weight: weight, Port: port, Target: target}
}

func testTemplate(t *testing.T, extra bool) {
	z := newZone(t)
	const name = "_http._tcp.app.test."
	z.set(func(z *zone) {
		z.extra = extra
		z.a["a.test."] = []string{"10.0.0.1"}
		z.a["b.test."] = []string{"10.0.0.2"}
		z.a["c.test."] = []string{"10.0.0.3"}
		z.srv[name] = []mdns.SRV{srvRR("a.test.", 8080, 10), srvRR("b.test.", 8081, 512)}
	})
	r := newResolver(t, fastSection(z))
	ts, ch := newTemplate(t, r, "_http._tcp.app.test", 3)
	settle(t, ts, "a.test=10.0.0.1:8080/1,b.test=10.0.0.2:8081/2 maint=1")

	var fqdnLogs []string
	for len(ch) > 0 {
		x := <-ch
		if x.u.Kind == KindFQDN {
			fqdnLogs = append(fqdnLogs, x.u.Log)
		}
		if x.u.Kind == KindAddr && extra && !strings.HasSuffix(x.u.Log, "by "+UpdaterAdditional) {
			t.Fatalf("address not from the additional record: %q", x.u.Log)
		}
	}
	if len(fqdnLogs) != 2 || !strings.HasPrefix(fqdnLogs[0], "be/srv1 changed its FQDN from (null) to ") ||
		!strings.HasSuffix(fqdnLogs[0], " by 'SRV record'") {
		t.Fatalf("FQDN logs %q", fqdnLogs)
	}

	z.set(func(z *zone) { z.srv[name] = append(z.srv[name], srvRR("c.test.", 8082, 0)) })
	settle(t, ts, "a.test=10.0.0.1:8080/1,b.test=10.0.0.2:8081/2,c.test=10.0.0.3:8082/0 maint=0")

	// An address change of a target follows.
	z.set(func(z *zone) { z.a["b.test."] = []string{"10.0.0.22"} })
	settle(t, ts, "a.test=10.0.0.1:8080/1,b.test=10.0.0.22:8081/2,c.test=10.0.0.3:8082/0 maint=0")

	for len(ch) > 0 {
		<-ch
	}
	z.set(func(z *zone) { z.srv[name] = z.srv[name][2:] })
	settle(t, ts, "c.test=10.0.0.3:8082/0 maint=2")
	// The two events may still be on their way when the state settled.
	var causes []string
	for deadline := time.After(5 * time.Second); len(causes) < 2; {
		select {
		case x := <-ch:
			if x.u.Kind == KindMaint {
				causes = append(causes, x.u.Cause)
			}
		case <-deadline:
			t.Fatalf("maint causes %q", causes)
		}
	}
	if len(causes) != 2 || causes[0] != CauseSRVRemoved {
		t.Fatalf("maint causes %q", causes)
	}
	// Freed slots are reused for new items.
	z.set(func(z *zone) { z.srv[name] = append(z.srv[name], srvRR("a.test.", 9000, 65535)) })
	settle(t, ts, "a.test=10.0.0.1:9000/256,c.test=10.0.0.3:8082/0 maint=1")

	// NX on the SRV name keeps the slots for hold nx, then releases them.
	z.set(func(z *zone) { z.rcode[name] = mdns.RcodeNameError })
	start := time.Now()
	settle(t, ts, " maint=3")
	if time.Since(start) < 250*time.Millisecond {
		t.Fatalf("slots released before hold nx")
	}
}

func TestTemplateAdditionalRecords(t *testing.T) { testTemplate(t, true) }

func TestTemplateSeparateResolution(t *testing.T) { testTemplate(t, false) }

func TestTemplateMoreItemsThanSlots(t *testing.T) {
	z := newZone(t)
	const name = "_http._tcp.app.test."
	z.set(func(z *zone) {
		z.extra = true
		for i := 1; i <= 4; i++ {
			h := fmt.Sprintf("h%d.test.", i)
			z.a[h] = []string{fmt.Sprintf("10.0.0.%d", i)}
			z.srv[name] = append(z.srv[name], srvRR(h, 80, 256))
		}
	})
	r := newResolver(t, fastSection(z))
	ts, _ := newTemplate(t, r, name, 2)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		st := ts.States()
		if !st[0].Maint && !st[1].Maint && st[0].Hostname != st[1].Hostname {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("slots %+v", ts.States())
}

func TestLookup(t *testing.T) {
	z := newZone(t)
	z.set(func(z *zone) { z.a["app.test."] = []string{"10.0.0.1", "fd00::5"} })
	r := newResolver(t, fastSection(z))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ip, err := r.Lookup(ctx, "app.test", IPv4)
	if err != nil || ip.String() != "10.0.0.1" {
		t.Fatal(ip, err)
	}
	if ip, err = r.Lookup(ctx, "app.test", IPv6); err != nil || ip.String() != "fd00::5" {
		t.Fatal(ip, err)
	}
	_, err = r.Lookup(ctx, "nx.test", IPv4)
	var le *LookupError
	if !errors.As(err, &le) {
		t.Fatalf("no LookupError: %v", err)
	}
	z.set(func(z *zone) { z.rcode["nx.test."] = mdns.RcodeNameError })
	if _, err = r.Lookup(ctx, "nx.test", IPv4); !errors.As(err, &le) || le.Status != StatusNX {
		t.Fatalf("want NX, got %v", err)
	}

	// A server resolving the same name keeps a valid answer that lookups use
	// without a query while hold valid lasts.
	_, u := subscribe(t, r, "app.test", Options{Prefer: IPv4})
	u.next(t, KindAddr)
	before := z.count(mdns.TypeA)
	for range 20 {
		if ip, err = r.Lookup(ctx, "app.test", IPv4); err != nil || ip.String() != "10.0.0.1" {
			t.Fatal(ip, err)
		}
	}
	if q := z.count(mdns.TypeA) - before; q > 3 {
		t.Fatalf("%d queries for 20 cached lookups", q)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	z.set(func(z *zone) { z.drop = true })
	if _, err := r.Lookup(short, "other.test", IPv4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
}
