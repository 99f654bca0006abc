package acl

// The cache's fetches (src/cache.c): whether the response comes from a
// cache, and that cache's name.
func init() {
	addFetch(
		&fetchDef{name: "res.cache_hit", out: TypeBool, fn: fetchCacheHit},
		&fetchDef{name: "res.cache_name", out: TypeStr, fn: fetchCacheName},
	)
}

// CacheEnv is what an Env that runs caches tells of the response; an Env
// without it never serves from a cache.
type CacheEnv interface {
	// CacheHit returns the name of the cache the response comes from,
	// ok false when it does not come from one.
	CacheHit() (name string, ok bool)
}

func cacheHit(t *Txn) (string, bool) {
	if c, ok := t.Env.(CacheEnv); ok {
		return c.CacheHit()
	}
	return "", false
}

func fetchCacheHit(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeBool, 0
	if t.Env == nil {
		return true
	}
	if _, ok := cacheHit(t); ok {
		v.I = 1
	}
	return true
}

func fetchCacheName(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	name, ok := cacheHit(t)
	if !ok {
		return false
	}
	v.Type, v.B = TypeStr, t.keep(append(t.tmp(), name...))
	return true
}
