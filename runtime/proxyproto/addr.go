package proxyproto

import "strconv"

// pton6 parses an IPv6 address exactly as glibc's inet_pton(AF_INET6) does,
// which HAProxy uses for v1 TCP6 lines: at most four hex digits per group,
// one "::", an optional trailing dotted quad without leading zeros, no zone.
func pton6(s []byte) (a [16]byte, ok bool) {
	var tmp [16]byte
	tp, colonp := 0, -1
	i := 0
	if len(s) == 0 {
		return a, false
	}
	if s[0] == ':' {
		i++
		if i == len(s) || s[i] != ':' {
			return a, false
		}
	}
	curtok := i
	seen, val := 0, 0
	for i < len(s) {
		ch := s[i]
		i++
		if d := hexVal(ch); d >= 0 {
			if seen == 4 {
				return a, false
			}
			val = val<<4 | d
			seen++
			continue
		}
		if ch == ':' {
			curtok = i
			if seen == 0 {
				if colonp >= 0 {
					return a, false
				}
				colonp = tp
				continue
			} else if i == len(s) {
				return a, false
			}
			if tp+2 > 16 {
				return a, false
			}
			tmp[tp], tmp[tp+1] = byte(val>>8), byte(val)
			tp += 2
			seen, val = 0, 0
			continue
		}
		if ch == '.' && tp+4 <= 16 {
			if v4, ok := pton4(s[curtok:]); ok {
				copy(tmp[tp:], v4[:])
				tp += 4
				seen = 0
				break
			}
		}
		return a, false
	}
	if seen > 0 {
		if tp+2 > 16 {
			return a, false
		}
		tmp[tp], tmp[tp+1] = byte(val>>8), byte(val)
		tp += 2
	}
	if colonp >= 0 {
		if tp == 16 {
			return a, false
		}
		n := tp - colonp
		copy(tmp[16-n:], tmp[colonp:tp])
		for j := colonp; j < 16-n; j++ {
			tmp[j] = 0
		}
		tp = 16
	}
	if tp != 16 {
		return a, false
	}
	return tmp, true
}

// pton4 is glibc's inet_pton4: four decimal octets, no leading zeros.
func pton4(s []byte) (a [4]byte, ok bool) {
	octets, saw, cur := 0, false, 0
	for _, ch := range s {
		switch {
		case ch >= '0' && ch <= '9':
			n := int(a[cur])*10 + int(ch-'0')
			if saw && a[cur] == 0 {
				return a, false
			}
			if n > 255 {
				return a, false
			}
			a[cur] = byte(n)
			if !saw {
				if octets++; octets > 4 {
					return a, false
				}
				saw = true
			}
		case ch == '.' && saw:
			if octets == 4 {
				return a, false
			}
			cur++
			saw = false
		default:
			return a, false
		}
	}
	return a, octets == 4
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendNtop6 formats an IPv6 address as glibc's inet_ntop does, which
// differs from net/netip for IPv4-compatible addresses (::a.b.c.d).
func appendNtop6(dst []byte, a [16]byte) []byte {
	var w [8]int
	for i := range w {
		w[i] = int(a[2*i])<<8 | int(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				dst = append(dst, ':')
			}
			continue
		}
		if i != 0 {
			dst = append(dst, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return appendNtop4(dst, a[12], a[13], a[14], a[15])
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		dst = append(dst, ':')
	}
	return dst
}

func appendNtop4(dst []byte, b0, b1, b2, b3 byte) []byte {
	dst = strconv.AppendUint(dst, uint64(b0), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(b1), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(b2), 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, uint64(b3), 10)
}
