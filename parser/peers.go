package parser

import (
	"fmt"
	"os"
	"strings"
)

// Peers is a "peers" section (configuration.txt 3.5; HAProxy's
// cfg_parse_peers).
type Peers struct {
	Pos  Pos
	Name string
	// LocalName is the local peer's name when the section was read.
	LocalName string
	// Disabled is set by "disabled" (and cleared by "enabled").
	Disabled bool
	// Bind is the "bind" line, nil when the local peer's "peer" line
	// gives the listening address.
	Bind *Bind
	// Peers are the "peer" and "server" lines in order.
	Peers []*PeerLine
	// Tables are the "table" lines; the runtime names each table
	// "<section>/<name>".
	Tables []*PeersTable
	// DefaultServer holds the TLS words of the "default-server" lines.
	DefaultServer []string
}

// PeerLine is a "peer" or "server" line of a peers section.
type PeerLine struct {
	Pos     Pos
	Keyword string
	Name    string
	// Addr is the address, empty for a "server" line of the local peer.
	Addr string
	// Local is set when Name is the local peer's name.
	Local bool
	// TLSWords are the line's options, all TLS ones.
	TLSWords []string
}

// PeersTable is a "table" line of a peers section.
type PeersTable struct {
	Pos  Pos
	Name string
	// Words is the whole line, for stick.Parse.
	Words []string
}

// localPeerName is the name this process has in peers sections: the global
// localpeer, else -L's (HAPROXY_LOCALPEER), else the host name.
func (cp *cfgParser) localPeerName() string {
	if cp.cfg.LocalPeer != "" {
		return cp.cfg.LocalPeer
	}
	if v, ok := cp.env.base("HAPROXY_LOCALPEER"); ok && v != "" {
		return v
	}
	h, _ := os.Hostname()
	return h
}

func init() {
	globalKeywords["localpeer"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if c.arg(1) == "" {
			c.alert("'%s' expects a name as an argument.", c.args[0])
			return
		}
		c.cp.cfg.LocalPeer = c.arg(1)
	}}
}

// openPeers starts a peers section; it reports whether parsing goes on.
func (cp *cfgParser) openPeers(args []string, pos Pos) bool {
	if len(args) < 2 || args[1] == "" {
		// HAProxy stops reading the file here.
		cp.add(alertf(pos, "missing name for peers section."))
		cp.cfg.AbortAfterFile = true
		cp.abort = true
		return false
	}
	if len(args) > 2 && args[2] != "" {
		cp.add(alertf(pos, "'%s' cannot handle unexpected argument '%s'.", args[0], args[2]))
		return false
	}
	if i := invalidChar(args[1]); i >= 0 {
		cp.add(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", args[1][i], args[0], args[1]))
		cp.cfg.AbortAfterFile = true
		cp.abort = true
		return false
	}
	for _, p := range cp.cfg.Peers {
		if p.Name == args[1] {
			d := alertf(pos, "Parsing [%s:%d]: peers section '%s' has the same name as another peers section declared at %s:%d.",
				pos.File, pos.Line, args[1], p.Pos.File, p.Pos.Line)
			d.Style = StyleNone
			cp.add(d)
		}
	}
	cp.cfg.Peers = append(cp.cfg.Peers, &Peers{Pos: pos, Name: args[1], LocalName: cp.localPeerName()})
	return true
}

// peersLine reads a line of a peers section.
func (cp *cfgParser) peersLine(c *pctx) {
	if len(cp.cfg.Peers) == 0 {
		cp.directive(c.pos, c.args[0], c.args[1:], Unsupported, false)
		return
	}
	ps := cp.cfg.Peers[len(cp.cfg.Peers)-1]
	kw := c.args[0]
	support := Supported
	defer func() { cp.directive(c.pos, kw, c.args[1:], support, false) }()
	hasPeer := func() bool {
		for _, p := range ps.Peers {
			if p.Keyword == "peer" {
				return true
			}
		}
		return false
	}
	switch kw {
	case "disabled":
		ps.Disabled = true
	case "enabled":
		ps.Disabled = false
	case "bind":
		if hasPeer() {
			c.alert("mixing \"peer\" and \"bind\" line is forbidden")
			return
		}
		if ps.Bind != nil {
			c.alert("One listener per \"peers\" section is authorized but another is already configured at [%s:%d].", ps.Bind.Pos.File, ps.Bind.Pos.Line)
			return
		}
		addr := cp.env.expandAddr(c.arg(1))
		if msg := checkBindAddress(addr, cp.cfg.Global.UnixBind.Prefix); msg != "" {
			c.alert("'%s %s' : %s", kw, c.arg(1), msg)
			return
		}
		opts := c.rest(2)
		line := bindLine{addr: c.arg(1), ids: map[int]bindIDRef{}, perms: &UnixPerms{}}
		for i := 0; i < len(opts); i += 1 + BindKeywordArgs[opts[i]] {
			if _, ok := c.bindOptionChecked(opts, i, &line); !ok {
				return
			}
		}
		// The runtime runs the TLS options and refuses the others.
		ps.Bind = &Bind{Pos: c.pos, Address: addr, Options: opts}
	case "peer", "server":
		name := c.arg(1)
		local := name == ps.LocalName
		if kw == "peer" && ps.Bind != nil {
			c.alert("mixing \"peer\" and \"bind\" line is forbidden")
			return
		}
		if local {
			for _, p := range ps.Peers {
				if p.Local {
					c.alert("'%s %s' : local peer name already referenced at %s:%d. %s", kw, name, p.Pos.File, p.Pos.Line, p.Name)
					return
				}
			}
		}
		pl := &PeerLine{Pos: c.pos, Keyword: kw, Name: name, Local: local}
		if c.arg(2) == "" {
			// HAProxy accepts a peer without an address: nothing
			// connects to it, a local one does not listen.
		} else if kw == "peer" || !local {
			addr := cp.env.expandUnquoted(c.arg(2))
			if local {
				// The local peer's address is a bind's: a port is due.
				if msg, _ := checkNameserverAddress(addr); msg != "" {
					c.alert("'%s %s' : %s", kw, name, msg)
					return
				}
			} else if msg := checkPeerAddress(addr); msg != "" {
				// A remote peer's is a server's, whose port may be
				// missing (nothing then connects to it). HAProxy names
				// its proxy after the local peer once declared.
				px := "(null)"
				for _, p := range ps.Peers {
					if p.Local {
						px = p.Name
					}
				}
				cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleBracket,
					Msg: fmt.Sprintf("'server %s/%s' : %s", px, name, msg), Detail: []string{""}})
				return
			}
			pl.Addr = addr
			pl.TLSWords, support = peersTLSWords(c.rest(3))
		} else {
			pl.TLSWords, support = peersTLSWords(c.rest(2))
		}
		ps.Peers = append(ps.Peers, pl)
	case "table":
		// The runtime parses the line, with HAProxy's messages.
		ps.Tables = append(ps.Tables, &PeersTable{Pos: c.pos, Name: c.arg(1), Words: append([]string(nil), c.args...)})
	case "default-server":
		if !c.defaultServerOptions() {
			support = Unsupported
			return
		}
		var words []string
		words, support = peersTLSWords(c.rest(1))
		ps.DefaultServer = append(ps.DefaultServer, words...)
	case "default-bind":
		// Accepted by HAProxy, not run by gohap. Its options start
		// right after the keyword, the first one named as an address.
		support = Unsupported
		opts := c.rest(1)
		line := bindLine{addr: c.arg(1), kw: kw, ids: map[int]bindIDRef{}, perms: &UnixPerms{}}
		for i := 0; i < len(opts); i += 1 + BindKeywordArgs[opts[i]] {
			if _, ok := c.bindOptionChecked(opts, i, &line); !ok {
				return
			}
		}
	case "log":
		// Accepted by HAProxy, not run by gohap.
		support = Unsupported
		if c.arg(1) != "global" || c.arg(2) != "" {
			logTarget(c, false)
		}
	default:
		c.alert("unknown keyword '%s' in '%s' section", kw, cp.section)
		support = Unsupported
	}
}

// PeersByName returns the peers section called name, nil if none.
func (c *Config) PeersByName(name string) *Peers {
	for _, p := range c.Peers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// LocalPeerLine returns the section's local peer line, nil if none.
func (p *Peers) LocalPeerLine() *PeerLine {
	for _, pl := range p.Peers {
		if pl.Local {
			return pl
		}
	}
	return nil
}

// peersTLSWords returns the options of a peers server line when they are
// all TLS ones, which the runtime runs; other options are not.
func peersTLSWords(opts []string) ([]string, Support) {
	for i := 0; i < len(opts); i++ {
		arg, ok := serverTLSOptions[opts[i]]
		if !ok {
			return nil, Unsupported
		}
		if arg {
			i++
		}
	}
	return opts, Supported
}

// checkPeerAddress is parse_server's verdict on a remote peer's address:
// the port may be missing.
func checkPeerAddress(a string) string {
	s := a
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	host, port, ok := splitHostPort(s)
	if !ok {
		return fmt.Sprintf("invalid address: '%s' in '%s'", s, a)
	}
	if port != "" {
		if msg := checkPortRange(port, a); msg != "" {
			return msg
		}
	}
	if host == "" || host == "*" || isIP(host) || isInetAton(host) || resolvable(host) {
		return ""
	}
	return fmt.Sprintf("invalid address: '%s' in '%s'", host, a)
}
