package runtime

import (
	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/acl/crypt"
	"github.com/gohap/gohap/parser"
)

// compileUserlists builds the userlist sections that http_auth,
// http_auth_group and their kin check credentials against. A password
// hashed with a scheme gohap cannot compute is refused.
func compileUserlists(cfg *parser.Config, fail func(parser.Pos, string, ...any)) map[string]*acl.Userlist {
	out := map[string]*acl.Userlist{}
	for _, ul := range cfg.Userlists {
		var users []acl.User
		var groups []acl.Group
		for _, u := range ul.Users {
			if !u.Insecure && !crypt.Supported(u.Password) {
				fail(u.Pos, "userlist '%s': user '%s': this password hash scheme is not supported by the gohap runtime yet (MD5, SHA-256 and SHA-512 crypt are).", ul.Name, u.Name)
				continue
			}
			users = append(users, acl.User{Name: u.Name, Password: u.Password, Insecure: u.Insecure, Groups: parser.CommaItems(u.Groups)})
		}
		for _, g := range ul.Groups {
			groups = append(groups, acl.Group{Name: g.Name, Users: parser.CommaItems(g.Users)})
		}
		c, err := acl.NewUserlist(ul.Name, users, groups)
		if err != nil {
			fail(ul.Pos, "%v; it is not supported by the gohap runtime yet.", err)
			continue
		}
		out[ul.Name] = c
	}
	return out
}

// namedUserlists are the sections by name with nothing in them, for the
// checks, which only need to know that a userlist exists.
func namedUserlists(cfg *parser.Config) map[string]*acl.Userlist {
	out := map[string]*acl.Userlist{}
	for _, ul := range cfg.Userlists {
		out[ul.Name] = &acl.Userlist{Name: ul.Name}
	}
	return out
}
