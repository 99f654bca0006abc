package stick

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Tables is the set of stick tables of a configuration. Add them in
// declaration order: "show table" lists them the other way round, as
// HAProxy 2.6 does. The zero value is an empty set.
type Tables struct {
	list   []*Table
	byName map[string]*Table
}

// Add appends t to the set.
func (s *Tables) Add(t *Table) {
	if s.byName == nil {
		s.byName = make(map[string]*Table)
	}
	s.list = append(s.list, t)
	s.byName[t.cfg.Name] = t
}

// Table returns the table called name, or nil.
func (s *Tables) Table(name string) *Table { return s.byName[name] }

// All returns the tables in declaration order.
func (s *Tables) All() []*Table { return s.list }

// cliAction is one of the three table commands (STK_CLI_ACT_*).
type cliAction uint8

const (
	actClear cliAction = iota
	actSet
	actShow
)

// filterLen is STKTABLE_FILTER_LEN.
const filterLen = 4

type filter struct {
	dt    DataType
	op    string
	value int64
}

// Command runs "show table", "clear table" or "set table". args are the
// command's words, starting with the verb. oper is true when the socket's
// level is at least "operator"; below it entries are neither shown nor
// changed. The result is what HAProxy writes before the blank line that
// ends every CLI answer.
func (s *Tables) Command(args []string, oper bool) string {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	var act cliAction
	switch arg(0) {
	case "clear":
		act = actClear
	case "set":
		act = actSet
	case "show":
		act = actShow
	default:
		return "Unknown action\n"
	}
	if arg(2) == "" {
		if act != actShow {
			return argsError(act)
		}
		var b strings.Builder
		for i := len(s.list) - 1; i >= 0; i-- {
			t := s.list[i]
			t.Purge()
			writeHead(&b, t, false, oper)
		}
		return b.String()
	}
	t := s.Table(arg(2))
	if t == nil {
		return "No such table\n"
	}
	var filters []filter
	switch {
	case arg(3) == "key":
		return t.keyCommand(act, arg(4), args[min(5, len(args)):], oper)
	case strings.HasPrefix(arg(3), "data."):
		if act != actShow && act != actClear {
			return "content-based lookup is only supported with the \"show\" and \"clear\" actions\n"
		}
		var msg string
		if filters, msg = t.parseFilters(args); msg != "" {
			return msg
		}
	case arg(3) != "":
		return argsError(act)
	}
	var b strings.Builder
	t.Purge()
	if act == actShow {
		writeHead(&b, t, true, oper)
	}
	if !oper {
		return b.String()
	}
	t.walk(&b, act, filters)
	return b.String()
}

func argsError(act cliAction) string {
	switch act {
	case actShow:
		return "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n"
	case actClear:
		return "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n"
	}
	return "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n"
}

// writeHead writes table_dump_head_to_buffer's line.
func writeHead(b *strings.Builder, t *Table, target, oper bool) {
	fmt.Fprintf(b, "# table: %s, type: %s, size:%d, used:%d\n", t.cfg.Name, t.cfg.Type, int32(t.cfg.Size), t.Used())
	if target && !oper {
		b.WriteString("# contents not dumped due to insufficient privileges\n")
	}
}

// parseFilters reads "data.<type> <op> <value>" triplets from args[3]
// (table_prepare_data_request).
func (t *Table) parseFilters(args []string) ([]filter, string) {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	var fs []filter
	i := 0
	for ; i < filterLen; i++ {
		w := arg(3 + 3*i)
		if i > 0 && w == "" {
			break
		}
		var f filter
		dt, ok := DataType(0), false
		if len(w) >= 5 {
			dt, ok = LookupDataType(w[5:])
		}
		if !ok {
			return nil, fmt.Sprintf("Filter entry #%d: Unknown data type\n", i+1)
		}
		if !t.Stores(dt) {
			return nil, fmt.Sprintf("Filter entry #%d: Data type not stored in this table\n", i+1)
		}
		f.dt = dt
		f.op = arg(4 + 3*i)
		if !validOp(f.op) {
			return nil, fmt.Sprintf("Filter entry #%d: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n", i+1)
		}
		v, ok := strl2llrc(arg(5 + 3*i))
		if !ok {
			return nil, fmt.Sprintf("Filter entry #%d: Require a valid integer value to compare against\n", i+1)
		}
		f.value = v
		fs = append(fs, f)
	}
	if arg(3+3*i) != "" {
		return nil, fmt.Sprintf("Detected extra data in filter, %dth word of input, after '%s'\n", 3+3*i+1, arg(2+3*i))
	}
	return fs, ""
}

func validOp(op string) bool {
	switch op {
	case "eq", "ne", "le", "ge", "lt", "gt":
		return true
	}
	return false
}

// skip reports whether data fails the filter's test.
func (f filter) skip(data int64) bool {
	switch {
	case data < f.value:
		return f.op == "eq" || f.op == "gt" || f.op == "ge"
	case data == f.value:
		return f.op == "ne" || f.op == "gt" || f.op == "lt"
	default:
		return f.op == "eq" || f.op == "lt" || f.op == "le"
	}
}

// storedKeys lists the stored keys of the entries, zero padded to the key
// size, one after the other in keys; order numbers them in HAProxy's tree
// order: by key bytes (keys hold no NUL, so the padding keeps the order).
type storedKeys struct {
	keys  []byte
	size  int
	order []uint32
}

func (s *storedKeys) key(i int) []byte {
	o := int(s.order[i]) * s.size
	return s.keys[o : o+s.size : o+s.size]
}

func (t *Table) sortedKeys() storedKeys {
	n := t.cfg.KeySize
	var buf []byte
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, v := range sh.slots {
			if v != 0 {
				e := t.entry(v - 1)
				c := e.chunk()
				buf = append(buf, c.keys[int(e.off)*n:int(e.off+1)*n]...)
			}
		}
		sh.mu.RUnlock()
	}
	s := storedKeys{keys: buf, size: n, order: make([]uint32, len(buf)/max(n, 1))}
	for i := range s.order {
		s.order[i] = uint32(i)
	}
	slices.SortFunc(s.order, func(a, b uint32) int {
		return bytes.Compare(buf[int(a)*n:int(a+1)*n], buf[int(b)*n:int(b+1)*n])
	})
	return s
}

// lookupStored returns the live entry stored under a padded stored key,
// referenced, or nil.
func (t *Table) lookupStored(k []byte) *Entry {
	if t.cfg.Type == KeyString {
		if i := bytes.IndexByte(k, 0); i >= 0 {
			k = k[:i]
		}
	}
	return t.lookupKey(k)
}

// walk dumps or removes the entries passing filters (cli_io_handler_table),
// in key order, holding a reference on the entry at hand and the next
// one as HAProxy does. Removal keeps HAProxy 2.6's test of the reference
// count of the entry that follows in key order, not of the removed one,
// so an idle entry just before a tracked one survives "clear table".
func (t *Table) walk(b *strings.Builder, act cliAction, filters []filter) {
	keys := t.sortedKeys()
	n := len(keys.order)
	now := t.now()
	var next *Entry
	if n > 0 {
		next = t.lookupStored(keys.key(0))
	}
	for i := 0; i < n; i++ {
		e := next
		next = nil
		if i+1 < n {
			next = t.lookupStored(keys.key(i + 1))
		}
		if e == nil {
			continue // gone since listed
		}
		skip := false
		for _, f := range filters {
			if f.skip(e.filterValue(f.dt)) {
				skip = true
				break
			}
		}
		if act == actShow {
			if !skip {
				e.writeLine(b, now, 1)
			}
			e.ref.Add(-1)
			continue
		}
		after := next
		if i+1 == n {
			after = e
		}
		// the walk holds one reference on each of e and after
		if skip || (after != nil && after.ref.Load() != 1) || !t.remove(e, 1, false) {
			e.ref.Add(-1)
		}
	}
}

// filterValue reads element 0 of dt as a filter compares it; server_key
// reads as 0.
func (e *Entry) filterValue(dt DataType) int64 {
	v, _ := e.Value(dt, 0)
	return v
}

// Line returns the entry's "show table" line, without its newline.
func (e *Entry) Line() string {
	var b strings.Builder
	e.writeLine(&b, e.tab().now(), 0)
	s := b.String()
	return s[:len(s)-1]
}

// writeLine writes table_dump_entry_to_buffer's line. The id in front is
// the entry's address; held is the number of references the caller holds,
// not counted in "use".
func (e *Entry) writeLine(b *strings.Builder, now uint32, held int32) {
	t := e.tab()
	fmt.Fprintf(b, "%p: key=", e)
	b.WriteString(formatKey(t.cfg, e.keyBytes()))
	fmt.Fprintf(b, " use=%d exp=%d", e.ref.Load()-held, remain(now, e.expire.Load()))
	e.mu.Lock()
	defer e.mu.Unlock()
	for dt := DataType(0); dt < NumDataTypes; dt++ {
		if !t.Stores(dt) {
			continue
		}
		info := dataTypes[dt]
		st := t.cfg.Store[dt]
		pfx, sfx := info.name, ""
		for idx := 0; idx < st.Elems; idx++ {
			b.WriteByte(' ')
			if info.array {
				if i := strings.IndexByte(info.name, '_'); i >= 0 {
					pfx, sfx = info.name[:i], info.name[i:]
				}
				b.WriteString(pfx)
				b.WriteString(strconv.Itoa(idx))
				b.WriteString(sfx)
			} else {
				b.WriteString(info.name)
			}
			if info.delay {
				fmt.Fprintf(b, "(%d)", st.Period)
			}
			b.WriteByte('=')
			s := int(t.slot[dt]) + idx*info.std.words()
			switch info.std {
			case stdFreq:
				b.WriteString(strconv.FormatUint(uint64(e.frq(s).Read(now, st.Period)), 10))
			case stdDict:
				if e.srvKeyText() == "" {
					b.WriteByte('-')
				} else {
					b.WriteString(e.srvKeyText())
				}
			case stdULL:
				b.WriteString(strconv.FormatUint(e.raw(s, stdULL), 10))
			default:
				b.WriteString(strconv.FormatInt(convert(info.std, e.raw(s, info.std)), 10))
			}
		}
	}
	b.WriteByte('\n')
}

// formatKey renders a stored key as "show table" does.
func formatKey(c Config, k []byte) string {
	switch c.Type {
	case KeyIP:
		return netip.AddrFrom4([4]byte(k)).String()
	case KeyIPv6:
		return string(AppendIPv6(nil, [16]byte(k)))
	case KeyInteger:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(k)), 10)
	case KeyString:
		return dumpText(string(k))
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		b.WriteByte(hex[k[i]>>4])
		b.WriteByte(hex[k[i]&15])
	}
	return b.String()
}

// dumpText escapes a string key as HAProxy's dump_text does.
func dumpText(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s) && s[i] != 0; i++ {
		c := s[i]
		switch {
		case c > 0x20 && c < 0x7f && c != '\\' && c != '=':
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == 0x1b:
			b.WriteString(`\e`)
		case c == '\\' || c == ' ' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// AppendIPv6 appends a as glibc's inet_ntop prints it: the longest run of
// at least two zero words becomes "::", and ::a.b.c.d and ::ffff:a.b.c.d
// keep the dotted form.
func AppendIPv6(dst []byte, a [16]byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(a[2*i:])
	}
	best, bestLen, cur, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if cur < 0 {
				cur, curLen = i, 1
			} else {
				curLen++
			}
			if curLen > bestLen {
				best, bestLen = cur, curLen
			}
		} else {
			cur = -1
		}
	}
	if bestLen < 2 {
		best = -1
	}
	b := dst
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			b = netip.AddrFrom4([4]byte(a[12:])).AppendTo(b)
			break
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if best >= 0 && best+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// keyCommand runs the "key <k>" form of the commands
// (table_process_entry_per_key).
func (t *Table) keyCommand(act cliAction, text string, rest []string, oper bool) string {
	if text == "" {
		return "Key value expected\n"
	}
	k, err := t.ParseKey(text)
	if errors.Is(err, errKeyType) {
		switch act {
		case actShow:
			return "Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n"
		case actClear:
			return "Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n"
		}
		return "Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n"
	}
	if err != nil {
		return "Invalid key\n"
	}
	if !oper {
		return "Permission denied\n"
	}
	switch act {
	case actShow:
		e := t.Lookup(&k)
		if e == nil {
			return ""
		}
		defer e.Release()
		var b strings.Builder
		writeHead(&b, t, true, oper)
		e.writeLine(&b, t.now(), 1)
		return b.String()
	case actClear:
		e := t.Lookup(&k)
		if e == nil {
			return ""
		}
		if !t.remove(e, 1, false) {
			e.ref.Add(-1)
			return "Entry currently in use, cannot remove\n"
		}
		return ""
	}
	e := t.Get(&k)
	if e == nil {
		return "Unable to allocate a new entry\n"
	}
	defer func() {
		e.Touch()
		e.Release()
	}()
	for i := 0; i < len(rest) && rest[i] != ""; i += 2 {
		if !strings.HasPrefix(rest[i], "data.") {
			return "\"data.<type>\" followed by a value expected\n"
		}
		dt, ok := LookupDataType(rest[i][5:])
		if !ok {
			return "Unknown data type\n"
		}
		if !t.Stores(dt) {
			return "Data type not stored in this table\n"
		}
		v := ""
		if i+1 < len(rest) {
			v = rest[i+1]
		}
		n, ok := strl2llrc(v)
		if !ok {
			return "Require a valid integer value to store\n"
		}
		e.Set(dt, n)
	}
	return ""
}

// Errors of ParseKey.
var (
	errInvalidKey = errors.New("stick: invalid key")
	errKeyType    = errors.New("stick: keys of this table type cannot be typed")
)

// ParseKey reads a key typed on the CLI as HAProxy does: a lenient dotted
// quad for ip, inet_pton for ipv6, strtoul for integer, the text itself
// for string. Binary keys cannot be typed.
func (t *Table) ParseKey(text string) (Key, error) {
	var k Key
	switch t.cfg.Type {
	case KeyIP:
		binary.BigEndian.PutUint32(k.fixed[:], inetaddrHost(text))
		k.n, k.typ = 4, KeyIP
	case KeyIPv6:
		a, err := netip.ParseAddr(text)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return k, errInvalidKey
		}
		k, _ = IPKey(KeyIPv6, a)
	case KeyInteger:
		v, ok := strtoul(text)
		if !ok || v > 0xffffffff {
			return k, errInvalidKey
		}
		k = IntKey(int64(v))
	case KeyString:
		k = BytesKey([]byte(text))
	default:
		return k, errKeyType
	}
	return k, nil
}

// inetaddrHost is HAProxy's inetaddr_host: up to four dot-separated
// groups, each made of its last three digits, added lane by lane so that
// groups above 255 carry into the next byte.
func inetaddrHost(text string) uint32 {
	const zero = uint32('0')<<24 | uint32('0')<<16 | uint32('0')<<8 | uint32('0')
	dig1, dig10, dig100 := zero, zero, zero
	s := 24
	p, start := 0, 0
	for {
		if p < len(text) && text[p] >= '0' && text[p] <= '9' {
			p++
			continue
		}
		if p != start {
			d := p - 1
			dig1 |= uint32(text[d]) << s
			if d != start {
				d--
				dig10 |= uint32(text[d]) << s
				if d != start {
					d--
					dig100 |= uint32(text[d]) << s
				}
			}
		}
		if s == 0 || p >= len(text) || text[p] != '.' {
			break
		}
		s -= 8
		p++
		start = p
	}
	dig100 -= zero
	dig10 -= zero
	dig1 -= zero
	return (dig100*10+dig10)*10 + dig1
}

// strtoul is C's strtoul in base 10 with HAProxy's checks: blanks and a
// sign allowed, trailing garbage ignored, no digits or overflow rejected.
func strtoul(s string) (uint64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if i == start {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// strl2llrc is HAProxy's strict long long parser, including its quirk of
// accepting characters below '0' as negative digits.
func strl2llrc(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	if s[0] != '-' {
		for i := 0; i < len(s); i++ {
			j := int64(int(s[i]) - '0')
			if j > 9 || v > (1<<63-1)/10 {
				return 0, false
			}
			v *= 10
			if v+j < v {
				return 0, false
			}
			v += j
		}
		return v, true
	}
	for i := 1; i < len(s); i++ {
		j := int64(int(s[i]) - '0')
		if j > 9 || v < (-1<<63)/10 {
			return 0, false
		}
		v *= 10
		if v-j > v {
			return 0, false
		}
		v -= j
	}
	return v, true
}
