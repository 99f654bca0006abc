package parser

// External health checks (src/extcheck.c): "option external-check", the
// "external-check command|path" proxy keyword and the global switches
// that let HAProxy start processes.

import "github.com/gohap/gohap/parser/logfmt"

func init() {
	globalKeywords["external-check"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooManyIdx(0, 0) {
			c.cp.cfg.Global.ExternalCheck = true
		}
	}}
	globalKeywords["insecure-fork-wanted"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooManyIdx(0, 0) {
			c.cp.cfg.Global.InsecureFork = c.mod != "no"
		}
	}}
	globalKeywords["insecure-setuid-wanted"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooManyIdx(0, 0) {
			c.cp.cfg.Global.InsecureSetuid = true
		}
	}}
}

// kwExternalCheck reads "external-check command <cmd>" and
// "external-check path <path>" (proxy_parse_extcheck), in any section.
func kwExternalCheck(c *pctx) {
	if c.arg(1) == "" {
		c.alert("missing argument after '%s'.", c.args[0])
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		return
	}
	p := c.cp.proxy
	switch c.arg(1) {
	case "command", "path":
		if c.tooManyIdx(2, 0) {
			return
		}
		if c.arg(2) == "" {
			c.alert("missing argument after '%s'.", c.arg(1))
			return
		}
		if c.arg(1) == "command" {
			p.ExtCheckCommand = c.arg(2)
		} else {
			p.ExtCheckPath = c.arg(2)
		}
	default:
		c.alert("'%s' only supports 'command' and 'path'. but got '%s'.", c.args[0], c.arg(1))
	}
}

// EmailAlert is a proxy's "email-alert" settings: the alerts to send a
// mailers section's servers when its servers change state. Each of From,
// Mailers and To is set once its line was read (even empty).
type EmailAlert struct {
	Set                         bool
	From, Mailers, To, Hostname *string
	Level                       int
}

// kwEmailAlert reads "email-alert <from|mailers|myhostname|level|to>
// <value>" as cfg_parse_listen does: only the keyword's own argument is
// required; the value may be missing.
func kwEmailAlert(c *pctx) {
	if c.arg(1) == "" {
		c.alert("missing argument after '%s'.", c.args[0])
		return
	}
	e := &c.cp.proxy.EmailAlert
	v := c.arg(2)
	switch c.arg(1) {
	case "from":
		e.From = &v
	case "mailers":
		e.Mailers = &v
	case "myhostname":
		e.Hostname = &v
	case "to":
		e.To = &v
	case "level":
		l := logfmt.ParseLevel(v)
		if l < 0 {
			// HAProxy names the words the other way round.
			c.alert("unknown log level '%s' after '%s'", c.arg(1), v)
			return
		}
		e.Level = int(l)
	default:
		c.alert("email-alert: unknown argument '%s'.", c.arg(1))
		return
	}
	e.Set = true
}
