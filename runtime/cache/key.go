package cache

import (
	"crypto/sha1"
	"encoding/binary"
	"hash/crc32"
)

// SecKeyLen is the length of a secondary key (HTTP_CACHE_SEC_KEY_LEN):
// the Accept-Encoding bitmap, then the CRC32 of the Referer.
const SecKeyLen = 8

// Vary signature bits: the headers a stored response varies on.
const (
	VaryAcceptEncoding uint32 = 1 << 0
	VaryReferer        uint32 = 1 << 1
)

// Coding bits of the Accept-Encoding bitmap (enum vary_encoding).
const (
	encGzip uint32 = 1 << iota
	encDeflate
	encBr
	encCompress
	encAES128GCM
	encEXI
	encPack200Gzip
	encZstd
	encIdentity
	encStar
	encOther
)

// maxAcceptEncodings bounds the Accept-Encoding elements read; a request
// with that many gets no secondary key (ACCEPT_ENCODING_MAX_ENTRIES).
const maxAcceptEncodings = 16

// Key computes the primary key of a request as sha1_hosturi does: the
// SHA-1 of the URI when it is absolute, else of "https://" + the first
// Host value + the URI. buf is scratch space, returned for reuse. It
// reports false without a URI or a Host.
func (t *Txn) Key(buf, uri []byte, absolute bool, h Headers) ([]byte, bool) {
	if len(uri) == 0 {
		return buf, false
	}
	buf = buf[:0]
	if !absolute {
		host, ok := hostValue(h)
		if !ok {
			return buf, false
		}
		buf = append(buf, "https://"...)
		buf = append(buf, host...)
	}
	buf = append(buf, uri...)
	t.Hash = sha1.Sum(buf)
	t.Flags |= FlagKeyed
	return buf, true
}

// hostValue is the first element of the first Host header.
func hostValue(h Headers) (v []byte, ok bool) {
	elems(h, "host", func(e []byte) bool {
		v, ok = e, true
		return false
	})
	return v, ok
}

// Primary is the 32-bit key entries are indexed by: the hash's first
// four bytes read as the host's (little-endian) integer.
func Primary(hash *[20]byte) uint32 { return binary.LittleEndian.Uint32(hash[:4]) }

// parseEncoding is parse_encoding_value: a known coding (lower case) and
// its weight; nullWeight reports "q=0". ok is false for an unknown
// coding or a bad suffix.
func parseEncoding(v []byte) (bit uint32, nullWeight, ok bool) {
	if len(v) == 0 {
		return 0, false, false
	}
	match := func(rest []byte, name string) []byte {
		if len(rest) >= len(name) && string(rest[:len(name)]) == name {
			bit = 1
			return rest[len(name):]
		}
		return rest
	}
	rest := v[1:]
	var b uint32
	switch v[0] {
	case 'a':
		rest, b = match(rest, "es128gcm"), encAES128GCM
	case 'b':
		rest, b = match(rest, "r"), encBr
	case 'c':
		rest, b = match(rest, "ompress"), encCompress
	case 'd':
		rest, b = match(rest, "eflate"), encDeflate
	case 'e':
		rest, b = match(rest, "xi"), encEXI
	case 'g':
		rest, b = match(rest, "zip"), encGzip
	case 'i':
		rest, b = match(rest, "dentity"), encIdentity
	case 'p':
		rest, b = match(rest, "ack200-gzip"), encPack200Gzip
	case 'x':
		if rest, b = match(rest, "-gzip"), encGzip; bit == 0 {
			rest, b = match(rest, "-compress"), encCompress
		}
	case 'z':
		rest, b = match(rest, "std"), encZstd
	case '*':
		bit, b = 1, encStar
	default:
		return 0, false, false
	}
	if bit == 0 {
		// A known first letter but another name: no bit, no error.
		return 0, false, true
	}
	bit = b
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if rest[0] != ';' {
			return bit, false, false
		}
		rest = rest[1:]
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			rest = rest[1:]
		}
		nullWeight = string(rest) == "q=0"
	}
	return bit, nullWeight, true
}

// acceptEncodingBitmap is accept_encoding_normalizer: the codings the
// client accepts, identity unless refused, all of them without the
// header. ok is false when the request lists too many. As HAProxy does,
// it turns the values it reads to lower case in place: the request goes
// on with them so.
func acceptEncodingBitmap(h Headers) (bitmap uint32, ok bool) {
	count := 0
	bitmap = encIdentity
	blacklist := ^uint32(0)
	elems(h, "accept-encoding", func(v []byte) bool {
		if count >= maxAcceptEncodings {
			return false
		}
		count++
		if len(v) == 0 {
			return true
		}
		for i, c := range v {
			v[i] = lower(c)
		}
		bit, null, good := parseEncoding(v)
		switch {
		case !good:
			bitmap |= encOther
		case null:
			blacklist &^= bit
		default:
			bitmap |= bit
		}
		return true
	})
	if bitmap&encStar != 0 {
		bitmap = ^uint32(0)
	}
	bitmap &= blacklist
	if count == 0 {
		bitmap = ^uint32(0)
	}
	if count == maxAcceptEncodings {
		return 0, false
	}
	return bitmap, true
}

// BuildSecondary computes the secondary key of a request for the
// headers of sig (all of them before the response tells which):
// http_request_build_secondary_key. It reports false when the request
// cannot have one.
func (t *Txn) BuildSecondary(h Headers, sig uint32) bool {
	t.SecKey = [SecKeyLen]byte{}
	if sig&VaryAcceptEncoding != 0 {
		bm, ok := acceptEncodingBitmap(h)
		if !ok {
			t.Flags &^= FlagHasSecKey
			return false
		}
		binary.LittleEndian.PutUint32(t.SecKey[0:4], bm)
	}
	if sig&VaryReferer != 0 {
		if v, ok := first(h, "referer"); ok {
			binary.LittleEndian.PutUint32(t.SecKey[4:8], crc32.ChecksumIEEE(v))
		}
	}
	t.Flags |= FlagHasSecKey
	return true
}

// reduceSecondary keeps the parts of a prebuilt key that sig names.
func reduceSecondary(k *[SecKeyLen]byte, sig uint32) {
	if sig&VaryAcceptEncoding == 0 {
		copy(k[0:4], []byte{0, 0, 0, 0})
	}
	if sig&VaryReferer == 0 {
		copy(k[4:8], []byte{0, 0, 0, 0})
	}
}

// secondaryMatch is secondary_key_cmp == 0: the stored response's
// codings must all be accepted, the Referer hashes equal.
func secondaryMatch(ref, req *[SecKeyLen]byte) bool {
	r := binary.LittleEndian.Uint32(ref[0:4])
	n := binary.LittleEndian.Uint32(req[0:4])
	if r&encOther != 0 || r&n != r {
		return false
	}
	return string(ref[4:8]) == string(req[4:8])
}

// varySignature reads the response's Vary elements; ok is false when
// one names a header the cache cannot vary on.
func varySignature(h Headers) (sig uint32, ok bool) {
	ok = true
	elems(h, "vary", func(v []byte) bool {
		switch {
		case equalFold(v, "accept-encoding"):
			sig |= VaryAcceptEncoding
		case equalFold(v, "referer"):
			sig |= VaryReferer
		default:
			ok = false
		}
		return ok
	})
	return sig, ok
}

// responseEncoding is set_secondary_key_encoding's bitmap: the response's
// codings, identity without any; ok is false for an unknown coding.
func responseEncoding(h Headers) (bm uint32, ok bool) {
	ok = true
	elems(h, "content-encoding", func(v []byte) bool {
		bit, _, good := parseEncoding(v)
		if !good {
			ok = false
			return false
		}
		bm |= bit
		return true
	})
	if bm == 0 {
		bm = encIdentity
	}
	return bm, ok
}
