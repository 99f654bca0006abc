package backend

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// dynState is what servers added and removed at run time need.
type dynState struct {
	// dynamic marks a server of "add server" (SRV_F_DYNAMIC).
	dynamic bool
	// checkOff and agentOff are "disable health" and "disable agent":
	// the check stays configured but does not run.
	checkOff, agentOff atomic.Bool
	// pinned marks a server another one tracked: HAProxy never lets
	// "del server" remove it (SRV_F_NON_PURGEABLE).
	pinned atomic.Bool
	// stop ends the checks of a server started by StartChecks.
	stop context.CancelFunc
	// check and agent are the targets set at run time, agentSend the
	// agent string.
	check, agent atomic.Pointer[checkTarget]
	agentSend    atomic.Pointer[[]byte]
}

// Errors of AddServer and RemoveServer, with HAProxy's messages.
var (
	ErrServerExists = errors.New("Already exists a server with the same name in backend.")
	ErrServerBusy   = errors.New("Server still has connections attached to it, cannot remove it.")
)

// Dynamic reports a server added at run time.
func (s *Server) Dynamic() bool { return s.rt.dynamic }

// AddServer attaches a server at the end of the backend, as "add server"
// does: in forced maintenance unless enabled, with the first free id
// when it has none. The server list is replaced, never modified, for
// readers without the lock.
func (b *Backend) AddServer(s *Server, enabled bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	used := map[int]bool{}
	for _, x := range b.Servers {
		if x.Name == s.Name {
			return ErrServerExists
		}
		used[x.ID] = true
	}
	if s.ID == 0 {
		s.ID = 1
		for used[s.ID] {
			s.ID++
		}
	}
	s.rt.dynamic = true
	s.Backend = b
	s.curWeight.Store(int32(s.Weight))
	s.lastChange.Store(time.Now().Unix())
	s.chkStatus.Store(int32(CheckIni))
	// The forced maintenance and "disabled": an address left unresolved
	// does not hold it (init-addr none).
	adm := s.Admin() & AdminConfigMaint
	if !enabled {
		adm |= AdminForcedMaint
	}
	s.admin.Store(uint32(adm))
	if adm != 0 {
		s.state.Store(int32(Maint))
	} else {
		s.state.Store(int32(Up))
	}
	s.rt.checkOff.Store(true)
	s.rt.agentOff.Store(true)
	b.Servers = append(b.Servers[:len(b.Servers):len(b.Servers)], s)
	list := b.Servers
	b.list.Store(&list)
	b.dirty = true
	return nil
}

// RemoveServer detaches a server that has no session and no queued
// request; the caller checked it is in maintenance. Its checks stop and
// it stops following the server it tracked.
func (b *Backend) RemoveServer(s *Server) error {
	b.mu.Lock()
	if s.cur > 0 || len(s.queue) > 0 {
		b.mu.Unlock()
		return ErrServerBusy
	}
	list := make([]*Server, 0, len(b.Servers))
	for _, x := range b.Servers {
		if x != s {
			list = append(list, x)
		}
	}
	b.Servers = list
	b.list.Store(&list)
	if s.tree != nil {
		s.tree.remove(s)
		s.tree = nil
	}
	b.dirty = true
	b.fwrrInit = false
	b.mu.Unlock()
	if s.rt.stop != nil {
		s.rt.stop()
	}
	if t := s.Tracked; t != nil {
		t.mu.Lock()
		kept := make([]*Server, 0, len(t.trackers))
		for _, x := range t.trackers {
			if x != s {
				kept = append(kept, x)
			}
		}
		t.trackers = kept
		t.mu.Unlock()
	}
	return nil
}

// Pin marks a server the configuration points to otherwise (a
// use-server rule, a fetch argument): it cannot be deleted.
func (s *Server) Pin() { s.rt.pinned.Store(true) }

// Pinned reports a server that some server tracks or tracked, or that
// is pinned.
func (s *Server) Pinned() bool { return s.rt.pinned.Load() }

// Track makes a server being added follow t, which runs, as HAProxy's
// srv_apply_track does for "add server ... track".
func (s *Server) Track(t *Server) {
	s.Tracked = t
	s.Check.Enabled = false
	t.rt.pinned.Store(true)
	t.mu.Lock()
	t.trackers = append(t.trackers[:len(t.trackers):len(t.trackers)], s)
	st := t.State()
	t.mu.Unlock()
	if st != Up {
		s.state.Store(int32(st))
	}
}

// StartChecks runs the check and agent of a server added at run time
// until ctx ends; RemoveServer calls stop. They stay off until
// SetCheckRunning and SetAgentRunning.
func (s *Server) StartChecks(ctx context.Context, stop context.CancelFunc) {
	s.rt.stop = stop
	if s.Check.Enabled {
		go s.checkLoop(ctx)
	}
	if s.Agent.Enabled {
		s.Agent.health.Store(int32(s.Agent.Rise))
		s.Agent.status.Store(int32(CheckIni))
		go s.agentLoop(ctx)
	}
}

// SetCheckRunning is "enable health" (on) and "disable health".
func (s *Server) SetCheckRunning(on bool) { s.rt.checkOff.Store(!on) }

// SetAgentRunning is "enable agent" (on) and "disable agent".
func (s *Server) SetAgentRunning(on bool) { s.rt.agentOff.Store(!on) }

// checkOff reports a check stopped by "disable health".
func (s *Server) checkOff() bool { return s.rt.checkOff.Load() }

// agentOff reports an agent stopped by "disable agent".
func (s *Server) agentOff() bool { return s.rt.agentOff.Load() }

// DynamicLB reports an algorithm that takes servers added at run time
// (BE_LB_PROP_DYN).
func (b *Backend) DynamicLB() bool { return b.dynamicWeights() }

// checkTarget is an address or port set at run time for checks or the
// agent ("set server ... check-addr", "agent-port"...); "" keeps the
// configured one.
type checkTarget struct{ host, port string }

// SetCheckTarget changes the host and/or the port checks connect to
// ("" leaves each unchanged).
func (s *Server) SetCheckTarget(host, port string) {
	s.rt.check.Store(mergeTarget(s.rt.check.Load(), host, port))
}

// SetAgentTarget changes the host and/or the port of the agent.
func (s *Server) SetAgentTarget(host, port string) {
	s.rt.agent.Store(mergeTarget(s.rt.agent.Load(), host, port))
}

// SetAgentSend changes the string sent to the agent.
func (s *Server) SetAgentSend(v string) {
	b := []byte(v)
	s.rt.agentSend.Store(&b)
}

func mergeTarget(old *checkTarget, host, port string) *checkTarget {
	t := checkTarget{}
	if old != nil {
		t = *old
	}
	if host != "" {
		t.host = host
	}
	if port != "" {
		t.port = port
	}
	return &t
}

// CheckTarget and AgentTarget are the host and port set at run time,
// "" for the configured ones.
func (s *Server) CheckTarget() (host, port string) { return s.rt.check.Load().get() }
func (s *Server) AgentTarget() (host, port string) { return s.rt.agent.Load().get() }

func (t *checkTarget) get() (string, string) {
	if t == nil {
		return "", ""
	}
	return t.host, t.port
}

// retarget applies a run time host and port to host:port addr.
func retarget(addr string, t *checkTarget) string {
	if t == nil {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if t.host != "" {
		host = t.host
	}
	if t.port != "" {
		port = t.port
	}
	return net.JoinHostPort(host, port)
}

// agentAddr and agentSend are the agent's address and string in force.
func (s *Server) agentAddr() string { return retarget(s.Agent.Addr, s.rt.agent.Load()) }

func (s *Server) agentSend() []byte {
	if b := s.rt.agentSend.Load(); b != nil {
		return *b
	}
	return s.Agent.Send
}

// SetFixedAddress is SetAddress on a port that no longer follows the
// client's, whatever the server's MapPorts.
func (s *Server) SetFixedAddress(ip netip.Addr, port int) {
	host := ip.Unmap().String()
	s.dyn.Store(&srvAddr{host: host, hostport: net.JoinHostPort(host, strconv.Itoa(port)), fixed: true})
}

// PortMapped reports a server whose port follows the client's.
func (s *Server) PortMapped() bool {
	a := s.dyn.Load()
	return s.MapPorts && (a == nil || !a.fixed)
}

// ForceAgentState is "set server <b>/<s> agent up|down": the agent's
// health is set to match and the server goes up or down, reported with
// desc as ForceState does.
func (s *Server) ForceAgentState(up bool, desc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, to := s.Agent.Rise+s.Agent.Fall-1, Up
	if !up {
		h, to = 0, Down
	}
	s.Agent.health.Store(int32(h))
	s.changeStateLocked(to, "", desc)
}

// ServerList is the backend's servers for readers without the lock:
// the list AddServer and RemoveServer last published, else Servers,
// which nothing changes until then.
func (b *Backend) ServerList() []*Server {
	if p := b.list.Load(); p != nil {
		return *p
	}
	return b.Servers
}
