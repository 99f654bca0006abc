package cache

import (
	"strconv"
	"time"
)

// Txn flags (TX_CACHEABLE, TX_CACHE_COOK, TX_CACHE_IGNORE,
// TX_CACHE_HAS_SEC_KEY), and FlagKeyed once the primary key is known.
const (
	FlagCacheable uint8 = 1 << iota
	FlagCook
	FlagIgnore
	FlagHasSecKey
	FlagKeyed
)

// Txn is the caching state of one HTTP transaction. The zero value is a
// transaction that nothing was decided for.
type Txn struct {
	Flags  uint8
	Hash   [20]byte
	SecKey [SecKeyLen]byte
}

// Begin starts a transaction: a safe method makes it cacheable, as
// HAProxy marks it once the request is analysed.
func (t *Txn) Begin(method []byte) {
	*t = Txn{}
	switch string(method) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		t.Flags = FlagCacheable | FlagCook
	}
}

// CheckRequest is http_check_request_for_cacheability.
func (t *Txn) CheckRequest(h Headers) {
	if t.Flags&(FlagCacheable|FlagIgnore) == FlagIgnore {
		return
	}
	pragma := false
	if v, ok := first(h, "pragma"); ok && equalFold(v, "no-cache") {
		pragma = true
	}
	if _, ok := first(h, "authorization"); ok {
		t.Flags &^= FlagCacheable | FlagCook
		t.Flags |= FlagIgnore
	}
	cc := false
	elems(h, "cache-control", func(v []byte) bool {
		cc = true
		switch {
		case hasPrefixFold(v, "max-age"), hasPrefixFold(v, "no-cache"),
			hasPrefixFold(v, "max-stale"), hasPrefixFold(v, "min-fresh"):
			t.Flags |= FlagIgnore
		case hasPrefixFold(v, "no-store"):
			t.Flags &^= FlagCacheable | FlagCook
		}
		return true
	})
	if !cc && pragma {
		t.Flags |= FlagIgnore
	}
}

// checkResponse is http_check_response_for_cacheability.
func (t *Txn) checkResponse(status int, h Headers) {
	if status < 200 {
		t.Flags &^= FlagCacheable | FlagCook
		return
	}
	if v, ok := first(h, "pragma"); ok && equalFold(v, "no-cache") {
		t.Flags &^= FlagCacheable | FlagCook
		return
	}
	fresh := false
	elems(h, "cache-control", func(v []byte) bool {
		switch {
		case equalFold(v, "public"):
			t.Flags |= FlagCacheable | FlagCook
		case equalFold(v, "private"), equalFold(v, "no-cache"), equalFold(v, "no-store"),
			equalFold(v, "max-age=0"), equalFold(v, "s-maxage=0"):
			t.Flags &^= FlagCacheable | FlagCook
		case hasPrefixFold(v, `no-cache="set-cookie`):
			t.Flags &^= FlagCook
		case hasPrefixFold(v, "s-maxage"), hasPrefixFold(v, "max-age"):
			fresh = true
		}
		return true
	})
	if !fresh {
		_, fresh = first(h, "expires")
	}
	if !fresh {
		_, etag := first(h, "etag")
		_, lm := first(h, "last-modified")
		if !etag && !lm {
			t.Flags &^= FlagCacheable
		}
	}
}

// directiveValue is directive_value: the text after "word=" when v
// starts with it (case-insensitively) and has something after the '='.
func directiveValue(v []byte, word string) ([]byte, bool) {
	if !hasPrefixFold(v, word) {
		return nil, false
	}
	rest := v[len(word):]
	if len(rest) < 2 || rest[0] != '=' {
		return nil, false
	}
	return rest[1:], true
}

// strtol reads what C's strtol would: blanks, a sign, digits; ok is
// false without digits.
func strtol(b []byte) (int64, bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if v < 1<<60 {
			v = v*10 + int64(b[i]-'0')
		}
	}
	if i == start {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// maxAge is http_calc_maxage: the object's lifetime bounded by the
// section's max-age, and the response's own (0 without one); -1 for a
// bad max-age or s-maxage value.
func maxAge(h Headers, limit uint32, now int64) (eff, own int64) {
	smax, max := int64(-1), int64(-1)
	bad := false
	elems(h, "cache-control", func(v []byte) bool {
		for _, d := range [2]struct {
			word string
			dst  *int64
		}{{"s-maxage", &smax}, {"max-age", &max}} {
			val, ok := directiveValue(v, d.word)
			if !ok {
				continue
			}
			if len(val) > 0 && val[0] == '"' {
				val = val[1:]
			}
			n, ok := strtol(val)
			if !ok || n < 0 {
				bad = true
				return false
			}
			*d.dst = n
		}
		return true
	})
	if bad {
		return -1, 0
	}
	expires := int64(-1)
	if max == -1 && smax == -1 {
		if v, ok := first(h, "expires"); ok {
			expires = 0
			if t, ok := ParseHTTPDate(v); ok && t >= now {
				expires = t - now
			}
		}
	}
	lim := int64(limit)
	switch {
	case smax > 0:
		return min(smax, lim), smax
	case max > 0:
		return min(max, lim), max
	case expires >= 0:
		return min(expires, lim), expires
	}
	return lim, 0
}

// lastModified is get_last_modified_time: Last-Modified, else Date,
// else now.
func lastModified(h Headers, now int64) int64 {
	for _, n := range [2]string{"last-modified", "date"} {
		if v, ok := first(h, n); ok {
			if t, ok := ParseHTTPDate(v); ok && t != 0 {
				return t
			}
		}
	}
	return now
}

var dateLayouts = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// ParseHTTPDate reads an HTTP date in any of its three forms (RFC 7231
// 7.1.1.1) as seconds since the epoch.
func ParseHTTPDate(v []byte) (int64, bool) {
	s := string(v)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// ageValue reads an Age value as strl2llrc: digits, optionally negative.
func ageValue(v []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || len(v) > 0 && v[0] == '+' {
		return 0, false
	}
	return n, true
}

// NotModified is should_send_notmodified_response: If-None-Match ("*",
// or an ETag equal to the stored one in weak comparison), else
// If-Modified-Since not before the object's last modification, asks
// for a 304 instead of the stored response.
func NotModified(h Headers, e *Entry) bool {
	found, match := false, false
	elems(h, "if-none-match", func(v []byte) bool {
		found = true
		if string(v) == "*" {
			match = true
			return false
		}
		if len(e.etag) == 0 {
			return false
		}
		match = sameETag(e.etag, v)
		return !match
	})
	if match || found {
		return match
	}
	if v, ok := first(h, "if-modified-since"); ok {
		if t, ok := ParseHTTPDate(v); ok {
			return e.lastModified <= t
		}
	}
	return false
}

// sameETag is http_compare_etags: both valid, equal once a "W/" is cut.
func sameETag(a, b []byte) bool {
	a, okA := etagBody(a)
	b, okB := etagBody(b)
	return okA && okB && string(a) == string(b)
}

func etagBody(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return nil, false
	}
	if v[0] == '"' {
		return v, true
	}
	if len(v) >= 3 && v[0] == 'W' && v[1] == '/' && v[2] == '"' {
		return v[2:], true
	}
	return nil, false
}
