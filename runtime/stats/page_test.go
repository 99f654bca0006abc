package stats

import (
	"strings"
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 9985: `<span class="rls">9</span>985`,
		1234567: `<span class="rls">1</span>23<span class="rls">4</span>567`} {
		if got := u2h(n); got != want {
			t.Errorf("u2h(%d) = %q, want %q", n, got, want)
		}
	}
	for sec, want := range map[int]string{-1: "?", 0: "0s", 59: "59s", 61: "1m1s", 3600: "1h", 90061: "1d1h"} {
		if got := humanTime(sec); got != want {
			t.Errorf("humanTime(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestServerStatus(t *testing.T) {
	chk := func(h int) *Check { return &Check{Rise: 2, Fall: 3, Health: h} }
	for _, c := range []struct {
		state int
		maint string
		chk   *Check
		want  string
	}{
		{SrvRunning, "", nil, "no check"}, {SrvRunning, "", chk(4), "UP"}, {SrvRunning, "", chk(3), "UP 2/3"},
		{SrvStopped, "", chk(0), "DOWN"}, {SrvStopped, "", chk(1), "DOWN 1/2"}, {SrvStopped, "", nil, "DOWN"},
		{SrvStopping, "", nil, "NOLB"}, {SrvStopping, "", chk(3), "NOLB 2/3"}, {SrvStopped, "MAINT", chk(0), "MAINT"},
	} {
		if got := ServerStatus(c.state, c.maint, false, c.chk); got != c.want {
			t.Errorf("%+v: %q, want %q", c, got, c.want)
		}
	}
}

type fakeActor map[string]bool

func (f fakeActor) BackendName(b string) string {
	if b == "#3" || b == "be" {
		return "be"
	}
	return ""
}

func (f fakeActor) Act(be, srv, action string) (bool, bool) {
	ok, found := f[srv]
	return found, ok
}

func TestPageRequests(t *testing.T) {
	pg := &Page{URI: "/haproxy?stats", Auth: []string{"u:p"}, Refresh: 5 * time.Second}
	if !pg.Matches("GET", "/haproxy?stats;csv") || !pg.Matches("POST", "http://h/haproxy?stats") ||
		pg.Matches("PUT", "/haproxy?stats") || pg.Matches("GET", "/haproxy") {
		t.Error("URI prefix match")
	}
	if !pg.Authorized("Basic dTpw") || pg.Authorized("Basic dTpx") || pg.Authorized("") {
		t.Error("basic auth")
	}
	v := pg.View("/haproxy?stats;up;norefresh;json;st=DONE;scope=web")
	if v.Format != "json" || !v.HideDown || !v.NoRefresh || v.Status != "DONE" || v.Search != "web" {
		t.Errorf("view %+v", v)
	}
	for body, want := range map[string]string{"s=a&action=maint&b=%233": "DONE", "s=a&s=zz&action=maint&b=be": "PART",
		// An unknown server counts as not altered; a server the action
		// does not apply to is not counted.
		"s=zz&action=maint&b=be": "ERRP", "s=x&action=maint&b=be": "NONE", "s=a&s=x&action=maint&b=be": "DONE", "action=maint&b=nope": "ERRP",
		"s=a&action=bogus&b=be": "ERRP", "": "NONE"} {
		if got := Post(body, fakeActor{"a": true, "x": false}); got != want {
			t.Errorf("POST %q = %s, want %s", body, got, want)
		}
	}
	r := pg.Redirect("DONE", &View{HideDown: true})
	if !strings.Contains(r.Head, "location: /haproxy?stats;st=DONE;up\r\n") || !strings.HasPrefix(r.Head, "HTTP/1.1 303 See Other\r\n") {
		t.Errorf("redirect %q", r.Head)
	}
}
