package parser

import (
	"fmt"
	"strings"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
)

// RingBufSize is HAProxy's BUFSIZE: the default size and maxlen of a
// ring, and the largest message a ring reader ever forwards.
const RingBufSize = 16384

// Ring is a "ring" section (configuration.txt 3.9; HAProxy's
// cfg_parse_ring): an in-memory buffer of events that "log ring@<name>"
// lines feed, "show events" dumps and the servers receive.
type Ring struct {
	Pos  Pos
	Name string
	// Description is "description", the name when not set.
	Description string
	// Format is the header each event gets ("format"), raw by default.
	Format logfmt.SyslogFormat
	// MaxLen is "maxlen", cut to Size when larger (16384 by default).
	MaxLen int
	// Size is the buffer size in bytes ("size", 16384 by default).
	Size int
	// TimeoutConnect and TimeoutServer are the forwarders' timeouts,
	// zero when not set (no timeout).
	TimeoutConnect, TimeoutServer time.Duration
	// Servers are the "server" lines, in order.
	Servers []*RingServer
	// last is the section's last line, where its end is reported.
	last Pos
}

// RingServer is a "server" line of a ring section: a TCP syslog
// receiver the ring's events are forwarded to.
type RingServer struct {
	Pos     Pos
	Name    string
	Address string
	Options []string
	// OctetCount is "log-proto octet-count" (RFC 6587 framing); events
	// are sent newline-terminated otherwise ("legacy").
	OctetCount bool
	// TLSWords are the line's TLS options with their arguments, in
	// order; the runtime reads them with its TLS package as it does
	// those of a proxy's server.
	TLSWords []string
	// PP is the PROXY protocol header the forwarder sends first on each
	// connection (HAProxy's pp_opts), zero for none.
	PP RingPP
	// Refused is the first option the forwarder does not run, "" when
	// none: "run" refuses the line.
	Refused string
}

// RingPP holds the PROXY protocol flags of a ring server as HAProxy's
// SRV_PP_* bits: any flag sends a header, v2 when PPv2 is set and v1
// otherwise (even for proxy-v2-options alone, as connect_server does).
type RingPP uint16

// The RingPP flags: the versions, then one per proxy-v2-options word.
const (
	PPv1 RingPP = 1 << iota
	PPv2
	PPv2SSL
	PPv2SSLCN
	PPv2KeyAlg
	PPv2SigAlg
	PPv2Cipher
	PPv2Authority
	PPv2CRC32C
	PPv2UniqueID
)

// ringPPOptions are the flags of the proxy-v2-options words
// (srv_parse_proxy_v2_options).
var ringPPOptions = map[string]RingPP{"ssl": PPv2SSL, "cert-cn": PPv2SSL | PPv2SSLCN,
	"cert-key": PPv2SSL | PPv2KeyAlg, "cert-sig": PPv2SSL | PPv2SigAlg, "ssl-cipher": PPv2SSL | PPv2Cipher,
	"authority": PPv2Authority, "crc32c": PPv2CRC32C, "unique-id": PPv2UniqueID}

// ringPPWords are the flags the send-proxy words set, or clear for the
// no- forms, as server.c and cfgparse-ssl.c do.
var ringPPWords = map[string]struct {
	set   bool
	flags RingPP
}{
	"send-proxy": {true, PPv1}, "no-send-proxy": {false, PPv1},
	"send-proxy-v2": {true, PPv2}, "no-send-proxy-v2": {false, PPv2},
	"send-proxy-v2-ssl": {true, PPv2 | PPv2SSL}, "no-send-proxy-v2-ssl": {false, PPv2 | PPv2SSL},
	"send-proxy-v2-ssl-cn": {true, PPv2 | PPv2SSL | PPv2SSLCN}, "no-send-proxy-v2-ssl-cn": {false, PPv2 | PPv2SSL | PPv2SSLCN},
}

// ringTLSRefused are the TLS options a ring forwarder does not run: the
// health check ones (no check runs on a ring server: start_checks walks
// proxies_list, which a ring's proxy is not on) and npn, which the TLS
// package has no support for.
var ringTLSRefused = map[string]bool{"check-ssl": true, "no-check-ssl": true, "check-sni": true, "check-alpn": true, "npn": true}

// RingByName returns the ring section called name, nil if none.
func (c *Config) RingByName(name string) *Ring {
	for _, r := range c.Rings {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// builtinSinks are the event sinks HAProxy creates before reading the
// configuration (sink_init): a ring section cannot take their names.
var builtinSinks = []string{"stdout", "stderr", "buf0"}

// openRing starts a ring section. A failed header leaves no current
// ring: the section's lines then fail as HAProxy's do without cfg_sink.
func (cp *cfgParser) openRing(args []string, pos Pos) {
	cp.ring = nil
	name := ""
	if len(args) > 1 {
		name = args[1]
	}
	if name == "" {
		cp.add(alertf(pos, "missing ring name."))
		return
	}
	if i := invalidChar(name); i >= 0 {
		cp.add(alertf(pos, "invalid ring name '%s' (character '%c' is not permitted).", name, name[i]))
		return
	}
	for _, b := range builtinSinks {
		if b == name {
			cp.add(alertf(pos, "sink named '%s' already exists.", name))
			return
		}
	}
	if cp.cfg.RingByName(name) != nil {
		cp.add(alertf(pos, "sink named '%s' already exists.", name))
		return
	}
	r := &Ring{Pos: pos, Name: name, Description: name, Format: logfmt.SyslogRaw, MaxLen: RingBufSize, Size: RingBufSize, last: pos}
	cp.cfg.Rings = append(cp.cfg.Rings, r)
	cp.ring = r
}

// endRing is cfg_post_parse_ring: it runs when the section ends.
func (cp *cfgParser) endRing() {
	r := cp.ring
	cp.ring = nil
	if r == nil {
		return
	}
	if uint32(r.MaxLen) > uint32(r.Size) {
		d := warnf(r.last, "ring '%s' event max length '%d' exceeds size, forced to size '%d'.", r.Name, uint32(r.MaxLen), r.Size)
		d.Style = StyleNone
		cp.add(d)
		r.MaxLen = r.Size
	}
}

// ringLine reads a line of a ring section.
func (cp *cfgParser) ringLine(c *pctx) {
	r := cp.ring
	if r != nil {
		r.last = c.pos
	}
	kw := c.args[0]
	support := Supported
	defer func() { cp.directive(c.pos, kw, c.args[1:], support, false) }()
	switch kw {
	case "size":
		if r == nil {
			c.alert("'size' directive not usable with this type of sink.")
			return
		}
		size := Atol(c.arg(1))
		switch {
		case size == 0:
			c.alert("invalid size '%s' for new sink buffer.", c.arg(1))
		case size < 0 || size > 1<<31:
			// size_t wraps a negative size: the allocation fails.
			c.alert("fail to set sink buffer size '%d' for ring '%s'.", r.Size, r.Name)
		case size < r.Size:
			// A warning that HAProxy 2.6 counts as a fatal error.
			d := warnf(c.pos, "ignoring new size '%d' that is smaller than current size '%d' for ring '%s'.", size, r.Size, r.Name)
			d.Fatal = true
			cp.add(d)
		default:
			r.Size = size
		}
	case "server":
		if r == nil {
			c.alert("unable to add server '%s'.", c.arg(1))
			support = Unsupported
			return
		}
		cp.ringServer(c, r)
	case "timeout":
		if r == nil {
			c.alert("unable to set timeout '%s'.", c.arg(1))
			return
		}
		which := c.arg(1)
		if which != "connect" && which != "server" {
			// HAProxy reads other timeouts and does nothing with them.
			return
		}
		if c.arg(2) == "" {
			c.alert("'%s %s' expects <time> as argument.", kw, which)
			return
		}
		d, ok := resolversTime(c, c.arg(2), c.arg(2), kw+" "+which)
		if !ok {
			return
		}
		if which == "connect" {
			r.TimeoutConnect = d
		} else {
			r.TimeoutServer = d
		}
	case "format":
		if r == nil {
			c.alert("unable to set format '%s'.", c.arg(1))
			return
		}
		f := logfmt.ParseFormat(c.arg(1))
		if f == logfmt.SyslogUnspec {
			c.alert("unknown format '%s'.", c.arg(1))
			return
		}
		r.Format = f
	case "maxlen":
		if r == nil {
			c.alert("unable to set event max length '%s'.", c.arg(1))
			return
		}
		// maxlen is an unsigned int set from atol().
		r.MaxLen = int(uint32(Atol(c.arg(1))))
		if r.MaxLen == 0 {
			c.alert("invalid size '%s' for new sink buffer.", c.arg(1))
		}
	case "description":
		if r == nil {
			c.alert("unable to set description '%s'.", c.arg(1))
			return
		}
		if c.arg(1) == "" {
			c.alert("missing ring description text.")
			return
		}
		r.Description = c.arg(1)
	default:
		c.alert("unknown statement '%s'.", kw)
		support = Unsupported
	}
}

// ringServer reads "server <name> <addr> [options]" as parse_server does
// for a ring, whose address is resolved at once.
func (cp *cfgParser) ringServer(c *pctx, r *Ring) {
	bracket := func(format string, a ...any) {
		d := alertf(c.pos, format, a...)
		d.Style = StyleBracket
		cp.add(d)
	}
	name := c.arg(1)
	if c.arg(2) == "" {
		bracket("'%s' expects <name> and <addr>[:<port>] as arguments.", c.args[0])
		return
	}
	if name == "" {
		d := nulTruncated(c.pos)
		d.Style = StyleBracket
		cp.add(d)
		return
	}
	if i := invalidChar(name); i >= 0 {
		bracket("character '%c' is not permitted in server name '%s'.", name[i], name)
		return
	}
	addr := cp.env.expandAddr(c.arg(2))
	if msg := checkRingServerAddress(addr); msg != "" {
		bracket("'server %s/%s' : %s", r.Name, name, msg)
		return
	}
	opts := c.rest(3)
	if msg := checkServerOptions(name, opts, false); msg != "" {
		c.serverOptionAlert(fmt.Sprintf("'server %s/%s' : ", r.Name, name), msg)
		return
	}
	if !checkServerTLSFiles(c, r.Name+"/"+name, opts) {
		return
	}
	s := &RingServer{Pos: c.pos, Name: name, Address: addr, Options: opts}
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		n := min(serverKeywords[o], len(opts)-1-i)
		arg := ""
		if n > 0 {
			arg = opts[i+1]
		}
		pp, isPP := ringPPWords[o]
		switch _, isTLS := serverTLSOptions[o]; {
		case o == "log-proto":
			s.OctetCount = arg == "octet-count"
		case isPP && pp.set:
			s.PP |= pp.flags
		case isPP:
			s.PP &^= pp.flags
		case o == "proxy-v2-options":
			for _, w := range strings.Split(arg, ",") {
				s.PP |= ringPPOptions[w]
			}
		case isTLS && !ringTLSRefused[o]:
			s.TLSWords = append(s.TLSWords, opts[i:i+1+n]...)
		case s.Refused == "":
			s.Refused = o
		}
		i += n
	}
	r.Servers = append(r.Servers, s)
}

// checkRingServerAddress is str2sa_range's verdict on a ring server's
// address: a stream address whose port is optional and may be an offset,
// with host names resolved now. Messages HAProxy ends with a newline keep
// it.
func checkRingServerAddress(a string) string {
	if a == "" {
		return "'' resolves to an empty address (environment variable missing?)\n"
	}
	if strings.HasPrefix(a, "fd@") || strings.HasPrefix(a, "sockpair@") {
		return fmt.Sprintf("a file descriptor is not acceptable here in '%s'\n", a)
	}
	if msg, ok := checkUnixAddress(a, ""); ok {
		if strings.HasPrefix(msg, "dgram-type") {
			msg += "\n"
		}
		return msg
	}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@", "ip@", "stream+"} {
		s = strings.TrimPrefix(s, pfx)
	}
	host, port, ok := splitHostPort(s)
	if !ok {
		return fmt.Sprintf("invalid address: '%s' in '%s'\n", s, a)
	}
	switch {
	case port == "":
	case port[0] >= '0' && port[0] <= '9':
		if strings.IndexByte(port, '-') >= 0 {
			return fmt.Sprintf("port range not permitted here in '%s'", a)
		}
		if n, _ := leadingInt(port); n > 65535 {
			return fmt.Sprintf("invalid port '%s'", port)
		}
	case port[0] == '+' || port[0] == '-':
	default:
		return fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'\n", port[0], port, a)
	}
	if host == "" || host == "*" || isIP(host) || isInetAton(host) || resolvable(host) {
		return ""
	}
	return fmt.Sprintf("invalid address: '%s' in '%s'\n", host, a)
}

// RingLogDiags are the checks HAProxy makes of "log ring@<name>" lines
// when it starts (post_sink_resolve): "check" does not make them. Every
// ring must exist and be a buffer.
func RingLogDiags(cfg *Config) []string {
	var out []string
	kind := func(name string) string {
		for _, b := range builtinSinks {
			if b == name {
				if name == "buf0" {
					return "buffer"
				}
				return "fd"
			}
		}
		if cfg.RingByName(name) != nil {
			return "buffer"
		}
		return ""
	}
	global := func(l Log, who string) {
		switch kind(l.Target.Path) {
		case "":
			if who == "" {
				out = append(out, fmt.Sprintf("global log server declared in file '%s' at line %d uses unknown ring named '%s'.", l.Pos.File, l.Pos.Line, l.Target.Path))
			} else {
				out = append(out, fmt.Sprintf("log server declared in proxy section '%s' in file '%s' at line %d uses unknown ring named '%s'.", who, l.Pos.File, l.Pos.Line, l.Target.Path))
			}
		case "fd":
			if who == "" {
				out = append(out, fmt.Sprintf("global log server declared in file '%s' at line %d uses incompatible ring '%s'.", l.Pos.File, l.Pos.Line, l.Target.Path))
			} else {
				out = append(out, fmt.Sprintf("log server declared in proxy section '%s' in file '%s' at line %d uses incomatible ring named '%s'.", who, l.Pos.File, l.Pos.Line, l.Target.Path))
			}
		}
	}
	for _, l := range cfg.Global.Logs {
		if l.Target.Kind == logfmt.Ring {
			global(l, "")
		}
	}
	for _, p := range cfg.Proxies {
		if p.Cap&CapDef != 0 {
			continue
		}
		for _, l := range p.Log.Targets {
			if l.Target.Kind == logfmt.Ring {
				global(l, p.Name)
			}
		}
	}
	// HAProxy's internal HTTP client proxy takes the global targets.
	for _, l := range cfg.Global.Logs {
		if l.Target.Kind == logfmt.Ring {
			global(l, "<HTTPCLIENT>")
		}
	}
	return out
}
