package parser

// The server-state keywords (configuration.txt 3.1 and 4.2): the file
// "show servers state" wrote, which a backend loads its servers' states
// from at start.

func init() {
	globalKeywords["server-state-file"] = keyword{support: Supported, handle: kwServerStateGlobal}
	globalKeywords["server-state-base"] = keyword{support: Supported, handle: kwServerStateGlobal}
	proxyKeywords["load-server-state-from-file"] = keyword{caps: CapBE, support: Supported, handle: kwLoadServerState}
	proxyKeywords["server-state-file-name"] = keyword{caps: CapBE, support: Supported, handle: kwServerStateFileName}
}

// kwServerStateGlobal reads "server-state-file <file>" and
// "server-state-base <dir>".
func kwServerStateGlobal(c *pctx) {
	g := &c.cp.cfg.Global
	dst, what := &g.ServerStateFile, "expect one argument: a file path."
	if c.args[0] == "server-state-base" {
		dst, what = &g.ServerStateBase, "expects one argument: a directory path."
	}
	if *dst != "" {
		d := alertf(c.pos, "'%s' already specified. Continuing.", c.args[0])
		d.Fatal = false
		c.cp.add(d)
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' %s", c.args[0], what)
		return
	}
	*dst = c.arg(1)
}

// kwLoadServerState reads "load-server-state-from-file global|local|none".
func kwLoadServerState(c *pctx) {
	switch m := c.arg(1); m {
	case "global", "local", "none":
		c.cp.proxy.ServerStateLoad = m
	default:
		c.alert("'%s' expects 'global', 'local' or 'none'. Got '%s'", c.args[0], m)
	}
}

// kwServerStateFileName reads "server-state-file-name [<file>|use-backend-name]".
func kwServerStateFileName(c *pctx) {
	if c.tooMany(1) {
		return
	}
	p := c.cp.proxy
	p.ServerStateFileName = c.arg(1)
	if p.ServerStateFileName == "" || p.ServerStateFileName == "use-backend-name" {
		p.ServerStateFileName = p.Name
	}
}
