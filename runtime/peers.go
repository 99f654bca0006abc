package runtime

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/gohap/gohap/acl/stick"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/peers"
	"github.com/gohap/gohap/runtime/ssl"
)

// Peers sections (configuration.txt 3.5): the engine runs one
// runtime/peers section per enabled peers section that names the local
// peer, sharing the tables declared in it and the proxies' tables that
// name it with "peers".

// peersTables adds the tables of the peers sections' "table" lines,
// named "<section>/<table>" as rules name them.
func peersTables(cfg *parser.Config, tables *stick.Tables, sticky map[string]bool) parser.Diagnostics {
	var diags parser.Diagnostics
	for _, ps := range cfg.Peers {
		for _, pt := range ps.Tables {
			c, msgs := stick.Parse(pt.Words, ps.Name+"/"+pt.Name, true)
			diags = append(diags, tableDiags(msgs, pt.Pos)...)
			if !stick.HasErrors(msgs) {
				c.Peers = ps.Name
				if sticky[c.Name] {
					// Stick rules need the server's id and key.
					c.Store[stick.ServerID] = stick.Store{On: true, Elems: 1}
					c.Store[stick.ServerKey] = stick.Store{On: true, Elems: 1}
				}
				tables.Add(stick.New(c, nil))
			}
		}
	}
	return diags
}

// peersActive reports whether a peers section runs: enabled, with the
// local peer (HAProxy removes the others).
func peersActive(ps *parser.Peers) bool {
	return ps != nil && !ps.Disabled && ps.LocalPeerLine() != nil
}

// peersProxyDiags are check_config_validity's checks of a proxy's
// "stick-table ... peers" reference.
func peersProxyDiags(cfg *parser.Config, p *parser.Proxy, tables *stick.Tables) parser.Diagnostics {
	t := tables.Table(p.Name)
	if t == nil || len(p.StickTables) == 0 || t.Config().Peers == "" {
		return nil
	}
	name := t.Config().Peers
	ps := cfg.PeersByName(name)
	var msg string
	switch {
	case ps == nil:
		msg = fmt.Sprintf("Proxy '%s': unable to find sync peers '%s'.", p.Name, name)
	case ps.Disabled:
		return nil
	case len(ps.Peers) == 0 && ps.Bind == nil && len(ps.Tables) == 0:
		// HAProxy only complains of a section with no line at all.
		msg = fmt.Sprintf("Proxy '%s': unable to find local peer '%s' in peers section '%s'.", p.Name, ps.LocalName, name)
	default:
		return nil
	}
	return parser.Diagnostics{{Severity: parser.Alert, Fatal: true, Msg: msg}}
}

// peersSectionDiags warns of the sections HAProxy removes, and counts
// the listeners of the others.
func peersSectionDiags(cfg *parser.Config) (parser.Diagnostics, int) {
	var diags parser.Diagnostics
	listeners := 0
	for _, ps := range cfg.Peers {
		switch {
		case ps.Disabled:
		case ps.LocalPeerLine() == nil:
			diags = append(diags, parser.Diagnostic{Severity: parser.Warning,
				Msg: fmt.Sprintf("Removing incomplete section 'peers %s' (no peer named '%s').", ps.Name, ps.LocalName)})
		default:
			listeners++
		}
	}
	return diags, listeners
}

// peersSection is a compiled peers section.
type peersSection struct {
	name string
	// pos is where the local peer listens, for errors.
	pos    parser.Pos
	cfg    peers.Config
	bindAt string
}

// compilePeers builds the sections the engine runs and shares their
// tables.
func compilePeers(cfg *parser.Config, g *Graph, opts Options, fail func(parser.Pos, string, ...any)) {
	for _, ps := range cfg.Peers {
		if !peersActive(ps) {
			continue
		}
		local := ps.LocalPeerLine()
		sec := &peersSection{name: ps.Name, pos: local.Pos}
		sec.cfg = peers.Config{Name: ps.Name, LocalName: local.Name}
		bind := local.Addr
		if ps.Bind != nil {
			bind, sec.pos = ps.Bind.Address, ps.Bind.Pos
		}
		if bind != "" {
			a, err := listenAddr(bind, cfg.Global.UnixBind.Prefix, opts.Map)
			if err == nil && unixListenOf(a, parser.UnixPerms{}) != nil {
				// Peers speak over TCP only, here.
				err = errors.New("unix socket")
			}
			if err != nil {
				fail(sec.pos, "peers section '%s': address '%s' is not supported by the gohap runtime yet.", ps.Name, bind)
				continue
			}
			sec.cfg.Bind, sec.bindAt = a, bind
		}
		if ps.Bind != nil && !peersBindTLS(cfg, g, ps, &sec.cfg, fail) {
			continue
		}
		for _, pl := range ps.Peers {
			pc := peers.PeerConfig{Name: pl.Name, Local: pl.Local}
			var ok bool
			if pc.TLS, ok = peersServerTLS(cfg, g, ps, pl, fail); !ok {
				continue
			}
			if pl.Local && !strings.HasPrefix(sec.cfg.Bind, "fd@") {
				// where a stopping process hands the tables over
				pc.Addr = sec.cfg.Bind
			}
			if pl.Addr != "" && !pl.Local {
				host, port, err := serverTarget(pl.Addr, opts.Map)
				switch {
				case err != nil:
					fail(pl.Pos, "'%s %s' : address '%s' is not supported by the gohap runtime yet.", pl.Keyword, pl.Name, pl.Addr)
					continue
				case port == "" || port == "0":
					// Port 0: HAProxy's connections to it fail, so the
					// peer only ever connects in, as one without an
					// address.
				default:
					pc.Addr = net.JoinHostPort(host, port)
				}
			}
			sec.cfg.Peers = append(sec.cfg.Peers, pc)
		}
		g.peers = append(g.peers, sec)
	}
	// Tables join their section in declaration order: the peers sections'
	// own, then the proxies'.
	for _, t := range g.tables.All() {
		name := t.Config().Peers
		if name == "" {
			continue
		}
		for _, sec := range g.peers {
			if sec.name == name {
				// A peers section's table goes by "/<table>" on the wire:
				// HAProxy's nid starts after the section's name.
				nid := t.Name()
				if p, ok := strings.CutPrefix(nid, name); ok && strings.HasPrefix(p, "/") && isPeersTable(cfg.PeersByName(name), p[1:]) {
					nid = p
				}
				sec.cfg.Tables = append(sec.cfg.Tables, peers.TableConfig{Name: nid, Table: t})
			}
		}
	}
}

// peersBindTLS reads the TLS options of a peers section's bind line; the
// others are refused.
func peersBindTLS(cfg *parser.Config, gr *Graph, ps *parser.Peers, pc *peers.Config, fail func(parser.Pos, string, ...any)) bool {
	b := ps.Bind
	for i := 0; i < len(b.Options); i++ {
		if !tlsBindOptions[b.Options[i]] {
			fail(b.Pos, "'bind %s' : option '%s' is not supported by the gohap runtime yet in a peers section.", b.Address, b.Options[i])
			return false
		}
		i += parser.BindKeywordArgs[b.Options[i]]
	}
	t, _, ok := compileBindTLS(b, cfg, false, nil, fail)
	if ok && t != nil {
		pc.TLS = t.Config
		for _, o := range t.TLS13 {
			gr.wantTLS13(o, b.Pos, fail)
		}
	}
	return ok
}

// peersServerTLS reads the TLS words of a peer's line, after those of
// the section's default-server lines.
func peersServerTLS(cfg *parser.Config, gr *Graph, ps *parser.Peers, pl *parser.PeerLine, fail func(parser.Pos, string, ...any)) (*tls.Config, bool) {
	words := append(append([]string(nil), ps.DefaultServer...), pl.TLSWords...)
	if len(words) == 0 {
		return nil, true
	}
	g := sslGlobals(&cfg.Global)
	opts, err := ssl.ParseServerOptions(words, g)
	if err == nil && !opts.SSL {
		return nil, true
	}
	var st *ssl.ServerTLS
	if err == nil {
		st, err = ssl.LoadServerConfig(opts, g)
	}
	if err != nil {
		fail(pl.Pos, "'%s %s' : %v", pl.Keyword, pl.Name, err)
		return nil, false
	}
	if st.TLS13 != nil {
		gr.wantTLS13(st.TLS13, pl.Pos, fail)
	}
	return st.Config(""), true
}

// isPeersTable reports whether ps declares a table called name.
func isPeersTable(ps *parser.Peers, name string) bool {
	for _, pt := range ps.Tables {
		if pt.Name == name {
			return true
		}
	}
	return false
}

// peersRun is the engine's running peers sections.
type peersRun struct {
	secs []*peers.Section
}

// startPeers listens on the local peers' addresses and starts the
// sections; a section's tables are shared from then on.
func (e *Engine) startPeers() error {
	if len(e.g.peers) == 0 {
		return nil
	}
	run := &peersRun{}
	for _, ps := range e.g.peers {
		cfg := ps.cfg
		cfg.Logf = func(format string, a ...any) { e.log.Info(fmt.Sprintf(format, a...)) }
		// A former engine of this process hands its tables over.
		cfg.WaitLocal = e.donor != nil
		if cfg.Bind != "" {
			var ln net.Listener
			var err error
			if n, ok := strings.CutPrefix(cfg.Bind, "fd@"); ok {
				ln, err = adoptListener(n)
			} else {
				ln, err = listenBind(net.ListenConfig{}, &Listen{Addr: cfg.Bind}, e.noReuse, nil)
			}
			if err != nil {
				run.stop()
				reason := "cannot bind socket"
				if errors.Is(err, syscall.EADDRINUSE) {
					reason += " (Address already in use)"
				} else if errors.Is(err, syscall.EACCES) {
					reason += " (Permission denied)"
				}
				return fmt.Errorf("Binding [%s:%d] for proxy %s: %s for [%s]", ps.pos.File, ps.pos.Line, cfg.LocalName, reason, ps.bindAt)
			}
			cfg.Listener = ln
		}
		sec := peers.New(cfg)
		if err := sec.Listen(); err != nil {
			run.stop()
			return err
		}
		sec.Start()
		run.secs = append(run.secs, sec)
	}
	e.peers = run
	return nil
}

// handOverTimeout bounds a stopping engine's hand-over of its tables.
const handOverTimeout = 5 * time.Second

// stopSoft hands the tables over to the process or engine that now
// listens on the local peers' addresses, then ends the sections; a hard
// stop ends them at once.
func (r *peersRun) stopSoft(hard bool) {
	if r == nil {
		return
	}
	if !hard {
		for _, s := range r.secs {
			s.HandOver(handOverTimeout)
		}
	}
	r.stop()
}

// stop ends every section.
func (r *peersRun) stop() {
	if r == nil {
		return
	}
	for _, s := range r.secs {
		s.Stop()
	}
}
