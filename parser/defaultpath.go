package parser

import (
	"fmt"
	"os"
	"strings"
)

// defaultPath is "default-path": relative paths read while parsing are
// taken from the directory it names, which HAProxy makes its working
// directory (cfg_apply_default_path) at the directive and at the start of
// each file read after it. HAProxy goes back to its starting directory
// after each file; gohap stays in the last one's until the runtime has
// loaded the files the configuration names, and the caller goes back
// (Config.DefaultPathReturn).
type defaultPath struct {
	// mode is current (""), config, parent or origin; cwd is HAProxy's
	// current_cwd, initial its starting directory once taken.
	mode, cwd, initial string
}

// apply is cfg_apply_default_path for file, origin replacing the origin
// directory when set; the error is HAProxy's.
func (cp *cfgParser) applyDefaultPath(file, origin string) error {
	dp := &cp.dp
	chdir := cp.opts.Chdir
	if chdir == nil {
		chdir = func(string) error { return nil }
	}
	if dp.initial == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("Impossible to retrieve startup directory name: %s", errnoText(err))
		}
		dp.initial = wd
		if cp.opts.Chdir != nil {
			cp.cfg.DefaultPathReturn = wd
		}
	} else if err := chdir(dp.initial); err != nil {
		return fmt.Errorf("Impossible to get back to initial directory '%s': %s", dp.initial, errnoText(err))
	}
	dir := ""
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		dir = file[:i]
	}
	switch dp.mode {
	case "":
		return nil
	case "origin":
		if origin != "" {
			dp.cwd = origin
		}
	case "config":
		dp.cwd = dir
	case "parent":
		if dir != "" {
			dp.cwd = dir + "/.."
		} else {
			dp.cwd = ".."
		}
	}
	if dp.cwd != "" {
		if err := chdir(dp.cwd); err != nil {
			// HAProxy names its starting directory here.
			return fmt.Errorf("Impossible to get back to directory '%s': %s", dp.initial, errnoText(err))
		}
	}
	return nil
}

// enterDefaultPath applies the mode at the start of a file.
func (cp *cfgParser) enterDefaultPath(file string) {
	if cp.dp.mode != "" {
		// HAProxy reports nothing of a failure here.
		_ = cp.applyDefaultPath(file, "")
	}
}

// leaveDefaultPath goes back to the starting directory between files.
func (cp *cfgParser) leaveDefaultPath() {
	if cp.dp.initial != "" && cp.opts.Chdir != nil {
		_ = cp.opts.Chdir(cp.dp.initial)
	}
}

// globalDefaultPath reads "default-path current|config|parent|origin
// <dir>" (cfg_parse_global_def_path) and applies it at once.
func globalDefaultPath(c *pctx) {
	kw, mode := c.args[0], c.arg(1)
	switch mode {
	case "current":
		c.cp.dp.mode = ""
	case "config", "parent", "origin":
		c.cp.dp.mode = mode
	default:
		what := "unsupported"
		if mode == "" {
			what = "missing"
		}
		c.alert("%s default-path mode '%s' for '%s', supported modes include 'current', 'config', 'parent', and 'origin'.", what, mode, kw)
		return
	}
	if mode == "origin" {
		if c.arg(2) == "" {
			c.alert("'%s %s' expects a directory as an argument.", kw, mode)
			return
		}
		if err := c.cp.applyDefaultPath(c.cp.file, c.arg(2)); err != nil {
			c.alert("couldn't set '%s' to origin '%s': %v.", kw, c.arg(2), err)
		}
		return
	}
	if err := c.cp.applyDefaultPath(c.cp.file, ""); err != nil {
		c.alert("couldn't set '%s' to '%s': %v.", kw, mode, err)
	}
}

// Chdir is os.Chdir for Options.Chdir.
func Chdir(dir string) error {
	if err := os.Chdir(dir); err != nil {
		if pe, ok := err.(*os.PathError); ok {
			return pe.Err
		}
		return err
	}
	return nil
}
