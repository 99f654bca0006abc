package stick

import (
	"container/heap"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Clock returns HAProxy's now_ms: a date in milliseconds that wraps at 2^32.
type Clock func() uint32

// SystemClock is the wall clock in milliseconds modulo 2^32, as HAProxy 2.6
// derives now_ms from the date.
func SystemClock() uint32 { return uint32(time.Now().UnixMilli()) }

const nShards = 32

// shard is one slice of the key index. Lookups of existing keys only take
// its read lock.
type shard struct {
	mu sync.RWMutex
	m  map[string]*Entry
	_  [40]byte // keeps shards on separate cache lines
}

// Table is a stick table. Its methods are safe for concurrent use. A nil
// *Table has no entries and creates none.
type Table struct {
	cfg    Config
	now    Clock
	seed   maphash.Seed
	shards [nShards]shard

	// slot is the index of each stored data type's first element in
	// Entry.vals (or Entry.frq for rates), -1 when not stored.
	slot   [NumDataTypes]int16
	nvals  int
	nfrq   int
	nwords int

	// mu guards exps, current, seq and every Entry's expKey, hidx and seq.
	// It is taken before a shard lock, never after.
	mu      sync.Mutex
	exps    expHeap
	current int
	seq     uint64

	// sync is the update log of a table shared with peers, nil otherwise.
	sync *syncLog
}

// Entry is a stick table entry (HAProxy's stksess). Entries returned by
// Get, Track and Lookup are referenced and must be released with Release.
type Entry struct {
	t      *Table
	key    string
	ref    atomic.Int32
	expire atomic.Uint32

	expKey uint32 // expiry date the entry is queued under, lags expire
	hidx   int32  // position in the expiry queue, -1 once removed
	seq    uint64 // queue order among equal dates

	mu sync.Mutex
	// val0 is the first of t.nwords words: the counters, then past
	// t.nvals the rates' FreqCtr words (frqs). One allocation for both,
	// reached by a pointer and not a slice, keeps entries small.
	val0 *uint64
	// srvKey is server_key, nil when not set: a pointer keeps the
	// entries of the tables that do not store it small.
	srvKey *string

	// updID and inLog are the entry's place in the update log, under
	// the log's lock.
	updID uint32
	inLog bool
}

// New returns an empty table for cfg. now is the clock; nil means
// SystemClock.
func New(cfg Config, now Clock) *Table {
	if now == nil {
		now = SystemClock
	}
	if cfg.KeySize == 0 && int(cfg.Type) < len(defaultKeySize) {
		cfg.KeySize = defaultKeySize[cfg.Type]
		if cfg.Type == KeyString {
			cfg.KeySize++
		}
	}
	t := &Table{cfg: cfg, now: now, seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*Entry)
	}
	for dt := DataType(0); dt < NumDataTypes; dt++ {
		t.slot[dt] = -1
		s := cfg.Store[dt]
		if !s.On {
			continue
		}
		n := max(s.Elems, 1)
		t.cfg.Store[dt].Elems = n
		switch dataTypes[dt].std {
		case stdFreq:
			t.slot[dt] = int16(t.nfrq)
			t.nfrq += n
		case stdDict:
			t.slot[dt] = 0
		default:
			t.slot[dt] = int16(t.nvals)
			t.nvals += n
		}
	}
	t.nwords = t.nvals + (t.nfrq*int(unsafe.Sizeof(FreqCtr{}))+7)/8
	return t
}

// Name returns the table's id.
func (t *Table) Name() string { return t.cfg.Name }

// Config returns the table's configuration.
func (t *Table) Config() Config { return t.cfg }

// Type returns the key type.
func (t *Table) Type() KeyType { return t.cfg.Type }

// Stores reports whether the table stores data type dt.
func (t *Table) Stores(dt DataType) bool { return t != nil && dt < NumDataTypes && t.slot[dt] >= 0 }

// Used returns the number of entries, as "used:" of "show table".
func (t *Table) Used() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// Now returns the table clock's date.
func (t *Table) Now() uint32 { return t.now() }

func (t *Table) shardFor(b []byte) *shard {
	return &t.shards[maphash.Bytes(t.seed, b)%nShards]
}

func (t *Table) shardForKey(s string) *shard {
	return &t.shards[maphash.String(t.seed, s)%nShards]
}

// tickAdd is HAProxy's tick_add: 0 means "never", so it is skipped.
func tickAdd(now, timeout uint32) uint32 {
	if r := now + timeout; r != 0 {
		return r
	}
	return 1
}

// expired is tick_is_expired.
func expired(exp, now uint32) bool { return exp != 0 && int32(exp-now) <= 0 }

// remain is tick_remain.
func remain(now, exp uint32) int32 {
	if expired(exp, now) {
		return 0
	}
	return int32(exp - now)
}

// dead reports whether HAProxy's expiry task would have removed e by now.
func (t *Table) dead(e *Entry, now uint32) bool {
	return t.cfg.Expire != 0 && e.ref.Load() == 0 && expired(e.expire.Load(), now)
}

// find returns the stored form of k, its shard, the date, and the live
// entry for it, referenced, or nil. b is nil when k does not fit the table.
func (t *Table) find(k *Key, scratch *[64]byte) (b []byte, sh *shard, now uint32, e *Entry) {
	b = t.normalize(k, scratch)
	if b == nil {
		return nil, nil, 0, nil
	}
	now = t.now()
	sh = t.shardFor(b)
	sh.mu.RLock()
	e = t.refLive(sh.m[string(b)], now)
	sh.mu.RUnlock()
	return b, sh, now, e
}

// Lookup returns the live entry for k, referenced, or nil
// (stktable_lookup_key).
func (t *Table) Lookup(k *Key) *Entry {
	if t == nil {
		return nil
	}
	var scratch [64]byte
	_, _, _, e := t.find(k, &scratch)
	return e
}

// Get returns the entry for k, referenced, creating it when missing
// (stktable_get_entry). It returns nil when k does not fit the table or
// the table is full and nothing can be purged; HAProxy then silently does
// not track.
func (t *Table) Get(k *Key) *Entry {
	if t == nil {
		return nil
	}
	var scratch [64]byte
	b, sh, now, e := t.find(k, &scratch)
	if e != nil || b == nil {
		return e
	}
	return t.create(b, sh, now)
}

// Track is Get followed by StartCounters: what track-sc0/1/2 does on a
// newly tracked key.
func (t *Table) Track(k *Key) *Entry {
	e := t.Get(k)
	if e != nil {
		e.StartCounters()
	}
	return e
}

func (t *Table) create(b []byte, sh *shard, now uint32) *Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	sh.mu.Lock()
	if e := sh.m[string(b)]; e != nil {
		if !t.dead(e, now) {
			e.ref.Add(1)
			sh.mu.Unlock()
			return e
		}
		t.unlinkLocked(sh, e)
	}
	sh.mu.Unlock()
	if t.current >= int(t.cfg.Size) {
		if t.cfg.NoPurge || t.trashOldest(int(t.cfg.Size>>8)+1) == 0 {
			return nil
		}
	}
	e := &Entry{t: t, key: string(b)}
	if t.nwords > 0 {
		e.val0 = &make([]uint64, t.nwords)[0]
	}
	e.expire.Store(tickAdd(now, t.cfg.Expire))
	e.expKey = e.expire.Load()
	e.ref.Store(1)
	sh.mu.Lock()
	sh.m[e.key] = e
	sh.mu.Unlock()
	t.queueLocked(e)
	t.current++
	return e
}

// srvKeyText is server_key, "" when not set.
func (e *Entry) srvKeyText() string {
	if e.srvKey == nil {
		return ""
	}
	return *e.srvKey
}

// vals are the entry's words.
func (e *Entry) vals() []uint64 { return unsafe.Slice(e.val0, e.t.nwords) }

// frqs are the entry's rates, stored after its counters.
func (e *Entry) frqs() []FreqCtr {
	n := e.t.nfrq
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*FreqCtr)(unsafe.Pointer(&e.vals()[e.t.nvals])), n)
}

func (t *Table) queueLocked(e *Entry) {
	t.seq++
	e.seq = t.seq
	heap.Push(&t.exps, e)
}

// unlinkLocked removes e from the table; t.mu and sh.mu are held.
func (t *Table) unlinkLocked(sh *shard, e *Entry) {
	delete(sh.m, e.key)
	if e.hidx >= 0 {
		heap.Remove(&t.exps, int(e.hidx))
	}
	e.hidx = -1
	t.current--
	if t.sync != nil {
		t.sync.forget(e)
	}
}

// trashOldest removes up to batch unreferenced entries, oldest expiry date
// first, looking at no more than twice as many (__stktable_trash_oldest).
// Entries touched since they were queued are queued again instead.
func (t *Table) trashOldest(batch int) int { return t.sweep(0, batch, false) }

// Purge removes the unreferenced entries past their expiry date, as
// HAProxy's expiry task does (stktable_trash_expired), and returns how many
// it removed. Tables without "expire" never expire entries.
func (t *Table) Purge() int {
	if t == nil || t.cfg.Expire == 0 {
		return 0
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sweep(now, -1, true)
}

// sweep walks the expiry queue from its oldest date and removes
// unreferenced entries: up to batch of them (no limit when negative) with
// at most twice as many looked at, or with onlyExpired those expired at
// now, stopping at the first date in the future. An entry whose expiry
// moved since it was queued is queued again at its new date; t.mu is held.
func (t *Table) sweep(now uint32, batch int, onlyExpired bool) int {
	maxSearch, done := batch*2, 0
	var aside []*Entry
	for t.exps.Len() > 0 && (batch < 0 || done < batch) {
		if batch >= 0 {
			if maxSearch--; maxSearch < 0 {
				break
			}
		}
		e := t.exps.items[0]
		if onlyExpired && int32(now-e.expKey) < 0 {
			break
		}
		sh := t.shardForKey(e.key)
		sh.mu.Lock()
		if e.ref.Load() != 0 {
			sh.mu.Unlock()
			heap.Pop(&t.exps)
			aside = append(aside, e)
			continue
		}
		exp := e.expire.Load()
		if requeue := exp != e.expKey && !(onlyExpired && expired(exp, now)); requeue {
			sh.mu.Unlock()
			heap.Pop(&t.exps)
			e.expKey = exp
			t.queueLocked(e)
			continue
		}
		t.unlinkLocked(sh, e)
		sh.mu.Unlock()
		done++
	}
	// entries set aside go back in their former order
	for _, e := range aside {
		heap.Push(&t.exps, e)
	}
	return done
}

// NextExpiry returns the earliest date at which Purge may remove an entry,
// for a caller scheduling purges; ok is false when nothing is queued.
func (t *Table) NextExpiry() (date uint32, ok bool) {
	if t == nil || t.cfg.Expire == 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exps.Len() == 0 {
		return 0, false
	}
	return t.exps.items[0].expKey, true
}

// remove deletes e if it is still in the table and unreferenced; it reports
// whether it did (__stksess_kill).
func (t *Table) remove(e *Entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	sh := t.shardForKey(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.ref.Load() != 0 || e.hidx < 0 {
		return false
	}
	t.unlinkLocked(sh, e)
	return true
}

// Release drops a reference taken by Get, Track or Lookup, and removes the
// entry when it was the last one and the entry has expired
// (stksess_kill_if_expired).
func (e *Entry) Release() {
	if e == nil || e.ref.Add(-1) != 0 {
		return
	}
	t := e.t
	if t.cfg.Expire != 0 && expired(e.expire.Load(), t.now()) {
		t.remove(e)
	}
}

// Refs returns the number of references held, "use=" of "show table".
func (e *Entry) Refs() int { return int(e.ref.Load()) }

// Expire returns the entry's expiry date.
func (e *Entry) Expire() uint32 { return e.expire.Load() }

// Table returns the entry's table.
func (e *Entry) Table() *Table { return e.t }

// KeyBytes returns the entry's stored key.
func (e *Entry) KeyBytes() []byte { return []byte(e.key) }

// touch refreshes the expiry date (stktable_touch_local).
func (e *Entry) touch(now uint32) {
	e.expire.Store(tickAdd(now, e.t.cfg.Expire))
	if s := e.t.sync; s != nil {
		s.logLocal(e)
	}
}

// expHeap orders entries by queued expiry date (wrapping), then by the
// order they were queued in, as HAProxy's expiry tree does.
type expHeap struct{ items []*Entry }

func (h *expHeap) Len() int { return len(h.items) }
func (h *expHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if d := int32(a.expKey - b.expKey); d != 0 {
		return d < 0
	}
	return a.seq < b.seq
}
func (h *expHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].hidx = int32(i)
	h.items[j].hidx = int32(j)
}
func (h *expHeap) Push(x any) {
	e := x.(*Entry)
	e.hidx = int32(len(h.items))
	h.items = append(h.items, e)
}
func (h *expHeap) Pop() any {
	n := len(h.items) - 1
	e := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	e.hidx = -1
	return e
}

// LookupEntry returns the live entry of t whose key has the bytes of o's
// key, referenced, or nil (stktable_lookup): what sc_* fetches with a
// table argument read. As in HAProxy the stored bytes are compared, cut at
// the first NUL and to the key length for string tables, cut or padded
// with zeros to the key size otherwise.
func (t *Table) LookupEntry(o *Entry) *Entry {
	if t == nil || o == nil {
		return nil
	}
	k := o.key
	var pad [64]byte
	if t.cfg.Type == KeyString {
		if i := strings.IndexByte(k, 0); i >= 0 {
			k = k[:i]
		}
		k = k[:min(len(k), t.cfg.KeySize-1)]
	} else if len(k) >= t.cfg.KeySize {
		k = k[:t.cfg.KeySize]
	} else if t.cfg.KeySize <= len(pad) {
		copy(pad[:], k)
		return t.lookupBytes(pad[:t.cfg.KeySize])
	} else {
		b := make([]byte, t.cfg.KeySize)
		copy(b, k)
		return t.lookupBytes(b)
	}
	now := t.now()
	sh := t.shardForKey(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return t.refLive(sh.m[k], now)
}

func (t *Table) lookupBytes(b []byte) *Entry {
	now := t.now()
	sh := t.shardFor(b)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return t.refLive(sh.m[string(b)], now)
}

// refLive references e and returns it if it is live; the shard's lock is
// held.
func (t *Table) refLive(e *Entry, now uint32) *Entry {
	if e == nil || t.dead(e, now) {
		return nil
	}
	e.ref.Add(1)
	return e
}
