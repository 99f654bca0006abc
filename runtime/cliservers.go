package runtime

import (
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime/stats"
)

var _ stats.ServerAdmin = cliSource{}

// ServerAction is "set server ... state ready|drain|maint" (HAProxy's
// srv_adm_set_ready, _drain and _maint), with their logs.
func (s cliSource) ServerAction(bname, sname, action string) {
	srv := s.server(bname, sname)
	if srv == nil {
		return
	}
	var chs []backend.AdminChange
	switch action {
	case "ready":
		chs = append(srv.ClearDrain(), srv.Enable()...)
	case "drain":
		chs = srv.SetDrain()
	case "maint":
		chs = srv.Disable()
		srv.ClearDrain()
	}
	for _, ch := range chs {
		s.e.adminChange(ch)
	}
}

// SetHealth is "set server ... health", which HAProxy refuses on a
// tracking server.
func (s cliSource) SetHealth(bname, sname, health string) bool {
	srv := s.server(bname, sname)
	if srv == nil {
		return true
	}
	if srv.Tracked != nil {
		return false
	}
	to := map[string]backend.State{"up": backend.Up, "stopping": backend.Stopping, "down": backend.Down}[health]
	srv.ForceState(to, "changed from CLI")
	return true
}

// SetWeight is "set server ... weight" and "set weight".
// A backend left with no usable server is reported as HAProxy does.
func (s cliSource) SetWeight(bname, sname string, w int) error {
	srv := s.server(bname, sname)
	if srv == nil {
		return nil
	}
	before := usableServers(srv.Backend)
	if err := srv.SetWeight(w); err != nil {
		return err
	}
	if before > 0 && usableServers(srv.Backend) == 0 {
		s.e.adminChange(backend.AdminChange{Server: srv, NoServer: true})
	}
	return nil
}

// usableServers counts the servers that can take traffic.
func usableServers(b *backend.Backend) int {
	n := 0
	for _, x := range b.ServerList() {
		if x.State() == backend.Up && x.CurWeight() > 0 && !x.Drained() {
			n++
		}
	}
	return n
}

// server finds a server by its backend's and its own name.
func (s cliSource) server(bname, sname string) *backend.Server {
	be := s.e.g.byName[bname]
	if be == nil {
		return nil
	}
	for _, srv := range be.LB.ServerList() {
		if srv.Name == sname {
			return srv
		}
	}
	return nil
}

var _ stats.ProxySource = cliSource{}

// ProxyID is a proxy's id by name, 0 when there is none.
func (s cliSource) ProxyID(name string) int { return s.c.proxyIDs[name] }
