package runtime

import (
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
)

// The session answers the sample fetches that read the engine's state
// (acl.Env): listener, proxies, servers, captures.
var _ acl.Env = (*session)(nil)

func (s *session) String() string { return "session of " + s.fe.Name }

// Listener is the bind line's name and id (so_name, so_id).
func (s *session) Listener() (string, int, bool) {
	b := s.l.bind
	if b == nil {
		return "", 0, false
	}
	return b.Name, b.ID, true
}

// FirstRequest is http_first_req: the first request read on an HTTP/1
// connection; never for an HTTP/2 stream.
func (s *session) FirstRequest() bool { return s.reqs <= 1 && !s.h2Stream }

// Stopping reports a soft or hard stop in progress.
func (s *session) Stopping() bool { return s.e.stopping.Load() }

// Capture is a request or response capture slot of the stream.
func (s *session) Capture(res bool, i int) ([]byte, bool) {
	caps := s.rec.ReqCaps
	if res {
		caps = s.rec.ResCaps
	}
	if i < 0 || i >= len(caps) || caps[i] == nil {
		return nil, false
	}
	return caps[i], true
}

// UniqueID is the stream's unique id, made from unique-id-format the
// first time it is asked for (stream_generate_unique_id).
func (s *session) UniqueID() ([]byte, bool) {
	f := s.fe.uniqueFmt
	if f == nil {
		return nil, false
	}
	if !s.uniqueSet {
		s.prepareRecord()
		s.uniqueID = f.Append(s.uniqueID[:0], &s.rec)
		s.uniqueSet = true
		s.rec.UniqueID = s.uniqueID
	}
	return s.uniqueID, true
}

// Compression is the algorithm compressing the response, if any.
func (s *session) Compression() (string, bool) {
	if !s.zs.on {
		return "", false
	}
	return s.zs.algo.String(), true
}

// Proxy is the state of a frontend or backend, the stream's own when name
// is empty.
func (s *session) Proxy(name string, fe bool) (acl.ProxyState, bool) {
	st := s.e.g.stats
	var sp *statsProxy
	switch {
	case name != "":
		sp = st.byName[name]
	case fe:
		sp = st.byFe[s.fe]
	default:
		be := s.curBackend()
		if be == nil {
			return acl.ProxyState{}, false
		}
		sp = st.byBe[be]
	}
	if sp == nil || fe && sp.fe == nil || !fe && sp.be == nil {
		return acl.ProxyState{}, false
	}
	now := time.Now()
	ps := acl.ProxyState{ID: sp.id}
	if fe {
		c := st.fe[sp.fe]
		ps.Conn = sp.fe.conns.Load()
		r, _ := c.sessRate.read(now)
		q, _ := c.reqRate.read(now)
		ps.SessRate, ps.ReqRate = int64(r), int64(q)
		return ps, true
	}
	be := sp.be
	r, _ := st.be[be].sessRate.read(now)
	ps.SessRate = int64(r)
	ps.Conn = be.conns.Load()
	ps.Queue = int64(be.LB.QueueLen())
	act, bck := 0, 0
	ps.ConnFree, ps.ConnSlots = 0, 0
	for _, srv := range be.LB.ServerList() {
		if srv.State() != backend.Up {
			continue
		}
		if srv.Backup {
			bck++
		} else {
			act++
		}
		if srv.Maxconn == 0 || ps.ConnFree < 0 {
			ps.ConnFree, ps.ConnSlots = -1, -1
			continue
		}
		ps.ConnFree += int64(srv.Maxconn - srv.Sessions())
		ps.ConnSlots += int64(srv.Maxconn + srv.MaxQueue)
	}
	if ps.ConnSlots >= 0 {
		ps.ConnSlots -= ps.Conn + ps.Queue
	}
	// be_usable_srv: the active servers, else the first backup.
	ps.UsableServers = int64(act)
	if act == 0 && bck > 0 {
		ps.UsableServers = 1
	}
	return ps, true
}

// Server is a server's state (srv_is_up, srv_conn, srv_queue).
func (s *session) Server(beName, name string) (acl.ServerState, bool) {
	st := s.e.g.stats
	be := s.curBackend()
	if beName != "" {
		if sp := st.byName[beName]; sp != nil {
			be = sp.be
		} else {
			be = nil
		}
	}
	if be == nil {
		return acl.ServerState{}, false
	}
	for _, srv := range be.LB.ServerList() {
		if srv.Name == name {
			ss := acl.ServerState{ID: srv.ID, Up: srv.State() == backend.Up, Conn: int64(srv.Sessions()), Queue: int64(srv.QueueLen()),
				ConnFree: int64(srv.ConnFree()), IWeight: int64(srv.Weight), UWeight: int64(srv.CurWeight())}
			if c := s.e.g.srvCounters(srv); c != nil {
				r, _ := c.sessRate.read(time.Now())
				ss.SessRate = int64(r)
			}
			return ss, true
		}
	}
	return acl.ServerState{}, false
}

// curBackend is the stream's backend once chosen.
func (s *session) curBackend() *Backend {
	if s.be != nil {
		return s.be
	}
	return s.logBe
}

// Timeouts are the backend's server and tunnel timeouts and the stream's
// (cur_server_timeout, cur_tunnel_timeout), as HAProxy's stream holds them.
func (s *session) Timeouts() (server, tunnel, curServer, curTunnel time.Duration, ok bool) {
	be := s.be
	if be == nil {
		be = s.fe.own
	}
	if be == nil {
		return 0, 0, 0, 0, false
	}
	// The stream takes the backend's timeouts once connected to a
	// server (which names the server, and stays after the connection
	// went back to the idle list); before, only what set-timeout gave it.
	curServer, curTunnel = s.toServer, s.toTunnel
	connected := s.sv.c != nil || s.txn.SrvName != ""
	if curServer == 0 && connected {
		curServer = be.Server
	}
	if curTunnel == 0 && connected {
		curTunnel = be.Tunnel
	}
	return be.Server, be.Tunnel, curServer, curTunnel, true
}

// ProxyTLV is a TLV of the connection's PROXY header: its authority
// (fc_pp_authority) or its unique id (fc_pp_unique_id).
func (s *session) ProxyTLV(uniqueID bool) ([]byte, bool) {
	t := s.pps.tlv
	switch {
	case t == nil:
		return nil, false
	case uniqueID:
		return t.uniqueID[:t.uniqueIDLen], t.hasUniqueID
	}
	return t.authority[:t.authorityLen], t.hasAuthority
}
