package cache

import (
	"sort"
	"sync"
)

// BlockSize is the unit the cache's memory is counted in.
const BlockSize = 1024

// entryOverhead is what HAProxy 2.6.12 counts for its struct cache_entry
// of every object, counted in its size.
const entryOverhead = 112

// maxEntryAge caps Age values (CACHE_ENTRY_MAX_AGE).
const maxEntryAge = 2147483648

// Config is a cache section.
type Config struct {
	Name string
	// Blocks is total-max-size in blocks of BlockSize bytes.
	Blocks uint32
	// MaxAge is max-age in seconds; MaxObjectSize max-object-size in
	// bytes (0 for no limit).
	MaxAge, MaxObjectSize uint32
	ProcessVary           bool
	// MaxSecondary is max-secondary-entries (at least 1).
	MaxSecondary uint32
}

// Cache is one cache section's storage, safe for concurrent use.
type Cache struct {
	cfg Config
	mu  sync.Mutex
	// entries indexes objects by primary key; objects with the same key
	// (Vary) are kept in insertion order.
	entries map[uint32][]*Entry
	// lru lists the complete objects, least recently used first: they
	// are what a new object may evict.
	lru list
	// used counts the blocks of every object, hot those of objects being
	// written (which nothing may evict).
	used, hot int
	// next numbers the objects for "show cache".
	next uint64
}

// New makes an empty cache.
func New(cfg Config) *Cache {
	if cfg.MaxSecondary == 0 {
		cfg.MaxSecondary = 10
	}
	return &Cache{cfg: cfg, entries: map[uint32][]*Entry{}}
}

// Name is the cache section's name.
func (c *Cache) Name() string { return c.cfg.Name }

// Config is the cache's configuration.
func (c *Cache) Config() Config { return c.cfg }

// Entry is a stored response. Its fields do not change once it is
// complete.
type Entry struct {
	key      uint32
	hash     [20]byte
	secKey   [SecKeyLen]byte
	sig      uint32
	complete bool
	indexed  bool
	id       uint64
	// expire and validated are Unix times; age is the server's Age.
	expire, validated int64
	age               int64
	lastModified      int64
	// Head is the status line and headers, each line with its CRLF,
	// without the empty line; Body the body's data; Chunked says the
	// head announces a chunked body.
	Head    []byte
	Body    []byte
	Chunked bool
	etag    []byte
	// size is the object's size as HAProxy counts it; blocks its
	// reservation.
	size   int
	blocks int
	// secCount and lastClear manage max-secondary-entries.
	lastClear int64
	prev, nxt *Entry
	inLRU     bool
}

// Age is the value of the Age header of a hit served at now.
func (e *Entry) Age(now int64) int64 {
	a := max(0, now-e.validated) + e.age
	return min(a, maxEntryAge)
}

// list is an intrusive doubly-linked list of entries.
type list struct{ head, tail *Entry }

func (l *list) push(e *Entry) {
	e.prev, e.nxt = l.tail, nil
	if l.tail != nil {
		l.tail.nxt = e
	} else {
		l.head = e
	}
	l.tail = e
	e.inLRU = true
}

func (l *list) remove(e *Entry) {
	if !e.inLRU {
		return
	}
	if e.prev != nil {
		e.prev.nxt = e.nxt
	} else {
		l.head = e.nxt
	}
	if e.nxt != nil {
		e.nxt.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.nxt, e.inLRU = nil, nil, false
}

// find is entry_exist: the first object of the key, if its whole hash is
// the one asked for and it has not expired (an expired one is dropped).
func (c *Cache) find(hash *[20]byte, now int64) *Entry {
	dups := c.entries[Primary(hash)]
	if len(dups) == 0 {
		return nil
	}
	e := dups[0]
	if e.hash != *hash {
		return nil
	}
	if e.expire > now {
		return e
	}
	c.unindex(e)
	return nil
}

// findSecondary is secondary_entry_exist: from e on, the object whose
// secondary key the request's matches; expired ones met are dropped.
func (c *Cache) findSecondary(e *Entry, key *[SecKeyLen]byte, now int64) *Entry {
	if e.sig == 0 {
		return nil
	}
	dups := c.entries[e.key]
	i := 0
	for i < len(dups) && dups[i] != e {
		i++
	}
	var found *Entry
	var stale []*Entry
	for ; i < len(dups); i++ {
		d := dups[i]
		if secondaryMatch(&d.secKey, key) {
			found = d
			break
		}
		if d.expire <= now {
			stale = append(stale, d)
		}
	}
	for _, d := range stale {
		c.unindex(d)
	}
	if found != nil && found.expire <= now {
		c.unindex(found)
		return nil
	}
	return found
}

// unindex takes an object out of the index; its memory goes when it is
// not being written.
func (c *Cache) unindex(e *Entry) {
	if !e.indexed {
		return
	}
	e.indexed = false
	dups := c.entries[e.key]
	for i, d := range dups {
		if d == e {
			dups = append(dups[:i], dups[i+1:]...)
			break
		}
	}
	if len(dups) == 0 {
		delete(c.entries, e.key)
	} else {
		c.entries[e.key] = dups
	}
	if e.complete {
		c.lru.remove(e)
		c.used -= e.blocks
		e.blocks = 0
	}
}

// insert is insert_entry: a new object goes last among those of its key,
// unless the key already has max-secondary-entries live ones.
func (c *Cache) insert(e *Entry, now int64) bool {
	dups := c.entries[e.key]
	if e.sig != 0 && len(dups) > 0 {
		last := dups[len(dups)-1]
		if uint32(len(dups)) >= c.cfg.MaxSecondary {
			if last.lastClear == now {
				return false
			}
			live := dups[:0:0]
			for _, d := range dups {
				if d.expire > now {
					live = append(live, d)
				}
			}
			for _, d := range dups {
				if d.expire <= now {
					c.unindex(d)
				}
			}
			if uint32(len(live)) >= c.cfg.MaxSecondary {
				live[len(live)-1].lastClear = now
				return false
			}
			dups = c.entries[e.key]
		}
		if len(dups) > 0 {
			e.lastClear = dups[len(dups)-1].lastClear
		}
	} else {
		e.lastClear = now
	}
	e.indexed = true
	c.entries[e.key] = append(dups, e)
	return true
}

// reserve makes room for an object growing to size bytes: blocks are
// taken from the free ones, then from the least recently used objects.
func (c *Cache) reserve(e *Entry, size int) bool {
	if max := int(c.cfg.MaxObjectSize); max > 0 && size > max {
		return false
	}
	need := (size+BlockSize-1)/BlockSize - e.blocks
	if need <= 0 {
		return true
	}
	total := int(c.cfg.Blocks)
	if need > total-c.hot {
		return false
	}
	for total-c.used < need && c.lru.head != nil {
		c.unindex(c.lru.head)
	}
	if total-c.used < need {
		return false
	}
	c.used += need
	c.hot += need
	e.blocks += need
	return true
}

// Lookup is what cache-use does once the request's key is known: the
// complete, fresh object for the request, or nil. On a miss with
// process-vary on, the request's full secondary key is prepared for a
// response that would vary.
func (c *Cache) Lookup(t *Txn, h Headers, now int64) *Entry {
	c.mu.Lock()
	e := c.find(&t.Hash, now)
	if e != nil {
		// An object being written is not used, but as HAProxy 2.6.12
		// does, the one of another secondary key may be.
		if e.sig != 0 {
			c.mu.Unlock()
			if !t.BuildSecondary(h, e.sig) {
				return nil
			}
			c.mu.Lock()
			e = c.findSecondary(e, &t.SecKey, now)
		}
		if e == nil || !e.complete {
			c.mu.Unlock()
			return nil
		}
		c.lru.remove(e)
		c.lru.push(e)
		c.mu.Unlock()
		return e
	}
	c.mu.Unlock()
	if c.cfg.ProcessVary {
		t.BuildSecondary(h, ^uint32(0))
	}
	return nil
}

// Invalidate drops the object of the transaction's key, as a successful
// unsafe method does.
func (c *Cache) Invalidate(t *Txn, now int64) {
	if t.Flags&FlagKeyed == 0 {
		return
	}
	c.mu.Lock()
	if e := c.find(&t.Hash, now); e != nil {
		c.unindex(e)
	}
	c.mu.Unlock()
}

// EntryInfo describes a stored object for "show cache".
type EntryInfo struct {
	ID     uint64
	Key    uint32
	SecKey [SecKeyLen]byte
	Size   int
	Blocks int
	Expire int64
}

// Show lists the live objects by key, as "show cache" does, dropping the
// expired ones it meets; avail is the number of blocks not being
// written.
func (c *Cache) Show(now int64) (list []EntryInfo, avail int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]uint32, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		// HAProxy 2.6 goes from one key to the next: only the first of
		// the objects of a key (Vary) is seen, and dropped if expired.
		e := c.entries[k][0]
		if e.expire <= now {
			c.unindex(e)
			continue
		}
		list = append(list, EntryInfo{ID: e.id, Key: e.key, SecKey: e.secKey,
			Size: e.size, Blocks: max(e.blocks, 1), Expire: e.expire - now})
	}
	return list, int(c.cfg.Blocks) - c.hot
}
