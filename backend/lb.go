package backend

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"
)

// Algo is a balance algorithm.
type Algo uint8

// Balance algorithms.
const (
	RoundRobin Algo = iota
	StaticRR
	First
	LeastConn
	Source
	URI
	Hdr
	URLParam
	Random
	RDPCookie
)

// HAProxy's weight scales (backend.h): user weights go up to 256 and are
// multiplied by 16 for the dynamic algorithms.
const (
	weightScale = 16
	uwghtRange  = 256
	ewghtMax    = uwghtRange * weightScale
)

// fwrrTree stands for one of HAProxy's eb32 trees: servers ordered by key,
// equal keys in insertion order.
type fwrrTree struct{ nodes []*Server }

func (t *fwrrTree) insert(s *Server, key uint32, seq *uint64) {
	*seq++
	s.key, s.seq, s.tree = key, *seq, t
	i := sort.Search(len(t.nodes), func(i int) bool {
		n := t.nodes[i]
		return n.key > key || n.key == key && n.seq > s.seq
	})
	t.nodes = append(t.nodes, nil)
	copy(t.nodes[i+1:], t.nodes[i:])
	t.nodes[i] = s
}

func (t *fwrrTree) remove(s *Server) {
	for i, n := range t.nodes {
		if n == s {
			t.nodes = append(t.nodes[:i], t.nodes[i+1:]...)
			return
		}
	}
}

func (t *fwrrTree) first() *Server {
	if len(t.nodes) == 0 {
		return nil
	}
	return t.nodes[0]
}

// fwrrGroup is HAProxy's fast weighted round robin state for the active
// or the backup servers (lb_fwrr.c), so that the order of servers is the
// same as HAProxy's for the same weights.
type fwrrGroup struct {
	t0, t1, curr                    fwrrTree
	init, next                      *fwrrTree
	currPos, currWeight, nextWeight int
	seq                             uint64
}

func (g *fwrrGroup) reset(servers []*Server) {
	*g = fwrrGroup{}
	g.init, g.next = &g.t0, &g.t1
	tot := 0
	for _, s := range servers {
		s.tree, s.npos, s.lpos, s.rweight = nil, 0, 0, 0
		tot += s.eweight
	}
	g.currPos, g.currWeight, g.nextWeight = tot, tot, tot
	for _, s := range servers {
		g.queueByWeight(g.init, s)
	}
}

func (g *fwrrGroup) queueByWeight(t *fwrrTree, s *Server) {
	t.insert(s, uint32(ewghtMax-s.eweight), &g.seq)
}

func (g *fwrrGroup) dequeue(s *Server) {
	if s.tree != nil {
		s.tree.remove(s)
		s.tree = nil
	}
}

func (g *fwrrGroup) queue(s *Server) {
	if s.eweight <= 0 || s.npos >= 2*g.currWeight || s.npos >= g.currWeight+g.nextWeight {
		s.npos -= g.currWeight
		g.queueByWeight(g.next, s)
		return
	}
	key := uwghtRange*s.npos + (ewghtMax+s.rweight-s.eweight)/weightScale
	g.curr.insert(s, uint32(key), &g.seq)
}

func (g *fwrrGroup) fromGroup() *Server {
	s := g.curr.first()
	if s == nil || s.npos > g.currPos {
		if s2 := g.init.first(); s2 != nil {
			s2.npos, s2.rweight = 0, 0
			return s2
		}
	}
	// With nothing in init, a server waiting for a later position is
	// still taken, as eb32_first returns it in HAProxy.
	return s
}

func (g *fwrrGroup) updatePosition(s *Server) {
	if s.npos == 0 {
		s.lpos = g.currPos
		s.npos = g.currPos + g.nextWeight/s.eweight
	} else {
		s.lpos = s.npos
		s.npos += g.nextWeight / s.eweight
	}
	s.rweight += g.nextWeight % s.eweight
	if s.rweight >= s.eweight {
		s.rweight -= s.eweight
		s.npos++
	}
}

func (g *fwrrGroup) switchTrees() {
	g.init, g.next = g.next, g.init
	g.currWeight = g.nextWeight
	g.currPos = g.currWeight
}

// pick is fwrr_get_next_server: the next server with a free slot,
// passing over avoid once when another one can be taken.
func (g *fwrrGroup) pick(avoid *Server) *Server {
	switched := false
	var full []*Server
	var srv, avoided *Server
	for {
		if g.currWeight == 0 {
			g.currPos, g.currWeight = g.nextWeight, g.nextWeight
		}
		for {
			srv = g.fromGroup()
			if srv != nil || switched {
				break
			}
			switched = true
			g.switchTrees()
		}
		if srv == nil {
			break
		}
		g.updatePosition(srv)
		g.dequeue(srv)
		g.currPos++
		if srv.hasSlot() {
			if srv != avoid || avoided != nil {
				break
			}
			avoided = srv
		}
		full = append(full, srv)
		srv = nil
	}
	if srv != nil {
		g.queue(srv)
	}
	for _, f := range full {
		if f == srv {
			continue
		}
		if switched {
			g.queueByWeight(g.init, f)
		} else {
			g.queue(f)
		}
	}
	if srv == nil {
		srv = avoided
	}
	return srv
}

// serverMap is HAProxy's map for static-rr and map-based hashing
// (lb_map.c): each server appears weight/gcd times, spread by declaration
// order.
type serverMap struct {
	srv   []*Server
	rrIdx int
}

func (m *serverMap) build(servers []*Server) {
	m.srv = m.srv[:0]
	g := 0
	for _, s := range servers {
		g = gcd(g, s.uw)
	}
	if g == 0 {
		return
	}
	tot := 0
	for _, s := range servers {
		s.wscore = 0
		tot += s.uw / g
	}
	for o := 0; o < tot; o++ {
		var best *Server
		max := 0
		for _, s := range servers {
			if tot == 1 {
				best = s
				break
			}
			s.wscore += s.uw / g
			v := (s.wscore + tot) / tot
			if best == nil || v > max {
				max, best = v, s
			}
		}
		m.srv = append(m.srv, best)
		best.wscore -= tot
	}
	if m.rrIdx >= len(m.srv) {
		m.rrIdx = 0
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// rr is map_get_server_rr, passing over avoid when another server can
// be taken.
func (m *serverMap) rr(avoid *Server) *Server {
	n := len(m.srv)
	if n == 0 {
		return nil
	}
	if m.rrIdx < 0 || m.rrIdx >= n {
		m.rrIdx = 0
	}
	idx := m.rrIdx
	var avoided *Server
	avoidedIdx := 0
	for {
		s := m.srv[idx]
		idx++
		if s.hasSlot() {
			if s != avoid {
				m.rrIdx = idx % n
				return s
			}
			avoided, avoidedIdx = s, idx%n
		}
		if idx == n {
			idx = 0
		}
		if idx == m.rrIdx {
			if avoided != nil {
				m.rrIdx = avoidedIdx
			}
			return avoided
		}
	}
}

func (m *serverMap) hash(h uint32) *Server {
	if len(m.srv) == 0 {
		return nil
	}
	return m.srv[h%uint32(len(m.srv))]
}

// starting reports whether s is in its slowstart, with the whole
// seconds elapsed since it came up and the slowstart in seconds: HAProxy
// counts both in seconds.
func (s *Server) starting(nowSec int64) (elapsed, ss int64, ok bool) {
	since := s.upSince.Load()
	ss = int64((s.Slowstart + time.Second - 1) / time.Second)
	if ss <= 0 || since == 0 {
		return 0, ss, false
	}
	elapsed = nowSec - since
	return elapsed, ss, elapsed >= 0 && elapsed < ss
}

// rampEWeight is server_recalc_eweight: during slowstart, the dynamic
// algorithms see the effective weight grow from 1/16 of the weight, a
// step a second.
func (s *Server) rampEWeight(nowSec int64, dynamic bool) (int, bool) {
	el, ss, ok := s.starting(nowSec)
	if !ok || !dynamic {
		return s.weight() * weightScale, false
	}
	return s.weight() * int((weightScale*el+ss)/ss), true
}

// SourceHash is the hash of a client address for "balance source".
func SourceHash(a netip.Addr) uint32 {
	a = a.Unmap()
	b := a.AsSlice()
	var h uint32
	for i := 0; i+4 <= len(b); i += 4 {
		h ^= uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
	}
	return h
}

// Key carries what a hash algorithm needs from a request.
type Key struct {
	Hash uint32
	// Valid is false when the request lacks what the algorithm hashes
	// (no such header or parameter): HAProxy then falls back to round
	// robin over the map.
	Valid bool
	// PrioClass and PrioOffset place a queued request (set-priority-class,
	// set-priority-offset): a lower class first, then the earlier of
	// queue time plus offset (milliseconds).
	PrioClass, PrioOffset int
	// Waiter, when set, is told when the request waits in a queue and
	// when the wait ends (an HTTP/2 stream gives up its place among the
	// streams at work meanwhile).
	Waiter Waiter
}

// Waiter is told of a wait and of its end, in pairs.
type Waiter interface {
	IOWait()
	IOReady()
}

// hasSlot is the balancers' test of a server they may give a request
// to: no limit, or a free slot and nobody queued for it.
func (s *Server) hasSlot() bool {
	return s.Maxconn == 0 || len(s.queue) == 0 && s.cur < s.dynMaxconn()
}

// loadMaxconn is the limit between minconn and maxconn in proportion to
// the backend's load against fullconn.
func (s *Server) loadMaxconn() int {
	b := s.Backend
	if b == nil || b.Fullconn == 0 || s.Minconn == 0 || s.Minconn >= s.Maxconn {
		return s.Maxconn
	}
	// HAProxy counts every stream assigned to the backend, queued ones
	// and the one being placed included.
	load := 1
	for _, x := range b.Servers {
		load += x.cur
	}
	load += len(b.queue)
	for _, x := range b.Servers {
		load += len(x.queue)
	}
	if load >= b.Fullconn {
		return s.Maxconn
	}
	return max(s.Minconn, load*s.Maxconn/b.Fullconn)
}

// ConnFree is HAProxy's srv_conn_free: the slots left below the
// server's maxconn in force, -1 when it has none.
func (s *Server) ConnFree() int {
	if s.Maxconn == 0 {
		return -1
	}
	s.Backend.mu.Lock()
	free := s.dynMaxconn() - s.cur
	s.Backend.mu.Unlock()
	return max(free, 0)
}

// dynMaxconn is HAProxy's srv_dynamic_maxconn: the limit between minconn
// and maxconn by the backend's load, lowered in proportion during
// slowstart.
func (s *Server) dynMaxconn() int {
	m := s.loadMaxconn()
	if s.Slowstart > 0 {
		if el, ss, ok := s.starting(time.Now().Unix()); ok {
			m = max(1, m*int(100*el/ss)/100)
		}
	}
	return m
}

// group returns the servers that take traffic now: the usable active
// ones, else the first usable backup (all of them with allbackups).
func (b *Backend) groupLocked() []*Server {
	b.act = b.act[:0]
	for _, s := range b.Servers {
		if s.usable() && !s.Backup {
			b.act = append(b.act, s)
		}
	}
	if len(b.act) > 0 {
		return b.act
	}
	for _, s := range b.Servers {
		if s.usable() && s.Backup {
			b.act = append(b.act, s)
			if !b.AllBackups {
				break
			}
		}
	}
	return b.act
}

// fwrrChangeLocked applies a server's change of usability to its round
// robin group as HAProxy's fwrr_set_server_status_down/up do, so that the
// order of servers stays HAProxy's after the change.
func (b *Backend) fwrrChangeLocked(s *Server, was, now bool) {
	if !b.fwrrInit || was == now {
		return
	}
	g := &b.fwrrAct
	if s.Backup {
		g = &b.fwrrBck
	}
	if !now {
		g.nextWeight -= s.eweight
		g.dequeue(s)
		return
	}
	s.eweight = s.weight() * weightScale
	if s.eweight == 0 {
		return
	}
	g.nextWeight += s.eweight
	if s.tree == nil {
		s.npos = g.currPos
	}
	s.npos = g.currPos + (g.nextWeight+g.currWeight-g.currPos)/s.eweight
	g.queue(s)
}

// dynamicWeights reports an algorithm that follows weight changes
// (BE_LB_PROP_DYN): static round robin and map-based hashing keep full
// weights.
func (b *Backend) dynamicWeights() bool {
	return b.Algo != StaticRR && (b.Consistent || b.Algo < Source || b.Algo == Random)
}

// rebuildLocked recomputes the balancing state after a change of the
// usable servers.
func (b *Backend) rebuildLocked() {
	grp := b.groupLocked()
	b.groupKey = b.groupKey[:0]
	b.groupKey = append(b.groupKey, grp...)
	b.rampSec = time.Now().Unix()
	b.ramping = false
	dynamic := b.dynamicWeights()
	// Every usable server's weight, not only the group's: round robin
	// keeps both the active and the backup groups.
	for _, s := range b.Servers {
		if s.usable() {
			var ramp bool
			s.uw = s.weight()
			s.eweight, ramp = s.rampEWeight(b.rampSec, dynamic)
			b.ramping = b.ramping || ramp
		}
	}
	// Round robin keeps HAProxy's incremental state across servers going
	// down and up (fwrrChangeLocked); it starts over only at first use
	// and while a slowstart changes weights.
	if !b.fwrrInit || b.ramping || b.wasRamping {
		var act, bck []*Server
		for _, s := range b.Servers {
			switch {
			case !s.usable():
			case s.Backup:
				bck = append(bck, s)
			default:
				act = append(act, s)
			}
		}
		b.fwrrAct.reset(act)
		b.fwrrBck.reset(bck)
		b.fwrrInit = true
	}
	b.wasRamping = b.ramping
	b.smap.build(grp)
	if b.Consistent {
		b.chash.build(grp)
	}
	b.dirty = false
}

func (b *Backend) sameGroupLocked() bool {
	grp := b.groupLocked()
	if len(grp) != len(b.groupKey) {
		return false
	}
	for i, s := range grp {
		if b.groupKey[i] != s {
			return false
		}
	}
	return true
}

// pickLocked chooses a server for the algorithm. A balancer skips full
// servers and returns nil when all are; a hash returns its server even
// when full (assigned), for the request to wait in that server's queue.
// anyUsable says whether some server could take traffic at all.
func (b *Backend) pickLocked(k Key, avoid *Server) (s *Server, assigned, anyUsable bool) {
	if b.dirty || b.ramping && time.Now().Unix() != b.rampSec || !b.sameGroupLocked() {
		b.rebuildLocked()
	}
	grp := b.groupKey
	if len(grp) == 0 {
		return nil, false, false
	}
	switch b.Algo {
	case RoundRobin:
		switch {
		case !grp[0].Backup:
			return b.fwrrAct.pick(avoid), false, true
		case b.AllBackups:
			return b.fwrrBck.pick(avoid), false, true
		}
		// The first backup alone serves, as HAProxy's fbck.
		if grp[0].hasSlot() {
			return grp[0], false, true
		}
		return nil, false, true
	case StaticRR:
		return b.smap.rr(avoid), false, true
	case First:
		for _, s := range grp {
			if s.hasSlot() && s != avoid {
				return s, false, true
			}
		}
		if avoid != nil && avoid.usable() && avoid.hasSlot() {
			return avoid, false, true
		}
		return nil, false, true
	case LeastConn:
		var best *Server
		for _, s := range grp {
			if !s.hasSlot() || s == avoid && len(grp) > 1 {
				continue
			}
			if best == nil || s.cur*best.eweight < best.cur*s.eweight ||
				s.cur*best.eweight == best.cur*s.eweight && s.lcSeq < best.lcSeq {
				best = s
			}
		}
		return best, false, true
	case Random:
		// Draws random servers by weight, the least loaded one wins
		// (HAProxy draws 2 unless told otherwise).
		var best *Server
		for i := 0; i < max(b.Draws, 1); i++ {
			s := weightedRandom(grp)
			if s == avoid && len(grp) > 1 {
				i--
				continue
			}
			if s != nil && (best == nil || s.cur*best.weight() < best.cur*s.weight()) {
				best = s
			}
		}
		return best, true, true
	}
	if b.Consistent {
		if !k.Valid {
			return b.chash.next(avoid), false, true
		}
		var ok func(*Server) bool
		switch {
		case b.BalanceFactor > 0:
			ok = func(s *Server) bool { return s != avoid && b.eligible(s) }
		case avoid != nil:
			ok = func(s *Server) bool { return s != avoid }
		}
		return b.chash.lookup(k.Hash, ok), true, true
	}
	if !k.Valid && len(grp) > 1 {
		return b.smap.rr(avoid), false, true
	}
	// A single server is used without hashing, as HAProxy does.
	return b.smap.hash(k.Hash), true, true
}

func weightedRandom(grp []*Server) *Server {
	tot := 0
	for _, s := range grp {
		tot += s.weight()
	}
	if tot == 0 {
		return nil
	}
	n := rand.IntN(tot)
	for _, s := range grp {
		if n < s.weight() {
			return s
		}
		n -= s.weight()
	}
	return nil
}
