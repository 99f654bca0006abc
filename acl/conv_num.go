package acl

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"math"
	"math/bits"
	"time"

	"github.com/cespare/xxhash/v2"
)

func init() {
	addConv(
		&convDef{name: "crc32", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convHash32},
		&convDef{name: "crc32c", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convHash32},
		&convDef{name: "djb2", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convHash32},
		&convDef{name: "sdbm", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convHash32},
		&convDef{name: "wt6", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convHash32},
		&convDef{name: "xxh32", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convXXH32},
		&convDef{name: "xxh64", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convXXH64},
		&convDef{name: "xxh3", args: spec(0, aSint), in: TypeBin, out: TypeInt, fn: convXXH3},
		&convDef{name: "sha1", in: TypeBin, out: TypeBin, fn: convDigest, check: checkSHA1},
		&convDef{name: "sha2", args: spec(0, aSint), in: TypeBin, out: TypeBin, fn: convDigest, check: checkSHA2},
		&convDef{name: "digest", args: spec(1, aStr), in: TypeBin, out: TypeBin, fn: convDigest, check: checkDigest},
		&convDef{name: "hmac", args: spec(2, aStr, aStr), in: TypeBin, out: TypeBin, fn: convHMAC, check: checkHMAC},

		&convDef{name: "and", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "or", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "xor", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "add", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "sub", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "mul", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "div", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "mod", args: spec(1, aStr), in: TypeInt, out: TypeInt, fn: convArith, check: checkOperator},
		&convDef{name: "cpl", in: TypeInt, out: TypeInt, fn: convUnary},
		&convDef{name: "neg", in: TypeInt, out: TypeInt, fn: convUnary},
		&convDef{name: "bool", in: TypeInt, out: TypeBool, fn: convUnary},
		&convDef{name: "not", in: TypeInt, out: TypeBool, fn: convUnary},
		&convDef{name: "odd", in: TypeInt, out: TypeBool, fn: convUnary},
		&convDef{name: "even", in: TypeInt, out: TypeBool, fn: convUnary},

		&convDef{name: "ltime", args: spec(1, aStr, aSint), in: TypeInt, out: TypeStr, fn: convTime},
		&convDef{name: "utime", args: spec(1, aStr, aSint), in: TypeInt, out: TypeStr, fn: convTime},
		&convDef{name: "http_date", args: spec(0, aSint, aStr), in: TypeInt, out: TypeStr, fn: convHTTPDate, check: checkHTTPDate},
	)
}

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

func hashDJB2(b []byte) uint32 {
	h := uint32(5381)
	for _, c := range b {
		h = (h << 5) + h + uint32(c)
	}
	return h
}

func hashWT6(b []byte) uint32 {
	h0, h1 := uint32(0xa53c965a), uint32(0x5ca6953a)
	s0, s1 := uint32(6), uint32(18)
	for _, c := range b {
		t := uint32(c)
		h0 = ^(h0 ^ t)
		h1 = ^(h1 + t)
		t = bits.RotateLeft32(h1, int(s0))
		h1 = bits.RotateLeft32(h0, int(s1))
		h0 = t
		t = (h0>>16 ^ h1) & 0xffff
		s0 = t & 0x1f
		s1 = t >> 11
	}
	return h0 ^ h1
}

// convHash32 runs the 32-bit hashes; a non-zero argument applies
// full_hash to the result.
func convHash32(c *conv, t *Txn, v *Value) bool {
	var h uint32
	switch c.def.name {
	case "crc32":
		h = crc32.ChecksumIEEE(v.B)
	case "crc32c":
		h = crc32.Checksum(v.B, crc32cTable)
	case "djb2":
		h = hashDJB2(v.B)
	case "sdbm":
		h = sdbmStep(0, v.B)
	case "wt6":
		h = hashWT6(v.B)
	}
	if argInt(c.args, 0, 0) != 0 {
		h = fullHash(h)
	}
	v.Type, v.I = TypeInt, int64(h)
	return true
}

// xxh32 is XXH32 (xxHash's 32-bit variant).
func xxh32(b []byte, seed uint32) uint32 {
	const p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
	round := func(acc, in uint32) uint32 { return bits.RotateLeft32(acc+in*p2, 13) * p1 }
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		v1, v2, v3, v4 := seed+p1+p2, seed+p2, seed, seed-p1
		for len(b) >= 16 {
			v1 = round(v1, binary.LittleEndian.Uint32(b))
			v2 = round(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + p5
	}
	h += n
	for len(b) >= 4 {
		h = bits.RotateLeft32(h+binary.LittleEndian.Uint32(b)*p3, 17) * p4
		b = b[4:]
	}
	for _, c := range b {
		h = bits.RotateLeft32(h+uint32(c)*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

func convXXH32(c *conv, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, int64(xxh32(v.B, uint32(argInt(c.args, 0, 0))))
	return true
}

func convXXH64(c *conv, t *Txn, v *Value) bool {
	var d xxhash.Digest
	d.ResetWithSeed(uint64(argInt(c.args, 0, 0)))
	_, _ = d.Write(v.B)
	v.Type, v.I = TypeInt, int64(d.Sum64())
	return true
}

func convXXH3(c *conv, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, int64(xxh3(v.B, uint64(argInt(c.args, 0, 0))))
	return true
}

// Digest algorithms, by OpenSSL name (EVP_get_digestbyname).
const (
	dgMD5 = iota + 1
	dgSHA1
	dgSHA224
	dgSHA256
	dgSHA384
	dgSHA512
	dgSHA512_224
	dgSHA512_256
	dgSHA3_224
	dgSHA3_256
	dgSHA3_384
	dgSHA3_512
)

var digestNames = map[string]int64{
	"md5": dgMD5, "sha1": dgSHA1, "sha224": dgSHA224, "sha256": dgSHA256, "sha384": dgSHA384,
	"sha512": dgSHA512, "sha512-224": dgSHA512_224, "sha512-256": dgSHA512_256,
	"sha3-224": dgSHA3_224, "sha3-256": dgSHA3_256, "sha3-384": dgSHA3_384, "sha3-512": dgSHA3_512,
	"MD5": dgMD5, "SHA1": dgSHA1, "SHA224": dgSHA224, "SHA256": dgSHA256, "SHA384": dgSHA384,
	"SHA512": dgSHA512, "SHA512-224": dgSHA512_224, "SHA512-256": dgSHA512_256,
	"SHA3-224": dgSHA3_224, "SHA3-256": dgSHA3_256, "SHA3-384": dgSHA3_384, "SHA3-512": dgSHA3_512,
}

// opensslOnly are digests OpenSSL knows and Go's library does not.
var opensslOnly = map[string]bool{"md4": true, "MD4": true, "ripemd160": true, "RIPEMD160": true,
	"blake2b512": true, "BLAKE2b512": true, "blake2s256": true, "BLAKE2s256": true, "sm3": true, "SM3": true,
	"shake128": true, "SHAKE128": true, "shake256": true, "SHAKE256": true, "md5-sha1": true, "MD5-SHA1": true}

func checkDigestName(c *conv, name string) error {
	if id, ok := digestNames[name]; ok {
		c.i = id
		return nil
	}
	if opensslOnly[name] {
		return errorf("digest '%s': %w", name, errNotImpl)
	}
	return errorf("algorithm must be a valid OpenSSL message digest name.")
}

func checkDigest(c *conv, _ *Context) error { return checkDigestName(c, c.args[0].s) }

func checkSHA1(c *conv, _ *Context) error {
	c.i = dgSHA1
	return nil
}

func checkSHA2(c *conv, _ *Context) error {
	switch argInt(c.args, 0, 256) {
	case 224:
		c.i = dgSHA224
	case 256:
		c.i = dgSHA256
	case 384:
		c.i = dgSHA384
	case 512:
		c.i = dgSHA512
	default:
		return errorf("Unsupported number of bits: '%d'", c.args[0].i)
	}
	return nil
}

func appendDigest(dst []byte, alg int64, b []byte) []byte {
	switch alg {
	case dgMD5:
		s := md5.Sum(b)
		return append(dst, s[:]...)
	case dgSHA1:
		s := sha1.Sum(b)
		return append(dst, s[:]...)
	case dgSHA224:
		s := sha256.Sum224(b)
		return append(dst, s[:]...)
	case dgSHA256:
		s := sha256.Sum256(b)
		return append(dst, s[:]...)
	case dgSHA384:
		s := sha512.Sum384(b)
		return append(dst, s[:]...)
	case dgSHA512:
		s := sha512.Sum512(b)
		return append(dst, s[:]...)
	case dgSHA512_224:
		s := sha512.Sum512_224(b)
		return append(dst, s[:]...)
	case dgSHA512_256:
		s := sha512.Sum512_256(b)
		return append(dst, s[:]...)
	case dgSHA3_224:
		s := sha3.Sum224(b)
		return append(dst, s[:]...)
	case dgSHA3_256:
		s := sha3.Sum256(b)
		return append(dst, s[:]...)
	case dgSHA3_384:
		s := sha3.Sum384(b)
		return append(dst, s[:]...)
	case dgSHA3_512:
		s := sha3.Sum512(b)
		return append(dst, s[:]...)
	}
	return dst
}

func digestHash(alg int64) func() hash.Hash {
	switch alg {
	case dgMD5:
		return md5.New
	case dgSHA1:
		return sha1.New
	case dgSHA224:
		return sha256.New224
	case dgSHA256:
		return sha256.New
	case dgSHA384:
		return sha512.New384
	case dgSHA512:
		return sha512.New
	case dgSHA512_224:
		return sha512.New512_224
	case dgSHA512_256:
		return sha512.New512_256
	case dgSHA3_224:
		return func() hash.Hash { return sha3.New224() }
	case dgSHA3_256:
		return func() hash.Hash { return sha3.New256() }
	case dgSHA3_384:
		return func() hash.Hash { return sha3.New384() }
	}
	return func() hash.Hash { return sha3.New512() }
}

func convDigest(c *conv, t *Txn, v *Value) bool {
	return out(t, v, TypeBin, appendDigest(t.tmp(), c.i, v.B))
}

// checkHMAC takes the key as a variable name or base64 text
// (sample_check_arg_base64 in src/ssl_sample.c).
func checkHMAC(c *conv, ctx *Context) error {
	if err := checkDigestName(c, c.args[0].s); err != nil {
		return err
	}
	k := &c.args[1]
	if k.s == "" {
		return nil
	}
	if varArg(k, ctx) == nil {
		return nil
	}
	dec, ok := appendBase64Dec(nil, k.b)
	if !ok {
		return errorf("failed to parse key : argument needs to be base64 encoded, and can either be a string or a variable")
	}
	k.b = dec
	return nil
}

func convHMAC(c *conv, t *Txn, v *Value) bool {
	in := v.B
	key := c.args[1].b
	if c.args[1].isVar {
		kv, ok := varText(t, &c.args[1])
		if !ok {
			return false
		}
		if key, ok = appendBase64Dec(t.tmp(), kv); !ok {
			return false
		}
		key = t.keep(key)
	}
	m := hmac.New(digestHash(c.i), key)
	m.Write(in)
	return out(t, v, TypeBin, m.Sum(t.tmp()))
}

// checkOperator is check_operator: a variable name or an integer.
func checkOperator(c *conv, ctx *Context) error {
	a := &c.args[0]
	if varArg(a, ctx) == nil {
		return nil
	}
	n, used := readInt64(a.b)
	if used != len(a.b) {
		return errorf("expects an integer or a variable name")
	}
	a.i = n
	return nil
}

// operand is an arithmetic converter's argument value.
func operand(t *Txn, a *arg) (int64, bool) {
	if !a.isVar {
		return a.i, true
	}
	var x Value
	if !t.getVar(a.scope, a.name, &x) || !cast(t, &x, TypeInt) {
		return 0, false
	}
	return x.I, true
}

// arithAdd adds with saturation, as arith_add does.
func arithAdd(a, b int64) int64 {
	if (a ^ b) >= 0 {
		if a < 0 && math.MinInt64-a > b {
			return math.MinInt64
		}
		if math.MaxInt64-a < b {
			return math.MaxInt64
		}
	}
	return a + b
}

func convArith(c *conv, t *Txn, v *Value) bool {
	b, ok := operand(t, &c.args[0])
	if !ok {
		return false
	}
	a := v.I
	switch c.def.name {
	case "and":
		a &= b
	case "or":
		a |= b
	case "xor":
		a ^= b
	case "add":
		a = arithAdd(a, b)
	case "sub":
		if b == math.MinInt64 {
			a = arithAdd(a, math.MaxInt64)
			if a < math.MaxInt64 {
				a++
			}
		} else {
			a = arithAdd(a, -b)
		}
	case "mul":
		switch {
		case a == 0 || b == 0:
			a = 0
		case a == math.MinInt64 && b == -1:
			a = math.MaxInt64
		default:
			p := a * b
			if p/b != a {
				if (a < 0) == (b < 0) {
					p = math.MaxInt64
				} else {
					p = math.MinInt64
				}
			}
			a = p
		}
	case "div":
		switch {
		case b == 0:
			a = math.MaxInt64
		case a == math.MinInt64 && b == -1:
			a = math.MaxInt64
		default:
			a /= b
		}
	case "mod":
		if b == 0 || a == math.MinInt64 && b == -1 {
			a = 0
		} else {
			a %= b
		}
	}
	v.Type, v.I = TypeInt, a
	return true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func convUnary(c *conv, t *Txn, v *Value) bool {
	a := v.I
	typ := TypeBool
	switch c.def.name {
	case "cpl":
		a, typ = ^a, TypeInt
	case "neg":
		if a == math.MinInt64 {
			a = math.MaxInt64
		} else {
			a = -a
		}
		typ = TypeInt
	case "bool":
		a = b2i(a != 0)
	case "not":
		a = b2i(a == 0)
	case "odd":
		a &= 1
	case "even":
		a = b2i(a&1 == 0)
	}
	v.Type, v.I = typ, a
	return true
}

// local is the zone ltime formats in.
var local = time.Local

func convTime(c *conv, t *Txn, v *Value) bool {
	sec := v.I & 0x007fffffffffffff
	sec += argInt(c.args, 1, 0)
	tm := time.Unix(sec, 0).UTC()
	if c.def.name == "ltime" {
		tm = tm.In(local)
	}
	return out(t, v, TypeStr, appendStrftime(t.tmp(), c.args[0].b, tm))
}

func checkHTTPDate(c *conv, _ *Context) error { return dateUnit(c.args) }

var (
	dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func append0(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 || i == len(buf) {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	if neg {
		dst = append(dst, '-')
	}
	return append(dst, buf[i:]...)
}

func convHTTPDate(c *conv, t *Txn, v *Value) bool {
	n := v.I + argInt(c.args, 0, 0)
	unit := argInt(c.args, 1, unitS)
	frac := int64(0)
	switch unit {
	case unitMS:
		frac, n = n%1000, n/1000
	case unitUS:
		frac, n = n%1000000, n/1000000
	}
	tm := time.Unix(n&0x007fffffffffffff, 0).UTC()
	b := t.tmp()
	b = append(b, dayNames[tm.Weekday()]...)
	b = append(b, ", "...)
	b = append0(b, tm.Day(), 2)
	b = append(b, ' ')
	b = append(b, monNames[tm.Month()-1]...)
	b = append(b, ' ')
	b = append0(b, tm.Year(), 4)
	b = append(b, ' ')
	b = append0(b, tm.Hour(), 2)
	b = append(b, ':')
	b = append0(b, tm.Minute(), 2)
	b = append(b, ':')
	b = append0(b, tm.Second(), 2)
	if unit != unitS {
		b = append(b, '.')
		b = append0(b, int(frac), 0)
	}
	b = append(b, " GMT"...)
	return out(t, v, TypeStr, b)
}

// appendStrftime formats tm as C's strftime in the C locale.
func appendStrftime(dst, f []byte, tm time.Time) []byte {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			dst = append(dst, f[i])
			continue
		}
		i++
		switch f[i] {
		case 'a':
			dst = append(dst, dayNames[tm.Weekday()]...)
		case 'A':
			dst = append(dst, tm.Weekday().String()...)
		case 'b', 'h':
			dst = append(dst, monNames[tm.Month()-1]...)
		case 'B':
			dst = append(dst, tm.Month().String()...)
		case 'c':
			dst = appendStrftime(dst, []byte("%a %b %e %H:%M:%S %Y"), tm)
		case 'C':
			dst = append0(dst, tm.Year()/100, 2)
		case 'd':
			dst = append0(dst, tm.Day(), 2)
		case 'D':
			dst = appendStrftime(dst, []byte("%m/%d/%y"), tm)
		case 'e':
			if tm.Day() < 10 {
				dst = append(dst, ' ')
			}
			dst = append0(dst, tm.Day(), 1)
		case 'F':
			dst = appendStrftime(dst, []byte("%Y-%m-%d"), tm)
		case 'G':
			y, _ := tm.ISOWeek()
			dst = append0(dst, y, 1)
		case 'g':
			y, _ := tm.ISOWeek()
			dst = append0(dst, y%100, 2)
		case 'H':
			dst = append0(dst, tm.Hour(), 2)
		case 'I':
			h := tm.Hour() % 12
			if h == 0 {
				h = 12
			}
			dst = append0(dst, h, 2)
		case 'j':
			dst = append0(dst, tm.YearDay(), 3)
		case 'k':
			if tm.Hour() < 10 {
				dst = append(dst, ' ')
			}
			dst = append0(dst, tm.Hour(), 1)
		case 'l':
			h := tm.Hour() % 12
			if h == 0 {
				h = 12
			}
			if h < 10 {
				dst = append(dst, ' ')
			}
			dst = append0(dst, h, 1)
		case 'm':
			dst = append0(dst, int(tm.Month()), 2)
		case 'M':
			dst = append0(dst, tm.Minute(), 2)
		case 'n':
			dst = append(dst, '\n')
		case 'p':
			if tm.Hour() < 12 {
				dst = append(dst, "AM"...)
			} else {
				dst = append(dst, "PM"...)
			}
		case 'P':
			if tm.Hour() < 12 {
				dst = append(dst, "am"...)
			} else {
				dst = append(dst, "pm"...)
			}
		case 'r':
			dst = appendStrftime(dst, []byte("%I:%M:%S %p"), tm)
		case 'R':
			dst = appendStrftime(dst, []byte("%H:%M"), tm)
		case 's':
			dst = append0(dst, int(tm.Unix()), 1)
		case 'S':
			dst = append0(dst, tm.Second(), 2)
		case 't':
			dst = append(dst, '\t')
		case 'T':
			dst = appendStrftime(dst, []byte("%H:%M:%S"), tm)
		case 'u':
			wd := int(tm.Weekday())
			if wd == 0 {
				wd = 7
			}
			dst = append0(dst, wd, 1)
		case 'U':
			dst = append0(dst, (tm.YearDay()+6-int(tm.Weekday()))/7, 2)
		case 'V':
			_, w := tm.ISOWeek()
			dst = append0(dst, w, 2)
		case 'w':
			dst = append0(dst, int(tm.Weekday()), 1)
		case 'W':
			dst = append0(dst, (tm.YearDay()+6-(int(tm.Weekday())+6)%7)/7, 2)
		case 'x':
			dst = appendStrftime(dst, []byte("%m/%d/%y"), tm)
		case 'X':
			dst = appendStrftime(dst, []byte("%H:%M:%S"), tm)
		case 'y':
			dst = append0(dst, tm.Year()%100, 2)
		case 'Y':
			dst = append0(dst, tm.Year(), 1)
		case 'z':
			_, off := tm.Zone()
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			dst = append(dst, sign)
			dst = append0(dst, off/3600, 2)
			dst = append0(dst, off%3600/60, 2)
		case 'Z':
			z, _ := tm.Zone()
			dst = append(dst, z...)
		case '%':
			dst = append(dst, '%')
		default:
			dst = append(dst, '%', f[i])
		}
	}
	return dst
}
