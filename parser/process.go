package parser

import (
	"fmt"
	"math"
)

// Process holds the global settings of the process itself: how it runs
// (daemon, master-worker), what it writes (pidfile), and what it gives up
// once its sockets are bound (chroot, uid, gid).
type Process struct {
	Pidfile string
	// MasterWorker is "master-worker"; NoExitOnFailure its option.
	MasterWorker, NoExitOnFailure bool
	Chroot                        string
	// UID and GID are the "uid" and "gid" lines, 0 when absent, as in
	// HAProxy, where 0 means "keep".
	UID, GID int
	// UlimitN is "ulimit-n", 0 when absent.
	UlimitN int
	// Env lists the setenv, presetenv, unsetenv and resetenv lines in
	// order, each as its words, for the process to apply.
	Env [][]string
	// Reload is gohap's own "gohap-reload": "in-process" (also when
	// empty) or "new-worker" (a new worker every reload, as HAProxy).
	Reload string
	// MaxReloads is "mworker-max-reloads", when HasMaxReloads.
	MaxReloads    int
	HasMaxReloads bool
	// NoReusePort is "noreuseport".
	NoReusePort bool
}

func init() {
	globalKeywords["daemon"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.Daemon = true
		}
	}}
	// user and uid, group and gid, set the same id: once.
	globalKeywords["user"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.cp.cfg.Global.Process.UID != 0 {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "user/uid already specified. Continuing."})
			return
		}
		globalUser(c)
	}}
	globalKeywords["group"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.cp.cfg.Global.Process.GID != 0 {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "gid/group was already specified. Continuing."})
			return
		}
		globalGroup(c)
	}}
	globalKeywords["master-worker"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		p := &c.cp.cfg.Global.Process
		if a := c.arg(1); a != "" {
			if a != "no-exit-on-failure" {
				c.alert("'%s' only supports 'no-exit-on-failure' option.", c.args[0])
				return
			}
			p.NoExitOnFailure = true
		}
		p.MasterWorker = true
	}}
	globalKeywords["gohap-reload"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if a := c.arg(1); a != "in-process" && a != "new-worker" {
			c.alert("'%s' expects 'in-process' or 'new-worker'.", c.args[0])
			return
		}
		c.cp.cfg.Global.Process.Reload = c.arg(1)
	}}
	globalKeywords["noreuseport"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.Process.NoReusePort = true
		}
	}}
	// mworker-max-reloads, as src/mworker.c reads it; 2.6 reports its
	// errors as warnings after "(null)", and none is fatal.
	globalKeywords["mworker-max-reloads"] = keyword{support: Supported, handle: func(c *pctx) {
		p := &c.cp.cfg.Global.Process
		if len(c.args) > 2 && c.args[2] != "" {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("'%s' cannot handle unexpected argument '%s'.", c.args[0], c.args[2])})
			c.warn("(null)")
			return
		}
		if c.arg(1) == "" {
			c.warn("(null)parsing [%s:%d] : '%s' expects an integer argument.\n", c.pos.File, c.pos.Line, c.args[0])
			return
		}
		p.MaxReloads, p.HasMaxReloads = int(int32(Atol(c.arg(1)))), true
		if p.MaxReloads < 0 {
			c.warn("(null)parsing [%s:%d] '%s' : invalid value %d, must be >= 0", c.pos.File, c.pos.Line, c.args[0], p.MaxReloads)
		}
	}}
	globalKeywords["chroot"] = keyword{support: Supported, handle: func(c *pctx) {
		onceString(c, &c.cp.cfg.Global.Process.Chroot, "a directory")
	}}
	globalKeywords["pidfile"] = keyword{support: Supported, handle: func(c *pctx) {
		onceString(c, &c.cp.cfg.Global.Process.Pidfile, "a file name")
	}}
	globalKeywords["uid"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.cp.cfg.Global.User != "" {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "user/uid already specified. Continuing."})
			return
		}
		globalID(c, &c.cp.cfg.Global.Process.UID, "user/uid already specified. Continuing.", "user", "a system user name")
	}}
	globalKeywords["gid"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.cp.cfg.Global.Group != "" {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "group/gid already specified. Continuing."})
			return
		}
		globalID(c, &c.cp.cfg.Global.Process.GID, "group/gid already specified. Continuing.", "group", "a system group name")
	}}
	globalKeywords["ulimit-n"] = keyword{support: Supported, handle: func(c *pctx) {
		p := &c.cp.cfg.Global.Process
		if c.tooMany(1) {
			return
		}
		if p.UlimitN != 0 {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "'" + c.args[0] + "' already specified. Continuing."})
			return
		}
		if needInt(c); c.arg(1) != "" {
			p.UlimitN = Atol(c.arg(1))
		}
	}}
	for _, k := range []string{"setenv", "presetenv", "unsetenv", "resetenv"} {
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) {
			if !envLineOK(c) {
				return
			}
			p := &c.cp.cfg.Global.Process
			p.Env = append(p.Env, append([]string(nil), c.args...))
		}}
	}
}

// onceString reads a global setting HAProxy takes once, with its alerts.
func onceString(c *pctx, dst *string, what string) {
	if c.tooMany(1) {
		return
	}
	if *dst != "" {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: "'" + c.args[0] + "' already specified. Continuing."})
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects %s as an argument.", c.args[0], what)
		return
	}
	*dst = c.arg(1)
}

// globalID reads uid and gid as HAProxy does: a number, else a warning
// pointing to the keyword that takes a name.
func globalID(c *pctx, dst *int, again, byName, nameWhat string) {
	if c.tooMany(1) {
		return
	}
	if *dst != 0 {
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: again})
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an integer argument.", c.args[0])
		return
	}
	n, ok := strictInt(c.arg(1))
	if !ok {
		c.warn(" %s: string '%s' is not a number.\n   | You might want to use the '%s' parameter to use %s.", c.args[0], c.arg(1), byName, nameWhat)
		return
	}
	*dst = n
}

// strictInt reads a whole decimal integer as strl2irc does: an int32,
// any other character or an overflow an error, and a lone "-" zero.
func strictInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	var n int32
	if s[0] != '-' {
		for i := 0; i < len(s); i++ {
			j := int32(s[i]) - '0'
			if j > 9 || n > math.MaxInt32/10 {
				return 0, false
			}
			n *= 10
			if n+j < n {
				return 0, false
			}
			n += j
		}
		return int(n), true
	}
	for i := 1; i < len(s); i++ {
		j := int32(s[i]) - '0'
		if j > 9 || n < math.MinInt32/10 {
			return 0, false
		}
		n *= 10
		if n-j > n {
			return 0, false
		}
		n -= j
	}
	return int(n), true
}
