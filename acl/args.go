package acl

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// argType is an argument type of a fetch or converter (include/haproxy/arg-t.h).
type argType uint8

const (
	aStop argType = iota
	aSint
	aStr
	aIPv4
	aMsk4
	aIPv6
	aMsk6
	aTime
	aSize
	aFE
	aBE
	aTab
	aSrv
	aUsr
	aMap
	aReg
	aVar
	aPbuf
)

var argTypeNames = [...]string{"end of arguments", "integer", "string", "IPv4 address", "IPv4 mask",
	"IPv6 address", "IPv6 mask", "delay", "size", "frontend", "backend", "table", "server",
	"user list", "map", "regex", "variable", "Protocol buffers field number"}

// arg is one parsed argument. s keeps the decoded text for every type.
type arg struct {
	typ argType
	s   string
	b   []byte
	i   int64
	ip  netip.Addr
	// msk is a mask argument's address.
	msk netip.Addr
	re  *regexp.Regexp
	// fids is a protobuf field path.
	fids []uint32
	// isVar, scope and name make an arithmetic operand a variable.
	isVar bool
	scope uint8
	name  string
}

// argSpec is an ARGn(min, types...) mask.
type argSpec struct {
	min   int
	types []argType
}

func spec(min int, types ...argType) argSpec { return argSpec{min, types} }

// parseArgs is HAProxy's make_arg_list (src/arg.c): in starts just after
// the keyword. It returns the arguments, the number of bytes of in
// consumed and the 0-based position reached (for error messages).
func parseArgs(in string, sp argSpec) (args []arg, end int, pos int, err error) {
	empty := len(in) == 0 || in[0] != '('
	p := 0
	if !empty {
		p = 1
	} else {
		// without parentheses the arguments are empty, whatever follows
		in = ""
	}
	nb := len(sp.types)
	if nb == 0 || (empty && sp.min == 0) {
		goto endParse
	}
	for pos < nb {
		var sb strings.Builder
		sq, dq := false, false
		for p < len(in) {
			c := in[p]
			if c == '"' && !sq {
				dq = !dq
				p++
				continue
			}
			if c == '\'' && !dq {
				sq = !sq
				p++
				continue
			}
			if c == '\\' && !sq && p+1 < len(in) {
				switch in[p+1] {
				case '\\', ' ', '"', '\'':
					p++
					sb.WriteByte(in[p])
				case 'r':
					p++
					sb.WriteByte('\r')
				case 'n':
					p++
					sb.WriteByte('\n')
				case 't':
					p++
					sb.WriteByte('\t')
				default:
					sb.WriteByte('\\')
				}
				p++
				continue
			}
			if !sq && !dq && (c == ',' || c == ')') {
				break
			}
			sb.WriteByte(c)
			p++
		}
		word := sb.String()
		a := arg{typ: sp.types[pos], s: word, b: []byte(word)}
		switch a.typ {
		case aSint:
			if word == "" {
				goto emptyErr
			}
			v, n := readInt64([]byte(word))
			if n < len(word) {
				return nil, p, pos, parseErr(word, a.typ, pos)
			}
			a.i = v
		case aIPv4, aIPv6:
			if word == "" {
				goto emptyErr
			}
			ip, err := netip.ParseAddr(word)
			if err != nil || ip.Is4() != (a.typ == aIPv4) || ip.Zone() != "" {
				return nil, p, pos, parseErr(word, a.typ, pos)
			}
			a.ip = ip
		case aMsk4, aMsk6:
			if word == "" {
				goto emptyErr
			}
			m, ok := parseMask(word, a.typ == aMsk6)
			if !ok {
				return nil, p, pos, parseErr(word, a.typ, pos)
			}
			a.msk = m
		case aTime:
			if word == "" {
				goto emptyErr
			}
			ms, ok := parseTimeMS(word)
			if !ok {
				return nil, p, pos, parseErr(word, a.typ, pos)
			}
			a.i = ms
		case aSize:
			if word == "" {
				goto emptyErr
			}
			n, ok := parseSize(word)
			if !ok {
				return nil, p, pos, parseErr(word, a.typ, pos)
			}
			a.i = n
		case aPbuf:
			if word == "" {
				goto emptyErr
			}
			// parse_dotted_uints: read_uint's wrapping numbers, each
			// followed by the end or a dot that is not the last byte.
			for s := word; s != ""; {
				var n uint32
				i := 0
				for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
					n = n*10 + uint32(s[i]-'0')
				}
				if s = s[i:]; s != "" {
					if s[0] != '.' || len(s) == 1 {
						return nil, p, pos, parseErr(word, a.typ, pos)
					}
					s = s[1:]
				}
				a.fids = append(a.fids, n)
			}
		}
		args = append(args, a)
		pos++
		if p >= len(in) || in[p] == ')' || pos >= nb {
			break
		}
		p++ // the comma
	}
	goto endParse
emptyErr:
	if pos >= sp.min {
		goto endParse
	}
	return nil, p, pos, fmt.Errorf("expected type '%s' at position %d, but got nothing", argTypeNames[sp.types[pos]], pos+1)
endParse:
	if pos < sp.min {
		return nil, p, pos, fmt.Errorf("missing arguments (got %d/%d), type '%s' expected", pos, sp.min, argTypeNames[sp.types[pos]])
	}
	if !empty {
		if p < len(in) && in[p] == ')' {
			p++
		} else {
			if pos > 1 {
				pos--
			}
			if p < len(in) {
				return nil, p, pos, fmt.Errorf("expected ')' before '%s'", in[p:])
			}
			return nil, p, pos, fmt.Errorf("expected ')'")
		}
	}
	return args, p, pos, nil
}

func parseErr(word string, t argType, pos int) error {
	return fmt.Errorf("failed to parse '%s' as type '%s' at position %d", word, argTypeNames[t], pos+1)
}

// parseMask is str2mask/str2mask6: a prefix length or a netmask.
func parseMask(s string, v6 bool) (netip.Addr, bool) {
	bits := 32
	if v6 {
		bits = 128
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > bits {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i := 0; i < n; i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		if v6 {
			return netip.AddrFrom16(b), true
		}
		return netip.AddrFrom4([4]byte(b[:4])), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Is4() == v6 {
		return netip.Addr{}, false
	}
	return a, true
}

// parseTimeMS is parse_time_err with milliseconds as the default unit.
func parseTimeMS(s string) (int64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	switch s[i:] {
	case "", "ms":
		return n, true
	case "us":
		return n / 1000, true
	case "s":
		return n * 1000, true
	case "m":
		return n * 60000, true
	case "h":
		return n * 3600000, true
	case "d":
		return n * 86400000, true
	}
	return 0, false
}

// parseSize is parse_size_err: a number with an optional k, m or g suffix.
func parseSize(s string) (int64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	switch strings.ToLower(s[i:]) {
	case "":
		return n, true
	case "k":
		return n << 10, true
	case "m":
		return n << 20, true
	case "g":
		return n << 30, true
	}
	return 0, false
}

// isIDChar is HAProxy's is_idchar: bytes of a fetch or converter name.
func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '+' || c == ':'
}
