package acl

import "github.com/gohap/gohap/parser/smpuse"

// ParseCondAt is ParseCond for a condition evaluated at the check places
// where (smpuse.Val, 0 for anywhere). An ACL line whose fetch is not
// available there never matches, as in HAProxy where such a fetch finds
// no data (the configuration check warns about it): the line is left out
// of the compiled condition, so this costs nothing per request. See
// Expr.UsableAt for the fetches this applies to.
func (s *Set) ParseCondAt(words []string, where smpuse.Val) (*Cond, error) {
	c, err := s.ParseCond(words)
	if c == nil || err != nil || where == 0 {
		return c, err
	}
	for _, g := range c.ors {
		for j := range g {
			g[j].acl = g[j].acl.usableAt(where)
		}
	}
	return c, nil
}

// usableAt returns a, or a copy of it without the lines whose fetch is
// not available at where; an ACL without lines never matches.
func (a *ACL) usableAt(where smpuse.Val) *ACL {
	keep := make([]*Expr, 0, len(a.exprs))
	for _, e := range a.exprs {
		if e.UsableAt(where) {
			keep = append(keep, e)
		}
	}
	if len(keep) == len(a.exprs) {
		return a
	}
	return &ACL{Name: a.Name, exprs: keep}
}

// httpMessage are the sources read from an HTTP request or response.
const httpMessage = smpuse.UseHRQHV | smpuse.UseHRQHP | smpuse.UseHRQBO |
	smpuse.UseHRSHV | smpuse.UseHRSHP | smpuse.UseHRSBO

// UsableAt reports whether the expression's fetch may be used at where,
// looked up the way HAProxy does for an ACL (ACL keywords first: "hdr" is
// req.hdr there). Only fetches of the HTTP messages are refused: the
// others find data anyway in HAProxy (req.len reads the channel of the
// rule's direction, be_name the frontend before use_backend).
func (e *Expr) UsableAt(where smpuse.Val) bool {
	_, use, val, ok := smpuse.ACLExpr(e.source)
	return !ok || val&where != 0 || use&^httpMessage != 0
}
