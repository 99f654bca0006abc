// Package acl compiles HAProxy ACLs and conditions into evaluators that
// run against a parsed request without allocating.
package acl

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gohap/gohap/runtime/h1"
)

// ErrNotImplemented marks fetches, converters and match methods that the
// runtime does not evaluate; configurations using them are refused.
var ErrNotImplemented = errors.New("not implemented")

var errNotImpl = ErrNotImplemented

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

type matchKind uint8

const (
	mStr matchKind = iota
	mBeg
	mEnd
	mSub
	mReg
	mDom
	mDir
	mLen
	mFound
	mInt
	mIP
	mBool
)

var matchNames = map[string]matchKind{
	"str": mStr, "beg": mBeg, "end": mEnd, "sub": mSub, "reg": mReg, "dom": mDom,
	"dir": mDir, "len": mLen, "found": mFound, "int": mInt, "ip": mIP, "bool": mBool,
}

// aclKeywords maps ACL keywords with a built-in match method to their fetch.
var aclKeywords = map[string]struct {
	fetch string
	match matchKind
}{}

func init() {
	suffixes := map[string]matchKind{"_beg": mBeg, "_end": mEnd, "_sub": mSub, "_reg": mReg, "_dom": mDom, "_dir": mDir, "_len": mLen}
	for _, f := range []string{"hdr", "path", "url", "base", "urlp"} {
		for sfx, m := range suffixes {
			aclKeywords[f+sfx] = struct {
				fetch string
				match matchKind
			}{f, m}
		}
	}
	aclKeywords["hdr_found"] = struct {
		fetch string
		match matchKind
	}{"hdr", mFound}
	aclKeywords["hdr_val"] = struct {
		fetch string
		match matchKind
	}{"hdr", mInt}
	aclKeywords["hdr_ip"] = struct {
		fetch string
		match matchKind
	}{"hdr", mIP}
	aclKeywords["urlp_val"] = struct {
		fetch string
		match matchKind
	}{"urlp", mInt}
}

type intRange struct{ lo, hi int64 }

// Expr is one compiled ACL line: a fetch, a match method and patterns.
type Expr struct {
	fe     *fetch
	m      matchKind
	icase  bool
	strs   [][]byte
	set    map[string]struct{}
	ints   []intRange
	nets   []netip.Prefix
	regs   []*regexp.Regexp
	source string
	// route maps patterns to rules in a Table's expression.
	route map[string]int32
}

// Compile builds an expression from an ACL's fetch word ("hdr_beg(host)")
// and its flags and patterns. baseDir is unused for absolute -f paths.
func Compile(fetchWord string, args []string) (*Expr, error) {
	e := &Expr{source: fetchWord}
	name, fargs := fetchWord, ""
	if i := strings.IndexByte(fetchWord[strings.LastIndexByte(fetchWord, ')')+1:], ','); i >= 0 {
		return nil, fmt.Errorf("converters in '%s': %w", fetchWord, errNotImpl)
	}
	if i := strings.IndexByte(name, '('); i >= 0 {
		if !strings.HasSuffix(name, ")") {
			return nil, errorf("missing closing ')' after arguments to fetch keyword '%s'", name[:i])
		}
		name, fargs = name[:i], name[i+1:len(name)-1]
	}
	match := matchKind(255)
	if kw, ok := aclKeywords[name]; ok {
		name, match = kw.fetch, kw.match
	}
	if name == "urlp" {
		name = "url_param"
	}
	fe, err := parseFetch(name, fargs)
	if err != nil {
		if errors.Is(err, errNotImpl) {
			return nil, fmt.Errorf("fetch '%s': %w", name, errNotImpl)
		}
		return nil, err
	}
	e.fe = fe
	var pats []string
	var files []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		switch a {
		case "--":
			i++
			goto patterns
		case "-i":
			e.icase = true
		case "-n", "-u":
		case "-m":
			if i+1 >= len(args) {
				return nil, errorf("missing match method after '-m'")
			}
			i++
			mk, ok := matchNames[args[i]]
			if !ok {
				return nil, fmt.Errorf("match method '%s': %w", args[i], errNotImpl)
			}
			match = mk
		case "-f":
			if i+1 >= len(args) {
				return nil, errorf("missing pattern file after '-f'")
			}
			i++
			files = append(files, args[i])
		case "-M":
			return nil, fmt.Errorf("flag '-M': %w", errNotImpl)
		default:
			return nil, errorf("'%s' is not a valid ACL option", a)
		}
	}
patterns:
	pats = append(pats, args[i:]...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, errorf("failed to open pattern file <%s>", f)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			pats = append(pats, line)
		}
	}
	if match == 255 {
		switch fe.typ {
		case tInt:
			match = mInt
		case tIP:
			match = mIP
		case tBool:
			match = mBool
		default:
			match = mStr
		}
	}
	e.m = match
	return e, e.addPatterns(pats)
}

func (e *Expr) addPatterns(pats []string) error {
	switch e.m {
	case mInt, mLen:
		for j := 0; j < len(pats); j++ {
			p := pats[j]
			op := ""
			switch p {
			case "eq", "ge", "gt", "le", "lt":
				if j+1 >= len(pats) {
					return errorf("missing value after operator '%s'", p)
				}
				op, p = p, pats[j+1]
				j++
			}
			r, err := parseIntRange(op, p)
			if err != nil {
				return err
			}
			e.ints = append(e.ints, r)
		}
	case mIP:
		for _, p := range pats {
			pfx, err := parsePrefix(p)
			if err != nil {
				return err
			}
			e.nets = append(e.nets, pfx)
		}
	case mReg:
		for _, p := range pats {
			if e.icase {
				p = "(?i)" + p
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return errorf("regex '%s' is invalid", p)
			}
			e.regs = append(e.regs, re)
		}
	case mFound, mBool:
		if len(pats) > 0 && e.m == mFound {
			return errorf("match method 'found' takes no pattern")
		}
	default:
		for _, p := range pats {
			if e.icase {
				p = strings.ToLower(p)
			}
			e.strs = append(e.strs, []byte(p))
		}
		if e.m == mStr && len(e.strs) > 4 {
			e.set = make(map[string]struct{}, len(e.strs))
			for _, s := range e.strs {
				e.set[string(s)] = struct{}{}
			}
		}
	}
	return nil
}

func parseIntRange(op, p string) (intRange, error) {
	num := func(s string) (int64, error) {
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
	if strings.Contains(p, "/") {
		addr, bits, _ := strings.Cut(p, "/")
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return netip.Prefix{}, errorf("'%s' is not a valid IPv4 or IPv6 address", p)
		}
		a = a.Unmap()
		if n, err := strconv.Atoi(bits); err == nil {
			return a.Prefix(n)
		}
		// A dotted mask, as in 10.0.0.0/255.0.0.0.
		m, err := netip.ParseAddr(bits)
		if err != nil || !m.Is4() {
			return netip.Prefix{}, errorf("'%s' is not a valid IPv4 or IPv6 address", p)
		}
		b := m.As4()
		ones := 0
		for _, x := range b {
			for k := 7; k >= 0; k-- {
				if x&(1<<k) != 0 {
					ones++
				}
			}
		}
		return a.Prefix(ones)
	}
	a, err := netip.ParseAddr(p)
	if err != nil {
		return netip.Prefix{}, errorf("'%s' is not a valid IPv4 or IPv6 address", p)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Match evaluates the expression: true when any value matches a pattern.
func (e *Expr) Match(t *Txn) bool {
	t.matched = false
	found := e.fe.each(t, e)
	if e.m == mFound {
		return found
	}
	return t.matched
}

// visit records a matching sample and stops the fetch there.
func (e *Expr) visit(t *Txn, s *sample) bool {
	if e.route != nil {
		return e.routeSample(t, s)
	}
	if e.matchSample(t, s) {
		t.matched = true
		return true
	}
	return false
}

func (e *Expr) matchSample(t *Txn, s *sample) bool {
	switch e.m {
	case mBool:
		if e.fe.typ == tStr {
			return len(s.b) > 0
		}
		return s.i != 0
	case mFound:
		return true
	case mInt:
		v := s.i
		if e.fe.typ == tStr {
			n, ok := atoi(s.b)
			if !ok {
				return false
			}
			v = n
		}
		return e.inRanges(v)
	case mLen:
		return e.inRanges(int64(len(s.b)))
	case mIP:
		ip := s.ip
		if e.fe.typ == tStr {
			a, err := netip.ParseAddr(string(s.b))
			if err != nil {
				return false
			}
			ip = a.Unmap()
		}
		for _, n := range e.nets {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	case mReg:
		for _, re := range e.regs {
			if re.Match(s.b) {
				return true
			}
		}
		return false
	}
	v := s.b
	if e.fe.typ == tInt {
		t.low = strconv.AppendInt(t.low[:0], s.i, 10)
		v = t.low
	} else if e.icase {
		t.low = append(t.low[:0], v...)
		lower(t.low)
		v = t.low
	}
	if e.set != nil {
		_, ok := e.set[string(v)]
		return ok
	}
	for _, p := range e.strs {
		if matchStr(e.m, v, p) {
			return true
		}
	}
	return false
}

func (e *Expr) inRanges(v int64) bool {
	for _, r := range e.ints {
		if v >= r.lo && v <= r.hi {
			return true
		}
	}
	return false
}

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
		return delimited(v, p, func(c byte) bool { return c == '/' || c == '?' || c == '.' || c == ':' })
	case mDir:
		return delimited(v, p, func(c byte) bool { return c == '/' || c == '?' })
	}
	return false
}

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

func lower(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
}

func atoi(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

var _ = h1.EqualFold
