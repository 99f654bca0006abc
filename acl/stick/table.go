package stick

import (
	"bytes"
	"hash/maphash"
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

// nShards is the number of index shards: a shard is what one growth of
// the index rehashes, so it stays small next to the table.
const nShards = 64

// shard is one slice of the key index: an open-addressing table of entry
// indexes plus one (0 is an empty slot), probed linearly from the key's
// hash. Lookups of existing keys only take its read lock.
type shard struct {
	mu    sync.RWMutex
	slots []uint32
	n     int
	_     [8]byte // keeps shards on separate cache lines
}

// chunkLen is the number of entries of a chunk: with its head, a chunk
// fills the 32 KiB size class.
const chunkLen = 1020

// chunk holds consecutive entries of a table and, in parallel arrays
// without pointers, their data and keys. Chunks are allocated as the table
// fills and kept: freed entries are reused. An entry finds its chunk from
// its own address, so entries carry no pointer.
type chunk struct {
	t      *Table
	base   uint32   // index of ents[0]
	n      uint32   // entries the table's size leaves to the chunk
	stride int      // Table.stride
	data   []uint32 // stride words per entry
	keys   []byte   // Config.KeySize bytes per entry, zero padded
	srv    []string // server_key, when stored
	upd    []updSlot
	ents   [chunkLen]Entry
}

// Table is a stick table. Its methods are safe for concurrent use. A nil
// *Table has no entries and creates none.
type Table struct {
	cfg    Config
	now    Clock
	seed   maphash.Seed
	shards [nShards]shard

	// slot is the offset in an entry's data words of each stored data
	// type's first element, -1 when not stored. Elements take 1 word
	// (sint, uint), 2 (ull) or 3 (rates).
	slot   [NumDataTypes]int16
	stride int

	// dir lists the chunks; it only grows, under mu, and readers load it
	// without locking.
	dir atomic.Pointer[[]*chunk]

	// mu guards exps, current, seq, nalloc, free, dir's growth and every
	// Entry's expKey, hidx and seq. It is taken before a shard lock,
	// never after.
	mu      sync.Mutex
	exps    expHeap
	current int
	seq     uint32
	nalloc  uint32 // entries carved from chunks so far
	free    uint32 // first free entry's index plus one, 0 for none

	// sync is the update log of a table shared with peers, nil otherwise.
	sync *syncLog
}

// Entry is a stick table entry (HAProxy's stksess). Entries returned by
// Get, Track and Lookup are referenced and must be released with Release;
// a released entry may be reused for another key.
type Entry struct {
	mu     sync.Mutex // guards the entry's data
	ref    atomic.Int32
	expire atomic.Uint32
	off    uint32 // place in its chunk

	expKey uint32 // expiry date the entry is queued under, lags expire
	hidx   int32  // position in the expiry queue, -1 when not in the table
	seq    uint32 // queue order among equal dates; next free index plus one while free
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
	t.exps.t = t
	t.dir.Store(new([]*chunk))
	for dt := DataType(0); dt < NumDataTypes; dt++ {
		t.slot[dt] = -1
		s := cfg.Store[dt]
		if !s.On {
			continue
		}
		n := max(s.Elems, 1)
		t.cfg.Store[dt].Elems = n
		if w := dataTypes[dt].std.words(); w > 0 {
			t.slot[dt] = int16(t.stride)
			t.stride += n * w
		} else {
			t.slot[dt] = 0
		}
	}
	return t
}

// words is the number of 32-bit data words an element takes.
func (s stdType) words() int {
	switch s {
	case stdULL:
		return 2
	case stdFreq:
		return int(unsafe.Sizeof(FreqCtr{}) / 4)
	case stdDict:
		return 0
	}
	return 1
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

func (t *Table) hash(b []byte) uint64 { return maphash.Bytes(t.seed, b) }

func (t *Table) shardOf(h uint64) *shard { return &t.shards[h%nShards] }

// entry returns the entry of index i.
func (t *Table) entry(i uint32) *Entry {
	return &(*t.dir.Load())[i/chunkLen].ents[i%chunkLen]
}

// chunk returns the chunk holding e.
func (e *Entry) chunk() *chunk {
	return (*chunk)(unsafe.Add(unsafe.Pointer(e), -int(uintptr(e.off)*unsafe.Sizeof(Entry{})+unsafe.Offsetof(chunk{}.ents))))
}

// tab returns e's table.
func (e *Entry) tab() *Table { return e.chunk().t }

// index returns e's index in its table.
func (e *Entry) index() uint32 { return e.chunk().base + e.off }

// keyBytes returns the stored key, in the chunk's memory: cut at the
// padding NUL for string tables.
func (e *Entry) keyBytes() []byte {
	c := e.chunk()
	n := c.t.cfg.KeySize
	k := c.keys[int(e.off)*n : int(e.off+1)*n : int(e.off+1)*n]
	if c.t.cfg.Type == KeyString {
		if i := bytes.IndexByte(k, 0); i >= 0 {
			k = k[:i]
		}
	}
	return k
}

// keyIs reports whether e's stored key is b, a normalized key.
func (t *Table) keyIs(e *Entry, b []byte) bool {
	c := e.chunk()
	n := t.cfg.KeySize
	k := c.keys[int(e.off)*n : int(e.off+1)*n]
	if len(b) == n {
		return string(k) == string(b)
	}
	return len(b) < n && k[len(b)] == 0 && string(k[:len(b)]) == string(b)
}

// lookup returns the entry stored under b, of hash h, or nil; the shard's
// lock is held.
func (sh *shard) lookup(t *Table, b []byte, h uint64) *Entry {
	if sh.n == 0 {
		return nil
	}
	mask := uint64(len(sh.slots) - 1)
	for i := (h >> 32) & mask; ; i = (i + 1) & mask {
		v := sh.slots[i]
		if v == 0 {
			return nil
		}
		if e := t.entry(v - 1); t.keyIs(e, b) {
			return e
		}
	}
}

// insert adds entry index i of hash h; the shard's write lock is held and
// the key is not there. The slots double past three quarters full.
func (sh *shard) insert(t *Table, i uint32, h uint64) {
	if (sh.n+1)*4 > len(sh.slots)*3 {
		old := sh.slots
		sh.slots = make([]uint32, max(8, 2*len(old)))
		for _, v := range old {
			if v != 0 {
				sh.place(v, t.hash(t.entry(v-1).keyBytes()))
			}
		}
	}
	sh.place(i+1, h)
	sh.n++
}

func (sh *shard) place(v uint32, h uint64) {
	mask := uint64(len(sh.slots) - 1)
	j := (h >> 32) & mask
	for sh.slots[j] != 0 {
		j = (j + 1) & mask
	}
	sh.slots[j] = v
}

// delete removes entry index i of hash h, shifting back the entries that
// follow it in its probe run so that no lookup crosses a hole.
func (sh *shard) delete(t *Table, i uint32, h uint64) {
	mask := uint64(len(sh.slots) - 1)
	j := (h >> 32) & mask
	for sh.slots[j] != i+1 {
		j = (j + 1) & mask
	}
	for k := (j + 1) & mask; sh.slots[k] != 0; k = (k + 1) & mask {
		home := (t.hash(t.entry(sh.slots[k]-1).keyBytes()) >> 32) & mask
		// the entry at k may fill the hole at j unless its home lies
		// cyclically in (j, k]
		if (k > j && (home <= j || home > k)) || (k < j && home <= j && home > k) {
			sh.slots[j] = sh.slots[k]
			j = k
		}
	}
	sh.slots[j] = 0
	sh.n--
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

// find returns the stored form of k, its hash, the date, and the live
// entry for it, referenced, or nil. b is nil when k does not fit the table.
func (t *Table) find(k *Key, scratch *[64]byte) (b []byte, h uint64, now uint32, e *Entry) {
	b = t.normalize(k, scratch)
	if b == nil {
		return nil, 0, 0, nil
	}
	now = t.now()
	h = t.hash(b)
	sh := t.shardOf(h)
	sh.mu.RLock()
	e = t.refLive(sh.lookup(t, b, h), now)
	sh.mu.RUnlock()
	return b, h, now, e
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
	b, h, now, e := t.find(k, &scratch)
	if e != nil || b == nil {
		return e
	}
	return t.create(b, h, now)
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

func (t *Table) create(b []byte, h uint64, now uint32) *Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	sh := t.shardOf(h)
	sh.mu.Lock()
	if e := sh.lookup(t, b, h); e != nil {
		if !t.dead(e, now) || !t.unlinkLocked(sh, e, 0) {
			e.ref.Add(1)
			sh.mu.Unlock()
			return e
		}
	}
	sh.mu.Unlock()
	if t.current >= int(t.cfg.Size) {
		if t.cfg.NoPurge || t.trashOldest(int(t.cfg.Size>>8)+1) == 0 {
			return nil
		}
	}
	e := t.allocLocked()
	c := e.chunk()
	copy(c.keys[int(e.off)*t.cfg.KeySize:], b)
	e.expire.Store(tickAdd(now, t.cfg.Expire))
	e.expKey = e.expire.Load()
	e.ref.Store(1)
	sh.mu.Lock()
	sh.insert(t, c.base+e.off, h)
	sh.mu.Unlock()
	t.queueLocked(e)
	t.current++
	return e
}

// allocLocked returns a zeroed entry, from the free list or carved from
// the last chunk, allocating a chunk when needed; t.mu is held.
func (t *Table) allocLocked() *Entry {
	if t.free != 0 {
		e := t.entry(t.free - 1)
		t.free, e.seq = e.seq, 0
		return e
	}
	i := t.nalloc
	if i%chunkLen == 0 {
		// the arrays of a small table's only chunk are cut to its size
		n := min(chunkLen, int(t.cfg.Size-i))
		c := &chunk{t: t, base: i, n: uint32(n), stride: t.stride}
		c.data = make([]uint32, n*t.stride)
		c.keys = make([]byte, n*t.cfg.KeySize)
		if t.Stores(ServerKey) {
			c.srv = make([]string, n)
		}
		if t.sync != nil {
			c.upd = make([]updSlot, n)
		}
		for j := range c.ents {
			c.ents[j].off = uint32(j)
			c.ents[j].hidx = -1
		}
		// readers keep the directory they loaded: append may write past
		// their length only
		d := append(*t.dir.Load(), c)
		t.dir.Store(&d)
	}
	t.nalloc++
	return t.entry(i)
}

// freeLocked clears e and puts it on the free list; t.mu is held and e
// is out of the index, the queue and the update log.
func (t *Table) freeLocked(e *Entry) {
	c := e.chunk()
	clear(e.data())
	clear(c.keys[int(e.off)*t.cfg.KeySize : int(e.off+1)*t.cfg.KeySize])
	if c.srv != nil {
		c.srv[e.off] = ""
	}
	e.expire.Store(0)
	e.expKey = 0
	e.seq, t.free = t.free, c.base+e.off+1
}

// srvKeyText is server_key, "" when not set; e.mu is held.
func (e *Entry) srvKeyText() string {
	if c := e.chunk(); c.srv != nil {
		return c.srv[e.off]
	}
	return ""
}

// data returns the entry's data words.
func (e *Entry) data() []uint32 {
	c := e.chunk()
	n := c.stride
	return c.data[int(e.off)*n : int(e.off+1)*n : int(e.off+1)*n]
}

// u32 is data word s, a 32-bit counter or the first word of a wider
// element; s is an offset the table's slots gave. e.mu is held.
func (e *Entry) u32(s int) *uint32 {
	c := e.chunk()
	return &c.data[int(e.off)*c.stride+s]
}

// raw reads the scalar at word s of storage class std; e.mu is held.
func (e *Entry) raw(s int, std stdType) uint64 {
	p := e.u32(s)
	if std == stdULL {
		return uint64(*p) | uint64(*(*uint32)(unsafe.Add(unsafe.Pointer(p), 4)))<<32
	}
	return uint64(*p)
}

// setRaw writes the scalar at word s of storage class std; e.mu is held.
func (e *Entry) setRaw(s int, std stdType, v uint64) {
	p := e.u32(s)
	*p = uint32(v)
	if std == stdULL {
		*(*uint32)(unsafe.Add(unsafe.Pointer(p), 4)) = uint32(v >> 32)
	}
}

// frq is the rate at word s; e.mu is held.
func (e *Entry) frq(s int) *FreqCtr { return (*FreqCtr)(unsafe.Pointer(e.u32(s))) }

func (t *Table) queueLocked(e *Entry) {
	t.seq++
	e.seq = t.seq
	t.exps.push(e.index())
}

// unlinkLocked removes e, holding held references, from the table and
// frees it; t.mu and sh.mu are held. It fails when a peer session took a
// reference from the update log meanwhile.
func (t *Table) unlinkLocked(sh *shard, e *Entry, held int32) bool {
	if t.sync != nil && !t.sync.detach(e, held) {
		return false
	}
	sh.delete(t, e.index(), t.hash(e.keyBytes()))
	if e.hidx >= 0 {
		t.exps.remove(int(e.hidx))
	}
	e.hidx = -1
	e.ref.Store(0)
	t.current--
	t.freeLocked(e)
	return true
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
	var aside []uint32
	for len(t.exps.items) > 0 && (batch < 0 || done < batch) {
		if batch >= 0 {
			if maxSearch--; maxSearch < 0 {
				break
			}
		}
		i := t.exps.items[0]
		e := t.entry(i)
		if onlyExpired && int32(now-e.expKey) < 0 {
			break
		}
		sh := t.shardOf(t.hash(e.keyBytes()))
		sh.mu.Lock()
		if e.ref.Load() != 0 {
			sh.mu.Unlock()
			t.exps.remove(0)
			aside = append(aside, i)
			continue
		}
		exp := e.expire.Load()
		if requeue := exp != e.expKey && !(onlyExpired && expired(exp, now)); requeue {
			sh.mu.Unlock()
			t.exps.remove(0)
			e.expKey = exp
			t.queueLocked(e)
			continue
		}
		if !t.unlinkLocked(sh, e, 0) {
			sh.mu.Unlock()
			t.exps.remove(0)
			aside = append(aside, i)
			continue
		}
		sh.mu.Unlock()
		done++
	}
	// entries set aside go back in their former order
	for _, i := range aside {
		t.exps.push(i)
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
	if len(t.exps.items) == 0 {
		return 0, false
	}
	return t.entry(t.exps.items[0]).expKey, true
}

// remove deletes e if it is still in the table and only referenced by the
// held references of the caller, which it consumes; with onlyExpired, only
// if it has expired. It reports whether it did (__stksess_kill).
func (t *Table) remove(e *Entry, held int32, onlyExpired bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.hidx < 0 {
		return false
	}
	sh := t.shardOf(t.hash(e.keyBytes()))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.hidx < 0 || e.ref.Load() != held || (onlyExpired && !expired(e.expire.Load(), t.now())) {
		return false
	}
	return t.unlinkLocked(sh, e, held)
}

// Release drops a reference taken by Get, Track or Lookup, and removes the
// entry when it was the last one and the entry has expired
// (stksess_kill_if_expired).
func (e *Entry) Release() {
	if e == nil || e.ref.Add(-1) != 0 {
		return
	}
	t := e.tab()
	if t.cfg.Expire != 0 && expired(e.expire.Load(), t.now()) {
		// checked again under the locks: the entry may have been reused
		t.remove(e, 0, true)
	}
}

// Refs returns the number of references held, "use=" of "show table".
func (e *Entry) Refs() int { return int(e.ref.Load()) }

// Expire returns the entry's expiry date.
func (e *Entry) Expire() uint32 { return e.expire.Load() }

// Table returns the entry's table.
func (e *Entry) Table() *Table { return e.tab() }

// KeyBytes returns a copy of the entry's stored key.
func (e *Entry) KeyBytes() []byte { return bytes.Clone(e.keyBytes()) }

// touch refreshes the expiry date (stktable_touch_local).
func (e *Entry) touch(now uint32) {
	t := e.tab()
	e.expire.Store(tickAdd(now, t.cfg.Expire))
	if s := t.sync; s != nil {
		s.logLocal(e)
	}
}

// expHeap orders entry indexes by queued expiry date (wrapping), then by
// the order they were queued in, as HAProxy's expiry tree does. An entry
// queued at the latest date, the usual case, stays at the bottom: pushing
// it costs one comparison.
type expHeap struct {
	t     *Table
	items []uint32
}

func (h *expHeap) less(i, j int) bool {
	a, b := h.t.entry(h.items[i]), h.t.entry(h.items[j])
	if d := int32(a.expKey - b.expKey); d != 0 {
		return d < 0
	}
	return int32(a.seq-b.seq) < 0
}

func (h *expHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.t.entry(h.items[i]).hidx = int32(i)
	h.t.entry(h.items[j]).hidx = int32(j)
}

func (h *expHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

// down sifts the entry at position i down among the first n.
func (h *expHeap) down(i, n int) bool {
	i0 := i
	for {
		j := 2*i + 1
		if j >= n || j < 0 {
			break
		}
		if j2 := j + 1; j2 < n && h.less(j2, j) {
			j = j2
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// push queues entry index i.
func (h *expHeap) push(i uint32) {
	h.t.entry(i).hidx = int32(len(h.items))
	h.items = append(h.items, i)
	h.up(len(h.items) - 1)
}

// remove takes the entry at position k out of the queue and returns its
// index.
func (h *expHeap) remove(k int) uint32 {
	n := len(h.items) - 1
	if n != k {
		h.swap(k, n)
		if !h.down(k, n) {
			h.up(k)
		}
	}
	i := h.items[n]
	h.items = h.items[:n]
	h.t.entry(i).hidx = -1
	return i
}

// fix restores the order after the date of the entry at position k changed.
func (h *expHeap) fix(k int) {
	if !h.down(k, len(h.items)) {
		h.up(k)
	}
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
	k := o.keyBytes()
	var pad [64]byte
	if t.cfg.Type == KeyString {
		if i := bytes.IndexByte(k, 0); i >= 0 {
			k = k[:i]
		}
		k = k[:min(len(k), t.cfg.KeySize-1)]
	} else if len(k) >= t.cfg.KeySize {
		k = k[:t.cfg.KeySize]
	} else if t.cfg.KeySize <= len(pad) {
		copy(pad[:], k)
		k = pad[:t.cfg.KeySize]
	} else {
		b := make([]byte, t.cfg.KeySize)
		copy(b, k)
		k = b
	}
	return t.lookupKey(k)
}

// lookupKey returns the live entry stored under the normalized key k,
// referenced, or nil.
func (t *Table) lookupKey(k []byte) *Entry {
	now := t.now()
	h := t.hash(k)
	sh := t.shardOf(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return t.refLive(sh.lookup(t, k, h), now)
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
