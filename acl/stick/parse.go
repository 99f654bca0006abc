package stick

import (
	"fmt"
	"strings"
)

// Store describes one stored data type of a table. A zero Store means the
// type is not stored.
type Store struct {
	On bool
	// Period is the rate period in milliseconds for *_rate types.
	Period uint32
	// Elems is the element count of arrays, 1 for the other types.
	Elems int
}

// Config is a parsed "stick-table" line (or "table" line of a peers section).
type Config struct {
	// Name is the table's id: the proxy name, or the peers table name.
	Name string
	Type KeyType
	// KeySize is HAProxy's key_size: 4 for ip and integer, 16 for ipv6,
	// len+1 for strings (room for the NUL), len for binary.
	KeySize int
	// Size is the maximum number of entries.
	Size uint32
	// Expire is the entry lifetime in milliseconds, 0 for none.
	Expire  uint32
	NoPurge bool
	// Peers names the peers section ("peers"), empty for none.
	Peers  string
	SrvKey SrvKey
	Store  [NumDataTypes]Store
}

// Message is a diagnostic of Parse, worded as HAProxy 2.6 words it, without
// the "parsing [FILE:LINE]" prefix.
type Message struct {
	Warning bool
	// Tight is true when HAProxy prints "parsing [FILE:LINE]: " (no blank
	// before the colon) instead of "parsing [FILE:LINE] : ".
	Tight bool
	// NoPos is true for messages HAProxy prints without any position.
	NoPos bool
	Text  string
}

// Error returns the message text.
func (m Message) Error() string { return m.Text }

// Parse reads a stick-table definition. words is the whole line: words[0]
// is the keyword ("stick-table", or "table" in a peers section, where
// words[1] is the table name and inPeers is true). name is the table's id.
// The returned messages end with at most one fatal alert, as HAProxy stops
// at the first error; warnings before it are kept.
func Parse(words []string, name string, inPeers bool) (Config, []Message) {
	var c Config
	var msgs []Message
	kw := ""
	if len(words) > 0 {
		kw = words[0]
	}
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	fail := func(tight bool, format string, a ...any) (Config, []Message) {
		return c, append(msgs, Message{Tight: tight, Text: kw + ": " + fmt.Sprintf(format, a...)})
	}
	if name == "" {
		return fail(false, "ID not provided.")
	}
	c.Name = name
	idx := 1
	if inPeers {
		idx++
	}
	typeSet := false
	for idx < len(words) && words[idx] != "" {
		w := words[idx]
		switch {
		case w == "size":
			idx++
			if arg(idx) == "" {
				return fail(false, "missing argument after '%s'.", w)
			}
			v, bad, ok := parseSize(arg(idx))
			if !ok {
				return fail(false, "unexpected character '%s' in argument of '%s'.", bad, w)
			}
			c.Size = v
			idx++
		case !inPeers && w == "peers":
			idx++
			if arg(idx) == "" {
				return fail(false, "missing argument after '%s'.", w)
			}
			c.Peers = arg(idx)
			idx++
		case w == "expire":
			idx++
			v := arg(idx)
			if v == "" {
				return fail(false, "missing argument after '%s'.", w)
			}
			ms, res, bad := parseTime(v)
			switch res {
			case timeOver:
				return fail(true, "timer overflow in argument <%s> to <%s>, maximum value is 2147483647 ms (~24.8 days).", v, w)
			case timeUnder:
				return fail(true, "timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", v, w)
			case timeBad:
				return fail(false, "unexpected character '%s' in argument of '%s'.", bad, w)
			case timeTrailing:
				msgs = append(msgs, trailingTimeWarning(v, bad))
			}
			c.Expire = ms
			idx++
		case w == "nopurge":
			c.NoPurge = true
			idx++
		case w == "type":
			idx++
			t, size, next, ok := parseKeyType(words, idx)
			if !ok {
				return fail(false, "unknown type '%s'.", arg(next))
			}
			c.Type, c.KeySize, typeSet = t, size, true
			idx = next
		case w == "store":
			idx++
			if m, ok := parseStore(&c, kw, arg(idx)); !ok {
				return c, append(msgs, m...)
			} else {
				msgs = append(msgs, m...)
			}
			idx++
			s := &c.Store
			switch {
			case s[GPT].On && s[GPT0].On:
				return fail(false, "simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'.")
			case s[GPC].On && (s[GPC0].On || s[GPC1].On):
				return fail(false, "simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'.")
			case s[GPCRate].On && (s[GPC0Rate].On || s[GPC1Rate].On):
				return fail(false, "simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'.")
			}
		case w == "srvkey":
			idx++
			switch arg(idx) {
			case "name":
				c.SrvKey = SrvKeyName
			case "addr":
				c.SrvKey = SrvKeyAddr
			default:
				return c, append(msgs, Message{Text: fmt.Sprintf("%s : unknown server key type '%s'.", kw, arg(idx))})
			}
			idx++
		default:
			return fail(false, "unknown argument '%s'.", w)
		}
	}
	if c.Size == 0 {
		return fail(false, "missing size.")
	}
	if !typeSet {
		return fail(false, "missing type.")
	}
	return c, msgs
}

// HasErrors reports whether msgs holds an alert.
func HasErrors(msgs []Message) bool {
	for _, m := range msgs {
		if !m.Warning {
			return true
		}
	}
	return false
}

// parseKeyType reads "<type> [len <n>]" at words[idx] (stktable_parse_type).
// It returns the index after it, or on failure the index of the word to
// name in the error.
func parseKeyType(words []string, idx int) (KeyType, int, int, bool) {
	w := ""
	if idx < len(words) {
		w = words[idx]
	}
	for t, name := range keyTypeNames {
		if w != name {
			continue
		}
		size := defaultKeySize[t]
		idx++
		if (KeyType(t) == KeyString || KeyType(t) == KeyBinary) && idx < len(words) && words[idx] == "len" {
			idx++
			n := ""
			if idx < len(words) {
				n = words[idx]
			}
			size = int(atol(n))
			if size == 0 {
				return 0, 0, idx, false
			}
			if KeyType(t) == KeyString {
				size++
			}
			idx++
		}
		return KeyType(t), size, idx, true
	}
	return 0, 0, idx, false
}

// parseStore reads the comma-separated list of a "store" argument, with
// HAProxy's tolerance: "name(a,b)junk" reads as name(a,b), and inside the
// parentheses the first and the last comma-separated words are used.
func parseStore(c *Config, kw, list string) ([]Message, bool) {
	var msgs []Message
	for pos := 0; pos < len(list); {
		sa, sa2, hasSa, hasSa2 := "", "", false, false
		start := pos
		nameEnd := -1
		for pos < len(list) && list[pos] != ',' {
			if list[pos] == '(' {
				if nameEnd < 0 {
					nameEnd = pos
				}
				pos++
				argStart, first, last := pos, -1, -1
				for pos < len(list) && list[pos] != ')' {
					if list[pos] == ',' {
						if first < 0 {
							first = pos
						}
						last = pos
					}
					pos++
				}
				if pos >= len(list) {
					return append(msgs, Message{Text: fmt.Sprintf("%s: missing closing parenthesis after store option '%s'.", kw, list[start:nameEnd])}), false
				}
				hasSa = true
				if first < 0 {
					sa = list[argStart:pos]
				} else {
					sa, sa2, hasSa2 = list[argStart:first], list[last+1:pos], true
				}
			}
			pos++
		}
		if nameEnd < 0 {
			nameEnd = pos
		}
		name := list[start:nameEnd]
		if pos < len(list) {
			pos++ // the comma
		}
		dt, ok := LookupDataType(name)
		if !ok {
			return append(msgs, Message{Text: fmt.Sprintf("%s: unknown store option '%s'.", kw, name)}), false
		}
		m, ok := allocDataType(c, dt, kw, name, sa, sa2, hasSa, hasSa2)
		msgs = append(msgs, m...)
		if !ok {
			return msgs, false
		}
	}
	return msgs, true
}

// allocDataType enables dt in c (stktable_alloc_data_type) and words its
// failures as parse_stick_table does.
func allocDataType(c *Config, dt DataType, kw, name, sa, sa2 string, hasSa, hasSa2 bool) ([]Message, bool) {
	info := dataTypes[dt]
	alert := func(format string) ([]Message, bool) {
		return []Message{{Text: fmt.Sprintf(format, kw, name)}}, false
	}
	if c.Store[dt].On {
		return []Message{{Warning: true, Tight: true, Text: fmt.Sprintf("%s: store option '%s' already enabled, ignored.", kw, name)}}, true
	}
	s := Store{Elems: 1}
	if info.array {
		if !hasSa {
			return alert("%s: missing argument to store option '%s'.")
		}
		n := uint32(atoi(sa))
		if n == 0 || n > maxArray {
			return []Message{{Text: fmt.Sprintf("%s: array size is out of allowed range (1-%d) for store option '%s'.", kw, maxArray, name)}}, false
		}
		s.Elems = int(n)
		sa, hasSa = sa2, hasSa2
	}
	var msgs []Message
	if info.delay {
		if !hasSa {
			return alert("%s: missing argument to store option '%s'.")
		}
		ms, res, bad := parseTime(sa)
		switch res {
		case timeOK:
		case timeTrailing:
			msgs = append(msgs, trailingTimeWarning(sa, bad))
		default:
			return alert("%s: error when processing store option '%s'.")
		}
		s.Period = ms
	} else if hasSa {
		return alert("%s: unexpected argument to store option '%s'.")
	}
	s.On = true
	c.Store[dt] = s
	return msgs, true
}

func trailingTimeWarning(v, bad string) Message {
	return Message{Warning: true, NoPos: true, Text: fmt.Sprintf("unexpected character '%s' after the timer value '%s', only "+
		"(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."+
		" This will be reported as an error in next versions.", bad, v)}
}

// timeResult is the outcome of ParseTime.
type timeResult uint8

const (
	timeOK timeResult = iota
	// timeTrailing: accepted, but with characters after the unit (warned).
	timeTrailing
	timeBad
	timeOver
	timeUnder
)

// parseTime parses a delay in milliseconds as parse_time_err(TIME_UNIT_MS)
// does. bad is the offending character for timeBad and timeTrailing.
func parseTime(s string) (ms uint32, res timeResult, bad string) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, timeBad, firstChar(s)
	}
	var value uint64
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		value = value*10 + uint64(s[i]-'0')
		i++
	}
	omult, odiv := uint64(1000), uint64(1)
	imult, idiv := uint64(1), uint64(1)
	if i == len(s) {
		omult = 1
	} else {
		switch s[i] {
		case 's':
		case 'u':
			if i+1 < len(s) && s[i+1] == 's' {
				idiv = 1000000
				i++
				break
			}
			return 0, timeBad, firstChar(s[i:])
		case 'm':
			if i+1 < len(s) && s[i+1] == 's' {
				idiv = 1000
				i++
			} else {
				imult = 60
			}
		case 'h':
			imult = 3600
		case 'd':
			imult = 86400
		default:
			return 0, timeBad, firstChar(s[i:])
		}
		i++
		if i < len(s) {
			res, bad = timeTrailing, firstChar(s[i:])
		}
	}
	if omult%idiv == 0 {
		omult /= idiv
		idiv = 1
	}
	if idiv%omult == 0 {
		idiv /= omult
		omult = 1
	}
	if imult%odiv == 0 {
		imult /= odiv
		odiv = 1
	}
	if odiv%imult == 0 {
		odiv /= imult
		imult = 1
	}
	result := (value*(imult*omult) + (idiv*odiv - 1)) / (idiv * odiv)
	if result >= 0x80000000 {
		return 0, timeOver, ""
	}
	if result == 0 && value != 0 {
		return 0, timeUnder, ""
	}
	return uint32(result), res, bad
}

// firstChar returns the first byte of s as HAProxy's '%c' prints it.
func firstChar(s string) string {
	if s == "" {
		return "\x00"
	}
	return s[:1]
}

// parseSize parses a size with an optional k/m/g suffix (parse_size_err).
func parseSize(s string) (uint32, string, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, firstChar(s), false
	}
	var v uint32
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		j := uint32(s[i] - '0')
		if v > ^uint32(0)/10 {
			return 0, s[i : i+1], false
		}
		v *= 10
		if v > v+j {
			return 0, s[i : i+1], false
		}
		v += j
	}
	if i == len(s) {
		return v, "", true
	}
	shift := uint(0)
	switch s[i] {
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	default:
		return 0, s[i : i+1], false
	}
	if v > ^uint32(0)>>shift {
		return 0, s[i : i+1], false
	}
	v <<= shift
	if i+1 < len(s) {
		return 0, s[i+1 : i+2], false
	}
	return v, "", true
}

// atol mimics C's atol: leading blanks, a sign, digits, saturating.
func atol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if v > (1<<63-1-d)/10 {
			if neg {
				return -1 << 63
			}
			return 1<<63 - 1
		}
		v = v*10 + d
	}
	if neg {
		return -v
	}
	return v
}

// atoi mimics glibc's atoi: (int)strtol.
func atoi(s string) int32 { return int32(atol(s)) }
