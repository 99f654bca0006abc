package acl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// aclKeyword is an ACL keyword with a built-in match method (acl_kws in
// src/http_acl.c and src/payload.c): "hdr_beg" is req.hdr with -m beg.
type aclKeyword struct {
	fetch  string
	match  matchKind
	dotted bool
}

var aclKeywords = map[string]aclKeyword{}

func init() {
	suffixes := map[string]matchKind{"": mStr, "_beg": mBeg, "_end": mEnd, "_sub": mSub, "_reg": mReg, "_dom": mDom, "_dir": mDir, "_len": mLen}
	for kw, fe := range map[string]string{"base": "base", "cook": "req.cook", "hdr": "req.hdr", "path": "path",
		"scook": "res.cook", "shdr": "res.hdr", "url": "url", "urlp": "url_param"} {
		for sfx, m := range suffixes {
			aclKeywords[kw+sfx] = aclKeyword{fetch: fe, match: m}
		}
	}
	aclKeywords["req_ver"] = aclKeyword{fetch: "req.ver", match: mStr}
	aclKeywords["resp_ver"] = aclKeyword{fetch: "res.ver", match: mStr}
	aclKeywords["payload"] = aclKeyword{fetch: "req.payload", match: mBin}
	aclKeywords["payload_lv"] = aclKeyword{fetch: "req.payload_lv", match: mBin}
	aclKeywords["req_rdp_cookie"] = aclKeyword{fetch: "req.rdp_cookie", match: mStr}
	aclKeywords["req_rdp_cookie_cnt"] = aclKeyword{fetch: "req.rdp_cookie_cnt", match: mInt}
	aclKeywords["req_ssl_sni"] = aclKeyword{fetch: "req.ssl_sni", match: mStr}
	aclKeywords["req_ssl_ver"] = aclKeyword{fetch: "req.ssl_ver", match: mInt, dotted: true}
	aclKeywords["req.ssl_ver"] = aclKeyword{fetch: "req.ssl_ver", match: mInt, dotted: true}
	// Kept from earlier versions for configurations that use them.
	aclKeywords["hdr_found"] = aclKeyword{fetch: "req.hdr", match: mFound}
	aclKeywords["http_auth_group"] = aclKeyword{fetch: "http_auth_group", match: mAuth}
}

// Expr is one compiled ACL line: a sample expression, a match method and
// patterns (inline ones and -f files).
type Expr struct {
	x      *sampleExpr
	m      matchKind
	icase  bool
	pats   []*patExpr
	source string
	// strs are the inline patterns, lower-cased under -i (for Table).
	strs [][]byte
	// route maps patterns to rules in a Table's expression.
	route map[string]int32
}

// Compile builds an expression from an ACL's fetch word ("hdr_beg(host)",
// "req.hdr(host),lower") and its flags and patterns, with no
// configuration context.
func Compile(fetchWord string, args []string) (*Expr, error) {
	return CompileWith(fetchWord, args, nil)
}

// CompileWith is Compile with a configuration context: pattern files and
// maps are shared through ctx.Maps, and http_auth resolves userlists.
func CompileWith(fetchWord string, args []string, ctx *Context) (*Expr, error) {
	e := &Expr{source: fetchWord}
	match := matchKind(255)
	name := fetchWord
	n := 0
	for n < len(name) && isIDChar(name[n]) {
		n++
	}
	var kw aclKeyword
	isKW := false
	if ctx != nil && ctx.Unresolved != nil {
		// The errors an ACL line's expression reports name its keyword.
		outer := ctx.Unresolved
		ctx.Unresolved = func(re *ResolveError) { outer(aclResolveErr(re, name[:n])) }
		defer func() { ctx.Unresolved = outer }()
	}
	if k, ok := aclKeywords[name[:n]]; ok {
		kw, isKW = k, true
		rest := name[n:]
		x, _, err := parseExpr(kw.fetch+rest, ctx, false)
		if err != nil {
			if re := aclResolveErr(err, name[:n]); re != nil {
				return nil, re
			}
			return nil, aclKeywordErr(name[:n], kw.fetch, err)
		}
		e.x = x
		if len(x.convs) == 0 {
			match = kw.match
		}
	} else {
		x, _, err := parseExpr(fetchWord, ctx, false)
		if err != nil {
			if re := aclResolveErr(err, name[:n]); re != nil {
				return nil, re
			}
			if strings.Contains(err.Error(), ErrNotImplemented.Error()) {
				return nil, err
			}
			return nil, fmt.Errorf("%w in ACL expression '%s'", err, fetchWord)
		}
		e.x = x
	}
	if match == 255 {
		switch e.x.out {
		case TypeBool:
			match = mBool
		case TypeInt:
			match = mInt
		case TypeAddr, TypeIPv4, TypeIPv6:
			match = mIP
		case TypeStr:
			match = mStr
		case TypeMeth:
			match = mStr
		}
	}
	uid := -1
	var files []string
	asMap := false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if len(a) == 0 || a[0] != '-' {
			break
		}
		switch a {
		case "--":
			i++
			goto patterns
		case "-i":
			e.icase = true
		case "-n":
		case "-u":
			if i+1 >= len(args) {
				return nil, errorf("the argument of -u must be an integer")
			}
			i++
			id, err := strconv.Atoi(args[i])
			if err != nil {
				return nil, errorf("the argument of -u must be an integer")
			}
			uid = id
		case "-m":
			if len(files) > 0 {
				return nil, errorf("'-m' must only be specified before patterns and files in parsing ACL expression")
			}
			if i+1 >= len(args) {
				return nil, errorf("unknown matching method '' when parsing ACL expression")
			}
			i++
			mk, ok := matchNames[args[i]]
			if !ok {
				return nil, errorf("unknown matching method '%s' when parsing ACL expression", args[i])
			}
			if mk != mFound && !canCast(e.x.out, mk.in()) {
				return nil, errorf("matching method '%s' cannot be used with fetch keyword '%s'", args[i], e.x.fe.def.name)
			}
			match = mk
		case "-f":
			if i+1 >= len(args) {
				return nil, errorf("failed to open pattern file <>")
			}
			if match == 255 {
				return nil, errorf("matching method must be specified first (using '-m') when using a sample fetch of this type ('%s')", e.x.fe.def.name)
			}
			i++
			files = append(files, args[i])
		case "-M":
			asMap = true
		default:
			return nil, errorf("'%s' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'", a)
		}
	}
patterns:
	if match == 255 {
		return nil, errorf("matching method must be specified first (using '-m') when using a sample fetch of this type ('%s')", e.x.fe.def.name)
	}
	e.m = match
	if e.m != mFound && e.m != mBool && !canCast(e.x.out, e.m.in()) && e.x.out != TypeAny {
		return nil, errorf("matching method '%s' cannot be used with fetch keyword '%s'", e.m, e.x.fe.def.name)
	}
	maps := ctx.maps()
	for _, f := range files {
		r, err := maps.loadFile(f, asMap)
		if err != nil {
			return nil, err
		}
		pe := &patExpr{m: e.m, icase: e.icase, out: TypeAny, dver: kw.dotted}
		if err := r.attach(pe); err != nil {
			return nil, err
		}
		e.pats = append(e.pats, pe)
	}
	pats, err := inlinePatterns(e.m, args[i:])
	if err != nil {
		return nil, err
	}
	if len(pats) > 0 || len(files) == 0 {
		refName := fmt.Sprintf("acl '%s' file '%s' line %d", fetchWord, ctxFile(ctx), ctxLine(ctx))
		r, err := maps.ref(refName, false, false, uid)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.ents = r.ents[:0]
		for _, p := range pats {
			r.next++
			r.ents = append(r.ents, RefEntry{ID: r.next, Key: p})
		}
		r.mu.Unlock()
		pe := &patExpr{m: e.m, icase: e.icase, out: TypeAny, dver: kw.dotted || isKW && kw.dotted}
		if err := r.attach(pe); err != nil {
			return nil, err
		}
		e.pats = append(e.pats, pe)
	}
	for _, p := range pats {
		if e.icase {
			p = strings.ToLower(p)
		}
		e.strs = append(e.strs, []byte(p))
	}
	return e, nil
}

func ctxFile(c *Context) string {
	if c == nil {
		return ""
	}
	return c.File
}

func ctxLine(c *Context) int {
	if c == nil {
		return 0
	}
	return c.Line
}

// aclResolveErr rewords a table resolution error for an ACL keyword.
func aclResolveErr(err error, kw string) *ResolveError {
	var re *ResolveError
	if !errors.As(err, &re) {
		return nil
	}
	re.ACL = true
	if re.Fetch != "" {
		re.Fetch = kw
	} else {
		re.Keyword = kw
	}
	return re
}

func aclKeywordErr(kw, fetch string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, ErrNotImplemented.Error()) {
		return err
	}
	msg = strings.TrimPrefix(msg, "fetch method '"+fetch+"' : ")
	return fmt.Errorf("ACL keyword '%s' : %s", kw, msg)
}

// inlinePatterns joins the int operators (eq, ge, gt, le, lt) to their
// values, as parse_acl_expr does.
func inlinePatterns(m matchKind, args []string) ([]string, error) {
	if m != mInt && m != mLen {
		return args, nil
	}
	var out []string
	op := ""
	for _, a := range args {
		switch a {
		case "eq", "ge", "gt", "le", "lt":
			op = a
			continue
		}
		if op == "" || op == "eq" || strings.ContainsAny(a, ":-") {
			// Ranges go to the pattern parser as written, the
			// operator ignored.
			out = append(out, a)
			continue
		}
		r, err := parseIntRange(op, a, false)
		if err != nil {
			return nil, err
		}
		s := ""
		if r.lo != -1<<63 {
			s = strconv.FormatInt(r.lo, 10)
		}
		s += ":"
		if r.hi != 1<<63-1 {
			s += strconv.FormatInt(r.hi, 10)
		}
		out = append(out, s)
	}
	return out, nil
}

// Match evaluates the expression: true when any value matches a pattern.
func (e *Expr) Match(t *Txn) bool {
	r := e.exec(t)
	return r == resPass
}

// results of an expression, as ACL_TEST_PASS/FAIL/MISS.
const (
	resFail = iota
	resPass
	resMiss
)

// exec runs the expression over every value of its fetch.
func (e *Expr) exec(t *Txn) int {
	t.matched = false
	t.mayChange = false
	fe := &e.x.fe
	if fe.def.iter != nil {
		fe.def.iter(fe, t, e)
	} else {
		v := &t.ev
		*v = Value{}
		if fe.def.fn(fe, t, v) {
			if v.MayChange && !t.Final {
				t.mayChange = true
			}
			e.visit(t, v)
		}
	}
	return e.result(t, t.matched)
}

func (e *Expr) result(t *Txn, ok bool) int {
	if ok {
		return resPass
	}
	if t.mayChange && !t.Final {
		return resMiss
	}
	return resFail
}

// visit converts and matches one value; it returns true to stop.
func (e *Expr) visit(t *Txn, v *Value) bool {
	if !e.x.convert(t, v) {
		return false
	}
	if e.route != nil {
		return e.routeSample(t, v)
	}
	if e.m == mFound {
		t.matched = true
		return true
	}
	if e.m == mAuth {
		for _, g := range e.strs {
			if e.x.fe.ul.InGroup(v.B, string(g)) {
				t.matched = true
				return true
			}
		}
		return false
	}
	if !cast(t, v, e.m.in()) {
		return false
	}
	for _, p := range e.pats {
		if p.lookup(t, v) != nil {
			t.matched = true
			return true
		}
	}
	return false
}
