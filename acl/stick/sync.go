package stick

import (
	"slices"
	"sync"
)

// Synchronization with peers (HAProxy's table->updates tree and
// stktable_touch_local/remote): a shared table numbers every local change
// of an entry, so that a peer session can push the changes after the last
// one it pushed, and keeps the entries learned from peers in the log too,
// numbered past 2^31, so that a full resync teaches them.

// syncLog is a shared table's update log.
type syncLog struct {
	mu sync.Mutex
	// update is the last number given; local the last given to a local
	// change (localupdate).
	update, local uint32
	byID          map[uint32]*Entry
	notify        func()
}

// Share makes t a table synchronized with peers; notify is called, from
// any goroutine and without blocking, after each local change. It must be
// called before the table is used.
func (t *Table) Share(notify func()) {
	t.sync = &syncLog{byID: make(map[uint32]*Entry), notify: notify}
	for _, c := range *t.dir.Load() {
		c.upd = make([]updSlot, c.n)
	}
}

// Shared reports whether Share was called.
func (t *Table) Shared() bool { return t != nil && t.sync != nil }

// LocalUpdate returns the number of the last local change.
func (t *Table) LocalUpdate() uint32 {
	s := t.sync
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

// updSlot is an entry's place in the update log, under the log's lock.
type updSlot struct {
	id uint32
	in bool
}

// upd returns e's place in the update log.
func (e *Entry) upd() *updSlot { return &e.chunk().upd[e.off] }

// logLocal numbers a local change of e (the local case of
// __stktable_touch_with_exp).
func (s *syncLog) logLocal(e *Entry) {
	s.mu.Lock()
	u := e.upd()
	if u.in {
		delete(s.byID, u.id)
	}
	s.update++
	s.local = s.update
	u.id, u.in = s.update, true
	s.byID[u.id] = e
	s.mu.Unlock()
	s.notify()
}

// logRemote puts an entry learned from a peer in the log if it is not:
// its number is out of the range of local changes.
func (s *syncLog) logRemote(e *Entry) {
	s.mu.Lock()
	if u := e.upd(); !u.in {
		s.update++
		u.id, u.in = s.update+1<<31, true
		s.byID[u.id] = e
	}
	s.mu.Unlock()
}

// detach removes e from the log when it leaves the table, unless a peer
// session referenced it from the log since the caller checked that it
// holds the only held references: the log's references are taken under
// the log's lock.
func (s *syncLog) detach(e *Entry, held int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.ref.Load() != held {
		return false
	}
	if u := e.upd(); u.in {
		if s.byID[u.id] == e {
			delete(s.byID, u.id)
		}
		u.in = false
	}
	return true
}

// Update is an entry of the update log, referenced; the caller releases
// Entry.
type Update struct {
	ID    uint32
	Entry *Entry
}

// LocalUpdates returns the local changes numbered after from, up to the
// last one, in order, and that last number (peer_teach_process_stksess_lookup).
func (t *Table) LocalUpdates(from uint32, max int) ([]Update, uint32) {
	s := t.sync
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Update
	span := s.local - from
	if int32(span) <= 0 {
		return nil, s.local
	}
	if int(span) <= 2*len(s.byID)+64 {
		for id := from + 1; int32(id-s.local) <= 0 && len(out) < max; id++ {
			if e := s.byID[id]; e != nil {
				e.ref.Add(1)
				out = append(out, Update{id, e})
			}
		}
		return out, s.local
	}
	for id, e := range s.byID {
		if d := id - from; int32(d) > 0 && d <= span {
			out = append(out, Update{id, e})
		}
	}
	slices.SortFunc(out, func(a, b Update) int { return int(int32(a.ID - b.ID)) })
	if len(out) > max {
		out = out[:max]
	}
	for _, u := range out {
		u.Entry.ref.Add(1)
	}
	return out, s.local
}

// AllUpdates returns every entry of the log, referenced, in number order
// starting after from, for a full resync (teach stages 1 and 2).
func (t *Table) AllUpdates(from uint32) []Update {
	s := t.sync
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Update, 0, len(s.byID))
	for id, e := range s.byID {
		e.ref.Add(1)
		out = append(out, Update{id, e})
	}
	slices.SortFunc(out, func(a, b Update) int {
		x, y := a.ID-from-1, b.ID-from-1
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}

// WireKind is how the peers protocol carries a data type.
type WireKind uint8

// Wire kinds.
const (
	WireInt WireKind = iota
	WireFreq
	WireDict
)

// Wire returns how the peers protocol carries d.
func (d DataType) Wire() WireKind {
	switch dataTypes[d].std {
	case stdFreq:
		return WireFreq
	case stdDict:
		return WireDict
	}
	return WireInt
}

// IsLocal reports whether d is never learned from peers (conn_cur).
func (d DataType) IsLocal() bool { return d < NumDataTypes && dataTypes[d].local }

// PeerData calls fn for each stored element, in data type order, with the
// value a peer update carries: integers as HAProxy's intencode receives
// them (server_id sign-extended), rates as counters, server_key as text.
func (e *Entry) PeerData(fn func(dt DataType, v uint64, f FreqCtr, s string)) {
	t := e.tab()
	e.mu.Lock()
	defer e.mu.Unlock()
	for dt := DataType(0); dt < NumDataTypes; dt++ {
		if t.slot[dt] < 0 {
			continue
		}
		info := dataTypes[dt]
		for idx := 0; idx < t.cfg.Store[dt].Elems; idx++ {
			s := int(t.slot[dt]) + idx*info.std.words()
			switch info.std {
			case stdFreq:
				fn(dt, 0, *e.frq(s), "")
			case stdDict:
				fn(dt, 0, FreqCtr{}, e.srvKeyText())
			case stdSint:
				fn(dt, uint64(int64(int32(e.raw(s, stdSint)))), FreqCtr{}, "")
			default:
				fn(dt, e.raw(s, info.std), FreqCtr{}, "")
			}
		}
	}
}

// Value is an element learned from a peer.
type Value struct {
	DT  DataType
	Idx int
	Int uint64
	// Freq is a rate with CurrTick already on the local clock.
	Freq FreqCtr
	Str  string
}

// ApplyRemote stores an update learned from a peer (peer_treat_updatemsg):
// the entry of k, created if needed, takes the values the table stores,
// except local ones, and expires expire ms from now. It reports whether the
// entry could be stored.
func (t *Table) ApplyRemote(k *Key, expire uint32, vals []Value) bool {
	e := t.Get(k)
	if e == nil {
		return false
	}
	now := t.now()
	e.mu.Lock()
	for _, v := range vals {
		if v.DT >= NumDataTypes || t.slot[v.DT] < 0 || dataTypes[v.DT].local || v.Idx >= t.cfg.Store[v.DT].Elems {
			continue
		}
		std := dataTypes[v.DT].std
		s := int(t.slot[v.DT]) + v.Idx*std.words()
		switch std {
		case stdFreq:
			*e.frq(s) = v.Freq
		case stdDict:
			e.chunk().srv[e.off] = v.Str
		default:
			e.setRaw(s, std, v.Int)
		}
	}
	e.mu.Unlock()
	exp := tickAdd(now, expire)
	e.expire.Store(exp)
	t.mu.Lock()
	if e.hidx >= 0 && int32(exp-e.expKey) < 0 {
		// an earlier date than queued: requeue so the purge sees it
		e.expKey = exp
		t.exps.fix(int(e.hidx))
	}
	t.mu.Unlock()
	t.sync.logRemote(e)
	e.Release()
	return true
}

// PeerKey returns the key of an update's key bytes: the stored form for
// ip, ipv6, string and binary tables, the host order integer for integer
// tables (the wire carries it in network order).
func (t *Table) PeerKey(b []byte) Key {
	switch t.cfg.Type {
	case KeyIP, KeyIPv6:
		var k Key
		n := copy(k.fixed[:], b)
		k.n, k.typ = uint8(n), t.cfg.Type
		return k
	case KeyInteger:
		var k Key
		if len(b) == 4 {
			k.fixed[0], k.fixed[1], k.fixed[2], k.fixed[3] = b[3], b[2], b[1], b[0]
		}
		k.n, k.typ = 4, KeyInteger
		return k
	}
	return BytesKey(b)
}
