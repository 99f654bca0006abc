package backend

import (
	"context"
	"strings"
	"testing"
)

// TestDisableEnable: forced maintenance takes a server out of the
// balancer at once and passes to its tracker, with HAProxy's reports
// and flags; enabling brings both back.
func TestDisableEnable(t *testing.T) {
	a := &Server{Name: "a", Addr: "127.0.0.1:1", Weight: 1, Check: Check{Enabled: true, Rise: 2, Fall: 3}}
	b := &Server{Name: "b", Addr: "127.0.0.1:2", Weight: 1}
	trk := &Server{Name: "t", Addr: "127.0.0.1:3", Weight: 1}
	be := New("be", []*Server{a, b, trk})
	trk.TrackServer(a)
	texts := func(chs []AdminChange) string {
		var l []string
		for _, c := range chs {
			l = append(l, c.Text)
		}
		return strings.Join(l, "\n")
	}
	want := "Server be/a is going DOWN for maintenance. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue\n" +
		"Server be/t is going DOWN for maintenance via be/a. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue"
	if got := texts(a.Disable()); got != want {
		t.Fatalf("disable:\n%s\nwant:\n%s", got, want)
	}
	if a.Admin() != AdminForcedMaint || trk.Admin() != AdminInheritedMaint || a.CheckHealth() != 0 || a.CheckState() != CheckConfigured|CheckEnabled|CheckPaused {
		t.Fatalf("admin %#x %#x health %d check state %#x", a.Admin(), trk.Admin(), a.CheckHealth(), a.CheckState())
	}
	for i := 0; i < 4; i++ {
		s, err := be.Acquire(context.Background(), 0)
		if err != nil || s != b {
			t.Fatalf("in maintenance: %v %v", s, err)
		}
		be.Release(s)
	}
	if got := a.Disable(); len(got) != 0 {
		t.Fatalf("disable again: %v", got)
	}
	if got := texts(trk.Disable()); got != "" || trk.Admin() != AdminForcedMaint|AdminInheritedMaint {
		t.Fatalf("disable the tracker: %q %#x", got, trk.Admin())
	}
	if got := texts(trk.Enable()); got != "Server be/t is leaving forced maintenance but remains in maintenance via be/a" {
		t.Fatalf("enable the tracker: %q", got)
	}
	want = "Server be/a is UP/READY (leaving forced maintenance)\nServer be/t is UP/READY (leaving maintenance)"
	if got := texts(a.Enable()); got != want || a.State() != Up || trk.State() != Up || a.CheckHealth() != 2 {
		t.Fatalf("enable: %q %v %v %d", got, a.State(), trk.State(), a.CheckHealth())
	}
	seen := map[*Server]bool{}
	for i := 0; i < 6; i++ {
		s, err := be.Acquire(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		seen[s] = true
		be.Release(s)
	}
	if !seen[a] || !seen[trk] {
		t.Fatalf("after enable: %v", seen)
	}
}

// Drain mode leaves a forced maintenance, keeps the server up and out of
// load balancing, and shows as DRAIN; ready ends it.
func TestDrain(t *testing.T) {
	a := &Server{Name: "a", Addr: "127.0.0.1:1", Weight: 1}
	b := &Server{Name: "b", Addr: "127.0.0.1:2", Weight: 1}
	be := New("be", []*Server{a, b})
	a.Disable()
	a.SetDrain()
	if a.Admin() != AdminForcedDrain || a.State() != Up || be.Snapshot().Servers[0].State != "DRAIN" {
		t.Fatalf("admin %#x state %v snapshot %v", a.Admin(), a.State(), be.Snapshot().Servers[0].State)
	}
	for i := 0; i < 4; i++ {
		s, err := be.Acquire(context.Background(), 0)
		if err != nil || s != b {
			t.Fatalf("drained server chosen: %v %v", s, err)
		}
		be.Release(s)
	}
	a.ClearDrain()
	if a.Drained() || be.Snapshot().Servers[0].State != "UP" {
		t.Fatalf("ready: admin %#x", a.Admin())
	}
}
