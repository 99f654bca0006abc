package acl

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/gohap/gohap/parser"
)

// convDefs are the converters by keyword (configuration.txt 7.3.1).
var convDefs = map[string]*convDef{}

func addConv(d ...*convDef) {
	for _, c := range d {
		convDefs[c.name] = c
	}
}

func init() {
	addConv(
		&convDef{name: "lower", in: TypeStr, out: TypeStr, fn: convLower},
		&convDef{name: "upper", in: TypeStr, out: TypeStr, fn: convUpper},
		&convDef{name: "length", in: TypeStr, out: TypeInt, fn: convLength},
		&convDef{name: "base64", in: TypeBin, out: TypeStr, fn: convBase64},
		&convDef{name: "b64dec", in: TypeStr, out: TypeBin, fn: convB64Dec},
		&convDef{name: "ub64enc", in: TypeBin, out: TypeStr, fn: convUB64Enc},
		&convDef{name: "ub64dec", in: TypeStr, out: TypeBin, fn: convUB64Dec},
		&convDef{name: "hex", in: TypeBin, out: TypeStr, fn: convHex},
		&convDef{name: "hex2i", in: TypeStr, out: TypeInt, fn: convHex2i},
		&convDef{name: "be2dec", args: spec(1, aStr, aSint, aSint), in: TypeBin, out: TypeStr, fn: convBe2Dec, check: checkBe2Dec},
		&convDef{name: "be2hex", args: spec(1, aStr, aSint, aSint), in: TypeBin, out: TypeStr, fn: convBe2Hex, check: checkBe2Hex},
		&convDef{name: "bytes", args: spec(1, aSint, aSint), in: TypeBin, out: TypeBin, fn: convBytes},
		&convDef{name: "field", args: spec(2, aSint, aStr, aSint), in: TypeStr, out: TypeStr, fn: convField, check: checkField},
		&convDef{name: "word", args: spec(2, aSint, aStr, aSint), in: TypeStr, out: TypeStr, fn: convWord, check: checkField},
		&convDef{name: "regsub", args: spec(2, aReg, aStr, aStr), in: TypeStr, out: TypeStr, fn: convRegsub, check: checkRegsub},
		&convDef{name: "ipmask", args: spec(1, aMsk4, aMsk6), in: TypeAddr, out: TypeIPv4, fn: convIPMask},
		&convDef{name: "json", args: spec(1, aStr), in: TypeStr, out: TypeStr, fn: convJSON, check: checkJSON},
		&convDef{name: "concat", args: spec(1, aStr, aStr, aStr), in: TypeStr, out: TypeStr, fn: convConcat, check: checkConcat},
		&convDef{name: "add_item", args: spec(2, aStr, aStr, aStr), in: TypeStr, out: TypeStr, fn: convAddItem, check: checkAddItem},
		&convDef{name: "strcmp", args: spec(1, aStr), in: TypeStr, out: TypeInt, fn: convStrcmp, check: checkVarArg},
		&convDef{name: "secure_memcmp", args: spec(1, aStr), in: TypeBin, out: TypeBool, fn: convSecureMemcmp, check: checkVarArg},
		&convDef{name: "iif", args: spec(2, aStr, aStr), in: TypeBool, out: TypeStr, fn: convIif},
		&convDef{name: "htonl", in: TypeInt, out: TypeBin, fn: convHtonl},
		&convDef{name: "cut_crlf", in: TypeStr, out: TypeStr, fn: convCutCRLF},
		&convDef{name: "ltrim", args: spec(1, aStr), in: TypeStr, out: TypeStr, fn: convLtrim},
		&convDef{name: "rtrim", args: spec(1, aStr), in: TypeStr, out: TypeStr, fn: convRtrim},
		&convDef{name: "url_dec", args: spec(0, aSint), in: TypeStr, out: TypeStr, fn: convURLDec},
		&convDef{name: "url_enc", args: spec(1, aStr), in: TypeStr, out: TypeStr, fn: convURLEnc, check: checkURLEnc},
		&convDef{name: "language", args: spec(1, aStr, aStr), in: TypeStr, out: TypeStr, fn: convLanguage},
		&convDef{name: "debug", args: spec(0, aStr, aStr), in: TypeAny, out: TypeAny, fn: convDebug, check: checkDebug},
		&convDef{name: "set-var", args: spec(1, aStr, aStr, aStr, aStr, aStr), in: TypeAny, out: TypeAny, fn: convSetVar, check: checkSetVarConv},
		&convDef{name: "unset-var", args: spec(1, aStr), in: TypeAny, out: TypeAny, fn: convUnsetVar, check: checkSetVarConv},
	)
}

// out stores b (built in the current work area) as a str or bin value.
func out(t *Txn, v *Value, typ Type, b []byte) bool {
	v.Type, v.B = typ, t.keep(b)
	return true
}

func convLower(c *conv, t *Txn, v *Value) bool {
	b := append(t.tmp(), v.B...)
	lower(b)
	return out(t, v, TypeStr, b)
}

func convUpper(c *conv, t *Txn, v *Value) bool {
	b := append(t.tmp(), v.B...)
	for i, x := range b {
		if x >= 'a' && x <= 'z' {
			b[i] = x - 32
		}
	}
	return out(t, v, TypeStr, b)
}

func lower(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
}

func convLength(c *conv, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, int64(len(v.B))
	return true
}

const (
	b64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

func appendBase64(dst, src []byte, alpha string, pad bool) []byte {
	for len(src) >= 3 {
		n := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst = append(dst, alpha[n>>18&63], alpha[n>>12&63], alpha[n>>6&63], alpha[n&63])
		src = src[3:]
	}
	switch len(src) {
	case 1:
		n := uint(src[0]) << 16
		dst = append(dst, alpha[n>>18&63], alpha[n>>12&63])
		if pad {
			dst = append(dst, '=', '=')
		}
	case 2:
		n := uint(src[0])<<16 | uint(src[1])<<8
		dst = append(dst, alpha[n>>18&63], alpha[n>>12&63], alpha[n>>6&63])
		if pad {
			dst = append(dst, '=')
		}
	}
	return dst
}

func b64val(c byte, url bool) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+' && !url, c == '-' && url:
		return 62
	case c == '/' && !url, c == '_' && url:
		return 63
	}
	return -1
}

// appendBase64Dec is base64dec (src/base64.c): a length multiple of 4,
// padding only at the end and never more than two.
func appendBase64Dec(dst, src []byte) ([]byte, bool) {
	if len(src)%4 != 0 {
		return dst, false
	}
	for i := 0; i < len(src); i += 4 {
		var q [4]int
		pad := 0
		for j := 0; j < 4; j++ {
			c := src[i+j]
			if c == '=' {
				if j < 2 || i+4 != len(src) {
					return dst, false
				}
				pad++
				continue
			}
			if pad > 0 {
				return dst, false
			}
			if q[j] = b64val(c, false); q[j] < 0 {
				return dst, false
			}
		}
		n := q[0]<<18 | q[1]<<12 | q[2]<<6 | q[3]
		dst = append(dst, byte(n>>16), byte(n>>8), byte(n))
		dst = dst[:len(dst)-pad]
	}
	return dst, true
}

// appendBase64URLDec is base64urldec: no padding, a length that is not
// 1 modulo 4.
func appendBase64URLDec(dst, src []byte) ([]byte, bool) {
	if len(src)%4 == 1 {
		return dst, false
	}
	var acc, n int
	for _, c := range src {
		x := b64val(c, true)
		if x < 0 {
			return dst, false
		}
		acc = acc<<6 | x
		if n++; n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst, true
}

func convBase64(c *conv, t *Txn, v *Value) bool {
	return out(t, v, TypeStr, appendBase64(t.tmp(), v.B, b64Std, true))
}

func convUB64Enc(c *conv, t *Txn, v *Value) bool {
	return out(t, v, TypeStr, appendBase64(t.tmp(), v.B, b64URL, false))
}

func convB64Dec(c *conv, t *Txn, v *Value) bool {
	b, ok := appendBase64Dec(t.tmp(), v.B)
	return ok && out(t, v, TypeBin, b)
}

func convUB64Dec(c *conv, t *Txn, v *Value) bool {
	b, ok := appendBase64URLDec(t.tmp(), v.B)
	return ok && out(t, v, TypeBin, b)
}

const hexUpper = "0123456789ABCDEF"

func appendHex(dst, src []byte) []byte {
	for _, c := range src {
		dst = append(dst, hexUpper[c>>4], hexUpper[c&15])
	}
	return dst
}

func convHex(c *conv, t *Txn, v *Value) bool {
	return out(t, v, TypeStr, appendHex(t.tmp(), v.B))
}

func convHex2i(c *conv, t *Txn, v *Value) bool {
	var n int64
	for _, x := range v.B {
		d, ok := unhex(x)
		if !ok {
			return false
		}
		n = n<<4 + int64(d)
	}
	v.Type, v.I = TypeInt, n
	return true
}

func checkBe2Dec(c *conv, _ *Context) error {
	size := argInt(c.args, 1, 0)
	if size <= 0 || size > 8 {
		return errorf("chunk_size out of [1..8] range (%d)", size)
	}
	if tr := argInt(c.args, 2, 0); tr != 0 && tr != 1 {
		return errorf("Unsupported truncate value (%d)", tr)
	}
	return nil
}

func convBe2Dec(c *conv, t *Txn, v *Value) bool {
	size := int(c.args[1].i)
	sep := c.args[0].b
	last := len(v.B)
	if argInt(c.args, 2, 0) != 0 {
		last = len(v.B) - size + 1
	}
	b := t.tmp()
	for p := 0; p < last; {
		if p > 0 {
			b = append(b, sep...)
		}
		var n uint64
		for i := 0; i < size && p < len(v.B); i++ {
			n = n<<8 + uint64(v.B[p])
			p++
		}
		b = strconv.AppendUint(b, n, 10)
	}
	return out(t, v, TypeStr, b)
}

func checkBe2Hex(c *conv, _ *Context) error {
	size := argInt(c.args, 1, 0)
	tr := argInt(c.args, 2, 0)
	if size <= 0 && (c.args[0].s != "" || tr != 0) {
		return errorf("chunk_size needs to be positive (%d)", size)
	}
	if tr != 0 && tr != 1 {
		return errorf("Unsupported truncate value (%d)", tr)
	}
	return nil
}

func convBe2Hex(c *conv, t *Txn, v *Value) bool {
	size := int(argInt(c.args, 1, 0))
	sep := c.args[0].b
	tr := argInt(c.args, 2, 0) != 0
	last := len(v.B)
	if tr {
		last = len(v.B) - size + 1
	}
	if len(sep) == 0 && !tr {
		size = len(v.B)
	}
	b := t.tmp()
	for p := 0; p < last; {
		if p > 0 {
			b = append(b, sep...)
		}
		for i := 0; i < size && p < len(v.B); i++ {
			b = append(b, hexUpper[v.B[p]>>4], hexUpper[v.B[p]&15])
			p++
		}
		if size == 0 {
			break
		}
	}
	return out(t, v, TypeStr, b)
}

func convBytes(c *conv, t *Txn, v *Value) bool {
	off := c.args[0].i
	if int64(len(v.B)) <= off {
		v.B = v.B[:0]
		return true
	}
	if off > 0 {
		v.B = v.B[off:]
	}
	if len(c.args) > 1 && c.args[1].i < int64(len(v.B)) && c.args[1].i >= 0 {
		v.B = v.B[:c.args[1].i]
	}
	return true
}

func checkField(c *conv, _ *Context) error {
	if c.args[0].i == 0 {
		return errorf("Unexpected value 0 for index")
	}
	if c.args[1].s == "" {
		return errorf("Empty separators list")
	}
	return nil
}

func isSep(c byte, seps []byte) bool { return bytes.IndexByte(seps, c) >= 0 }

// convField is sample_conv_field: field n (from the end when negative)
// and the count-1 following ones.
func convField(c *conv, t *Txn, v *Value) bool {
	want := c.args[0].i
	seps := c.args[1].b
	count := argInt(c.args, 2, 1)
	s := v.B
	var start, end int
	field := int64(1)
	found := false
	if want < 0 {
		field = -1
		start, end = len(s), len(s)
		for start > 0 {
			if isSep(s[start-1], seps) {
				if field == want {
					if count == 1 {
						found = true
						break
					} else if count > 1 {
						count--
					}
				} else {
					end = start - 1
					field--
				}
			}
			start--
		}
	} else {
		for end < len(s) {
			if isSep(s[end], seps) {
				if field == want {
					if count == 1 {
						found = true
						break
					} else if count > 1 {
						count--
					}
				} else {
					start = end + 1
					field++
				}
			}
			end++
		}
	}
	if !found && field != want {
		v.B = v.B[:0]
		return false
	}
	v.B = s[start:end]
	return true
}

// convWord is sample_conv_word: like field, but runs of separators count
// as one.
func convWord(c *conv, t *Txn, v *Value) bool {
	want := c.args[0].i
	seps := c.args[1].b
	count := argInt(c.args, 2, 1)
	s := v.B
	var start, end int
	word := int64(0)
	in, found := false, false
	if want < 0 {
		start, end = len(s), len(s)
		for start > 0 {
			sep := isSep(s[start-1], seps)
			if !in {
				if !sep {
					if word != want {
						word--
						end = start
					}
					in = true
				}
			} else if sep {
				if word == want {
					if count == 1 {
						found = true
						break
					} else if count > 1 {
						count--
					}
				}
				in = false
			}
			start--
		}
	} else {
		for end < len(s) {
			sep := isSep(s[end], seps)
			if !in {
				if !sep {
					if word != want {
						word++
						start = end
					}
					in = true
				}
			} else if sep {
				if word == want {
					if count == 1 {
						found = true
						break
					} else if count > 1 {
						count--
					}
				}
				in = false
			}
			end++
		}
	}
	if !found && word != want {
		v.B = v.B[:0]
		return true
	}
	v.B = s[start:end]
	return true
}

// compileRegex compiles a PCRE pattern with Go's engine after checking
// it as HAProxy's PCRE2 does (capture says whether HAProxy compiles it
// with captures); patterns PCRE2 takes and Go's engine does not
// (back-references, look-arounds) are not implemented.
func compileRegex(p string, icase, capture bool) (*regexp.Regexp, error) {
	if m := parser.PCREError(p, !capture); m != "" {
		return nil, errorf("%s", m)
	}
	src := p
	if icase {
		src = "(?i)" + p
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, errorf("regex '%s': %w", src, errNotImpl)
	}
	return re, nil
}

func checkRegsub(c *conv, _ *Context) error {
	icase := false
	for _, f := range argStr(c.args, 2) {
		switch f {
		case 'i':
			icase = true
		case 'g':
			c.i = 1
		default:
			return errorf("invalid regex flag '%c', only 'i' and 'g' are supported", f)
		}
	}
	// HAProxy compiles it when it resolves arguments, after parsing.
	if c.args[0].s == "" {
		return &ResolveError{Kind: resNoRegex, Arg: 1, Keyword: "regsub"}
	}
	if m := parser.PCREError(c.args[0].s, false); m != "" {
		return &ResolveError{Kind: resRegex, Arg: 1, Keyword: "regsub", Regex: c.args[0].s, Msg: m}
	}
	re, err := compileRegex(c.args[0].s, icase, true)
	if err != nil {
		return err
	}
	c.args[0].re = re
	return nil
}

// appendExpReplace is exp_replace (src/regex.c): \0-\9 insert groups, \xHH
// a byte, \c the character c.
func appendExpReplace(dst []byte, src []byte, repl string, m []int) ([]byte, bool) {
	for i := 0; i < len(repl); i++ {
		if repl[i] != '\\' {
			dst = append(dst, repl[i])
			continue
		}
		i++
		if i >= len(repl) {
			return dst, false
		}
		switch c := repl[i]; {
		case c >= '0' && c <= '9':
			n := int(c - '0')
			if 2*n+1 < len(m) && m[2*n] >= 0 && m[2*n+1] >= 0 {
				dst = append(dst, src[m[2*n]:m[2*n+1]]...)
			}
		case c == 'x':
			if i+2 >= len(repl) {
				return dst, false
			}
			h := func(x byte) byte {
				x = x &^ 0x20 // toupper for letters
				if x >= 'A' {
					return x - 'A' + 10
				}
				return (x | 0x20) - '0'
			}
			dst = append(dst, h(repl[i+1])<<4+h(repl[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// convRegsub is sample_conv_regsub: replace the first (or with "g" every)
// match. Go's engine walks the matches as HAProxy's loop does, anchors
// only matching at the start of the input.
func convRegsub(c *conv, t *Txn, v *Value) bool {
	re := c.args[0].re
	repl := c.args[1].s
	s := v.B
	var ms [][]int
	if c.i == 1 {
		ms = re.FindAllSubmatchIndex(s, -1)
	} else if m := re.FindSubmatchIndex(s); m != nil {
		ms = [][]int{m}
	}
	b := t.tmp()
	last := 0
	for _, m := range ms {
		b = append(b, s[last:m[0]]...)
		b, _ = appendExpReplace(b, s, repl, m)
		last = m[1]
	}
	b = append(b, s[last:]...)
	return out(t, v, TypeStr, b)
}

func convIPMask(c *conv, t *Txn, v *Value) bool {
	if v.Type == TypeIPv6 {
		a := v.IP.As16()
		if v.IP.Is4In6() || isV4Compat(a) {
			v.IP, v.Type = netip.AddrFrom4([4]byte(a[12:])), TypeIPv4
		}
	}
	if v.Type == TypeIPv4 {
		a, m := v.IP.As4(), c.args[0].msk.As4()
		for i := range a {
			a[i] &= m[i]
		}
		v.IP = netip.AddrFrom4(a)
		return true
	}
	if len(c.args) < 2 {
		return false
	}
	a, m := v.IP.As16(), c.args[1].msk.As16()
	for i := range a {
		a[i] &= m[i]
	}
	v.IP, v.Type = netip.AddrFrom16(a), TypeIPv6
	return true
}

// JSON input modes (json converter).
const (
	jsASCII = iota
	jsUTF8
	jsUTF8S
	jsUTF8P
	jsUTF8PS
)

func checkJSON(c *conv, _ *Context) error {
	switch c.args[0].s {
	case "", "ascii":
		c.i = jsASCII
	case "utf8":
		c.i = jsUTF8
	case "utf8s":
		c.i = jsUTF8S
	case "utf8p":
		c.i = jsUTF8P
	case "utf8ps":
		c.i = jsUTF8PS
	default:
		return errorf("Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'")
	}
	return nil
}

// utf8 decoding results, as utf8_next reports them.
const (
	u8OK = iota
	u8Overlong
	u8Badseq
	u8Invrange
)

// utf8Next decodes one character the way utf8_next does: overlong forms
// are decoded but flagged, bad sequences consume one byte.
func utf8Next(b []byte) (r rune, n int, code int) {
	c := b[0]
	if c < 0x80 {
		return rune(c), 1, u8OK
	}
	var need int
	var min rune
	switch {
	case c&0xe0 == 0xc0:
		need, r, min = 1, rune(c&0x1f), 0x80
	case c&0xf0 == 0xe0:
		need, r, min = 2, rune(c&0x0f), 0x800
	case c&0xf8 == 0xf0:
		need, r, min = 3, rune(c&0x07), 0x10000
	default:
		return rune(c), 1, u8Badseq
	}
	if len(b) < need+1 {
		return rune(c), 1, u8Badseq
	}
	for i := 1; i <= need; i++ {
		if b[i]&0xc0 != 0x80 {
			return rune(c), 1, u8Badseq
		}
		r = r<<6 | rune(b[i]&0x3f)
	}
	n = need + 1
	switch {
	case r < min:
		return r, n, u8Overlong
	case r > utf8.MaxRune || r >= 0xd800 && r <= 0xdfff:
		return r, n, u8Invrange
	}
	return r, n, u8OK
}

func convJSON(c *conv, t *Txn, v *Value) bool {
	mode := c.i
	b := t.tmp()
	s := v.B
	for len(s) > 0 {
		var r rune
		if mode == jsASCII {
			r = rune(s[0])
			s = s[1:]
		} else {
			x, n, code := utf8Next(s)
			s = s[n:]
			r = x
			switch mode {
			case jsUTF8:
				if code != u8OK {
					return false
				}
			case jsUTF8S:
				if code != u8OK {
					continue
				}
			case jsUTF8P:
				if code == u8Badseq || code == u8Invrange {
					return false
				}
			case jsUTF8PS:
				if code == u8Badseq || code == u8Invrange {
					continue
				}
			}
			if r > 0xffff {
				if mode == jsUTF8 || mode == jsUTF8P {
					return false
				}
				continue
			}
		}
		switch r {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if r > 0xff || r < 0x20 || r > 0x7e {
				const hx = "0123456789abcdef"
				b = append(b, '\\', 'u', hx[r>>12&15], hx[r>>8&15], hx[r>>4&15], hx[r&15])
			} else {
				b = append(b, byte(r))
			}
		}
	}
	return out(t, v, TypeStr, b)
}

// varArg compiles argument i as a variable name when it has one.
// A proc variable named there is declared, as vars_check_arg does.
func varArg(a *arg, ctx *Context) error {
	sc, n, ok := ParseVarName(a.s)
	if !ok {
		return varNameErr(a.s)
	}
	a.isVar, a.scope, a.name = true, sc, n
	if !ctx.DeclareVar(sc, n) {
		return errorf("(null)")
	}
	return nil
}

func checkConcat(c *conv, ctx *Context) error {
	if len(c.args) > 1 && c.args[1].s != "" {
		if varArg(&c.args[1], ctx) != nil {
			return errorf("failed to register variable name '%s'", c.args[1].s)
		}
	}
	return nil
}

func checkAddItem(c *conv, ctx *Context) error {
	if err := checkConcat(c, ctx); err != nil {
		return err
	}
	if argStr(c.args, 1) == "" && argStr(c.args, 2) == "" {
		return errorf("one of the optional arguments has to be nonempty")
	}
	return nil
}

// varText fetches a variable argument as text into the work area after
// the one holding the input.
func varText(t *Txn, a *arg) ([]byte, bool) {
	var x Value
	if !a.isVar || !t.getVar(a.scope, a.name, &x) || !cast(t, &x, TypeStr) {
		return nil, false
	}
	return x.B, true
}

func convConcat(c *conv, t *Txn, v *Value) bool {
	in := v.B
	vb, vok := []byte(nil), false
	if len(c.args) > 1 {
		vb, vok = varText(t, &c.args[1])
	}
	b := append(t.tmp(), in...)
	b = append(b, c.args[0].b...)
	if vok {
		b = append(b, vb...)
	}
	if len(c.args) > 2 {
		b = append(b, c.args[2].b...)
	}
	return out(t, v, TypeStr, b)
}

func convAddItem(c *conv, t *Txn, v *Value) bool {
	in := v.B
	vb, vok := varText(t, &c.args[1])
	suffix := []byte(nil)
	if len(c.args) > 2 {
		suffix = c.args[2].b
	}
	b := append(t.tmp(), in...)
	if len(in) > 0 && (vok && len(vb) > 0 || len(suffix) > 0) {
		b = append(b, c.args[0].b...)
	}
	if vok {
		b = append(b, vb...)
	}
	b = append(b, suffix...)
	return out(t, v, TypeStr, b)
}

func checkVarArg(c *conv, ctx *Context) error {
	if c.args[0].s == "" {
		return errorf("missing variable name")
	}
	if varArg(&c.args[0], ctx) != nil {
		return errorf("failed to register variable name '%s'", c.args[0].s)
	}
	return nil
}

func convStrcmp(c *conv, t *Txn, v *Value) bool {
	in := v.B
	o, ok := varText(t, &c.args[0])
	if !ok {
		return false
	}
	n := min(len(in), len(o))
	r := 0
	for i := 0; i < n; i++ {
		if in[i] != o[i] {
			r = int(in[i]) - int(o[i])
			break
		}
		if in[i] == 0 {
			break
		}
	}
	if r == 0 && len(in) != len(o) {
		r = 1
		if len(in) < len(o) {
			r = -1
		}
	}
	v.Type, v.I = TypeInt, int64(r)
	return true
}

func convSecureMemcmp(c *conv, t *Txn, v *Value) bool {
	in := v.B
	var x Value
	a := &c.args[0]
	if !t.getVar(a.scope, a.name, &x) || !cast(t, &x, TypeBin) {
		return false
	}
	v.Type, v.I = TypeBool, 0
	if len(in) == len(x.B) {
		var d byte
		for i := range in {
			d |= in[i] ^ x.B[i]
		}
		if d == 0 {
			v.I = 1
		}
	}
	return true
}

func convIif(c *conv, t *Txn, v *Value) bool {
	if v.I != 0 {
		v.B = c.args[0].b
	} else {
		v.B = c.args[1].b
	}
	v.Type = TypeStr
	return true
}

func convHtonl(c *conv, t *Txn, v *Value) bool {
	n := uint32(v.I)
	return out(t, v, TypeBin, append(t.tmp(), byte(n>>24), byte(n>>16), byte(n>>8), byte(n)))
}

func convCutCRLF(c *conv, t *Txn, v *Value) bool {
	for i, x := range v.B {
		if x == '\r' || x == '\n' {
			v.B = v.B[:i]
			break
		}
	}
	return true
}

func convLtrim(c *conv, t *Txn, v *Value) bool {
	d := c.args[0].b
	for len(v.B) > 0 && bytes.IndexByte(d, v.B[0]) >= 0 {
		v.B = v.B[1:]
	}
	return true
}

func convRtrim(c *conv, t *Txn, v *Value) bool {
	d := c.args[0].b
	for len(v.B) > 0 && bytes.IndexByte(d, v.B[len(v.B)-1]) >= 0 {
		v.B = v.B[:len(v.B)-1]
	}
	return true
}

// urlDecode is url_decode (src/tools.c): '+' is a space in a form (and
// after a '?'), a bad %-escape fails.
func urlDecode(dst, s []byte, inForm bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			return dst, true
		case '+':
			if inForm {
				c = ' '
			}
		case '%':
			if i+2 >= len(s) {
				return dst, false
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			c = h<<4 | l
			i += 2
		case '?':
			inForm = true
		}
		dst = append(dst, c)
	}
	return dst, true
}

func convURLDec(c *conv, t *Txn, v *Value) bool {
	b, ok := urlDecode(t.tmp(), v.B, argInt(c.args, 0, 0) != 0)
	return ok && out(t, v, TypeStr, b)
}

func checkURLEnc(c *conv, _ *Context) error {
	if s := c.args[0].s; s != "" && s != "query" {
		return errorf("Unexpected encode type. Allowed value is 'query'")
	}
	return nil
}

func convURLEnc(c *conv, t *Txn, v *Value) bool {
	b := t.tmp()
	for _, x := range v.B {
		if x >= 'a' && x <= 'z' || x >= 'A' && x <= 'Z' || x >= '0' && x <= '9' || x == '-' || x == '.' || x == '_' || x == '~' {
			b = append(b, x)
		} else {
			b = append(b, '%', hexUpper[x>>4], hexUpper[x&15])
		}
	}
	return out(t, v, TypeStr, b)
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func langMatch(rng, tag []byte) bool {
	i := 0
	for ; i < len(rng); i++ {
		if rng[i] == '-' && i == len(tag) {
			return true
		}
		if i >= len(tag) || rng[i] != tag[i] {
			return false
		}
	}
	return i == len(tag)
}

// parseQValue is http_parse_qvalue: "1", "0.5", "0.25"... in thousandths.
func parseQValue(s []byte) int {
	q := 1000
	if len(s) == 0 || s[0] < '0' || s[0] > '9' {
		return q
	}
	q = int(s[0]-'0') * 1000
	if len(s) > 1 && s[1] == '.' {
		mul := 100
		for i := 2; i < len(s) && i < 5 && s[i] >= '0' && s[i] <= '9'; i++ {
			q += int(s[i]-'0') * mul
			mul /= 10
		}
	}
	return min(q, 1000)
}

// convLanguage is sample_conv_q_preferred: the listed language the
// Accept-Language value prefers.
func convLanguage(c *conv, t *Txn, v *Value) bool {
	al := v.B
	list := c.args[0].b
	var best []byte
	bestQ := 0
	p := 0
	for {
		for p < len(al) && isSpace(al[p]) {
			p++
		}
		if p >= len(al) {
			break
		}
		tok := p
		for p < len(al) && al[p] != ';' && al[p] != ',' && !isSpace(al[p]) {
			p++
		}
		if p > tok {
			token := al[tok:p]
			var w []byte
			ok := false
			for rest := list; ; {
				i := bytes.IndexByte(rest, ';')
				item := rest
				if i >= 0 {
					item = rest[:i]
				}
				if langMatch(token, item) {
					w, ok = item, true
					break
				}
				if i < 0 {
					break
				}
				rest = rest[i+1:]
			}
			if ok {
				q := 1000
				for p < len(al) && isSpace(al[p]) {
					p++
				}
				if p < len(al) && al[p] == ';' {
					p++
					for p < len(al) && isSpace(al[p]) {
						p++
					}
					if p < len(al) && al[p] == 'q' {
						p++
						for p < len(al) && isSpace(al[p]) {
							p++
						}
						if p < len(al) && al[p] == '=' {
							p++
							for p < len(al) && isSpace(al[p]) {
								p++
							}
							q = parseQValue(al[p:])
						}
					}
				}
				if q > bestQ {
					best = w
					if q >= 1000 {
						break
					}
					bestQ = q
				}
			}
		}
		for p < len(al) && al[p] != ',' {
			p++
		}
		if p >= len(al) {
			break
		}
		p++
	}
	if len(best) == 0 && len(c.args) > 1 {
		best = c.args[1].b
	}
	v.Type, v.B = TypeStr, best
	return len(best) != 0
}

// checkDebug accepts debug's prefix and sink; the converter passes its
// input through and writes nothing, as there is no ring buffer to feed.
func checkDebug(c *conv, _ *Context) error {
	if s := argStr(c.args, 1); s != "" && s != "buf0" {
		return errorf("No such sink '%s'", s)
	}
	return nil
}

func convDebug(c *conv, t *Txn, v *Value) bool { return true }

func checkSetVarConv(c *conv, ctx *Context) error {
	if err := varArg(&c.args[0], ctx); err != nil {
		return err
	}
	if c.def.name == "set-var" {
		var words []string
		for _, a := range c.args[1:] {
			words = append(words, a.s)
		}
		conds, err := ParseVarConds(words)
		if err != nil {
			return err
		}
		c.conds = conds
	}
	return nil
}

// convSetVar stores the sample and passes it on; the conditions only
// decide whether the variable changes.
func convSetVar(c *conv, t *Txn, v *Value) bool {
	x := *v
	t.setVar(c.args[0].scope, c.args[0].name, &x, c.conds)
	return true
}

func convUnsetVar(c *conv, t *Txn, v *Value) bool {
	t.unsetVar(c.args[0].scope, c.args[0].name)
	return true
}
