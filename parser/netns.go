package parser

import "fmt"

// namespaceLine reads a line of a namespace_list section as
// cfg_parse_netns does: "namespace NAME..." opens each name into the
// store of known namespaces; other keywords are ignored.
func (cp *cfgParser) namespaceLine(c *pctx) {
	if c.arg(0) != "namespace" {
		return
	}
	for _, name := range c.args[1:] {
		if name == "" {
			// An empty word ends the list there.
			return
		}
		if i := invalidChar(name); i >= 0 {
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("character '%c' is not permitted in 'namespace' name '%s'.", name[i], name)})
			return
		}
		if cp.knownNamespace(name) {
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("Namespace '%s' is already added.", name)})
			return
		}
		if !netnsExists(name) {
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("Cannot open namespace '%s'.", name)})
			return
		}
		cp.cfg.Namespaces = append(cp.cfg.Namespaces, name)
	}
}

// knownNamespace tells whether name is in HAProxy's namespace store at
// this point of the reading: a namespace_list entry, or the namespace of
// a bind or server line read before.
func (cp *cfgParser) knownNamespace(name string) bool {
	for _, n := range cp.cfg.Namespaces {
		if n == name {
			return true
		}
	}
	for _, p := range cp.cfg.Proxies {
		for _, b := range p.Binds {
			if optionValue(b.Options, "namespace", BindKeywordArgs) == name {
				return true
			}
		}
		for _, s := range p.Servers {
			if s.Settings.Namespace == name {
				return true
			}
		}
	}
	return false
}

// optionValue is the value of the last opt in a line's options, whose
// arity args gives.
func optionValue(opts []string, opt string, args map[string]int) string {
	v := ""
	for i := 0; i < len(opts); i += 1 + args[opts[i]] {
		if opts[i] == opt && i+1 < len(opts) {
			v = opts[i+1]
		}
	}
	return v
}
