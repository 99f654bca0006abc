package acl

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

func init() {
	addConv(
		&convDef{name: "json_query", args: spec(1, aStr, aStr), in: TypeStr, out: TypeAny, fn: convJSONQuery, check: checkJSONQuery},
		&convDef{name: "protobuf", args: spec(1, aPbuf, aStr), in: TypeBin, out: TypeBin, fn: convProtobuf, check: checkProtobuf},
		&convDef{name: "ungrpc", args: spec(1, aPbuf, aStr), in: TypeBin, out: TypeBin, fn: convProtobuf, check: checkProtobuf},
	)
}

// jsonStep is one element of a JSON path: a member name or an index.
type jsonStep struct {
	key   string
	idx   int
	isIdx bool
}

// parseJSONPath parses mjson's path syntax: "$", then ".key" and "[n]".
func parseJSONPath(p string) ([]jsonStep, bool) {
	if p == "" || p[0] != '$' {
		return nil, false
	}
	var steps []jsonStep
	p = p[1:]
	for len(p) > 0 {
		switch p[0] {
		case '.':
			// A backslash takes the next byte literally, so "my\.key"
			// names the key "my.key" (plen1 and kcmp in src/mjson.c).
			p = p[1:]
			var key []byte
			i := 0
			for ; i < len(p) && p[i] != '.' && p[i] != '['; i++ {
				if p[i] == '\\' {
					if i++; i == len(p) {
						// mjson compares a trailing backslash with the
						// path's NUL, which no key holds.
						return nil, false
					}
				}
				key = append(key, p[i])
			}
			steps = append(steps, jsonStep{key: string(key)})
			p = p[i:]
		case '[':
			j := strings.IndexByte(p, ']')
			if j < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(p[1:j])
			if err != nil || n < 0 {
				return nil, false
			}
			steps = append(steps, jsonStep{idx: n, isIdx: true})
			p = p[j+1:]
		default:
			return nil, false
		}
	}
	return steps, true
}

func checkJSONQuery(c *conv, _ *Context) error {
	if c.args[0].s == "" {
		return errorf("json_path must not be empty")
	}
	if len(c.args) > 1 && c.args[1].s != "" {
		if c.args[1].s != "int" {
			return errorf("output_type only supports \"int\" as argument")
		}
		c.i = 1
	}
	steps, ok := parseJSONPath(c.args[0].s)
	if !ok {
		// mjson finds nothing for such a path.
		steps = nil
		c.s = "invalid"
	}
	c.json = steps
	return nil
}

func jsonWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonSkip returns the end of the value starting at i, or -1.
func jsonSkip(b []byte, i int) int {
	i = jsonWS(b, i)
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		for j := i + 1; j < len(b); j++ {
			if b[j] == '\\' {
				j++
			} else if b[j] == '"' {
				return j + 1
			}
		}
		return -1
	case c == '{' || c == '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		j := jsonWS(b, i+1)
		if j < len(b) && b[j] == close {
			return j + 1
		}
		for {
			if c == '{' {
				j = jsonSkip(b, j)
				if j < 0 {
					return -1
				}
				j = jsonWS(b, j)
				if j >= len(b) || b[j] != ':' {
					return -1
				}
				j++
			}
			j = jsonSkip(b, j)
			if j < 0 {
				return -1
			}
			j = jsonWS(b, j)
			if j >= len(b) {
				return -1
			}
			if b[j] == close {
				return j + 1
			}
			if b[j] != ',' {
				return -1
			}
			j++
		}
	case c == 't':
		return jsonLit(b, i, "true")
	case c == 'f':
		return jsonLit(b, i, "false")
	case c == 'n':
		return jsonLit(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return j
	}
	return -1
}

func jsonLit(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// jsonFind returns the token the path designates.
func jsonFind(b []byte, steps []jsonStep) ([]byte, bool) {
	i := jsonWS(b, 0)
	for _, st := range steps {
		if i >= len(b) {
			return nil, false
		}
		if st.isIdx {
			if b[i] != '[' {
				return nil, false
			}
			j := i + 1
			for n := 0; ; n++ {
				j = jsonWS(b, j)
				if j < len(b) && b[j] == ']' {
					return nil, false
				}
				if n == st.idx {
					i = j
					break
				}
				if j = jsonSkip(b, j); j < 0 {
					return nil, false
				}
				j = jsonWS(b, j)
				if j >= len(b) || b[j] != ',' {
					return nil, false
				}
				j++
			}
			continue
		}
		if b[i] != '{' {
			return nil, false
		}
		j := i + 1
		found := false
		for !found {
			j = jsonWS(b, j)
			if j >= len(b) || b[j] != '"' {
				return nil, false
			}
			kend := jsonSkip(b, j)
			if kend < 0 {
				return nil, false
			}
			key := b[j+1 : kend-1]
			j = jsonWS(b, kend)
			if j >= len(b) || b[j] != ':' {
				return nil, false
			}
			j = jsonWS(b, j+1)
			if string(key) == st.key {
				i, found = j, true
				break
			}
			if j = jsonSkip(b, j); j < 0 {
				return nil, false
			}
			j = jsonWS(b, j)
			if j >= len(b) || b[j] != ',' {
				return nil, false
			}
			j++
		}
	}
	end := jsonSkip(b, i)
	if end < 0 {
		return nil, false
	}
	return b[jsonWS(b, i):end], true
}

// jsonUnquote decodes a JSON string token.
func jsonUnquote(dst, tok []byte) ([]byte, bool) {
	s := tok[1 : len(tok)-1]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return dst, false
		}
		switch s[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+4 >= len(s) {
				return dst, false
			}
			n, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
			if err != nil {
				return dst, false
			}
			dst = utf8.AppendRune(dst, rune(n))
			i += 4
		default:
			dst = append(dst, s[i])
		}
	}
	return dst, true
}

// strtoll0 is strtoll(s, NULL, 0) on a token prefix.
func strtoll0(b []byte) int64 {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	base := int64(10)
	if len(b) > 1 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		base, b = 16, b[2:]
	} else if len(b) > 0 && b[0] == '0' {
		base = 8
	}
	var n int64
	for _, c := range b {
		d, ok := unhex(c)
		if !ok || int64(d) >= base {
			break
		}
		n = n*base + int64(d)
	}
	if neg {
		n = -n
	}
	return n
}

// appendG formats f as C's printf("%g").
func appendG(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	e := strconv.AppendFloat(nil, f, 'e', 5, 64)
	// e is like "-1.23450e+05".
	ei := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	if exp < -4 || exp >= 6 {
		m := strings.TrimRight(strings.TrimRight(string(e[:ei]), "0"), ".")
		dst = append(dst, m...)
		dst = append(dst, 'e')
		if exp < 0 {
			dst, exp = append(dst, '-'), -exp
		} else {
			dst = append(dst, '+')
		}
		return append0(dst, exp, 2)
	}
	s := strconv.FormatFloat(f, 'f', 5-exp, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return append(dst, s...)
}

const jsonIntMax = 1<<53 - 1

func convJSONQuery(c *conv, t *Txn, v *Value) bool {
	if c.s == "invalid" {
		return false
	}
	tok, ok := jsonFind(v.B, c.json)
	if !ok || len(tok) == 0 {
		return false
	}
	switch tok[0] {
	case '"':
		b, ok := jsonUnquote(t.tmp(), tok)
		return ok && out(t, v, TypeStr, b)
	case 't':
		v.Type, v.I = TypeBool, 1
		return true
	case 'f':
		v.Type, v.I = TypeBool, 0
		return true
	case 'n', '[', '{':
		return false
	}
	if c.i == 1 {
		n := strtoll0(tok)
		if n < -jsonIntMax || n > jsonIntMax {
			return false
		}
		v.Type, v.I = TypeInt, n
		return true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return false
	}
	return out(t, v, TypeStr, appendG(t.tmp(), f))
}

// Protocol buffers value types (protobuf_type in include/haproxy/protobuf.h).
const (
	pbBinary = iota
	pbInt32
	pbUint32
	pbSint32
	pbInt64
	pbUint64
	pbSint64
	pbBool
	pbEnum
	pbFixed32
	pbSfixed32
	pbFloat
	pbFixed64
	pbSfixed64
	pbDouble
)

var pbTypes = map[string]int64{"int32": pbInt32, "uint32": pbUint32, "sint32": pbSint32, "int64": pbInt64,
	"uint64": pbUint64, "sint64": pbSint64, "bool": pbBool, "enum": pbEnum, "fixed32": pbFixed32,
	"sfixed32": pbSfixed32, "float": pbFloat, "fixed64": pbFixed64, "sfixed64": pbSfixed64, "double": pbDouble}

func checkProtobuf(c *conv, _ *Context) error {
	c.i = pbBinary
	if len(c.args) > 1 {
		typ, ok := pbTypes[c.args[1].s]
		if !ok {
			return errorf("Wrong protocol buffer type '%s'", c.args[1].s)
		}
		c.i = typ
	}
	return nil
}

// pbVarint decodes a varint; n is its length, 0 when invalid.
func pbVarint(b []byte) (v uint64, n int) {
	for shift := uint(0); n < len(b); shift += 7 {
		if shift > 63 {
			return 0, 0
		}
		c := b[n]
		v |= uint64(c&0x7f) << shift
		n++
		if c&0x80 == 0 {
			return v, n
		}
	}
	return 0, 0
}

// pbLookup is protobuf_field_lookup: the value of the field path in msg.
func pbLookup(msg []byte, fids []uint32, typ int64, t *Txn, v *Value) bool {
	field := 0
	var elen int64
	for field < len(fids) {
		if len(msg) == 0 {
			return false
		}
		sleft := len(msg)
		key, n := pbVarint(msg)
		if n == 0 {
			return false
		}
		msg = msg[n:]
		wire, num := key&7, uint32(key>>3)
		found := num == fids[field]
		var val []byte
		switch wire {
		case 0:
			_, n := pbVarint(msg)
			if n == 0 {
				return false
			}
			val = msg[:n]
			if !found {
				msg = msg[n:]
			}
		case 1, 5:
			size := 8
			if wire == 5 {
				size = 4
			}
			if len(msg) < size {
				return false
			}
			val = msg[:size]
			if !found {
				msg = msg[size:]
			}
		case 2:
			l, n := pbVarint(msg)
			if n == 0 || l > uint64(len(msg)-n) {
				return false
			}
			msg = msg[n:]
			elen = int64(l)
			sleft = len(msg)
			val = msg[:l]
			if !found {
				msg = msg[l:]
			}
		default:
			return false
		}
		if found && field == len(fids)-1 {
			return pbStore(wire, val, typ, v)
		}
		if elen > 0 {
			elen -= int64(sleft - len(msg))
		}
		if found {
			field++
			if wire == 2 {
				msg = val
			}
		} else if elen <= 0 {
			field = 0
		}
	}
	return false
}

func pbStore(wire uint64, val []byte, typ int64, v *Value) bool {
	if typ == pbBinary {
		v.Type, v.B = TypeBin, val
		return true
	}
	switch wire {
	case 0:
		x, _ := pbVarint(val)
		switch typ {
		case pbInt32, pbUint32, pbInt64, pbUint64, pbBool, pbEnum:
			v.Type, v.I = TypeInt, int64(x)
		case pbSint32, pbSint64:
			v.Type, v.I = TypeInt, int64(x>>1)^-int64(x&1)
		default:
			return false
		}
	case 5:
		x := uint32(val[0]) | uint32(val[1])<<8 | uint32(val[2])<<16 | uint32(val[3])<<24
		switch typ {
		case pbFixed32:
			v.Type, v.I = TypeInt, int64(x)
		case pbSfixed32:
			v.Type, v.I = TypeInt, int64(int32(x))
		case pbFloat:
			v.Type, v.I = TypeInt, int64(float32frombits(x))
		default:
			return false
		}
	case 1:
		var x uint64
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(val[i])
		}
		switch typ {
		case pbFixed64, pbSfixed64:
			v.Type, v.I = TypeInt, int64(x)
		case pbDouble:
			v.Type, v.I = TypeInt, int64(float64frombits(x))
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// convProtobuf runs protobuf, or ungrpc over each gRPC message.
func convProtobuf(c *conv, t *Txn, v *Value) bool {
	fids := c.args[0].fids
	if c.def.name == "protobuf" {
		return pbLookup(v.B, fids, c.i, t, v)
	}
	b := v.B
	for len(b) > 5 {
		n := int(uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4]))
		b = b[5:]
		if len(b) < n {
			return false
		}
		if pbLookup(b[:n], fids, c.i, t, v) {
			return true
		}
		b = b[n:]
	}
	return false
}

func float32frombits(x uint32) float32 { return math.Float32frombits(x) }
func float64frombits(x uint64) float64 { return math.Float64frombits(x) }
