package parser

import (
	"math"
	"strings"
	"time"
)

// kwMaxKAQueue reads "max-keep-alive-queue <value>"
// (proxy_parse_max_ka_queue): a C integer in any base, kept plus one in
// 32 bits; outside a backend it is only warned about, and still set.
func kwMaxKAQueue(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects expects an integer value (or -1 to disable)", c.args[0])
		return
	}
	v, end := strtol0(c.arg(1))
	if end < len(c.arg(1)) {
		c.alert("'%s' : unexpected character '%c' in integer value '%s'", c.args[0], c.arg(1)[end], c.arg(1))
		return
	}
	p := c.cp.proxy
	if p.Cap&CapBE == 0 {
		c.warn("%s will be ignored because %s '%s' has no backend capability", c.args[0], ProxyTypeStr(p), p.Name)
	}
	p.MaxKAQueue = int32(uint32(v) + 1)
}

// TCPKeepAlive holds a side's TCP keep-alive probe settings: Cnt probes
// (TCP_KEEPCNT), the first after Idle seconds of silence (TCP_KEEPIDLE),
// then every Intvl seconds (TCP_KEEPINTVL); 0 leaves the system's.
type TCPKeepAlive struct {
	Cnt, Idle, Intvl int
}

// kwTCPKA reads clitcpka-cnt, -idle, -intvl and their srvtcpka forms
// (proxy_parse_tcpka_*): a count is a C integer in any base, a delay
// in seconds unless a unit follows. On a proxy without the side it is
// warned about, and still set.
func kwTCPKA(c *pctx) {
	kw, v := c.args[0], c.arg(1)
	if v == "" {
		c.alert("'%s' expects an integer value", kw)
		return
	}
	var n int
	if strings.HasSuffix(kw, "-cnt") {
		l, end := strtol0(v)
		if end < len(v) {
			c.alert("'%s' : unexpected character '%c' in integer value '%s'", kw, v[end], v)
			return
		}
		n = int(int32(l))
	} else {
		d, r, bad, warn := parseSeconds(v)
		timerTrailWarning(c, warn, v)
		switch r {
		case timeOverflow:
			c.alert("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", v, kw)
			return
		case timeUnderflow:
			c.alert("timer underflow in argument '%s' to '%s' (minimum non-null value is 1 ms)", v, kw)
			return
		case timeBadChar:
			// HAProxy's message ends in a newline of its own.
			c.alert("unexpected character '%c' in argument to <%s>.\n", bad, kw)
			return
		}
		n = int(d / time.Second)
	}
	p := c.cp.proxy
	ka, side, need := &p.CliTCPKA, CapFE, "frontend"
	if strings.HasPrefix(kw, "srv") {
		ka, side, need = &p.SrvTCPKA, CapBE, "backend"
	}
	if p.Cap&side == 0 {
		c.warn("%s will be ignored because %s '%s' has no %s capability", kw, ProxyTypeStr(p), p.Name, need)
	}
	switch {
	case strings.HasSuffix(kw, "-cnt"):
		ka.Cnt = n
	case strings.HasSuffix(kw, "-idle"):
		ka.Idle = n
	default:
		ka.Intvl = n
	}
}

// strtol0 is C's strtol in base 0 (decimal, 0x hexadecimal, 0 octal)
// on a 64-bit long: the value and where the digits end.
func strtol0(s string) (int64, int) {
	i, neg := cSign(s)
	base := uint64(10)
	switch {
	case i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && digitVal(s[i+2]) < 16:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var v uint64
	over := false
	for ; i < len(s); i++ {
		d := uint64(digitVal(s[i]))
		if d >= base {
			break
		}
		if v > (1<<63)/base || v*base > 1<<63-d {
			over = true
		}
		v = v*base + d
	}
	if i == start {
		// No digits: nothing is read, not even a sign.
		return 0, 0
	}
	switch {
	case over && neg, neg && v > 1<<63:
		return -1 << 63, i
	case over, !neg && v > 1<<63-1:
		return 1<<63 - 1, i
	case neg:
		return -int64(v), i
	}
	return int64(v), i
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// cSign skips what C's strto* functions skip before the digits: blanks
// and a sign, which it reports.
func cSign(s string) (i int, neg bool) {
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	return i, neg
}

// cDigits reads the decimal digits of s from i as strtol does: their
// value, where they end, and whether it overflowed an uint64.
func cDigits(s string, i int) (v uint64, end int, over bool) {
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
		}
		v = v*10 + d
	}
	return v, i, over
}
