package acl

import (
	"encoding/binary"
	"github.com/gohap/gohap/acl/stick"
	"net/netip"
	"strconv"
)

// Type is a sample's type, in HAProxy's order (include/haproxy/sample-t.h).
type Type uint8

// Sample types. TypeAny and TypeAddr only appear as converter input types.
const (
	TypeAny Type = iota
	TypeBool
	TypeInt
	TypeAddr
	TypeIPv4
	TypeIPv6
	TypeStr
	TypeBin
	TypeMeth
	nTypes
)

var typeNames = [...]string{"any", "bool", "sint", "addr", "ipv4", "ipv6", "str", "bin", "meth"}

// String returns HAProxy's name of the type.
func (t Type) String() string {
	if t < nTypes {
		return typeNames[t]
	}
	return "?"
}

// Value is one typed sample. B holds str, bin and meth data; it points into
// the request, a variable or the Txn's scratch buffers, so it is valid
// until the next evaluation on the same Txn. I holds bool and sint values;
// IP holds ipv4 and ipv6 ones.
type Value struct {
	Type Type
	I    int64
	IP   netip.Addr
	B    []byte
	// MayChange is HAProxy's SMP_F_MAY_CHANGE: the value (or its absence)
	// comes from data that is still arriving, such as req.len on a partial
	// buffer.
	MayChange bool
}

// castOK is sample_casts[from][to] != NULL (src/sample.c).
var castOK = [nTypes][nTypes]bool{
	//            ANY   BOOL   SINT   ADDR   IPV4   IPV6   STR    BIN    METH
	TypeAny:  {true, true, true, true, true, true, true, true, true},
	TypeBool: {true, true, true, false, false, false, true, true, false},
	TypeInt:  {true, true, true, true, true, true, true, true, false},
	TypeAddr: {true, false, false, false, false, false, false, false, false},
	TypeIPv4: {true, false, true, true, true, true, true, true, false},
	TypeIPv6: {true, false, false, true, true, true, true, true, false},
	TypeStr:  {true, true, true, true, true, true, true, true, true},
	TypeBin:  {true, false, false, false, false, false, true, true, true},
	TypeMeth: {true, false, false, false, false, false, true, true, true},
}

// canCast reports whether a sample of type from can be cast to to at all.
func canCast(from, to Type) bool { return from < nTypes && to < nTypes && castOK[from][to] }

// cast converts v in place to type to, as HAProxy's sample_casts do; it
// reports false when the cast fails.
func cast(t *Txn, v *Value, to Type) bool {
	from := v.Type
	if !canCast(from, to) {
		return false
	}
	if to == TypeAny || from == to {
		return true
	}
	switch from {
	case TypeBool, TypeInt:
		switch to {
		case TypeBool, TypeInt:
			v.Type = to // c_none: the integer is kept as is
			return true
		case TypeAddr, TypeIPv4:
			v.IP, v.Type = netip.AddrFrom4(be4(uint32(v.I))), TypeIPv4
			return true
		case TypeIPv6:
			v.IP, v.Type = netip.AddrFrom16(netip.AddrFrom4(be4(uint32(v.I))).As16()), TypeIPv6
			return true
		case TypeStr:
			b := t.tmp()
			v.B, v.Type = t.keep(strconv.AppendInt(b, v.I, 10)), TypeStr
			return true
		case TypeBin:
			n := v.I
			if from == TypeBool && n != 0 {
				n = 1
			}
			b := t.tmp()
			v.B, v.Type = t.keep(binary.BigEndian.AppendUint64(b, uint64(n))), TypeBin
			return true
		}
	case TypeIPv4:
		switch to {
		case TypeInt:
			a := v.IP.As4()
			v.I, v.Type = int64(binary.BigEndian.Uint32(a[:])), TypeInt
		case TypeAddr:
		case TypeIPv6:
			v.IP, v.Type = netip.AddrFrom16(v.IP.As16()), TypeIPv6
		case TypeStr:
			v.B, v.Type = t.keep(v.IP.AppendTo(t.tmp())), TypeStr
		case TypeBin:
			a := v.IP.As4()
			v.B, v.Type = t.keep(append(t.tmp(), a[:]...)), TypeBin
		}
		return true
	case TypeIPv6:
		switch to {
		case TypeAddr:
		case TypeIPv4:
			// v6tov4: only v4-mapped and v4-compatible addresses.
			a := v.IP.As16()
			if !v.IP.Is4In6() && !isV4Compat(a) {
				return false
			}
			v.IP, v.Type = netip.AddrFrom4([4]byte(a[12:])), TypeIPv4
		case TypeStr:
			v.B, v.Type = t.keep(appendIPv6(t.tmp(), v.IP.As16())), TypeStr
		case TypeBin:
			a := v.IP.As16()
			v.B, v.Type = t.keep(append(t.tmp(), a[:]...)), TypeBin
		}
		return true
	case TypeStr:
		switch to {
		case TypeBool, TypeInt:
			if len(v.B) == 0 {
				return false
			}
			v.I, _ = readInt64(v.B)
			v.Type = TypeInt
		case TypeAddr:
			if a, ok := buf2ip(v.B); ok {
				v.IP, v.Type = a, TypeIPv4
			} else if a, ok := buf2ip6(v.B); ok {
				v.IP, v.Type = a, TypeIPv6
			} else {
				return false
			}
		case TypeIPv4:
			a, ok := buf2ip(v.B)
			if !ok {
				return false
			}
			v.IP, v.Type = a, TypeIPv4
		case TypeIPv6:
			a, ok := buf2ip6(v.B)
			if !ok {
				return false
			}
			v.IP, v.Type = a, TypeIPv6
		case TypeBin, TypeMeth:
			v.Type = to
		}
		return true
	case TypeBin:
		if to == TypeStr {
			// c_bin2str: a NUL byte ends the string.
			for i, c := range v.B {
				if c == 0 {
					v.B = v.B[:i]
					break
				}
			}
		}
		v.Type = to
		return true
	case TypeMeth:
		v.Type = to
		return true
	}
	return false
}

func be4(n uint32) [4]byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], n)
	return a
}

func isV4Compat(a [16]byte) bool {
	for _, c := range a[:12] {
		if c != 0 {
			return false
		}
	}
	return true
}

// readInt64 is HAProxy's read_int64: an optional sign then digits, stopping
// at the first other byte and saturating on overflow. n is the number of
// bytes read.
func readInt64(b []byte) (v int64, n int) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		n++
	}
	var u uint64
	over := false
	for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		d := uint64(b[n] - '0')
		if !over {
			if u > (1<<64-1)/10 || u*10 > 1<<64-1-d {
				over, u = true, 1<<64-1
				continue
			}
			u = u*10 + d
		}
	}
	if neg {
		if u > 1<<63 {
			return -1 << 63, n
		}
		return int64(-u), n
	}
	if u > 1<<63-1 {
		return 1<<63 - 1, n
	}
	return int64(u), n
}

// buf2ip parses a dotted quad as HAProxy's buf2ip: it stops at the first
// byte that is neither a digit nor a dot.
func buf2ip(b []byte) (netip.Addr, bool) {
	var tmp [4]byte
	octets, saw, cur := 0, false, 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			if !saw {
				if octets++; octets > 4 {
					return netip.Addr{}, false
				}
				saw, cur = true, 0
			}
			if cur = cur*10 + int(c-'0'); cur > 255 {
				return netip.Addr{}, false
			}
			tmp[octets-1] = byte(cur)
		} else if c == '.' {
			if !saw || octets == 4 {
				return netip.Addr{}, false
			}
			saw = false
		} else {
			break
		}
	}
	if octets < 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(tmp), true
}

// buf2ip6 parses an IPv6 address as inet_pton does (no zone).
func buf2ip6(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		if c == '%' {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, false
	}
	if a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// appendIPv6 formats an address as glibc's inet_ntop does.
var appendIPv6 = stick.AppendIPv6

// appendValue appends v as text, as a cast to str would give it.
func appendValue(dst []byte, v *Value) []byte {
	switch v.Type {
	case TypeBool, TypeInt:
		return strconv.AppendInt(dst, v.I, 10)
	case TypeIPv4:
		return v.IP.AppendTo(dst)
	case TypeIPv6:
		return appendIPv6(dst, v.IP.As16())
	case TypeBin:
		for i, c := range v.B {
			if c == 0 {
				return append(dst, v.B[:i]...)
			}
		}
	}
	return append(dst, v.B...)
}
