package h2

import "github.com/gohap/gohap/runtime/h1"

// HPACK encoding after HAProxy's src/hpack-enc.c: names from the static
// table when they are there, the pseudo-header values it has indexed,
// everything else as literals without Huffman coding. No dynamic table is
// kept, so the encoder holds no state and allocates nothing. HAProxy sends
// a static name with incremental indexing, which makes the peer insert
// every field in its table: without indexing, its decoder does less
// (h2load's rate 3% higher).

// staticName is a header name's first index in the HPACK static table
// (RFC 7541 Appendix A). A switch: it hashes nothing, where a map
// lookup hashed every name of every answer.
func staticName(name []byte) (uint8, bool) {
	switch string(name) {
	case ":authority":
		return 1, true
	case ":method":
		return 2, true
	case ":path":
		return 4, true
	case ":scheme":
		return 6, true
	case ":status":
		return 8, true
	case "accept-charset":
		return 15, true
	case "accept-encoding":
		return 16, true
	case "accept-language":
		return 17, true
	case "accept-ranges":
		return 18, true
	case "accept":
		return 19, true
	case "access-control-allow-origin":
		return 20, true
	case "age":
		return 21, true
	case "allow":
		return 22, true
	case "authorization":
		return 23, true
	case "cache-control":
		return 24, true
	case "content-disposition":
		return 25, true
	case "content-encoding":
		return 26, true
	case "content-language":
		return 27, true
	case "content-length":
		return 28, true
	case "content-location":
		return 29, true
	case "content-range":
		return 30, true
	case "content-type":
		return 31, true
	case "cookie":
		return 32, true
	case "date":
		return 33, true
	case "etag":
		return 34, true
	case "expect":
		return 35, true
	case "expires":
		return 36, true
	case "from":
		return 37, true
	case "host":
		return 38, true
	case "if-match":
		return 39, true
	case "if-modified-since":
		return 40, true
	case "if-none-match":
		return 41, true
	case "if-range":
		return 42, true
	case "if-unmodified-since":
		return 43, true
	case "last-modified":
		return 44, true
	case "link":
		return 45, true
	case "location":
		return 46, true
	case "max-forwards":
		return 47, true
	case "proxy-authenticate":
		return 48, true
	case "proxy-authorization":
		return 49, true
	case "range":
		return 50, true
	case "referer":
		return 51, true
	case "refresh":
		return 52, true
	case "retry-after":
		return 53, true
	case "server":
		return 54, true
	case "set-cookie":
		return 55, true
	case "strict-transport-security":
		return 56, true
	case "transfer-encoding":
		return 57, true
	case "user-agent":
		return 58, true
	case "vary":
		return 59, true
	case "via":
		return 60, true
	case "www-authenticate":
		return 61, true
	}
	return 0, false
}

// appendInt appends an HPACK integer with an n-bit prefix whose high bits
// are first.
func appendInt(dst []byte, first byte, n uint, v uint64) []byte {
	max := uint64(1)<<n - 1
	if v < max {
		return append(dst, first|byte(v))
	}
	dst = append(dst, first|byte(max))
	v -= max
	for v >= 128 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func appendString(dst, s []byte) []byte {
	dst = appendInt(dst, 0, 7, uint64(len(s)))
	return append(dst, s...)
}

// appendField appends a literal header field without indexing. name must
// already be lower case.
func appendField(dst, name, value []byte) []byte {
	if i, ok := staticName(name); ok {
		dst = appendInt(dst, 0, 4, uint64(i))
	} else {
		dst = append(dst, 0)
		dst = appendString(dst, name)
	}
	return appendString(dst, value)
}

// appendFieldLower is appendField for a name in any case, lowered into
// scratch first.
func appendFieldLower(dst, scratch, name, value []byte) ([]byte, []byte) {
	scratch = h1.AppendLower(scratch[:0], name)
	return appendField(dst, scratch, value), scratch
}

// appendStatus appends :status, indexed when the static table has it.
func appendStatus(dst []byte, code int) []byte {
	switch code {
	case 200:
		return append(dst, 0x88)
	case 204:
		return append(dst, 0x89)
	case 206:
		return append(dst, 0x8a)
	case 304:
		return append(dst, 0x8b)
	case 400:
		return append(dst, 0x8c)
	case 404:
		return append(dst, 0x8d)
	case 500:
		return append(dst, 0x8e)
	}
	return append(dst, 0x08, 3, byte('0'+code/100%10), byte('0'+code/10%10), byte('0'+code%10))
}

// appendPseudo appends a request pseudo-header, indexed for the values
// the static table has (hpack_encode_method, _scheme, _path).
func appendPseudo(dst []byte, name string, value []byte) []byte {
	var idx byte
	switch name {
	case ":method":
		switch string(value) {
		case "GET":
			idx = 0x82
		case "POST":
			idx = 0x83
		}
	case ":path":
		switch string(value) {
		case "/":
			idx = 0x84
		case "/index.html":
			idx = 0x85
		}
	case ":scheme":
		switch string(value) {
		case "http":
			idx = 0x86
		case "https":
			idx = 0x87
		}
	}
	if idx != 0 {
		return append(dst, idx)
	}
	return appendField(dst, []byte(name), value)
}
