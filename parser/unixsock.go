package parser

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// Unix socket addresses (unix@, abns@, plain paths, sockpair@) and the
// settings of the sockets gohap binds there, as str2sa_range() and
// src/cfgparse-unix.c read them.

// sunPath is the size of sockaddr_un's sun_path.
const sunPath = 108

// unixPathMax is the longest path str2sa_range accepts for a unix
// socket: sun_path less its NUL, and for a named one the room the
// prefix and bind's ".PID.tmp" temporary name take.
func unixPathMax(prefix string, abstract bool) int {
	if abstract {
		return sunPath - 1
	}
	return sunPath - 1 - (len(prefix) + 1 + 5 + 1 + 3)
}

// UnixAddress splits a unix stream socket address: the path, or the
// name of an abstract one (abns@). ok is false for other forms.
func UnixAddress(a string) (path string, abstract, ok bool) {
	switch {
	case strings.HasPrefix(a, "unix@"):
		return a[5:], false, true
	case strings.HasPrefix(a, "uxst@"):
		return a[5:], false, true
	case strings.HasPrefix(a, "abns@"):
		return a[5:], true, true
	case strings.HasPrefix(a, "/"):
		return a, false, true
	}
	return "", false, false
}

// checkUnixAddress checks a unix, descriptor or datagram address of a
// bind or server as str2sa_range does; handled is false for a stream IP
// address.
func checkUnixAddress(a, prefix string) (msg string, handled bool) {
	for _, pfx := range []string{"uxdg@", "udp@", "udp4@", "udp6@", "dgram+"} {
		if strings.HasPrefix(a, pfx) {
			return fmt.Sprintf("dgram-type address not acceptable in '%s'", a), true
		}
	}
	if path, abstract, ok := UnixAddress(a); ok {
		if abstract {
			// The prefix applies to named sockets only.
			prefix = ""
		}
		if max := unixPathMax(prefix, abstract); len(path) > max {
			return fmt.Sprintf("socket path '%s' too long (max %d)", a, max), true
		}
		return "", true
	}
	for _, pfx := range []string{"sockpair@", "fd@"} {
		n, ok := strings.CutPrefix(a, pfx)
		if !ok {
			continue
		}
		fd, err := strconv.Atoi(n)
		if err != nil || n == "" || strings.Trim(n, "0123456789") != "" {
			return fmt.Sprintf("file descriptor '%s' is not a valid integer in '%s'", n, a), true
		}
		if e := sockErr(fd); e != "" {
			return fmt.Sprintf("cannot use file descriptor '%d' : %s.", fd, e), true
		}
		return "", true
	}
	return "", false
}

// unixBind reads the global "unix-bind" line.
func unixBind(c *pctx) {
	ub := &c.cp.cfg.Global.UnixBind
	for i := 1; i < len(c.args) && c.args[i] != ""; i += 2 {
		v := c.arg(i + 1)
		switch c.args[i] {
		case "prefix":
			if ub.Prefix != "" {
				c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("unix-bind '%s' already specified. Continuing.", c.args[i])})
				continue
			}
			if v == "" {
				c.alert("unix_bind '%s' expects a path as an argument.", c.args[i])
				return
			}
			ub.Prefix = v
		case "mode":
			ub.Perms.Mode = strtolOctal(v)
		case "uid":
			ub.Perms.UID, ub.Perms.HasUID = Atol(v), true
		case "gid":
			ub.Perms.GID, ub.Perms.HasGID = Atol(v), true
		case "user":
			id, ok := lookupUID(v)
			if !ok {
				c.alert("'%s' : '%s' unknown user.", c.args[0], v)
				return
			}
			ub.Perms.UID, ub.Perms.HasUID = id, true
		case "group":
			id, ok := lookupGID(v)
			if !ok {
				c.alert("'%s' : '%s' unknown group.", c.args[0], v)
				return
			}
			ub.Perms.GID, ub.Perms.HasGID = id, true
		default:
			c.alert("'%s' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.", c.args[0])
			return
		}
	}
}

// bindUnixOptions reads a bind line's unix socket options (mode, uid,
// gid, user, group) over the unix-bind defaults; the message is
// HAProxy's for a bad one.
func bindUnixOptions(perms *UnixPerms, opts []string) string {
	for i := 0; i < len(opts); i++ {
		kw := opts[i]
		switch kw {
		case "mode", "uid", "gid", "user", "group":
		default:
			continue
		}
		v := ""
		if i+1 < len(opts) {
			v = opts[i+1]
		}
		i++
		switch kw {
		case "mode":
			// strtol in base 8 to the end of the word: a sign may lead.
			t := strings.TrimLeft(v, " \t\n\v\f\r")
			neg := strings.HasPrefix(t, "-")
			if neg || strings.HasPrefix(t, "+") {
				t = t[1:]
			}
			if t == "" || strings.Trim(t, "01234567") != "" {
				return fmt.Sprintf("'%s' : missing or invalid mode '%s' (octal integer expected)", kw, v)
			}
			perms.Mode = strtolOctal(t)
			if neg {
				perms.Mode = -perms.Mode
			}
		case "uid", "gid":
			if v == "" {
				return fmt.Sprintf("'%s' : missing value", kw)
			}
			if kw == "uid" {
				perms.UID, perms.HasUID = Atol(v), true
			} else {
				perms.GID, perms.HasGID = Atol(v), true
			}
		case "user":
			if v == "" {
				return fmt.Sprintf("'%s' : missing user name", kw)
			}
			id, ok := lookupUID(v)
			if !ok {
				return fmt.Sprintf("'%s' : unknown user name '%s'", kw, v)
			}
			perms.UID, perms.HasUID = id, true
		case "group":
			if v == "" {
				return fmt.Sprintf("'%s' : missing group name", kw)
			}
			id, ok := lookupGID(v)
			if !ok {
				return fmt.Sprintf("'%s' : unknown group name '%s'", kw, v)
			}
			perms.GID, perms.HasGID = id, true
		}
	}
	return ""
}

// strtolOctal is strtol(s, NULL, 8): the leading octal digits.
func strtolOctal(s string) uint32 {
	var n uint32
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '7'; i++ {
		n = n*8 + uint32(s[i]-'0')
	}
	return n
}

func lookupUID(name string) (int, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(u.Uid)
	return id, err == nil
}

func lookupGID(name string) (int, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(g.Gid)
	return id, err == nil
}

func init() {
	globalKeywords["unix-bind"] = keyword{support: Supported, handle: unixBind}
}
