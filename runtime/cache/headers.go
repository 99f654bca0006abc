package cache

import "github.com/gohap/gohap/runtime/h1"

// Headers gives the header lines of a message, in order.
type Headers interface {
	Len() int
	// Header returns the i-th header's name and value. The cache may
	// write in the value (Accept-Encoding is turned to lower case, as
	// HAProxy does), never past its end.
	Header(i int) (name, value []byte)
}

// equalFold compares ASCII letters case-insensitively.
func equalFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// hasPrefixFold is istmatchi: b starts with p, case-insensitively.
func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && equalFold(b[:len(p)], p)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimLWS(v []byte) []byte {
	for len(v) > 0 && isLWS(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isLWS(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

// first returns the whole value of the first header of that name
// (http_find_header with full set), trimmed.
func first(h Headers, name string) ([]byte, bool) {
	for i := 0; i < h.Len(); i++ {
		n, v := h.Header(i)
		if equalFold(n, name) {
			return trimLWS(v), true
		}
	}
	return nil, false
}

// elems walks the comma-separated elements of every header of a name
// as http_find_header does without full: an element ends at a comma
// outside quotes, blanks around it are trimmed, and an empty header or
// a trailing comma gives an empty element. fn returns false to stop.
func elems(h Headers, name string, fn func(v []byte) bool) {
	for i := 0; i < h.Len(); i++ {
		n, v := h.Header(i)
		if !equalFold(n, name) {
			continue
		}
		for {
			end := h1.ValueEnd(v)
			if !fn(trimLWS(v[:end])) {
				return
			}
			if end == len(v) {
				break
			}
			v = v[end+1:]
		}
	}
}
