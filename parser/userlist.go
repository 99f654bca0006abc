package parser

import (
	"fmt"
	"strings"
)

// Userlist is a userlist section: its users and groups, as http_auth,
// http_auth_group and the stats page check credentials against them.
type Userlist struct {
	Pos    Pos
	Name   string
	Users  []UserlistUser
	Groups []UserlistGroup
}

// UserlistUser is a user line; Groups is its "groups" list as written.
type UserlistUser struct {
	Pos      Pos
	Name     string
	Password string
	Insecure bool
	Groups   string
}

// UserlistGroup is a group line; Users is its "users" list as written.
type UserlistGroup struct {
	Pos   Pos
	Name  string
	Users string
}

// UserlistByName is the userlist section of that name, nil when none.
func (cfg *Config) UserlistByName(name string) *Userlist {
	for _, u := range cfg.Userlists {
		if u.Name == name {
			return u
		}
	}
	return nil
}

func tight(d Diagnostic) Diagnostic {
	d.Style = StyleParsingTight
	return d
}

// openUserlist is cfg_parse_users' "userlist" line. A duplicate name is
// ignored, the lines after it going to the userlist declared last.
func (cp *cfgParser) openUserlist(args []string, pos Pos) {
	if len(args) < 2 || args[1] == "" {
		cp.add(tight(alertf(pos, "'%s' expects <name> as arguments.", args[0])))
		return
	}
	if len(args) > 2 && args[2] != "" {
		cp.add(alertf(pos, "'%s' cannot handle unexpected argument '%s'.", args[0], args[2]))
		return
	}
	if i := invalidChar(args[1]); i >= 0 {
		cp.add(tight(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", args[1][i], args[0], args[1])))
		return
	}
	if cp.cfg.UserlistByName(args[1]) != nil {
		cp.add(tight(warnf(pos, "ignoring duplicated userlist '%s'.", args[1])))
		return
	}
	cp.userlist = &Userlist{Pos: pos, Name: args[1]}
	cp.cfg.Userlists = append(cp.cfg.Userlists, cp.userlist)
}

// userlistLine is cfg_parse_users' "group" and "user" lines.
func (cp *cfgParser) userlistLine(c *pctx) {
	args, pos := c.args, c.pos
	ul := cp.userlist
	switch args[0] {
	case "group":
		if c.arg(1) == "" {
			cp.add(tight(alertf(pos, "'%s' expects <name> as arguments.", args[0])))
			return
		}
		if i := invalidChar(args[1]); i >= 0 {
			cp.add(tight(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", args[1][i], args[0], args[1])))
			return
		}
		if ul == nil {
			return
		}
		for _, g := range ul.Groups {
			if g.Name == args[1] {
				cp.add(tight(warnf(pos, "ignoring duplicated group '%s' in userlist '%s'.", args[1], ul.Name)))
				return
			}
		}
		g := UserlistGroup{Pos: pos, Name: args[1]}
		for i := 2; c.arg(i) != ""; i += 2 {
			if args[i] != "users" {
				cp.add(tight(alertf(pos, "'%s' only supports 'users' option.", args[0])))
				return
			}
			g.Users = c.arg(i + 1)
		}
		ul.Groups = append(ul.Groups, g)
	case "user":
		if c.arg(1) == "" {
			cp.add(tight(alertf(pos, "'%s' expects <name> as arguments.", args[0])))
			return
		}
		if ul == nil {
			return
		}
		for _, u := range ul.Users {
			if u.Name == args[1] {
				cp.add(tight(warnf(pos, "ignoring duplicated user '%s' in userlist '%s'.", args[1], ul.Name)))
				return
			}
		}
		// The user is in the list before its options are read: one
		// refused option leaves it there as read so far.
		ul.Users = append(ul.Users, UserlistUser{Pos: pos, Name: args[1]})
		u := &ul.Users[len(ul.Users)-1]
		for i := 2; c.arg(i) != ""; i += 2 {
			switch args[i] {
			case "password":
				u.Password, u.Insecure = c.arg(i+1), false
			case "insecure-password":
				u.Password, u.Insecure = c.arg(i+1), true
			case "groups":
				u.Groups = c.arg(i + 1)
			default:
				cp.add(tight(alertf(pos, "'%s' only supports 'password', 'insecure-password' and 'groups' options.", args[0])))
				return
			}
		}
	default:
		cp.add(tight(alertf(pos, "unknown keyword '%s' in '%s' section", args[0], "users")))
	}
}

// UserlistDiags is userlist_postinit: each user's groups and each
// group's users must name members of the same userlist. It stops at the
// first that does not.
func UserlistDiags(cfg *Config) Diagnostics {
	fatal := func(format string, a ...any) Diagnostics {
		return Diagnostics{{Severity: Alert, Fatal: true, Msg: fmt.Sprintf(format, a...)}}
	}
	// HAProxy keeps its userlists, users and groups newest first.
	for i := len(cfg.Userlists) - 1; i >= 0; i-- {
		ul := cfg.Userlists[i]
		for j := len(ul.Users) - 1; j >= 0; j-- {
			u := ul.Users[j]
			for _, g := range CommaItems(u.Groups) {
				if !ul.hasGroup(g) {
					return fatal("userlist '%s': no such group '%s' specified in user '%s'", ul.Name, g, u.Name)
				}
			}
		}
		for j := len(ul.Groups) - 1; j >= 0; j-- {
			g := ul.Groups[j]
			for _, name := range CommaItems(g.Users) {
				if !ul.hasUser(name) {
					return fatal("userlist '%s': no such user '%s' specified in group '%s'", ul.Name, name, g.Name)
				}
			}
		}
	}
	return nil
}

// CommaItems is strtok(s, ","): the non-empty items of a comma list.
func CommaItems(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (ul *Userlist) hasGroup(name string) bool {
	for _, g := range ul.Groups {
		if g.Name == name {
			return true
		}
	}
	return false
}

func (ul *Userlist) hasUser(name string) bool {
	for _, u := range ul.Users {
		if u.Name == name {
			return true
		}
	}
	return false
}
