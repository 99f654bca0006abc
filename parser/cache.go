package parser

import (
	"fmt"
	"math"
	"sort"
)

// CacheBlockSize is the size of the blocks a cache's memory is counted in
// (CACHE_BLOCKSIZE in src/cache.c).
const CacheBlockSize = 1024

// Cache is a "cache" section (configuration.txt section 6.2), with
// HAProxy's defaults applied once the section is read.
type Cache struct {
	Pos Pos
	// Name is the section's name, cut to 32 characters as HAProxy cuts it.
	Name string
	// Blocks is total-max-size in blocks of CacheBlockSize bytes.
	Blocks uint32
	// MaxAge is max-age in seconds (60 by default).
	MaxAge uint32
	// MaxObjectSize is max-object-size in bytes; a 256th of the total
	// size by default.
	MaxObjectSize uint32
	// ProcessVary is "process-vary on".
	ProcessVary bool
	// MaxSecondaryEntries is max-secondary-entries (10 by default).
	MaxSecondaryEntries uint32
}

// cacheKeywords is the keyword table of cache sections
// (src/cache.c cfg_parse_cache).
var cacheKeywords = map[string]func(c *pctx, k *Cache){
	"total-max-size":        kwCacheTotalMaxSize,
	"max-age":               kwCacheMaxAge,
	"max-object-size":       kwCacheMaxObjectSize,
	"process-vary":          kwCacheProcessVary,
	"max-secondary-entries": kwCacheMaxSecondary,
}

func init() {
	// The runtime runs both cache actions (httpRuleForms).
	httpRuleForms["http-request"]["cache-use"] = true
	httpRuleForms["http-response"]["cache-store"] = true
}

// CacheKeywordNames lists the keywords of a cache section.
func CacheKeywordNames() []string {
	out := make([]string, 0, len(cacheKeywords))
	for n := range cacheKeywords {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// stopFile ends the reading of the configuration as HAProxy's ERR_ABORT
// does: "Error(s) found" follows, without "Fatal errors".
func (cp *cfgParser) stopFile() {
	cp.cfg.AbortAfterFile = true
	cp.abort = true
}

// openCache starts a cache section; it reports whether parsing goes on.
func (cp *cfgParser) openCache(args []string, pos Pos) bool {
	cp.cache = nil
	if len(args) < 2 || args[1] == "" {
		cp.add(alertf(pos, "'%s' expects a <name> argument", args[0]))
		cp.stopFile()
		return false
	}
	if len(args) > 2 && args[2] != "" {
		cp.add(alertf(pos, "'%s' cannot handle unexpected argument '%s'.", args[0], args[2]))
		cp.stopFile()
		return false
	}
	name := args[1]
	if len(name) > 32 {
		name = name[:32]
		d := warnf(pos, "cache name is limited to 32 characters, truncate to '%s'.", name)
		d.Style = StyleParsingTight
		cp.add(d)
	}
	for _, k := range cp.cfg.Caches {
		if k.Name == name {
			d := alertf(pos, "Duplicate cache name '%s'.", name)
			d.Style = StyleParsingTight
			cp.add(d)
			cp.stopFile()
			return false
		}
	}
	cp.cache = &Cache{Pos: pos, Name: name, MaxAge: 60, MaxSecondaryEntries: 10}
	return true
}

// endCache is cfg_post_parse_section_cache: it runs when the section
// ends (another section starts, or the file ends) and keeps the cache
// only when its sizes are right.
func (cp *cfgParser) endCache(pos Pos) {
	k := cp.cache
	cp.cache = nil
	if k == nil {
		return
	}
	none := func(format string, a ...any) {
		d := alertf(pos, format, a...)
		d.Style = StyleNone
		cp.add(d)
	}
	if k.Blocks == 0 {
		none("Size not specified for cache '%s'", k.Name)
		return
	}
	total := k.Blocks * CacheBlockSize
	if k.MaxObjectSize == 0 {
		k.MaxObjectSize = total >> 8
	} else if k.MaxObjectSize > total/2 {
		none("\"max-object-size\" is limited to an half of \"total-max-size\" => %d", total/2)
		return
	}
	cp.cfg.Caches = append(cp.cfg.Caches, k)
}

// cacheLine reads a line of a cache section.
func (cp *cfgParser) cacheLine(c *pctx) {
	kw, ok := cacheKeywords[c.args[0]]
	if !ok {
		c.alert("unknown keyword '%s' in 'cache' section", c.args[0])
		return
	}
	cp.directive(c.pos, c.args[0], c.args[1:], Supported, false)
	if c.tooMany(1) {
		cp.stopFile()
		return
	}
	if cp.cache != nil {
		kw(c, cp.cache)
	}
}

// tightWarn is a warning rendered "parsing [FILE:LINE]: MSG".
func (c *pctx) tightWarn(format string, a ...any) {
	d := warnf(c.pos, format, a...)
	d.Style = StyleParsingTight
	c.cp.add(d)
}

// wrongValue is HAProxy's warning for a value strtoul refuses; it stops
// the reading of the configuration.
func (c *pctx) wrongValue() {
	c.tightWarn("%s wrong value '%s'", c.args[0], c.arg(1))
	c.cp.stopFile()
}

func kwCacheTotalMaxSize(c *pctx, k *Cache) {
	v, ok := strtoul(c.arg(1))
	if !ok {
		c.wrongValue()
		return
	}
	if v > math.MaxUint32>>20 {
		c.tightWarn("\"total-max-size\" (%s) must not be greater than %d", c.arg(1), uint32(math.MaxUint32>>20))
		c.cp.stopFile()
		return
	}
	k.Blocks = uint32(v) * (1 << 20 / CacheBlockSize)
}

func kwCacheMaxAge(c *pctx, k *Cache) {
	if c.arg(1) == "" {
		c.tightWarn("'%s' expects an age parameter in seconds.", c.args[0])
	}
	v, _ := leadingInt(c.arg(1))
	k.MaxAge = uint32(int32(v))
}

func kwCacheMaxObjectSize(c *pctx, k *Cache) {
	if c.arg(1) == "" {
		c.tightWarn("'%s' expects a maximum file size parameter in bytes.", c.args[0])
	}
	v, ok := strtoul(c.arg(1))
	if !ok {
		c.wrongValue()
		return
	}
	k.MaxObjectSize = uint32(v)
}

func kwCacheProcessVary(c *pctx, k *Cache) {
	const msg = "'%s' expects \"on\" or \"off\" (enable or disable vary processing)."
	if c.arg(1) == "" {
		c.tightWarn(msg, c.args[0])
	}
	switch c.arg(1) {
	case "on":
		k.ProcessVary = true
	case "off":
		k.ProcessVary = false
	default:
		c.tightWarn(msg, c.args[0])
	}
}

func kwCacheMaxSecondary(c *pctx, k *Cache) {
	if c.arg(1) == "" {
		c.tightWarn("'%s' expects a strictly positive number.", c.args[0])
	}
	v, ok := strtoul(c.arg(1))
	if !ok || uint32(v) == 0 {
		c.wrongValue()
		return
	}
	k.MaxSecondaryEntries = uint32(v)
}

// strtoul is C's strtoul in base 10 where the whole word must be read:
// leading blanks and a sign are taken, a negative value wraps, an
// overflow gives the maximum.
func strtoul(s string) (uint64, bool) {
	start, neg := cSign(s)
	v, i, over := cDigits(s, start)
	if i == start || i != len(s) {
		return 0, false
	}
	if over {
		return math.MaxUint64, true
	}
	if neg {
		v = -v
	}
	return v, true
}

// CacheRefDiags is HAProxy's flt_check on p's filters: the explicit
// "filter" lines and the implicit cache filters of cache-use and
// cache-store rules, in the order HAProxy lists them; then the checks of
// check_implicit_http_comp_flt and cache_store_check.
func CacheRefDiags(cfg *Config, p *Proxy) Diagnostics {
	var out Diagnostics
	alert := func(format string, a ...any) {
		out = append(out, Diagnostic{Severity: Alert, Fatal: true, Msg: fmt.Sprintf(format, a...)})
	}
	type flt struct {
		kind, name string
		implicit   bool
	}
	// The list in line order: a rule's cache gets an implicit filter
	// unless one is there; an explicit one replaces the implicit one.
	type item struct {
		line int
		f    flt
	}
	var items []item
	for _, f := range p.Filters {
		items = append(items, item{f.Pos.Line, flt{kind: f.Kind, name: f.Name}})
	}
	rules := append(append([]*HTTPRule(nil), p.HTTPRequestRules...), p.HTTPResponseRules...)
	for _, r := range rules {
		if r.Cache != "" {
			items = append(items, item{r.Pos.Line, flt{kind: "cache", name: r.Cache, implicit: true}})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].line < items[j].line })
	var list []flt
	for _, it := range items {
		at := -1
		for i, f := range list {
			if f.kind == "cache" && it.f.kind == "cache" && f.name == it.f.name {
				at = i
			}
		}
		switch {
		case at >= 0 && it.f.implicit:
		case at >= 0:
			list = append(list[:at], list[at+1:]...)
			list = append(list, it.f)
		default:
			list = append(list, it.f)
		}
	}
	kind, name := ProxyTypeStr(p), p.Name
	if p.Compression != nil {
		comp, explicit := false, false
	implicitComp:
		for _, f := range list {
			switch f.kind {
			case "compression":
				comp = true
			case "cache":
				if comp {
					alert("config: %s '%s': unable to enable the compression filter before any cache filter.", kind, name)
					break implicitComp
				}
			case "fcgi-app":
			default:
				explicit = true
			}
		}
		if !comp && explicit {
			alert("config: %s '%s': require an explicit filter declaration to use HTTP compression", kind, name)
		}
	}
	for _, c := range list {
		if c.kind != "cache" {
			continue
		}
		if FindCache(cfg, c.name) == nil {
			alert("config: %s '%s': unable to find the cache '%s' referenced by the filter 'cache'.", kind, name, c.name)
			continue
		}
		comp := false
	scan:
		for i := range list {
			f := &list[i]
			switch {
			case f.kind == "cache" && f.name == c.name:
				if comp {
					alert("config: %s '%s': unable to enable the compression filter before the cache '%s'.", kind, name, c.name)
					break scan
				}
			case f.kind == "compression":
				comp = true
			case f.kind == "fcgi-app", f.kind == "cache":
			case c.implicit:
				alert("config: %s '%s': require an explicit filter declaration to use the cache '%s'.", kind, name, c.name)
				break scan
			}
		}
	}
	return out
}

// FindCache returns the cache section of that name, nil when none.
func FindCache(cfg *Config, name string) *Cache {
	for _, k := range cfg.Caches {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// checkCacheWords refuses words after the cache name of a cache-use or
// cache-store rule as HAProxy does, which then stops reading the file.
func checkCacheWords(c *pctx) bool {
	if a := c.arg(1); a != "cache-use" && a != "cache-store" {
		return true
	}
	words := cutCond(c.args[2:])
	if len(words) <= 1 {
		return true
	}
	c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
		Msg: fmt.Sprintf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", c.args[0], c.args[1], words[1])})
	c.cp.stopFile()
	return false
}
