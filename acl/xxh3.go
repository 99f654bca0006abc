package acl

import (
	"encoding/binary"
	"math/bits"
)

// XXH3-64 with a seed (XXH3_64bits_withSeed of xxHash 0.8, which HAProxy
// 2.6 ships), written from the xxHash specification. The input sizes take
// different paths: up to 16 bytes, 17 to 128, 129 to 240, and longer ones
// through 64-byte stripes accumulated in eight lanes.

const (
	xp32_1 = 0x9E3779B1
	xp32_2 = 0x85EBCA77
	xp32_3 = 0xC2B2AE3D
	xp64_1 = 0x9E3779B185EBCA87
	xp64_2 = 0xC2B2AE3D27D4EB4F
	xp64_3 = 0x165667B19E3779F9
	xp64_4 = 0x85EBCA77C2B2AE63
	xp64_5 = 0x27D4EB2F165667C5
)

// xxh3Secret is the default secret (XXH3_kSecret).
var xxh3Secret = [192]byte{
	0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
	0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
	0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
	0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
	0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
	0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
	0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
	0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
	0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
	0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
	0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
	0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// mulFold64 is the 128-bit product of a and b, its halves xored.
func mulFold64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func xxh64Avalanche(h uint64) uint64 {
	h ^= h >> 33
	h *= xp64_2
	h ^= h >> 29
	h *= xp64_3
	return h ^ h>>32
}

func xxh3Avalanche(h uint64) uint64 {
	h ^= h >> 37
	h *= 0x165667919E3779F9
	return h ^ h>>32
}

func xxh3RRMXMX(h, n uint64) uint64 {
	h ^= bits.RotateLeft64(h, 49) ^ bits.RotateLeft64(h, 24)
	h *= 0x9FB21C651E98DF25
	h ^= h>>35 + n
	h *= 0x9FB21C651E98DF25
	return h ^ h>>28
}

func xxh3Mix16(in, sec []byte, seed uint64) uint64 {
	return mulFold64(le64(in)^(le64(sec)+seed), le64(in[8:])^(le64(sec[8:])-seed))
}

// xxh3 returns XXH3_64bits_withSeed(b, seed).
func xxh3(b []byte, seed uint64) uint64 {
	n := uint64(len(b))
	sec := xxh3Secret[:]
	switch {
	case n == 0:
		return xxh64Avalanche(seed ^ le64(sec[56:]) ^ le64(sec[64:]))
	case n <= 3:
		c := uint32(b[0])<<16 | uint32(b[n>>1])<<24 | uint32(b[n-1]) | uint32(n)<<8
		flip := uint64(le32(sec)^le32(sec[4:])) + seed
		return xxh64Avalanche(uint64(c) ^ flip)
	case n <= 8:
		seed ^= uint64(bits.ReverseBytes32(uint32(seed))) << 32
		flip := (le64(sec[8:]) ^ le64(sec[16:])) - seed
		in := uint64(le32(b[n-4:])) + uint64(le32(b))<<32
		return xxh3RRMXMX(in^flip, n)
	case n <= 16:
		lo := le64(b) ^ ((le64(sec[24:]) ^ le64(sec[32:])) + seed)
		hi := le64(b[n-8:]) ^ ((le64(sec[40:]) ^ le64(sec[48:])) - seed)
		return xxh3Avalanche(n + bits.ReverseBytes64(lo) + hi + mulFold64(lo, hi))
	case n <= 128:
		acc := n * xp64_1
		for i := (n - 1) / 32; ; i-- {
			// pairs from the outside in: 0 and n-16, 16 and n-32...
			acc += xxh3Mix16(b[16*i:], sec[32*i:], seed)
			acc += xxh3Mix16(b[n-16*(i+1):], sec[32*i+16:], seed)
			if i == 0 {
				break
			}
		}
		return xxh3Avalanche(acc)
	case n <= 240:
		acc := n * xp64_1
		for i := uint64(0); i < 8; i++ {
			acc += xxh3Mix16(b[16*i:], sec[16*i:], seed)
		}
		acc = xxh3Avalanche(acc)
		for i := uint64(8); i < n/16; i++ {
			acc += xxh3Mix16(b[16*i:], sec[16*(i-8)+3:], seed)
		}
		acc += xxh3Mix16(b[n-16:], sec[136-17:], seed)
		return xxh3Avalanche(acc)
	}
	var custom [192]byte
	if seed != 0 {
		for i := 0; i < len(custom); i += 16 {
			binary.LittleEndian.PutUint64(custom[i:], le64(sec[i:])+seed)
			binary.LittleEndian.PutUint64(custom[i+8:], le64(sec[i+8:])-seed)
		}
		sec = custom[:]
	}
	return xxh3Long(b, sec)
}

// xxh3Long hashes inputs over 240 bytes: blocks of stripes, each stripe
// taking the secret 8 bytes further, the lanes scrambled between blocks.
func xxh3Long(b, sec []byte) uint64 {
	acc := [8]uint64{xp32_3, xp64_1, xp64_2, xp64_3, xp64_4, xp32_2, xp64_5, xp32_1}
	const stripe = 64
	perBlock := (len(sec) - stripe) / 8
	blockLen := stripe * perBlock
	blocks := (len(b) - 1) / blockLen
	for n := 0; n < blocks; n++ {
		for s := 0; s < perBlock; s++ {
			xxh3Accumulate(&acc, b[n*blockLen+s*stripe:], sec[s*8:])
		}
		key := sec[len(sec)-stripe:]
		for i := range acc {
			a := acc[i]
			a ^= a >> 47
			a ^= le64(key[8*i:])
			acc[i] = a * xp32_1
		}
	}
	stripes := ((len(b) - 1) - blockLen*blocks) / stripe
	for s := 0; s < stripes; s++ {
		xxh3Accumulate(&acc, b[blocks*blockLen+s*stripe:], sec[s*8:])
	}
	xxh3Accumulate(&acc, b[len(b)-stripe:], sec[len(sec)-stripe-7:])
	h := uint64(len(b)) * xp64_1
	for i := 0; i < 4; i++ {
		h += mulFold64(acc[2*i]^le64(sec[11+16*i:]), acc[2*i+1]^le64(sec[11+16*i+8:]))
	}
	return xxh3Avalanche(h)
}

func xxh3Accumulate(acc *[8]uint64, in, sec []byte) {
	for i := 0; i < 8; i++ {
		v := le64(in[8*i:])
		k := v ^ le64(sec[8*i:])
		acc[i^1] += v
		acc[i] += uint64(uint32(k)) * (k >> 32)
	}
}
