// Package crypt checks passwords against crypt(3) hashes of the kinds
// HAProxy userlists use: MD5-crypt ($1$, the FreeBSD algorithm) and
// SHA-crypt ($5$ and $6$, Ulrich Drepper's specification).
package crypt

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// ErrUnsupported is returned for a hash whose scheme is not one of $1$,
// $5$ or $6$.
var ErrUnsupported = errors.New("unsupported crypt scheme")

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Supported reports whether Crypt can compute hashes like this one.
func Supported(hash string) bool {
	return strings.HasPrefix(hash, "$1$") || strings.HasPrefix(hash, "$5$") || strings.HasPrefix(hash, "$6$")
}

// Crypt hashes key with the scheme and salt of setting (a full hash or
// just "$id$[rounds=n$]salt"), as crypt(3) does.
func Crypt(key, setting string) (string, error) {
	switch {
	case strings.HasPrefix(setting, "$1$"):
		return md5Crypt([]byte(key), setting), nil
	case strings.HasPrefix(setting, "$5$"):
		return shaCrypt([]byte(key), setting, "$5$", sha256.New, sha256Order), nil
	case strings.HasPrefix(setting, "$6$"):
		return shaCrypt([]byte(key), setting, "$6$", sha512.New, sha512Order), nil
	}
	return "", ErrUnsupported
}

// Check reports whether key hashes to hash.
func Check(key, hash string) bool {
	h, err := Crypt(key, hash)
	return err == nil && subtle.ConstantTimeCompare([]byte(h), []byte(hash)) == 1
}

// b64 appends the 24-bit group b2 b1 b0 as n characters, low bits first.
func b64(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for ; n > 0; n-- {
		dst = append(dst, itoa64[w&0x3f])
		w >>= 6
	}
	return dst
}

// md5Crypt is Poul-Henning Kamp's FreeBSD MD5-crypt.
func md5Crypt(key []byte, setting string) string {
	salt := setting[3:]
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(key)
	alt.Write([]byte(salt))
	alt.Write(key)
	fin := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(key)
	ctx.Write([]byte("$1$"))
	ctx.Write([]byte(salt))
	for n := len(key); n > 0; n -= 16 {
		ctx.Write(fin[:min(n, 16)])
	}
	for i := len(key); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(key[:1])
		}
	}
	fin = ctx.Sum(nil)
	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write(key)
		} else {
			c.Write(fin)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write(key)
		}
		if i&1 != 0 {
			c.Write(fin)
		} else {
			c.Write(key)
		}
		fin = c.Sum(nil)
	}
	out := []byte("$1$" + salt + "$")
	out = b64(out, fin[0], fin[6], fin[12], 4)
	out = b64(out, fin[1], fin[7], fin[13], 4)
	out = b64(out, fin[2], fin[8], fin[14], 4)
	out = b64(out, fin[3], fin[9], fin[15], 4)
	out = b64(out, fin[4], fin[10], fin[5], 4)
	out = b64(out, 0, 0, fin[11], 2)
	return string(out)
}

// Byte orders of the final encoding, in groups of three (specification
// steps 22e).
var (
	sha256Order = []int{0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29, 31, 30}
	sha512Order = []int{0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51,
		31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41, 63}
)

// shaCrypt is SHA-crypt ("Unix crypt using SHA-256 and SHA-512").
func shaCrypt(key []byte, setting, prefix string, newHash func() hash.Hash, order []int) string {
	s := setting[len(prefix):]
	rounds, custom := 5000, false
	if strings.HasPrefix(s, "rounds=") {
		end := strings.IndexByte(s, '$')
		if end > 0 {
			if n, err := strconv.ParseUint(s[7:end], 10, 64); err == nil {
				custom = true
				rounds = int(max(1000, min(n, 999999999)))
				s = s[end+1:]
			}
		}
	}
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 16 {
		s = s[:16]
	}
	salt := []byte(s)

	b := newHash()
	b.Write(key)
	b.Write(salt)
	b.Write(key)
	db := b.Sum(nil)
	size := len(db)

	a := newHash()
	a.Write(key)
	a.Write(salt)
	for n := len(key); n > 0; n -= size {
		a.Write(db[:min(n, size)])
	}
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(db)
		} else {
			a.Write(key)
		}
	}
	da := a.Sum(nil)

	dp := newHash()
	for range key {
		dp.Write(key)
	}
	dpSum := dp.Sum(nil)
	p := make([]byte, 0, len(key))
	for n := len(key); n > 0; n -= size {
		p = append(p, dpSum[:min(n, size)]...)
	}

	ds := newHash()
	for i := 0; i < 16+int(da[0]); i++ {
		ds.Write(salt)
	}
	dsSum := ds.Sum(nil)
	sb := make([]byte, 0, len(salt))
	for n := len(salt); n > 0; n -= size {
		sb = append(sb, dsSum[:min(n, size)]...)
	}

	c := da
	for i := 0; i < rounds; i++ {
		h := newHash()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sb)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	out := []byte(prefix)
	if custom {
		out = append(out, "rounds="...)
		out = strconv.AppendInt(out, int64(rounds), 10)
		out = append(out, '$')
	}
	out = append(out, salt...)
	out = append(out, '$')
	i := 0
	for ; i+3 <= len(order); i += 3 {
		out = b64(out, c[order[i]], c[order[i+1]], c[order[i+2]], 4)
	}
	switch len(order) - i {
	case 2: // SHA-256: 32 bytes
		out = b64(out, 0, c[order[i]], c[order[i+1]], 3)
	case 1: // SHA-512: 64 bytes
		out = b64(out, 0, 0, c[order[i]], 2)
	}
	return string(out)
}
