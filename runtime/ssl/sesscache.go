package ssl

import (
	"container/list"
	"crypto/rand"
	"crypto/tls"
	"sync"
	"sync/atomic"
	"time"
)

// defaultCacheSize is tune.ssl.cachesize's default.
const defaultCacheSize = 20000

// sessionStore is the binds' stateful session cache, HAProxy's shared
// cache of tune.ssl.cachesize entries, the least recently used purged
// first. A bind with no-tls-tickets resumes TLS 1.3 sessions through it:
// its tickets are only keys into the cache, as OpenSSL's stateful tickets
// are. (Go's server resumes no TLS 1.2 session by its ID.)
type sessionStore struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]*list.Element
	lru list.List // of *cachedSession, most recent first
	// lookups and misses are show info's SslCacheLookups and
	// SslCacheMisses.
	lookups, misses atomic.Uint64
}

// CacheCounters are the session cache's lookups and the lookups that
// found nothing, since the process started.
func CacheCounters() (lookups, misses uint64) {
	return sessions.lookups.Load(), sessions.misses.Load()
}

type cachedSession struct {
	id    [32]byte
	state []byte
	at    time.Time
}

// sessions is the process's cache; binds size it as they load.
var sessions = &sessionStore{m: map[[32]byte]*list.Element{}}

// cacheSize is the entries the cache holds: CacheSize, the default when
// unset, 0 when disabled.
func (g *Globals) cacheSize() int {
	switch {
	case g == nil || g.CacheSize == 0:
		return defaultCacheSize
	case g.CacheSize < 0:
		return 0
	}
	return g.CacheSize
}

func (c *sessionStore) resize(n int) {
	c.mu.Lock()
	c.max = n
	c.trim()
	c.mu.Unlock()
}

func (c *sessionStore) trim() {
	for c.lru.Len() > c.max {
		e := c.lru.Back()
		delete(c.m, e.Value.(*cachedSession).id)
		c.lru.Remove(e)
	}
}

// put keeps a session and returns its key.
func (c *sessionStore) put(ss *tls.SessionState) ([]byte, error) {
	b, err := ss.Bytes()
	if err != nil {
		return nil, err
	}
	var id [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[id] = c.lru.PushFront(&cachedSession{id: id, state: b, at: time.Now()})
	c.trim()
	c.mu.Unlock()
	return id[:], nil
}

// get returns the session kept under key if it is younger than lifetime.
func (c *sessionStore) get(key []byte, lifetime time.Duration) *tls.SessionState {
	c.lookups.Add(1)
	if len(key) != 32 {
		c.misses.Add(1)
		return nil
	}
	c.mu.Lock()
	e, ok := c.m[[32]byte(key)]
	var cs *cachedSession
	if ok {
		cs = e.Value.(*cachedSession)
		if time.Since(cs.at) > lifetime {
			delete(c.m, cs.id)
			c.lru.Remove(e)
			cs = nil
		} else {
			c.lru.MoveToFront(e)
		}
	}
	c.mu.Unlock()
	if cs == nil {
		c.misses.Add(1)
		return nil
	}
	ss, err := tls.ParseSessionState(cs.state)
	if err != nil {
		return nil
	}
	return ss
}
