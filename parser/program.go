package parser

import (
	"os/user"
	"strconv"
)

// Program is a "program" section: a command the master of master-worker
// mode runs beside its workers (mworker-prog.c).
type Program struct {
	Pos  Pos
	Name string
	// Command is the command and its arguments, nil when none was given.
	Command []string
	// StartOnReload is "option start-on-reload", HAProxy's default: a
	// reload starts the program again.
	StartOnReload bool
	// UID and GID are those of "user" and "group", -1 when not set.
	UID, GID int
}

// tight is an alert rendered "parsing [FILE:LINE]: MSG".
func (c *pctx) tight(format string, a ...any) {
	d := alertf(c.pos, format, a...)
	d.Style = StyleParsingTight
	c.cp.add(d)
}

// openProgram is cfg_parse_program on the section line.
func (cp *cfgParser) openProgram(args []string, pos Pos) {
	cp.program = nil
	c := &pctx{cp: cp, pos: pos, args: args}
	// Each error here is ERR_ABORT: HAProxy stops reading the file.
	abort := func() {
		cp.cfg.AbortAfterFile = true
		cp.abort = true
	}
	if c.tooMany(1) {
		abort()
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects an <id> argument", args[0])
		abort()
		return
	}
	for _, p := range cp.cfg.Programs {
		if p.Name == args[1] {
			c.tight("'%s' program section already exists in the configuration.", args[1])
			abort()
			return
		}
	}
	p := &Program{Pos: pos, Name: args[1], StartOnReload: true, UID: -1, GID: -1}
	cp.cfg.Programs = append(cp.cfg.Programs, p)
	cp.program = p
}

// programLine reads a line of a program section, with HAProxy's
// messages. After an error in the section's first line, HAProxy has no
// program to fill: the lines are checked and dropped.
func (cp *cfgParser) programLine(c *pctx) {
	p := cp.program
	if p == nil {
		p = &Program{UID: -1, GID: -1}
	}
	kw := c.args[0]
	cp.directive(c.pos, kw, c.args[1:], Supported, false)
	switch kw {
	case "command":
		if c.arg(1) == "" {
			c.tight("'%s' expects a command with optional arguments separated in words.", kw)
			return
		}
		p.Command = append([]string(nil), c.args[1:]...)
	case "option":
		switch {
		case c.arg(1) == "":
			c.tight("'%s' expects an option name.", kw)
		case c.arg(1) == "start-on-reload":
			if !c.tooManyIdx(0, 1) {
				p.StartOnReload = c.mod != "no"
			}
		default:
			c.alert("unknown option '%s'.", c.arg(1))
		}
	case "user", "group":
		if c.arg(1) == "" {
			c.tight("'%s' expects a %s name.", kw, kw)
			return
		}
		if c.tooMany(1) {
			return
		}
		id, short := &p.UID, "uid"
		if kw == "group" {
			id, short = &p.GID, "gid"
		}
		if *id != -1 {
			d := alertf(c.pos, "%s/%s already specified. Continuing.", kw, short)
			d.Fatal = false
			cp.add(d)
			return
		}
		var n string
		var err error
		if kw == "user" {
			var u *user.User
			if u, err = user.Lookup(c.arg(1)); err == nil {
				n = u.Uid
			}
		} else {
			var g *user.Group
			if g, err = user.LookupGroup(c.arg(1)); err == nil {
				n = g.Gid
			}
		}
		if err != nil {
			// getpwnam/getgrnam leave errno at 0 for a name not found.
			c.alert("cannot find %s id for '%s' (0:Success)", kw, c.arg(1))
			return
		}
		*id, _ = strconv.Atoi(n)
	default:
		c.alert("unknown keyword '%s' in 'program' section", kw)
	}
}

// ProgramDiags are cfg_program_postparser's alerts: a program without
// a command, and programs outside master-worker mode (mworker tells
// whether -W or "master-worker" asks for it).
func (cfg *Config) ProgramDiags(mworker bool) []string {
	var out []string
	for _, p := range cfg.Programs {
		if p.Command == nil {
			out = append(out, "The program section '"+p.Name+"' lacks a command to launch.")
		}
	}
	if len(cfg.Programs) > 0 && !mworker {
		out = append(out, "Can't use a 'program' section without master worker mode.")
	}
	return out
}
