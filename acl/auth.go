package acl

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gohap/gohap/acl/crypt"
)

// User is one "user" line of a userlist section (configuration.txt 3.4).
type User struct {
	Name string
	// Password is a crypt(3) hash, or the clear text when Insecure
	// ("insecure-password").
	Password string
	Insecure bool
	// Groups are the groups named on the user line.
	Groups []string
}

// Group is one "group" line: a name and its users.
type Group struct {
	Name  string
	Users []string
}

// Userlist is a compiled userlist section, as http_auth checks it.
type Userlist struct {
	Name  string
	users []authUser
}

type authUser struct {
	name, pass string
	insecure   bool
	groups     []string
}

// NewUserlist builds a userlist from its section's users and groups. A
// password hash of a scheme other than MD5-crypt ($1$) and SHA-crypt ($5$,
// $6$) is refused with an error wrapping ErrNotImplemented.
func NewUserlist(name string, users []User, groups []Group) (*Userlist, error) {
	ul := &Userlist{Name: name}
	for _, u := range users {
		if !u.Insecure && !crypt.Supported(u.Password) {
			return nil, fmt.Errorf("userlist '%s': user '%s': password hash scheme: %w", name, u.Name, errNotImpl)
		}
		au := authUser{name: u.Name, pass: u.Password, insecure: u.Insecure, groups: append([]string(nil), u.Groups...)}
		for _, g := range groups {
			for _, m := range g.Users {
				if m == u.Name && !contains(au.groups, g.Name) {
					au.groups = append(au.groups, g.Name)
				}
			}
		}
		ul.users = append(ul.users, au)
	}
	return ul, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (ul *Userlist) user(name []byte) *authUser {
	for i := range ul.users {
		if ul.users[i].name == string(name) {
			return &ul.users[i]
		}
	}
	return nil
}

// Check reports whether user and pass are valid (check_user in src/auth.c).
func (ul *Userlist) Check(user, pass []byte) bool {
	u := ul.user(user)
	if u == nil {
		return false
	}
	if u.insecure {
		return u.pass == string(pass)
	}
	return crypt.Check(string(pass), u.pass)
}

// InGroup reports whether the user belongs to the group.
func (ul *Userlist) InGroup(user []byte, group string) bool {
	u := ul.user(user)
	return u != nil && contains(u.groups, group)
}

func checkUserlist(fe *fetch, ctx *Context) error {
	name := fe.args[0].s
	if ctx != nil {
		fe.ul = ctx.Userlists[name]
	}
	if fe.ul == nil {
		return &ResolveError{Kind: resUserlist, Table: name, Arg: 1, Keyword: fe.def.name}
	}
	return nil
}

// authHeader is the request header that carries the credentials.
func authHeader(t *Txn) string {
	if t.ProxyAuth {
		return "proxy-authorization"
	}
	return "authorization"
}

// basicAuth decodes the Authorization header as get_http_auth does: the
// scheme, and for Basic the user and password.
func basicAuth(t *Txn) (scheme, user, pass []byte, ok bool) {
	if t.Req == nil {
		return nil, nil, nil, false
	}
	it := hdrIter{buf: t.Buf, hs: t.Req.Headers, name: authHeader(t)}
	v, found := it.next()
	if !found {
		return nil, nil, nil, false
	}
	sp := bytes.IndexByte(v, ' ')
	if sp <= 0 {
		return nil, nil, nil, false
	}
	scheme = v[:sp]
	data := v[sp:]
	for len(data) > 0 && data[0] == ' ' {
		data = data[1:]
	}
	switch {
	case strings.EqualFold(string(scheme), "basic"):
		dec, ok := appendBase64Dec(t.tmp(), data)
		if !ok {
			return nil, nil, nil, false
		}
		dec = t.keep(dec)
		if i := bytes.IndexByte(dec, 0); i >= 0 {
			dec = dec[:i]
		}
		c := bytes.IndexByte(dec, ':')
		if c < 0 {
			return nil, nil, nil, false
		}
		return basicName, dec[:c], dec[c+1:], true
	case strings.EqualFold(string(scheme), "bearer"):
		return bearerName, nil, data, true
	}
	return nil, nil, nil, false
}

var (
	basicName  = []byte("Basic")
	bearerName = []byte("Bearer")
)

func fetchAuthType(fe *fetch, t *Txn, v *Value) bool {
	s, _, _, ok := basicAuth(t)
	v.Type, v.B = TypeStr, s
	return ok
}

func fetchAuthUser(fe *fetch, t *Txn, v *Value) bool {
	s, u, _, ok := basicAuth(t)
	if !ok || &s[0] != &basicName[0] {
		return false
	}
	v.Type, v.B = TypeStr, u
	return true
}

func fetchAuthPass(fe *fetch, t *Txn, v *Value) bool {
	s, _, p, ok := basicAuth(t)
	if !ok || &s[0] != &basicName[0] {
		return false
	}
	v.Type, v.B = TypeStr, p
	return true
}

// fetchAuthBearer is the Bearer token of Authorization, or of the header
// named by the argument.
func fetchAuthBearer(fe *fetch, t *Txn, v *Value) bool {
	if t.Req == nil {
		return t.reqPending()
	}
	name := authHeader(t)
	if s := argStr(fe.args, 0); s != "" {
		name = strings.ToLower(s)
	}
	it := hdrIter{buf: t.Buf, hs: t.Req.Headers, name: name}
	h, ok := it.next()
	if !ok {
		return false
	}
	sp := bytes.IndexByte(h, ' ')
	if sp <= 0 || !strings.EqualFold(string(h[:sp]), "bearer") {
		return false
	}
	v.Type, v.B = TypeStr, trimSP(h[sp:])
	return true
}

func fetchHTTPAuth(fe *fetch, t *Txn, v *Value) bool {
	s, u, p, ok := basicAuth(t)
	if !ok || &s[0] != &basicName[0] {
		return false
	}
	v.Type, v.I = TypeBool, b2i(fe.ul.Check(u, p))
	return true
}

// fetchHTTPAuthGroup returns the user name when the credentials are
// valid; the ACL keyword then matches the user's groups.
func fetchHTTPAuthGroup(fe *fetch, t *Txn, v *Value) bool {
	s, u, p, ok := basicAuth(t)
	if !ok || &s[0] != &basicName[0] || !fe.ul.Check(u, p) {
		return false
	}
	v.Type, v.B = TypeStr, u
	return true
}
