package backend

import (
	"hash/crc32"
	"math/bits"
)

// HashFunc is one of HAProxy's hash functions for "hash-type".
type HashFunc uint8

// Hash functions; SDBMHash is HAProxy's default.
const (
	SDBMHash HashFunc = iota
	DJB2Hash
	WT6Hash
	CRC32Hash
)

// ParseHashFunc maps a "hash-type" function name to its HashFunc.
func ParseHashFunc(name string) (HashFunc, bool) {
	switch name {
	case "sdbm":
		return SDBMHash, true
	case "djb2":
		return DJB2Hash, true
	case "wt6":
		return WT6Hash, true
	case "crc32":
		return CRC32Hash, true
	}
	return 0, false
}

// Sum hashes b with f.
func (f HashFunc) Sum(b []byte) uint32 {
	switch f {
	case DJB2Hash:
		return DJB2(b)
	case WT6Hash:
		return WT6(b)
	case CRC32Hash:
		return CRC32(b)
	}
	return SDBM(b)
}

// SDBM is HAProxy's default hash function (hash_sdbm). HAProxy 2.6
// reads the key as signed chars, which matters for bytes above 0x7f.
func SDBM(b []byte) uint32 {
	var h uint32
	for _, c := range b {
		h = uint32(int32(int8(c))) + (h << 6) + (h << 16) - h
	}
	return h
}

// DJB2 is hash_djb2, on signed chars as SDBM.
func DJB2(b []byte) uint32 {
	h := uint32(5381)
	for _, c := range b {
		h = (h << 5) + h + uint32(int32(int8(c)))
	}
	return h
}

// WT6 is hash_wt6. Its shifts by 32-step are rotations: x86 masks the
// shift count, which is what HAProxy's binaries do when step is 0.
func WT6(b []byte) uint32 {
	h0, h1 := uint32(0xa53c965a), uint32(0x5ca6953a)
	step0, step1 := 6, 18
	for _, c := range b {
		t := uint32(c)
		h0 = ^(h0 ^ t)
		h1 = ^(h1 + t)
		t = bits.RotateLeft32(h1, step0)
		h1 = bits.RotateLeft32(h0, step1)
		h0 = t
		t = ((h0 >> 16) ^ h1) & 0xffff
		step0 = int(t & 0x1f)
		step1 = int(t >> 11)
	}
	return h0 ^ h1
}

// CRC32 is hash_crc32, the IEEE CRC.
func CRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// FullHash is HAProxy's "avalanche" hash modifier (full_hash).
func FullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	// Spread over the whole 32-bit space with a large prime.
	return a * 3221225473
}
