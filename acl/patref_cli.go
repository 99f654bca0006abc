package acl

import "strconv"

// The runtime CLI's view of pattern references ("show map", "get acl",
// "add map", "commit map"... in doc/management.txt section 9.3).

// IsFile reports whether r was loaded from a file (HAProxy's reference
// name), rather than made of one ACL line's patterns.
func (ms *Maps) IsFile(r *PatRef) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.byName[r.Name] == r
}

// Uses reports how the configuration uses r, as HAProxy's PAT_REF_MAP and
// PAT_REF_ACL flags: asMap for a file loaded as a map (by a map converter
// or "acl -M"), asACL for a use by an ACL.
func (r *PatRef) Uses() (asMap, asACL bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	asMap = r.IsMap
	for _, e := range r.exprs {
		if e.out == TypeAny {
			asACL = true
		} else {
			asMap = true
		}
	}
	return asMap, asACL
}

// exprClass groups the match methods that HAProxy indexes and parses
// alike: users of one reference that fall in the same class, with the
// same case and value type, share one pattern expression
// (pattern_new_expr).
func (e *patExpr) exprClass() [4]int {
	c := int(e.m)
	switch e.m {
	case mBool:
		c = int(mFound)
	case mLen:
		c = int(mInt)
	case mDir, mDom, mEnd:
		c = int(mSub)
	}
	ic, dv := 0, 0
	if e.icase {
		ic = 1
	}
	if e.dver {
		dv = 1
	}
	return [4]int{c, ic, int(e.out), dv}
}

// shared returns the users of r as HAProxy's expressions: one per class.
// r.mu must be held.
func (r *PatRef) shared() []*patExpr {
	var out []*patExpr
	seen := map[[4]int]bool{}
	for _, e := range r.exprs {
		if k := e.exprClass(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// Indexes is the number of pattern expressions r feeds: every entry is
// indexed once per expression (HAProxy's entry_cnt counts them).
func (r *PatRef) Indexes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.shared())
}

// Lookup is one expression's answer to "get map" or "get acl".
type Lookup struct {
	// Method is the match method; ICase is -i.
	Method string
	ICase  bool
	// Sample is set for a map converter's expression, which has values.
	Sample bool
	Found  bool
	// Tree is set when the pattern came from a tree index.
	Tree bool
	// Key and Value are the matching entry's text; Type names the value's
	// parsed type.
	Key, Value, Type string
	// HasKey is false when the match is not tied to an entry (bool).
	HasKey bool
}

// Lookups matches sample against r as each of its expressions does.
func (r *PatRef) Lookups(sample string) []Lookup {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Lookup
	for _, e := range r.shared() {
		res := Lookup{Method: e.m.String(), ICase: e.icase, Sample: e.out != TypeAny}
		t := &Txn{}
		v := Value{Type: TypeStr, B: []byte(sample)}
		idx := e.idx.Load()
		if idx != nil && cast(t, &v, e.m.in()) {
			if p := idx.lookup(t, &v); p != nil {
				res.Found = true
				res.Tree = !e.icase && (e.m == mStr || e.m == mBeg) || e.m == mIP
				for i := range idx.pats {
					if &idx.pats[i] == p && i < len(r.ents) {
						en := r.ents[i]
						res.HasKey, res.Key, res.Value = true, en.Key, en.Value
						res.Type = p.val.Type.String()
					}
				}
			}
		}
		out = append(out, res)
	}
	return out
}

// CheckEntry reports the error HAProxy gives when key and value cannot be
// added to every user of r (pat_ref_push): the value first, then the key.
func (r *PatRef) CheckEntry(key, value string, withValue bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.exprs {
		if withValue && e.out != TypeAny {
			if _, err := parseMapValue(value, e.out); err != nil {
				return errorf("unable to parse '%s'", value)
			}
		}
		if _, err := e.compile(key); err != nil {
			return err
		}
	}
	return nil
}

// CheckValue reports whether value parses for every map user of r
// (pat_ref_set_elt's check).
func (r *PatRef) CheckValue(value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.exprs {
		if e.out != TypeAny {
			if _, err := parseMapValue(value, e.out); err != nil {
				return errorf("unable to parse '%s'", value)
			}
		}
	}
	return nil
}

// NewEntry returns an entry with a fresh id, not yet part of r.
func (r *PatRef) NewEntry(key, value string) RefEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	return RefEntry{ID: r.next, Key: key, Value: value}
}

// Replace makes ents the entries of r at once ("commit map"); nothing
// changes when one does not parse.
func (r *PatRef) Replace(ents []RefEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commit(append([]RefEntry(nil), ents...))
}

// ParseEntryID reads the "#0x<hex>" form of an entry id ("del map",
// "set map"): isID is false for a key, ok false for a malformed id.
func ParseEntryID(s string) (id uint64, isID, ok bool) {
	if len(s) < 3 || s[0] != '#' || s[1] != '0' || s[2] != 'x' {
		return 0, false, false
	}
	n, err := strconv.ParseUint(s[3:], 16, 64)
	return n, true, err == nil
}
