package runtime

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/runtime/proxyproto"
	"github.com/gohap/gohap/runtime/ring"
	"github.com/gohap/gohap/runtime/ssl"
	"github.com/gohap/gohap/runtime/stats"
)

// ringSet holds the event sinks: HAProxy's built-in ones then the ring
// sections, and the servers their messages are forwarded to.
type ringSet struct {
	sinks   []*ring.Sink
	byName  map[string]*ring.Sink
	targets []ringTarget
	fwd     []*ring.Forwarder
}

type ringTarget struct {
	r *ring.Ring
	t ring.Target
}

// compileRings builds the rings of the configuration and checks the
// "log ring@" targets as HAProxy does when it starts.
func compileRings(cfg *parser.Config, opts Options, fail func(parser.Pos, string, ...any)) *ringSet {
	for _, msg := range parser.RingLogDiags(cfg) {
		fail(parser.Pos{}, "%s", msg)
	}
	rs := &ringSet{sinks: ring.Builtin(), byName: map[string]*ring.Sink{}}
	for _, r := range cfg.Rings {
		s := &ring.Sink{Name: r.Name, Desc: r.Description, Format: r.Format, MaxLen: r.MaxLen, Ring: ring.New(r.Size)}
		rs.sinks = append(rs.sinks, s)
		for _, srv := range r.Servers {
			if srv.Refused != "" {
				fail(srv.Pos, "server option '%s' is not supported by the gohap runtime yet.", srv.Refused)
				continue
			}
			network, addr, err := ringServerAddr(srv.Address, opts)
			if err != "" {
				fail(srv.Pos, "'server %s/%s' : %s", r.Name, srv.Name, err)
				continue
			}
			tlsCfg, ok := ringServerTLS(cfg, r, srv, fail)
			if !ok {
				continue
			}
			rs.targets = append(rs.targets, ringTarget{r: s.Ring, t: ring.Target{Network: network, Addr: addr,
				OctetCount: srv.OctetCount, Connect: r.TimeoutConnect, Server: r.TimeoutServer,
				Proxy: ringProxyHeader(srv.PP), TLS: tlsCfg}})
		}
	}
	rs.implicit(cfg, opts, fail)
	for _, s := range rs.sinks {
		rs.byName[s.Name] = s
	}
	return rs
}

// implicit adds the rings HAProxy puts in front of stream log targets
// ("tcp@", "uxst@"), as post_sink_resolve creates them: the global
// targets' first, then the proxies', in order. Each forwards to its
// target, newline-terminated, with no timeouts.
func (rs *ringSet) implicit(cfg *parser.Config, opts Options, fail func(parser.Pos, string, ...any)) {
	seen := map[string]bool{}
	add := func(l parser.Log) {
		t := l.Target
		if t.Kind != logfmt.Stream || t.Ring == "" || seen[t.Ring] {
			return
		}
		seen[t.Ring] = true
		network, addr := t.Network, t.Path
		if t.Abstract {
			addr = "@" + addr
		}
		if network != "unix" {
			ap := t.Addr
			if t.Host != "" {
				ip, err := opts.Resolve(t.Host)
				if err != nil {
					fail(l.Pos, "log : invalid address: '%s' in '%s'", t.Host, t.Raw)
					return
				}
				ap = netip.AddrPortFrom(ip.Unmap(), t.Port)
			}
			network, addr = "tcp", ap.String()
		}
		s := &ring.Sink{Name: t.Ring, Desc: fmt.Sprintf("created from logserver declared into '%s' at line %d", l.Pos.File, l.Pos.Line),
			Format: t.Format, MaxLen: parser.RingBufSize, Ring: ring.New(parser.RingBufSize)}
		rs.sinks = append(rs.sinks, s)
		rs.targets = append(rs.targets, ringTarget{r: s.Ring, t: ring.Target{Network: network, Addr: addr}})
	}
	for _, l := range cfg.Global.Logs {
		add(l)
	}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapDef == 0 {
			for _, l := range p.Log.Targets {
				add(l)
			}
		}
	}
}

// ringServerAddr is where a ring server's forwarder connects.
func ringServerAddr(a string, opts Options) (network, addr, err string) {
	if path, abstract, ok := parser.UnixAddress(a); ok {
		if abstract {
			path = "@" + path
		}
		return "unix", path, ""
	}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@", "ip@", "stream+"} {
		s = strings.TrimPrefix(s, pfx)
	}
	host, port := s, ""
	if i := strings.LastIndexAny(s, ":]"); i >= 0 && s[i] == ':' {
		host, port = s[:i], s[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	n, _ := strconv.Atoi(port)
	ip, perr := netip.ParseAddr(host)
	if perr != nil {
		var rerr error
		if ip, rerr = opts.Resolve(host); rerr != nil {
			return "", "", "invalid address: '" + host + "' in '" + a + "'"
		}
	}
	return "tcp", net.JoinHostPort(ip.Unmap().String(), strconv.Itoa(n)), ""
}

// ringServerTLS compiles the TLS options of a ring server, as
// cfg_post_parse_ring prepares them: nil when its messages go in clear.
// The "sni" expression is evaluated at each connection, on the
// forwarder's stream, which has no client.
func ringServerTLS(cfg *parser.Config, r *parser.Ring, srv *parser.RingServer, fail func(parser.Pos, string, ...any)) (func() *tls.Config, bool) {
	if len(srv.TLSWords) == 0 {
		return nil, true
	}
	bad := func(err error) {
		fail(srv.Pos, bracketed+"'server %s/%s' : %v", r.Name, srv.Name, err)
	}
	g := sslGlobals(&cfg.Global)
	o, err := ssl.ParseServerOptions(srv.TLSWords, g)
	if err != nil {
		bad(err)
		return nil, false
	}
	if !o.SSL {
		return nil, true
	}
	var sni *acl.Sample
	for i := 0; i+1 < len(srv.TLSWords); i++ {
		if srv.TLSWords[i] == "sni" {
			if sni, err = acl.CompileSample(srv.TLSWords[i+1]); err != nil {
				fail(srv.Pos, bracketed+"'server %s/%s' : error detected while parsing sni expression : %v", r.Name, srv.Name, err)
				return nil, false
			}
		}
	}
	st, err := ssl.LoadServerConfig(o, g)
	if err != nil {
		bad(err)
		return nil, false
	}
	if sni == nil {
		c := st.Config("")
		return func() *tls.Config { return c }, true
	}
	return func() *tls.Config {
		// The ring's proxy is the stream's frontend and backend.
		txn := acl.Txn{FeName: r.Name, BeName: r.Name, SrvName: srv.Name, Final: true}
		name, _ := sni.Append(nil, &txn)
		return st.Config(string(name))
	}, true
}

// ringProxyHeader is the PROXY protocol header of a ring server's
// connections. The forwarder's stream has no client connection, so
// make_proxy_line writes "PROXY UNKNOWN" in v1 and a LOCAL command in
// v2, whose TLVs are the options' that need no client: CRC32C, an empty
// UNIQUE_ID (the ring's proxy has no unique-id-format) and an SSL TLV
// saying the client is not TLS.
func ringProxyHeader(pp parser.RingPP) []byte {
	switch {
	case pp == 0:
		return nil
	case pp&parser.PPv2 == 0:
		return proxyproto.AppendV1(nil, netip.AddrPort{}, netip.AddrPort{})
	}
	o := ppOptions(pp)
	return proxyproto.AppendV2(nil, &proxyproto.V2{Local: true, Options: o, UniqueID: []byte{}})
}

// start runs a forwarder per ring server.
func (rs *ringSet) start() {
	if rs == nil {
		return
	}
	for _, t := range rs.targets {
		rs.fwd = append(rs.fwd, ring.Forward(t.r, t.t))
	}
}

// stop ends the forwarders.
func (rs *ringSet) stop() {
	if rs == nil {
		return
	}
	for _, f := range rs.fwd {
		f.Close()
	}
	rs.fwd = nil
}

var _ stats.EventSource = cliSource{}

// EventSinks lists the event sinks for "show events".
func (s cliSource) EventSinks() []*ring.Sink {
	if s.e.g.rings == nil {
		return nil
	}
	return s.e.g.rings.sinks
}
