package parser

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Usesrc is the "usesrc" form of a "source" setting: the address a
// connection to a server is made from when it is not the proxy's own
// (transparent proxying, configuration.txt 4.2 "source").
type Usesrc int

// Usesrc forms.
const (
	// UsesrcNone binds the source address only.
	UsesrcNone Usesrc = iota
	// UsesrcAddr binds UsesrcAddr, a foreign address and port.
	UsesrcAddr
	// UsesrcClient binds the client's address and port.
	UsesrcClient
	// UsesrcClientIP binds the client's address, any port.
	UsesrcClientIP
	// UsesrcHdrIP binds the IPv4 address found in a request header.
	UsesrcHdrIP
)

// SourceBind is a "source" setting of a backend or of a server
// (configuration.txt 4.2 "source" and 5.2 server "source"): what the
// connections to servers, health checks included, are bound to. The
// server's own wins over the backend's.
type SourceBind struct {
	Pos Pos
	// Addr is the address bound, with PortLow..PortHigh (0..0 lets the
	// system pick the port); invalid when the address is not an inet
	// one (unix@...), which binds nothing.
	Addr              netip.Addr
	PortLow, PortHigh int
	Usesrc            Usesrc
	// UsesrcAddr is usesrc's address; invalid when not an inet one.
	UsesrcAddr netip.AddrPort
	// Hdr and HdrOcc are usesrc hdr_ip(<Hdr>[,<HdrOcc>]), -1 for the
	// last occurrence.
	Hdr    string
	HdrOcc int
	// Iface is "interface": the device the socket is bound to.
	Iface string
}

// sourceAddr reads a source or usesrc address already checked by
// checkSourceAddress: its address (invalid when not inet) and ports.
func sourceAddr(a string) (ip netip.Addr, lo, hi int) {
	network := "ip"
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		if strings.HasPrefix(s, pfx) {
			s = s[len(pfx):]
			switch pfx {
			case "ipv4@", "tcp4@":
				network = "ip4"
			case "ipv6@", "tcp6@":
				network = "ip6"
			}
		}
	}
	if strings.Contains(s, "@") || strings.HasPrefix(s, "/") {
		return netip.Addr{}, 0, 0
	}
	host, port, _ := splitHostPort(s)
	if l, h, ok := strings.Cut(port, "-"); ok {
		lo, _ = leadingInt(l)
		hi, _ = leadingInt(h)
	} else {
		lo, _ = leadingInt(port)
		hi = lo
	}
	switch {
	case host == "" || host == "*":
		ip = netip.IPv4Unspecified()
		if network == "ip6" {
			ip = netip.IPv6Unspecified()
		}
	case host == "::":
		ip = netip.IPv6Unspecified()
	default:
		var err error
		if ip, err = netip.ParseAddr(host); err != nil {
			ip, _ = resolveFirst(network, host)
		}
	}
	return ip.Unmap(), lo, hi
}

// checkSourceAddress is str2sa_range's verdict on a source address
// (PA_O_PORT_OK, with PA_O_PORT_RANGE when rng is set).
func checkSourceAddress(a string, rng bool) string {
	switch {
	case strings.HasPrefix(a, "unix@"), strings.HasPrefix(a, "abns@"), strings.HasPrefix(a, "/"):
		// A stream socket, accepted; it binds nothing.
		return ""
	case strings.HasPrefix(a, "fd@"):
		return fmt.Sprintf("a file descriptor is not acceptable here in '%s'\n", a)
	}
	if !rng {
		return checkConnectAddress(a, false)
	}
	s := a
	for _, pfx := range []string{"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"} {
		s = strings.TrimPrefix(s, pfx)
	}
	if _, port, ok := splitHostPort(s); ok && port != "" && port[0] >= '0' && port[0] <= '9' {
		if l, h, isRange := strings.Cut(port, "-"); isRange {
			lo, _ := leadingInt(l)
			hi, _ := leadingInt(h)
			switch {
			case lo > 65535:
				return fmt.Sprintf("invalid port '%s'", l)
			case hi > 65535:
				return fmt.Sprintf("invalid port '%s'", h)
			case lo > hi:
				return fmt.Sprintf("invalid port range '%d-%d'", lo, hi)
			}
			// The rest is checked as a single port.
			return checkConnectAddress(strings.TrimSuffix(a, "-"+h), false)
		}
	}
	return checkConnectAddress(a, false)
}

// usesrcHdrIP reads "hdr_ip(<name>[,<occ>])" as HAProxy does: the name
// ends at a space, a comma or a parenthesis, the occurrence is a
// possibly negative number (strl2ic), -1 when absent.
func usesrcHdrIP(arg string) (name string, occ int) {
	s := strings.TrimLeft(arg[len("hdr_ip("):], " \t\n\v\f\r")
	end := strings.IndexAny(s, " \t\n\v\f\r,)")
	if end < 0 {
		end = len(s)
	}
	name, s = s[:end], strings.TrimLeft(s[end:], " \t\n\v\f\r")
	occ = -1
	if strings.HasPrefix(s, ",") {
		s = s[1:]
		n := 0
		if strings.HasPrefix(s, "-") {
			n = 1
		}
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		occ = 0
		if v, err := strconv.Atoi(s[:n]); err == nil {
			occ = v
		}
	}
	return name, occ
}

// maxHdrHistory is HAProxy's MAX_HDR_HISTORY: how far back a negative
// header occurrence may reach.
const maxHdrHistory = 10

// sourceMsg is a message of a "source" setting: Msg is HAProxy's, Detail
// the continuation lines it prints after it.
type sourceMsg struct {
	Msg    string
	Detail []string
}

// readSourceOptions reads the usesrc and interface words after a source
// address, from args[i]. It returns the index of the first word that is
// none of them, or a message; the server form (srv) words usesrc's and
// interface's messages as srv_parse_source does, kw0 naming the line's
// keyword in the latter.
func readSourceOptions(sb *SourceBind, args []string, i int, srv bool, kw0 string) (int, *sourceMsg) {
	arg := func(j int) string {
		if j < len(args) {
			return args[j]
		}
		return ""
	}
	for ; arg(i) != ""; i += 2 {
		switch args[i] {
		case "usesrc":
			v := arg(i + 1)
			switch {
			case v == "":
				if srv {
					return i, &sourceMsg{Msg: "'usesrc' expects <addr>[:<port>], 'client', 'clientip', or 'hdr_ip(name,#)' as argument."}
				}
				return i, &sourceMsg{Msg: "'usesrc' expects <addr>[:<port>], 'client', or 'clientip' as argument."}
			case v == "client":
				sb.Usesrc = UsesrcClient
			case v == "clientip":
				sb.Usesrc = UsesrcClientIP
			case strings.HasPrefix(v, "hdr_ip("):
				sb.Usesrc = UsesrcHdrIP
				sb.Hdr, sb.HdrOcc = usesrcHdrIP(v)
				if sb.HdrOcc < -maxHdrHistory {
					return i, &sourceMsg{Msg: fmt.Sprintf("usesrc hdr_ip(name,num) does not support negative occurrences values smaller than %d.", maxHdrHistory)}
				}
			default:
				if msg := checkSourceAddress(v, false); msg != "" {
					m := &sourceMsg{}
					msg, nl := strings.CutSuffix(msg, "\n")
					m.Msg = fmt.Sprintf("'%s %s' : %s", args[i], v, msg)
					if nl {
						m.Detail = []string{""}
					}
					return i, m
				}
				// HAProxy keeps the mode set before: only the
				// address is recorded.
				ip, lo, _ := sourceAddr(v)
				sb.Usesrc = UsesrcAddr
				sb.UsesrcAddr = netip.AddrPort{}
				if ip.IsValid() {
					sb.UsesrcAddr = netip.AddrPortFrom(ip, uint16(lo))
				}
			}
		case "interface":
			if arg(i+1) == "" {
				return i, &sourceMsg{Msg: fmt.Sprintf("'%s' : missing interface name.", kw0)}
			}
			sb.Iface = args[i+1]
		default:
			if srv {
				return i, nil
			}
			return i, &sourceMsg{Msg: fmt.Sprintf("'%s' only supports optional keywords '%s' and '%s'.", kw0, "interface", "usesrc")}
		}
	}
	return i, nil
}

// kwSource reads "source <addr>[:<port>] [usesrc ...] [interface ...]"
// (configuration.txt 4.2): what the backend's connections are bound to.
func kwSource(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <addr>[:<port>], and optionally '%s' <addr>, and '%s' <name>.", "source", "usesrc", "interface")
		return
	}
	a := c.arg(1)
	if msg := checkSourceAddress(a, false); msg != "" {
		msg, nl := strings.CutSuffix(msg, "\n")
		c.alert("'%s %s' : %s", c.args[0], a, msg)
		if nl {
			c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		}
		return
	}
	sb := &SourceBind{Pos: c.pos}
	sb.Addr, sb.PortLow, _ = sourceAddr(a)
	sb.PortHigh = sb.PortLow
	if _, m := readSourceOptions(sb, c.args, 2, false, c.args[0]); m != nil {
		c.alert("%s", m.Msg)
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = m.Detail
		return
	}
	c.cp.proxy.Source = sb
}

// kwUsesrc is "usesrc" alone, which only goes after "source".
func kwUsesrc(c *pctx) {
	c.alert("'%s' only allowed after a '%s' statement.", "usesrc", "source")
}

// serverSource reads the server option "source" at opts[i] as
// srv_parse_source does. It returns the setting, the index of the word
// after it, and on error the message HAProxy returns (ret, put after the
// server's name) or the one it prints itself (alert) followed by its
// "error encountered while processing" line naming the word at fault.
func serverSource(opts []string, i int, kw0 string) (sb *SourceBind, next int, ret string, alert *sourceMsg, at string) {
	a := ""
	if i+1 < len(opts) {
		a = opts[i+1]
	}
	if a == "" {
		return nil, i, "'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument.\n", nil, ""
	}
	if msg := checkSourceAddress(a, true); msg != "" {
		return nil, i, fmt.Sprintf("'%s %s' : %s\n", opts[i], a, msg), nil, ""
	}
	sb = &SourceBind{}
	sb.Addr, sb.PortLow, sb.PortHigh = sourceAddr(a)
	next, m := readSourceOptions(sb, opts, i+2, true, kw0)
	if m != nil {
		return nil, next, "", m, opts[next]
	}
	return sb, next, "", nil, ""
}

// serverOptionAlert adds the alert about a bad server option at c's line,
// after prefix, then the unplaced one HAProxy adds when the option's
// parser printed its own message (after a NUL in msg).
// defaultServerOptions checks a default-server line's options; on an
// option a default server refuses, which HAProxy reports without failing,
// the line keeps the options before it. False when nothing of the line
// applies.
func (c *pctx) defaultServerOptions() bool {
	msg, at := checkServerOptionsAt("", c.rest(1), true)
	if msg == "" {
		return true
	}
	c.serverOptionAlert("", msg)
	if !strings.HasPrefix(msg, nonFatal) || at == 0 {
		return false
	}
	c.args = c.args[:1+at]
	return true
}

func (c *pctx) serverOptionAlert(prefix, msg string) {
	msg, notFatal := strings.CutPrefix(msg, nonFatal)
	first, second, two := strings.Cut(msg, "\x00")
	d := alertf(c.pos, "%s%s", prefix, first)
	d.Style = StyleBracket
	d.Fatal = !notFatal
	c.cp.add(d)
	if two {
		d := alertf(c.pos, "%s", second)
		d.Style = StyleNone
		c.cp.add(d)
	}
}
