package acl

import (
	"bytes"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// matchKind is a pattern match method (-m), as pat_match_fcts in
// src/pattern.c.
type matchKind uint8

const (
	mFound matchKind = iota
	mBool
	mInt
	mIP
	mBin
	mLen
	mStr
	mBeg
	mSub
	mDir
	mDom
	mEnd
	mReg
	mRegm
	// mAuth matches http_auth_group's user against group names.
	mAuth
)

var matchNames = map[string]matchKind{
	"found": mFound, "bool": mBool, "int": mInt, "ip": mIP, "bin": mBin, "len": mLen,
	"str": mStr, "beg": mBeg, "sub": mSub, "dir": mDir, "dom": mDom, "end": mEnd, "reg": mReg,
}

// matchIn is pat_match_types: the sample type each method reads.
func (m matchKind) in() Type {
	switch m {
	case mFound:
		return TypeAny
	case mBool, mInt:
		return TypeInt
	case mIP:
		return TypeAddr
	case mBin:
		return TypeBin
	}
	return TypeStr
}

// pat is one compiled pattern.
type pat struct {
	b      []byte
	re     *regexp.Regexp
	lo, hi int64
	pfx    netip.Prefix
	// val is a map entry's value, parsed to the map's output type.
	val Value
}

// patIndex is an immutable compiled view of a reference for one match
// method; updates build a new one and swap it in.
type patIndex struct {
	m     matchKind
	icase bool
	pats  []pat
	// exact maps str and bin patterns to their first position.
	exact map[string]int32
}

// patExpr is one match method's use of a reference (HAProxy's
// pattern_expr). Readers load idx without locks.
type patExpr struct {
	m     matchKind
	icase bool
	// out is the map output type (TypeAny for ACLs, whose entries have
	// no value).
	out  Type
	ref  *PatRef
	idx  atomic.Pointer[patIndex]
	dver bool // dotted versions (req.ssl_ver)
}

// RefEntry is one line of a pattern reference: a key, and a value for
// maps. ID is stable for the entry's life ("show map" prints it).
type RefEntry struct {
	ID    uint64
	Key   string
	Value string
}

// PatRef is a pattern reference: a map or ACL file, or the patterns of
// one ACL line, shared by every expression that uses it. Entries change
// only through its methods, which rebuild the users' indexes.
type PatRef struct {
	// Name is the file name, or "acl 'kw' file 'f' line n" for inline
	// patterns; ID is the unique id (-u, or allocated).
	Name  string
	ID    int
	IsMap bool
	mu    sync.Mutex
	ents  []RefEntry
	next  uint64
	exprs []*patExpr
	seen  bool // loaded at least once
}

// Maps is the registry of pattern references, shared by file name across
// the configuration so that the CLI's "add map", "set map", "del acl"...
// update every user at once. Lookups on the request path never lock.
type Maps struct {
	mu     sync.Mutex
	byName map[string]*PatRef
	byID   map[int]*PatRef
	refs   []*PatRef
	nextID int
}

// NewMaps returns an empty registry.
func NewMaps() *Maps { return &Maps{byName: map[string]*PatRef{}, byID: map[int]*PatRef{}} }

// Refs lists the references in creation order ("show map", "show acl").
func (ms *Maps) Refs() []*PatRef {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]*PatRef(nil), ms.refs...)
}

// Lookup finds a reference by name, or by "#<id>".
func (ms *Maps) Lookup(name string) *PatRef {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if strings.HasPrefix(name, "#") {
		id, err := strconv.Atoi(name[1:])
		if err != nil {
			return nil
		}
		return ms.byID[id]
	}
	return ms.byName[name]
}

// ref returns the reference of a file, creating it, or with file false
// always a new one; uid < 0 allocates an id.
func (ms *Maps) ref(name string, isMap, file bool, uid int) (*PatRef, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if r := ms.byName[name]; r != nil && file {
		return r, nil
	}
	if uid >= 0 {
		if ms.byID[uid] != nil {
			return nil, errorf("the id is already used")
		}
	} else {
		uid = ms.nextID
		for ms.byID[uid] != nil {
			uid++
		}
	}
	if uid >= ms.nextID {
		ms.nextID = uid + 1
	}
	r := &PatRef{Name: name, ID: uid, IsMap: isMap}
	if file {
		ms.byName[name] = r
	}
	ms.refs = append(ms.refs, r)
	ms.byID[uid] = r
	return r, nil
}

// loadFile reads a map file (key and value) or an ACL pattern file (one
// pattern a line) into a new reference, or returns the one already
// loaded from that path.
func (ms *Maps) loadFile(path string, isMap bool) (*PatRef, error) {
	r, err := ms.ref(path, isMap, true, -1)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen {
		return r, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("failed to open pattern file <%s>", path)
	}
	r.seen = true
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimLeft(line, " \t")
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		}
		if line == "" {
			continue
		}
		key, val := line, ""
		if isMap {
			i := strings.IndexAny(line, " \t")
			if i >= 0 {
				key, val = line[:i], strings.TrimRight(strings.TrimLeft(line[i:], " \t"), " \t")
			}
		}
		r.next++
		r.ents = append(r.ents, RefEntry{ID: r.next, Key: key, Value: val})
	}
	return r, nil
}

// attach adds an expression to the reference and builds its index.
func (r *PatRef) attach(e *patExpr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx, err := e.build(r.ents)
	if err != nil {
		return err
	}
	e.ref = r
	e.idx.Store(idx)
	r.exprs = append(r.exprs, e)
	return nil
}

// commit rebuilds every user's index from ents and swaps them in, or
// changes nothing when an entry does not parse for one of them.
func (r *PatRef) commit(ents []RefEntry) error {
	idxs := make([]*patIndex, len(r.exprs))
	for i, e := range r.exprs {
		idx, err := e.build(ents)
		if err != nil {
			return err
		}
		idxs[i] = idx
	}
	r.ents = ents
	for i, e := range r.exprs {
		e.idx.Store(idxs[i])
	}
	return nil
}

// Entries returns a copy of the entries in order.
func (r *PatRef) Entries() []RefEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RefEntry(nil), r.ents...)
}

// Add appends an entry ("add map", "add acl"); value is ignored for ACLs.
func (r *PatRef) Add(key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ents := append(append([]RefEntry(nil), r.ents...), RefEntry{ID: r.next + 1, Key: key, Value: value})
	if err := r.commit(ents); err != nil {
		return err
	}
	r.next++
	return nil
}

// Set changes the value of every entry with that key ("set map <ref>
// <key> <value>"); it reports whether one was found.
func (r *PatRef) Set(key, value string) (bool, error) {
	return r.update(func(e *RefEntry) bool { return e.Key == key }, value)
}

// SetID changes one entry's value by id ("set map <ref> #<id> <value>").
func (r *PatRef) SetID(id uint64, value string) (bool, error) {
	return r.update(func(e *RefEntry) bool { return e.ID == id }, value)
}

func (r *PatRef) update(match func(*RefEntry) bool, value string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ents := append([]RefEntry(nil), r.ents...)
	found := false
	for i := range ents {
		if match(&ents[i]) {
			ents[i].Value, found = value, true
		}
	}
	if !found {
		return false, nil
	}
	return true, r.commit(ents)
}

// Del removes every entry with that key ("del map", "del acl").
func (r *PatRef) Del(key string) bool {
	return r.remove(func(e *RefEntry) bool { return e.Key == key })
}

// DelID removes one entry by id ("del map <ref> #<id>").
func (r *PatRef) DelID(id uint64) bool {
	return r.remove(func(e *RefEntry) bool { return e.ID == id })
}

func (r *PatRef) remove(match func(*RefEntry) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ents := make([]RefEntry, 0, len(r.ents))
	for _, e := range r.ents {
		if !match(&e) {
			ents = append(ents, e)
		}
	}
	if len(ents) == len(r.ents) {
		return false
	}
	_ = r.commit(ents) // removing never fails to parse
	return true
}

// Clear removes all entries ("clear map", "clear acl").
func (r *PatRef) Clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.commit(nil)
}

// AppendShow appends the entries as "show map"/"show acl" print them:
// "0x<id> <key> <value>" (no value for ACLs), one a line.
func (r *PatRef) AppendShow(dst []byte) []byte {
	for _, e := range r.Entries() {
		dst = append(dst, "0x"...)
		dst = strconv.AppendUint(dst, e.ID, 16)
		dst = append(dst, ' ')
		dst = append(dst, e.Key...)
		if r.IsMap {
			dst = append(dst, ' ')
			dst = append(dst, e.Value...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// Get matches a sample against the reference as each of its users would
// ("get map", "get acl"): for each user, whether it matched, and the
// entry's key and value.
func (r *PatRef) Get(sample string) []GetResult {
	r.mu.Lock()
	exprs := append([]*patExpr(nil), r.exprs...)
	r.mu.Unlock()
	var out []GetResult
	for _, e := range exprs {
		t := &Txn{}
		v := Value{Type: TypeStr, B: []byte(sample)}
		res := GetResult{Match: e.m.String()}
		if cast(t, &v, e.m.in()) {
			if p := e.lookup(t, &v); p != nil {
				res.Found, res.Key, res.Value = true, p.key(e.m), string(appendValue(nil, &p.val))
			}
		}
		out = append(out, res)
	}
	return out
}

// GetResult is one answer of PatRef.Get.
type GetResult struct {
	Match      string
	Found      bool
	Key, Value string
}

func (p *pat) key(m matchKind) string {
	switch m {
	case mReg, mRegm:
		return p.re.String()
	case mIP:
		return p.pfx.String()
	case mInt, mLen:
		return strconv.FormatInt(p.lo, 10)
	}
	return string(p.b)
}

// String is the match method's name.
func (m matchKind) String() string {
	for n, k := range matchNames {
		if k == m {
			return n
		}
	}
	if m == mRegm {
		return "regm"
	}
	return "?"
}

// build compiles entries for this expression's method.
func (e *patExpr) build(ents []RefEntry) (*patIndex, error) {
	idx := &patIndex{m: e.m, icase: e.icase, pats: make([]pat, 0, len(ents))}
	if e.m == mStr || e.m == mBin {
		idx.exact = make(map[string]int32, len(ents))
	}
	for _, en := range ents {
		p, err := e.compile(en.Key)
		if err != nil {
			return nil, err
		}
		if e.out != TypeAny {
			if p.val, err = parseMapValue(en.Value, e.out); err != nil {
				return nil, err
			}
		}
		if idx.exact != nil {
			if _, ok := idx.exact[string(p.b)]; !ok {
				idx.exact[string(p.b)] = int32(len(idx.pats))
			}
		}
		idx.pats = append(idx.pats, p)
	}
	return idx, nil
}

// parseMapValue is map_parse_str/int/ip: a value of the map's output type.
func parseMapValue(s string, out Type) (Value, error) {
	switch out {
	case TypeInt:
		n, used := readInt64([]byte(s))
		if used != len(s) || s == "" {
			return Value{}, errorf("'%s' is not a valid integer", s)
		}
		return Value{Type: TypeInt, I: n}, nil
	case TypeAddr:
		if a, ok := buf2ip([]byte(s)); ok && !strings.ContainsAny(s, ":") {
			return Value{Type: TypeIPv4, IP: a}, nil
		}
		if a, ok := buf2ip6([]byte(s)); ok {
			return Value{Type: TypeIPv6, IP: a}, nil
		}
		return Value{}, errorf("'%s' is not a valid IPv4 or IPv6 address", s)
	}
	return Value{Type: TypeStr, B: []byte(s)}, nil
}

// compile parses one pattern (pat_parse_* in src/pattern.c).
func (e *patExpr) compile(s string) (pat, error) {
	switch e.m {
	case mInt, mLen:
		r, err := parseIntRange("", s, e.dver)
		return pat{lo: r.lo, hi: r.hi}, err
	case mIP:
		pfx, err := parsePrefix(s)
		return pat{pfx: pfx}, err
	case mBin:
		b, err := parseBinary(s)
		return pat{b: b}, err
	case mReg, mRegm:
		re, err := compileRegex(s, e.icase, e.m == mRegm)
		return pat{re: re}, err
	case mBool, mFound:
		return pat{}, nil
	}
	if e.icase {
		s = strings.ToLower(s)
	}
	return pat{b: []byte(s)}, nil
}

type intRange struct{ lo, hi int64 }

// parseIntRange parses "n", "lo:hi", ":hi", "lo:" or an operator's value;
// with dotted set, numbers are "major.minor" versions.
func parseIntRange(op, p string, dotted bool) (intRange, error) {
	num := func(s string) (int64, error) {
		if dotted {
			maj, min, _ := strings.Cut(s, ".")
			a, err1 := strconv.ParseInt(maj, 10, 64)
			b := int64(0)
			var err2 error
			if min != "" {
				b, err2 = strconv.ParseInt(min, 10, 64)
			}
			if err1 != nil || err2 != nil {
				return 0, errorf("'%s' is not a dotted number", s)
			}
			return a<<16 | b, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errorf("'%s' is not a number", s)
		}
		return n, nil
	}
	const lo, hi = -1 << 63, 1<<63 - 1
	if op != "" {
		n, err := num(p)
		if err != nil {
			if op != "eq" && !strings.ContainsAny(p, ":-") {
				// parse_acl_expr converts the value itself then.
				err = errorf("'%s' is neither a number nor a supported operator", p)
			}
			return intRange{}, err
		}
		switch op {
		case "eq":
			return intRange{n, n}, nil
		case "ge":
			return intRange{n, hi}, nil
		case "gt":
			return intRange{n + 1, hi}, nil
		case "le":
			return intRange{lo, n}, nil
		default:
			return intRange{lo, n - 1}, nil
		}
	}
	if i := strings.IndexByte(p, ':'); i >= 0 {
		r := intRange{lo, hi}
		var err error
		if i > 0 {
			if r.lo, err = num(p[:i]); err != nil {
				return r, err
			}
		}
		if i+1 < len(p) {
			if r.hi, err = num(p[i+1:]); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	n, err := num(p)
	return intRange{n, n}, err
}

func parsePrefix(p string) (netip.Prefix, error) {
	bad := errorf("'%s' is not a valid IPv4 or IPv6 address", p)
	addr, bits, hasMask := strings.Cut(p, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if x, ok := buf2ip([]byte(addr)); ok && !strings.ContainsAny(addr, ":") {
			a = x
		} else {
			return netip.Prefix{}, bad
		}
	}
	a = a.Unmap()
	if !hasMask {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if n, err := strconv.Atoi(bits); err == nil {
		pf, err := a.Prefix(n)
		if err != nil {
			return netip.Prefix{}, bad
		}
		return pf, nil
	}
	m, ok := parseMask(bits, a.Is6())
	if !ok {
		return netip.Prefix{}, bad
	}
	ones := 0
	for _, x := range m.AsSlice() {
		for k := 7; k >= 0; k-- {
			if x&(1<<k) != 0 {
				ones++
			}
		}
	}
	return a.Prefix(ones)
}

// lookup matches a value (already cast to the method's input type) and
// returns the pattern it hit: the first one in order, or for beg (case
// sensitive) and ip the longest, as HAProxy's trees answer.
func (e *patExpr) lookup(t *Txn, v *Value) *pat {
	idx := e.idx.Load()
	if idx == nil {
		return nil
	}
	return idx.lookup(t, v)
}

func (idx *patIndex) lookup(t *Txn, v *Value) *pat {
	switch idx.m {
	case mFound:
		if len(idx.pats) > 0 {
			return &idx.pats[0]
		}
		return nil
	case mBool:
		if v.I != 0 && len(idx.pats) >= 0 {
			return &boolPat
		}
		return nil
	case mInt, mLen:
		n := v.I
		if idx.m == mLen {
			n = int64(len(v.B))
		}
		for i := range idx.pats {
			if p := &idx.pats[i]; n >= p.lo && n <= p.hi {
				return p
			}
		}
		return nil
	case mIP:
		a := v.IP.Unmap()
		var best *pat
		for i := range idx.pats {
			p := &idx.pats[i]
			if p.pfx.Contains(a) && (best == nil || p.pfx.Bits() > best.pfx.Bits()) {
				best = p
			}
		}
		return best
	case mReg, mRegm:
		for i := range idx.pats {
			if idx.pats[i].re.Match(v.B) {
				return &idx.pats[i]
			}
		}
		return nil
	}
	b := v.B
	if idx.icase && idx.m != mBin {
		t.low = append(t.low[:0], b...)
		lower(t.low)
		b = t.low
	}
	if idx.exact != nil {
		if i, ok := idx.exact[string(b)]; ok {
			return &idx.pats[i]
		}
		return nil
	}
	var best *pat
	for i := range idx.pats {
		p := &idx.pats[i]
		if !matchStr(idx.m, b, p.b) {
			continue
		}
		if idx.m != mBeg || idx.icase {
			return p
		}
		if best == nil || len(p.b) > len(best.b) {
			best = p
		}
	}
	return best
}

var boolPat = pat{val: Value{Type: TypeInt, I: 1}}

func matchStr(m matchKind, v, p []byte) bool {
	switch m {
	case mStr:
		return bytes.Equal(v, p)
	case mBeg:
		return bytes.HasPrefix(v, p)
	case mEnd:
		return bytes.HasSuffix(v, p)
	case mSub:
		return bytes.Contains(v, p)
	case mDom:
		return delimited(v, p, isDomDelim)
	case mDir:
		return delimited(v, p, isDirDelim)
	}
	return false
}

func isDomDelim(c byte) bool { return c == '/' || c == '?' || c == '.' || c == ':' }
func isDirDelim(c byte) bool { return c == '/' || c == '?' }

// delimited reports whether p occurs in v bounded by delimiters or the
// ends, as HAProxy's dir and dom matches do. Delimiters at the ends of the
// pattern are ignored.
func delimited(v, p []byte, delim func(byte) bool) bool {
	for len(p) > 0 && delim(p[0]) {
		p = p[1:]
	}
	for len(p) > 0 && delim(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return false
	}
	for i := 0; i+len(p) <= len(v); i++ {
		if (i == 0 || delim(v[i-1])) && bytes.Equal(v[i:i+len(p)], p) && (i+len(p) == len(v) || delim(v[i+len(p)])) {
			return true
		}
	}
	return false
}
