package acl

import (
	"bytes"
	"errors"
	"slices"
)

// URI normalizers of "http-request normalize-uri" (configuration.txt 4.2,
// src/uri_normalizer.c and http_action_normalize_uri in src/http_act.c).
//
// API, for the runtime that runs the action:
//
//	n, used, err := ParseURINormalizer(words) // at configuration time
//	out, ok, err := NormalizeURI(buf[:0], uri, n) // per request
//
// NormalizeURI takes the request target as the request line holds it and
// appends the rewritten target to dst; it allocates nothing once dst has
// the room. ok false means the target has no path (the asterisk form,
// the authority form, an absolute URI without a path) and is kept as it
// is, as HAProxy does. Errors map to HAProxy's answers:
//
//   - ErrURIInvalid: a strict normalizer met a bad percent sequence
//     (ACT_RET_INV): the request is answered 400 Bad Request.
//   - ErrURITooLong: the result does not fit in a buffer
//     (URI_NORMALIZER_ERR_ALLOC, ACT_RET_ERR with SF_ERR_RESOURCE): the
//     request is answered 500.

// URINormalizer is one normalize-uri normalizer. The values follow
// HAProxy's enum act_normalize_uri, whose zero is path-merge-slashes.
type URINormalizer uint8

// The normalizers.
const (
	NormPathMergeSlashes URINormalizer = iota
	NormPathStripDot
	NormPathStripDotdot
	NormPathStripDotdotFull
	NormQuerySortByName
	NormPercentToUppercase
	NormPercentToUppercaseStrict
	NormPercentDecodeUnreserved
	NormPercentDecodeUnreservedStrict
	NormFragmentStrip
	NormFragmentEncode
	nNormalizers
)

var normNames = [nNormalizers]string{"path-merge-slashes", "path-strip-dot", "path-strip-dotdot",
	"path-strip-dotdot full", "query-sort-by-name", "percent-to-uppercase", "percent-to-uppercase strict",
	"percent-decode-unreserved", "percent-decode-unreserved strict", "fragment-strip", "fragment-encode"}

// String returns the normalizer as the configuration writes it.
func (n URINormalizer) String() string {
	if n < nNormalizers {
		return normNames[n]
	}
	return "?"
}

// Errors of NormalizeURI.
var (
	// ErrURIInvalid is a strict normalizer's refusal of a percent sign
	// not followed by two hexadecimal digits: HAProxy answers 400.
	ErrURIInvalid = errors.New("invalid percent-encoding in URI")
	// ErrURITooLong is a result larger than a buffer (tune.bufsize) or a
	// query with more parameters than HAProxy can sort: HAProxy answers
	// 500 (resource error).
	ErrURITooLong = errors.New("normalized URI does not fit in a buffer")
)

// normMaxParams is how many query parameters query-sort-by-name sorts:
// HAProxy keeps them in a trash buffer, 16 bytes each.
const normMaxParams = bufSize / 16

// ParseURINormalizer reads the words after "normalize-uri" (the
// normalizer, then "full" or "strict" where it takes one) and returns the
// normalizer and the number of words used; a condition may follow. The
// errors are parse_http_normalize_uri's. As there, "path-strip-dotdot",
// "percent-to-uppercase" and "percent-decode-unreserved" directly followed
// by "if" or "unless" leave the rule with action 0, path-merge-slashes.
func ParseURINormalizer(words []string) (URINormalizer, int, error) {
	if len(words) == 0 || words[0] == "" {
		return 0, 0, errors.New("missing argument <normalizer>")
	}
	next := ""
	if len(words) > 1 {
		next = words[1]
	}
	withOpt := func(plain, opt URINormalizer, word string) (URINormalizer, int, error) {
		switch {
		case next == word:
			return opt, 2, nil
		case next == "":
			return plain, 1, nil
		case next == "if" || next == "unless":
			return NormPathMergeSlashes, 1, nil
		}
		return 0, 0, errorf("unknown argument '%s' for '%s' normalizer", next, words[0])
	}
	switch words[0] {
	case "path-merge-slashes":
		return NormPathMergeSlashes, 1, nil
	case "path-strip-dot":
		return NormPathStripDot, 1, nil
	case "path-strip-dotdot":
		return withOpt(NormPathStripDotdot, NormPathStripDotdotFull, "full")
	case "query-sort-by-name":
		return NormQuerySortByName, 1, nil
	case "percent-to-uppercase":
		return withOpt(NormPercentToUppercase, NormPercentToUppercaseStrict, "strict")
	case "percent-decode-unreserved":
		return withOpt(NormPercentDecodeUnreserved, NormPercentDecodeUnreservedStrict, "strict")
	case "fragment-strip":
		return NormFragmentStrip, 1, nil
	case "fragment-encode":
		return NormFragmentEncode, 1, nil
	}
	return 0, 0, errorf("unknown normalizer '%s'", words[0])
}

// URIPathStart returns where the path of a request target starts, as
// http_parse_path finds it: at 0 for an origin-form target, after the
// scheme and authority of an absolute URI; ok is false when there is no
// path.
func URIPathStart(uri []byte) (int, bool) {
	if len(uri) == 0 || uri[0] == '*' {
		return 0, false
	}
	if uri[0] == '/' {
		return 0, true
	}
	// A scheme (RFC 3986 3.1) then "://", else the authority form.
	if !isAlpha(uri[0]) {
		return 0, false
	}
	i := 1
	for i < len(uri) && (isAlpha(uri[i]) || uri[i] >= '0' && uri[i] <= '9' || uri[i] == '+' || uri[i] == '-' || uri[i] == '.') {
		i++
	}
	if len(uri)-i < 3 || uri[i] != ':' || uri[i+1] != '/' || uri[i+2] != '/' {
		return 0, false
	}
	i += 3
	for i < len(uri) && uri[i] != '/' {
		i++
	}
	if i == len(uri) {
		return 0, false
	}
	return i, true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// NormalizeURI applies n to the request target uri and appends the new
// target to dst (see the package comment above for the errors). The
// path normalizers work on the path without its query, the percent and
// fragment ones on the path with its query, query-sort-by-name on the
// query.
func NormalizeURI(dst, uri []byte, n URINormalizer) ([]byte, bool, error) {
	start, ok := URIPathStart(uri)
	if !ok {
		return dst, false, nil
	}
	path := uri[start:]
	base := len(dst)
	dst = append(dst, uri[:start]...)
	var err error
	switch n {
	case NormPathMergeSlashes, NormPathStripDot, NormPathStripDotdot, NormPathStripDotdotFull:
		q := bytes.IndexByte(path, '?')
		if q < 0 {
			q = len(path)
		}
		switch n {
		case NormPathMergeSlashes:
			dst, err = normMergeSlashes(dst, path[:q])
		case NormPathStripDot:
			dst, err = normStripDot(dst, path[:q])
		default:
			dst, err = normStripDotdot(dst, path[:q], n == NormPathStripDotdotFull)
		}
		dst = append(dst, path[q:]...)
	case NormQuerySortByName:
		return normQueryReplace(dst[:base], uri, path)
	case NormPercentToUppercase, NormPercentToUppercaseStrict:
		dst, err = normPercent(dst, path, false, n == NormPercentToUppercaseStrict)
	case NormPercentDecodeUnreserved, NormPercentDecodeUnreservedStrict:
		dst, err = normPercent(dst, path, true, n == NormPercentDecodeUnreservedStrict)
	case NormFragmentStrip:
		if h := bytes.IndexByte(path, '#'); h >= 0 {
			path = path[:h]
		}
		dst = append(dst, path...)
	case NormFragmentEncode:
		dst, err = normFragmentEncode(dst, path)
	default:
		return dst[:base], false, nil
	}
	if err != nil {
		return dst[:base], false, err
	}
	return dst, true, nil
}

// normMergeSlashes is uri_normalizer_path_merge_slashes: runs of '/'
// become one.
func normMergeSlashes(dst, path []byte) ([]byte, error) {
	if len(path) > bufSize {
		return dst, ErrURITooLong
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			for i+1 < len(path) && path[i+1] == '/' {
				i++
			}
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// normStripDot is uri_normalizer_path_dot: "." segments go, with the
// slash that follows them.
func normStripDot(dst, path []byte) ([]byte, error) {
	if len(path) > bufSize {
		return dst, ErrURITooLong
	}
	for len(path) > 0 {
		seg := path
		more := false
		if i := bytes.IndexByte(path, '/'); i >= 0 {
			seg, path, more = path[:i], path[i+1:], true
		} else {
			path = nil
		}
		if len(seg) == 1 && seg[0] == '.' {
			continue
		}
		dst = append(dst, seg...)
		if more {
			dst = append(dst, '/')
		}
	}
	return dst, nil
}

// normStripDotdot is uri_normalizer_path_dotdot: each "/../" removes
// itself and the segment before it, reading the path from its end. A
// "/.." that has nothing left to remove stays at the start, unless full.
// The result can be one byte longer than the path ("/.." gives "/../").
func normStripDotdot(dst, path []byte, full bool) ([]byte, error) {
	if len(path) > bufSize {
		return dst, ErrURITooLong
	}
	// Write backwards into room at the end of dst, then move it down.
	base := len(dst)
	room := len(path) + 4
	dst = slices.Grow(dst, room)[:base+room]
	out := dst[base:]
	head := len(out)
	put := func(c byte) {
		head--
		out[head] = c
	}
	off := len(path) - 1
	up := 0
	if off >= 2 && path[off-2] == '/' && path[off-1] == '.' && path[off] == '.' {
		up++
		off -= 2
	}
	for off >= 0 {
		if off >= 3 && path[off-3] == '/' && path[off-2] == '.' && path[off-1] == '.' && path[off] == '/' {
			up++
			off -= 3
			continue
		}
		if up > 0 {
			off-- // the slash
			if off >= 0 {
				up--
				for off >= 0 && path[off] != '/' {
					off--
				}
			}
			continue
		}
		put(path[off])
		off--
		for off >= 0 && path[off] != '/' {
			put(path[off])
			off--
		}
	}
	if up > 0 {
		put('/')
		if !full {
			for ; up > 0; up-- {
				put('.')
				put('.')
				put('/')
			}
		}
	}
	n := copy(out, out[head:])
	return dst[:base+n], nil
}

// normPercent runs uri_normalizer_percent_upper (decode false: the
// hexadecimal digits of percent sequences become upper case) or
// uri_normalizer_percent_decode_unreserved (decode true: sequences of
// unreserved characters, RFC 3986 2.3, are decoded). A '%' without two
// digits after it is kept, or refused when strict.
func normPercent(dst, in []byte, decode, strict bool) ([]byte, error) {
	if len(in) > bufSize {
		return dst, ErrURITooLong
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '%' {
			hi, ok1 := unhex(at(in, i+1))
			lo, ok2 := unhex(at(in, i+2))
			if ok1 && ok2 {
				switch d := hi<<4 | lo; {
				case !decode:
					dst = append(dst, '%', upperHex(in[i+1]), upperHex(in[i+2]))
				case isUnreserved(d):
					dst = append(dst, d)
				default:
					dst = append(dst, in[i:i+3]...)
				}
				i += 2
				continue
			}
			if strict {
				return dst, ErrURIInvalid
			}
		}
		dst = append(dst, c)
	}
	return dst, nil
}

func upperHex(c byte) byte {
	if c >= 'a' && c <= 'f' {
		return c - 32
	}
	return c
}

// at is in[i], or 0 past its end.
func at(in []byte, i int) byte {
	if i < len(in) {
		return in[i]
	}
	return 0
}

func isUnreserved(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// normFragmentEncode is uri_normalizer_fragment_encode: '#' becomes %23.
func normFragmentEncode(dst, in []byte) ([]byte, error) {
	base := len(dst)
	for _, c := range in {
		if c == '#' {
			dst = append(dst, '%', '2', '3')
		} else {
			dst = append(dst, c)
		}
		if len(dst)-base > bufSize {
			return dst[:base], ErrURITooLong
		}
	}
	return dst, nil
}

// normQueryReplace runs query-sort-by-name: it sorts the query of path
// (from its '?', uri_normalizer_query_sort) then puts it in place of
// what follows the first '?' of the whole target, as
// http_replace_req_query does (even when that '?' is before the path).
func normQueryReplace(dst, uri, path []byte) ([]byte, bool, error) {
	q := bytes.IndexByte(path, '?')
	var query []byte
	if q >= 0 {
		query = path[q:]
	}
	if len(query) > bufSize {
		return dst, false, ErrURITooLong
	}
	var params [normMaxParams][2]int32
	np := 0
	for rest := 1; rest < len(query); {
		end := bytes.IndexByte(query[rest:], '&')
		next := 0
		if end < 0 {
			end, next = len(query), len(query)
		} else {
			end += rest
			next = end + 1
		}
		if np == normMaxParams {
			return dst, false, ErrURITooLong
		}
		params[np] = [2]int32{int32(rest), int32(end)}
		np++
		rest = next
	}
	name := func(p [2]int32) []byte {
		s := query[p[0]:p[1]]
		if i := bytes.IndexByte(s, '='); i >= 0 {
			s = s[:i]
		}
		return s
	}
	slices.SortStableFunc(params[:np], func(a, b [2]int32) int { return bytes.Compare(name(a), name(b)) })
	// HAProxy replaces what follows the target's first '?'; without one
	// (and so without a query) the target stays.
	qm := bytes.IndexByte(uri, '?')
	if qm < 0 {
		return append(dst, uri...), true, nil
	}
	dst = append(dst, uri[:qm+1]...)
	for i := 0; i < np; i++ {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, query[params[i][0]:params[i][1]]...)
	}
	return dst, true, nil
}
